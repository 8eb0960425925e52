#include "pki/ocsp.h"

#include <openssl/ocsp.h>

#include <climits>
#include <memory>
#include <string>

#include "base/openssl.h"
#include "pki/digest.h"
#include "pki/internal/der_writer.h"
#include "pki/internal/spki.h"

namespace signet::pki {

using base::Error;
using base::ErrorCode;
using internal::DerWriter;
using internal::TimeForm;

namespace {

using base::OcspBasicPtr;
using base::OcspRequestPtr;
using base::OcspResponsePtr;

// id-pkix-ocsp-nonce 1.3.6.1.5.5.7.48.1.2 and id-pkix-ocsp-basic 1.3.6.1.5.5.7.48.1.1.
constexpr std::uint8_t kOidNonce[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02};
constexpr std::uint8_t kOidBasic[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01};
// CertStatus (RFC 6960 §4.2.1): good [0] IMPLICIT NULL, unknown [2] IMPLICIT NULL.
constexpr std::uint8_t kStatusGood[] = {0x80, 0x00};
constexpr std::uint8_t kStatusUnknown[] = {0x82, 0x00};
constexpr std::uint8_t kSuccessful[] = {internal::kTagEnumerated, 0x01, 0x00};

constexpr std::size_t kMaxSerialOctets = 20;  // RFC 5280 §4.1.2.2
constexpr std::size_t kKeyHashSize = 20;      // SHA-1, RFC 6960 §4.2.1

Error invalid(std::string what) { return Error(ErrorCode::kInvalidArgument, std::move(what)); }

std::size_t hash_size(OcspHash hash) {
  switch (hash) {
    case OcspHash::kSha1:
      return 20;
    case OcspHash::kSha256:
      return 32;
    case OcspHash::kSha384:
      return 48;
    case OcspHash::kSha512:
      return 64;
  }
  return 0;
}

std::optional<OcspHash> hash_from_nid(int nid) {
  switch (nid) {
    case NID_sha1:
      return OcspHash::kSha1;
    case NID_sha256:
      return OcspHash::kSha256;
    case NID_sha384:
      return OcspHash::kSha384;
    case NID_sha512:
      return OcspHash::kSha512;
    default:
      return std::nullopt;
  }
}

base::ByteView view(const ASN1_STRING* string) {
  return {ASN1_STRING_get0_data(string), static_cast<std::size_t>(ASN1_STRING_length(string))};
}

bool is_one_sequence(base::ByteView der) {
  const auto header = internal::read_der_header(der);
  return header && header->tag == internal::kTagSequence && header->total_size == der.size();
}

// RFC 5280 §5.3.1: 0-6 and 8-10; 7 is not used.
bool is_crl_reason(int reason) { return reason >= 0 && reason <= 10 && reason != 7; }

std::string oid_text(const ASN1_OBJECT* oid) {
  char text[128];
  const int length = OBJ_obj2txt(text, sizeof(text), oid, 1);
  return length > 0 ? std::string(text) : std::string("(unreadable)");
}

// CertID ::= SEQUENCE { hashAlgorithm, issuerNameHash, issuerKeyHash, serialNumber }
// (RFC 6960 §4.1.1), every field checked.
base::Result<OcspCertId> to_cert_id(OCSP_CERTID* id) {
  ASN1_OCTET_STRING* name_hash = nullptr;
  ASN1_OBJECT* algorithm = nullptr;
  ASN1_OCTET_STRING* key_hash = nullptr;
  ASN1_INTEGER* serial = nullptr;
  if (OCSP_id_get0_info(&name_hash, &algorithm, &key_hash, &serial, id) != 1 ||
      name_hash == nullptr || algorithm == nullptr || key_hash == nullptr || serial == nullptr) {
    return invalid("a CertID is incomplete");
  }
  OcspCertId out;
  const auto hash = hash_from_nid(OBJ_obj2nid(algorithm));
  if (!hash) {
    return invalid("a CertID uses the hash algorithm " + oid_text(algorithm) +
                   "; supported are SHA-1, SHA-256, SHA-384 and SHA-512");
  }
  out.hash = *hash;
  const std::size_t expected = hash_size(*hash);
  const auto name = view(name_hash);
  const auto key = view(key_hash);
  if (name.size() != expected || key.size() != expected) {
    return invalid("a CertID's issuer hashes have " + std::to_string(name.size()) + " and " +
                   std::to_string(key.size()) + " octets; " + std::string(to_string(*hash)) +
                   " gives " + std::to_string(expected));
  }
  out.issuer_name_hash.assign(name.begin(), name.end());
  out.issuer_key_hash.assign(key.begin(), key.end());
  if (ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER) {
    return invalid("a CertID's serial number is negative");
  }
  auto magnitude = view(serial);
  while (!magnitude.empty() && magnitude[0] == 0) magnitude = magnitude.subspan(1);
  if (magnitude.empty()) return invalid("a CertID's serial number is zero");
  if (magnitude.size() > kMaxSerialOctets) {
    return invalid("a CertID's serial number has " + std::to_string(magnitude.size()) +
                   " octets; at most 20 are allowed (RFC 5280 §4.1.2.2)");
  }
  out.serial.assign(magnitude.begin(), magnitude.end());
  const int length = i2d_OCSP_CERTID(id, nullptr);
  if (length <= 0) return base::openssl_error(ErrorCode::kInvalidArgument, "a CertID is not DER");
  out.der.resize(static_cast<std::size_t>(length));
  unsigned char* p = out.der.data();
  if (i2d_OCSP_CERTID(id, &p) != length) {
    return base::openssl_error(ErrorCode::kInvalidArgument, "a CertID is not DER");
  }
  return out;
}

// RFC 8954 §2.1: the nonce extension's extnValue is an OCTET STRING of 1..32 octets. Some
// clients put the nonce octets in extnValue without the inner OCTET STRING; those are checked
// as they are.
base::Result<std::optional<base::Bytes>> request_nonce(OCSP_REQUEST* request) {
  const int index = OCSP_REQUEST_get_ext_by_NID(request, NID_id_pkix_OCSP_Nonce, -1);
  if (index < 0) return std::optional<base::Bytes>();
  if (OCSP_REQUEST_get_ext_by_NID(request, NID_id_pkix_OCSP_Nonce, index) >= 0) {
    return invalid("the OCSP request has two nonce extensions");
  }
  const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(OCSP_REQUEST_get_ext(request, index));
  if (value == nullptr) return invalid("the OCSP request's nonce extension has no value");
  const base::ByteView raw = view(value);
  base::ByteView nonce = raw;
  internal::DerReader reader(raw);
  if (auto inner = reader.next();
      inner && inner->tag == internal::kTagOctetString && reader.at_end()) {
    nonce = inner->content;
  }
  if (nonce.empty()) return invalid("the OCSP request's nonce is empty (RFC 8954: 1 to 32 octets)");
  if (nonce.size() > kMaxOcspNonceLength) {
    return invalid("the OCSP request's nonce has " + std::to_string(nonce.size()) +
                   " octets; RFC 8954 allows at most 32");
  }
  return std::optional<base::Bytes>(base::Bytes(raw.begin(), raw.end()));
}

base::Result<void> check_single(const OcspSingleResponse& single) {
  if (!is_one_sequence(single.cert_id_der)) return invalid("a response's CertID is not DER");
  if (single.next_update < single.this_update) {
    return invalid("a response's nextUpdate is before its thisUpdate");
  }
  if (single.status == OcspCertStatus::kRevoked && single.reason &&
      !is_crl_reason(*single.reason)) {
    return invalid("revocation reason " + std::to_string(*single.reason) +
                   " is not a CRLReason (RFC 5280 §5.3.1)");
  }
  return base::ok();
}

// SingleResponse (RFC 6960 §4.2.1).
base::Result<void> write_single(DerWriter& out, const OcspSingleResponse& single) {
  const auto sequence = out.open(internal::kTagSequence);
  out.write_raw(single.cert_id_der);
  switch (single.status) {
    case OcspCertStatus::kGood:
      out.write_raw(kStatusGood);
      break;
    case OcspCertStatus::kRevoked: {
      // revoked [1] IMPLICIT RevokedInfo { revocationTime, revocationReason [0] EXPLICIT }
      const auto revoked = out.open(internal::kTagContext1);
      SIGNET_TRY(out.write_time(single.revoked_at, TimeForm::kGeneralized));
      if (single.reason) {
        const auto reason = out.open(internal::kTagContext0);
        const std::uint8_t value = static_cast<std::uint8_t>(*single.reason);
        out.write_tlv(internal::kTagEnumerated, base::ByteView(&value, 1));
        out.close(reason);
      }
      out.close(revoked);
      break;
    }
    case OcspCertStatus::kUnknown:
      out.write_raw(kStatusUnknown);
      break;
  }
  SIGNET_TRY(out.write_time(single.this_update, TimeForm::kGeneralized));
  const auto next_update = out.open(internal::kTagContext0);  // [0] EXPLICIT
  SIGNET_TRY(out.write_time(single.next_update, TimeForm::kGeneralized));
  out.close(next_update);
  out.close(sequence);
  return base::ok();
}

}  // namespace

std::string_view to_string(OcspHash hash) {
  switch (hash) {
    case OcspHash::kSha1:
      return "sha1";
    case OcspHash::kSha256:
      return "sha256";
    case OcspHash::kSha384:
      return "sha384";
    case OcspHash::kSha512:
      return "sha512";
  }
  return "unknown";
}

base::Bytes ocsp_hash(OcspHash hash, base::ByteView data) {
  switch (hash) {
    case OcspHash::kSha1:
      return sha1(data);
    case OcspHash::kSha256:
      return sha256(data);
    case OcspHash::kSha384:
      return digest(base::DigestAlgorithm::kSha384, data).value_or({});
    case OcspHash::kSha512:
      return digest(base::DigestAlgorithm::kSha512, data).value_or({});
  }
  return {};
}

base::Result<OcspRequestInfo> parse_ocsp_request(base::ByteView der) {
  if (der.empty()) return invalid("the OCSP request is empty");
  if (der.size() > static_cast<std::size_t>(LONG_MAX))
    return invalid("the OCSP request is too long");
  const unsigned char* p = der.data();
  OcspRequestPtr request(d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(der.size())));
  if (!request) {
    return base::openssl_error(ErrorCode::kInvalidArgument, "the OCSP request is not DER");
  }
  if (p != der.data() + der.size()) return invalid("trailing data after the OCSP request");
  const int count = OCSP_request_onereq_count(request.get());
  if (count <= 0) return invalid("the OCSP request names no certificate");
  if (static_cast<std::size_t>(count) > kMaxOcspRequestCertIds) {
    return invalid("the OCSP request names " + std::to_string(count) + " certificates; at most " +
                   std::to_string(kMaxOcspRequestCertIds) + " are answered");
  }
  OcspRequestInfo info;
  info.cert_ids.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    OCSP_CERTID* id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(request.get(), i));
    if (id == nullptr) return invalid("the OCSP request has a Request without a CertID");
    auto cert_id = to_cert_id(id);
    if (!cert_id) {
      return std::move(cert_id).error().with_context("in CertID " + std::to_string(i + 1) +
                                                     " of the OCSP request");
    }
    info.cert_ids.push_back(std::move(*cert_id));
  }
  SIGNET_ASSIGN_OR_RETURN(info.nonce_extension_value, request_nonce(request.get()));
  return info;
}

