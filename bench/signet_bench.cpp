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
#include <cstdio>
#include <map>
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

Result<void> run(const Options& options, BenchReport& report) {
  RunConfig config;
  config.measure = std::chrono::duration_cast<Steady::duration>(
      std::chrono::duration<double>(options.seconds));
  config.in_flight = options.in_flight;
  const auto stage_duration = std::chrono::duration_cast<Steady::duration>(
      std::chrono::duration<double>(options.stage_seconds));

  progress("setting up a SoftHSM token and an LMDB store in a scratch directory");
  SIGNET_ASSIGN_OR_RETURN(auto env, BenchEnvironment::create(options.module));
  progress("making " + std::to_string(options.csr_pool) + " CSRs");
  SIGNET_ASSIGN_OR_RETURN(auto csrs, make_csr_pool(options.csr_pool));

  base::SystemClock clock;
  base::SystemRng rng;
  ca::Authority token_authority(*env->store, *env->store, *env->store, *env->token_keys, clock,
                                rng, "bench");
  ca::Authority canned_authority(*env->store, *env->store, *env->store, env->canned_keys, clock,
                                 rng, "bench");

  // (b) does not depend on the CA's algorithm: measure it once per thread count.
  std::map<int, double> csr_rates;
  for (int threads : options.threads) {
    progress("(b) CSR parse + verify, " + std::to_string(threads) + " thread(s)");
    auto run = measure_csr_verification(csrs, threads, config);
    note_failures(report, "CSR verification", run.tally);
    csr_rates[threads] = run.rate();
  }

  std::optional<ca::CertificateRecord> sample;  // for the store-only run
  for (const auto& name : options.algorithms) {
    SIGNET_ASSIGN_OR_RETURN(base::KeyAlgorithm algorithm, base::parse_key_algorithm(name));
    progress(name + ": creating the CAs (key generated on the token)");
    SIGNET_ASSIGN_OR_RETURN(CaPair cas,
                            make_cas(token_authority, canned_authority, *env->token_keys,
                                     algorithm));
    AlgorithmReport entry;
    entry.algorithm = name;
    for (int threads : options.threads) {
      const std::string where = name + ", " + std::to_string(threads) + " thread(s)";
      ThreadRow row;
      row.threads = threads;
      row.csr_rate = csr_rates[threads];
      progress("(a) signing on the token, " + where);
      auto signing = measure_signing(*cas.token_signer, threads, config);
      note_failures(report, "signing, " + where, signing.tally);
      row.sign_rate = signing.rate();
      progress("(d) issuance, " + where);
      row.issuance = measure_issuance(token_authority, cas.token_ca.name, csrs, *env->store,
                                      threads, config);
      note_failures(report, "issuance, " + where, row.issuance.run.tally);
      progress("(d') issuance with a free CA signature, " + where);
      row.canned_issuance = measure_issuance(canned_authority, cas.canned_ca.name, csrs,
                                             *env->store, threads, config);
      note_failures(report, "canned issuance, " + where, row.canned_issuance.run.tally);
      entry.rows.push_back(std::move(row));
    }
    if (options.stage_seconds > 0) {
      progress(name + ": timing each step on one thread");
      entry.stages = measure_stages(cas.token_ca, *cas.token_signer, csrs, rng, stage_duration);
    }
    if (!sample) {
      ca::IssueFromCsrRequest request{cas.token_ca.name, csrs.front(), std::nullopt};
      SIGNET_ASSIGN_OR_RETURN(sample, token_authority.issue_from_csr(request));
    }
    report.algorithms.push_back(std::move(entry));
  }

  if (sample) {
    for (int threads : options.threads) {
      progress("(s) store commits alone, " + std::to_string(threads) + " thread(s)");
      StoreRow row{threads, measure_store_commits(*env->store, *sample, threads, config)};
      note_failures(report, "store commits", row.run.run.tally);
      report.store_rows.push_back(std::move(row));
    }
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
