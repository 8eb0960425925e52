// LmdbStore: Signet's records (certificates, CAs, RA profiles, orders, alerts, the audit log,
// operators and API tokens) in one LMDB environment.
//
// It implements ca::Inventory, ca::CaDirectory, ca::AuditSink, ca::AuditCheckpointLog,
// ca::ProfileDirectory, ca::OrderLog, ca::AlertLog, ca::CrlLog and ca::OperatorDirectory over a
// single environment under `<state_dir>/store/` (data.mdb and lock.mdb). Open ONE LmdbStore per
// state directory per process and share it (LMDB allows one environment per file per process); the
// process owns it through the unique_ptr that open() returns.
//
// Durability: every write is acknowledged only after its transaction committed with fsync
// (never MDB_NOSYNC / MDB_NOMETASYNC / MDB_WRITEMAP). All writes go through one writer thread
// that commits whatever is queued in one transaction (group commit, see
// store/internal/batch_writer.h), so many concurrent issuances share an fsync. A process killed
// at any point leaves each record either whole or absent; the next open clears the dead
// process's reader slots (mdb_reader_check).
//
// The audit log is hash-chained (ca/audit.h): the writer assigns each event's sequence,
// previous_hash and hash inside the transaction that writes it, whatever write it belongs to.
//
// Space: the map starts at options.initial_map_size (a sparse reservation, not disk use) and
// doubles when full, up to options.max_map_size. A full disk makes the affected writes fail
// with kStorageFull, and nothing of them is written.
//
// Thread-safety: every public method may be called from any thread at any time. Reads run in
// their own read transaction (a consistent snapshot) and never wait for the writer. The
// destructor lets the writer finish what is queued, then closes the environment; no call may
// be in progress then.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "ca/operators.h"
#include "ca/records.h"

