#include "hsm/signer.h"

#include <algorithm>
#include <array>

#include "hsm/internal/public_key.h"
#include "hsm/internal/token.h"

namespace signet::hsm {
namespace {

using base::DigestAlgorithm;
using base::Error;
using base::ErrorCode;
using internal::Purpose;

// RFC 8017 §9.2 note 1: DER DigestInfo prefixes.
constexpr std::uint8_t kSha256Info[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                        0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
constexpr std::uint8_t kSha384Info[] = {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                        0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30};
constexpr std::uint8_t kSha512Info[] = {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                        0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40};
constexpr std::size_t kMaxDigestInput = sizeof(kSha512Info) + EVP_MAX_MD_SIZE;

const char* digest_name(DigestAlgorithm digest) {
  switch (digest) {
    case DigestAlgorithm::kSha256:
      return "SHA256";
    case DigestAlgorithm::kSha384:
      return "SHA384";
    case DigestAlgorithm::kSha512:
      return "SHA512";
    default:
      return nullptr;
  }
}

base::ByteView digest_info_for(DigestAlgorithm digest) {
  switch (digest) {
    case DigestAlgorithm::kSha256:
      return kSha256Info;
    case DigestAlgorithm::kSha384:
      return kSha384Info;
    case DigestAlgorithm::kSha512:
      return kSha512Info;
    default:
      return {};
  }
}

CK_MECHANISM_TYPE pss_hash(DigestAlgorithm digest) {
  switch (digest) {
    case DigestAlgorithm::kSha384:
      return CKM_SHA384;
    case DigestAlgorithm::kSha512:
      return CKM_SHA512;
    default:
      return CKM_SHA256;
  }
}

CK_RSA_PKCS_MGF_TYPE pss_mgf(DigestAlgorithm digest) {
  switch (digest) {
    case DigestAlgorithm::kSha384:
      return CKG_MGF1_SHA384;
    case DigestAlgorithm::kSha512:
      return CKG_MGF1_SHA512;
    default:
      return CKG_MGF1_SHA256;
  }
}

}  // namespace

Pkcs11Signer::Pkcs11Signer(std::shared_ptr<internal::Token> token, base::KeyRef ref,
                           base::KeyAlgorithm algorithm, base::Bytes public_key_der)
    : token_(std::move(token)),
      ref_(std::move(ref)),
      algorithm_(algorithm),
      public_key_der_(std::move(public_key_der)) {}

base::Result<std::shared_ptr<Pkcs11Signer>> Pkcs11Signer::create(
    std::shared_ptr<internal::Token> token, base::KeyRef ref, base::KeyAlgorithm algorithm,
    base::Bytes public_key_der, CK_OBJECT_HANDLE private_key) {
  if (!token || ref.id.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "a PKCS#11 signer needs a token and a key with a CKA_ID");
  }
  SIGNET_ASSIGN_OR_RETURN(std::size_t size,
                          internal::raw_signature_size(algorithm, public_key_der));
  const std::uint64_t generation = token->generation();
  std::shared_ptr<Pkcs11Signer> signer(
      new Pkcs11Signer(std::move(token), std::move(ref), algorithm, std::move(public_key_der)));
  signer->signature_size_ = size;
  signer->handle_ = private_key;
  signer->handle_generation_ = generation;
  const DigestAlgorithm digest = base::default_digest(algorithm);
  if (algorithm == base::KeyAlgorithm::kEd25519) {
    signer->mechanism_ = CKM_EDDSA;
  } else {
    // Fetched once: EVP_Digest with a fetched EVP_MD skips the per-call implicit fetch.
    signer->md_.reset(EVP_MD_fetch(nullptr, digest_name(digest), nullptr));
    if (!signer->md_) {
      return base::openssl_error(ErrorCode::kCryptoError,
                                 std::string("cannot fetch ") + digest_name(digest));
    }
    if (base::is_rsa(algorithm)) {
      signer->mechanism_ = CKM_RSA_PKCS;
      signer->digest_info_ = digest_info_for(digest);
    } else {
      signer->mechanism_ = CKM_ECDSA;
    }
  }
  return signer;
}

base::Result<CK_OBJECT_HANDLE> Pkcs11Signer::key_handle(internal::Session& session,
                                                        bool refresh) const {
  std::lock_guard lock(handle_mutex_);
  const std::uint64_t generation = token_->generation();
  if (!refresh && handle_ != CK_INVALID_HANDLE && handle_generation_ == generation) {
    return handle_;
  }
  std::vector<CK_ATTRIBUTE> match = {
      internal::attr(CKA_CLASS, internal::kPrivateKeyClass),
      internal::attr(CKA_ID, base::ByteView(ref_.id)),
  };
  SIGNET_ASSIGN_OR_RETURN(auto found, session.find_objects(std::move(match)));
  if (found.size() != 1) {
    return Error(found.empty() ? ErrorCode::kNotFound : ErrorCode::kInvalidArgument,
                 found.empty() ? "the private key " + ref_.to_uri() + " is no longer on " +
                                     token_->info().describe()
                               : "several private keys on " + token_->info().describe() +
                                     " now have the CKA_ID of " + ref_.to_uri());
  }
  // The key under this CKA_ID may have been replaced: signing with a key other than the one
  // whose public half we advertise would produce signatures nothing can verify.
  SIGNET_ASSIGN_OR_RETURN(auto spki,
                          internal::private_key_spki(session, found.front(), ref_.id, algorithm_));
  if (spki != public_key_der_) {
    return Error(ErrorCode::kConflict, "the private key " + ref_.to_uri() + " on " +
                                           token_->info().describe() +
                                           " was replaced by a different key; find it again");
  }
  handle_ = found.front();
  handle_generation_ = generation;
  return handle_;
}

base::Result<void> Pkcs11Signer::sign_raw(const CK_MECHANISM& mechanism_in, base::ByteView input,
                                          base::Bytes& raw) const {
  return token_->run([&](internal::Session& session) -> base::Result<void> {
    for (int attempt = 0;; ++attempt) {
      SIGNET_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key, key_handle(session, attempt > 0));
      CK_MECHANISM mechanism = mechanism_in;
      auto init =
          session.note(SIGNET_P11_CALL(session.functions(), C_SignInit, token_->label(),
                                       Purpose::kGeneral, session.handle(), &mechanism, key));
      if (internal::is_stale_handle(init.rv()) && attempt == 0) {
        session.clear_failure();
        continue;  // find the key again by CKA_ID
      }
      SIGNET_TRY(init.result());
      raw.resize(signature_size_);
      CK_ULONG length = raw.size();
      SIGNET_TRY(
          session
              .note(SIGNET_P11_CALL(session.functions(), C_Sign, token_->label(), Purpose::kGeneral,
                                    session.handle(), const_cast<CK_BYTE*>(input.data()),
                                    input.size(), raw.data(), &length))
              .result());
      raw.resize(length);
      return base::ok();
    }
  });
}

