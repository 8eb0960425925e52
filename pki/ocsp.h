// OCSP (RFC 6960, profiled by RFC 5019) messages: parsing requests and encoding responses.
//
// Requests are parsed by OpenSSL's ASN.1 decoder (never by hand) and every field a responder
// uses is checked here, so that the responder sees only well-formed values. Responses are
// encoded directly as DER: a responder builds ResponseData, signs it with a Signer (a key on a
// token) and assembles the BasicOCSPResponse around the signature. Thread-safe functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/result.h"

namespace signet::pki {

// CertID hash algorithms a responder matches.
enum class OcspHash { kSha1, kSha256, kSha384, kSha512 };
std::string_view to_string(OcspHash hash);                  // "sha1", "sha256"...
base::Bytes ocsp_hash(OcspHash hash, base::ByteView data);  // empty if OpenSSL lacks it

// RFC 6960 §4.2.1 OCSPResponseStatus.
enum class OcspResponseStatus {
  kSuccessful = 0,
  kMalformedRequest = 1,
  kInternalError = 2,
  kTryLater = 3,
  kSigRequired = 5,
  kUnauthorized = 6,
};

// "successful", "malformedRequest", "internalError", "tryLater", "sigRequired",
// "unauthorized" (RFC 6960's spelling).
std::string_view to_string(OcspResponseStatus status);

struct OcspCertId {
  OcspHash hash = OcspHash::kSha1;
  base::Bytes issuer_name_hash;  // checked to be the hash's length
  base::Bytes issuer_key_hash;   // likewise
  base::Bytes serial;            // minimal big-endian magnitude; 1..20 octets, positive
  // The CertID's DER, echoed in the response: OpenSSL's re-encoding of what was parsed, which
  // is the bytes received when the request was DER (RFC 6960 A.1 requires DER).
  base::Bytes der;
};

// At most this many CertIDs per request are answered (RFC 5019 clients send one).
inline constexpr std::size_t kMaxOcspRequestCertIds = 16;
// RFC 8954: a nonce is 1..32 octets.
inline constexpr std::size_t kMaxOcspNonceLength = 32;

struct OcspRequestInfo {
  std::vector<OcspCertId> cert_ids;
  // The nonce extension's extnValue exactly as received (echoed unchanged); nullopt without.
  std::optional<base::Bytes> nonce_extension_value;
};

// kInvalidArgument with a message that says what is wrong (-> malformedRequest): not DER,
// trailing data, no CertID, too many, an unsupported hash, hash lengths that do not match
// their algorithm, a serial that is zero, negative or over 20 octets, a nonce that is empty or
// over 32 octets (inside its OCTET STRING, or the raw extnValue when that is not one), two
// nonce extensions. Errors about a CertID name its position in their context.
base::Result<OcspRequestInfo> parse_ocsp_request(base::ByteView der);

// The hashes a CertID carries for an issuer: of its subject Name DER and of the value of its
// subjectPublicKey BIT STRING (RFC 6960 §4.1.1).
struct OcspIssuerHashes {
  OcspHash hash = OcspHash::kSha1;
  base::Bytes name_hash;
  base::Bytes key_hash;
};
base::Result<OcspIssuerHashes> ocsp_issuer_hashes(OcspHash hash, base::ByteView issuer_name_der,
                                                  base::ByteView issuer_spki_der);
// ResponderID byKey: SHA-1 of the responder's subjectPublicKey BIT STRING value.
base::Result<base::Bytes> ocsp_responder_key_hash(base::ByteView responder_spki_der);

enum class OcspCertStatus { kGood, kRevoked, kUnknown };
std::string_view to_string(OcspCertStatus status);  // "good", "revoked", "unknown"

struct OcspSingleResponse {
  base::Bytes cert_id_der;  // OcspCertId::der
  OcspCertStatus status = OcspCertStatus::kUnknown;
  base::TimePoint revoked_at{};  // kRevoked
  std::optional<int> reason;     // kRevoked: CRLReason, when known
  base::TimePoint this_update{};
  base::TimePoint next_update{};
};

struct OcspResponseData {
  base::Bytes responder_key_hash;  // 20 bytes (ocsp_responder_key_hash)
  base::TimePoint produced_at{};
  std::vector<OcspSingleResponse> responses;
  std::optional<base::Bytes> nonce_extension_value;
};

// The tbsResponseData DER (version v1 left out as DER's DEFAULT demands).
base::Result<base::Bytes> encode_ocsp_response_data(const OcspResponseData& data);
// A successful OCSPResponse: BasicOCSPResponse { tbs, signatureAlgorithm, signature, certs }
// inside responseBytes. `certs` (the delegated responder certificate) may be empty.
base::Bytes encode_ocsp_response(base::ByteView response_data_der, base::ByteView algorithm_der,
                                 base::ByteView signature, const std::vector<base::Bytes>& certs);
// An unsuccessful OCSPResponse: just the status (RFC 6960 §4.2.1). kSuccessful, which needs
// responseBytes, is sent as kInternalError.
base::Bytes encode_ocsp_error(OcspResponseStatus status);

// A response as OpenSSL reads it (tests, `signet ocsp` output).
struct OcspResponseInfo {
  OcspResponseStatus status = OcspResponseStatus::kInternalError;
  std::size_t responses = 0;
  OcspCertStatus first_status = OcspCertStatus::kUnknown;
  std::optional<int> first_reason;
  bool has_nonce = false;
};
base::Result<OcspResponseInfo> inspect_ocsp_response(base::ByteView der);

}  // namespace signet::pki
