// Building certificates whose signature comes from a Signer (a key on a token).
//
// A CA builds the to-be-signed certificate (RFC 5280 §4.1), hands it to Signer::sign, and
// assembles SEQUENCE { tbs, signatureAlgorithm, BIT STRING signature }. TbsTemplate holds what
// is the same for every certificate of one issuer (signature algorithm, issuer name copied
// byte-for-byte from the issuer certificate, AKI, CRL distribution point, AIA) pre-encoded,
// and encodes the per-certificate part with a direct DER writer: this is the issuance hot
// path. encode_tbs_with_openssl() builds the same TBS through OpenSSL's X509 API; a test
// proves that both give identical bytes.
// TbsTemplate is immutable after create(): encode() is thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/keys.h"
#include "base/result.h"
#include "pki/general_name.h"
#include "pki/serial_number.h"

namespace signet::pki {

// KeyUsage bits, RFC 5280 §4.2.1.3 (bit 0 = digitalSignature).
enum KeyUsageBit : std::uint16_t {
  kDigitalSignature = 1u << 0,
  kNonRepudiation = 1u << 1,
  kKeyEncipherment = 1u << 2,
  kDataEncipherment = 1u << 3,
  kKeyAgreement = 1u << 4,
  kKeyCertSign = 1u << 5,
  kCrlSign = 1u << 6,
};

inline constexpr const char* kOidServerAuth = "1.3.6.1.5.5.7.3.1";
inline constexpr const char* kOidClientAuth = "1.3.6.1.5.5.7.3.2";

// What is fixed per issuer.
struct IssuerFields {
  base::KeyAlgorithm key_algorithm = base::KeyAlgorithm::kEcP256;  // the issuer's key
  base::DigestAlgorithm digest = base::DigestAlgorithm::kSha256;
  base::Bytes issuer_name_der;           // the issuer certificate's subject, byte-for-byte
  base::Bytes authority_key_identifier;  // the issuer's SKI; empty: no AKI extension
  std::string crl_url;                   // empty: no CRL distribution points extension
  std::string ocsp_url;                  // empty: no OCSP entry in AIA
  std::string ca_issuers_url;            // empty: no caIssuers entry in AIA
};

// What differs per certificate.
struct SubjectFields {
  SerialNumber serial;
  base::Bytes subject_name_der;  // an empty Name makes the SAN extension critical (§4.2.1.6)
  base::TimePoint not_before{};  // UTCTime before 2050, GeneralizedTime from 2050 (§4.1.2.5)
  base::TimePoint not_after{};
  base::Bytes public_key_der;  // SPKI
  bool is_ca = false;          // basicConstraints, always present and critical
  std::optional<int> path_length;
  std::uint16_t key_usage = 0;  // KeyUsageBit mask; 0: no extension. Critical when present.
  std::vector<std::string> extended_key_usage;  // dotted OIDs; empty: no extension
  std::vector<GeneralName> subject_alt_names;   // empty: no extension
  base::Bytes subject_key_identifier;           // empty: no extension
  // id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1, NULL, not critical): a delegated OCSP
  // responder certificate, which relying parties do not check for revocation.
  bool ocsp_no_check = false;
};

class TbsTemplate {
 public:
  static base::Result<TbsTemplate> create(const IssuerFields& issuer);

  base::Result<base::Bytes> encode(const SubjectFields& subject) const;
  // AlgorithmIdentifier DER of the issuer's signature (e.g. ecdsa-with-SHA256).
  const base::Bytes& signature_algorithm_der() const { return signature_algorithm_der_; }

 private:
  TbsTemplate() = default;
  base::Bytes signature_algorithm_der_;
  base::Bytes issuer_name_der_;
  base::Bytes authority_key_identifier_der_;  // the AKI Extension, pre-encoded (may be empty)
  // The CRL distribution points and AIA Extensions, pre-encoded. They follow the SAN, and the
  // AKI precedes it, hence two fields (the extension order is fixed, see encode()).
  base::Bytes issuer_extensions_der_;
};

// The same TBSCertificate built with OpenSSL's X509 API (for cross-checking in tests).
base::Result<base::Bytes> encode_tbs_with_openssl(const IssuerFields& issuer,
                                                  const SubjectFields& subject);

// AlgorithmIdentifier DER for a signature by this key type and digest (RSA: PKCS#1 v1.5).
base::Result<base::Bytes> signature_algorithm_der(base::KeyAlgorithm key,
                                                  base::DigestAlgorithm digest);

// SEQUENCE { tbs, algorithm, BIT STRING signature }: the shape shared by certificates,
// PKCS#10 requests and CRLs.
base::Bytes assemble_signed(base::ByteView tbs, base::ByteView algorithm_der,
                            base::ByteView signature);

}  // namespace signet::pki
