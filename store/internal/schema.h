// The store's layout: its named tables, how their keys are built, and the schema version with
// its migration steps.
//
//   meta                 "schema_version" -> 4-byte big-endian version
//   certs                8-byte big-endian id -> codec-encoded CertificateRecord
//   cert_by_ca_serial    ca name + 0x00 + serial magnitude -> id     (unique: one serial per CA)
//   cert_by_serial       serial magnitude -> id                      (dupsort: any CA)
//   cert_by_fingerprint  32-byte SHA-256 -> id                       (unique)
//   cert_by_name         lower-cased CN or SAN value -> id           (dupsort; hashed when long)
//   cert_by_not_after    8-byte biased big-endian seconds + 8-byte id -> empty
//   cas                  CA name -> codec-encoded CaRecord
//   audit                8-byte big-endian sequence -> codec-encoded AuditEvent
//
// Discovered certificates (empty CA name) have no cert_by_ca_serial entry: serials are only
// unique per issuer, and those issuers are not ours. Plain functions; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/result.h"
#include "ca/records.h"
#include "store/internal/lmdb.h"

namespace signet::store::schema {

inline constexpr std::uint32_t kCurrentVersion = 1;
inline constexpr std::string_view kSchemaVersionKey = "schema_version";

// Longest CA name we accept: its index key (name + 0x00 + 20-byte serial) must stay well under
// LMDB's 511-byte key limit.
inline constexpr std::size_t kMaxCaNameLength = 255;
// Index values longer than this are indexed by kHashedKeyMarker + SHA-256 of the value.
inline constexpr std::size_t kMaxLiteralNameKey = 400;
inline constexpr std::uint8_t kHashedKeyMarker = 0xff;

struct Tables {
  lmdb::Table meta;
  lmdb::Table certs;
  lmdb::Table cert_by_ca_serial;
  lmdb::Table cert_by_serial;
  lmdb::Table cert_by_fingerprint;
  lmdb::Table cert_by_name;
  lmdb::Table cert_by_not_after;
  lmdb::Table cas;
  lmdb::Table audit;
};

// Opens every table; in a write transaction, creates the missing ones.
base::Result<Tables> open_tables(lmdb::Transaction& txn, bool create);

// The stored schema version; 0 when there is none (a new, empty store).
base::Result<std::uint32_t> read_version(lmdb::Transaction& txn, const Tables& tables);

// Brings a store at `from` up to kCurrentVersion within `txn` and records the new version.
// Refuses (kNotSupported) a version newer than this build understands.
base::Result<void> migrate(lmdb::Transaction& txn, const Tables& tables, std::uint32_t from,
                           const std::string& store_path);

// One step from version `from` to `from + 1`.
struct MigrationStep {
  std::uint32_t from;
  const char* description;
  std::function<base::Result<void>(lmdb::Transaction&, const Tables&)> apply;
};
const std::vector<MigrationStep>& migration_steps();

// ---- keys ----

using IdKey = std::array<std::uint8_t, 8>;
using NotAfterKey = std::array<std::uint8_t, 16>;

inline IdKey id_key(std::uint64_t id) {
  IdKey key;
  lmdb::put_be64(key.data(), id);
  return key;
}
// The id in an 8-byte key or value; 0 (never a valid id) when the size is wrong.
inline std::uint64_t id_from(base::ByteView bytes) {
  return bytes.size() == 8 ? lmdb::get_be64(bytes.data()) : 0;
}

// Seconds are floored and their sign bit flipped so that byte order is time order, pre-1970
// included.
NotAfterKey not_after_key(base::TimePoint not_after, std::uint64_t id);
std::int64_t not_after_seconds(base::ByteView key);  // of a 16-byte key
std::int64_t floor_seconds(base::TimePoint t);

// A key of at most 511 bytes without touching the heap.
struct SmallKey {
  std::array<std::uint8_t, 511> data;
  std::size_t size = 0;
  base::ByteView view() const { return {data.data(), size}; }
};
SmallKey ca_serial_key(std::string_view ca_name, const pki::SerialNumber& serial);

// The cert_by_name key of a query or of one indexed value.
std::string name_key(std::string_view value);
// The distinct cert_by_name keys of a record: its CN and the values of its SANs ("DNS:x" is
// indexed as "x").
std::vector<std::string> name_keys(const ca::CertificateRecord& record);
// Whether the record carries `name` (compared as name_key does) as its CN or a SAN value.
bool has_name(const ca::CertificateRecord& record, std::string_view name);

// Checks what the store needs of a record before it is queued: a serial, a 32-byte
// fingerprint, and a CA name that fits its index key.
base::Result<void> validate(const ca::CertificateRecord& record);
base::Result<void> validate_ca_name(std::string_view name);

}  // namespace signet::store::schema
