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
#include "pki/serial_number.h"

namespace signet::ca {

enum class CertificateStatus { kActive, kExpired, kRevoked };
enum class CertificateSource { kManaged, kDiscovered };

std::string_view to_string(CertificateStatus status);  // "active", "expired", "revoked"
base::Result<CertificateStatus> parse_certificate_status(std::string_view text);
std::string_view to_string(CertificateSource source);  // "managed", "discovered"

// RFC 5280 §5.3.1 reason codes (certificateHold, 6, is not offered).
struct Revocation {
  base::TimePoint revoked_at{};
  int reason = 0;
  std::optional<base::TimePoint> invalidity_date;
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
};

// Status at a given time: revoked wins over expired.
CertificateStatus status_at(const CertificateRecord& record, base::TimePoint now);

// Filters for listing. Unset fields do not filter.
struct CertificateQuery {
  std::optional<std::string> ca_name;
  std::optional<CertificateStatus> status;
  std::optional<base::TimePoint> not_after_before;  // "expiring within": notAfter < this
  base::TimePoint now{};                            // for status and expiry computation
  std::size_t limit = 100;                          // at most this many per page (1..1000)
  std::string cursor;  // opaque; "" for the first page, then CertificatePage::next_cursor
};

struct CertificatePage {
  std::vector<CertificateRecord> items;
  std::string next_cursor;  // "" when there is no further page
};

// An entry in the audit log: who did what to which object, when.
struct AuditEvent {
  std::uint64_t sequence = 0;  // assigned by the store: 1, 2, 3... in commit order
  base::TimePoint time{};
  std::string actor;   // "cli:root" for the CLI, an operator name later
  std::string action;  // "ca.created", "certificate.issued"...
  std::string object;  // "ca:root", "certificate:<ca>/<serial>"
  std::string detail;  // a JSON object with the specifics (never secrets)
};

class Inventory {
 public:
  virtual ~Inventory() = default;

  // Commits the record, and the audit event when given, in one durable transaction (fsync)
  // shared with other commits in flight (group commit). The future completes only after the
  // commit: with the record's assigned id, or kAlreadyExists when the CA already has this
  // serial or the fingerprint is known (nothing is written then), or kStorageFull /
  // kStorageError (nothing is written either).
  virtual std::future<base::Result<std::uint64_t>> put_certificate_async(
      CertificateRecord record, std::optional<AuditEvent> event) = 0;

  base::Result<std::uint64_t> put_certificate(CertificateRecord record,
                                              std::optional<AuditEvent> event) {
    return put_certificate_async(std::move(record), std::move(event)).get();
  }

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
  // Ordered by notAfter, then id; keyset-paginated.
  virtual base::Result<CertificatePage> list_certificates(const CertificateQuery& query) = 0;
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

}  // namespace signet::ca
