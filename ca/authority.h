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

struct CaSettingsUpdate {
  std::optional<std::string> base_url;  // "" clears it
  std::optional<int> default_validity_days;
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

  base::Result<CaRecord> find_ca(std::string_view name);
  // The CA's certificate followed by its issuers up to the root (or the external chain).
  base::Result<std::vector<base::Bytes>> ca_chain(std::string_view name);

  // Issues from a PKCS#10 request; the result is committed (durable) when this returns.
  base::Result<CertificateRecord> issue_from_csr(const IssueFromCsrRequest& request);
  // The same, but the signing happens now, on the calling thread, and the returned future
  // completes after the group commit: many issuances can be in flight from one thread.
  std::future<base::Result<CertificateRecord>> issue_from_csr_async(
      const IssueFromCsrRequest& request);

 private:
  struct IssuingCa;  // the cached signer, certificate and TBS template of one CA

  base::Result<std::shared_ptr<const IssuingCa>> issuing_ca(std::string_view name);
  void forget_issuing_ca(std::string_view name);
  base::Result<std::shared_ptr<base::Signer>> obtain_ca_key(const NewCaRequest& request,
                                                            bool& generated);
  base::Result<CaRecord> finish_new_ca(const NewCaRequest& request, CaRecord record,
                                       const std::shared_ptr<base::Signer>& signer, bool generated);
  base::Result<base::Bytes> sign_ca_certificate(
      const IssuingCa* parent, const base::Signer& subject_key, const base::Signer& signing_key,
      base::ByteView subject_der, const NewCaRequest& request, pki::SerialNumber serial,
      base::TimePoint not_before, base::TimePoint not_after);
  struct SignedCertificate;
  base::Result<SignedCertificate> sign_end_entity(const IssueFromCsrRequest& request);
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
