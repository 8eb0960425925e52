// CertificateService: the certificate lifecycle as an operator drives it, whatever the
// front end (the CLI now, the REST API, the console and the enrollment protocols later).
//
// Every operation goes through an RA profile and creates an order:
//   issue   - from a CSR, from an existing key on a token, with a key generated on a token,
//             or with a local software key delivered once as PKCS#12
//   renew   - same subject, SANs and profile, new validity; the same key unless a CSR is given
//   rekey   - the same subject data with a different key (reissue: the same, by its public-CA
//             name); optionally revokes the predecessor (superseded) in the same commit
//   revoke  - RFC 5280 reasons, optional invalidity date, permanent
// Order lifecycle: created `processing` (durable; it executes at once, so it never waits in
// `pending`, the state of an order queued for later) -> the certificate commits in
// ONE transaction with the order's completion and its audit events -> `complete`; any failure
// -> `failed` with the error and the original parameters, an alert, the audit event
// order.failed, and any key pair the order generated on a token deleted. Profiles are
// checked every time (hard-fail refuses with the rule named; soft-fail proceeds and the order
// keeps the warning), and both outcomes are audited.
//
// The service owns nothing: the Authority signs, the record interfaces store, the
// KeyProvider holds keys. Thread-safe; all of them must outlive it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/keys.h"
#include "base/result.h"
#include "base/rng.h"
#include "base/secure_buffer.h"
#include "ca/authority.h"
#include "ca/order.h"
#include "ca/profile.h"
#include "ca/records.h"
#include "pki/pkcs12.h"

namespace signet::ca {

struct RecordStores {
  Inventory& inventory;
  CaDirectory& cas;
  AuditSink& audit;
  ProfileDirectory& profiles;
  OrderLog& orders;
  AlertLog& alerts;
};

// Which profile: `profile` as "name" (unique across CAs), "ca/name", or, with `ca_name`, that
// CA's profile of that name; `ca_name` alone means that CA's "default" profile.
struct ProfileSelector {
  std::string profile;
  std::string ca_name;
};

struct KeySource {
  KeySourceKind kind = KeySourceKind::kCsr;
  base::Bytes csr;      // kCsr: PEM or DER
  std::string key_uri;  // kTokenKey: RFC 7512 URI of the private key
  // kKeyOnToken: where to generate; kLocalKey: whose KEK wraps the key. "" = default token.
  std::string token;
  // kKeyOnToken, kLocalKey: default the profile's first allowed algorithm, else ec-p256.
  std::optional<base::KeyAlgorithm> algorithm;
};

struct IssueRequest {
  ProfileSelector profile;
  KeySource key;
  // For every key source but kCsr (whose CSR carries them): the subject DN (RFC 4514 or
  // slash form) and SANs ("DNS:x", "IP:a", "email:a@b", "URI:u").
  std::string subject;
  std::vector<std::string> subject_alt_names;
  std::optional<int> validity_days;  // default: the profile's
  // Caps the validity below validity_days (EndEntityPlan::lifetime): for signetd's own
  // certificates, which it renews automatically. Not kept with the order (a resubmit drops it).
  std::optional<std::chrono::seconds> lifetime;
  pki::PfxProfile pfx_profile = pki::PfxProfile::kModern;
};

struct RenewRequest {
  std::uint64_t certificate_id = 0;
  std::optional<base::Bytes> csr;  // a new key after all; default: reuse the key
  std::optional<int> validity_days;
};

struct RekeyRequest {
  std::uint64_t certificate_id = 0;
  KeySource key;
  bool revoke_previous = false;  // revoke the predecessor (superseded) in the same commit
  bool as_reissue = false;       // record the order and events as "reissue"
  std::optional<int> validity_days;
  std::optional<std::chrono::seconds> lifetime;  // as IssueRequest::lifetime
  pki::PfxProfile pfx_profile = pki::PfxProfile::kModern;
};

struct RevokeRequest {
  std::uint64_t certificate_id = 0;
  RevocationReason reason = RevocationReason::kUnspecified;
  std::optional<base::TimePoint> invalidity_date;  // must not be in the future
  // A CA certificate is revoked only when asked for explicitly (`signet ca revoke`), never
  // by a serial that happens to name one.
  bool ca_certificate = false;
};

// A local software key's one-time delivery. The password is random, shown once, never stored.
struct LocalKeyDelivery {
  base::Bytes pfx;
  base::SecureBuffer password;
  pki::PfxProfile profile = pki::PfxProfile::kModern;
};

struct OrderResult {
  Order order;                    // as committed (complete)
  CertificateRecord certificate;  // issued, or for revoke the revoked record
  // Issued: the chain to hand out with it (the signing CA's certificate, then its issuers).
  std::vector<base::Bytes> chain;
  std::optional<LocalKeyDelivery> local_key;
};

struct ImportReport {
  std::vector<CertificateRecord> imported;
  std::size_t duplicates = 0;       // already known (by SHA-256 fingerprint)
  std::vector<std::string> errors;  // "<origin>: <what was wrong>"
};

class CertificateService {
 public:
  // `worker` names this process in orders it processes (see fail_interrupted_orders).
  CertificateService(Authority& authority, RecordStores stores, base::KeyProvider& keys,
                     const base::Clock& clock, base::Rng& rng, std::string actor,
                     std::string worker);