base::Result<OcspIssuerHashes> ocsp_issuer_hashes(OcspHash hash, base::ByteView issuer_name_der,
                                                  base::ByteView issuer_spki_der) {
  if (!is_one_sequence(issuer_name_der)) return invalid("the issuer Name is not DER");
  SIGNET_ASSIGN_OR_RETURN(auto parts, internal::split_spki(issuer_spki_der));
  OcspIssuerHashes out;
  out.hash = hash;
  out.name_hash = ocsp_hash(hash, issuer_name_der);
  out.key_hash = ocsp_hash(hash, parts.key);  // the BIT STRING's value, RFC 6960 §4.1.1
  if (out.name_hash.size() != hash_size(hash) || out.key_hash.size() != hash_size(hash)) {
    return base::openssl_error(ErrorCode::kCryptoError,
                               "cannot compute " + std::string(to_string(hash)));
  }
  return out;
}

base::Result<base::Bytes> ocsp_responder_key_hash(base::ByteView responder_spki_der) {
  SIGNET_ASSIGN_OR_RETURN(auto parts, internal::split_spki(responder_spki_der));
  base::Bytes hash = sha1(parts.key);  // RFC 6960 §4.2.1 KeyHash
  if (hash.size() != kKeyHashSize) {
    return base::openssl_error(ErrorCode::kCryptoError, "cannot compute SHA-1");
  }
  return hash;
}

