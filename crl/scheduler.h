// RevocationScheduler: decides when each CA's CRLs must be regenerated and its delegated
// OCSP responder certificate renewed, and does it. The appliance runs it: the CLI on demand
// (`signet crl refresh`) and after revocations, signetd in its scheduler loop (sleep until
// next_wakeup(), run_due(), repeat; call on_revocation() after revoking).
//
// A full CRL is due when the CA has none, when its nextUpdate is within the CA's overlap
// (crl_overlap_minutes), or, with crl_on_revocation and without deltas, when a certificate
// of the CA was revoked after the CRL was made. With delta CRLs, a delta is due when there is
// none over the latest full CRL, when its nextUpdate is near, or after a revocation. Whether
// anything was revoked since is read from the store (revocation sequences), not remembered
// in memory: a process killed between a revocation and the CRL leaves work that the next
// run finds.
//
// Thread-safe as far as its services are; run_due() from one thread at a time.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "ca/records.h"
#include "crl/crl_service.h"

namespace signet::crl {

class OcspSigners;

struct DueWork {
  std::string ca_name;
  enum class What { kFullCrl, kDeltaCrl, kOcspSigner } what = What::kFullCrl;
  std::string why;  // "no CRL yet", "nextUpdate in 12 min", "2 revocations since CRL 7"...
};
std::string_view to_string(DueWork::What what);  // "full CRL", "delta CRL", "OCSP signer"

struct WorkOutcome {
  DueWork work;
  std::optional<ca::CrlRecord> crl;  // a generated CRL (without its DER)
  std::optional<base::Error> error;  // the work failed; the others still ran
};

class RevocationScheduler {
 public:
  // `signers` may be null (no delegated OCSP responders managed here).
  RevocationScheduler(CrlService& crls, OcspSigners* signers, CrlStores stores,
                      const base::Clock& clock);

  // What is due now, for every active CA (or only `ca_name`).
  base::Result<std::vector<DueWork>> due(std::string_view ca_name = {});
  // Does what is due; one failure does not stop the rest (each outcome says).
  base::Result<std::vector<WorkOutcome>> run_due(std::string_view ca_name = {});
  // After a revocation: runs what is due for that CA when it regenerates on revocation.
  base::Result<std::vector<WorkOutcome>> on_revocation(std::string_view ca_name);
  // When something next becomes due without a revocation (earliest over every CA); nullopt
  // when no CA can sign. A daemon sleeps until then (or a revocation) and calls run_due().
  base::Result<std::optional<base::TimePoint>> next_wakeup();

 private:
  base::Result<void> add_due(const ca::CaRecord& ca, std::vector<DueWork>& work);
  base::Result<std::uint64_t> revoked_since(const ca::CaRecord& ca, std::uint64_t sequence);

  CrlService& crls_;
  OcspSigners* signers_;
  CrlStores stores_;
  const base::Clock& clock_;
};

}  // namespace signet::crl
