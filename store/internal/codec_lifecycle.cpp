// The encodings of the lifecycle records: RA profiles, orders and alerts (see codec.h).
#include <array>

#include "store/internal/codec.h"
#include "store/internal/tlv.h"

namespace signet::store::codec {

namespace {

using base::Bytes;
using base::ByteView;
using tlv::Decoder;
using tlv::encode_key_ref;
using tlv::Writer;

// Field tags. Never reuse or renumber a tag: records on disk keep them forever.
namespace profile_tag {
constexpr std::uint8_t kCaName = 1, kName = 2, kDescription = 3, kEnabled = 4, kVersion = 5,
                       kKeyAlgorithms = 6, kValidity = 7, kKeyUsage = 8, kExtendedKeyUsage = 9,
                       kSubject = 10, kSans = 11, kCreatedAt = 12, kUpdatedAt = 13, kUpdatedBy = 14;
}
namespace rule_tag {  // inside the nested rule fields; kMode is the same tag in each
constexpr std::uint8_t kMode = 15;
constexpr std::uint8_t kAllowedAlgorithm = 1;                    // key_algorithms
constexpr std::uint8_t kDefaultDays = 1, kMaxDays = 2;           // validity
constexpr std::uint8_t kRequired = 1, kAllowed = 2, kFixed = 3;  // subject
constexpr std::uint8_t kFixedType = 1, kFixedValue = 2;          // subject.fixed
constexpr std::uint8_t kDnsSuffix = 1, kAllowIp = 2, kAllowEmail = 3, kAllowUri = 4, kMaxCount = 5,
                       kUpnRealm = 6;  // sans
}  // namespace rule_tag
namespace order_tag {
constexpr std::uint8_t kKind = 1, kStatus = 2, kCommonName = 3, kCaName = 4, kProfile = 5,
                       kProfileVersion = 6, kKeySource = 7, kRequestedBy = 8, kCreatedAt = 9,
                       kUpdatedAt = 10, kCompletedAt = 11, kCertificateId = 12,
                       kTargetCertificateId = 13, kWarning = 14, kErrorCode = 15,
                       kErrorMessage = 16, kParameters = 17, kGeneratedKey = 18, kWorker = 19,
                       kResubmittedFrom = 20, kRevision = 21;
}
namespace alert_tag {
constexpr std::uint8_t kRaisedAt = 1, kKind = 2, kObject = 3, kMessage = 4, kDedupeKey = 5,
                       kAcknowledged = 6, kAcknowledgedAt = 7, kAcknowledgedBy = 8;
}

// Explicit byte mappings of the enums (the enumerators' order is not the format).
constexpr std::array kOrderKinds = {ca::OrderKind::kIssue, ca::OrderKind::kRenew,
                                    ca::OrderKind::kRekey, ca::OrderKind::kReissue,
                                    ca::OrderKind::kRevoke};
constexpr std::array kOrderStatuses = {ca::OrderStatus::kPending, ca::OrderStatus::kProcessing,
                                       ca::OrderStatus::kComplete, ca::OrderStatus::kFailed};
constexpr std::array kKeySources = {ca::KeySourceKind::kNone,     ca::KeySourceKind::kCsr,
                                    ca::KeySourceKind::kTokenKey, ca::KeySourceKind::kKeyOnToken,
                                    ca::KeySourceKind::kLocalKey, ca::KeySourceKind::kReuse};

template <typename Enum, std::size_t N>
std::uint8_t to_byte(const std::array<Enum, N>& mapping, Enum value) {
  for (std::size_t i = 0; i < N; ++i) {
    if (mapping[i] == value) return static_cast<std::uint8_t>(i);
  }
  return 0;
}

template <typename Enum, std::size_t N>
base::Result<Enum> from_byte(const Decoder& d, const std::array<Enum, N>& mapping, std::uint8_t tag,
                             ByteView v) {
  SIGNET_ASSIGN_OR_RETURN(auto b, d.u8(tag, v, static_cast<std::uint8_t>(N - 1)));
  return mapping[b];
}

std::uint8_t mode_byte(ca::RuleMode mode) { return mode == ca::RuleMode::kHardFail ? 0 : 1; }

base::Result<ca::RuleMode> mode_from(const Decoder& d, std::uint8_t tag, ByteView v) {
  SIGNET_ASSIGN_OR_RETURN(auto b, d.u8(tag, v, 1));
  return b == 0 ? ca::RuleMode::kHardFail : ca::RuleMode::kSoftFail;
}

base::Result<int> days_from(const Decoder& d, std::uint8_t tag, ByteView v) {
  SIGNET_ASSIGN_OR_RETURN(auto days, d.i64(tag, v));
  if (days < -1'000'000 || days > 1'000'000) return d.corrupt("a day count is out of range");
  return static_cast<int>(days);
}

// Repeated text fields are written even when empty, so that an empty entry survives.
void texts(Writer& w, std::uint8_t tag, const std::vector<std::string>& values) {
  for (const auto& value : values) w.bytes(tag, base::as_bytes(value));
}

void encode_rules(const ca::Profile& p, Writer& w) {
  Bytes nested;
  {
    Writer n(nested);
    for (auto algorithm : p.key_algorithms.allowed) {
      n.bytes(rule_tag::kAllowedAlgorithm, base::as_bytes(base::to_string(algorithm)));
    }
    n.u8(rule_tag::kMode, mode_byte(p.key_algorithms.mode));
    w.bytes(profile_tag::kKeyAlgorithms, nested);
  }
  nested.clear();
  {
    Writer n(nested);
    n.i64(rule_tag::kDefaultDays, p.validity.default_days);
    n.i64(rule_tag::kMaxDays, p.validity.max_days);
    n.u8(rule_tag::kMode, mode_byte(p.validity.mode));
    w.bytes(profile_tag::kValidity, nested);
  }
  nested.clear();
  {
    Writer n(nested);
    texts(n, rule_tag::kRequired, p.subject.required);
    texts(n, rule_tag::kAllowed, p.subject.allowed);
    for (const auto& [type, value] : p.subject.fixed) {
      Bytes pair;
      Writer f(pair);
      f.bytes(rule_tag::kFixedType, base::as_bytes(type));
      f.bytes(rule_tag::kFixedValue, base::as_bytes(value));
      n.bytes(rule_tag::kFixed, pair);
    }
    n.u8(rule_tag::kMode, mode_byte(p.subject.mode));
    w.bytes(profile_tag::kSubject, nested);
  }
  nested.clear();
  {
    Writer n(nested);
    texts(n, rule_tag::kDnsSuffix, p.sans.dns_suffixes);
    n.u8(rule_tag::kAllowIp, p.sans.allow_ip ? 1 : 0);
    n.u8(rule_tag::kAllowEmail, p.sans.allow_email ? 1 : 0);
    texts(n, rule_tag::kUpnRealm, p.sans.upn_realms);
    n.u8(rule_tag::kAllowUri, p.sans.allow_uri ? 1 : 0);
    n.u64(rule_tag::kMaxCount, p.sans.max_count);
    n.u8(rule_tag::kMode, mode_byte(p.sans.mode));
    w.bytes(profile_tag::kSans, nested);
  }
}

base::Result<void> decode_key_algorithms(const Decoder& d, ByteView data, ca::Profile& p) {
  p.key_algorithms.allowed.clear();
  return d.fields(data, [&](std::uint8_t t, ByteView v) -> base::Result<void> {
    if (t == rule_tag::kAllowedAlgorithm) {
      auto algorithm = base::parse_key_algorithm(Decoder::text(v));
      if (!algorithm) return d.corrupt("unknown key algorithm '" + Decoder::text(v) + "'");
      p.key_algorithms.allowed.push_back(*algorithm);
    } else if (t == rule_tag::kMode) {
      SIGNET_ASSIGN_OR_RETURN(p.key_algorithms.mode, mode_from(d, t, v));
    }
    return base::ok();
  });
}

base::Result<void> decode_validity(const Decoder& d, ByteView data, ca::Profile& p) {
  return d.fields(data, [&](std::uint8_t t, ByteView v) -> base::Result<void> {
    if (t == rule_tag::kDefaultDays) {
      SIGNET_ASSIGN_OR_RETURN(p.validity.default_days, days_from(d, t, v));
    } else if (t == rule_tag::kMaxDays) {
      SIGNET_ASSIGN_OR_RETURN(p.validity.max_days, days_from(d, t, v));
    } else if (t == rule_tag::kMode) {
      SIGNET_ASSIGN_OR_RETURN(p.validity.mode, mode_from(d, t, v));
    }
    return base::ok();
  });
}

base::Result<void> decode_subject(const Decoder& d, ByteView data, ca::Profile& p) {
  p.subject = {};
  return d.fields(data, [&](std::uint8_t t, ByteView v) -> base::Result<void> {
    if (t == rule_tag::kRequired) p.subject.required.push_back(Decoder::text(v));
    if (t == rule_tag::kAllowed) p.subject.allowed.push_back(Decoder::text(v));
    if (t == rule_tag::kMode) {
      SIGNET_ASSIGN_OR_RETURN(p.subject.mode, mode_from(d, t, v));
    }
    if (t == rule_tag::kFixed) {
      std::string type, value;
      SIGNET_TRY(d.fields(v, [&](std::uint8_t ft, ByteView fv) -> base::Result<void> {
        if (ft == rule_tag::kFixedType) type = Decoder::text(fv);
        if (ft == rule_tag::kFixedValue) value = Decoder::text(fv);
        return base::ok();
      }));
      p.subject.fixed[type] = value;
    }
    return base::ok();
  });
}

base::Result<void> decode_sans(const Decoder& d, ByteView data, ca::Profile& p) {
  p.sans.dns_suffixes.clear();
  p.sans.upn_realms.clear();
  return d.fields(data, [&](std::uint8_t t, ByteView v) -> base::Result<void> {
    switch (t) {
      case rule_tag::kDnsSuffix:
        p.sans.dns_suffixes.push_back(Decoder::text(v));
        break;
      case rule_tag::kUpnRealm:
        p.sans.upn_realms.push_back(Decoder::text(v));
        break;
      case rule_tag::kAllowIp: {
        SIGNET_ASSIGN_OR_RETURN(auto b, d.u8(t, v, 1));
        p.sans.allow_ip = b == 1;
        break;
      }
      case rule_tag::kAllowEmail: {
        SIGNET_ASSIGN_OR_RETURN(auto b, d.u8(t, v, 1));
        p.sans.allow_email = b == 1;
        break;
      }
      case rule_tag::kAllowUri: {
        SIGNET_ASSIGN_OR_RETURN(auto b, d.u8(t, v, 1));
        p.sans.allow_uri = b == 1;
        break;
      }
      case rule_tag::kMaxCount: {
        SIGNET_ASSIGN_OR_RETURN(auto n, d.u64(t, v));
        p.sans.max_count = static_cast<std::size_t>(n);
        break;
      }
      case rule_tag::kMode: {
        SIGNET_ASSIGN_OR_RETURN(p.sans.mode, mode_from(d, t, v));
        break;
      }
      default:
        break;
    }
    return base::ok();
  });
}

}  // namespace

void encode(const ca::Profile& p, Bytes& out) {
  out.clear();
  out.push_back(kFormatVersion);
  Writer w(out);
  w.text(profile_tag::kCaName, p.ca_name);
  w.text(profile_tag::kName, p.name);
  w.text(profile_tag::kDescription, p.description);
  w.u8(profile_tag::kEnabled, p.enabled ? 1 : 0);
  w.u64(profile_tag::kVersion, p.version);
  encode_rules(p, w);
  texts(w, profile_tag::kKeyUsage, p.key_usage);
  texts(w, profile_tag::kExtendedKeyUsage, p.extended_key_usage);
  w.time(profile_tag::kCreatedAt, p.created_at);
  w.time(profile_tag::kUpdatedAt, p.updated_at);
  w.text(profile_tag::kUpdatedBy, p.updated_by);
}

base::Result<ca::Profile> decode_profile(ByteView data, std::string_view table, ByteView key) {
  const Decoder d(table, key);
  SIGNET_ASSIGN_OR_RETURN(ByteView body, d.body(data));
  ca::Profile p;
  SIGNET_TRY(d.fields(body, [&](std::uint8_t tag, ByteView v) -> base::Result<void> {
    switch (tag) {
      case profile_tag::kCaName:
        p.ca_name = Decoder::text(v);
        break;
      case profile_tag::kName:
        p.name = Decoder::text(v);
        break;
      case profile_tag::kDescription:
        p.description = Decoder::text(v);
        break;
      case profile_tag::kEnabled: {
        SIGNET_ASSIGN_OR_RETURN(auto b, d.u8(tag, v, 1));
        p.enabled = b == 1;
        break;
      }
      case profile_tag::kVersion: {
        SIGNET_ASSIGN_OR_RETURN(p.version, d.u64(tag, v));
        break;
      }
      case profile_tag::kKeyAlgorithms:
        return decode_key_algorithms(d, v, p);
      case profile_tag::kValidity:
        return decode_validity(d, v, p);
      case profile_tag::kSubject:
        return decode_subject(d, v, p);
      case profile_tag::kSans:
        return decode_sans(d, v, p);
      case profile_tag::kKeyUsage:
        p.key_usage.push_back(Decoder::text(v));
        break;
      case profile_tag::kExtendedKeyUsage:
        p.extended_key_usage.push_back(Decoder::text(v));
        break;
      case profile_tag::kCreatedAt: {
        SIGNET_ASSIGN_OR_RETURN(p.created_at, d.time(tag, v));
        break;
      }
      case profile_tag::kUpdatedAt: {
        SIGNET_ASSIGN_OR_RETURN(p.updated_at, d.time(tag, v));
        break;
      }
      case profile_tag::kUpdatedBy:
        p.updated_by = Decoder::text(v);
        break;
      default:
        break;  // a field from a newer build
    }
    return base::ok();
  }));
  if (p.name.empty()) return d.corrupt("the profile name is missing");
  return p;
}

void encode(const ca::Order& o, Bytes& out) {
  out.clear();
  out.reserve(o.parameters.size() + o.error_message.size() + 160);
  out.push_back(kFormatVersion);
  Writer w(out);
  w.u8(order_tag::kKind, to_byte(kOrderKinds, o.kind));
  w.u8(order_tag::kStatus, to_byte(kOrderStatuses, o.status));
  w.text(order_tag::kCommonName, o.common_name);
  w.text(order_tag::kCaName, o.ca_name);
  w.text(order_tag::kProfile, o.profile);
  w.nonzero_u64(order_tag::kProfileVersion, o.profile_version);
  w.u8(order_tag::kKeySource, to_byte(kKeySources, o.key_source));
  w.text(order_tag::kRequestedBy, o.requested_by);
  w.time(order_tag::kCreatedAt, o.created_at);
  w.time(order_tag::kUpdatedAt, o.updated_at);
  if (o.completed_at) w.time(order_tag::kCompletedAt, *o.completed_at);
  w.nonzero_u64(order_tag::kCertificateId, o.certificate_id);
  w.nonzero_u64(order_tag::kTargetCertificateId, o.target_certificate_id);
  texts(w, order_tag::kWarning, o.warnings);
  w.text(order_tag::kErrorCode, o.error_code);
  w.text(order_tag::kErrorMessage, o.error_message);
  w.text(order_tag::kParameters, o.parameters);
  if (o.generated_key) {
    Bytes nested;
    encode_key_ref(*o.generated_key, nested);
    w.bytes(order_tag::kGeneratedKey, nested);
  }
  w.text(order_tag::kWorker, o.worker);
  w.nonzero_u64(order_tag::kResubmittedFrom, o.resubmitted_from);
  w.u64(order_tag::kRevision, o.revision);
}

base::Result<ca::Order> decode_order(ByteView data, std::string_view table, ByteView key) {
  const Decoder d(table, key);
  SIGNET_ASSIGN_OR_RETURN(ByteView body, d.body(data));
  ca::Order o;
  SIGNET_TRY(d.fields(body, [&](std::uint8_t tag, ByteView v) -> base::Result<void> {
    switch (tag) {
      case order_tag::kKind: {
        SIGNET_ASSIGN_OR_RETURN(o.kind, from_byte(d, kOrderKinds, tag, v));
        break;
      }
      case order_tag::kStatus: {
        SIGNET_ASSIGN_OR_RETURN(o.status, from_byte(d, kOrderStatuses, tag, v));
        break;
      }
      case order_tag::kCommonName:
        o.common_name = Decoder::text(v);
        break;
      case order_tag::kCaName:
        o.ca_name = Decoder::text(v);
        break;
      case order_tag::kProfile:
        o.profile = Decoder::text(v);
        break;
      case order_tag::kProfileVersion: {
        SIGNET_ASSIGN_OR_RETURN(o.profile_version, d.u64(tag, v));
        break;
      }
      case order_tag::kKeySource: {
        SIGNET_ASSIGN_OR_RETURN(o.key_source, from_byte(d, kKeySources, tag, v));
        break;
      }
      case order_tag::kRequestedBy:
        o.requested_by = Decoder::text(v);
        break;
      case order_tag::kCreatedAt: {
        SIGNET_ASSIGN_OR_RETURN(o.created_at, d.time(tag, v));
        break;
      }
      case order_tag::kUpdatedAt: {
        SIGNET_ASSIGN_OR_RETURN(o.updated_at, d.time(tag, v));
        break;
      }
      case order_tag::kCompletedAt: {
        SIGNET_ASSIGN_OR_RETURN(o.completed_at, d.time(tag, v));
        break;
      }
      case order_tag::kCertificateId: {
        SIGNET_ASSIGN_OR_RETURN(o.certificate_id, d.u64(tag, v));
        break;
      }
      case order_tag::kTargetCertificateId: {
        SIGNET_ASSIGN_OR_RETURN(o.target_certificate_id, d.u64(tag, v));
        break;
      }
      case order_tag::kWarning:
        o.warnings.push_back(Decoder::text(v));
        break;
      case order_tag::kErrorCode:
        o.error_code = Decoder::text(v);
        break;
      case order_tag::kErrorMessage:
        o.error_message = Decoder::text(v);
        break;
      case order_tag::kParameters:
        o.parameters = Decoder::text(v);
        break;
      case order_tag::kGeneratedKey: {
        SIGNET_ASSIGN_OR_RETURN(o.generated_key, d.key_ref(v));
        break;
      }
      case order_tag::kWorker:
        o.worker = Decoder::text(v);
        break;
      case order_tag::kResubmittedFrom: {
        SIGNET_ASSIGN_OR_RETURN(o.resubmitted_from, d.u64(tag, v));
        break;
      }
      case order_tag::kRevision: {
        SIGNET_ASSIGN_OR_RETURN(o.revision, d.u64(tag, v));
        break;
      }
      default:
        break;
    }
    return base::ok();
  }));
  return o;
}

void encode(const ca::Alert& a, Bytes& out) {
  out.clear();
  out.push_back(kFormatVersion);
  Writer w(out);
  w.time(alert_tag::kRaisedAt, a.raised_at);
  w.text(alert_tag::kKind, a.kind);
  w.text(alert_tag::kObject, a.object);
  w.text(alert_tag::kMessage, a.message);
  w.text(alert_tag::kDedupeKey, a.dedupe_key);
  w.u8(alert_tag::kAcknowledged, a.acknowledged ? 1 : 0);
  if (a.acknowledged_at) w.time(alert_tag::kAcknowledgedAt, *a.acknowledged_at);
  w.text(alert_tag::kAcknowledgedBy, a.acknowledged_by);
}

base::Result<ca::Alert> decode_alert(ByteView data, std::string_view table, ByteView key) {
  const Decoder d(table, key);
  SIGNET_ASSIGN_OR_RETURN(ByteView body, d.body(data));
  ca::Alert a;
  SIGNET_TRY(d.fields(body, [&](std::uint8_t tag, ByteView v) -> base::Result<void> {
    switch (tag) {
      case alert_tag::kRaisedAt: {
        SIGNET_ASSIGN_OR_RETURN(a.raised_at, d.time(tag, v));
        break;
      }
      case alert_tag::kKind:
        a.kind = Decoder::text(v);
        break;
      case alert_tag::kObject:
        a.object = Decoder::text(v);
        break;
      case alert_tag::kMessage:
        a.message = Decoder::text(v);
        break;
      case alert_tag::kDedupeKey:
        a.dedupe_key = Decoder::text(v);
        break;
      case alert_tag::kAcknowledged: {
        SIGNET_ASSIGN_OR_RETURN(auto b, d.u8(tag, v, 1));
        a.acknowledged = b == 1;
        break;
      }
      case alert_tag::kAcknowledgedAt: {
        SIGNET_ASSIGN_OR_RETURN(a.acknowledged_at, d.time(tag, v));
        break;
      }
      case alert_tag::kAcknowledgedBy:
        a.acknowledged_by = Decoder::text(v);
        break;
      default:
        break;
    }
    return base::ok();
  }));
  return a;
}

}  // namespace signet::store::codec
