// signet-bench: how fast Signet issues certificates from CSRs with its CA key on a PKCS#11
// token (SoftHSMv2), and where the time goes.
//
// In one run, for each CA algorithm (EC P-256, RSA-2048) and each thread count (1, 2), it
// measures
//   (a) the CA key's raw signature rate through PKCS#11,
//   (b) the raw rate of parsing a CSR and verifying its self-signature,
//   (c) the limit those two set together, 1/(1/a + 1/b): an issuance needs one of each,
//   (d) the full issuance rate through Authority::issue_from_csr_async (parse and verify the
//       CSR, policy, build the certificate, sign on the token, commit to LMDB with fsync),
//       counting only issuances whose commit completed, with --in-flight outstanding so that
//       the store's group commit can batch,
// and prints d/c: the share of the achievable rate that the Authority reaches. The target is
// d/c >= 0.8 with 2 threads: everything but the two signatures costing under a fifth.
// To show where the rest goes it also measures (d'), the same issuance with a CA signature
// that costs nothing (bench/bench_keys.h), (s) the store committing ready-made records alone,
// and each step of an issuance on its own (one thread).
//
// Everything lives in a scratch directory under $TMPDIR: a fresh SoftHSM token store (the
// machine's own tokens are not touched) and a real, durable LmdbStore; it is removed at exit.
// The CSRs are a pool of 64 requests for distinct EC P-256 keys, issued round-robin.
// Not part of ctest: the numbers depend on the machine and on what else runs on it.
#include <openssl/crypto.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <thread>

#include "base/clock.h"
#include "base/rng.h"
#include "bench/bench_environment.h"
#include "bench/measurements.h"
#include "bench/report.h"
#include "ca/authority.h"

namespace signet::bench {
namespace {

using base::Result;

struct Options {
  double seconds = 3;
  double stage_seconds = 0.2;
  std::vector<int> threads = {1, 2};
  int in_flight = 64;
  std::vector<std::string> algorithms = {"ec-p256", "rsa-2048"};
  int csr_pool = 64;
  std::string module = SIGNET_DEFAULT_PKCS11_MODULE;
  bool json = false;
  // Which measurements run (all by default); fewer make a focused profile, e.g. "issue".
  std::vector<std::string> runs = {"sign", "csr", "issue", "canned", "stages", "store"};
  bool wants(std::string_view name) const {
    return std::find(runs.begin(), runs.end(), name) != runs.end();
  }
};

void progress(const std::string& what) { std::fprintf(stderr, "signet-bench: %s\n", what.c_str()); }

// The two roots of one algorithm: one whose key is on the token, and one with a software key
// whose issuing signer returns a canned signature (for d').
struct CaPair {
  ca::CaRecord token_ca;
  std::shared_ptr<base::Signer> token_signer;
  ca::CaRecord canned_ca;
};

Result<ca::CaRecord> make_root(ca::Authority& authority, const std::string& name,
                               base::KeyAlgorithm algorithm) {
  ca::NewCaRequest request;
  request.name = name;
  request.subject = "CN=" + name + ",O=Signet Bench";
  request.key_algorithm = algorithm;
  SIGNET_TRY(authority.create_root(request));
  // With a base URL the certificates carry CRL distribution points and AIA, as they would
  // in service; the TBS is then its realistic size.
  ca::CaSettingsUpdate settings;
  settings.base_url = "http://pki.bench.example";
  return authority.update_settings(name, settings);
}

Result<CaPair> make_cas(ca::Authority& token_authority, ca::Authority& canned_authority,
                        base::KeyProvider& token_keys, base::KeyAlgorithm algorithm) {
  const std::string name = "bench-" + std::string(base::to_string(algorithm));
  CaPair pair;
  SIGNET_ASSIGN_OR_RETURN(pair.token_ca, make_root(token_authority, name, algorithm));
  SIGNET_ASSIGN_OR_RETURN(pair.token_signer, token_keys.find_key(pair.token_ca.key));
  SIGNET_ASSIGN_OR_RETURN(pair.canned_ca, make_root(canned_authority, name + "-canned", algorithm));
  return pair;
}

void note_failures(BenchReport& report, const std::string& what, const Tally& tally) {
  if (tally.failed == 0) return;
  report.errors.push_back(what + ": " + std::to_string(tally.failed) +
                          " failed, first: " + tally.first_error);
}

// One bench run: the environment, the two Authorities over its store, and the options.
class BenchRun {
 public:
  BenchRun(const Options& options, BenchReport& report, BenchEnvironment& env,
           std::vector<base::Bytes> csrs)
      : options_(options),
        report_(report),
        env_(env),
        csrs_(std::move(csrs)),
        token_authority_(*env.store, *env.store, *env.store, *env.token_keys, clock_, rng_,
                         "bench"),
        canned_authority_(*env.store, *env.store, *env.store, env.canned_keys, clock_, rng_,
                          "bench") {
    config_.measure = seconds(options.seconds);
    config_.in_flight = options.in_flight;
  }

