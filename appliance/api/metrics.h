// Metrics: counters and histograms signetd exposes at /metrics in the Prometheus text format
// (version 0.0.4): HTTP requests by route and status, issuances and failures, signing
// latency, token errors, and gauges sampled at scrape time (CRL age per CA, sessions).
// Thread-safe; recording is a mutex-guarded map update (cheap next to a signature).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace signet::appliance {

class Metrics {
 public:
  Metrics();

  void http_request(std::string_view route, int status);  // route: the pattern, not the path
  void issuance(bool succeeded);
  void signing_latency(std::chrono::nanoseconds latency);
  void token_error();

  // A gauge computed when scraped: name, help, and (label set -> value) samples.
  struct GaugeSample {
    std::string labels;  // `ca="root"`, or empty
    double value = 0;
  };
  using GaugeSource = std::function<std::vector<GaugeSample>()>;
  void add_gauge(std::string name, std::string help, GaugeSource source);

  std::string render() const;  // the exposition text

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;
  std::uint64_t issued_ = 0, failed_ = 0, token_errors_ = 0;
  std::vector<double> bucket_bounds_;  // seconds
  std::vector<std::uint64_t> buckets_;
  double latency_sum_ = 0;
  std::uint64_t latency_count_ = 0;
  struct Gauge {
    std::string name, help;
    GaugeSource source;
  };
  std::vector<Gauge> gauges_;
};

}  // namespace signet::appliance