base::Result<base::Bytes> encode_ocsp_response_data(const OcspResponseData& data) {
  if (data.responder_key_hash.size() != kKeyHashSize) {
    return invalid("the responder key hash has " + std::to_string(data.responder_key_hash.size()) +
                   " octets; a SHA-1 KeyHash has 20");
  }
  if (data.responses.empty()) return invalid("an OCSP response answers at least one CertID");
  if (data.nonce_extension_value && data.nonce_extension_value->empty()) {
    return invalid("the nonce extension value to echo is empty");
  }
  std::size_t estimate = 64 + (data.nonce_extension_value ? data.nonce_extension_value->size() : 0);
  for (const auto& single : data.responses) {
    SIGNET_TRY(check_single(single));
    estimate += single.cert_id_der.size() + 80;
  }
  DerWriter out(estimate);
  // ResponseData (RFC 6960 §4.2.1); version v1 is the DEFAULT, so DER leaves it out.
  const auto response_data = out.open(internal::kTagSequence);
  const auto responder_id = out.open(internal::kTagContext2);  // byKey [2] EXPLICIT KeyHash
  out.write_tlv(internal::kTagOctetString, data.responder_key_hash);
  out.close(responder_id);
  SIGNET_TRY(out.write_time(data.produced_at, TimeForm::kGeneralized));
  const auto responses = out.open(internal::kTagSequence);
  for (const auto& single : data.responses) SIGNET_TRY(write_single(out, single));
  out.close(responses);
  if (data.nonce_extension_value) {
    // responseExtensions [1] EXPLICIT Extensions: the request's nonce, unchanged (RFC 8954).
    const auto explicit_tag = out.open(internal::kTagContext1);
    const auto extensions = out.open(internal::kTagSequence);
    const auto extension = out.open(internal::kTagSequence);
    out.write_oid(kOidNonce);
    out.write_tlv(internal::kTagOctetString, *data.nonce_extension_value);
    out.close(extension);
    out.close(extensions);
    out.close(explicit_tag);
  }
  out.close(response_data);
  return out.take();
}