namespace signet::store {

struct LmdbStoreOptions {
  // The initial map (virtual address space reserved for the file; the file grows as needed).
  std::size_t initial_map_size = std::size_t{1} << 30;  // 1 GiB
  // The map doubles when full, up to this; past it writes fail with kStorageFull.
  std::size_t max_map_size = std::size_t{1} << 40;  // 1 TiB
  // The most write requests that share one transaction.
  std::size_t max_batch = 1024;
  // Concurrent read transactions across all processes using the store.
  unsigned max_readers = 256;
};

// What check_integrity() found.
struct IntegrityReport {
  std::uint64_t certificates = 0;
  std::uint64_t index_entries = 0;
  std::uint64_t cas = 0;
  std::uint64_t audit_events = 0;
  std::uint64_t revocations = 0;
  std::uint64_t profiles = 0;
  std::uint64_t orders = 0;
  std::uint64_t alerts = 0;
  std::uint64_t revoked_entries = 0;  // entries of the per-CA revoked table
  std::uint64_t crls = 0;
  std::uint64_t operators = 0;
  std::uint64_t api_tokens = 0;
  std::vector<std::string> problems;  // empty when consistent
  bool ok() const { return problems.empty(); }
};

class LmdbStore final : public ca::Inventory,
                        public ca::CaDirectory,
                        public ca::AuditSink,
                        public ca::ProfileDirectory,
                        public ca::OrderLog,
                        public ca::AlertLog,
                        public ca::CrlLog,
                        public ca::OperatorDirectory,
                        public ca::AuditCheckpointLog {
 public:
  // Opens the store under `<state_dir>/store/`, creating it (and state_dir, when its parent
  // exists) on first use. Fails with kIoError / kPermissionDenied naming the path when the
  // directory cannot be made or written, kNotSupported when the store was written by a newer
  // schema version, kStorageError when it is not a store. Older schema versions are migrated.
  static base::Result<std::unique_ptr<LmdbStore>> open(const std::filesystem::path& state_dir,
                                                       const LmdbStoreOptions& options = {});

  // Restores a backup made by backup_to(): copies `<backup_dir>/store/data.mdb` into
  // `<state_dir>/store/`, which must not hold a store yet (kAlreadyExists otherwise). The
  // copy is checked to be a store this build can open before anything is written, and it
  // appears atomically (written aside, fsynced, renamed). Do not call while the state
  // directory is open.
  static base::Result<void> restore(const std::filesystem::path& backup_dir,
                                    const std::filesystem::path& state_dir);

  ~LmdbStore() override;
  LmdbStore(const LmdbStore&) = delete;
  LmdbStore& operator=(const LmdbStore&) = delete;

  // ---- ca::Inventory ----
  // Records are validated at once (kInvalidArgument: no serial, a fingerprint that is not 32
  // bytes, a CA name over 255 bytes). A discovered certificate (empty ca_name) is unique by
  // fingerprint only. A record that arrives revoked gets its revocation sequence too.
  std::future<base::Result<std::uint64_t>> commit_certificate_async(
      ca::CertificateCommit commit) override;
  base::Result<ca::CertificateRecord> revoke_certificate(ca::RevocationCommit commit) override;
  base::Result<std::optional<ca::CertificateRecord>> find_certificate_by_id(
      std::uint64_t id) override;
  base::Result<std::vector<ca::CertificateRecord>> find_certificates_by_key(
      const base::KeyRef& key) override;
  base::Result<std::optional<ca::CertificateRecord>> find_certificate(
      std::string_view ca_name, const pki::SerialNumber& serial) override;
  base::Result<std::vector<ca::CertificateRecord>> find_certificates_by_serial(
      const pki::SerialNumber& serial) override;
  base::Result<std::optional<ca::CertificateRecord>> find_certificate_by_fingerprint(
      base::ByteView sha256) override;
  // Matches the CN or a SAN's value ("a.example" finds "DNS:a.example"), ASCII
  // case-insensitively.
  base::Result<std::vector<ca::CertificateRecord>> find_certificates_by_name(
      std::string_view name) override;
  // Which index answers (store/inventory_queries.cpp):
  //  - A search, or status "revoked", or (for sorts other than notAfter) a CA, profile or
  //    discovered filter first collects the candidates from its own index (cert_by_name by
  //    prefix, cert_by_dns for "*.suffix", revocations, cert_by_ca, cert_by_profile), applies
  //    every filter and sorts them in memory — as long as that index yields at most
  //    kCollectBound (10,000) candidates. Such a page is exact: `limit` items unless it is
  //    the last.
  //  - Otherwise the sort's own index is walked (cert_by_not_after, cert_by_not_before,
  //    cert_by_cn, cert_by_serial; for notAfter, cert_by_ca or cert_by_profile when filtered
  //    by CA or profile, and only the notAfter range that expiry, status and
  //    not_after_before allow), applying the other filters to each record. One call reads at
  //    most max(10,000, 10 x limit) entries: a page may then come back with fewer than `limit`
  //    items (even none) and a next_cursor.
  // The cursor holds the sort, the direction and the last item's sort key, so a page may be
  // answered by either plan; a cursor from another sort or direction is refused. CN sort uses
  // the first 200 bytes of the lower-cased CN; serial sort is numeric. A search prefix finds
  // CN and SAN values up to 400 bytes long (longer ones are found by exact name only).
  base::Result<ca::CertificatePage> list_certificates(const ca::CertificateQuery& query) override;
  // Walks the revocations table (sequence order) from `after`, keeping `ca_name`'s.
  base::Result<std::vector<ca::CertificateRecord>> list_revocations(std::string_view ca_name,
                                                                    std::uint64_t after,
                                                                    std::size_t limit) override;
  // (store/revocation_queries.cpp) One cursor over the CA's range of the revoked table, whose
  // values carry everything a CRL entry needs: no record is read. begin() gets the entry
  // count of the whole table (every CA). The entry's serial is a view into the key.
  base::Result<ca::RevokedScan> scan_revoked(std::string_view ca_name,
                                             ca::RevokedVisitor& visitor) override;
  // Walks the revocations table from after_sequence + 1, glancing at each record's CA name
  // and serial (without decoding the rest) and reading the CA's ones from the revoked table.
  base::Result<ca::RevokedScan> scan_revoked_since(std::string_view ca_name,
                                                   std::uint64_t after_sequence,
                                                   ca::RevokedVisitor& visitor) override;
  // Three point reads: cert_by_ca_serial, the record (only its notAfter is decoded), the
  // revoked table. nullopt for the empty (discovered) CA name.
  base::Result<std::optional<ca::SerialStatus>> serial_status(
      std::string_view ca_name, const pki::SerialNumber& serial) override;

  // ---- ca::CaDirectory ----
  // create_ca stores the record with the revision it carries (normally 0); update_ca
  // requires record.revision to equal the stored one and stores revision + 1.
  base::Result<void> create_ca(const ca::CaRecord& record,
                               std::optional<ca::AuditEvent> event) override;
  base::Result<void> update_ca(const ca::CaRecord& record,
                               std::optional<ca::AuditEvent> event) override;
  base::Result<std::optional<ca::CaRecord>> find_ca(std::string_view name) override;
  base::Result<std::vector<ca::CaRecord>> list_cas() override;

  // ---- ca::AuditSink ----
  base::Result<std::uint64_t> append_audit(ca::AuditEvent event) override;
  base::Result<std::vector<ca::AuditEvent>> list_audit(std::uint64_t after,
                                                       std::size_t limit) override;

  // ---- ca::AuditCheckpointLog ---- (store/audit_checkpoints.cpp)
  // append_checkpoint refuses (kInvalidArgument) a checkpoint without a sequence, a 32-byte
  // head or a signature; the writer checks it against the chain (ca/records.h).
  base::Result<std::uint64_t> append_checkpoint(const ca::AuditCheckpoint& checkpoint,
                                                ca::AuditEvent event) override;
  base::Result<std::vector<ca::AuditCheckpoint>> list_checkpoints(std::uint64_t after,
                                                                  std::size_t limit) override;
  base::Result<std::optional<ca::AuditCheckpoint>> latest_checkpoint() override;
  base::Result<std::optional<ca::AuditEvent>> last_audit_event() override;

  // ---- ca::ProfileDirectory ----
  base::Result<void> create_profile(const ca::Profile& profile,
                                    std::optional<ca::AuditEvent> event) override;
  base::Result<ca::Profile> update_profile(const ca::Profile& profile,
                                           std::optional<ca::AuditEvent> event) override;
  base::Result<std::optional<ca::Profile>> find_profile(std::string_view ca_name,
                                                        std::string_view name) override;
  base::Result<std::vector<ca::Profile>> find_profiles_by_name(std::string_view name) override;
  base::Result<std::vector<ca::Profile>> list_profiles(std::string_view ca_name) override;

  // ---- ca::OrderLog ----
  // update_order (and a commit or revocation carrying an order) refuses an unknown order
  // with kNotFound. list_orders with a status walks the order_by_status index; with only a
  // kind it walks every order from `before` down until the page is full.
  base::Result<std::uint64_t> create_order(ca::Order order,
                                           std::vector<ca::AuditEvent> events) override;
  base::Result<std::uint64_t> update_order(const ca::Order& order,
                                           std::vector<ca::AuditEvent> events,
                                           std::optional<ca::Alert> alert) override;
  base::Result<std::optional<ca::Order>> find_order(std::uint64_t id) override;
  base::Result<std::vector<ca::Order>> list_orders(const ca::OrderQuery& query) override;
  base::Result<std::vector<ca::Order>> list_unfinished_orders() override;  // oldest first

  // ---- ca::AlertLog ----
  // An alert with an empty dedupe_key is never deduplicated. The audit event of raise_alert
  // (acknowledge_alert) is written only when it raises (acknowledges) the alert.
  base::Result<std::uint64_t> raise_alert(ca::Alert alert,
                                          std::optional<ca::AuditEvent> event) override;
  base::Result<ca::Alert> acknowledge_alert(std::uint64_t id, std::string by, base::TimePoint at,
                                            std::optional<ca::AuditEvent> event) override;
  base::Result<std::optional<ca::Alert>> find_alert(std::uint64_t id) override;
  base::Result<std::vector<ca::Alert>> list_alerts(bool include_acknowledged,
                                                   std::size_t limit) override;

  // ---- ca::CrlLog ---- (store/crl_log.cpp)
  // CRL numbers need no CA record (kInvalidArgument for an empty or invalid CA name). A
  // reservation is its own durable write (sharing the writer's group commit). store_crl
  // refuses number 0 and numbers at or above the CA's next one (kInvalidArgument), writes the
  // metadata and the DER (apart, see schema.h) and the event, and prunes, in one transaction;
  // it does not copy the DER before writing it. list_crls reads only the metadata.
  base::Result<std::uint64_t> reserve_crl_number(std::string_view ca_name) override;
  base::Result<void> store_crl(const ca::CrlRecord& crl, std::optional<ca::AuditEvent> event,
                               std::size_t keep) override;
  base::Result<std::optional<ca::CrlRecord>> latest_crl(std::string_view ca_name,
                                                        ca::CrlKind kind) override;
  base::Result<std::optional<ca::CrlRecord>> latest_crl_info(std::string_view ca_name,
                                                             ca::CrlKind kind) override;
  base::Result<std::optional<ca::CrlRecord>> find_crl(std::string_view ca_name,
                                                      std::uint64_t number) override;
  base::Result<std::vector<ca::CrlRecord>> list_crls(std::string_view ca_name,
                                                     std::size_t limit) override;

  // ---- ca::OperatorDirectory ---- (store/operator_records.cpp)
  // Writes refuse (kInvalidArgument) an invalid operator name (ca::validate_operator_name), a
  // certificate fingerprint that is neither empty nor 32 bytes, an API token id that is not 16
  // lower-case hex characters and a secret hash that is not 32 bytes. A certificate
  // fingerprint belongs to one operator at most: create and update refuse one that another
  // operator has (kAlreadyExists), and the operator_certs index follows every create, update
  // and delete in the same transaction. update_operator and delete_operator refuse an unknown
  // name, update_api_token an unknown id (kNotFound). Deleting an operator leaves its API
  // tokens alone (revoking them is the caller's decision). find_operator_by_certificate refuses
  // a fingerprint that is not 32 bytes (kInvalidArgument); a name or id that cannot exist is
  // simply not found.
  base::Result<void> create_operator(const ca::OperatorRecord& record,
                                     std::optional<ca::AuditEvent> event) override;
  base::Result<void> update_operator(const ca::OperatorRecord& record,
                                     std::optional<ca::AuditEvent> event) override;
  // The change runs on the writer thread inside the batch's transaction.
  base::Result<ca::OperatorRecord> modify_operator(std::string_view name,
                                                   const ca::OperatorChange& change) override;
  base::Result<void> delete_operator(std::string_view name,
                                     std::optional<ca::AuditEvent> event) override;
  base::Result<std::optional<ca::OperatorRecord>> find_operator(std::string_view name) override;
  base::Result<std::optional<ca::OperatorRecord>> find_operator_by_certificate(
      base::ByteView fingerprint) override;
  base::Result<std::vector<ca::OperatorRecord>> list_operators() override;
  base::Result<void> create_api_token(const ca::ApiTokenRecord& record,
                                      std::optional<ca::AuditEvent> event) override;
  base::Result<void> update_api_token(const ca::ApiTokenRecord& record,
                                      std::optional<ca::AuditEvent> event) override;
  base::Result<std::optional<ca::ApiTokenRecord>> find_api_token(std::string_view id) override;
  base::Result<std::vector<ca::ApiTokenRecord>> list_api_tokens() override;

  // ---- operations ----
  // A consistent, compacted copy of the store into `<backup_dir>/store/data.mdb`, taken while
  // the store is in use (writers continue; the copy is the state at its start). `backup_dir`
  // must be missing or empty. The copy is fsynced before this returns. While it runs, a map
  // growth (and the reads queued behind it) waits for it to finish.
  base::Result<void> backup_to(const std::filesystem::path& backup_dir);

  // Walks every table: each record decodes, each index entry resolves to a record that
  // carries the indexed value, each record has its index entries, the order, alert and
  // revocation indexes and the revoked table agree with their records, each stored CRL has
  // its DER (of its size) under a reserved number, operators and API tokens decode under
  // their own names and ids and operator_certs agrees with the operators' fingerprints, and
  // the audit hash chain verifies.
  base::Result<IntegrityReport> check_integrity();

  // ---- statistics (for tests, the bench and the status page) ----
  std::uint64_t commits() const;            // write transactions committed
  std::uint64_t records_committed() const;  // certificates committed
  std::uint64_t map_resizes() const;
  std::size_t largest_batch() const;
  std::size_t map_size() const;
  int stale_readers_cleared() const { return stale_readers_cleared_; }  // at open
  const std::filesystem::path& path() const;                            // the environment directory

  // The insides (store/internal/store_impl.h), opaque outside store/.
  struct Impl;

 private:
  explicit LmdbStore(std::unique_ptr<Impl> impl, int stale_readers_cleared);
  base::Result<std::optional<ca::CrlRecord>> latest(std::string_view ca_name, ca::CrlKind kind,
                                                    bool with_der);

  std::unique_ptr<Impl> impl_;
  int stale_readers_cleared_;
};

}  // namespace signet::store