base::Result<base::Bytes> Pkcs11Signer::to_der_ecdsa(base::ByteView raw) const {
  if (raw.size() != signature_size_ || raw.size() % 2 != 0) {
    return Error(ErrorCode::kTokenError, "the ECDSA signature from " + token_->info().describe() +
                                             " has " + std::to_string(raw.size()) +
                                             " bytes, expected " + std::to_string(signature_size_));
  }
  const int half = static_cast<int>(raw.size() / 2);
  base::BignumPtr r(BN_bin2bn(raw.data(), half, nullptr));
  base::BignumPtr s(BN_bin2bn(raw.data() + half, half, nullptr));
  base::EcdsaSigPtr signature(ECDSA_SIG_new());
  if (!r || !s || !signature || ECDSA_SIG_set0(signature.get(), r.get(), s.get()) != 1) {
    return base::openssl_error(ErrorCode::kCryptoError, "cannot build an ECDSA-Sig-Value");
  }
  (void)r.release();  // owned by signature now
  (void)s.release();
  const int size = i2d_ECDSA_SIG(signature.get(), nullptr);
  if (size <= 0)
    return base::openssl_error(ErrorCode::kCryptoError, "cannot encode ECDSA-Sig-Value");
  base::Bytes der(static_cast<std::size_t>(size));
  unsigned char* cursor = der.data();
  i2d_ECDSA_SIG(signature.get(), &cursor);
  return der;
}

base::Result<base::Bytes> Pkcs11Signer::sign_with(const CK_MECHANISM& mechanism,
                                                  base::ByteView input) const {
  base::Bytes raw;
  auto signed_ok = sign_raw(mechanism, input, raw);
  if (!signed_ok) {
    return std::move(signed_ok).error().with_context("signing with " + ref_.to_uri());
  }
  if (mechanism.mechanism == CKM_ECDSA) return to_der_ecdsa(raw);
  return raw;
}

base::Result<base::Bytes> Pkcs11Signer::sign(base::ByteView message) const {
  std::array<std::uint8_t, kMaxDigestInput> buffer;
  base::ByteView input = message;  // PureEdDSA signs the message itself
  if (md_) {
    std::copy(digest_info_.begin(), digest_info_.end(), buffer.begin());
    unsigned int digest_size = 0;
    if (EVP_Digest(message.data(), message.size(), buffer.data() + digest_info_.size(),
                   &digest_size, md_.get(), nullptr) != 1) {
      return base::openssl_error(ErrorCode::kCryptoError, "cannot hash the data to sign");
    }
    input = base::ByteView(buffer.data(), digest_info_.size() + digest_size);
  }
  return sign_with(CK_MECHANISM{mechanism_, nullptr, 0}, input);
}

base::Result<base::Bytes> Pkcs11Signer::sign_digest(base::ByteView digest,
                                                    const base::SignatureScheme& scheme) const {
  if (algorithm_ == base::KeyAlgorithm::kEd25519) {
    return Error(
        ErrorCode::kNotSupported,
        "the Ed25519 key " + ref_.to_uri() + " cannot sign a digest: PureEdDSA signs the message");
  }
  SIGNET_TRY(base::check_digest_length(digest, scheme));
  if (!base::is_rsa(algorithm_)) return sign_with(CK_MECHANISM{CKM_ECDSA, nullptr, 0}, digest);
  if (scheme.padding == base::RsaPadding::kPss) {
    // RFC 8017 §9.1 with MGF1 over the same hash and a salt as long as the digest.
    CK_RSA_PKCS_PSS_PARAMS params{};
    params.hashAlg = pss_hash(scheme.digest);
    params.mgf = pss_mgf(scheme.digest);
    params.sLen = digest.size();
    return sign_with(CK_MECHANISM{CKM_RSA_PKCS_PSS, &params, sizeof(params)}, digest);
  }
  // RFC 8017 §9.2: PKCS#1 v1.5 signs DER DigestInfo(digest).
  const base::ByteView prefix = digest_info_for(scheme.digest);
  std::array<std::uint8_t, kMaxDigestInput> buffer;
  std::copy(prefix.begin(), prefix.end(), buffer.begin());
  std::copy(digest.begin(), digest.end(), buffer.begin() + prefix.size());
  return sign_with(CK_MECHANISM{CKM_RSA_PKCS, nullptr, 0},
                   base::ByteView(buffer.data(), prefix.size() + digest.size()));
}

}  // namespace signet::hsm
