// signet-crl-bench's OCSP measurement: crl::OcspResponder over the bench's store, answering
// requests made by OpenSSL (bench/ocsp_client.h) for a working set of the fixture's serials
// (80 % revoked, 15 % good, 5 % never issued), on each thread count for a fixed interval:
//   (a) requests without a nonce, cache on (warmed first): the RFC 5019 case a CDN-fronted
//       responder sees; the cache's hit ratio is reported;
//   (b) requests with a nonce: every response is signed;
//   (c) requests without a nonce, cache off (OcspResponderOptions{.cache_entries = 0});
// and for context the two costs a signed response is made of: the CA key's raw signature
// (Signer::sign of 400 bytes on the token) and a store status read (serial_status).
// Before measuring, one response of each status from each responder, and a nonce response,
// are checked with OpenSSL (OCSP_basic_verify, status, reason, nonce).
// Single-threaded set-up; the runs use their own threads.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "bench/bench_environment.h"
#include "bench/revocation_fixture.h"
#include "bench/timed_run.h"
#include "ca/authority.h"

namespace signet::bench {

struct OcspOptions {
  std::vector<int> threads = {1, 2};
  Steady::duration measure = std::chrono::seconds(3);
  std::size_t working_set = 10'000;
};

struct OcspRow {
  std::string name;
  int threads = 0;
  RunResult run;
  double hit_ratio = -1;  // cache hits / requests during the interval; -1: not applicable
};

struct OcspReport {
  std::vector<std::string> checks;  // what OpenSSL accepted, one line each
  std::vector<OcspRow> rows;
};

base::Result<OcspReport> measure_ocsp(BenchEnvironment& env, ca::Authority& authority,
                                      const FixtureShape& shape, const OcspOptions& options);

}  // namespace signet::bench
