#include "bench/report.h"

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

namespace signet::bench {

namespace {

double us(double rate) { return rate > 0 ? 1e6 / rate : 0; }

const ThreadRow* row_for(const AlgorithmReport& algorithm, int threads) {
  for (const auto& row : algorithm.rows) {
    if (row.threads == threads) return &row;
  }
  return nullptr;
}

// Per-issuance costs in microseconds of one thread, from the 1-thread rates: the two
// signatures, and what is left of an issuance beside them, measured two ways.
void print_cost_split(const AlgorithmReport& algorithm) {
  const ThreadRow* one = row_for(algorithm, 1);
  if (one == nullptr || one->issuance.run.rate() <= 0 || one->sign_rate <= 0 ||
      one->csr_rate <= 0) {
    return;
  }
  const double sign = us(one->sign_rate);
  const double csr = us(one->csr_rate);
  const double issue = us(one->issuance.run.rate());
  const double canned = us(one->canned_issuance.run.rate());
  std::printf("\n%s, one thread, microseconds per issuance:\n", algorithm.algorithm.c_str());
  std::printf("  CA signature on the token (1/a)              %8.1f\n", sign);
  std::printf("  CSR parse + verify (1/b)                     %8.1f\n", csr);
  std::printf("  whole issuance (1/d)                         %8.1f\n", issue);
  std::printf("  everything else = 1/d - 1/a - 1/b            %8.1f  (%.0f%% of 1/d)\n",
              issue - sign - csr, 100.0 * (issue - sign - csr) / issue);
  if (canned > 0) {
    std::printf("  everything else = 1/d' - 1/b (free CA sig.)  %8.1f\n", canned - csr);
  }
  std::printf("  budget for d/c >= 0.8: (1/a + 1/b) / 4       %8.1f\n", (sign + csr) / 4);
  // CPU per operation barely depends on other load, unlike the rates; it includes the store's
  // writer thread and SoftHSM. (a + b) / d is then the share of an issuance's CPU that goes to
  // the two signatures: what d/c would be on an idle machine if nothing else limited it.
  std::printf("  process CPU per operation (robust to other load):\n");
  for (const auto& row : algorithm.rows) {
    const double issue_cpu = cpu_per_op(row.issuance.run);
    std::printf(
        "    %d thread(s): sign %.1f, csr %.1f, issuance %.1f, free-signature issuance "
        "%.1f; (sign + csr) / issuance = %.2f\n",
        row.threads, row.sign_cpu_us, row.csr_cpu_us, issue_cpu,
        cpu_per_op(row.canned_issuance.run),
        issue_cpu > 0 ? (row.sign_cpu_us + row.csr_cpu_us) / issue_cpu : 0);
  }
}

void print_stages(const AlgorithmReport& algorithm) {
  if (algorithm.stages.empty()) return;
  std::printf("\n%s, one thread, each step of an issuance on its own:\n",
              algorithm.algorithm.c_str());
  std::printf("  %-42s %10s %12s\n", "step", "us/op", "ops/s");
  for (const auto& stage : algorithm.stages) {
    if (!stage.time.error.empty()) {
      std::printf("  %-42s failed: %s\n", stage.name.c_str(), stage.time.error.c_str());
      continue;
    }
    std::printf("  %-42s %10.2f %12.0f\n", stage.name.c_str(), stage.time.ns_per_op / 1000,
                stage.time.ns_per_op > 0 ? 1e9 / stage.time.ns_per_op : 0);
  }
}

nlohmann::json to_json(const StoreRun& run) {
  return {{"rate", run.run.rate()},
          {"cpu_us_per_op", cpu_per_op(run.run)},
          {"completed", run.run.tally.completed},
          {"failed", run.run.tally.failed},
          {"commits", run.commits},
          {"records", run.records},
          {"average_batch", run.average_batch()}};
}

}  // namespace

double cpu_per_op(const RunResult& run) {
  return run.tally.completed > 0 ? 1e6 * run.own_cpu / static_cast<double>(run.tally.completed) : 0;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      if (auto colon = line.find(':'); colon != std::string::npos) {
        return line.substr(line.find_first_not_of(' ', colon + 1));
      }
    }
  }
  return "unknown";
}

