// The records the CA keeps and the interfaces through which it keeps them.
//
// ca/ declares what it needs; store/ implements it over LMDB (and a later store over
// PostgreSQL would implement the same). Nothing here assumes LMDB: uniqueness of serials per
// CA and of CA names is enforced by the implementation, durably, at commit. Implementations
// are thread-safe; every method may be called from many threads at once.
#pragma once

#include <cstdint>
#include <future>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/keys.h"
#include "base/result.h"
#include "ca/order.h"
#include "ca/profile.h"
#include "pki/serial_number.h"

namespace signet::ca {

enum class CertificateStatus { kActive, kExpired, kRevoked };
enum class CertificateSource { kManaged, kDiscovered };

std::string_view to_string(CertificateStatus status);  // "active", "expired", "revoked"
base::Result<CertificateStatus> parse_certificate_status(std::string_view text);
std::string_view to_string(CertificateSource source);  // "managed", "discovered"
base::Result<CertificateSource> parse_certificate_source(std::string_view text);

// RFC 5280 §5.3.1 CRLReason values Signet offers (certificateHold, 6, and removeFromCRL, 8,
// are not: a revocation is permanent).
enum class RevocationReason {
  kUnspecified = 0,
  kKeyCompromise = 1,
  kCaCompromise = 2,
  kAffiliationChanged = 3,
  kSuperseded = 4,
  kCessationOfOperation = 5,
  kPrivilegeWithdrawn = 9,
  kAaCompromise = 10,
};
// "unspecified", "keyCompromise", "cACompromise", ... as RFC 5280 spells them.
std::string_view to_string(RevocationReason reason);
// Accepts RFC 5280's spelling, case-insensitively, and the numeric code; refuses
// certificateHold and removeFromCRL with a message that says why.
base::Result<RevocationReason> parse_revocation_reason(std::string_view text);

struct Revocation {
  base::TimePoint revoked_at{};
  int reason = 0;  // a RevocationReason value
  std::optional<base::TimePoint> invalidity_date;
  // Assigned by the store when the revocation commits: 1, 2, 3... across the whole store, in
  // commit order. A delta CRL is "every revocation after the base CRL's sequence".
  std::uint64_t sequence = 0;
};

struct CertificateRecord {
  std::uint64_t id = 0;  // assigned by the store at commit: sequential, never reused
  std::string ca_name;   // the issuing CA's name ("" for a discovered certificate)
  pki::SerialNumber serial;
  base::Bytes fingerprint_sha256;
  base::Bytes der;
  std::string subject;  // RFC 2253
  std::string common_name;
  std::vector<std::string> subject_alt_names;  // "DNS:a.example", "IP:192.0.2.1"...
  std::string issuer;                          // RFC 2253
  base::TimePoint not_before{};
  base::TimePoint not_after{};
  base::TimePoint recorded_at{};
  std::string key_algorithm;  // "ec-p256", "rsa-2048"... (or what inspect_public_key names)
  std::string digest;         // "sha256"...
  CertificateSource source = CertificateSource::kManaged;
  bool is_ca = false;
  std::optional<Revocation> revocation;
  std::optional<base::KeyRef> key_location;  // where the subject's key lives, when we know
  std::string profile;                       // RA profile name, when issued through one
  std::uint64_t profile_version = 0;         // the profile's version the issuance applied
  std::uint64_t order_id = 0;                // the order that issued it (0: none, e.g. a CA)
  std::uint64_t predecessor_id = 0;          // the certificate this one renewed or rekeyed
  std::uint64_t successor_id = 0;            // set by the store when a renewal/rekey commits
  // Local software key pathway: the subject's private key (PKCS#8) wrapped under a
  // key-encryption key on a token. Absent for every other key source.
  std::optional<base::WrappedSecret> wrapped_key;
};

// Status at a given time: revoked wins over expired.
CertificateStatus status_at(const CertificateRecord& record, base::TimePoint now);

enum class CertificateSort { kNotAfter, kNotBefore, kCommonName, kSerial };
std::string_view to_string(CertificateSort sort);  // "notAfter", "notBefore", "cn", "serial"
base::Result<CertificateSort> parse_certificate_sort(std::string_view text);

// Filters for listing. Unset fields do not filter. Every combination is answered from an
// index (never a scan of every record): see the implementation for which index drives which.
struct CertificateQuery {
  std::optional<std::string> ca_name;
  std::optional<std::string> profile;
  std::optional<CertificateStatus> status;
  std::optional<CertificateSource> source;
  std::optional<base::TimePoint> not_after_before;  // "expiring within": notAfter < this
  // Text search: a prefix of the CN or of a SAN value ("www.exa" finds "www.example.com"),
  // ASCII case-insensitive; or a DNS suffix written "*.example.com", which finds every DNS
  // name (CN or SAN) under example.com at any depth ("a.b.example.com").
  std::string search;
  CertificateSort sort = CertificateSort::kNotAfter;
  bool descending = false;
  base::TimePoint now{};    // for status and expiry computation
  std::size_t limit = 100;  // at most this many per page (1..1000)
  std::string cursor;       // opaque; "" for the first page, then CertificatePage::next_cursor
};

struct CertificatePage {
  std::vector<CertificateRecord> items;
  std::string next_cursor;  // "" when there is no further page
};

// An entry in the audit log: who did what to which object, when. The log is append-only and
// hash-chained: each entry's hash commits to its fields and to the previous entry's hash
// (ca/audit.h computes and verifies it; the store assigns sequence and both hashes at commit).
struct AuditEvent {
  std::uint64_t sequence = 0;  // assigned by the store: 1, 2, 3... in commit order
  base::TimePoint time{};
  std::string actor;          // "cli:root" for the CLI, an operator name later
  std::string action;         // "ca.created", "certificate.issued"...
  std::string object;         // "ca:root", "certificate:<ca>/<serial>"
  std::string detail;         // a JSON object with the specifics (never secrets)
  base::Bytes previous_hash;  // 32 bytes; all zero for the first entry. Set by the store.
  base::Bytes hash;           // 32 bytes: ca::audit_entry_hash(*this). Set by the store.
};

// An event as the services write it (the store adds sequence and hashes).
AuditEvent make_audit_event(base::TimePoint time, std::string actor, std::string action,
                            std::string object, std::string detail);

// Everything one issuance commits, in ONE durable transaction: the certificate, its audit
// events, the order it completes, and what it does to its predecessor. Either all of it is
// written or none of it.
struct CertificateCommit {
  CertificateRecord record;
  std::vector<AuditEvent> events;
  // The order this issuance completes, stored as given with certificate_id set to the new
  // record's id (record.order_id should be order->id). Revision-checked like update_order:
  // kConflict when the stored order's revision differs, and nothing is written.
  std::optional<Order> order;
  // With record.predecessor_id != 0: the predecessor must exist (kNotFound), must not have a
  // successor yet (kConflict naming it: a certificate is renewed or rekeyed once), and, when
  // predecessor_must_be_unrevoked, must not be revoked (kConflict). Its successor_id is set
  // to the new id.
  bool predecessor_must_be_unrevoked = true;
  // Revokes the predecessor in the same transaction (rekey --revoke-previous: superseded).
  std::optional<Revocation> revoke_predecessor;
};

// A revocation, committed atomically with the status change: the revocation (its sequence
// assigned by the store), the audit events and the order.
struct RevocationCommit {
  std::uint64_t certificate_id = 0;
  Revocation revocation;
  std::vector<AuditEvent> events;
  std::optional<Order> order;  // stored as given, revision-checked
};

class Inventory {
 public:
  virtual ~Inventory() = default;

