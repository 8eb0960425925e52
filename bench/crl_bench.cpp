// signet-crl-bench: revocation services at the scale of issue 4 - a CA with a million revoked
// certificates - with the CA key on a SoftHSM token and a real, durable LmdbStore.
//
//   fill    a fresh store: the CA (bench/revocation_fixture.h) and --revoked synthetic records
//           already revoked plus --good good ones, through the group commit in large batches;
//   full    crl::CrlService::generate_full (reserve a number, stream the revoked table into the
//           encoder, sign on the token, verify, store), --runs times, each in a FRESH process
//           (this program re-executed with a hidden --phase) so that its peak resident memory
//           is the CRL's alone. Target: under 2 s and 200 MB at a million entries;
//   stages  the same steps timed one by one in one more fresh process, with the memory after
//           each (where the time and the memory go);
//   delta   delta CRLs on, a full CRL, 100 revocations, then generate_delta and the scheduler's
//           due() timed several times (median). Target: milliseconds;
//   ocsp    crl::OcspResponder with and without its cache and with nonces, on 1 and 2 threads
//           (bench/ocsp_phase.h); `openssl ocsp` as a responder signs about 4,000/s here;
//   --compare-openssl: `openssl ca -gencrl` over an index.txt of the same population (the
//           issue measured about 11 s and 600 MB).
//
// Everything lives in a scratch directory under $TMPDIR (or --dir), removed at exit unless
// --keep; --reuse DIR measures a directory a --keep run left (no fill). Not part of ctest: the
// numbers depend on the machine. Build it RelWithDebInfo or Release.
#include <openssl/crypto.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/rng.h"
#include "bench/bench_environment.h"
#include "bench/child_process.h"
#include "bench/crl_phases.h"
#include "bench/ocsp_phase.h"
#include "bench/openssl_gencrl.h"
#include "bench/report.h"
#include "bench/revocation_fixture.h"
#include "ca/authority.h"

namespace signet::bench {
namespace {

namespace fs = std::filesystem;
using base::Error;
using base::ErrorCode;
using base::Result;
using nlohmann::json;

constexpr double kTargetSeconds = 2.0;
constexpr double kTargetMegabytes = 200.0;
constexpr int kDeltaRevocations = 100;

struct Options {
  std::uint64_t revoked = 1'000'000;
  std::int64_t good = -1;  // -1: a tenth of --revoked
  std::string algorithm = "ec-p256";
  std::string dir;
  std::string reuse;
  bool keep = false;
  std::vector<int> threads = {1, 2};
  double seconds = 3;
  int runs = 3;
  int delta_runs = 7;
  std::size_t working_set = 10'000;
  std::size_t window = 8192;
  std::vector<std::string> only = {"full", "stages", "delta", "ocsp"};
  bool compare_openssl = false;
  std::string module = SIGNET_DEFAULT_PKCS11_MODULE;
  std::string phase;  // hidden: the child's measurement ("full-crl", "crl-stages")

