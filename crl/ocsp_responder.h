// OcspResponder: answers DER OCSPRequests with DER OCSPResponses (RFC 6960, the RFC 5019
// profile). The HTTP binding lives in the appliance; this is bytes in, bytes out.
//
// Each CertID is matched against every certificate (current and previous) of every active CA
// by the hashes of the issuer's name and key, with SHA-1 (what `openssl ocsp` and RFC 5019
// clients send) and SHA-256/384/512; the status comes from the store: good, revoked (time and
// reason) or unknown (a serial the CA never issued). The request's CertID is echoed as sent,
// and its nonce (RFC 8954, at most 32 octets) when present. Responses are signed by the CA key
// or by its delegated responder (OcspSigners), and carry thisUpdate = the signing time and
// nextUpdate = thisUpdate + the CA's ocsp_validity_minutes.
//
// Signing is the cost of a response, so responses to requests without a nonce are cached:
// a bounded LRU map keyed by the exact CertID, holding the signed response and the status it
// states. Every request still reads the status from the store (microseconds), and a cached
// response whose status differs (a revocation since) or that is past half its validity is
// re-signed; so the cache never serves a stale status, also when another process revoked.
//
// Errors are responses too: malformedRequest for anything that does not parse or breaks a
// limit, unauthorized for a CertID of an issuer that is not ours, internalError when the
// store or the token fails. respond() never throws and never hangs on input.
// Thread-safe: respond() runs concurrently; reload() picks up CA changes.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/result.h"
#include "ca/records.h"
#include "crl/ocsp_signers.h"
#include "pki/ocsp.h"

namespace signet::crl {

struct OcspResponderOptions {
  std::size_t cache_entries = 100000;  // 0 disables the cache
};

struct OcspStats {
  std::uint64_t requests = 0;
  std::uint64_t cache_hits = 0;
  std::uint64_t signed_responses = 0;
  std::uint64_t malformed = 0;
  std::uint64_t unauthorized = 0;
  std::uint64_t internal_errors = 0;
  std::size_t cached = 0;
};

class OcspResponder {
 public:
  OcspResponder(ca::Inventory& inventory, ca::CaDirectory& cas, OcspSigners& signers,
                const base::Clock& clock, OcspResponderOptions options = {});
  ~OcspResponder();

  // Reads the CAs and their certificates (again); call after a CA was created, renewed or
  // reconfigured. respond() calls it once by itself.
  base::Result<void> reload();

  base::Bytes respond(base::ByteView request_der);
  // The same, with the reason when the response is not `successful` (for logs and the CLI).
  struct Outcome {
    base::Bytes response;
    pki::OcspResponseStatus status = pki::OcspResponseStatus::kSuccessful;
    std::string error;  // why, when not successful
  };
  Outcome handle(base::ByteView request_der);

  OcspStats stats() const;

 private:
  struct Issuer;  // one CA certificate's hashes, with its CA
  using Issuers = std::vector<Issuer>;
  struct Cache;

  base::Result<std::shared_ptr<const Issuers>> issuers();
  Outcome answer(const pki::OcspRequestInfo& request);
  void count(std::uint64_t OcspStats::*counter);

  ca::Inventory& inventory_;
  ca::CaDirectory& cas_;
  OcspSigners& signers_;
  const base::Clock& clock_;
  OcspResponderOptions options_;

  mutable std::mutex mutex_;                // issuers_ and stats_
  std::shared_ptr<const Issuers> issuers_;  // swapped whole by reload()
  OcspStats stats_;
  std::unique_ptr<Cache> cache_;
};

}  // namespace signet::crl
