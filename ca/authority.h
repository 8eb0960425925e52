// Authority: the CA core. It creates root and intermediate CAs whose keys live on tokens
// (through base::KeyProvider), keeps their settings, and issues end-entity certificates:
// policy check -> random serial -> TBS from the CA's template -> Signer -> durable commit.
//
// The Authority owns no storage and no keys: it is handed the record interfaces of
// ca/records.h, a KeyProvider, a Clock and an Rng, all of which must outlive it. It is
// thread-safe: issuances run concurrently from many threads; the per-CA issuing context
// (signer and TBS template) is cached behind a mutex and rebuilt when this Authority changes
// the CA. While one Authority serves a store, other writers of CA records must not run beside
// it (signetd owns the store while it runs).
#pragma once

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/keys.h"
#include "base/result.h"
#include "base/rng.h"
#include "ca/records.h"
#include "pki/certificate.h"
#include "pki/tbs_certificate.h"

namespace signet::ca {

struct NewCaRequest {
  std::string name;
  std::string subject;  // DN, RFC 4514 or OpenSSL slash form
  base::KeyAlgorithm key_algorithm = base::KeyAlgorithm::kEcP384;
  std::string token;                 // where to generate the key; "" = the provider's default token
  std::string key_uri;               // adopt this existing key instead of generating one
  std::optional<int> validity_days;  // default: 3650 for a root, 1825 for an intermediate
  std::optional<int> path_length;    // basicConstraints pathLenConstraint
  std::string parent;                // intermediate signed here: the parent CA's name
  bool external_parent = false;      // intermediate signed by a root outside Signet
};

// Unset fields stay as they are. Ranges are checked (kInvalidArgument naming the setting).
struct CaSettingsUpdate {
  std::optional<std::string> base_url;  // "" clears it
  std::optional<int> default_validity_days;
  // Revocation services (see CaSettings in ca/records.h).
  std::optional<int> crl_validity_hours;
  std::optional<int> crl_overlap_minutes;
  std::optional<bool> crl_on_revocation;
  std::optional<bool> delta_crls;  // on: needs a base URL (Freshest CRL points at the deltas)
  std::optional<int> delta_crl_validity_minutes;
  std::optional<int> crl_expired_grace_days;
  std::optional<int> crl_history;
  std::optional<OcspSigning> ocsp_signing;
  std::optional<int> ocsp_validity_minutes;
  std::optional<int> ocsp_signer_validity_days;
  std::optional<int> ocsp_signer_renew_before_days;

  bool empty() const;
};

// A new certificate for an existing CA: the same key (renewal), or a new key generated on the
// token (rollover). The previous certificate moves to previous_certificates_der and stays
// available for verifying what it signed.
struct RenewCaRequest {
  std::string name;
  std::optional<base::KeyAlgorithm> new_key;  // rollover: generate a key of this algorithm
  std::string token;                          // where to generate it; "" = where the old key is
  std::optional<int> validity_days;           // default: as at creation (3650 / 1825)
};

// One end-entity certificate to sign, after the RA profile decided what it carries.
struct EndEntityPlan {
  std::string ca_name;
  base::Bytes subject_der;
  base::Bytes public_key_der;                  // SPKI
  std::vector<std::string> subject_alt_names;  // "DNS:x"...
  int validity_days = 365;
  // When set, not_after is at most this long after issuance: lifetimes shorter than a day, for
  // certificates that are renewed automatically (signetd's TLS certificate). At least 60 s.
  std::optional<std::chrono::seconds> lifetime;
  std::uint16_t key_usage = 0;                  // pki::KeyUsageBit flags
  std::vector<std::string> extended_key_usage;  // dotted OIDs
  bool ocsp_no_check = false;                   // a delegated OCSP responder certificate
};

struct IssueFromCsrRequest {
  std::string ca_name;
  base::Bytes csr;                   // PEM or DER
  std::optional<int> validity_days;  // default: the CA's default validity
};

class Authority {
 public:
  Authority(Inventory& inventory, CaDirectory& cas, AuditSink& audit, base::KeyProvider& keys,
            const base::Clock& clock, base::Rng& rng, std::string actor);

