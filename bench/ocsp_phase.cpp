#include "bench/ocsp_phase.h"

#include <cstdio>
#include <random>

#include "base/clock.h"
#include "bench/measurements.h"
#include "bench/ocsp_client.h"
#include "crl/ocsp_responder.h"
#include "crl/ocsp_signers.h"

namespace signet::bench {

using base::Error;
using base::ErrorCode;
using base::Result;

namespace {

// A certificate whose response is checked with OpenSSL, and what the response must say.
struct Sample {
  std::uint64_t index = 0;
  pki::OcspCertStatus status = pki::OcspCertStatus::kUnknown;
  std::optional<int> reason;
};

Result<Sample> expected(store::LmdbStore& store, const FixtureShape& shape, std::uint64_t index) {
  Sample sample{index, pki::OcspCertStatus::kUnknown, std::nullopt};
  SIGNET_ASSIGN_OR_RETURN(auto status, store.serial_status(shape.ca_name, fixture_serial(index)));
  if (index < shape.revoked) {
    sample.status = pki::OcspCertStatus::kRevoked;
    sample.reason = fixture_revocation(shape, index).reason;
  } else if (index < shape.issued()) {
    // A good certificate of the fixture, unless an earlier delta CRL run revoked it.
    const bool revoked = status && status->revocation;
    sample.status = revoked ? pki::OcspCertStatus::kRevoked : pki::OcspCertStatus::kGood;
    if (revoked) sample.reason = status->revocation->reason;
  }
  return sample;
}

std::string describe(const Sample& sample) {
  std::string text(pki::to_string(sample.status));
  if (sample.reason) text += " (reason " + std::to_string(*sample.reason) + ")";
  return text;
}

// One sample through both responders, as a cache miss, a cache hit and with a nonce.
Result<std::string> check_sample(const OcspRequestMaker& maker, crl::OcspResponder& cached,
                                 crl::OcspResponder& uncached, const Sample& sample) {
  const auto serial = fixture_serial(sample.index);
  SIGNET_ASSIGN_OR_RETURN(auto request, maker.request(serial, false));
  SIGNET_ASSIGN_OR_RETURN(auto nonce_request, maker.request(serial, true));
  const auto context = [&](const char* what) {
    return std::string(what) + ", " + describe(sample) + ", serial " + serial.to_hex();
  };
  const auto check = [&](const base::Bytes& req, const base::Bytes& response,
                         const char* what) -> Result<void> {
    auto verdict = maker.check(req, response, sample.status, sample.reason);
    if (!verdict) return std::move(verdict).error().with_context(context(what));
    return base::ok();
  };
  const auto first = cached.respond(request);
  SIGNET_TRY(check(request, first, "cache miss"));
  const auto hits = cached.stats().cache_hits;
  const auto second = cached.respond(request);
  SIGNET_TRY(check(request, second, "cache hit"));
  if (cached.stats().cache_hits != hits + 1 || second != first) {
    return Error(ErrorCode::kInternal, context("the second request was not a cache hit"));
  }
  SIGNET_TRY(check(request, uncached.respond(request), "cache disabled"));
  SIGNET_TRY(check(nonce_request, cached.respond(nonce_request), "with a nonce"));
  return describe(sample) + ": signed, cached, uncached and nonce responses accepted by OpenSSL";
}

// The working set: indices of the fixture, 80 % revoked, 15 % good, 5 % never issued.
std::vector<std::uint64_t> working_set(const FixtureShape& shape, std::size_t size) {
  std::mt19937_64 rng(20261123);
  std::vector<std::uint64_t> indices;
  indices.reserve(size);
  while (indices.size() < size) {
    const auto roll = rng() % 100;
    if (roll < 80 && shape.revoked > 0) {
      indices.push_back(rng() % shape.revoked);
    } else if (roll < 95 && shape.good > 0) {
      indices.push_back(shape.revoked + rng() % shape.good);
    } else if (roll >= 95) {
      indices.push_back(shape.issued() + rng() % 1'000'000'000);
    }
  }
  return indices;
}

Worker respond_loop(crl::OcspResponder& responder, const std::vector<base::Bytes>& requests,
                    int threads) {
  return [&responder, &requests, threads](int thread, const Interval& interval) {
    return loop_until_end(thread, threads, interval, [&](std::uint64_t i) -> Result<void> {
      auto outcome = responder.handle(requests[i % requests.size()]);
      if (outcome.status != pki::OcspResponseStatus::kSuccessful) {
        return Error(ErrorCode::kInternal, "OCSP response not successful: " + outcome.error);
      }
      return base::ok();
    });
  };
}

// The two responders over the bench's store, and the requests they are measured with.
class OcspBench {
 public:
  OcspBench(BenchEnvironment& env, ca::Authority& authority, const FixtureShape& shape)
      : store_(*env.store),
        shape_(shape),
        signers_(authority, {store_, store_, store_, store_}, *env.token_keys, clock_, "bench"),
        cached_(store_, store_, signers_, clock_),
        uncached_(store_, store_, signers_, clock_, no_cache()) {}

  // The CA's request maker and signer; then OpenSSL's verdict on the samples.
  Result<void> check_samples(BenchEnvironment& env, OcspReport& report) {
    SIGNET_ASSIGN_OR_RETURN(auto ca, store_.find_ca(shape_.ca_name));
    if (!ca) return Error(ErrorCode::kNotFound, "the store has no CA '" + shape_.ca_name + "'");
    SIGNET_ASSIGN_OR_RETURN(auto maker, OcspRequestMaker::create(ca->certificate_der));
    maker_.emplace(std::move(maker));
    SIGNET_ASSIGN_OR_RETURN(signer_, env.token_keys->find_key(ca->key));
    std::vector<std::uint64_t> checked = {shape_.issued() + 1};
    if (shape_.good > 0) checked.push_back(shape_.issued() - 1);
    if (shape_.revoked > 4) checked.insert(checked.end(), {0, 4});
    for (auto index : checked) {
      SIGNET_ASSIGN_OR_RETURN(auto sample, expected(store_, shape_, index));
      SIGNET_ASSIGN_OR_RETURN(auto line, check_sample(*maker_, cached_, uncached_, sample));
      report.checks.push_back(std::move(line));
    }
    return base::ok();
  }

  // The working set's requests, with and without a nonce; the cache answers each once.
  Result<void> prepare(std::size_t size) {
    for (auto index : working_set(shape_, size)) {
      serials_.push_back(fixture_serial(index));
      SIGNET_ASSIGN_OR_RETURN(auto request, maker_->request(serials_.back(), false));
      plain_.push_back(std::move(request));
      SIGNET_ASSIGN_OR_RETURN(request, maker_->request(serials_.back(), true));
      with_nonce_.push_back(std::move(request));
    }
    std::fprintf(stderr, "signet-crl-bench: warming the OCSP cache with %zu responses\n",
                 plain_.size());
    for (const auto& request : plain_) cached_.respond(request);
    return base::ok();
  }

  void measure(int threads, const RunConfig& config, std::vector<OcspRow>& rows) {
    std::fprintf(stderr, "signet-crl-bench: OCSP on %d thread(s)\n", threads);
    const auto timed = [&](const Worker& worker) {
      return run_timed(threads, config.warmup, config.measure, worker);
    };
    rows.push_back(
        {"CA key signature alone (token)", threads, measure_signing(*signer_, threads, config)});
    rows.push_back(
        {"serial_status alone (store)", threads, timed([&](int thread, const Interval& interval) {
           return loop_until_end(thread, threads, interval, [&](std::uint64_t i) {
             return store_.serial_status(shape_.ca_name, serials_[i % serials_.size()]);
           });
         })});
    crl::OcspStats at_start, at_end;
    OcspRow row{"(a) no nonce, cache on", threads,
                run_timed(
                    threads, config.warmup, config.measure, respond_loop(cached_, plain_, threads),
                    [&] { at_start = cached_.stats(); }, [&] { at_end = cached_.stats(); })};
    if (const auto requests = at_end.requests - at_start.requests; requests > 0) {
      row.hit_ratio = static_cast<double>(at_end.cache_hits - at_start.cache_hits) /
                      static_cast<double>(requests);
    }
    rows.push_back(std::move(row));
    rows.push_back(
        {"(b) nonce: always signed", threads, timed(respond_loop(cached_, with_nonce_, threads))});
    rows.push_back(
        {"(c) no nonce, cache off", threads, timed(respond_loop(uncached_, plain_, threads))});
  }

 private:
  static crl::OcspResponderOptions no_cache() {
    crl::OcspResponderOptions options;
    options.cache_entries = 0;
    return options;
  }

  store::LmdbStore& store_;
  const FixtureShape& shape_;
  base::SystemClock clock_;
  crl::OcspSigners signers_;
  crl::OcspResponder cached_;
  crl::OcspResponder uncached_;
  std::optional<OcspRequestMaker> maker_;
  std::shared_ptr<base::Signer> signer_;
  std::vector<pki::SerialNumber> serials_;
  std::vector<base::Bytes> plain_;
  std::vector<base::Bytes> with_nonce_;
};

}  // namespace

Result<OcspReport> measure_ocsp(BenchEnvironment& env, ca::Authority& authority,
                                const FixtureShape& shape, const OcspOptions& options) {
  OcspBench bench(env, authority, shape);
  OcspReport report;
  SIGNET_TRY(bench.check_samples(env, report));
  SIGNET_TRY(bench.prepare(options.working_set));
  RunConfig config;
  config.measure = options.measure;
  for (int threads : options.threads) bench.measure(threads, config, report.rows);
  return report;
}

}  // namespace signet::bench
