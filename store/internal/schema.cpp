#include "store/internal/schema.h"

#include <algorithm>
#include <chrono>

#include "pki/digest.h"

namespace signet::store::schema {

namespace {

using base::Error;
using base::ErrorCode;

char lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// "DNS:a.example" -> "a.example"; a value without a type prefix is itself.
std::string_view san_value(std::string_view san) {
  auto colon = san.find(':');
  return colon == std::string_view::npos ? san : san.substr(colon + 1);
}

}  // namespace

base::Result<Tables> open_tables(lmdb::Transaction& txn, bool create) {
  const unsigned c = create ? MDB_CREATE : 0;
  const unsigned dup = MDB_DUPSORT | MDB_DUPFIXED;  // values are 8-byte ids
  Tables t;
  SIGNET_ASSIGN_OR_RETURN(t.meta, txn.open_table("meta", c));
  SIGNET_ASSIGN_OR_RETURN(t.certs, txn.open_table("certs", c));
  SIGNET_ASSIGN_OR_RETURN(t.cert_by_ca_serial, txn.open_table("cert_by_ca_serial", c));
  SIGNET_ASSIGN_OR_RETURN(t.cert_by_serial, txn.open_table("cert_by_serial", c | dup));
  SIGNET_ASSIGN_OR_RETURN(t.cert_by_fingerprint, txn.open_table("cert_by_fingerprint", c));
  SIGNET_ASSIGN_OR_RETURN(t.cert_by_name, txn.open_table("cert_by_name", c | dup));
  SIGNET_ASSIGN_OR_RETURN(t.cert_by_not_after, txn.open_table("cert_by_not_after", c));
  SIGNET_ASSIGN_OR_RETURN(t.cert_by_not_before, txn.open_table("cert_by_not_before", c));
  SIGNET_ASSIGN_OR_RETURN(t.cert_by_cn, txn.open_table("cert_by_cn", c));
  SIGNET_ASSIGN_OR_RETURN(t.cert_by_ca, txn.open_table("cert_by_ca", c));
  SIGNET_ASSIGN_OR_RETURN(t.cert_by_profile, txn.open_table("cert_by_profile", c));
  SIGNET_ASSIGN_OR_RETURN(t.cert_by_dns, txn.open_table("cert_by_dns", c | dup));
  SIGNET_ASSIGN_OR_RETURN(t.cert_by_key, txn.open_table("cert_by_key", c | dup));
  SIGNET_ASSIGN_OR_RETURN(t.revocations, txn.open_table("revocations", c));
  SIGNET_ASSIGN_OR_RETURN(t.cas, txn.open_table("cas", c));
  SIGNET_ASSIGN_OR_RETURN(t.audit, txn.open_table("audit", c));
  SIGNET_ASSIGN_OR_RETURN(t.profiles, txn.open_table("profiles", c));
  SIGNET_ASSIGN_OR_RETURN(t.orders, txn.open_table("orders", c));
  SIGNET_ASSIGN_OR_RETURN(t.order_by_status, txn.open_table("order_by_status", c));
  SIGNET_ASSIGN_OR_RETURN(t.alerts, txn.open_table("alerts", c));
  SIGNET_ASSIGN_OR_RETURN(t.alert_open, txn.open_table("alert_open", c));
  SIGNET_ASSIGN_OR_RETURN(t.alert_by_dedupe, txn.open_table("alert_by_dedupe", c));
  SIGNET_ASSIGN_OR_RETURN(t.revoked, txn.open_table("revoked", c));
  SIGNET_ASSIGN_OR_RETURN(t.crls, txn.open_table("crls", c));
  SIGNET_ASSIGN_OR_RETURN(t.crl_der, txn.open_table("crl_der", c));
  SIGNET_ASSIGN_OR_RETURN(t.crl_numbers, txn.open_table("crl_numbers", c));
  SIGNET_ASSIGN_OR_RETURN(t.operators, txn.open_table("operators", c));
  SIGNET_ASSIGN_OR_RETURN(t.operator_certs, txn.open_table("operator_certs", c));
  SIGNET_ASSIGN_OR_RETURN(t.api_tokens, txn.open_table("api_tokens", c));
  SIGNET_ASSIGN_OR_RETURN(t.audit_checkpoints, txn.open_table("audit_checkpoints", c));
  return t;
}

base::Result<Tables> open_meta(lmdb::Transaction& txn) {
  Tables t;
  SIGNET_ASSIGN_OR_RETURN(t.meta, txn.open_table("meta", 0));
  return t;
}

base::Result<std::uint32_t> read_version(lmdb::Transaction& txn, const Tables& tables) {
  SIGNET_ASSIGN_OR_RETURN(auto value, txn.get(tables.meta, base::as_bytes(kSchemaVersionKey)));
  if (!value) return std::uint32_t{0};
  if (value->size() != 4) {
    return Error(ErrorCode::kStorageError,
                 "corrupt record in table 'meta' at key 'schema_version': " +
                     std::to_string(value->size()) + " bytes, expected 4");
  }
  const auto& v = *value;
  return (std::uint32_t{v[0]} << 24) | (std::uint32_t{v[1]} << 16) | (std::uint32_t{v[2]} << 8) |
         std::uint32_t{v[3]};
}

const std::vector<MigrationStep>& migration_steps() {
  // Append a step for every schema change; never edit a released one.
  static const std::vector<MigrationStep> steps = {
      {0, "initial layout: the version-1 tables (created by open_tables)",
       [](lmdb::Transaction&, const Tables&) { return base::ok(); }},
      {1,
       "certificate lifecycle: sort, filter and search indexes, revocation sequences, the "
       "audit hash chain, profiles, orders and alerts",
       migrate_to_v2},
      {2, "revocation services: the per-CA revoked table, stored CRLs and CRL numbers",
       migrate_to_v3},
      {3, "operators and API tokens: the operators, operator_certs and api_tokens tables",
       migrate_to_v4},
      {4, "signed audit checkpoints: the audit_checkpoints table", migrate_to_v5},
  };
  return steps;
}

base::Result<void> migrate(lmdb::Transaction& txn, const Tables& tables, std::uint32_t from,
                           const std::string& store_path) {
  if (from > kCurrentVersion) {
    return Error(ErrorCode::kNotSupported,
                 "the store at '" + store_path + "' has schema version " + std::to_string(from) +
                     ", newer than this build of Signet understands (up to " +
                     std::to_string(kCurrentVersion) + "); upgrade Signet to open it");
  }
  if (from == kCurrentVersion) return base::ok();
  for (std::uint32_t v = from; v < kCurrentVersion; ++v) {
    const auto& steps = migration_steps();
    auto step =
        std::find_if(steps.begin(), steps.end(), [v](const auto& s) { return s.from == v; });
    if (step == steps.end()) {
      return Error(ErrorCode::kInternal, "no migration from schema version " + std::to_string(v));
    }
    auto done = step->apply(txn, tables);
    if (!done) {
      return std::move(done).error().with_context("migrating the store at '" + store_path +
                                                  "' from schema version " + std::to_string(v) +
                                                  " (" + step->description + ")");
    }
  }
  const std::uint8_t version[4] = {static_cast<std::uint8_t>(kCurrentVersion >> 24),
                                   static_cast<std::uint8_t>(kCurrentVersion >> 16),
                                   static_cast<std::uint8_t>(kCurrentVersion >> 8),
                                   static_cast<std::uint8_t>(kCurrentVersion)};
  return txn.put(tables.meta, base::as_bytes(kSchemaVersionKey), version);
}

std::int64_t floor_seconds(base::TimePoint t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

NotAfterKey not_after_key(base::TimePoint not_after, std::uint64_t id) {
  NotAfterKey key;
  const auto biased = static_cast<std::uint64_t>(floor_seconds(not_after)) ^ (1ull << 63);
  lmdb::put_be64(key.data(), biased);
  lmdb::put_be64(key.data() + 8, id);
  return key;
}

std::int64_t not_after_seconds(base::ByteView key) {
  return static_cast<std::int64_t>(lmdb::get_be64(key.data()) ^ (1ull << 63));
}

SmallKey ca_serial_key(std::string_view ca_name, const pki::SerialNumber& serial) {
  SmallKey key;
  const auto& magnitude = serial.magnitude();
  // validate() keeps ca_name <= 255 and the magnitude <= 20 bytes.
  const std::size_t name_size = std::min(ca_name.size(), kMaxCaNameLength);
  std::copy_n(ca_name.data(), name_size, key.data.data());
  key.data[name_size] = 0x00;
  std::copy(magnitude.begin(), magnitude.end(), key.data.begin() + name_size + 1);
  key.size = name_size + 1 + magnitude.size();
  return key;
}

SerialKey serial_key(const pki::SerialNumber& serial) {
  SerialKey key{};
  const auto& magnitude = serial.magnitude();
  const std::size_t n = std::min(magnitude.size(), key.size());  // validate() keeps it <= 20
  std::copy_n(magnitude.end() - static_cast<std::ptrdiff_t>(n), n, key.end() - n);
  return key;
}

namespace {

// The prefix of a per-CA key: ca name + 0x00 (the name cut at kMaxCaNameLength, which
// validate_ca_name enforces anyway). Returns where the suffix starts.
std::size_t put_ca_prefix(std::string_view ca_name, SmallKey& key) {
  const std::size_t name_size = std::min(ca_name.size(), kMaxCaNameLength);
  std::copy_n(ca_name.data(), name_size, key.data.data());
  key.data[name_size] = 0x00;
  return name_size + 1;
}

void put_ticks(std::uint8_t* out, base::TimePoint t) {
  lmdb::put_be64(out, static_cast<std::uint64_t>(t.time_since_epoch().count()));
}
base::TimePoint get_ticks(const std::uint8_t* in) {
  return base::TimePoint(base::TimePoint::duration(static_cast<std::int64_t>(lmdb::get_be64(in))));
}

constexpr std::uint8_t kHasInvalidityDate = 0x01;

}  // namespace

SmallKey revoked_key(std::string_view ca_name, base::ByteView magnitude) {
  SmallKey key;
  const std::size_t at = put_ca_prefix(ca_name, key);
  constexpr std::size_t kSerialSize = std::tuple_size_v<SerialKey>;
  const std::size_t n = std::min(magnitude.size(), kSerialSize);  // validate() keeps it <= 20
  std::fill_n(key.data.begin() + at, kSerialSize - n, 0);
  std::copy_n(magnitude.end() - static_cast<std::ptrdiff_t>(n), n,
              key.data.begin() + at + (kSerialSize - n));
  key.size = at + kSerialSize;
  return key;
}

SmallKey revoked_key(std::string_view ca_name, const pki::SerialNumber& serial) {
  return revoked_key(ca_name, serial.magnitude());
}

base::ByteView revoked_key_serial(base::ByteView key, std::size_t prefix_size) {
  if (key.size() != prefix_size + std::tuple_size_v<SerialKey>) return {};
  auto serial = key.subspan(prefix_size);
  std::size_t zeros = 0;
  while (zeros < serial.size() && serial[zeros] == 0) ++zeros;
  return serial.subspan(zeros);
}

RevokedValue revoked_value(const ca::CertificateRecord& record) {
  RevokedValue value;
  const auto& revocation = *record.revocation;
  std::uint8_t* out = value.data.data();
  put_ticks(out, revocation.revoked_at);
  put_ticks(out + 8, record.not_after);
  lmdb::put_be64(out + 16, revocation.sequence);
  out[24] = static_cast<std::uint8_t>(revocation.reason);
  out[25] = revocation.invalidity_date ? kHasInvalidityDate : 0;
  value.size = kRevokedValueSize;
  if (revocation.invalidity_date) {
    put_ticks(out + 26, *revocation.invalidity_date);
    value.size = kRevokedValueWithDateSize;
  }
  return value;
}

bool decode_revoked_value(base::ByteView value, ca::RevokedEntry& entry) {
  if (value.size() != kRevokedValueSize && value.size() != kRevokedValueWithDateSize) {
    return false;
  }
  const std::uint8_t* in = value.data();
  const bool has_date = (in[25] & kHasInvalidityDate) != 0;
  if ((in[25] & ~kHasInvalidityDate) != 0 || in[24] > 10 ||
      has_date != (value.size() == kRevokedValueWithDateSize)) {
    return false;
  }
  entry.revoked_at = get_ticks(in);
  entry.not_after = get_ticks(in + 8);
  entry.sequence = lmdb::get_be64(in + 16);
  entry.reason = in[24];
  if (has_date) {
    entry.invalidity_date = get_ticks(in + 26);
  } else {
    entry.invalidity_date.reset();
  }
  return true;
}

SmallKey crl_key(std::string_view ca_name, std::uint64_t number) {
  SmallKey key;
  const std::size_t at = put_ca_prefix(ca_name, key);
  lmdb::put_be64(key.data.data() + at, number);
  key.size = at + 8;
  return key;
}

base::Bytes cn_sort_key(std::string_view common_name, std::uint64_t id) {
  const std::size_t n = std::min(common_name.size(), kMaxCnSortBytes);
  base::Bytes key(n + 1 + 8);
  std::transform(common_name.begin(), common_name.begin() + static_cast<std::ptrdiff_t>(n),
                 key.begin(), [](char c) { return static_cast<std::uint8_t>(lower_ascii(c)); });
  key[n] = 0x00;
  lmdb::put_be64(key.data() + n + 1, id);
  return key;
}

base::Bytes prefixed_key(std::string_view prefix, base::ByteView suffix) {
  base::Bytes key;
  key.reserve(prefix.size() + 1 + suffix.size());
  key.insert(key.end(), prefix.begin(), prefix.end());
  key.push_back(0x00);
  key.insert(key.end(), suffix.begin(), suffix.end());
  return key;
}

std::string reversed_dns_key(std::string_view name) {
  if (name.empty() || name.size() > 253) return {};
  std::vector<std::string_view> labels;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = name.find('.', start);
    auto label = name.substr(start, dot == std::string_view::npos ? name.npos : dot - start);
    if (label.empty()) return {};
    for (char c : label) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '*';
      if (!ok) return {};
    }
    labels.push_back(label);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (labels.size() < 2) return {};
  std::string key;
  key.reserve(name.size());
  for (auto it = labels.rbegin(); it != labels.rend(); ++it) {
    if (!key.empty()) key.push_back('.');
    for (char c : *it) key.push_back(lower_ascii(c));
  }
  return key;
}

std::vector<std::string> dns_keys(const ca::CertificateRecord& record) {
  std::vector<std::string> keys;
  if (auto cn = reversed_dns_key(record.common_name); !cn.empty()) keys.push_back(std::move(cn));
  for (const auto& san : record.subject_alt_names) {
    if (san.size() < 4 || lower_ascii(san[0]) != 'd' || lower_ascii(san[1]) != 'n' ||
        lower_ascii(san[2]) != 's' || san[3] != ':') {
      continue;
    }
    if (auto key = reversed_dns_key(san_value(san)); !key.empty()) keys.push_back(std::move(key));
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

namespace {

// Keys longer than kMaxLiteralNameKey become kHashedKeyMarker + SHA-256.
base::Bytes fit_key(base::Bytes key) {
  if (key.size() <= kMaxLiteralNameKey) return key;
  const auto digest = pki::sha256(key);
  base::Bytes hashed{kHashedKeyMarker};
  hashed.insert(hashed.end(), digest.begin(), digest.end());
  return hashed;
}

}  // namespace

base::Bytes key_ref_key(const base::KeyRef& key) {
  return fit_key(prefixed_key(key.token_serial, key.id));
}

std::optional<base::Bytes> key_location_key(const ca::CertificateRecord& record) {
  if (!record.key_location) return std::nullopt;
  return key_ref_key(*record.key_location);
}

base::Bytes dedupe_index_key(std::string_view dedupe_key) {
  return fit_key(base::Bytes(dedupe_key.begin(), dedupe_key.end()));
}

std::uint8_t order_status_byte(ca::OrderStatus status) {
  switch (status) {
    case ca::OrderStatus::kPending:
      return 0;
    case ca::OrderStatus::kProcessing:
      return 1;
    case ca::OrderStatus::kComplete:
      return 2;
    case ca::OrderStatus::kFailed:
      return 3;
  }
  return 3;
}

std::array<std::uint8_t, 9> order_status_key(ca::OrderStatus status, std::uint64_t id) {
  std::array<std::uint8_t, 9> key;
  key[0] = order_status_byte(status);
  lmdb::put_be64(key.data() + 1, id);
  return key;
}

bool matches_search(const ca::CertificateRecord& record, std::string_view search) {
  if (search.empty()) return true;
  std::string wanted(search.size(), '\0');
  std::transform(search.begin(), search.end(), wanted.begin(), lower_ascii);
  auto lowered = [](std::string_view v) {
    std::string out(v.size(), '\0');
    std::transform(v.begin(), v.end(), out.begin(), lower_ascii);
    return out;
  };
  if (wanted.starts_with("*.")) {
    const std::string_view suffix = std::string_view(wanted).substr(1);  // ".example.com"
    auto under = [&](std::string_view name) {
      return name.size() > suffix.size() && lowered(name).ends_with(suffix);
    };
    if (under(record.common_name)) return true;
    return std::any_of(record.subject_alt_names.begin(), record.subject_alt_names.end(),
                       [&](const std::string& san) {
                         return lowered(san.substr(0, 4)) == "dns:" && under(san_value(san));
                       });
  }
  if (lowered(record.common_name).starts_with(wanted)) return true;
  return std::any_of(
      record.subject_alt_names.begin(), record.subject_alt_names.end(),
      [&](const std::string& san) { return lowered(san_value(san)).starts_with(wanted); });
}

std::string name_key(std::string_view value) {
  std::string key(value.size(), '\0');
  std::transform(value.begin(), value.end(), key.begin(), lower_ascii);
  if (key.size() <= kMaxLiteralNameKey) return key;
  const auto digest = pki::sha256(base::as_bytes(key));
  std::string hashed(1, static_cast<char>(kHashedKeyMarker));
  hashed.append(base::as_chars(digest));
  return hashed;
}

std::vector<std::string> name_keys(const ca::CertificateRecord& record) {
  std::vector<std::string> keys;
  keys.reserve(record.subject_alt_names.size() + 1);
  if (!record.common_name.empty()) keys.push_back(name_key(record.common_name));
  for (const auto& san : record.subject_alt_names) {
    auto value = san_value(san);
    if (!value.empty()) keys.push_back(name_key(value));
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

bool has_name(const ca::CertificateRecord& record, std::string_view name) {
  auto equal = [&](std::string_view candidate) {
    return candidate.size() == name.size() &&
           std::equal(candidate.begin(), candidate.end(), name.begin(),
                      [](char a, char b) { return lower_ascii(a) == lower_ascii(b); });
  };
  if (equal(record.common_name)) return true;
  return std::any_of(record.subject_alt_names.begin(), record.subject_alt_names.end(),
                     [&](const std::string& san) { return equal(san_value(san)); });
}

base::Result<void> validate_ca_name(std::string_view name) {
  if (name.size() > kMaxCaNameLength) {
    return Error(ErrorCode::kInvalidArgument, "the CA name '" + std::string(name.substr(0, 40)) +
                                                  "...' is longer than " +
                                                  std::to_string(kMaxCaNameLength) + " bytes");
  }
  if (name.find('\0') != std::string_view::npos) {
    return Error(ErrorCode::kInvalidArgument, "a CA name must not contain a NUL byte");
  }
  return base::ok();
}

base::Result<void> validate_operator(const ca::OperatorRecord& record) {
  SIGNET_TRY(ca::validate_operator_name(record.name));
  const std::size_t size = record.certificate_fingerprint.size();
  if (size != 0 && size != 32) {
    return Error(ErrorCode::kInvalidArgument, "the certificate fingerprint of operator '" +
                                                  record.name + "' has " + std::to_string(size) +
                                                  " bytes; a SHA-256 fingerprint has 32");
  }
  return base::ok();
}

bool is_api_token_id(std::string_view id) {
  return id.size() == 16 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

base::Result<void> validate_api_token(const ca::ApiTokenRecord& record) {
  if (!is_api_token_id(record.id)) {
    std::string shown;
    for (char c : std::string_view(record.id).substr(0, 40)) {
      shown.push_back(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return Error(ErrorCode::kInvalidArgument,
                 "the API token id '" + shown + "' is not 16 lower-case hex characters");
  }
  if (record.secret_hash.size() != 32) {
    return Error(ErrorCode::kInvalidArgument,
                 "the secret hash of API token '" + record.id + "' has " +
                     std::to_string(record.secret_hash.size()) + " bytes; a SHA-256 hash has 32");
  }
  return base::ok();
}

base::Result<void> validate_revocation(const ca::Revocation& revocation) {
  if (revocation.reason < 0 || revocation.reason > 10) {
    return Error(ErrorCode::kInvalidArgument, "revocation reason " +
                                                  std::to_string(revocation.reason) +
                                                  " is not an RFC 5280 CRLReason code (0..10)");
  }
  return base::ok();
}

base::Result<void> validate(const ca::CertificateRecord& record) {
  SIGNET_TRY(validate_ca_name(record.ca_name));
  if (record.revocation) SIGNET_TRY(validate_revocation(*record.revocation));
  if (record.profile.size() > kMaxCaNameLength || record.profile.find('\0') != std::string::npos) {
    return Error(ErrorCode::kInvalidArgument,
                 "the certificate record's profile name '" + record.profile.substr(0, 40) +
                     "' must be at most " + std::to_string(kMaxCaNameLength) +
                     " bytes without a NUL byte");
  }
  if (record.serial.magnitude().empty() || record.serial.magnitude().size() > 20) {
    return Error(ErrorCode::kInvalidArgument,
                 "the certificate record has no valid serial number (1 to 20 octets)");
  }
  if (record.fingerprint_sha256.size() != 32) {
    return Error(ErrorCode::kInvalidArgument, "the certificate record's SHA-256 fingerprint has " +
                                                  std::to_string(record.fingerprint_sha256.size()) +
                                                  " bytes, expected 32");
  }
  return base::ok();
}

}  // namespace signet::store::schema
