#include "pki/csr.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "pki/internal/der_writer.h"
#include "pki/internal/general_names_der.h"
#include "pki/internal/openssl_util.h"
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

base::Result<Csr> Csr::parse(base::ByteView data) {
  SIGNET_ASSIGN_OR_RETURN(auto der, request_der(data));
  if (der.empty()) return Error(ErrorCode::kInvalidArgument, "the certificate request is empty");
  SIGNET_TRY(check_outer_der(der));
  const unsigned char* p = der.data();
  X509_REQ* raw = d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size()));
  if (raw == nullptr) {
    return base::openssl_error(ErrorCode::kInvalidArgument,
                               "not a PKCS#10 certificate request (RFC 2986)");
  }
  Csr csr;
  csr.req_ = std::shared_ptr<X509_REQ>(raw, X509_REQ_free);
  if (p != der.data() + der.size()) {
    return Error(ErrorCode::kInvalidArgument, "trailing data after the request");
  }
  if (X509_REQ_get_version(raw) != X509_REQ_VERSION_1) {
    return Error(ErrorCode::kInvalidArgument, "the certificate request has version " +
                                                  std::to_string(X509_REQ_get_version(raw) + 1) +
                                                  " (RFC 2986 defines 1)");
  }
  csr.der_ = std::move(der);
  SIGNET_ASSIGN_OR_RETURN(csr.subject_der_, internal::name_der(X509_REQ_get_subject_name(raw)));
  unsigned char* spki = nullptr;
  const int spki_length = i2d_X509_PUBKEY(X509_REQ_get_X509_PUBKEY(raw), &spki);
  if (spki_length <= 0) {
    return base::openssl_error(ErrorCode::kInvalidArgument,
                               "cannot read the certificate request's public key");
  }
  csr.spki_der_.assign(spki, spki + spki_length);
  OPENSSL_free(spki);
  auto key = inspect_public_key(csr.spki_der_);
  if (!key) return std::move(key).error().with_context("reading the request's public key");
  csr.public_key_ = std::move(*key);
  return csr;
}

std::string Csr::subject() const {
  return internal::format_name(X509_REQ_get_subject_name(req_.get())).value_or("");
}

std::string Csr::common_name() const {
  return internal::first_common_name(X509_REQ_get_subject_name(req_.get())).value_or("");
}

base::Result<std::vector<GeneralName>> Csr::requested_subject_alt_names() const {
  // RFC 2986 §4.1 / RFC 2985 §5.4.2: requested extensions travel in extensionRequest.
  internal::ExtensionStackPtr extensions(X509_REQ_get_extensions(req_.get()));
  if (!extensions) {
    base::drain_openssl_errors();  // no (or an unreadable) extensionRequest: no SANs
    return std::vector<GeneralName>{};
  }
  const int index = X509v3_get_ext_by_NID(extensions.get(), NID_subject_alt_name, -1);
  if (index < 0) return std::vector<GeneralName>{};
  base::GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(X509v3_get_ext(extensions.get(), index))));
  if (!names) {
    return base::openssl_error(ErrorCode::kInvalidArgument,
                               "the request's subjectAltName extension is malformed");
  }
  return internal::to_general_names(names.get(), true);
}

base::Result<void> Csr::verify_signature() const {
  EVP_PKEY* key = X509_REQ_get0_pubkey(req_.get());
  if (key == nullptr) {
    return base::openssl_error(ErrorCode::kVerificationFailed,
                               "the request's public key cannot be loaded to verify its "
                               "signature");
  }
  if (X509_REQ_verify(req_.get(), key) != 1) {
    return base::openssl_error(ErrorCode::kVerificationFailed,
                               "CSR signature does not verify (proof of possession failed)");
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
