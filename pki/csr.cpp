#include "pki/csr.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <initializer_list>
#include <optional>

#include "pki/internal/der_writer.h"
#include "pki/internal/general_names_der.h"
#include "pki/internal/openssl_util.h"
#include "pki/internal/spki.h"
#include "pki/name.h"
#include "pki/pem.h"
#include "pki/tbs_certificate.h"

namespace signet::pki {

using base::Error;
using base::ErrorCode;

namespace {

// The DER of the request inside `data`, from either PEM label or raw DER.
base::Result<base::Bytes> request_der(base::ByteView data) {
  if (data.empty()) {
    return Error(ErrorCode::kInvalidArgument, "empty input: not a PEM or DER certificate request");
  }
  if (!looks_like_pem(data)) return base::Bytes(data.begin(), data.end());
  const std::string_view text = base::as_chars(data);
  // RFC 7468 §7: "CERTIFICATE REQUEST"; "NEW CERTIFICATE REQUEST" is what older tools
  // (Netscape, Microsoft certreq) write.
  for (const char* label : {"CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"}) {
    if (text.find("-----BEGIN " + std::string(label) + "-----") == std::string_view::npos) {
      continue;
    }
    SIGNET_ASSIGN_OR_RETURN(auto blocks, pem_decode_all(text, label));
    if (blocks.size() > 1) {
      return Error(ErrorCode::kInvalidArgument, "the PEM holds " + std::to_string(blocks.size()) +
                                                    " certificate requests; send one");
    }
    return std::move(blocks.front());
  }
  return Error(ErrorCode::kInvalidArgument,
               "the PEM holds no CERTIFICATE REQUEST block: not a PEM or DER certificate request");
}

// Says precisely what is wrong with the outer DER before OpenSSL looks at it.
base::Result<void> check_outer_der(base::ByteView der) {
  const auto header = internal::read_der_header(der);
  if (der[0] != internal::kTagSequence || !header) {
    return Error(ErrorCode::kInvalidArgument, "not a PEM or DER certificate request");
  }
  if (header->total_size > der.size()) {
    return Error(ErrorCode::kInvalidArgument,
                 "the certificate request is truncated (its DER declares " +
                     std::to_string(header->total_size) + " bytes, " + std::to_string(der.size()) +
                     " are present)");
  }
  if (header->total_size < der.size()) {
    return Error(ErrorCode::kInvalidArgument, "trailing data after the request (" +
                                                  std::to_string(der.size() - header->total_size) +
                                                  " bytes)");
  }
  return base::ok();
}

}  // namespace

namespace {

constexpr std::uint8_t kOidExtensionRequestContent[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
                                                        0x0d, 0x01, 0x09, 0x0e};
constexpr std::uint8_t kOidSubjectAltNameContent[] = {0x55, 0x1d, 0x11};

bool same(base::ByteView a, base::ByteView b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

// The digest for the signature algorithms we verify directly; nullopt: let OpenSSL decide.
struct DirectVerify {
  const char* digest;  // nullptr for Ed25519 (PureEdDSA)
};
std::optional<DirectVerify> direct_verify_for(base::ByteView algorithm_tlv) {
  internal::DerReader outer(algorithm_tlv);
  auto sequence = outer.next();
  if (!sequence || sequence->tag != internal::kTagSequence) return std::nullopt;
  internal::DerReader fields(sequence->content);
  auto oid = fields.next();
  if (!oid || oid->tag != internal::kTagOid) return std::nullopt;
  struct Known {
    std::initializer_list<std::uint8_t> oid;
    const char* digest;
  };
  // RFC 5758 §3.2 (ECDSA), RFC 4055 §5 (RSA PKCS#1 v1.5), RFC 8410 §3 (Ed25519).
  static const Known kKnown[] = {
      {{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02}, "SHA256"},
      {{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03}, "SHA384"},
      {{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04}, "SHA512"},
      {{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b}, "SHA256"},
      {{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c}, "SHA384"},
      {{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d}, "SHA512"},
      {{0x2b, 0x65, 0x70}, nullptr},
  };
  for (const auto& known : kKnown) {
    if (same(oid->content, base::ByteView(known.oid.begin(), known.oid.size()))) {
      return DirectVerify{known.digest};
    }
  }
  return std::nullopt;
}

}  // namespace

base::Result<Csr> Csr::parse(base::ByteView data) {
  SIGNET_ASSIGN_OR_RETURN(auto der, request_der(data));
  if (der.empty()) return Error(ErrorCode::kInvalidArgument, "the certificate request is empty");
  SIGNET_TRY(check_outer_der(der));
  Csr csr;
  csr.der_ = std::move(der);
  auto malformed = [](const Error& why) {
    return Error(ErrorCode::kInvalidArgument,
                 "not a PKCS#10 certificate request (RFC 2986): " + why.message());
  };
  // CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm,
  //                                     signature BIT STRING }            (RFC 2986 §4.2)
  internal::DerReader outer(csr.der_);
  auto request = outer.expect(internal::kTagSequence, "CertificationRequest");
  if (!request) return malformed(request.error());
  internal::DerReader parts(request->content);
  auto info = parts.expect(internal::kTagSequence, "CertificationRequestInfo");
  if (!info) return malformed(info.error());
  auto algorithm = parts.expect(internal::kTagSequence, "signatureAlgorithm");
  if (!algorithm) return malformed(algorithm.error());
  auto signature = parts.expect(internal::kTagBitString, "signature");
  if (!signature) return malformed(signature.error());
  if (!parts.at_end())
    return Error(ErrorCode::kInvalidArgument, "extra fields after the request's signature");
  if (signature->content.empty() || signature->content[0] != 0) {
    return Error(ErrorCode::kInvalidArgument, "the request's signature BIT STRING is malformed");
  }
  // CertificationRequestInfo ::= SEQUENCE { version INTEGER { v1(0) }, subject Name,
  //     subjectPKInfo SubjectPublicKeyInfo, attributes [0] IMPLICIT Attributes } (§4.1)
  internal::DerReader fields(info->content);
  auto version = fields.expect(internal::kTagInteger, "version");
  if (!version) return malformed(version.error());
  if (version->content.size() != 1 || version->content[0] != 0) {
    const int shown = version->content.size() == 1 ? version->content[0] + 1 : -1;
    return Error(ErrorCode::kInvalidArgument,
                 "the certificate request has version " +
                     (shown > 0 ? std::to_string(shown) : std::string("(invalid)")) +
                     " (RFC 2986 defines 1)");
  }
  auto subject = fields.expect(internal::kTagSequence, "subject");
  if (!subject) return malformed(subject.error());
  auto spki = fields.expect(internal::kTagSequence, "subjectPKInfo");
  if (!spki) return malformed(spki.error());
  auto attributes = fields.expect(internal::kTagContext0, "attributes");
  if (!attributes) return malformed(attributes.error());
  if (!fields.at_end())
    return Error(ErrorCode::kInvalidArgument, "extra fields in the CertificationRequestInfo");

  csr.info_ = csr.slice_of(info->whole);
  csr.attributes_ = csr.slice_of(attributes->content);
  csr.signature_algorithm_ = csr.slice_of(algorithm->whole);
  csr.signature_ = csr.slice_of(signature->content.subspan(1));
  csr.subject_der_.assign(subject->whole.begin(), subject->whole.end());
  auto subject_text = format_distinguished_name(csr.subject_der_);
  if (!subject_text)
    return std::move(subject_text).error().with_context("reading the request's subject");
  csr.subject_text_ = std::move(*subject_text);
  csr.spki_der_.assign(spki->whole.begin(), spki->whole.end());
  auto key = inspect_public_key(csr.spki_der_);
  if (!key) return std::move(key).error().with_context("reading the request's public key");
  csr.public_key_ = std::move(*key);
  return csr;
}

std::string Csr::subject() const { return subject_text_; }

std::string Csr::common_name() const { return common_name_of(subject_der_).value_or(""); }

base::Result<std::vector<GeneralName>> Csr::requested_subject_alt_names() const {
  // RFC 2986 §4.1 / RFC 2985 §5.4.2: requested extensions travel in extensionRequest.
  auto malformed = [] {
    return Error(ErrorCode::kInvalidArgument,
                 "the request's extensionRequest attribute is malformed");
  };
  internal::DerReader attributes(part(attributes_));
  while (!attributes.at_end()) {
    auto attribute = attributes.expect(internal::kTagSequence, "attribute");
    if (!attribute) return malformed();
    internal::DerReader attribute_fields(attribute->content);
    auto type = attribute_fields.expect(internal::kTagOid, "attribute type");
    auto values = attribute_fields.expect(internal::kTagSet, "attribute values");
    if (!type || !values) return malformed();
    if (!same(type->content, kOidExtensionRequestContent)) continue;
    internal::DerReader value_reader(values->content);
    auto extensions = value_reader.expect(internal::kTagSequence, "Extensions");
    if (!extensions) return malformed();
    internal::DerReader extension_reader(extensions->content);
    while (!extension_reader.at_end()) {
      auto extension = extension_reader.expect(internal::kTagSequence, "Extension");
      if (!extension) return malformed();
      internal::DerReader extension_fields(extension->content);
      auto oid = extension_fields.expect(internal::kTagOid, "extnID");
      if (!oid) return malformed();
      if (!same(oid->content, kOidSubjectAltNameContent)) continue;
      auto value = extension_fields.next();
      if (value && value->tag == 0x01) value = extension_fields.next();  // critical BOOLEAN
      if (!value || value->tag != internal::kTagOctetString) return malformed();
      const unsigned char* p = value->content.data();
      base::GeneralNamesPtr names(
          d2i_GENERAL_NAMES(nullptr, &p, static_cast<long>(value->content.size())));
      if (!names || p != value->content.data() + value->content.size()) {
        return base::openssl_error(ErrorCode::kInvalidArgument,
                                   "the request's subjectAltName extension is malformed");
      }
      return internal::to_general_names(names.get(), true);
    }
  }
  return std::vector<GeneralName>{};
}

base::Result<void> Csr::verify_signature() const {
  const auto failed = [] {
    return base::openssl_error(ErrorCode::kVerificationFailed,
                               "CSR signature does not verify (proof of possession failed)");
  };
  auto direct = direct_verify_for(part(signature_algorithm_));
  if (!direct) {
    // Anything unusual (RSA-PSS parameters, SHA-1): OpenSSL's own request verification.
    const unsigned char* p = der_.data();
    std::unique_ptr<X509_REQ, base::OpenSslDeleter<X509_REQ_free>> request(
        d2i_X509_REQ(nullptr, &p, static_cast<long>(der_.size())));
    EVP_PKEY* key = request ? X509_REQ_get0_pubkey(request.get()) : nullptr;
    if (key == nullptr) {
      return base::openssl_error(
          ErrorCode::kVerificationFailed,
          "the request's public key cannot be loaded to verify its signature");
    }
    if (X509_REQ_verify(request.get(), key) != 1) return failed();
    return base::ok();
  }
  auto key = internal::load_public_key(spki_der_);
  if (!key) return std::move(key).error().with_context("verifying the request's signature");
  base::EvpMdCtxPtr context(EVP_MD_CTX_new());
  const auto info = part(info_);
  const auto signature = part(signature_);
  if (!context ||
      EVP_DigestVerifyInit_ex(context.get(), nullptr, direct->digest, nullptr, nullptr, key->get(),
                              nullptr) != 1 ||
      EVP_DigestVerify(context.get(), signature.data(), signature.size(), info.data(),
                       info.size()) != 1) {
    return failed();
  }
  return base::ok();
}

namespace {

// id-ExtensionRequest, RFC 2985 §5.4.2 (1.2.840.113549.1.9.14).
constexpr std::uint8_t kOidExtensionRequest[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
                                                 0x0d, 0x01, 0x09, 0x0e};
constexpr std::uint8_t kOidSubjectAltName[] = {0x55, 0x1d, 0x11};

}  // namespace

base::Result<base::Bytes> build_csr(base::ByteView subject_der,
                                    const std::vector<GeneralName>& subject_alt_names,
                                    const base::Signer& signer) {
  for (const auto& name : subject_alt_names) SIGNET_TRY(validate_general_name(name));
  if (is_empty_name(subject_der) && subject_alt_names.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "a certificate request needs a subject name or subjectAltNames");
  }
  SIGNET_ASSIGN_OR_RETURN(auto algorithm,
                          signature_algorithm_der(signer.algorithm(), signer.digest()));
  const base::Bytes& spki = signer.public_key_der();
  // CertificationRequestInfo, RFC 2986 §4.1.
  internal::DerWriter info(subject_der.size() + spki.size() + 64 + 128 * subject_alt_names.size());
  const auto request = info.open(internal::kTagSequence);
  info.write_small_integer(0);  // version v1
  info.write_raw(subject_der);
  info.write_raw(spki);
  const auto attributes = info.open(internal::kTagContext0);  // [0] IMPLICIT SET OF Attribute
  if (!subject_alt_names.empty()) {
    const auto attribute = info.open(internal::kTagSequence);
    info.write_oid(kOidExtensionRequest);
    const auto values = info.open(internal::kTagSet);
    const auto extensions = info.open(internal::kTagSequence);
    const auto extension = info.open(internal::kTagSequence);
    info.write_oid(kOidSubjectAltName);
    // RFC 5280 §4.2.1.6: critical when the subject is empty.
    if (is_empty_name(subject_der)) info.write_boolean_true();
    const auto value = info.open(internal::kTagOctetString);
    internal::write_general_names(info, subject_alt_names);
    info.close(value);
    info.close(extension);
    info.close(extensions);
    info.close(values);
    info.close(attribute);
  }
  info.close(attributes);
  info.close(request);
  const base::Bytes info_der = info.take();

  auto signature = signer.sign(info_der);
  if (!signature) {
    return std::move(signature).error().with_context("signing the certificate request");
  }
  base::Bytes der = assemble_signed(info_der, algorithm, *signature);
  // A signer that returned a wrong signature would produce a useless request: check it here.
  auto parsed = Csr::parse(der);
  if (!parsed) return std::move(parsed).error().with_context("checking the built request");
  auto verified = parsed->verify_signature();
  if (!verified) {
    return Error(ErrorCode::kCryptoError,
                 "the signer's signature on the built request does not verify: " +
                     verified.error().message());
  }
  return der;
}

}  // namespace signet::pki