  // Commits everything in `commit` in one durable transaction (fsync) shared with other
  // commits in flight (group commit). The future completes only after the commit: with the
  // record's assigned id, or kAlreadyExists when the CA already has this serial or the
  // fingerprint is known, kConflict / kNotFound as CertificateCommit describes, or
  // kStorageFull / kStorageError. Nothing of a refused commit is written.
  virtual std::future<base::Result<std::uint64_t>> commit_certificate_async(
      CertificateCommit commit) = 0;

  std::future<base::Result<std::uint64_t>> put_certificate_async(CertificateRecord record,
                                                                 std::optional<AuditEvent> event) {
    CertificateCommit commit;
    commit.record = std::move(record);
    if (event) commit.events.push_back(std::move(*event));
    return commit_certificate_async(std::move(commit));
  }
  base::Result<std::uint64_t> put_certificate(CertificateRecord record,
                                              std::optional<AuditEvent> event) {
    return put_certificate_async(std::move(record), std::move(event)).get();
  }

  // Revokes a certificate, durably, in one transaction with its events and order. kNotFound
  // for an unknown id; kConflict when it is already revoked (nothing changes: a revocation is
  // permanent and its first date and reason stand). Returns the record as stored, with the
  // revocation's assigned sequence.
  virtual base::Result<CertificateRecord> revoke_certificate(RevocationCommit commit) = 0;