  // A self-signed root CA.
  base::Result<CaRecord> create_root(const NewCaRequest& request);
  // An intermediate signed by `request.parent`, or, with external_parent, a CA awaiting its
  // certificate: the returned record's pending_csr_der is the CSR (made with the token key)
  // to send to the external root.
  base::Result<CaRecord> create_intermediate(const NewCaRequest& request);
  // Installs the certificate an external root returned for a CA awaiting one (PEM bundle:
  // the CA certificate first, then its issuers). The certificate must carry the CA's key,
  // be a CA certificate, and verify against the next certificate of the bundle when given.
  base::Result<CaRecord> import_ca_certificate(std::string_view name, base::ByteView bundle);
  base::Result<CaRecord> update_settings(std::string_view name, const CaSettingsUpdate& update);
  // Renews or rolls over a CA certificate (audit: ca.renewed / ca.rolled_over). A root signs
  // itself; an intermediate is signed by its parent here (an externally signed CA gets a new
  // pending CSR instead). The new certificate is recorded in the inventory.
  base::Result<CaRecord> renew_ca(const RenewCaRequest& request);

  base::Result<CaRecord> find_ca(std::string_view name);
  // The inventory record of the CA's current certificate (kept under its parent, a root under
  // itself): what `signet ca revoke` revokes through the parent. A CA whose certificate is
  // revoked issues nothing more.
  base::Result<CertificateRecord> ca_certificate_record(std::string_view name);
  // Drops what this Authority caches about the CA (after it was revoked or changed elsewhere).
  void forget_ca(std::string_view name) { forget_issuing_ca(name); }
  // The CA's certificate followed by its issuers up to the root (or the external chain).
  base::Result<std::vector<base::Bytes>> ca_chain(std::string_view name);

  // Issues from a PKCS#10 request; the result is committed (durable) when this returns.
  base::Result<CertificateRecord> issue_from_csr(const IssueFromCsrRequest& request);
  // The same, but the signing happens now, on the calling thread, and the returned future
  // completes after the group commit: many issuances can be in flight from one thread.
  std::future<base::Result<CertificateRecord>> issue_from_csr_async(
      const IssueFromCsrRequest& request);

  // Signs a planned certificate and returns its record, NOT committed: the caller commits it
  // (with its order and events, ca::CertificateCommit) and retries with a fresh serial on
  // kAlreadyExists. Validity is capped at the CA certificate's notAfter.
  // `chain`, when given, receives the chain to hand out with the certificate: the certificate
  // of the CA that signed it, then its issuers (no signature is verified per call for this).
  base::Result<CertificateRecord> sign_planned(const EndEntityPlan& plan,
                                               std::vector<base::Bytes>* chain = nullptr);
  // The CA certificate (current or previous) whose key signed `certificate_der`, followed by
  // its issuers: the chain to hand out with it.
  base::Result<std::vector<base::Bytes>> chain_for(std::string_view ca_name,
                                                   base::ByteView certificate_der);

 private:
  struct IssuingCa;  // the cached signer, certificate and TBS template of one CA

  base::Result<std::shared_ptr<const IssuingCa>> issuing_ca(std::string_view name);
  void forget_issuing_ca(std::string_view name);
  base::Result<std::shared_ptr<base::Signer>> obtain_ca_key(const NewCaRequest& request,
                                                            bool& generated);
  base::Result<void> record_ca_certificate(const CaRecord& record,
                                           const pki::Certificate& certificate,
                                           std::string_view what);
  base::Result<CaRecord> finish_new_ca(const NewCaRequest& request, CaRecord record,
                                       const std::shared_ptr<base::Signer>& signer, bool generated);
  base::Result<base::Bytes> sign_ca_certificate(
      const IssuingCa* parent, const base::Signer& subject_key, const base::Signer& signing_key,
      base::ByteView subject_der, const NewCaRequest& request, pki::SerialNumber serial,
      base::TimePoint not_before, base::TimePoint not_after);
  struct SignedCertificate;
  base::Result<SignedCertificate> sign_end_entity(const IssueFromCsrRequest& request);
  base::Result<CertificateRecord> sign_with(const IssuingCa& ca, const EndEntityPlan& plan,
                                            std::vector<pki::GeneralName> sans,
                                            std::string subject_text, std::string common_name,
                                            std::string key_algorithm);
  static base::Result<void> check_first_certificate(const IssuingCa& ca, base::ByteView der);
  base::Result<CertificateRecord> commit_with_retry(const IssueFromCsrRequest& request,
                                                    SignedCertificate signed_cert);
  AuditEvent make_event(std::string action, std::string object, std::string detail) const;
  base::TimePoint now_seconds() const;

  Inventory& inventory_;
  CaDirectory& cas_;
  AuditSink& audit_;
  base::KeyProvider& keys_;
  const base::Clock& clock_;
  base::Rng& rng_;
  std::string actor_;

  std::mutex cache_mutex_;  // guards issuing_cache_
  std::map<std::string, std::shared_ptr<const IssuingCa>, std::less<>> issuing_cache_;
};

}  // namespace signet::ca
