#include "pki/crl.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>
#include <new>

#include "base/openssl.h"
#include "pki/general_name.h"
#include "pki/internal/der_writer.h"
#include "pki/internal/general_names_der.h"
#include "pki/internal/openssl_util.h"
#include "pki/internal/spki.h"
#include "pki/name.h"
#include "pki/tbs_certificate.h"

namespace signet::pki {

using base::Error;
using base::ErrorCode;
using internal::DerWriter;

namespace {

// Object identifier contents (X.690 §8.19).
constexpr std::uint8_t kOidAuthorityKeyId[] = {0x55, 0x1d, 0x23};     // 2.5.29.35
constexpr std::uint8_t kOidCrlNumber[] = {0x55, 0x1d, 0x14};          // 2.5.29.20
constexpr std::uint8_t kOidDeltaCrlIndicator[] = {0x55, 0x1d, 0x1b};  // 2.5.29.27
constexpr std::uint8_t kOidFreshestCrl[] = {0x55, 0x1d, 0x2e};        // 2.5.29.46

constexpr std::uint8_t kVersion2[] = {internal::kTagInteger, 0x01, 0x01};  // v2(1), §5.1.2.1

// The fixed part of the crlEntryExtensions (RFC 5280 §5.3), up to the variable octets.
// reasonCode: SEQUENCE { OID 2.5.29.21, OCTET STRING { ENUMERATED, one octet follows } }.
constexpr std::uint8_t kReasonCodePrefix[] = {0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d,
                                              0x15, 0x04, 0x03, 0x0a, 0x01};
// invalidityDate: SEQUENCE { OID 2.5.29.24, OCTET STRING { GeneralizedTime, 17 octets } }.
constexpr std::uint8_t kInvalidityDatePrefix[] = {0x30, 0x18, 0x06, 0x03, 0x55,
                                                  0x1d, 0x18, 0x04, 0x11};
constexpr std::size_t kGeneralizedTimeSize = 17;

constexpr std::size_t kMaxSerialOctets = 20;  // RFC 5280 §4.1.2.2
// The largest revokedCertificates entry: SEQUENCE header, INTEGER (with a 0x00 octet),
// revocationDate, crlEntryExtensions header, reasonCode, invalidityDate.
constexpr std::size_t kMaxEntrySize = 2 + 2 + 1 + kMaxSerialOctets + internal::kMaxTimeTlvSize + 2 +
                                      sizeof(kReasonCodePrefix) + 1 +
                                      sizeof(kInvalidityDatePrefix) + kGeneralizedTimeSize;
static_assert(kMaxEntrySize < 0x80, "every length inside an entry takes one octet");

// Tag and the longest length field of a std::size_t.
constexpr std::size_t kMaxHeaderSize = 2 + sizeof(std::size_t);
// Room after the entries for the signature algorithm and signature: RSA-4096 signs with 512
// octets. A larger signature still fits, by the vector growing once.
constexpr std::size_t kSignatureRoom = 1024;
// Reserving beyond this many entries' worth is left to the vector's growth: 1.3 GB of address
// space is already more than any CRL we would publish.
constexpr std::uint64_t kMaxReservedEntries = 16u << 20;

std::size_t header_size(std::size_t length) { return 1 + internal::der_length_size(length); }

// Writes a tag and the minimal definite length at `at`; returns the octets written.
std::size_t put_header(std::uint8_t* at, std::uint8_t tag, std::size_t length) {
  at[0] = tag;
  if (length < 0x80) {
    at[1] = static_cast<std::uint8_t>(length);
    return 2;
  }
  const std::size_t octets = internal::der_length_size(length) - 1;
  at[1] = static_cast<std::uint8_t>(0x80 | octets);
  for (std::size_t i = 0; i < octets; ++i) {
    at[2 + i] = static_cast<std::uint8_t>(length >> (8 * (octets - 1 - i)));
  }
  return 2 + octets;
}

Error invalid(std::string what) { return Error(ErrorCode::kInvalidArgument, std::move(what)); }

bool is_one_sequence(base::ByteView der) {
  const auto header = internal::read_der_header(der);
  return header && header->tag == internal::kTagSequence && header->total_size == der.size();
}

// RFC 5280 §5.3.1: 0-6 and 8-10; 7 is not used.
bool is_crl_reason(int reason) { return reason >= 0 && reason <= 10 && reason != 7; }

base::Result<void> check(const CrlIssuer& issuer, const CrlHeader& header) {
  if (!is_one_sequence(issuer.issuer_name_der) || is_empty_name(issuer.issuer_name_der)) {
    return invalid("the CRL issuer must be a non-empty DER Name (RFC 5280 §5.1.2.3)");
  }
  if (header.number == 0) return invalid("the CRL number must be positive");
  if (header.next_update < header.this_update) {
    return invalid("the CRL's nextUpdate is before its thisUpdate");
  }
  if (header.delta_base && *header.delta_base >= header.number) {
    // RFC 5280 §5.2.4: the delta's number is greater than its base CRL's.
    return invalid("delta CRL " + std::to_string(header.number) +
                   " must have a greater number than its base CRL " +
                   std::to_string(*header.delta_base));
  }
  if (!header.freshest_crl_url.empty()) {
    GeneralName url;
    url.type = GeneralName::Type::kUri;
    url.value = header.freshest_crl_url;
    auto valid = validate_general_name(url);
    if (!valid) return std::move(valid).error().with_context("checking the freshest CRL URL");
  }
  return base::ok();
}

// crlExtensions [0] EXPLICIT Extensions (RFC 5280 §5.2), all known when the CRL begins.
base::Bytes encode_extensions(const CrlIssuer& issuer, const CrlHeader& header) {
  DerWriter out(96 + issuer.authority_key_identifier.size() + header.freshest_crl_url.size());
  const auto explicit_tag = out.open(internal::kTagContext0);
  const auto extensions = out.open(internal::kTagSequence);
  if (!issuer.authority_key_identifier.empty()) {
    // §5.2.1: AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT ... }.
    const auto ext = internal::open_extension(out, kOidAuthorityKeyId, false);
    const auto value = out.open(internal::kTagSequence);
    out.write_tlv(0x80, issuer.authority_key_identifier);
    out.close(value);
    internal::close_extension(out, ext);
  }
  {  // §5.2.3: cRLNumber, not critical.
    const auto ext = internal::open_extension(out, kOidCrlNumber, false);
    out.write_small_integer(header.number);
    internal::close_extension(out, ext);
  }
  if (header.delta_base) {  // §5.2.4: critical, BaseCRLNumber
    const auto ext = internal::open_extension(out, kOidDeltaCrlIndicator, true);
    out.write_small_integer(*header.delta_base);
    internal::close_extension(out, ext);
  }
  if (!header.freshest_crl_url.empty()) {  // §5.2.6: the syntax of CRLDistributionPoints
    const auto ext = internal::open_extension(out, kOidFreshestCrl, false);
    internal::write_distribution_point_uri(out, header.freshest_crl_url);
    internal::close_extension(out, ext);
  }
  out.close(extensions);
  out.close(explicit_tag);
  return out.take();
}

enum class Phase { kEntries, kSigning };

}  // namespace

// The buffer's layout while entries arrive:
//   [room for the CertificateList and TBSCertList headers, the TBSCertList fields before
//    revokedCertificates, and the revokedCertificates header][entries...]
// tbs() appends the extensions and fills the room backwards, so that the entries never move;
// finish() appends the signature and drops the unused room at the front (one memmove).
struct CrlEncoder::State {
  base::Bytes out;
  std::size_t entries_start = 0;  // where the first entry went
  base::Bytes prefix;             // version, signature, issuer, thisUpdate, nextUpdate
  base::Bytes extensions;         // crlExtensions, complete
  base::Bytes algorithm;          // signatureAlgorithm
  std::uint64_t entries = 0;
  std::size_t tbs_start = 0;  // valid from kSigning
  Phase phase = Phase::kEntries;
};

CrlEncoder::CrlEncoder(std::unique_ptr<State> state) : state_(std::move(state)) {}
CrlEncoder::CrlEncoder(CrlEncoder&&) noexcept = default;
CrlEncoder& CrlEncoder::operator=(CrlEncoder&&) noexcept = default;
CrlEncoder::~CrlEncoder() = default;

base::Result<CrlEncoder> CrlEncoder::begin(const CrlIssuer& issuer, const CrlHeader& header,
                                           std::uint64_t expected_entries) {
  SIGNET_TRY(check(issuer, header));
  auto state = std::make_unique<State>();
  SIGNET_ASSIGN_OR_RETURN(state->algorithm,
                          signature_algorithm_der(issuer.key_algorithm, issuer.digest));
  DerWriter prefix(64 + state->algorithm.size() + issuer.issuer_name_der.size());
  prefix.write_raw(kVersion2);
  prefix.write_raw(state->algorithm);  // §5.1.2.2: the same as signatureAlgorithm
  prefix.write_raw(issuer.issuer_name_der);
  SIGNET_TRY(prefix.write_time(header.this_update));  // §5.1.2.4, §5.1.2.5
  SIGNET_TRY(prefix.write_time(header.next_update));
  state->prefix = prefix.take();
  state->extensions = encode_extensions(issuer, header);

  state->entries_start = 2 * kMaxHeaderSize + state->prefix.size() + kMaxHeaderSize;
  const std::uint64_t reserved_entries = std::min(expected_entries, kMaxReservedEntries);
  const std::size_t reserve = state->entries_start +
                              static_cast<std::size_t>(reserved_entries) * kMaxEntrySize +
                              state->extensions.size() + state->algorithm.size() + kSignatureRoom;
  try {
    state->out.reserve(reserve);
  } catch (const std::bad_alloc&) {
    return Error(ErrorCode::kResourceExhausted, "cannot reserve " + std::to_string(reserve) +
                                                    " bytes for a CRL of up to " +
                                                    std::to_string(expected_entries) + " entries");
  }
  state->out.resize(state->entries_start);
  return CrlEncoder(std::move(state));
}

base::Result<void> CrlEncoder::add(const CrlEntry& entry) {
  if (!state_ || state_->phase != Phase::kEntries) {
    return Error(ErrorCode::kInternal, "CRL entries cannot be added after tbs() or finish()");
  }
  base::ByteView serial = entry.serial;
  while (!serial.empty() && serial[0] == 0) serial = serial.subspan(1);
  if (serial.empty()) return invalid("a CRL entry's serial number is zero or missing");
  if (serial.size() > kMaxSerialOctets) {
    return invalid("a CRL entry's serial number has " + std::to_string(serial.size()) +
                   " octets; RFC 5280 §4.1.2.2 allows at most 20");
  }
  if (!is_crl_reason(entry.reason)) {
    return invalid("CRL entry reason " + std::to_string(entry.reason) +
                   " is not a CRLReason (RFC 5280 §5.3.1)");
  }
  // The entry is built on the stack (every length fits one octet) and appended at once.
  std::uint8_t der[kMaxEntrySize];
  std::uint8_t* p = der + 2;
  const bool pad = (serial[0] & 0x80) != 0;  // X.690 §8.3.2: keep the INTEGER positive
  *p++ = internal::kTagInteger;
  *p++ = static_cast<std::uint8_t>(serial.size() + (pad ? 1 : 0));
  if (pad) *p++ = 0x00;
  std::memcpy(p, serial.data(), serial.size());
  p += serial.size();
  std::size_t time_size =
      internal::encode_time_tlv(entry.revoked_at, internal::TimeForm::kRfc5280, p);
  if (time_size == 0) return invalid("a CRL entry's revocation date cannot be encoded");
  p += time_size;
  if (entry.reason != 0 || entry.invalidity_date) {
    std::uint8_t* extensions = p;
    p += 2;
    if (entry.reason != 0) {  // §5.3.1: unspecified (0) is expressed by leaving it out
      std::memcpy(p, kReasonCodePrefix, sizeof(kReasonCodePrefix));
      p += sizeof(kReasonCodePrefix);
      *p++ = static_cast<std::uint8_t>(entry.reason);
    }
    if (entry.invalidity_date) {  // §5.3.2: always GeneralizedTime
      std::memcpy(p, kInvalidityDatePrefix, sizeof(kInvalidityDatePrefix));
      p += sizeof(kInvalidityDatePrefix);
      time_size =
          internal::encode_time_tlv(*entry.invalidity_date, internal::TimeForm::kGeneralized, p);
      if (time_size != kGeneralizedTimeSize) {
        return invalid("a CRL entry's invalidity date cannot be encoded");
      }
      p += time_size;
    }
    extensions[0] = internal::kTagSequence;
    extensions[1] = static_cast<std::uint8_t>(p - extensions - 2);
  }
  der[0] = internal::kTagSequence;
  der[1] = static_cast<std::uint8_t>(p - der - 2);
  state_->out.insert(state_->out.end(), der, p);
  ++state_->entries;
  return base::ok();
}

std::uint64_t CrlEncoder::entries() const { return state_ ? state_->entries : 0; }

base::Result<base::ByteView> CrlEncoder::tbs() {
  if (!state_) {
    return Error(ErrorCode::kInternal, "the CRL encoder was already finished or moved from");
  }
  State& s = *state_;
  if (s.phase == Phase::kEntries) {
    const std::size_t revoked = s.out.size() - s.entries_start;
    s.out.insert(s.out.end(), s.extensions.begin(), s.extensions.end());
    // §5.1.2.6: with no entries, revokedCertificates is absent (not an empty SEQUENCE).
    const std::size_t revoked_header = s.entries == 0 ? 0 : header_size(revoked);
    const std::size_t tbs_length = s.prefix.size() + revoked_header + revoked + s.extensions.size();
    std::size_t pos = s.entries_start - revoked_header;
    if (s.entries != 0) put_header(s.out.data() + pos, internal::kTagSequence, revoked);
    pos -= s.prefix.size();
    std::memcpy(s.out.data() + pos, s.prefix.data(), s.prefix.size());
    pos -= header_size(tbs_length);
    put_header(s.out.data() + pos, internal::kTagSequence, tbs_length);
    s.tbs_start = pos;
    s.phase = Phase::kSigning;
  }
  return base::ByteView(s.out.data() + s.tbs_start, s.out.size() - s.tbs_start);
}

base::Result<base::Bytes> CrlEncoder::finish(base::ByteView signature) {
  if (!state_ || state_->phase != Phase::kSigning) {
    return Error(ErrorCode::kInternal,
                 state_ && state_->phase == Phase::kEntries
                     ? "the CRL is finished before its TBSCertList was taken with tbs()"
                     : "the CRL encoder was already finished or moved from");
  }
  if (signature.empty()) return invalid("the CRL signature is empty");
  State& s = *state_;
  s.out.insert(s.out.end(), s.algorithm.begin(), s.algorithm.end());
  std::uint8_t header[kMaxHeaderSize];
  const std::size_t header_length =
      put_header(header, internal::kTagBitString, signature.size() + 1);
  s.out.insert(s.out.end(), header, header + header_length);
  s.out.push_back(0x00);  // no unused bits
  s.out.insert(s.out.end(), signature.begin(), signature.end());
  // §5.1: CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue }.
  const std::size_t length = s.out.size() - s.tbs_start;
  const std::size_t start = s.tbs_start - header_size(length);
  put_header(s.out.data() + start, internal::kTagSequence, length);
  s.out.erase(s.out.begin(), s.out.begin() + static_cast<std::ptrdiff_t>(start));
  base::Bytes result = std::move(s.out);
  state_.reset();
  return result;
}

namespace {

struct DistPointsFree {
  void operator()(CRL_DIST_POINTS* p) const noexcept { CRL_DIST_POINTS_free(p); }
};

// An extension OpenSSL decodes for us: nullptr when absent, an error when it is malformed or
// repeated.
template <typename T>
base::Result<T*> crl_extension(X509_CRL* crl, int nid, const char* what) {
  int critical = -1;
  void* value = X509_CRL_get_ext_d2i(crl, nid, &critical, nullptr);
  if (value == nullptr && critical != -1) {
    return base::openssl_error(
        ErrorCode::kInvalidArgument,
        std::string("the CRL's ") + what +
            (critical == -2 ? " extension is repeated" : " extension is malformed"));
  }
  return static_cast<T*>(value);
}

base::Result<std::uint64_t> to_uint64(const ASN1_INTEGER* value, const char* what) {
  std::uint64_t out = 0;
  if (ASN1_INTEGER_get_uint64(&out, value) != 1) {
    return base::openssl_error(ErrorCode::kInvalidArgument,
                               std::string("the CRL's ") + what + " is not a 64-bit number");
  }
  return out;
}

// The first URI of the first DistributionPoint's fullName; "" when there is none.
std::string first_uri(const CRL_DIST_POINTS* points) {
  if (points == nullptr || sk_DIST_POINT_num(points) < 1) return {};
  const DIST_POINT* point = sk_DIST_POINT_value(points, 0);
  if (point->distpoint == nullptr || point->distpoint->type != 0) return {};
  const GENERAL_NAMES* names = point->distpoint->name.fullname;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_URI) {
      const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
      return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                         static_cast<std::size_t>(ASN1_STRING_length(uri)));
    }
  }
  return {};
}

