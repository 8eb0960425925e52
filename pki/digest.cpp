#include "pki/digest.h"

#include <openssl/evp.h>

#include "base/openssl.h"
#include "pki/internal/der_writer.h"

namespace signet::pki {

using base::Error;
using base::ErrorCode;

namespace {

// EVP_MD_fetch is costly (a provider lookup under a lock), and this is the issuance hot path,
// so each digest is fetched once. A fetched EVP_MD is immutable and safe to share.
// Function-local statics: initialised once, thread-safely (C++11 §6.7), never mutated.
const EVP_MD* fetched(base::DigestAlgorithm algorithm) {
  static const base::EvpMdPtr kSha256(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  static const base::EvpMdPtr kSha384(EVP_MD_fetch(nullptr, "SHA384", nullptr));
  static const base::EvpMdPtr kSha512(EVP_MD_fetch(nullptr, "SHA512", nullptr));
  switch (algorithm) {
    case base::DigestAlgorithm::kNone:
      return nullptr;
    case base::DigestAlgorithm::kSha256:
      return kSha256.get();
    case base::DigestAlgorithm::kSha384:
      return kSha384.get();
    case base::DigestAlgorithm::kSha512:
      return kSha512.get();
  }
  return nullptr;
}

const EVP_MD* fetched_sha1() {
  static const base::EvpMdPtr kSha1(EVP_MD_fetch(nullptr, "SHA1", nullptr));
  return kSha1.get();
}

base::Result<base::Bytes> run(const EVP_MD* md, std::string_view name, base::ByteView data) {
  if (md == nullptr) {
    return base::openssl_error(ErrorCode::kCryptoError,
                               "digest " + std::string(name) + " is not available in OpenSSL");
  }
  base::Bytes out(static_cast<std::size_t>(EVP_MD_get_size(md)));
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &length, md, nullptr) != 1) {
    return base::openssl_error(ErrorCode::kCryptoError, "cannot compute " + std::string(name));
  }
  out.resize(length);
  return out;
}

}  // namespace

// SHA-1 and SHA-256 are always present in OpenSSL's default provider; an empty result would
// mean a broken installation, which the first caller's tests reveal.
base::Bytes sha1(base::ByteView data) { return run(fetched_sha1(), "SHA-1", data).value_or({}); }

base::Bytes sha256(base::ByteView data) {
  return run(fetched(base::DigestAlgorithm::kSha256), "SHA-256", data).value_or({});
}

base::Result<base::Bytes> digest(base::DigestAlgorithm algorithm, base::ByteView data) {
  if (algorithm == base::DigestAlgorithm::kNone) {
    return Error(ErrorCode::kInvalidArgument, "no digest to compute for digest algorithm 'none'");
  }
  return run(fetched(algorithm), base::to_string(algorithm), data);
}

base::Result<base::Bytes> key_identifier(base::ByteView spki_der) {
  // SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier,
  //                                     subjectPublicKey BIT STRING }   (RFC 5280 §4.1)
  internal::DerReader outer(spki_der);
  auto spki = outer.expect(internal::kTagSequence, "SubjectPublicKeyInfo");
  if (!spki || !outer.at_end()) {
    return Error(ErrorCode::kInvalidArgument, "malformed SubjectPublicKeyInfo");
  }
  internal::DerReader inner(spki->content);
  auto algorithm = inner.expect(internal::kTagSequence, "SubjectPublicKeyInfo algorithm");
  auto key = algorithm ? inner.expect(internal::kTagBitString, "subjectPublicKey")
                       : base::Result<internal::DerElement>(algorithm.error());
  if (!key || !inner.at_end() || key->content.empty()) {
    return Error(ErrorCode::kInvalidArgument, "malformed SubjectPublicKeyInfo");
  }
  // RFC 5280 §4.2.1.2 (1): the hash covers the key bits, not the unused-bits octet.
  return sha1(key->content.subspan(1));
}

base::ByteView digest_info_prefix(base::DigestAlgorithm algorithm) {
  // RFC 8017 §9.2 note 1: DER of DigestInfo up to the digest octets.
  static constexpr std::uint8_t kSha256[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                             0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                             0x01, 0x05, 0x00, 0x04, 0x20};
  static constexpr std::uint8_t kSha384[] = {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                             0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                             0x02, 0x05, 0x00, 0x04, 0x30};
  static constexpr std::uint8_t kSha512[] = {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                             0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                             0x03, 0x05, 0x00, 0x04, 0x40};
  switch (algorithm) {
    case base::DigestAlgorithm::kSha256:
      return kSha256;
    case base::DigestAlgorithm::kSha384:
      return kSha384;
    case base::DigestAlgorithm::kSha512:
      return kSha512;
    case base::DigestAlgorithm::kNone:
      break;
  }
  return {};
}

}  // namespace signet::pki
