// signet-crl-bench's CRL measurements (see crl_bench.cpp for the whole run).
//
// measure_full_crl() and measure_crl_stages() run in a fresh process over a store filled by
// another (the parent re-executes the bench), so that the peak resident memory they report is
// that of one CRL generation and nothing else: VmHWM, which counts the store's mapped pages
// that were read as well as the heap (ru_maxrss would include the parent's RSS, see
// bench/child_process.h). Their results are JSON, printed by the child and read
// back by the parent. measure_delta() runs in the parent. Each function is single-threaded.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"
#include "bench/bench_environment.h"
#include "bench/revocation_fixture.h"
#include "ca/authority.h"

namespace signet::bench {

// This process's memory now, from /proc/self/status (kB; 0 when unreadable).
struct MemorySample {
  long peak_kb = 0;  // VmHWM: the peak resident set so far
  long anon_kb = 0;  // RssAnon: heap and other private memory
  long file_kb = 0;  // RssFile: mapped files (the LMDB map) and libraries
};
MemorySample sample_memory();

// crl::CrlService::generate_full, once: {seconds, entries, der_bytes, number, baseline_kb,
// peak_kb, peak_anon_kb, peak_file_kb} (baseline_kb: the peak before generating, i.e. the
// process with its token and store open; peak_anon_kb and peak_file_kb: the highest
// anonymous (heap) and file-backed (the LMDB map, libraries) resident sizes seen while it ran,
// sampled every millisecond).
base::Result<nlohmann::json> measure_full_crl(BenchEnvironment& env, const FixtureShape& shape);

// The steps of a full CRL, each timed on its own, as crl/crl_service.cpp performs them:
// reserve_crl_number, scan_revoked with a visitor that only counts, scan_revoked into a
// pki::CrlEncoder, tbs(), the token's signature, its verification, finish(), store_crl.
// {"stages": [{name, seconds, peak_anon_kb (during), anon_kb, file_kb (after)}...], peak_kb,
// entries, der_bytes}.
base::Result<nlohmann::json> measure_crl_stages(BenchEnvironment& env, const FixtureShape& shape);

struct DeltaReport {
  double full_seconds = 0;  // generate_full with delta CRLs on, in this (long-lived) process
  std::uint64_t full_entries = 0;
  int revocations = 0;
  double revoke_seconds = 0;     // all of them, one durable revoke_certificate each
  std::vector<double> delta_ms;  // generate_delta, each run
  std::uint64_t delta_entries = 0;
  std::uint64_t delta_der_bytes = 0;
  std::vector<double> due_ms;  // RevocationScheduler::due(ca), each run
  std::size_t due_items = 0;
  // Store calls a delta CRL makes whatever its size, each run: the base full CRL as
  // latest_crl() returns it (with its DER), the metadata alone (list_crls, limit 1), and
  // reserving a number (one durable commit).
  std::vector<double> latest_full_ms;
  std::vector<double> list_crls_ms;
  std::vector<double> reserve_ms;
};

// Turns delta CRLs on, generates a full CRL, revokes `revocations` good certificates of the
// fixture (the first ones not yet revoked), then times `runs` delta CRLs, as many scheduler
// due() calls, and the store calls in DeltaReport.
base::Result<DeltaReport> measure_delta(BenchEnvironment& env, ca::Authority& authority,
                                        const FixtureShape& shape, int revocations, int runs);

}  // namespace signet::bench