  bool wants(std::string_view name) const {
    return std::find(only.begin(), only.end(), name) != only.end();
  }
};

void progress(const std::string& what) {
  std::fprintf(stderr, "signet-crl-bench: %s\n", what.c_str());
}

double mb(double kb) { return kb / 1024.0; }

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

store::LmdbStoreOptions store_options() {
  store::LmdbStoreOptions options;
  // A map far larger than the store (a sparse reservation): the parent and its children share
  // the environment, and none of them ever has to follow another's map growth.
  options.initial_map_size = std::size_t{1} << 36;
  options.max_batch = 4096;
  return options;
}

// ---- the child: one measurement in a fresh process, JSON on stdout ----

int run_phase(const Options& options) {
  auto env = BenchEnvironment::reopen(options.reuse, options.module, store_options());
  auto shape = env ? load_shape(options.reuse) : Result<FixtureShape>(env.error());
  Result<json> result = Error(ErrorCode::kInvalidArgument, "unknown phase " + options.phase);
  if (!shape) {
    result = shape.error();
  } else if (options.phase == "full-crl") {
    result = measure_full_crl(**env, *shape);
  } else if (options.phase == "crl-stages") {
    result = measure_crl_stages(**env, *shape);
  }
  if (!result) {
    std::fprintf(stderr, "signet-crl-bench --phase %s: %s\n", options.phase.c_str(),
                 result.error().describe().c_str());
    return 1;
  }
  std::printf("%s\n", result->dump().c_str());
  return 0;
}

Result<std::string> self_path() {
  std::error_code ec;
  const auto self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return Error(ErrorCode::kInternal, "cannot read /proc/self/exe: " + ec.message());
  return self.string();
}

Result<json> run_in_child(const std::string& phase, const fs::path& dir, const Options& options) {
  SIGNET_ASSIGN_OR_RETURN(auto self, self_path());
  SIGNET_ASSIGN_OR_RETURN(auto run, run_child({self, "--phase", phase, "--reuse", dir.string(),
                                               "--module", options.module}));
  if (run.exit_status != 0) {
    return Error(ErrorCode::kInternal,
                 "the --phase " + phase + " child exited with " + std::to_string(run.exit_status));
  }
  auto result = json::parse(run.output, nullptr, /*allow_exceptions=*/false);
  if (result.is_discarded() || !result.is_object()) {
    return Error(ErrorCode::kInternal, "the --phase " + phase + " child printed no JSON");
  }
  return result;
}

// ---- the parent ----

void print_fill(const FixtureShape& shape, const FillResult& fill, const fs::path& dir) {
  std::printf(
      "fill: %llu records (%llu revoked, %llu good) in %.1f s: %.0f records/s, "
      "%llu commits\n",
      static_cast<unsigned long long>(fill.records), static_cast<unsigned long long>(shape.revoked),
      static_cast<unsigned long long>(shape.good), fill.seconds,
      fill.seconds > 0 ? static_cast<double>(fill.records) / fill.seconds : 0,
      static_cast<unsigned long long>(fill.commits));
  std::error_code ec;
  const auto size = fs::file_size(dir / "state" / "store" / "data.mdb", ec);
  if (!ec) std::printf("store file: %.0f MiB\n", static_cast<double>(size) / 1048576.0);
}

struct FullCrlSummary {
  double seconds = 0;  // median
  double peak_mb = 0;  // the highest peak resident set (VmHWM)
  double anon_mb = 0;  // the highest heap (RssAnon) seen
};

const char* verdict(bool met) { return met ? "met" : "NOT met"; }

Result<FullCrlSummary> full_crls(const Options& options, const fs::path& dir) {
  std::vector<double> seconds;
  double peak_kb = 0, anon_kb = 0, file_kb = 0;
  std::printf("\nfull CRL: CrlService::generate_full, each run in a fresh process\n");
  std::printf("%4s %9s %9s %12s %13s %13s %9s %9s\n", "run", "seconds", "peak MB", "baseline MB",
              "peak anon MB", "peak file MB", "entries", "DER MB");
  for (int run = 1; run <= options.runs; ++run) {
    progress("full CRL, run " + std::to_string(run) + " of " + std::to_string(options.runs));
    SIGNET_ASSIGN_OR_RETURN(auto r, run_in_child("full-crl", dir, options));
    seconds.push_back(r["seconds"].get<double>());
    const double peak = r["peak_kb"].get<double>();
    peak_kb = std::max(peak_kb, peak);
    anon_kb = std::max(anon_kb, r["peak_anon_kb"].get<double>());
    file_kb = std::max(file_kb, r["peak_file_kb"].get<double>());
    std::printf("%4d %9.3f %9.1f %12.1f %13.1f %13.1f %9llu %9.1f\n", run, seconds.back(), mb(peak),
                mb(r["baseline_kb"].get<double>()), mb(r["peak_anon_kb"].get<double>()),
                mb(r["peak_file_kb"].get<double>()), r["entries"].get<unsigned long long>(),
                r["der_bytes"].get<double>() / 1048576.0);
  }
  const double m = median(seconds);
  std::printf("median %.3f s: target < %.0f s %s\n", m, kTargetSeconds,
              verdict(m < kTargetSeconds));
  std::printf(
      "highest peak resident set %.1f MB (heap %.1f MB, mapped store file and libraries "
      "%.1f MB): target < %.0f MB %s as resident set, %s as heap\n",
      mb(peak_kb), mb(anon_kb), mb(file_kb), kTargetMegabytes,
      verdict(mb(peak_kb) < kTargetMegabytes), verdict(mb(anon_kb) < kTargetMegabytes));
  std::printf(
      "against openssl ca -gencrl as the issue measured it (about 11 s, 600 MB, nearly "
      "all heap): %.1fx faster; %.1fx the resident set, 1/%.1f of the heap\n",
      m > 0 ? 11.0 / m : 0, mb(peak_kb) / 600.0, anon_kb > 0 ? 600.0 / mb(anon_kb) : 0);
  return FullCrlSummary{m, mb(peak_kb), mb(anon_kb)};
}

Result<void> crl_stages(const Options& options, const fs::path& dir) {
  progress("full CRL, step by step");
  SIGNET_ASSIGN_OR_RETURN(auto r, run_in_child("crl-stages", dir, options));
  std::printf(
      "\nfull CRL step by step (one fresh process; heap peak during each step, heap "
      "and mapped files resident after it)\n");
  std::printf("%-42s %9s %14s %9s %9s\n", "step", "seconds", "peak anon MB", "anon MB", "file MB");
  for (const auto& stage : r["stages"]) {
    std::printf("%-42s %9.3f %14.1f %9.1f %9.1f\n", stage["name"].get<std::string>().c_str(),
                stage["seconds"].get<double>(), mb(stage["peak_anon_kb"].get<double>()),
                mb(stage["anon_kb"].get<double>()), mb(stage["file_kb"].get<double>()));
  }
  std::printf("peak %.1f MB, %llu entries, %.1f MB of DER\n", mb(r["peak_kb"].get<double>()),
              r["entries"].get<unsigned long long>(), r["der_bytes"].get<double>() / 1048576.0);
  return base::ok();
}

void print_delta(const DeltaReport& d) {
  const auto range = [](const std::vector<double>& v) {
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    return v.empty() ? std::string("-")
                     : std::to_string(*lo).substr(0, 6) + " - " + std::to_string(*hi).substr(0, 6);
  };
  std::printf("\ndelta CRL (delta CRLs on; %d revocations after the base CRL)\n", d.revocations);
  std::printf("  generate_full with deltas on, this process  %9.3f s (%llu entries)\n",
              d.full_seconds, static_cast<unsigned long long>(d.full_entries));
  std::printf("  revoke_certificate x %d (durable each)     %9.1f ms (%.2f ms each)\n",
              d.revocations, d.revoke_seconds * 1000,
              d.revocations > 0 ? d.revoke_seconds * 1000 / d.revocations : 0);
  std::printf(
      "  generate_delta, median of %zu               %9.2f ms (range %s ms; %llu entries, "
      "%llu bytes)\n",
      d.delta_ms.size(), median(d.delta_ms), range(d.delta_ms).c_str(),
      static_cast<unsigned long long>(d.delta_entries),
      static_cast<unsigned long long>(d.delta_der_bytes));
  std::printf("  RevocationScheduler::due(ca), median of %zu %9.2f ms (range %s ms; %zu due)\n",
              d.due_ms.size(), median(d.due_ms), range(d.due_ms).c_str(), d.due_items);
  std::printf("  of which, whatever the delta's size:\n");
  std::printf("    latest_crl(full), with its DER            %9.2f ms (median)\n",
              median(d.latest_full_ms));
  std::printf("    list_crls(limit 1), metadata only         %9.2f ms\n", median(d.list_crls_ms));
  std::printf("    reserve_crl_number (a durable commit)     %9.2f ms\n", median(d.reserve_ms));
}

void print_ocsp(const OcspReport& report, std::size_t working_set) {
  std::printf(
      "\nOCSP: OcspResponder::handle over a working set of %zu serials (80 %% revoked, "
      "15 %% good, 5 %% unknown)\n",
      working_set);
  for (const auto& line : report.checks) std::printf("  checked: %s\n", line.c_str());
  std::printf("%-34s %7s %12s %9s %13s %7s %7s\n", "case", "threads", "per second", "hit ratio",
              "CPU us/resp", "failed", "others");
  for (const auto& row : report.rows) {
    char hit[16] = "-";
    if (row.hit_ratio >= 0) std::snprintf(hit, sizeof hit, "%.3f", row.hit_ratio);
    const double others =
        row.run.other_cpu >= 0 && row.run.seconds > 0 ? row.run.other_cpu / row.run.seconds : -1;
    std::printf("%-34s %7d %12.0f %9s %13.1f %7llu %7.2f\n", row.name.c_str(), row.threads,
                row.run.rate(), hit, cpu_per_op(row.run),
                static_cast<unsigned long long>(row.run.tally.failed), others);
    if (row.run.tally.failed > 0) {
      std::printf("    first failure: %s\n", row.run.tally.first_error.c_str());
    }
  }
}

Result<void> compare_openssl(const FixtureShape& shape, const fs::path& dir,
                             const std::optional<FullCrlSummary>& signet) {
  progress("openssl ca -gencrl over an index.txt of the same population");
  const auto work = dir / "openssl-gencrl";
  SIGNET_ASSIGN_OR_RETURN(auto self, self_path());
  SIGNET_ASSIGN_OR_RETURN(auto r, time_openssl_gencrl(shape, work, self));
  std::printf("\nopenssl ca -gencrl (%s, software key), same %llu entries + %llu valid\n",
              OpenSSL_version(OPENSSL_VERSION), static_cast<unsigned long long>(shape.revoked),
              static_cast<unsigned long long>(shape.good));
  std::printf("  %.3f s, peak %.1f MB, %.1f MB of PEM (index.txt written in %.1f s, not counted)\n",
              r.seconds, mb(static_cast<double>(r.maxrss_kb)),
              static_cast<double>(r.pem_bytes) / 1048576.0, r.index_seconds);
  if (signet && signet->seconds > 0 && signet->peak_mb > 0 && signet->anon_mb > 0) {
    const double openssl_mb = mb(static_cast<double>(r.maxrss_kb));
    std::printf("  openssl / signet: %.1fx the time, %.1fx the peak resident set, %.1fx the heap\n",
                r.seconds / signet->seconds, openssl_mb / signet->peak_mb,
                openssl_mb / signet->anon_mb);
  }
  std::error_code ignored;
  fs::remove_all(work, ignored);
  return base::ok();
}

// The measured store: filled now in a new scratch directory, or reopened (--reuse).
struct Workspace {
  std::unique_ptr<BenchEnvironment> env;
  FixtureShape shape;
  std::optional<FillResult> fill;
};

Result<Workspace> open_workspace(const Options& options, const base::Clock& clock, base::Rng& rng) {
  Workspace w;
  if (!options.reuse.empty()) {
    SIGNET_ASSIGN_OR_RETURN(
        w.env, BenchEnvironment::reopen(options.reuse, options.module, store_options()));
    SIGNET_ASSIGN_OR_RETURN(w.shape, load_shape(options.reuse));
    return w;
  }
  progress("setting up a SoftHSM token and an LMDB store in a scratch directory");
  SIGNET_ASSIGN_OR_RETURN(w.env,
                          BenchEnvironment::create(options.module, options.dir, store_options()));
  if (options.keep) w.env->dir->keep();
  SIGNET_ASSIGN_OR_RETURN(w.shape.algorithm, base::parse_key_algorithm(options.algorithm));
  w.shape.revoked = options.revoked;
  w.shape.good =
      options.good >= 0 ? static_cast<std::uint64_t>(options.good) : w.shape.revoked / 10;
  w.shape.epoch = std::chrono::time_point_cast<std::chrono::seconds>(clock.now());
  store::LmdbStore& store = *w.env->store;
  ca::Authority authority(store, store, store, *w.env->token_keys, clock, rng, "bench");
  progress("creating the CA (" + options.algorithm + " key on the token)");
  SIGNET_ASSIGN_OR_RETURN(auto ca, create_fixture_ca(authority, w.shape));
  progress("writing " + std::to_string(w.shape.issued()) + " records");
  SIGNET_ASSIGN_OR_RETURN(w.fill, fill_fixture(store, w.shape, ca, options.window));
  SIGNET_TRY(save_shape(w.shape, w.env->dir->path()));
  return w;
}

void print_header(const Options& options, const Workspace& w) {
  const fs::path& dir = w.env->dir->path();
  std::printf("signet-crl-bench: %u CPUs (%s), %s, CA %s on SoftHSM, %llu revoked + %llu good\n",
              std::thread::hardware_concurrency(), cpu_model().c_str(),
              OpenSSL_version(OPENSSL_VERSION),
              std::string(base::to_string(w.shape.algorithm)).c_str(),
              static_cast<unsigned long long>(w.shape.revoked),
              static_cast<unsigned long long>(w.shape.good));
  std::printf("directory: %s%s\n", dir.c_str(),
              options.keep || !options.reuse.empty() ? " (kept)" : " (removed at exit)");
  if (w.fill) print_fill(w.shape, *w.fill, dir);
  std::fflush(stdout);
}

Result<void> run(const Options& options) {
  base::SystemClock clock;
  base::SystemRng rng;
  SIGNET_ASSIGN_OR_RETURN(auto w, open_workspace(options, clock, rng));
  print_header(options, w);
  const fs::path dir = w.env->dir->path();
  std::optional<FullCrlSummary> full;
  if (options.wants("full")) {
    SIGNET_ASSIGN_OR_RETURN(full, full_crls(options, dir));
    std::fflush(stdout);
  }
  if (options.wants("stages")) {
    SIGNET_TRY(crl_stages(options, dir));
    std::fflush(stdout);
  }
  store::LmdbStore& store = *w.env->store;
  ca::Authority authority(store, store, store, *w.env->token_keys, clock, rng, "bench");
  if (options.wants("delta")) {
    progress("delta CRLs");
    SIGNET_ASSIGN_OR_RETURN(auto delta, measure_delta(*w.env, authority, w.shape, kDeltaRevocations,
                                                      options.delta_runs));
    print_delta(delta);
    std::fflush(stdout);
  }
  if (options.wants("ocsp")) {
    OcspOptions ocsp;
    ocsp.threads = options.threads;
    ocsp.measure = std::chrono::duration_cast<Steady::duration>(
        std::chrono::duration<double>(options.seconds));
    ocsp.working_set = options.working_set;
    SIGNET_ASSIGN_OR_RETURN(auto report, measure_ocsp(*w.env, authority, w.shape, ocsp));
    print_ocsp(report, options.working_set);
    std::fflush(stdout);
  }
  if (options.compare_openssl) SIGNET_TRY(compare_openssl(w.shape, dir, full));
  progress(options.keep || !options.reuse.empty() ? "done" : "done; removing the directory");
  return base::ok();
}

}  // namespace
}  // namespace signet::bench

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == signet::bench::kExecMeasured) {
    return signet::bench::exec_measured(argc, argv);
  }
  using signet::bench::Options;
  Options options;
  CLI::App app{"signet-crl-bench: CRL generation and OCSP with a million revoked certificates"};
  app.add_option("--revoked", options.revoked, "Revoked certificates of the CA");
  app.add_option("--good", options.good, "Good certificates of the CA (default: revoked / 10)");
  app.add_option("--algorithm", options.algorithm,
                 "CA key algorithm (ec-p256, ec-p384, rsa-2048...)");
  app.add_option("--dir", options.dir, "Where to make the scratch directory (default: $TMPDIR)");
  app.add_flag("--keep", options.keep, "Keep the scratch directory (for --reuse)");
  app.add_option("--reuse", options.reuse, "Measure a directory an earlier --keep run left");
  app.add_option("--threads", options.threads, "OCSP thread counts, e.g. 1,2")
      ->delimiter(',')
      ->check(CLI::Range(1, 256));
  app.add_option("--seconds", options.seconds, "Length of each OCSP measurement")
      ->check(CLI::PositiveNumber);
  app.add_option("--runs", options.runs, "Full CRLs to generate, each in a fresh process")
      ->check(CLI::Range(1, 100));
  app.add_option("--delta-runs", options.delta_runs, "Delta CRLs to time")
      ->check(CLI::Range(1, 1000));
  app.add_option("--working-set", options.working_set, "Distinct serials the OCSP clients ask for")
      ->check(CLI::Range(1, 10'000'000));
  app.add_option("--window", options.window, "Records in flight while filling")
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--only", options.only, "Measurements: full,stages,delta,ocsp (default: all)")
      ->delimiter(',')
      ->check(CLI::IsMember({"full", "stages", "delta", "ocsp"}));
  app.add_flag("--compare-openssl", options.compare_openssl,
               "Also time openssl ca -gencrl over the same population");
  app.add_option("--module", options.module, "PKCS#11 library (SoftHSMv2)");
  app.add_option("--phase", options.phase)->group("");  // the re-executed child's measurement
  CLI11_PARSE(app, argc, argv);

  if (!options.phase.empty()) return signet::bench::run_phase(options);
  if (auto result = signet::bench::run(options); !result) {
    std::fprintf(stderr, "signet-crl-bench: %s\n", result.error().describe().c_str());
    return 1;
  }
  return 0;
}
