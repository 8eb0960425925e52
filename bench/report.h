// What one bench run found, and how it is printed: a table for people, JSON for scripts.
//
// Reading it: (a) is the CA key's signature rate on the token and (b) the rate of parsing and
// verifying CSRs; an issuance needs one of each, so with nothing else to do the issuance rate
// could reach (c) = 1/(1/a + 1/b). (d) is what the Authority really reaches, durable commit
// included; d/c says how much of the time goes to the two signatures (target: 0.8 or more, i.e.
// everything else costs less than a fifth). (d') is the same issuance with a CA signature that
// costs nothing, so 1/d' - 1/b is what everything besides the two signatures costs. (s) is the
// store alone committing ready-made records: the ceiling the store sets. Plain data.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/measurements.h"

namespace signet::bench {

struct ThreadRow {
  int threads = 0;
  double sign_rate = 0;      // (a)
  double csr_rate = 0;       // (b)
  double sign_cpu_us = 0;    // process CPU per signature in (a), microseconds
  double csr_cpu_us = 0;     // process CPU per CSR in (b)
  StoreRun issuance;         // (d)
  StoreRun canned_issuance;  // (d')
  // The most CPU that other processes used during this row's runs, in cores (-1: unknown).
  double other_load = -1;
  void note_load(const RunResult& run) {
    if (run.other_cpu >= 0 && run.seconds > 0) {
      other_load = std::max(other_load, run.other_cpu / run.seconds);
    }
  }
  double limit() const {  // (c)
    return sign_rate > 0 && csr_rate > 0 ? 1.0 / (1.0 / sign_rate + 1.0 / csr_rate) : 0;
  }
  double ratio() const { return limit() > 0 ? issuance.run.rate() / limit() : 0; }
};

struct AlgorithmReport {
  std::string algorithm;
  std::vector<ThreadRow> rows;
  std::vector<Stage> stages;  // one thread
};

struct StoreRow {
  int threads = 0;
  StoreRun run;
};

struct BenchReport {
  std::string cpu_model;
  unsigned cpus = 0;
  std::string openssl_version;
  double seconds = 0;
  int in_flight = 0;
  std::vector<AlgorithmReport> algorithms;
  std::vector<StoreRow> store_rows;
  std::vector<std::string> errors;  // failures seen during runs (their first message)
};

// Process CPU microseconds per completed operation (0 when none completed).
double cpu_per_op(const RunResult& run);

void print_table(const BenchReport& report);
void print_json(const BenchReport& report);

// "AMD EPYC 7B13" from /proc/cpuinfo, or "unknown".
std::string cpu_model();

}  // namespace signet::bench