  Result<void> run() {
    measure_csr_rates();
    for (const auto& name : options_.algorithms) SIGNET_TRY(measure_algorithm(name));
    if (options_.wants("store") && sample_) measure_store();
    return base::ok();
  }

 private:
  static Steady::duration seconds(double value) {
    return std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(value));
  }

  // (b) does not depend on the CA's algorithm: measured once per thread count.
  void measure_csr_rates() {
    if (!options_.wants("csr")) return;
    for (int threads : options_.threads) {
      progress("(b) CSR parse + verify, " + std::to_string(threads) + " thread(s)");
      auto run = measure_csr_verification(csrs_, threads, config_);
      note_failures(report_, "CSR verification", run.tally);
      csr_runs_[threads] = run;
    }
  }

  Result<void> measure_algorithm(const std::string& name) {
    SIGNET_ASSIGN_OR_RETURN(base::KeyAlgorithm algorithm, base::parse_key_algorithm(name));
    progress(name + ": creating the CAs (key generated on the token)");
    SIGNET_ASSIGN_OR_RETURN(
        CaPair cas, make_cas(token_authority_, canned_authority_, *env_.token_keys, algorithm));
    AlgorithmReport entry;
    entry.algorithm = name;
    for (int threads : options_.threads) entry.rows.push_back(measure_row(cas, name, threads));
    if (options_.wants("stages") && options_.stage_seconds > 0) {
      progress(name + ": timing each step on one thread");
      entry.stages = measure_stages(cas.token_ca, *cas.token_signer, csrs_, rng_,
                                    seconds(options_.stage_seconds));
    }
    if (!sample_) {
      ca::IssueFromCsrRequest request{cas.token_ca.name, csrs_.front(), std::nullopt};
      SIGNET_ASSIGN_OR_RETURN(sample_, token_authority_.issue_from_csr(request));
    }
    report_.algorithms.push_back(std::move(entry));
    return base::ok();
  }

  ThreadRow measure_row(const CaPair& cas, const std::string& name, int threads) {
    const std::string where = name + ", " + std::to_string(threads) + " thread(s)";
    ThreadRow row;
    row.threads = threads;
    row.csr_rate = csr_runs_[threads].rate();
    row.csr_cpu_us = cpu_per_op(csr_runs_[threads]);
    if (options_.wants("sign")) {
      progress("(a) signing on the token, " + where);
      auto signing = measure_signing(*cas.token_signer, threads, config_);
      note_failures(report_, "signing, " + where, signing.tally);
      row.sign_rate = signing.rate();
      row.sign_cpu_us = cpu_per_op(signing);
      row.note_load(signing);
    }
    if (options_.wants("issue")) {
      progress("(d) issuance, " + where);
      row.issuance = measure_issuance(token_authority_, cas.token_ca.name, csrs_, *env_.store,
                                      threads, config_);
      note_failures(report_, "issuance, " + where, row.issuance.run.tally);
      row.note_load(row.issuance.run);
    }
    if (options_.wants("canned")) {
      progress("(d') issuance with a free CA signature, " + where);
      row.canned_issuance = measure_issuance(canned_authority_, cas.canned_ca.name, csrs_,
                                             *env_.store, threads, config_);
      note_failures(report_, "canned issuance, " + where, row.canned_issuance.run.tally);
      row.note_load(row.canned_issuance.run);
    }
    return row;
  }

