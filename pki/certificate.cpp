#include "pki/certificate.h"

#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cctype>

#include "pki/digest.h"
#include "pki/internal/openssl_util.h"
#include "pki/pem.h"

namespace signet::pki {

using base::Error;
using base::ErrorCode;

namespace {

base::Result<SerialNumber> serial_of(X509* x509) {
  const ASN1_INTEGER* serial = X509_get0_serialNumber(x509);
  if (ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER) {
    return Error(ErrorCode::kInvalidArgument,
                 "the certificate has a negative serial number (RFC 5280 §4.1.2.2)");
  }
  return SerialNumber::from_bytes(base::ByteView(
      ASN1_STRING_get0_data(serial), static_cast<std::size_t>(ASN1_STRING_length(serial))));
}

base::Bytes octets_of(const ASN1_OCTET_STRING* octets) {
  if (octets == nullptr) return {};
  const unsigned char* data = ASN1_STRING_get0_data(octets);
  return base::Bytes(data, data + ASN1_STRING_length(octets));
}

}  // namespace

base::Result<Certificate> Certificate::from_der(base::ByteView der) {
  if (der.empty()) return Error(ErrorCode::kInvalidArgument, "empty input is not a certificate");
  const unsigned char* p = der.data();
  X509* raw = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (raw == nullptr) {
    return base::openssl_error(ErrorCode::kInvalidArgument, "not a DER X.509 certificate");
  }
  Certificate cert;
  cert.x509_ = std::shared_ptr<X509>(raw, X509_free);
  if (p != der.data() + der.size()) {
    return Error(ErrorCode::kInvalidArgument, "trailing data after the certificate");
  }
  // Compute OpenSSL's cached extension flags now, so that later const readers on many
  // threads only read (and an invalid extension is reported here, not later).
  if (X509_check_purpose(raw, -1, 0) != 1 || (X509_get_extension_flags(raw) & EXFLAG_INVALID)) {
    return base::openssl_error(ErrorCode::kInvalidArgument,
                               "the certificate has a malformed extension");
  }
  cert.der_.assign(der.begin(), der.end());
  auto serial = serial_of(raw);
  if (!serial) return std::move(serial).error().with_context("reading the certificate serial");
  cert.serial_ = std::move(*serial);
  SIGNET_ASSIGN_OR_RETURN(cert.subject_der_, internal::name_der(X509_get_subject_name(raw)));
  SIGNET_ASSIGN_OR_RETURN(cert.issuer_der_, internal::name_der(X509_get_issuer_name(raw)));
  unsigned char* spki = nullptr;
  const int spki_length = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(raw), &spki);
  if (spki_length <= 0) {
    return base::openssl_error(ErrorCode::kInvalidArgument, "cannot read the certificate's key");
  }
  cert.spki_der_.assign(spki, spki + spki_length);
  OPENSSL_free(spki);
  SIGNET_ASSIGN_OR_RETURN(cert.public_key_, inspect_public_key(cert.spki_der_));
  SIGNET_ASSIGN_OR_RETURN(cert.not_before_, internal::to_time_point(X509_get0_notBefore(raw)));
  SIGNET_ASSIGN_OR_RETURN(cert.not_after_, internal::to_time_point(X509_get0_notAfter(raw)));
  return cert;
}

base::Result<Certificate> Certificate::from_pem(std::string_view pem) {
  SIGNET_ASSIGN_OR_RETURN(auto blocks, pem_decode_all(pem, "CERTIFICATE"));
  return from_der(blocks.front());
}

base::Result<std::vector<Certificate>> Certificate::parse_bundle(base::ByteView data) {
  std::vector<Certificate> out;
  if (!looks_like_pem(data)) {
    SIGNET_ASSIGN_OR_RETURN(auto cert, from_der(data));
    out.push_back(std::move(cert));
    return out;
  }
  SIGNET_ASSIGN_OR_RETURN(auto blocks, pem_decode_all(base::as_chars(data), "CERTIFICATE"));
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    auto cert = from_der(blocks[i]);
    if (!cert) {
      return std::move(cert).error().with_context("reading certificate " + std::to_string(i + 1) +
                                                  " of the bundle");
    }
    out.push_back(std::move(*cert));
  }
  return out;
}

std::string Certificate::pem() const { return pem_encode("CERTIFICATE", der_); }

std::string Certificate::subject() const {
  return internal::format_name(X509_get_subject_name(x509_.get())).value_or("");
}

std::string Certificate::issuer() const {
  return internal::format_name(X509_get_issuer_name(x509_.get())).value_or("");
}

std::string Certificate::common_name() const {
  return internal::first_common_name(X509_get_subject_name(x509_.get())).value_or("");
}

std::vector<GeneralName> Certificate::subject_alt_names() const {
  base::GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(x509_.get(), NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return {};
  return internal::to_general_names(names.get(), false).value_or({});
}

std::string Certificate::signature_digest() const {
  int digest_nid = NID_undef;
  if (X509_get_signature_info(x509_.get(), &digest_nid, nullptr, nullptr, nullptr) != 1 ||
      digest_nid == NID_undef) {
    return "none";  // PureEdDSA (RFC 8410) signs the message itself
  }
  std::string name = OBJ_nid2sn(digest_nid);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;  // "sha256", "sha384", "sha512", "sha1"
}

base::Bytes Certificate::sha256_fingerprint() const { return sha256(der_); }

bool Certificate::is_ca() const { return (X509_get_extension_flags(x509_.get()) & EXFLAG_CA) != 0; }

std::optional<int> Certificate::path_length() const {
  const long length = X509_get_pathlen(x509_.get());
  if (!is_ca() || length < 0) return std::nullopt;
  return static_cast<int>(length);
}

base::Bytes Certificate::subject_key_identifier() const {
  return octets_of(X509_get0_subject_key_id(x509_.get()));
}

base::Bytes Certificate::authority_key_identifier() const {
  return octets_of(X509_get0_authority_key_id(x509_.get()));
}

bool Certificate::is_self_signed() const {
  X509* x = x509_.get();
  if (X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) != 0) return false;
  EVP_PKEY* key = X509_get0_pubkey(x);
  const bool ok = key != nullptr && X509_verify(x, key) == 1;
  base::drain_openssl_errors();
  return ok;
}

base::Result<void> Certificate::verify_signed_by(const Certificate& issuer) const {
  if (X509_NAME_cmp(X509_get_issuer_name(x509_.get()), X509_get_subject_name(issuer.native())) !=
      0) {
    return Error(ErrorCode::kVerificationFailed,
                 "the certificate's issuer '" + this->issuer() +
                     "' is not the subject of the issuing certificate ('" + issuer.subject() +
                     "')");
  }
  EVP_PKEY* key = X509_get0_pubkey(issuer.native());
  if (key == nullptr) {
    return base::openssl_error(ErrorCode::kVerificationFailed,
                               "the issuing certificate's public key cannot be loaded");
  }
  if (X509_verify(x509_.get(), key) != 1) {
    return base::openssl_error(
        ErrorCode::kVerificationFailed,
        "the certificate's signature does not verify with the key of '" + issuer.subject() + "'");
  }
  return base::ok();
}

}  // namespace signet::pki
