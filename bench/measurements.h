// The bench's measurements, each a timed run (bench/timed_run.h) on a given number of threads:
//   (a) measure_signing:            the CA key's raw signature rate, through PKCS#11;
//   (b) measure_csr_verification:   Csr::parse + verify_signature over the CSR pool;
//   (d) measure_issuance:           Authority::issue_from_csr_async, end to end and durable;
//   (s) measure_store_commits:      only the store's group commit, with ready-made records;
// and measure_stages(): one thread timing each step of an issuance on its own.
// Thread-safety: each function runs its own threads and returns when they are joined.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/keys.h"
#include "base/rng.h"
#include "bench/timed_run.h"
#include "ca/authority.h"
#include "ca/records.h"
#include "store/lmdb_store.h"

namespace signet::bench {

struct RunConfig {
  Steady::duration warmup = std::chrono::milliseconds(500);
  Steady::duration measure = std::chrono::seconds(3);
  int in_flight = 64;  // issuances (or commits) outstanding, over all threads
};

// A run that writes to the store, with what the store did during the measured interval.
struct StoreRun {
  RunResult run;
  std::uint64_t commits = 0;  // write transactions
  std::uint64_t records = 0;  // certificates committed
  double average_batch() const {
    return commits > 0 ? static_cast<double>(records) / static_cast<double>(commits) : 0;
  }
};

// (a) Each thread signs a 400-byte message (the size of a TBSCertificate) in a loop.
RunResult measure_signing(const base::Signer& signer, int threads, const RunConfig& config);

// (b) Each thread parses a CSR of the pool and verifies its self-signature, in a loop.
RunResult measure_csr_verification(const std::vector<base::Bytes>& csrs, int threads,
                                   const RunConfig& config);

// (d) Each thread keeps config.in_flight / threads issuances outstanding: it submits until
// its window is full, then waits for the oldest (whose commit is then durable) and submits
// again. Only issuances whose commit completed inside the interval count.
StoreRun measure_issuance(ca::Authority& authority, const std::string& ca_name,
                          const std::vector<base::Bytes>& csrs, store::LmdbStore& store,
                          int threads, const RunConfig& config);

// (s) The same window over put_certificate_async alone: copies of `sample` with fresh serials
// and fingerprints, each with an audit event as an issuance has. The store's own ceiling.
StoreRun measure_store_commits(store::LmdbStore& store, const ca::CertificateRecord& sample,
                               int threads, const RunConfig& config);

struct Stage {
  std::string name;
  StageTime time;
};

// One thread times each step of sign_end_entity (ca/authority.cpp) in isolation, for the
// CA `ca` whose key is `signer`; `duration` per step.
std::vector<Stage> measure_stages(const ca::CaRecord& ca, const base::Signer& signer,
                                  const std::vector<base::Bytes>& csrs, base::Rng& rng,
                                  Steady::duration duration);

}  // namespace signet::bench
