// The store's layout: its named tables, how their keys are built, and the schema version with
// its migration steps.
//
//   meta                 "schema_version" -> 4-byte big-endian version
//   certs                8-byte big-endian id -> codec-encoded CertificateRecord
//   cert_by_ca_serial    ca name + 0x00 + serial magnitude -> id     (unique: one serial per CA)
//   cert_by_serial       serial magnitude, zero-padded on the left to 20 bytes -> id
//                        (dupsort: any CA; byte order is numeric order, so it is also the
//                        serial sort index)
//   cert_by_fingerprint  32-byte SHA-256 -> id                       (unique)
//   cert_by_name         lower-cased CN or SAN value -> id           (dupsort; hashed when long)
//   cert_by_not_after    SortTimeKey(notAfter, id) -> empty
//   cert_by_not_before   SortTimeKey(notBefore, id) -> empty                       (since v2)
//   cert_by_cn           lower-cased CN (first 200 bytes) + 0x00 + 8-byte id -> empty (v2)
//   cert_by_ca           ca name + 0x00 + SortTimeKey(notAfter, id) -> empty       (v2)
//                        (discovered certificates under the empty name: "\0" + key)
//   cert_by_profile      profile name + 0x00 + SortTimeKey(notAfter, id) -> empty  (v2)
//   cert_by_dns          reversed DNS labels ("com.example.www") of DNS SANs and of a
//                        DNS-looking CN -> id                        (dupsort)      (v2)
//   cert_by_key          token serial + 0x00 + CKA_ID -> id          (dupsort)      (v2)
//   revocations          8-byte revocation sequence -> 8-byte certificate id        (v2)
//   cas                  CA name -> codec-encoded CaRecord
//   audit                8-byte big-endian sequence -> codec-encoded AuditEvent (with its
//                        previous_hash and hash since v2)
//   profiles             ca name + 0x00 + profile name -> codec-encoded Profile     (v2)
//   orders               8-byte id -> codec-encoded Order                           (v2)
//   order_by_status      1-byte OrderStatus + 8-byte id -> empty                    (v2)
//   alerts               8-byte id -> codec-encoded Alert                           (v2)
//   alert_open           8-byte id of each unacknowledged alert -> empty            (v2)
//   alert_by_dedupe      dedupe key (hashed when long) -> id of its unacknowledged alert (v2)
//   revoked              ca name + 0x00 + serial magnitude zero-padded on the left to 20 bytes
//                        (byte order is numeric serial order within a CA) -> RevokedValue:
//                        revoked_at (8), the certificate's not_after (8), revocation sequence
//                        (8), reason (1), flags (1: bit 0 = has an invalidity date) and then
//                        the invalidity date (8) when flagged; times are signed 64-bit
//                        big-endian system_clock ticks, as the codec stores them. One entry
//                        per revoked certificate of a CA (not discovered ones), written in
//                        the transaction that revokes it: a full CRL is one cursor walk. (v3)
//   crls                 ca name + 0x00 + 8-byte CRL number -> codec-encoded CrlRecord
//                        without its DER (der_size set)                             (v3)
//   crl_der              the same key -> the CRL's DER, raw (listing never reads it)  (v3)
//   crl_numbers          ca name -> 8-byte next CRL number to hand out (absent: 1)  (v3)
//   operators            operator name -> codec-encoded OperatorRecord              (v4)
//   operator_certs       32-byte SHA-256 of an operator's client certificate -> operator name
//                        (unique: one operator per certificate; written in the transaction
//                        that creates, updates or deletes the operator)             (v4)
//   api_tokens           token id (16 lower-case hex characters) -> codec-encoded
//                        ApiTokenRecord                                             (v4)
//   audit_checkpoints    8-byte big-endian sequence of the signed entry -> codec-encoded
//                        AuditCheckpoint (signed checkpoints of the audit chain)    (v5)
//
// Discovered certificates (empty CA name) have no cert_by_ca_serial entry: serials are only
// unique per issuer, and those issuers are not ours. Every certificate index is written in the
// same transaction as its record. Plain functions; thread-safe.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/result.h"
#include "ca/operators.h"
#include "ca/records.h"
#include "store/internal/lmdb.h"