base::Bytes encode_ocsp_response(base::ByteView response_data_der, base::ByteView algorithm_der,
                                 base::ByteView signature, const std::vector<base::Bytes>& certs) {
  std::size_t size = response_data_der.size() + algorithm_der.size() + signature.size() + 96;
  for (const auto& cert : certs) size += cert.size();
  DerWriter out(size);
  // OCSPResponse ::= SEQUENCE { responseStatus, responseBytes [0] EXPLICIT ResponseBytes }
  const auto response = out.open(internal::kTagSequence);
  out.write_raw(kSuccessful);
  const auto explicit_tag = out.open(internal::kTagContext0);
  const auto response_bytes = out.open(internal::kTagSequence);  // { responseType, response }
  out.write_oid(kOidBasic);
  const auto octets = out.open(internal::kTagOctetString);
  // BasicOCSPResponse ::= SEQUENCE { tbsResponseData, signatureAlgorithm, signature,
  //                                  certs [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
  const auto basic = out.open(internal::kTagSequence);
  out.write_raw(response_data_der);
  out.write_raw(algorithm_der);
  out.write_bit_string(signature);
  if (!certs.empty()) {
    const auto certs_tag = out.open(internal::kTagContext0);
    const auto sequence = out.open(internal::kTagSequence);
    for (const auto& cert : certs) out.write_raw(cert);
    out.close(sequence);
    out.close(certs_tag);
  }
  out.close(basic);
  out.close(octets);
  out.close(response_bytes);
  out.close(explicit_tag);
  out.close(response);
  return out.take();
}

