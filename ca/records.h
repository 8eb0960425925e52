// The records the CA keeps and the interfaces through which it keeps them.
//
// ca/ declares what it needs; store/ implements it over LMDB (and a later store over
// PostgreSQL would implement the same). Nothing here assumes LMDB: uniqueness of serials per
// CA and of CA names is enforced by the implementation, durably, at commit. Implementations
// are thread-safe; every method may be called from many threads at once.
#pragma once

#include <cstdint>
#include <functional>
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

// One entry of a CA's revoked-certificate table: what a CRL entry needs, inline, so that a CRL
// of a million entries is one cursor walk and no record reads.
struct RevokedEntry {
  base::ByteView serial;  // minimal big-endian magnitude; valid only during the visit
  base::TimePoint revoked_at{};
  int reason = 0;  // a RevocationReason value
  std::optional<base::TimePoint> invalidity_date;
  base::TimePoint not_after{};  // the certificate's, for dropping expired entries
  std::uint64_t sequence = 0;   // the revocation's sequence (Revocation::sequence)
};

// Receives a scan of revoked entries. begin() comes first with an upper bound of the number
// of entries that follow (to size buffers; it may be far above the real count), then visit()
// once per entry; an error from visit() stops the scan and is returned by it.
class RevokedVisitor {
 public:
  virtual ~RevokedVisitor() = default;
  virtual void begin(std::uint64_t at_most) { (void)at_most; }
  virtual base::Result<void> visit(const RevokedEntry& entry) = 0;
};

struct RevokedScan {
  std::uint64_t entries = 0;  // how many were visited
  // The highest revocation sequence in the store (any CA) in the snapshot the scan read:
  // every revocation up to it was considered. A delta CRL built later starts after it.
  std::uint64_t revocation_sequence = 0;
};

// What an OCSP responder needs to know of one serial.
struct SerialStatus {
  std::uint64_t certificate_id = 0;
  base::TimePoint not_after{};
  std::optional<Revocation> revocation;
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

  // The CA's revoked certificates in ascending serial order, from one consistent snapshot
  // (one read transaction), streamed to `visitor` without materialising them: the full CRL.
  virtual base::Result<RevokedScan> scan_revoked(std::string_view ca_name,
                                                 RevokedVisitor& visitor) = 0;
  // The CA's revocations with sequence > after_sequence, in sequence order, from one
  // snapshot: the delta CRL, and "has anything been revoked since the last CRL?".
  virtual base::Result<RevokedScan> scan_revoked_since(std::string_view ca_name,
                                                       std::uint64_t after_sequence,
                                                       RevokedVisitor& visitor) = 0;
  // The status of one serial of one CA (OCSP): nullopt when the CA never issued it.
  virtual base::Result<std::optional<SerialStatus>> serial_status(
      std::string_view ca_name, const pki::SerialNumber& serial) = 0;
};

enum class CaState { kActive, kAwaitingCertificate };
std::string_view to_string(CaState state);  // "active", "awaiting-certificate"

enum class OcspSigning { kCaKey, kDelegated };
std::string_view to_string(OcspSigning signing);  // "ca", "delegated"
base::Result<OcspSigning> parse_ocsp_signing(std::string_view text);

// A CA's settings (they live on the CA record). Defaults follow what EJBCA and Vault PKI
// operators expect: a daily CRL regenerated an hour before it expires and on every
// revocation, no deltas until asked for, OCSP responses valid for an hour.
struct CaSettings {
  // Base URL of the plain-HTTP listener; empty: no CDP/AIA. Layout: <base>/crl/<ca>.crl
  // (full), <base>/crl/<ca>-delta.crl, <base>/ocsp/<ca>, <base>/ca/<ca>.crt.
  std::string base_url;
  int default_validity_days = 365;

  int crl_validity_hours = 24;          // nextUpdate - thisUpdate of a full CRL (1..8760)
  int crl_overlap_minutes = 60;         // regenerate this long before nextUpdate (0..validity)
  bool crl_on_revocation = true;        // regenerate when one of the CA's certificates is revoked
  bool delta_crls = false;              // publish delta CRLs (and Freshest CRL on full ones)
  int delta_crl_validity_minutes = 60;  // nextUpdate - thisUpdate of a delta CRL (5..10080)
  // Entries of certificates expired more than this many days are left off (RFC 5280 §3.3
  // allows it); negative: keep them forever.
  int crl_expired_grace_days = 7;
  int crl_history = 10;  // stored CRLs kept per kind (full, delta); the latest always stays

  OcspSigning ocsp_signing = OcspSigning::kCaKey;
  int ocsp_validity_minutes = 60;          // nextUpdate - thisUpdate of OCSP responses (1..10080)
  int ocsp_signer_validity_days = 30;      // a delegated responder certificate's lifetime
  int ocsp_signer_renew_before_days = 10;  // renewed automatically this long before expiry
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
  // The delegated OCSP responder certificate in the inventory (id-kp-OCSPSigning,
  // id-pkix-ocsp-nocheck; its key on the CA's token); 0: none issued yet.
  std::uint64_t ocsp_signer_certificate_id = 0;
  base::TimePoint created_at{};
  std::uint64_t revision = 0;  // bumped by the store on each update (optimistic locking)
};

