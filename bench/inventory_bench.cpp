// signet-inventory-bench: how fast the LMDB store answers certificate listings at scale.
//
// It fills a fresh store with N synthetic certificate records (default one million: four CAs,
// five profiles, notAfter spread over four years, 0.5% revoked, a few discovered), written
// through the store's group commit in batches (no signing: the records are made up, so this
// also measures the store's per-record write cost with all its indexes), then times the
// queries an operator's console makes: the first page of each sort in both directions, a page
// deep in a cursor walk, each filter, and prefix and *.suffix searches. Each query runs
// several times; the median is printed.
//
// Everything lives in a scratch directory under $TMPDIR (or --dir), removed at exit unless
// --keep. --reuse DIR times the queries on a store an earlier --keep run left. Not part of
// ctest: the numbers depend on the machine. Run it from a Release build.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "base/clock.h"
#include "pki/digest.h"
#include "store/lmdb_store.h"

namespace signet::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kCas = 4;
constexpr int kDomains = 1000;
const char* const kProfiles[] = {"web", "vpn", "mail", "device", "code"};

base::TimePoint epoch_day(int day) {
  return base::from_unix_seconds(1'800'000'000) + std::chrono::hours(24 * day);
}

ca::CertificateRecord synthetic(std::uint64_t n, std::mt19937_64& rng) {
  ca::CertificateRecord r;
  const bool discovered = n % 500 == 7;
  r.ca_name = discovered ? "" : "ca" + std::to_string(n % kCas);
  r.source = discovered ? ca::CertificateSource::kDiscovered : ca::CertificateSource::kManaged;
  base::Bytes serial(16);
  for (auto& b : serial) b = static_cast<std::uint8_t>(rng());
  serial[0] = static_cast<std::uint8_t>(serial[0] | 0x01);
  r.serial = *pki::SerialNumber::from_bytes(serial);
  const std::string id = std::to_string(n);
  r.fingerprint_sha256 = pki::sha256(base::as_bytes("bench/" + id));
  r.der.assign(300, static_cast<std::uint8_t>(n));
  const std::string domain = "d" + std::to_string(n % kDomains) + ".example.com";
  r.common_name = "host" + id + "." + domain;
  r.subject = "CN=" + r.common_name + ",O=Bench";
  r.subject_alt_names = {"DNS:" + r.common_name, "DNS:www.host" + id + "." + domain};
  r.issuer = "CN=" + r.ca_name;
  r.not_after = epoch_day(static_cast<int>(rng() % 1460)) + std::chrono::seconds(rng() % 86400);
  r.not_before = r.not_after - std::chrono::hours(24 * (90 + static_cast<int>(rng() % 308)));
  r.recorded_at = r.not_before;
  r.key_algorithm = "ec-p256";
  r.digest = "sha256";
  if (!discovered) r.profile = kProfiles[n % 5];
  if (n % 200 == 3) r.revocation = ca::Revocation{r.not_before, 1, std::nullopt, 0};
  return r;
}

// Writes `count` records through the group commit, `window` in flight at a time.
base::Result<double> fill(store::LmdbStore& store, std::uint64_t count, std::size_t window) {
  std::mt19937_64 rng(42);
  const auto start = Clock::now();
  std::vector<std::future<base::Result<std::uint64_t>>> pending;
  for (std::uint64_t n = 1; n <= count; ++n) {
    pending.push_back(store.put_certificate_async(synthetic(n, rng), std::nullopt));
    if (pending.size() == window || n == count) {
      for (auto& f : pending) SIGNET_TRY(f.get());
      pending.clear();
    }
    if (n % 100'000 == 0)
      std::fprintf(stderr, "  %llu records\n", static_cast<unsigned long long>(n));
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Timed {
  double median_ms = 0;
  std::size_t items = 0;
  bool more = false;
};

Timed time_query(store::LmdbStore& store, const ca::CertificateQuery& query, int runs,
                 int pages = 1) {
  std::vector<double> ms;
  Timed out;
  for (int run = 0; run < runs; ++run) {
    auto q = query;
    const auto start = Clock::now();
    for (int page = 0; page < pages; ++page) {
      auto result = store.list_certificates(q);
      if (!result) {
        std::fprintf(stderr, "query failed: %s\n", result.error().describe().c_str());
        std::exit(1);
      }
      out.items = result->items.size();
      out.more = !result->next_cursor.empty();
      if (result->next_cursor.empty()) break;
      q.cursor = result->next_cursor;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count() / pages);
  }
  std::sort(ms.begin(), ms.end());
  out.median_ms = ms[ms.size() / 2];
  return out;
}

struct Case {
  std::string name;
  std::function<void(ca::CertificateQuery&)> apply;
  int pages = 1;
};

void run_queries(store::LmdbStore& store, int runs) {
  using S = ca::CertificateSort;
  std::vector<Case> cases;
  for (auto sort : {S::kNotAfter, S::kNotBefore, S::kCommonName, S::kSerial}) {
    for (bool desc : {false, true}) {
      cases.push_back({"first page, sort " + std::string(to_string(sort)) + (desc ? " desc" : ""),
                       [=](auto& q) {
                         q.sort = sort;
                         q.descending = desc;
                       }});
    }
  }
  cases.push_back({"pages 1-50 via cursors, notAfter (per page)", [](auto&) {}, 50});
  cases.push_back({"pages 1-50 via cursors, cn (per page)",
                   [](auto& q) { q.sort = ca::CertificateSort::kCommonName; }, 50});
  cases.push_back({"ca=ca2, notAfter", [](auto& q) { q.ca_name = "ca2"; }});
  cases.push_back({"ca=ca2, cn", [](auto& q) {
                     q.ca_name = "ca2";
                     q.sort = ca::CertificateSort::kCommonName;
                   }});
  cases.push_back({"profile=vpn, notAfter desc", [](auto& q) {
                     q.profile = "vpn";
                     q.descending = true;
                   }});
  cases.push_back(
      {"status=active, notAfter", [](auto& q) { q.status = ca::CertificateStatus::kActive; }});
  cases.push_back({"status=expired, notAfter desc", [](auto& q) {
                     q.status = ca::CertificateStatus::kExpired;
                     q.descending = true;
                   }});
  cases.push_back(
      {"status=revoked, notAfter", [](auto& q) { q.status = ca::CertificateStatus::kRevoked; }});
  cases.push_back({"status=revoked, serial", [](auto& q) {
                     q.status = ca::CertificateStatus::kRevoked;
                     q.sort = ca::CertificateSort::kSerial;
                   }});
  cases.push_back({"source=discovered, cn", [](auto& q) {
                     q.source = ca::CertificateSource::kDiscovered;
                     q.sort = ca::CertificateSort::kCommonName;
                   }});
  cases.push_back({"expiring within 30 days (active), notAfter", [](auto& q) {
                     q.status = ca::CertificateStatus::kActive;
                     q.not_after_before = q.now + std::chrono::hours(24 * 30);
                   }});
  cases.push_back({"search prefix 'host12345', cn", [](auto& q) {
                     q.search = "host12345";
                     q.sort = ca::CertificateSort::kCommonName;
                   }});
  cases.push_back({"search prefix 'www.host7', notAfter", [](auto& q) { q.search = "www.host7"; }});
  cases.push_back(
      {"search '*.d123.example.com', notAfter", [](auto& q) { q.search = "*.d123.example.com"; }});
  cases.push_back({"search '*.example.com' (every record), cn", [](auto& q) {
                     q.search = "*.example.com";
                     q.sort = ca::CertificateSort::kCommonName;
                   }});
  cases.push_back({"ca=ca3 + revoked + search 'host1', cn", [](auto& q) {
                     q.ca_name = "ca3";
                     q.status = ca::CertificateStatus::kRevoked;
                     q.search = "host1";
                     q.sort = ca::CertificateSort::kCommonName;
                   }});
  std::printf("%-48s %10s %6s %5s\n", "query (limit 100)", "median ms", "items", "more");
  for (const auto& c : cases) {
    ca::CertificateQuery q;
    q.now = epoch_day(730);
    q.limit = 100;
    c.apply(q);
    const auto t = time_query(store, q, runs, c.pages);
    std::printf("%-48s %10.2f %6zu %5s\n", c.name.c_str(), t.median_ms, t.items,
                t.more ? "yes" : "no");
  }
}

}  // namespace
}  // namespace signet::bench

int main(int argc, char** argv) {
  using namespace signet;
  CLI::App app{"signet-inventory-bench: certificate listing at scale"};
  std::uint64_t records = 1'000'000;
  std::string dir, reuse;
  bool keep = false;
  int runs = 5;
  std::size_t window = 8192;
  app.add_option("--records", records, "synthetic records to write");
  app.add_option("--dir", dir, "scratch directory (default: under $TMPDIR)");
  app.add_option("--reuse", reuse, "time the queries on this existing state directory");
  app.add_flag("--keep", keep, "keep the store");
  app.add_option("--runs", runs, "runs per query (median printed)");
  app.add_option("--window", window, "records in flight while filling");
  CLI11_PARSE(app, argc, argv);

  namespace fs = std::filesystem;
  fs::path state = reuse.empty()
                       ? (dir.empty() ? fs::temp_directory_path() /
                                            ("signet-inventory-bench-" + std::to_string(::getpid()))
                                      : fs::path(dir))
                       : fs::path(reuse);
  store::LmdbStoreOptions options;
  options.max_batch = 4096;
  auto store = store::LmdbStore::open(state, options);
  if (!store) {
    std::fprintf(stderr, "%s\n", store.error().describe().c_str());
    return 1;
  }
  if (reuse.empty()) {
    std::fprintf(stderr, "filling %llu records into %s\n", static_cast<unsigned long long>(records),
                 state.c_str());
    auto seconds = bench::fill(**store, records, window);
    if (!seconds) {
      std::fprintf(stderr, "%s\n", seconds.error().describe().c_str());
      return 1;
    }
    std::printf("filled %llu records in %.1f s: %.0f records/s (%llu commits)\n",
                static_cast<unsigned long long>(records), *seconds,
                static_cast<double>(records) / *seconds,
                static_cast<unsigned long long>((*store)->commits()));
    std::error_code ec;
    std::printf("store file: %.0f MiB\n",
                static_cast<double>(fs::file_size(state / "store" / "data.mdb", ec)) / 1048576.0);
  }
  bench::run_queries(**store, runs);
  store->reset();
  if (reuse.empty() && !keep) fs::remove_all(state);
  return 0;
}