  // ---- RA profiles (audit: profile.created / .updated / .disabled / .enabled) ----
  base::Result<Profile> resolve_profile(const ProfileSelector& selector);
  base::Result<Profile> create_profile(Profile profile);
  // `profile.version` must be the stored version (kConflict otherwise).
  base::Result<Profile> update_profile(Profile profile);
  base::Result<Profile> disable_profile(std::string_view ca_name, std::string_view name);
  // A new version with enabled = true (audit: profile.enabled); unchanged when enabled.
  base::Result<Profile> enable_profile(std::string_view ca_name, std::string_view name);
  // The CA's "default" profile, created when missing (for CAs made before profiles existed).
  base::Result<Profile> ensure_default_profile(std::string_view ca_name);

  // Called with each issued certificate and its chain after signing and before the commit;
  // an error fails the order (and nothing is recorded). Smart-card enrollment writes the
  // certificate onto the card here, so that the inventory never holds a card certificate the
  // card lacks. Set it before the service is used.
  using BeforeCommit = std::function<base::Result<void>(const CertificateRecord& record,
                                                        const std::vector<base::Bytes>& chain)>;
  void set_before_commit(BeforeCommit hook) { before_commit_ = std::move(hook); }

  // ---- lifecycle: each creates an order ----
  base::Result<OrderResult> issue(const IssueRequest& request);
  base::Result<OrderResult> renew(const RenewRequest& request);
  base::Result<OrderResult> rekey(const RekeyRequest& request);
  base::Result<OrderResult> revoke(const RevokeRequest& request);
  // Runs a failed order's original parameters again as a new order.
  base::Result<OrderResult> resubmit(std::uint64_t order_id);

  // ---- inventory ----
  // A certificate by serial (hex, with or without colons) or SHA-256 fingerprint (64 hex
  // digits). A serial that two CAs issued is ambiguous: the error lists them.
  base::Result<CertificateRecord> find(std::string_view id);
  // find() and the audit event certificate.view.accessed.
  base::Result<CertificateRecord> view(std::string_view id);
  // The certificate DER followed, with `with_chain`, by the CA certificate that signed it
  // (the current or a previous one, after a CA renewal) and its issuers; audits
  // certificate.download.success.
  base::Result<std::vector<base::Bytes>> download(std::uint64_t certificate_id, bool with_chain);
  // A new PKCS#12 with a new random password, for a certificate issued with a local software
  // key (unwrapped from the token for the moment it takes); kPolicyViolation with a clear
  // message for a key on a token or behind a CSR. Audits certificate.download_pfx.success.
  base::Result<LocalKeyDelivery> export_pfx(std::uint64_t certificate_id, pki::PfxProfile profile);
  // Imports PEM (bundles too) or DER certificates as `discovered`, deduplicated by
  // fingerprint. `origin` names the input in errors and audit events.
  base::Result<ImportReport> import_certificates(base::ByteView data, std::string_view origin);

  // ---- recovery and alerts ----
  // Fails every pending/processing order whose worker is not alive (a killed process), deletes
  // the key pairs they generated, raises alerts; returns them.
  base::Result<std::vector<Order>> fail_interrupted_orders(
      const std::function<bool(std::string_view worker)>& worker_alive);
  // Raises one alert per active certificate expiring within `days`; a certificate with an
  // open alert keeps it (deduplicated). Certificates of `excluded_cas` are left out (the
  // appliance renews its own internal CA's certificates itself). Returns how many
  // certificates now have an open alert.
  base::Result<std::size_t> raise_expiry_alerts(int days,
                                                const std::vector<std::string>& excluded_cas = {});
  base::Result<Alert> acknowledge_alert(std::uint64_t id);

  // Keys on tokens that nothing references: `candidates` (e.g. a token's key list) minus the
  // keys of CAs and of certificates in the inventory.
  base::Result<std::vector<base::KeyRef>> orphaned_keys(
      const std::vector<base::KeyRef>& candidates);

 private:
  // The public operations, with the failed order a resubmission retries (0: none).
  base::Result<OrderResult> issue(const IssueRequest& request, std::uint64_t resubmitted_from);
  base::Result<OrderResult> renew(const RenewRequest& request, std::uint64_t resubmitted_from);
  base::Result<OrderResult> rekey(const RekeyRequest& request, std::uint64_t resubmitted_from);
  base::Result<OrderResult> revoke(const RevokeRequest& request, std::uint64_t resubmitted_from);

  struct SubjectKey;  // the key, subject and SANs an issuance certifies
  struct Work;        // one issuance order on its way

  base::Result<OrderResult> issue_order(Order order, const IssueRequest& request,
                                        const CertificateRecord* predecessor, bool revoke_previous);
  base::Result<OrderResult> execute(Work& work);
  base::Result<SubjectKey> obtain_subject_key(Work& work);
  base::Result<std::uint64_t> commit_issuance(Work& work, CertificateRecord& record,
                                              std::vector<AuditEvent> events);
  base::Result<Order> begin_order(Order order, std::string submitted_action);
  // Marks the order failed with `error` (audit order.failed, an alert, the generated key
  // deleted) and returns `error` with the order named.
  base::Error fail_order(Order& order, base::Error error, std::vector<AuditEvent> events = {});
  base::Result<CertificateRecord> certificate_by_id(std::uint64_t id);
  AuditEvent make_event(std::string action, std::string object, std::string detail) const;
  base::TimePoint now() const;

  Authority& authority_;
  RecordStores stores_;
  base::KeyProvider& keys_;
  const base::Clock& clock_;
  base::Rng& rng_;
  std::string actor_;
  std::string worker_;
  BeforeCommit before_commit_;
};

}  // namespace signet::ca
