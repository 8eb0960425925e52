// An in-memory implementation of ca/records.h for unit tests of ca/: the same contract as
// the LMDB store (serial uniqueness per CA, fingerprint uniqueness, CA / order / profile
// revisions, predecessor rules, revocation and audit sequences, the audit hash chain and its
// checkpoints, alert
// dedupe, CRL numbers and stored CRLs, operators with unique client certificates and API
// tokens), without I/O. Queries are answered by brute force (filter,
// sort, offset), which is fine at test sizes; cursors are opaque and carry the sort, as the store's
// do. Thread-safe through one mutex.
#pragma once

#include <map>
#include <mutex>

#include "ca/operators.h"
#include "ca/records.h"

namespace signet::test {

class MemoryStore final : public ca::Inventory,
                          public ca::CaDirectory,
                          public ca::AuditSink,
                          public ca::ProfileDirectory,
                          public ca::OrderLog,
                          public ca::AlertLog,
                          public ca::CrlLog,
                          public ca::OperatorDirectory,
                          public ca::AuditCheckpointLog {
 public:
  // ---- ca::Inventory ----
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
  base::Result<std::vector<ca::CertificateRecord>> find_certificates_by_name(
      std::string_view name) override;
  base::Result<ca::CertificatePage> list_certificates(const ca::CertificateQuery& query) override;
  base::Result<std::vector<ca::CertificateRecord>> list_revocations(std::string_view ca_name,
                                                                    std::uint64_t after,
                                                                    std::size_t limit) override;
  // The scans copy what they visit out of the store first and visit without the lock held
  // (a visitor may call back into the store).
  base::Result<ca::RevokedScan> scan_revoked(std::string_view ca_name,
                                             ca::RevokedVisitor& visitor) override;
  base::Result<ca::RevokedScan> scan_revoked_since(std::string_view ca_name,
                                                   std::uint64_t after_sequence,
                                                   ca::RevokedVisitor& visitor) override;
  base::Result<std::optional<ca::SerialStatus>> serial_status(
      std::string_view ca_name, const pki::SerialNumber& serial) override;

  // ---- ca::CaDirectory ----
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

  // ---- ca::AuditCheckpointLog ---- (memory_store_checkpoints.cpp)
  base::Result<std::uint64_t> append_checkpoint(const ca::AuditCheckpoint& checkpoint,
                                                ca::AuditEvent event) override;
  base::Result<std::vector<ca::AuditCheckpoint>> list_checkpoints(std::uint64_t after,
                                                                  std::size_t limit) override;
  base::Result<std::optional<ca::AuditCheckpoint>> latest_checkpoint() override;
  base::Result<std::optional<ca::AuditEvent>> last_audit_event() override;
  // For tests of verification: the log and the checkpoints, to tamper with (under no lock:
  // no other thread may use the store meanwhile).
  std::vector<ca::AuditEvent>& audit_entries() { return audit_; }
  std::map<std::uint64_t, ca::AuditCheckpoint>& checkpoints() { return checkpoints_; }

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
  base::Result<std::uint64_t> create_order(ca::Order order,
                                           std::vector<ca::AuditEvent> events) override;
  base::Result<std::uint64_t> update_order(const ca::Order& order,
                                           std::vector<ca::AuditEvent> events,
                                           std::optional<ca::Alert> alert) override;
  base::Result<std::optional<ca::Order>> find_order(std::uint64_t id) override;
  base::Result<std::vector<ca::Order>> list_orders(const ca::OrderQuery& query) override;
  base::Result<std::vector<ca::Order>> list_unfinished_orders() override;
  // For tests: how many create_order/update_order calls were made (each is a durable commit
  // in the LMDB store), and the status order `id` was created with.
  std::size_t order_writes() const;
  std::optional<ca::OrderStatus> first_status_of(std::uint64_t id) const;

  // ---- ca::AlertLog ----
  base::Result<std::uint64_t> raise_alert(ca::Alert alert,
                                          std::optional<ca::AuditEvent> event) override;
  base::Result<ca::Alert> acknowledge_alert(std::uint64_t id, std::string by, base::TimePoint at,
                                            std::optional<ca::AuditEvent> event) override;
  base::Result<std::optional<ca::Alert>> find_alert(std::uint64_t id) override;
  base::Result<std::vector<ca::Alert>> list_alerts(bool include_acknowledged,
                                                   std::size_t limit) override;

  // ---- ca::CrlLog ----
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

  // ---- ca::OperatorDirectory ---- (memory_store_operators.cpp; the LMDB store's checks)
  base::Result<void> create_operator(const ca::OperatorRecord& record,
                                     std::optional<ca::AuditEvent> event) override;
  base::Result<void> update_operator(const ca::OperatorRecord& record,
                                     std::optional<ca::AuditEvent> event) override;
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

  // ---- for tests ----
  // Makes the next `count` certificate commits fail with kAlreadyExists (a serial collision).
  void inject_collisions(int count);
  std::size_t certificate_count();

 private:
  base::Result<std::uint64_t> commit_locked(ca::CertificateCommit& commit);
  // Checks an order write against the stored revision (kNotFound, kConflict).
  base::Result<void> check_order_locked(const ca::Order& order) const;
  // Refuses a certificate fingerprint that an operator other than `name` has.
  base::Result<void> check_certificate_locked(const ca::OperatorRecord& record) const;
  // The CA's revoked certificates (copies; the scans sort them).
  std::vector<ca::CertificateRecord> revoked_locked(std::string_view ca_name) const;
  base::Result<ca::RevokedScan> visit_all(std::vector<ca::CertificateRecord> revoked,
                                          std::uint64_t revocation_sequence,
                                          ca::RevokedVisitor& visitor);
  // Stores the order with its revision bumped; returns the new revision.
  std::uint64_t store_order_locked(ca::Order order);
  std::uint64_t raise_locked(ca::Alert alert, bool& raised);
  std::uint64_t append_locked(ca::AuditEvent event);
  void append_all_locked(std::vector<ca::AuditEvent>& events);

  mutable std::mutex mutex_;  // guards everything below
  std::map<std::uint64_t, ca::CertificateRecord> certificates_;
  std::map<std::string, ca::CaRecord, std::less<>> cas_;
  std::vector<ca::AuditEvent> audit_;
  std::map<std::uint64_t, ca::AuditCheckpoint> checkpoints_;             // by sequence
  std::map<std::pair<std::string, std::string>, ca::Profile> profiles_;  // (ca, name)
  std::map<std::uint64_t, ca::Order> orders_;
  std::map<std::uint64_t, ca::OrderStatus> created_status_;
  std::size_t order_writes_ = 0;
  std::map<std::uint64_t, ca::Alert> alerts_;
  std::uint64_t next_revocation_sequence_ = 1;
  std::map<std::pair<std::string, std::uint64_t>, ca::CrlRecord> crls_;  // (ca, number)
  std::map<std::string, std::uint64_t, std::less<>> next_crl_numbers_;   // absent: 1
  std::map<std::string, ca::OperatorRecord, std::less<>> operators_;
  std::map<std::string, ca::ApiTokenRecord, std::less<>> api_tokens_;
  int collisions_to_inject_ = 0;
};

}  // namespace signet::test