namespace signet::store::schema {

inline constexpr std::uint32_t kCurrentVersion = 5;
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
  lmdb::Table cert_by_not_before;
  lmdb::Table cert_by_cn;
  lmdb::Table cert_by_ca;
  lmdb::Table cert_by_profile;
  lmdb::Table cert_by_dns;
  lmdb::Table cert_by_key;
  lmdb::Table revocations;
  lmdb::Table cas;
  lmdb::Table audit;
  lmdb::Table profiles;
  lmdb::Table orders;
  lmdb::Table order_by_status;
  lmdb::Table alerts;
  lmdb::Table alert_open;
  lmdb::Table alert_by_dedupe;
  lmdb::Table revoked;
  lmdb::Table crls;
  lmdb::Table crl_der;
  lmdb::Table crl_numbers;
  lmdb::Table operators;
  lmdb::Table operator_certs;
  lmdb::Table api_tokens;
  lmdb::Table audit_checkpoints;
};
inline constexpr unsigned kTableCount = 31;

// Opens every table; in a write transaction, creates the missing ones.
base::Result<Tables> open_tables(lmdb::Transaction& txn, bool create);
// Only the meta table (enough for read_version on a store of any version).
base::Result<Tables> open_meta(lmdb::Transaction& txn);

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
// Version 1 -> 2 (store/internal/migration_v2.cpp): re-keys cert_by_serial, builds the v2
// certificate indexes and the revocations table from the records, and computes the audit hash
// chain over the existing entries. Rebuilds from the records, so it may run over a store that
// has some or all of them already.
base::Result<void> migrate_to_v2(lmdb::Transaction& txn, const Tables& tables);
// Version 2 -> 3 (store/internal/migration_v3.cpp): builds the revoked table from the revoked
// certificate records (the CRL tables start empty). Rebuilds, so it may run again.
base::Result<void> migrate_to_v3(lmdb::Transaction& txn, const Tables& tables);
// Version 3 -> 4 (store/internal/migration_v4.cpp): the operator tables. open_tables creates
// them empty; the step rebuilds operator_certs from the operator records, so it may run again.
base::Result<void> migrate_to_v4(lmdb::Transaction& txn, const Tables& tables);
// Version 4 -> 5 (store/internal/migration_v5.cpp): the audit_checkpoints table. open_tables
// creates it empty; the step checks that it is empty or holds only checkpoints that decode,
// so it may run again.
base::Result<void> migrate_to_v5(lmdb::Transaction& txn, const Tables& tables);

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

// The key of a time-sorted index (cert_by_not_after, cert_by_not_before, and the suffix of
// cert_by_ca and cert_by_profile): 8-byte biased big-endian seconds + 8-byte id.
using SortTimeKey = NotAfterKey;

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

// cert_by_serial: the magnitude zero-padded on the left to 20 bytes (byte order = numeric).
using SerialKey = std::array<std::uint8_t, 20>;
SerialKey serial_key(const pki::SerialNumber& serial);

// revoked: ca name + 0x00 + serial_key(serial).
SmallKey revoked_key(std::string_view ca_name, const pki::SerialNumber& serial);
SmallKey revoked_key(std::string_view ca_name, base::ByteView magnitude);  // at most 20 bytes
// The minimal magnitude inside a revoked key (a view into it; empty when the key is not one of
// `prefix_size` + 20 bytes or its serial is zero).
base::ByteView revoked_key_serial(base::ByteView key, std::size_t prefix_size);

// A revoked table value, fixed layout (see the table map above).
inline constexpr std::size_t kRevokedValueSize = 26;
inline constexpr std::size_t kRevokedValueWithDateSize = 34;
struct RevokedValue {
  std::array<std::uint8_t, kRevokedValueWithDateSize> data;
  std::size_t size = 0;
  base::ByteView view() const { return {data.data(), size}; }
};
// `record` must be revoked.
RevokedValue revoked_value(const ca::CertificateRecord& record);
// Decodes into `entry` (all but the serial); false when the value is malformed.
bool decode_revoked_value(base::ByteView value, ca::RevokedEntry& entry);

// crls and crl_der: ca name + 0x00 + 8-byte big-endian CRL number.
SmallKey crl_key(std::string_view ca_name, std::uint64_t number);