  void measure_store() {
    for (int threads : options_.threads) {
      progress("(s) store commits alone, " + std::to_string(threads) + " thread(s)");
      StoreRow row{threads, measure_store_commits(*env_.store, *sample_, threads, config_)};
      note_failures(report_, "store commits", row.run.run.tally);
      report_.store_rows.push_back(std::move(row));
    }
  }

  const Options& options_;
  BenchReport& report_;
  BenchEnvironment& env_;
  const std::vector<base::Bytes> csrs_;
  RunConfig config_;
  base::SystemClock clock_;
  base::SystemRng rng_;
  ca::Authority token_authority_;
  ca::Authority canned_authority_;
  std::map<int, RunResult> csr_runs_;            // (b), by thread count
  std::optional<ca::CertificateRecord> sample_;  // a real issued record, for (s)
};

Result<void> run(const Options& options, BenchReport& report) {
  progress("setting up a SoftHSM token and an LMDB store in a scratch directory");
  SIGNET_ASSIGN_OR_RETURN(auto env, BenchEnvironment::create(options.module));
  progress("making " + std::to_string(options.csr_pool) + " CSRs");
  SIGNET_ASSIGN_OR_RETURN(auto csrs, make_csr_pool(options.csr_pool));
  {
    // Destroyed before the environment: the Authorities hold its store and providers.
    BenchRun bench(options, report, *env, std::move(csrs));
    SIGNET_TRY(bench.run());
  }
  progress("done; removing the scratch directory");
  return base::ok();
}

}  // namespace
}  // namespace signet::bench

int main(int argc, char** argv) {
  using signet::bench::Options;
  Options options;
  CLI::App app{"signet-bench: CSR issuance throughput with the CA key on SoftHSM"};
  app.add_option("--seconds", options.seconds, "Length of each measurement, in seconds")
      ->check(CLI::PositiveNumber);
  app.add_option("--threads", options.threads, "Worker thread counts, e.g. 1,2")
      ->delimiter(',')
      ->check(CLI::Range(1, 256));
  app.add_option("--in-flight", options.in_flight, "Issuances outstanding over all threads")
      ->check(CLI::Range(1, 100000));
  app.add_option("--algorithms", options.algorithms, "CA key algorithms, e.g. ec-p256,rsa-2048")
      ->delimiter(',');
  app.add_option("--stage-seconds", options.stage_seconds,
                 "Length of each per-step timing (0: skip them)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--csr-pool", options.csr_pool, "Distinct CSRs to cycle through")
      ->check(CLI::Range(1, 100000));
  app.add_option("--module", options.module, "PKCS#11 library (SoftHSMv2)");
  app.add_option("--runs", options.runs,
                 "Measurements to run: sign,csr,issue,canned,stages,store (default: all)")
      ->delimiter(',')
      ->check(CLI::IsMember({"sign", "csr", "issue", "canned", "stages", "store"}));
  app.add_flag("--json", options.json, "Print JSON instead of tables");
  CLI11_PARSE(app, argc, argv);

  signet::bench::BenchReport report;
  report.cpu_model = signet::bench::cpu_model();
  report.cpus = std::thread::hardware_concurrency();
  report.openssl_version = OpenSSL_version(OPENSSL_VERSION);
  report.seconds = options.seconds;
  report.in_flight = options.in_flight;
  if (auto result = signet::bench::run(options, report); !result) {
    std::fprintf(stderr, "signet-bench: %s\n", result.error().describe().c_str());
    return 1;
  }
  if (options.json) {
    signet::bench::print_json(report);
  } else {
    signet::bench::print_table(report);
  }
  return report.errors.empty() ? 0 : 2;
}