  virtual base::Result<std::optional<CertificateRecord>> find_certificate_by_id(
      std::uint64_t id) = 0;
  // Certificates whose key_location is this key (token serial + CKA_ID).
  virtual base::Result<std::vector<CertificateRecord>> find_certificates_by_key(
      const base::KeyRef& key) = 0;

  virtual base::Result<std::optional<CertificateRecord>> find_certificate(
      std::string_view ca_name, const pki::SerialNumber& serial) = 0;
  // Every certificate with this serial, whatever its CA.
  virtual base::Result<std::vector<CertificateRecord>> find_certificates_by_serial(
      const pki::SerialNumber& serial) = 0;
  virtual base::Result<std::optional<CertificateRecord>> find_certificate_by_fingerprint(
      base::ByteView sha256) = 0;
  // Exact match on the common name or a SAN value (DNS names compare case-insensitively).
  virtual base::Result<std::vector<CertificateRecord>> find_certificates_by_name(
      std::string_view name) = 0;
  // Ordered by query.sort (ties by id), keyset-paginated. A page may hold fewer than `limit`
  // items with a next_cursor when filters skipped much of what was read; next_cursor is ""
  // at the end.
  virtual base::Result<CertificatePage> list_certificates(const CertificateQuery& query) = 0;
  // Revocations with sequence > after, in sequence order, at most `limit` (for CRLs).
  virtual base::Result<std::vector<CertificateRecord>> list_revocations(std::string_view ca_name,
                                                                        std::uint64_t after,
                                                                        std::size_t limit) = 0;
};

enum class CaState { kActive, kAwaitingCertificate };
std::string_view to_string(CaState state);  // "active", "awaiting-certificate"

// Settings that issued certificates carry forever (so they live on the CA record).
struct CaSettings {
  // Base URL of the plain-HTTP listener; empty: no CDP/AIA. Layout: <base>/crl/<ca>.crl,
  // <base>/ocsp/<ca>, <base>/ca/<ca>.crt.
  std::string base_url;
  int default_validity_days = 365;
};

struct CaRecord {
  std::string name;
  CaState state = CaState::kActive;
  std::string parent;            // the issuing CA here; "" for a root or an external parent
  bool external_parent = false;  // signed by a root outside Signet
  base::KeyRef key;
  base::KeyAlgorithm key_algorithm = base::KeyAlgorithm::kEcP256;
  std::string subject;          // RFC 2253
  base::Bytes certificate_der;  // the current certificate; empty while awaiting one
  std::vector<base::Bytes> previous_certificates_der;  // older certificates of this CA
  std::vector<base::Bytes> external_chain_der;         // issuers above an externally signed CA
  base::Bytes pending_csr_der;                         // the CSR sent to an external root
  CaSettings settings;
  base::TimePoint created_at{};
  std::uint64_t revision = 0;  // bumped by the store on each update (optimistic locking)
};

class CaDirectory {
 public:
  virtual ~CaDirectory() = default;
  // kAlreadyExists when the name is taken. Durable on return. The audit event, when given,
  // commits in the same transaction.
  virtual base::Result<void> create_ca(const CaRecord& record, std::optional<AuditEvent> event) = 0;
  // Replaces the record whose revision equals record.revision (kConflict otherwise,
  // kNotFound when absent) and bumps the revision.
  virtual base::Result<void> update_ca(const CaRecord& record, std::optional<AuditEvent> event) = 0;
  virtual base::Result<std::optional<CaRecord>> find_ca(std::string_view name) = 0;
  virtual base::Result<std::vector<CaRecord>> list_cas() = 0;  // by name
};

class AuditSink {
 public:
  virtual ~AuditSink() = default;
  // Appends durably; returns the assigned sequence number.
  virtual base::Result<std::uint64_t> append_audit(AuditEvent event) = 0;
  // Events with sequence > after, oldest first, at most `limit`.
  virtual base::Result<std::vector<AuditEvent>> list_audit(std::uint64_t after,
                                                           std::size_t limit) = 0;
};

// RA profiles, keyed by (CA name, profile name).
class ProfileDirectory {
 public:
  virtual ~ProfileDirectory() = default;
  // Stores version 1 (kAlreadyExists when the CA already has a profile of that name).
  virtual base::Result<void> create_profile(const Profile& profile,
                                            std::optional<AuditEvent> event) = 0;
  // Replaces the stored profile whose version equals profile.version (kConflict otherwise,
  // kNotFound when absent) and stores version + 1. Certificates keep the version they were
  // issued under; profiles are never deleted (disable them).
  virtual base::Result<Profile> update_profile(const Profile& profile,
                                               std::optional<AuditEvent> event) = 0;
  virtual base::Result<std::optional<Profile>> find_profile(std::string_view ca_name,
                                                            std::string_view name) = 0;
  // Every profile with this name, whatever its CA (to resolve an unqualified name).
  virtual base::Result<std::vector<Profile>> find_profiles_by_name(std::string_view name) = 0;
  // By CA name, then profile name; "" = every CA.
  virtual base::Result<std::vector<Profile>> list_profiles(std::string_view ca_name) = 0;
};

struct OrderQuery {
  std::optional<OrderStatus> status;
  std::optional<OrderKind> kind;
  std::size_t limit = 100;   // 1..1000
  std::uint64_t before = 0;  // keyset: orders with id < before; 0 = from the newest
};

// Orders, newest first.
class OrderLog {
 public:
  virtual ~OrderLog() = default;
  // Stores a new order (its id assigned, revision 1) with its audit events; returns the id.
  virtual base::Result<std::uint64_t> create_order(Order order, std::vector<AuditEvent> events) = 0;
  // Replaces the order whose revision equals order.revision (kConflict otherwise, kNotFound
  // when absent) and bumps the revision; with an alert, raises it in the same transaction.
  // Returns the new revision.
  virtual base::Result<std::uint64_t> update_order(const Order& order,
                                                   std::vector<AuditEvent> events,
                                                   std::optional<Alert> alert) = 0;
  virtual base::Result<std::optional<Order>> find_order(std::uint64_t id) = 0;
  virtual base::Result<std::vector<Order>> list_orders(const OrderQuery& query) = 0;
  // Orders in `pending` or `processing` (to find those a dead process left behind).
  virtual base::Result<std::vector<Order>> list_unfinished_orders() = 0;
};

// Alerts an operator acknowledges: failed orders, certificates about to expire.
class AlertLog {
 public:
  virtual ~AlertLog() = default;
  // Raises an alert (id assigned) unless an unacknowledged alert with the same dedupe_key
  // exists, whose id is returned instead.
  virtual base::Result<std::uint64_t> raise_alert(Alert alert, std::optional<AuditEvent> event) = 0;
  // kNotFound for an unknown id; acknowledging twice keeps the first acknowledgement.
  virtual base::Result<Alert> acknowledge_alert(std::uint64_t id, std::string by,
                                                base::TimePoint at,
                                                std::optional<AuditEvent> event) = 0;
  virtual base::Result<std::optional<Alert>> find_alert(std::uint64_t id) = 0;
  // Newest first; acknowledged ones only when asked.
  virtual base::Result<std::vector<Alert>> list_alerts(bool include_acknowledged,
                                                       std::size_t limit) = 0;
};

}  // namespace signet::ca