// The CA's publication URLs under settings.base_url (see CaSettings); "" without a base URL.
std::string full_crl_url(const CaRecord& ca);    // <base>/crl/<ca>.crl
std::string delta_crl_url(const CaRecord& ca);   // <base>/crl/<ca>-delta.crl
std::string ocsp_url(const CaRecord& ca);        // <base>/ocsp/<ca>
std::string ca_issuers_url(const CaRecord& ca);  // <base>/ca/<ca>.crt

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

enum class CrlKind { kFull, kDelta };
std::string_view to_string(CrlKind kind);  // "full", "delta"

// A signed CRL as stored.
struct CrlRecord {
  std::string ca_name;
  std::uint64_t number = 0;  // cRLNumber
  CrlKind kind = CrlKind::kFull;
  std::uint64_t base_number = 0;  // delta: the full CRL it completes (Delta CRL Indicator)
  base::TimePoint this_update{};
  base::TimePoint next_update{};
  // Every revocation with a sequence up to this one is reflected (RevokedScan).
  std::uint64_t revocation_sequence = 0;
  std::uint64_t entries = 0;
  std::uint64_t der_size = 0;  // set by the store; der may be left empty by listings
  base::Bytes der;
};

// CRLs by CA and number. Numbers are per CA, shared by full and delta CRLs (RFC 5280 §5.2.3).
class CrlLog {
 public:
  virtual ~CrlLog() = default;
  // Hands out the CA's next CRL number (1, 2, 3...), durably before returning: a number is
  // never handed out twice, even when the process dies before its CRL is stored (the gap this
  // leaves is harmless; RFC 5280 asks for increasing numbers, not consecutive ones).
  virtual base::Result<std::uint64_t> reserve_crl_number(std::string_view ca_name) = 0;
  // Stores a signed CRL with its audit event in one durable transaction, then keeps only the
  // newest `keep` CRLs of its kind for the CA (keep >= 1). kAlreadyExists when the CA has a
  // CRL with this number; kInvalidArgument when the number was never reserved.
  virtual base::Result<void> store_crl(const CrlRecord& crl, std::optional<AuditEvent> event,
                                       std::size_t keep) = 0;
  // The newest of that kind (highest number), with its DER.
  virtual base::Result<std::optional<CrlRecord>> latest_crl(std::string_view ca_name,
                                                            CrlKind kind) = 0;
  // The same without its DER (der empty, der_size set): what schedulers and health checks
  // need, without copying a CRL of tens of megabytes.
  virtual base::Result<std::optional<CrlRecord>> latest_crl_info(std::string_view ca_name,
                                                                 CrlKind kind) = 0;
  virtual base::Result<std::optional<CrlRecord>> find_crl(std::string_view ca_name,
                                                          std::uint64_t number) = 0;
  // Newest first, without DER (der empty, der_size set), at most `limit`.
  virtual base::Result<std::vector<CrlRecord>> list_crls(std::string_view ca_name,
                                                         std::size_t limit) = 0;
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

// A signed checkpoint of the audit log: the chain's head (the hash of entry `sequence`) signed
// with the audit key on the token. ca/audit_checkpoint.h defines the signed message and how
// checkpoints are verified.
struct AuditCheckpoint {
  std::uint64_t sequence = 0;   // the entry whose hash is signed (the head at signing time)
  base::Bytes head;             // 32 bytes: that entry's hash
  base::TimePoint signed_at{};  // whole seconds (the message carries Unix seconds)
  base::KeyRef key;             // the audit key that signed (informational)
  base::Bytes public_key_der;   // its SPKI as it signed (informational: verify with a trusted key)
  base::KeyAlgorithm algorithm = base::KeyAlgorithm::kEcP256;  // the key's; its digest signs
  base::Bytes signature;  // as base::Signer::sign returns it (ECDSA: DER)
};

// The signed checkpoints of the audit log, beside it in the same store.
class AuditCheckpointLog {
 public:
  virtual ~AuditCheckpointLog() = default;
  // Appends `checkpoint` and `event` (the audit event recording it, which gets the next
  // sequence) in ONE durable transaction, as audit events are written. The store checks what
  // it can: the log's entry at checkpoint.sequence exists and its hash is checkpoint.head
  // (kConflict otherwise), and checkpoints only move forward (kConflict for a sequence at or
  // below the latest checkpoint's). Returns the event's sequence. Nothing of a refused
  // checkpoint is written.
  virtual base::Result<std::uint64_t> append_checkpoint(const AuditCheckpoint& checkpoint,
                                                        AuditEvent event) = 0;
  // Checkpoints with sequence > after, oldest first, at most `limit`.
  virtual base::Result<std::vector<AuditCheckpoint>> list_checkpoints(std::uint64_t after,
                                                                      std::size_t limit) = 0;
  // The newest checkpoint, if any.
  virtual base::Result<std::optional<AuditCheckpoint>> latest_checkpoint() = 0;
  // The log's last entry (the chain's head), if any: read without walking the log.
  virtual base::Result<std::optional<AuditEvent>> last_audit_event() = 0;
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