base::Result<base::X509CrlPtr> parse_crl(base::ByteView der) {
  const unsigned char* p = der.data();
  base::X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
  if (!crl) return base::openssl_error(ErrorCode::kInvalidArgument, "not a DER CRL");
  if (p != der.data() + der.size()) return invalid("trailing data after the CRL");
  return crl;
}

}  // namespace

base::Result<CrlInfo> inspect_crl(base::ByteView der) {
  SIGNET_ASSIGN_OR_RETURN(auto crl, parse_crl(der));
  CrlInfo info;
  SIGNET_ASSIGN_OR_RETURN(info.issuer, internal::format_name(X509_CRL_get_issuer(crl.get())));
  {
    SIGNET_ASSIGN_OR_RETURN(auto* number,
                            crl_extension<ASN1_INTEGER>(crl.get(), NID_crl_number, "cRLNumber"));
    base::Asn1IntegerPtr owned(number);
    if (owned) {
      SIGNET_ASSIGN_OR_RETURN(info.number, to_uint64(owned.get(), "cRLNumber"));
    }
  }
  {
    SIGNET_ASSIGN_OR_RETURN(
        auto* base, crl_extension<ASN1_INTEGER>(crl.get(), NID_delta_crl, "delta CRL indicator"));
    base::Asn1IntegerPtr owned(base);
    if (owned) {
      SIGNET_ASSIGN_OR_RETURN(info.delta_base, to_uint64(owned.get(), "base CRL number"));
    }
  }
  {
    SIGNET_ASSIGN_OR_RETURN(
        auto* points, crl_extension<CRL_DIST_POINTS>(crl.get(), NID_freshest_crl, "freshest CRL"));
    std::unique_ptr<CRL_DIST_POINTS, DistPointsFree> owned(points);
    info.freshest_crl_url = first_uri(owned.get());
  }
  SIGNET_ASSIGN_OR_RETURN(info.this_update,
                          internal::to_time_point(X509_CRL_get0_lastUpdate(crl.get())));
  if (const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl.get()); next != nullptr) {
    SIGNET_ASSIGN_OR_RETURN(info.next_update, internal::to_time_point(next));
  }
  const STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl.get());
  info.entries = revoked == nullptr ? 0 : static_cast<std::uint64_t>(sk_X509_REVOKED_num(revoked));
  const ASN1_BIT_STRING* signature = nullptr;
  const X509_ALGOR* algorithm = nullptr;
  X509_CRL_get0_signature(crl.get(), &signature, &algorithm);
  const ASN1_OBJECT* oid = nullptr;
  X509_ALGOR_get0(&oid, nullptr, nullptr, algorithm);
  const int nid = OBJ_obj2nid(oid);
  if (nid != NID_undef) {
    info.signature_algorithm = OBJ_nid2ln(nid);
  } else {
    char text[128];
    OBJ_obj2txt(text, sizeof(text), oid, 1);
    info.signature_algorithm = text;
  }
  return info;
}

base::Result<bool> crl_signature_verifies(base::ByteView crl_der, base::ByteView issuer_spki_der) {
  SIGNET_ASSIGN_OR_RETURN(auto crl, parse_crl(crl_der));
  SIGNET_ASSIGN_OR_RETURN(auto key, internal::load_public_key(issuer_spki_der));
  const int verified = X509_CRL_verify(crl.get(), key.get());
  if (verified != 1) base::drain_openssl_errors();  // a wrong signature is an answer, not an error
  return verified == 1;
}

}  // namespace signet::pki