base::Bytes encode_ocsp_error(OcspResponseStatus status) {
  // A successful status needs responseBytes; asked to send it without, we say internalError.
  if (status == OcspResponseStatus::kSuccessful) status = OcspResponseStatus::kInternalError;
  return {internal::kTagSequence, 0x03, internal::kTagEnumerated, 0x01,
          static_cast<std::uint8_t>(status)};
}

base::Result<OcspResponseInfo> inspect_ocsp_response(base::ByteView der) {
  if (der.empty() || der.size() > static_cast<std::size_t>(LONG_MAX)) {
    return invalid("not an OCSP response");
  }
  const unsigned char* p = der.data();
  OcspResponsePtr response(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
  if (!response) {
    return base::openssl_error(ErrorCode::kInvalidArgument, "not a DER OCSP response");
  }
  if (p != der.data() + der.size()) return invalid("trailing data after the OCSP response");
  OcspResponseInfo info;
  const int status = OCSP_response_status(response.get());
  switch (status) {
    case OCSP_RESPONSE_STATUS_SUCCESSFUL:
    case OCSP_RESPONSE_STATUS_MALFORMEDREQUEST:
    case OCSP_RESPONSE_STATUS_INTERNALERROR:
    case OCSP_RESPONSE_STATUS_TRYLATER:
    case OCSP_RESPONSE_STATUS_SIGREQUIRED:
    case OCSP_RESPONSE_STATUS_UNAUTHORIZED:
      info.status = static_cast<OcspResponseStatus>(status);
      break;
    default:
      return invalid("the OCSP response status " + std::to_string(status) + " is not defined");
  }
  if (info.status != OcspResponseStatus::kSuccessful) return info;
  OcspBasicPtr basic(OCSP_response_get1_basic(response.get()));
  if (!basic) {
    return base::openssl_error(ErrorCode::kInvalidArgument,
                               "the successful OCSP response holds no BasicOCSPResponse");
  }
  const int count = OCSP_resp_count(basic.get());
  info.responses = count > 0 ? static_cast<std::size_t>(count) : 0;
  if (count > 0) {
    int reason = OCSP_REVOKED_STATUS_NOSTATUS;
    ASN1_GENERALIZEDTIME* revoked_at = nullptr;
    ASN1_GENERALIZEDTIME* this_update = nullptr;
    ASN1_GENERALIZEDTIME* next_update = nullptr;
    const int first = OCSP_single_get0_status(OCSP_resp_get0(basic.get(), 0), &reason, &revoked_at,
                                              &this_update, &next_update);
    switch (first) {
      case V_OCSP_CERTSTATUS_GOOD:
        info.first_status = OcspCertStatus::kGood;
        break;
      case V_OCSP_CERTSTATUS_REVOKED:
        info.first_status = OcspCertStatus::kRevoked;
        if (reason != OCSP_REVOKED_STATUS_NOSTATUS) info.first_reason = reason;
        break;
      case V_OCSP_CERTSTATUS_UNKNOWN:
        info.first_status = OcspCertStatus::kUnknown;
        break;
      default:
        return invalid("the OCSP response's first certificate status is malformed");
    }
  }
  info.has_nonce = OCSP_BASICRESP_get_ext_by_NID(basic.get(), NID_id_pkix_OCSP_Nonce, -1) >= 0;
  return info;
}

std::string_view to_string(OcspResponseStatus status) {
  switch (status) {
    case OcspResponseStatus::kSuccessful:
      return "successful";
    case OcspResponseStatus::kMalformedRequest:
      return "malformedRequest";
    case OcspResponseStatus::kInternalError:
      return "internalError";
    case OcspResponseStatus::kTryLater:
      return "tryLater";
    case OcspResponseStatus::kSigRequired:
      return "sigRequired";
    case OcspResponseStatus::kUnauthorized:
      return "unauthorized";
  }
  return "unknown";
}

std::string_view to_string(OcspCertStatus status) {
  switch (status) {
    case OcspCertStatus::kGood:
      return "good";
    case OcspCertStatus::kRevoked:
      return "revoked";
    case OcspCertStatus::kUnknown:
      return "unknown";
  }
  return "unknown";
}

}  // namespace signet::pki
