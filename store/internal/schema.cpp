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
  SIGNET_ASSIGN_OR_RETURN(t.cas, txn.open_table("cas", c));
  SIGNET_ASSIGN_OR_RETURN(t.audit, txn.open_table("audit", c));
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

base::Result<void> validate(const ca::CertificateRecord& record) {
  SIGNET_TRY(validate_ca_name(record.ca_name));
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