// Calls fn(entry) -> Result<bool> for the CA's entries of `crls` (or `crl_der`), newest
// first, until it returns false. Opens a cursor: write nothing to the table inside `fn`.
template <typename Fn>
base::Result<void> for_each_crl_newest_first(lmdb::Transaction& txn, const lmdb::Table& table,
                                             std::string_view ca_name, Fn&& fn) {
  const auto first = crl_key(ca_name, 0);
  const std::size_t prefix_size = first.size - 8;
  const auto prefix = first.view().first(prefix_size);
  // The first key after the CA's range: its prefix with the 0x00 separator made 0x01.
  auto after = first;
  after.data[prefix_size - 1] = 0x01;
  after.size = prefix_size;
  SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn, table));
  SIGNET_ASSIGN_OR_RETURN(auto entry, cursor.seek(after.view()));
  if (entry) {
    SIGNET_ASSIGN_OR_RETURN(entry, cursor.prev());
  } else {
    SIGNET_ASSIGN_OR_RETURN(entry, cursor.last());
  }
  while (entry && entry->key.size() == prefix_size + 8 &&
         std::equal(prefix.begin(), prefix.end(), entry->key.begin())) {
    SIGNET_ASSIGN_OR_RETURN(const bool more, fn(*entry));
    if (!more) break;
    SIGNET_ASSIGN_OR_RETURN(entry, cursor.prev());
  }
  return base::ok();
}

// cert_by_cn: lower-cased CN (its first kMaxCnSortBytes bytes) + 0x00 + 8-byte id.
inline constexpr std::size_t kMaxCnSortBytes = 200;
base::Bytes cn_sort_key(std::string_view common_name, std::uint64_t id);

// `prefix` + 0x00 + `suffix`: cert_by_ca, cert_by_profile, cert_by_key, profiles.
base::Bytes prefixed_key(std::string_view prefix, base::ByteView suffix);

// cert_by_dns: "www.Example.com" -> "com.example.www". Empty when `name` does not look like
// a DNS name (letters, digits, '-', '_', '*', at least two non-empty labels).
std::string reversed_dns_key(std::string_view name);
// The distinct cert_by_dns keys of a record: its DNS SANs and its CN when DNS-looking.
std::vector<std::string> dns_keys(const ca::CertificateRecord& record);

// cert_by_key: token serial + 0x00 + CKA_ID (hashed when long); nullopt without key_location.
std::optional<base::Bytes> key_location_key(const ca::CertificateRecord& record);
base::Bytes key_ref_key(const base::KeyRef& key);

// alert_by_dedupe: the dedupe key, hashed when long.
base::Bytes dedupe_index_key(std::string_view dedupe_key);
// order_by_status: status byte + 8-byte id.
std::array<std::uint8_t, 9> order_status_key(ca::OrderStatus status, std::uint64_t id);
std::uint8_t order_status_byte(ca::OrderStatus status);

// CertificateQuery::search on one record: a prefix of the CN or a SAN value, or "*.suffix"
// for DNS names strictly under the suffix (ASCII case-insensitive).
bool matches_search(const ca::CertificateRecord& record, std::string_view search);

// The cert_by_name key of a query or of one indexed value.
std::string name_key(std::string_view value);
// The distinct cert_by_name keys of a record: its CN and the values of its SANs ("DNS:x" is
// indexed as "x").
std::vector<std::string> name_keys(const ca::CertificateRecord& record);
// Whether the record carries `name` (compared as name_key does) as its CN or a SAN value.
bool has_name(const ca::CertificateRecord& record, std::string_view name);

// Checks what the store needs of a record before it is queued: a serial, a 32-byte
// fingerprint, a CA name and a profile name that fit their index keys, and a revocation (when
// it arrives revoked) that validate_revocation accepts.
base::Result<void> validate(const ca::CertificateRecord& record);
// An RFC 5280 reason code (0..10): what the record codec and the revoked table can hold.
base::Result<void> validate_revocation(const ca::Revocation& revocation);
base::Result<void> validate_ca_name(std::string_view name);
// What the operator tables need (kInvalidArgument otherwise): a valid operator name
// (ca::validate_operator_name) and a certificate fingerprint that is empty or 32 bytes; an API
// token id of 16 lower-case hex characters and a 32-byte secret hash.
base::Result<void> validate_operator(const ca::OperatorRecord& record);
base::Result<void> validate_api_token(const ca::ApiTokenRecord& record);
// Whether `id` has the form of an API token id (16 lower-case hex characters).
bool is_api_token_id(std::string_view id);

}  // namespace signet::store::schema
