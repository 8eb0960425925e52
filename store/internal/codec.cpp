#include "store/internal/codec.h"

#include <limits>
#include <utility>

#include "store/internal/tlv.h"

namespace signet::store::codec {

namespace {

using base::Bytes;
using base::ByteView;
using base::Error;
using base::ErrorCode;
using tlv::Decoder;
using tlv::encode_key_ref;
using tlv::Writer;

// Field tags. Never reuse or renumber a tag: records on disk keep them forever.
namespace cert_tag {
constexpr std::uint8_t kCaName = 1, kSerial = 2, kFingerprint = 3, kDer = 4, kSubject = 5,
                       kCommonName = 6, kSubjectAltName = 7, kIssuer = 8, kNotBefore = 9,
                       kNotAfter = 10, kRecordedAt = 11, kKeyAlgorithm = 12, kDigest = 13,
                       kSource = 14, kIsCa = 15, kRevocation = 16, kKeyLocation = 17, kProfile = 18,
                       kProfileVersion = 19, kOrderId = 20, kPredecessorId = 21, kSuccessorId = 22,
                       kWrappedKey = 23;
}
namespace revocation_tag {
constexpr std::uint8_t kRevokedAt = 1, kReason = 2, kInvalidityDate = 3, kSequence = 4;
}
namespace ca_tag {
constexpr std::uint8_t kName = 1, kState = 2, kParent = 3, kExternalParent = 4, kKey = 5,
                       kKeyAlgorithm = 6, kSubject = 7, kCertificate = 8, kPreviousCertificate = 9,
                       kExternalChain = 10, kPendingCsr = 11, kSettings = 12, kCreatedAt = 13,
                       kRevision = 14, kOcspSignerCertificateId = 15;
}
namespace wrapped_tag {
constexpr std::uint8_t kKek = 1, kWrapped = 2;
}
namespace settings_tag {
constexpr std::uint8_t kBaseUrl = 1, kDefaultValidityDays = 2, kCrlValidityHours = 3,
                       kCrlOverlapMinutes = 4, kCrlOnRevocation = 5, kDeltaCrls = 6,
                       kDeltaCrlValidityMinutes = 7, kCrlExpiredGraceDays = 8, kCrlHistory = 9,
                       kOcspSigning = 10, kOcspValidityMinutes = 11, kOcspSignerValidityDays = 12,
                       kOcspSignerRenewBeforeDays = 13;
}
namespace audit_tag {
constexpr std::uint8_t kTime = 1, kActor = 2, kAction = 3, kObject = 4, kDetail = 5,
                       kPreviousHash = 6, kHash = 7;
}

// Every setting is written (a bool or an int whose default is not 0 must not read back as 0);
// an absent tag (a record from before the setting existed) decodes to ca::CaSettings'
// default.
void encode_settings(const ca::CaSettings& s, Bytes& out) {
  Writer w(out);
  w.text(settings_tag::kBaseUrl, s.base_url);
  w.i64(settings_tag::kDefaultValidityDays, s.default_validity_days);
  w.i64(settings_tag::kCrlValidityHours, s.crl_validity_hours);
  w.i64(settings_tag::kCrlOverlapMinutes, s.crl_overlap_minutes);
  w.u8(settings_tag::kCrlOnRevocation, s.crl_on_revocation ? 1 : 0);
  w.u8(settings_tag::kDeltaCrls, s.delta_crls ? 1 : 0);
  w.i64(settings_tag::kDeltaCrlValidityMinutes, s.delta_crl_validity_minutes);
  w.i64(settings_tag::kCrlExpiredGraceDays, s.crl_expired_grace_days);
  w.i64(settings_tag::kCrlHistory, s.crl_history);
  w.u8(settings_tag::kOcspSigning, s.ocsp_signing == ca::OcspSigning::kCaKey ? 0 : 1);
  w.i64(settings_tag::kOcspValidityMinutes, s.ocsp_validity_minutes);
  w.i64(settings_tag::kOcspSignerValidityDays, s.ocsp_signer_validity_days);
  w.i64(settings_tag::kOcspSignerRenewBeforeDays, s.ocsp_signer_renew_before_days);
}

base::Result<ca::CaSettings> decode_settings(const Decoder& d, ByteView data) {
  ca::CaSettings s;
  // An int setting: any value an int holds (ca/ checks the ranges that make sense).
  auto integer = [&](std::uint8_t tag, ByteView v, int& out) -> base::Result<void> {
    SIGNET_ASSIGN_OR_RETURN(auto value, d.i64(tag, v));
    if (value < std::numeric_limits<int>::min() || value > std::numeric_limits<int>::max()) {
      return d.corrupt("CA setting " + std::to_string(tag) + " is out of range");
    }
    out = static_cast<int>(value);
    return base::ok();
  };
  auto flag = [&](std::uint8_t tag, ByteView v, bool& out) -> base::Result<void> {
    SIGNET_ASSIGN_OR_RETURN(auto b, d.u8(tag, v, 1));
    out = b == 1;
    return base::ok();
  };
  SIGNET_TRY(d.fields(data, [&](std::uint8_t t, ByteView v) -> base::Result<void> {
    switch (t) {
      case settings_tag::kBaseUrl:
        s.base_url = Decoder::text(v);
        return base::ok();
      case settings_tag::kDefaultValidityDays: {
        SIGNET_ASSIGN_OR_RETURN(auto days, d.i64(t, v));
        if (days < 0 || days > 1'000'000) return d.corrupt("bad default validity");
        s.default_validity_days = static_cast<int>(days);
        return base::ok();
      }
      case settings_tag::kCrlValidityHours:
        return integer(t, v, s.crl_validity_hours);
      case settings_tag::kCrlOverlapMinutes:
        return integer(t, v, s.crl_overlap_minutes);
      case settings_tag::kCrlOnRevocation:
        return flag(t, v, s.crl_on_revocation);
      case settings_tag::kDeltaCrls:
        return flag(t, v, s.delta_crls);
      case settings_tag::kDeltaCrlValidityMinutes:
        return integer(t, v, s.delta_crl_validity_minutes);
      case settings_tag::kCrlExpiredGraceDays:
        return integer(t, v, s.crl_expired_grace_days);
      case settings_tag::kCrlHistory:
        return integer(t, v, s.crl_history);
      case settings_tag::kOcspSigning: {
        SIGNET_ASSIGN_OR_RETURN(auto mode, d.u8(t, v, 1));
        s.ocsp_signing = mode == 0 ? ca::OcspSigning::kCaKey : ca::OcspSigning::kDelegated;
        return base::ok();
      }
      case settings_tag::kOcspValidityMinutes:
        return integer(t, v, s.ocsp_validity_minutes);
      case settings_tag::kOcspSignerValidityDays:
        return integer(t, v, s.ocsp_signer_validity_days);
      case settings_tag::kOcspSignerRenewBeforeDays:
        return integer(t, v, s.ocsp_signer_renew_before_days);
      default:
        return base::ok();  // a setting from a newer build
    }
  }));
  return s;
}

}  // namespace

void encode(const ca::CertificateRecord& r, Bytes& out) {
  out.clear();
  out.reserve(r.der.size() + r.subject.size() + r.issuer.size() + 192);
  out.push_back(kFormatVersion);
  Writer w(out);
  w.text(cert_tag::kCaName, r.ca_name);
  w.bytes(cert_tag::kSerial, r.serial.magnitude());
  w.bytes(cert_tag::kFingerprint, r.fingerprint_sha256);
  w.optional_bytes(cert_tag::kDer, r.der);
  w.text(cert_tag::kSubject, r.subject);
  w.text(cert_tag::kCommonName, r.common_name);
  for (const auto& san : r.subject_alt_names)
    w.bytes(cert_tag::kSubjectAltName, base::as_bytes(san));
  w.text(cert_tag::kIssuer, r.issuer);
  w.time(cert_tag::kNotBefore, r.not_before);
  w.time(cert_tag::kNotAfter, r.not_after);
  w.time(cert_tag::kRecordedAt, r.recorded_at);
  w.text(cert_tag::kKeyAlgorithm, r.key_algorithm);
  w.text(cert_tag::kDigest, r.digest);
  w.u8(cert_tag::kSource, r.source == ca::CertificateSource::kManaged ? 0 : 1);
  w.u8(cert_tag::kIsCa, r.is_ca ? 1 : 0);
  if (r.revocation) {
    Bytes nested;
    Writer n(nested);
    n.time(revocation_tag::kRevokedAt, r.revocation->revoked_at);
    n.i64(revocation_tag::kReason, r.revocation->reason);
    if (r.revocation->invalidity_date) {
      n.time(revocation_tag::kInvalidityDate, *r.revocation->invalidity_date);
    }
    n.nonzero_u64(revocation_tag::kSequence, r.revocation->sequence);
    w.bytes(cert_tag::kRevocation, nested);
  }
  if (r.key_location) {
    Bytes nested;
    encode_key_ref(*r.key_location, nested);
    w.bytes(cert_tag::kKeyLocation, nested);
  }
  w.text(cert_tag::kProfile, r.profile);
  w.nonzero_u64(cert_tag::kProfileVersion, r.profile_version);
  w.nonzero_u64(cert_tag::kOrderId, r.order_id);
  w.nonzero_u64(cert_tag::kPredecessorId, r.predecessor_id);
  w.nonzero_u64(cert_tag::kSuccessorId, r.successor_id);
  if (r.wrapped_key) {
    Bytes nested, kek;
    encode_key_ref(r.wrapped_key->kek, kek);
    Writer n(nested);
    n.bytes(wrapped_tag::kKek, kek);
    n.bytes(wrapped_tag::kWrapped, r.wrapped_key->wrapped);
    w.bytes(cert_tag::kWrappedKey, nested);
  }
}

base::Result<ca::CertificateRecord> decode_certificate(ByteView data, std::string_view table,
                                                       ByteView key) {
  const Decoder d(table, key);
  SIGNET_ASSIGN_OR_RETURN(ByteView body, d.body(data));
  ca::CertificateRecord r;
  bool have_serial = false;
  SIGNET_TRY(d.fields(body, [&](std::uint8_t tag, ByteView v) -> base::Result<void> {
    switch (tag) {
      case cert_tag::kCaName:
        r.ca_name = Decoder::text(v);
        break;
      case cert_tag::kSerial: {
        auto serial = pki::SerialNumber::from_bytes(v);
        if (!serial) return d.corrupt("bad serial number: " + serial.error().message());
        r.serial = std::move(*serial);
        have_serial = true;
        break;
      }
      case cert_tag::kFingerprint:
        if (v.size() != 32) return d.corrupt("the SHA-256 fingerprint is not 32 bytes");
        r.fingerprint_sha256.assign(v.begin(), v.end());
        break;
      case cert_tag::kDer:
        r.der.assign(v.begin(), v.end());
        break;
      case cert_tag::kSubject:
        r.subject = Decoder::text(v);
        break;
      case cert_tag::kCommonName:
        r.common_name = Decoder::text(v);
        break;
      case cert_tag::kSubjectAltName:
        r.subject_alt_names.push_back(Decoder::text(v));
        break;
      case cert_tag::kIssuer:
        r.issuer = Decoder::text(v);
        break;
      case cert_tag::kNotBefore: {
        SIGNET_ASSIGN_OR_RETURN(r.not_before, d.time(tag, v));
        break;
      }
      case cert_tag::kNotAfter: {
        SIGNET_ASSIGN_OR_RETURN(r.not_after, d.time(tag, v));
        break;
      }
      case cert_tag::kRecordedAt: {
        SIGNET_ASSIGN_OR_RETURN(r.recorded_at, d.time(tag, v));
        break;
      }
      case cert_tag::kKeyAlgorithm:
        r.key_algorithm = Decoder::text(v);
        break;
      case cert_tag::kDigest:
        r.digest = Decoder::text(v);
        break;
      case cert_tag::kSource: {
        SIGNET_ASSIGN_OR_RETURN(auto s, d.u8(tag, v, 1));
        r.source = s == 0 ? ca::CertificateSource::kManaged : ca::CertificateSource::kDiscovered;
        break;
      }
      case cert_tag::kIsCa: {
        SIGNET_ASSIGN_OR_RETURN(auto b, d.u8(tag, v, 1));
        r.is_ca = b == 1;
        break;
      }
      case cert_tag::kRevocation: {
        ca::Revocation rev;
        SIGNET_TRY(d.fields(v, [&](std::uint8_t t, ByteView rv) -> base::Result<void> {
          switch (t) {
            case revocation_tag::kRevokedAt: {
              SIGNET_ASSIGN_OR_RETURN(rev.revoked_at, d.time(t, rv));
              break;
            }
            case revocation_tag::kReason: {
              SIGNET_ASSIGN_OR_RETURN(auto reason, d.i64(t, rv));
              if (reason < 0 || reason > 10) {
                return d.corrupt("revocation reason " + std::to_string(reason) +
                                 " is not an RFC 5280 reason code");
              }
              rev.reason = static_cast<int>(reason);
              break;
            }
            case revocation_tag::kInvalidityDate: {
              SIGNET_ASSIGN_OR_RETURN(rev.invalidity_date, d.time(t, rv));
              break;
            }
            case revocation_tag::kSequence: {
              SIGNET_ASSIGN_OR_RETURN(rev.sequence, d.u64(t, rv));
              break;
            }
            default:
              break;
          }
          return base::ok();
        }));
        r.revocation = std::move(rev);
        break;
      }
      case cert_tag::kKeyLocation: {
        SIGNET_ASSIGN_OR_RETURN(r.key_location, d.key_ref(v));
        break;
      }
      case cert_tag::kProfile:
        r.profile = Decoder::text(v);
        break;
      case cert_tag::kProfileVersion: {
        SIGNET_ASSIGN_OR_RETURN(r.profile_version, d.u64(tag, v));
        break;
      }
      case cert_tag::kOrderId: {
        SIGNET_ASSIGN_OR_RETURN(r.order_id, d.u64(tag, v));
        break;
      }
      case cert_tag::kPredecessorId: {
        SIGNET_ASSIGN_OR_RETURN(r.predecessor_id, d.u64(tag, v));
        break;
      }
      case cert_tag::kSuccessorId: {
        SIGNET_ASSIGN_OR_RETURN(r.successor_id, d.u64(tag, v));
        break;
      }
      case cert_tag::kWrappedKey: {
        base::WrappedSecret wrapped;
        SIGNET_TRY(d.fields(v, [&](std::uint8_t t, ByteView wv) -> base::Result<void> {
          if (t == wrapped_tag::kKek) {
            SIGNET_ASSIGN_OR_RETURN(wrapped.kek, d.key_ref(wv));
          } else if (t == wrapped_tag::kWrapped) {
            wrapped.wrapped.assign(wv.begin(), wv.end());
          }
          return base::ok();
        }));
        r.wrapped_key = std::move(wrapped);
        break;
      }
      default:
        break;  // a field from a newer build
    }
    return base::ok();
  }));
  if (!have_serial) return d.corrupt("the serial number is missing");
  if (r.fingerprint_sha256.size() != 32) return d.corrupt("the fingerprint is missing");
  return r;
}

base::Result<CertificateGlance> glance_certificate(ByteView data, std::string_view table,
                                                   ByteView key) {
  const Decoder d(table, key);
  SIGNET_ASSIGN_OR_RETURN(ByteView body, d.body(data));
  CertificateGlance g;
  bool have_serial = false;
  SIGNET_TRY(d.fields(body, [&](std::uint8_t tag, ByteView v) -> base::Result<void> {
    switch (tag) {
      case cert_tag::kCaName:
        g.ca_name = base::as_chars(v);
        break;
      case cert_tag::kSerial:
        g.serial = v;
        have_serial = !v.empty();
        break;
      case cert_tag::kNotAfter: {
        SIGNET_ASSIGN_OR_RETURN(g.not_after, d.time(tag, v));
        break;
      }
      default:
        break;
    }
    return base::ok();
  }));
  if (!have_serial) return d.corrupt("the serial number is missing");
  return g;
}

void encode(const ca::CaRecord& r, Bytes& out) {
  out.clear();
  out.push_back(kFormatVersion);
  Writer w(out);
  w.text(ca_tag::kName, r.name);
  w.u8(ca_tag::kState, r.state == ca::CaState::kActive ? 0 : 1);
  w.text(ca_tag::kParent, r.parent);
  w.u8(ca_tag::kExternalParent, r.external_parent ? 1 : 0);
  Bytes nested;
  encode_key_ref(r.key, nested);
  w.bytes(ca_tag::kKey, nested);
  w.text(ca_tag::kKeyAlgorithm, base::to_string(r.key_algorithm));
  w.text(ca_tag::kSubject, r.subject);
  w.optional_bytes(ca_tag::kCertificate, r.certificate_der);
  for (const auto& der : r.previous_certificates_der) w.bytes(ca_tag::kPreviousCertificate, der);
  for (const auto& der : r.external_chain_der) w.bytes(ca_tag::kExternalChain, der);
  w.optional_bytes(ca_tag::kPendingCsr, r.pending_csr_der);
  nested.clear();
  encode_settings(r.settings, nested);
  w.bytes(ca_tag::kSettings, nested);
  w.time(ca_tag::kCreatedAt, r.created_at);
  w.u64(ca_tag::kRevision, r.revision);
  w.nonzero_u64(ca_tag::kOcspSignerCertificateId, r.ocsp_signer_certificate_id);
}

base::Result<ca::CaRecord> decode_ca(ByteView data, std::string_view table, ByteView key) {
  const Decoder d(table, key);
  SIGNET_ASSIGN_OR_RETURN(ByteView body, d.body(data));
  ca::CaRecord r;
  SIGNET_TRY(d.fields(body, [&](std::uint8_t tag, ByteView v) -> base::Result<void> {
    switch (tag) {
      case ca_tag::kName:
        r.name = Decoder::text(v);
        break;
      case ca_tag::kState: {
        SIGNET_ASSIGN_OR_RETURN(auto s, d.u8(tag, v, 1));
        r.state = s == 0 ? ca::CaState::kActive : ca::CaState::kAwaitingCertificate;
        break;
      }
      case ca_tag::kParent:
        r.parent = Decoder::text(v);
        break;
      case ca_tag::kExternalParent: {
        SIGNET_ASSIGN_OR_RETURN(auto b, d.u8(tag, v, 1));
        r.external_parent = b == 1;
        break;
      }
      case ca_tag::kKey: {
        SIGNET_ASSIGN_OR_RETURN(r.key, d.key_ref(v));
        break;
      }
      case ca_tag::kKeyAlgorithm: {
        auto algorithm = base::parse_key_algorithm(Decoder::text(v));
        if (!algorithm) return d.corrupt("unknown key algorithm '" + Decoder::text(v) + "'");
        r.key_algorithm = *algorithm;
        break;
      }
      case ca_tag::kSubject:
        r.subject = Decoder::text(v);
        break;
      case ca_tag::kCertificate:
        r.certificate_der.assign(v.begin(), v.end());
        break;
      case ca_tag::kPreviousCertificate:
        r.previous_certificates_der.emplace_back(v.begin(), v.end());
        break;
      case ca_tag::kExternalChain:
        r.external_chain_der.emplace_back(v.begin(), v.end());
        break;
      case ca_tag::kPendingCsr:
        r.pending_csr_der.assign(v.begin(), v.end());
        break;
      case ca_tag::kSettings: {
        SIGNET_ASSIGN_OR_RETURN(r.settings, decode_settings(d, v));
        break;
      }
      case ca_tag::kCreatedAt: {
        SIGNET_ASSIGN_OR_RETURN(r.created_at, d.time(tag, v));
        break;
      }
      case ca_tag::kRevision: {
        SIGNET_ASSIGN_OR_RETURN(r.revision, d.u64(tag, v));
        break;
      }
      case ca_tag::kOcspSignerCertificateId: {
        SIGNET_ASSIGN_OR_RETURN(r.ocsp_signer_certificate_id, d.u64(tag, v));
        break;
      }
      default:
        break;
    }
    return base::ok();
  }));
  if (r.name.empty()) return d.corrupt("the CA name is missing");
  return r;
}

void encode(const ca::AuditEvent& e, Bytes& out) {
  out.clear();
  out.reserve(e.actor.size() + e.action.size() + e.object.size() + e.detail.size() + 96);
  out.push_back(kFormatVersion);
  Writer w(out);
  w.time(audit_tag::kTime, e.time);
  w.text(audit_tag::kActor, e.actor);
  w.text(audit_tag::kAction, e.action);
  w.text(audit_tag::kObject, e.object);
  w.text(audit_tag::kDetail, e.detail);
  w.optional_bytes(audit_tag::kPreviousHash, e.previous_hash);
  w.optional_bytes(audit_tag::kHash, e.hash);
}

base::Result<ca::AuditEvent> decode_audit(ByteView data, std::string_view table, ByteView key) {
  const Decoder d(table, key);
  SIGNET_ASSIGN_OR_RETURN(ByteView body, d.body(data));
  ca::AuditEvent e;
  SIGNET_TRY(d.fields(body, [&](std::uint8_t tag, ByteView v) -> base::Result<void> {
    switch (tag) {
      case audit_tag::kTime: {
        SIGNET_ASSIGN_OR_RETURN(e.time, d.time(tag, v));
        break;
      }
      case audit_tag::kActor:
        e.actor = Decoder::text(v);
        break;
      case audit_tag::kAction:
        e.action = Decoder::text(v);
        break;
      case audit_tag::kObject:
        e.object = Decoder::text(v);
        break;
      case audit_tag::kDetail:
        e.detail = Decoder::text(v);
        break;
      case audit_tag::kPreviousHash:
        e.previous_hash.assign(v.begin(), v.end());
        break;
      case audit_tag::kHash:
        e.hash.assign(v.begin(), v.end());
        break;
      default:
        break;
    }
    return base::ok();
  }));
  return e;
}

}  // namespace signet::store::codec