void print_table(const BenchReport& report) {
  std::printf("signet-bench: %u CPUs (%s), %s, %.1f s per measurement, %d in flight\n\n",
              report.cpus, report.cpu_model.c_str(), report.openssl_version.c_str(), report.seconds,
              report.in_flight);
  std::printf("%-10s %7s %10s %10s %10s %10s %6s %9s %11s %6s %7s\n", "algorithm", "threads",
              "sign/s(a)", "csr/s(b)", "limit/s(c)", "issue/s(d)", "d/c", "avg batch",
              "issue/s(d')", "d'/b", "others");
  for (const auto& algorithm : report.algorithms) {
    for (const auto& row : algorithm.rows) {
      const double canned = row.canned_issuance.run.rate();
      std::printf("%-10s %7d %10.0f %10.0f %10.0f %10.0f %6.2f %9.1f %11.0f %6.2f %7.2f\n",
                  algorithm.algorithm.c_str(), row.threads, row.sign_rate, row.csr_rate,
                  row.limit(), row.issuance.run.rate(), row.ratio(), row.issuance.average_batch(),
                  canned, row.csr_rate > 0 ? canned / row.csr_rate : 0, row.other_load);
    }
  }
  std::printf(
      "(others: the most CPU other processes used during the row's runs, in cores; "
      "near 0 for trustworthy numbers)\n");
  if (!report.store_rows.empty()) {
    std::printf("\nstore alone (s): put_certificate_async of ready-made records\n");
    std::printf("%7s %12s %10s %9s %14s\n", "threads", "records/s", "commits/s", "avg batch",
                "CPU us/record");
    for (const auto& row : report.store_rows) {
      std::printf("%7d %12.0f %10.0f %9.1f %14.1f\n", row.threads, row.run.run.rate(),
                  static_cast<double>(row.run.commits) / row.run.run.seconds,
                  row.run.average_batch(), cpu_per_op(row.run.run));
    }
  }
  for (const auto& algorithm : report.algorithms) {
    print_cost_split(algorithm);
    print_stages(algorithm);
  }
  for (const auto& error : report.errors) std::printf("\nFAILURES: %s\n", error.c_str());
}

void print_json(const BenchReport& report) {
  nlohmann::json out = {{"cpu_model", report.cpu_model},     {"cpus", report.cpus},
                        {"openssl", report.openssl_version}, {"seconds", report.seconds},
                        {"in_flight", report.in_flight},     {"errors", report.errors}};
  for (const auto& algorithm : report.algorithms) {
    nlohmann::json entry = {{"algorithm", algorithm.algorithm}};
    for (const auto& row : algorithm.rows) {
      entry["rows"].push_back({{"threads", row.threads},
                               {"sign_rate", row.sign_rate},
                               {"csr_rate", row.csr_rate},
                               {"sign_cpu_us", row.sign_cpu_us},
                               {"csr_cpu_us", row.csr_cpu_us},
                               {"limit", row.limit()},
                               {"issuance", to_json(row.issuance)},
                               {"ratio", row.ratio()},
                               {"other_load_cores", row.other_load},
                               {"canned_signature_issuance", to_json(row.canned_issuance)}});
    }
    for (const auto& stage : algorithm.stages) {
      entry["stages"].push_back(
          {{"name", stage.name}, {"ns_per_op", stage.time.ns_per_op}, {"error", stage.time.error}});
    }
    out["algorithms"].push_back(std::move(entry));
  }
  for (const auto& row : report.store_rows) {
    out["store"].push_back({{"threads", row.threads}, {"run", to_json(row.run)}});
  }
  std::printf("%s\n", out.dump(2).c_str());
}

}  // namespace signet::bench
