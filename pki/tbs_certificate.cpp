#include "pki/tbs_certificate.h"

#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "base/openssl.h"
#include "pki/internal/der_writer.h"
#include "pki/internal/general_names_der.h"
#include "pki/name.h"

namespace signet::pki {

using base::DigestAlgorithm;
using base::Error;
using base::ErrorCode;
using base::KeyAlgorithm;
using internal::DerWriter;

namespace {

// Object identifier contents (X.690 §8.19).
constexpr std::uint8_t kOidBasicConstraints[] = {0x55, 0x1d, 0x13};       // 2.5.29.19
constexpr std::uint8_t kOidKeyUsage[] = {0x55, 0x1d, 0x0f};               // 2.5.29.15
constexpr std::uint8_t kOidExtKeyUsage[] = {0x55, 0x1d, 0x25};            // 2.5.29.37
constexpr std::uint8_t kOidSubjectKeyId[] = {0x55, 0x1d, 0x0e};           // 2.5.29.14
constexpr std::uint8_t kOidAuthorityKeyId[] = {0x55, 0x1d, 0x23};         // 2.5.29.35
constexpr std::uint8_t kOidSubjectAltName[] = {0x55, 0x1d, 0x11};         // 2.5.29.17
constexpr std::uint8_t kOidCrlDistributionPoints[] = {0x55, 0x1d, 0x1f};  // 2.5.29.31
constexpr std::uint8_t kOidAuthorityInfoAccess[] = {0x2b, 0x06, 0x01, 0x05,
                                                    0x05, 0x07, 0x01, 0x01};  // 1.3.6.1.5.5.7.1.1
constexpr std::uint8_t kOidAdOcsp[] = {0x2b, 0x06, 0x01, 0x05,
                                       0x05, 0x07, 0x30, 0x01};  // 1.3.6.1.5.5.7.48.1
constexpr std::uint8_t kOidAdCaIssuers[] = {0x2b, 0x06, 0x01, 0x05,
                                            0x05, 0x07, 0x30, 0x02};  // 1.3.6.1.5.5.7.48.2
constexpr std::uint8_t kOidOcspNoCheck[] = {0x2b, 0x06, 0x01, 0x05, 0x05,
                                            0x07, 0x30, 0x01, 0x05};  // 1.3.6.1.5.5.7.48.1.5
// RFC 5758 §3.2: ecdsa-with-SHA256/384/512 (1.2.840.10045.4.3.2/3/4), parameters absent.
constexpr std::uint8_t kOidEcdsaSha256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
constexpr std::uint8_t kOidEcdsaSha384[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};
constexpr std::uint8_t kOidEcdsaSha512[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04};
// RFC 4055 §5: sha256/384/512WithRSAEncryption (1.2.840.113549.1.1.11/12/13), NULL params.
constexpr std::uint8_t kOidRsaSha256[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b};
constexpr std::uint8_t kOidRsaSha384[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c};
constexpr std::uint8_t kOidRsaSha512[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d};
// RFC 8410 §3: id-Ed25519 (1.3.101.112), parameters absent.
constexpr std::uint8_t kOidEd25519[] = {0x2b, 0x65, 0x70};

constexpr std::uint8_t kVersion3[] = {0xa0, 0x03, 0x02, 0x01, 0x02};  // [0] EXPLICIT v3(2)
constexpr std::uint16_t kKnownKeyUsageBits = 0x1ff;  // bits 0..8, RFC 5280 §4.2.1.3

// True when `der` is exactly one DER SEQUENCE.
bool is_one_sequence(base::ByteView der) {
  const auto header = internal::read_der_header(der);
  return header && header->tag == internal::kTagSequence && header->total_size == der.size();
}

Error invalid(const std::string& what) { return Error(ErrorCode::kInvalidArgument, what); }

// The checks both encoders share, so that they refuse the same inputs.
base::Result<void> check_subject(const SubjectFields& s) {
  if (s.serial.magnitude().empty()) return invalid("the certificate's serial number is not set");
  if (!is_one_sequence(s.subject_name_der)) return invalid("the subject Name is not DER");
  if (!is_one_sequence(s.public_key_der)) {
    return invalid("the subject public key is not a DER SubjectPublicKeyInfo");
  }
  if (s.not_after < s.not_before) return invalid("notAfter is before notBefore");
  if (s.path_length && (!s.is_ca || *s.path_length < 0)) {
    // RFC 5280 §4.2.1.9: pathLenConstraint only with cA TRUE, and never negative.
    return invalid("a path length needs a CA certificate and must not be negative");
  }
  if ((s.key_usage & ~kKnownKeyUsageBits) != 0) return invalid("unknown keyUsage bits are set");
  if (is_empty_name(s.subject_name_der) && s.subject_alt_names.empty()) {
    // RFC 5280 §4.2.1.6: an empty subject needs a subjectAltName.
    return invalid("a certificate with an empty subject needs subjectAltNames");
  }
  for (const auto& name : s.subject_alt_names) SIGNET_TRY(validate_general_name(name));
  return base::ok();
}

using internal::close_extension;
using internal::open_extension;

// keyUsage as a DER named BIT STRING: trailing zero bits are removed (X.690 §11.2.2).
void write_key_usage(DerWriter& out, std::uint16_t mask) {
  std::uint8_t bits[2] = {0, 0};
  for (int bit = 0; bit < 9; ++bit) {
    if (mask & (1u << bit)) bits[bit / 8] |= static_cast<std::uint8_t>(0x80 >> (bit % 8));
  }
  const std::size_t length = bits[1] != 0 ? 2 : 1;
  const std::uint8_t last = bits[length - 1];
  std::uint8_t unused = 0;
  while (unused < 8 && (last & (1u << unused)) == 0) ++unused;
  out.write_bit_string(base::ByteView(bits, length), unused);
}

base::Result<void> write_extensions(DerWriter& out, const SubjectFields& s,
                                    base::ByteView authority_key_identifier,
                                    base::ByteView issuer_extensions) {
  const auto explicit_tag = out.open(internal::kTagContext3);  // [3] EXPLICIT Extensions
  const auto extensions = out.open(internal::kTagSequence);
  {  // RFC 5280 §4.2.1.9: always present and critical in our certificates.
    const auto ext = open_extension(out, kOidBasicConstraints, true);
    const auto value = out.open(internal::kTagSequence);
    if (s.is_ca) out.write_boolean_true();  // cA DEFAULT FALSE: omitted when false
    if (s.path_length) out.write_small_integer(static_cast<std::uint64_t>(*s.path_length));
    out.close(value);
    close_extension(out, ext);
  }
  if (s.key_usage != 0) {  // §4.2.1.3: critical
    const auto ext = open_extension(out, kOidKeyUsage, true);
    write_key_usage(out, s.key_usage);
    close_extension(out, ext);
  }
  if (!s.extended_key_usage.empty()) {  // §4.2.1.12
    const auto ext = open_extension(out, kOidExtKeyUsage, false);
    const auto value = out.open(internal::kTagSequence);
    for (const auto& oid : s.extended_key_usage) {
      auto written = out.write_oid_text(oid);
      if (!written) return std::move(written).error().with_context("in extendedKeyUsage");
    }
    out.close(value);
    close_extension(out, ext);
  }
  if (!s.subject_key_identifier.empty()) {  // §4.2.1.2
    const auto ext = open_extension(out, kOidSubjectKeyId, false);
    out.write_tlv(internal::kTagOctetString, s.subject_key_identifier);
    close_extension(out, ext);
  }
  out.write_raw(authority_key_identifier);
  if (!s.subject_alt_names.empty()) {  // §4.2.1.6: critical iff the subject is empty
    const auto ext = open_extension(out, kOidSubjectAltName, is_empty_name(s.subject_name_der));
    internal::write_general_names(out, s.subject_alt_names);
    close_extension(out, ext);
  }
  out.write_raw(issuer_extensions);
  if (s.ocsp_no_check) {
    // RFC 6960 §4.2.2.2.1: id-pkix-ocsp-nocheck, extnValue NULL. Last, as
    // encode_tbs_with_openssl() adds it.
    const auto ext = open_extension(out, kOidOcspNoCheck, false);
    out.write_null();
    close_extension(out, ext);
  }
  out.close(extensions);
  out.close(explicit_tag);
  return base::ok();
}

base::Result<void> check_url(const std::string& url, const char* what) {
  GeneralName name;
  name.type = GeneralName::Type::kUri;
  name.value = url;
  auto valid = validate_general_name(name);
  if (!valid) return std::move(valid).error().with_context(std::string("checking the ") + what);
  return base::ok();
}

base::Result<base::Bytes> encode_issuer_extensions(const IssuerFields& issuer) {
  DerWriter out(128 + issuer.crl_url.size() + issuer.ocsp_url.size() +
                issuer.ca_issuers_url.size());
  if (!issuer.crl_url.empty()) {
    SIGNET_TRY(check_url(issuer.crl_url, "CRL distribution point URL"));
    // RFC 5280 §4.2.1.13.
    const auto ext = open_extension(out, kOidCrlDistributionPoints, false);
    internal::write_distribution_point_uri(out, issuer.crl_url);
    close_extension(out, ext);
  }
  if (!issuer.ocsp_url.empty() || !issuer.ca_issuers_url.empty()) {
    // RFC 5280 §4.2.2.1: SEQUENCE OF AccessDescription { accessMethod, accessLocation }.
    const auto ext = open_extension(out, kOidAuthorityInfoAccess, false);
    const auto descriptions = out.open(internal::kTagSequence);
    auto write_access = [&out](base::ByteView method, const std::string& url) {
      const auto description = out.open(internal::kTagSequence);
      out.write_oid(method);
      out.write_tlv(0x86, base::as_bytes(url));
      out.close(description);
    };
    if (!issuer.ocsp_url.empty()) {
      SIGNET_TRY(check_url(issuer.ocsp_url, "OCSP URL"));
      write_access(kOidAdOcsp, issuer.ocsp_url);
    }
    if (!issuer.ca_issuers_url.empty()) {
      SIGNET_TRY(check_url(issuer.ca_issuers_url, "caIssuers URL"));
      write_access(kOidAdCaIssuers, issuer.ca_issuers_url);
    }
    out.close(descriptions);
    close_extension(out, ext);
  }
  return out.take();
}

}  // namespace

namespace internal {

void write_general_name(DerWriter& out, const GeneralName& name) {
  switch (name.type) {
    case GeneralName::Type::kEmail:
      out.write_tlv(0x81, base::as_bytes(name.value));
      break;
    case GeneralName::Type::kDns:
      out.write_tlv(0x82, base::as_bytes(name.value));
      break;
    case GeneralName::Type::kUri:
      out.write_tlv(0x86, base::as_bytes(name.value));
      break;
    case GeneralName::Type::kIp:
      out.write_tlv(0x87, name.ip_octets);
      break;
    case GeneralName::Type::kUpn: {
      // otherName [0] { type-id 1.3.6.1.4.1.311.20.2.3, value [0] EXPLICIT UTF8String }
      static constexpr std::uint8_t kUpnOid[] = {0x2B, 0x06, 0x01, 0x04, 0x01,
                                                 0x82, 0x37, 0x14, 0x02, 0x03};
      const auto other_name = out.open(0xA0);
      out.write_oid(base::ByteView(kUpnOid, sizeof(kUpnOid)));
      const auto value = out.open(0xA0);
      out.write_tlv(0x0C, base::as_bytes(name.value));
      out.close(value);
      out.close(other_name);
      break;
    }
  }
}

void write_general_names(DerWriter& out, const std::vector<GeneralName>& names) {
  const auto sequence = out.open(kTagSequence);
  for (const auto& name : names) write_general_name(out, name);
  out.close(sequence);
}

void write_distribution_point_uri(DerWriter& out, std::string_view url) {
  // SEQUENCE OF DistributionPoint { distributionPoint [0] { fullName [0] IMPLICIT
  // GeneralNames } }. A tagged CHOICE is explicitly tagged.
  const auto points = out.open(kTagSequence);
  const auto point = out.open(kTagSequence);
  const auto name = out.open(kTagContext0);
  const auto full_name = out.open(kTagContext0);
  out.write_tlv(0x86, base::as_bytes(url));  // uniformResourceIdentifier [6]
  out.close(full_name);
  out.close(name);
  out.close(point);
  out.close(points);
}

}  // namespace internal

base::Result<base::Bytes> signature_algorithm_der(KeyAlgorithm key, DigestAlgorithm digest) {
  base::ByteView oid;
  bool null_parameters = false;
  if (key == KeyAlgorithm::kEd25519) {
    if (digest != DigestAlgorithm::kNone) {
      return invalid("Ed25519 signs without a separate digest (RFC 8410), not with " +
                     std::string(base::to_string(digest)));
    }
    oid = kOidEd25519;
  } else if (digest == DigestAlgorithm::kNone) {
    return invalid("a " + std::string(base::to_string(key)) + " signature needs a digest");
  } else if (base::is_ec(key)) {
    oid = digest == DigestAlgorithm::kSha256   ? base::ByteView(kOidEcdsaSha256)
          : digest == DigestAlgorithm::kSha384 ? base::ByteView(kOidEcdsaSha384)
                                               : base::ByteView(kOidEcdsaSha512);
  } else {
    oid = digest == DigestAlgorithm::kSha256   ? base::ByteView(kOidRsaSha256)
          : digest == DigestAlgorithm::kSha384 ? base::ByteView(kOidRsaSha384)
                                               : base::ByteView(kOidRsaSha512);
    null_parameters = true;
  }
  DerWriter out(16);
  const auto sequence = out.open(internal::kTagSequence);
  out.write_oid(oid);
  if (null_parameters) out.write_null();
  out.close(sequence);
  return out.take();
}

base::Result<TbsTemplate> TbsTemplate::create(const IssuerFields& issuer) {
  if (!is_one_sequence(issuer.issuer_name_der) || is_empty_name(issuer.issuer_name_der)) {
    // RFC 5280 §4.1.2.4: the issuer field MUST contain a non-empty name.
    return invalid("the issuer Name must be a non-empty DER Name");
  }
  TbsTemplate tbs;
  SIGNET_ASSIGN_OR_RETURN(tbs.signature_algorithm_der_,
                          pki::signature_algorithm_der(issuer.key_algorithm, issuer.digest));
  tbs.issuer_name_der_ = issuer.issuer_name_der;
  if (!issuer.authority_key_identifier.empty()) {
    // RFC 5280 §4.2.1.1: AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] ... }.
    DerWriter out(32 + issuer.authority_key_identifier.size());
    const auto ext = open_extension(out, kOidAuthorityKeyId, false);
    const auto value = out.open(internal::kTagSequence);
    out.write_tlv(0x80, issuer.authority_key_identifier);  // [0] IMPLICIT KeyIdentifier
    out.close(value);
    close_extension(out, ext);
    tbs.authority_key_identifier_der_ = out.take();
  }
  SIGNET_ASSIGN_OR_RETURN(tbs.issuer_extensions_der_, encode_issuer_extensions(issuer));
  return tbs;
}

base::Result<base::Bytes> TbsTemplate::encode(const SubjectFields& s) const {
  SIGNET_TRY(check_subject(s));
  std::size_t estimate = 160 + signature_algorithm_der_.size() + issuer_name_der_.size() +
                         s.subject_name_der.size() + s.public_key_der.size() +
                         s.subject_key_identifier.size() + authority_key_identifier_der_.size() +
                         issuer_extensions_der_.size() + 24 * s.extended_key_usage.size() +
                         (s.ocsp_no_check ? 16 : 0);
  for (const auto& name : s.subject_alt_names) estimate += name.value.size() + 4;
  DerWriter out(estimate);
  // RFC 5280 §4.1: TBSCertificate.
  const auto tbs = out.open(internal::kTagSequence);
  out.write_raw(kVersion3);
  out.write_positive_integer(s.serial.magnitude());
  out.write_raw(signature_algorithm_der_);
  out.write_raw(issuer_name_der_);
  const auto validity = out.open(internal::kTagSequence);
  SIGNET_TRY(out.write_time(s.not_before));
  SIGNET_TRY(out.write_time(s.not_after));
  out.close(validity);
  out.write_raw(s.subject_name_der);
  out.write_raw(s.public_key_der);
  SIGNET_TRY(write_extensions(out, s, authority_key_identifier_der_, issuer_extensions_der_));
  out.close(tbs);
  return out.take();
}

base::Bytes assemble_signed(base::ByteView tbs, base::ByteView algorithm_der,
                            base::ByteView signature) {
  DerWriter out(tbs.size() + algorithm_der.size() + signature.size() + 16);
  const auto sequence = out.open(internal::kTagSequence);
  out.write_raw(tbs);
  out.write_raw(algorithm_der);
  out.write_bit_string(signature, 0);
  out.close(sequence);
  return out.take();
}

}  // namespace signet::pki
