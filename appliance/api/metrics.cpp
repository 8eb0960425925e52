#include "appliance/api/metrics.h"

#include <cstdio>
#include <sstream>

namespace signet::appliance {

namespace {

std::string escape_label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string number(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.9g", value);
  return buffer;
}

}  // namespace

Metrics::Metrics()
    // Token signatures take ~0.1 ms (SoftHSM EC) to ~1 s (an RSA-4096 smart card).
    : bucket_bounds_{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                     0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5},
      buckets_(bucket_bounds_.size(), 0) {}

void Metrics::http_request(std::string_view route, int status) {
  std::lock_guard lock(mutex_);
  requests_[{std::string(route), status}] += 1;
}

void Metrics::issuance(bool succeeded) {
  std::lock_guard lock(mutex_);
  (succeeded ? issued_ : failed_) += 1;
}

void Metrics::signing_latency(std::chrono::nanoseconds latency) {
  const double seconds = std::chrono::duration<double>(latency).count();
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < bucket_bounds_.size(); ++i) {
    if (seconds <= bucket_bounds_[i]) buckets_[i] += 1;
  }
  latency_sum_ += seconds;
  latency_count_ += 1;
}

void Metrics::token_error() {
  std::lock_guard lock(mutex_);
  token_errors_ += 1;
}

void Metrics::add_gauge(std::string name, std::string help, GaugeSource source) {
  std::lock_guard lock(mutex_);
  gauges_.push_back({std::move(name), std::move(help), std::move(source)});
}

std::string Metrics::render() const {
  std::vector<Gauge> gauges;
  std::ostringstream out;
  {
    std::lock_guard lock(mutex_);
    out << "# HELP signet_http_requests_total HTTP requests by route and status.\n"
        << "# TYPE signet_http_requests_total counter\n";
    for (const auto& [key, count] : requests_) {
      out << "signet_http_requests_total{route=\"" << escape_label(key.first) << "\",code=\""
          << key.second << "\"} " << count << "\n";
    }
    out << "# HELP signet_issuances_total Certificates issued.\n"
        << "# TYPE signet_issuances_total counter\n"
        << "signet_issuances_total " << issued_ << "\n"
        << "# HELP signet_issuance_failures_total Issuance orders that failed.\n"
        << "# TYPE signet_issuance_failures_total counter\n"
        << "signet_issuance_failures_total " << failed_ << "\n"
        << "# HELP signet_token_errors_total Signatures that failed with a token error.\n"
        << "# TYPE signet_token_errors_total counter\n"
        << "signet_token_errors_total " << token_errors_ << "\n"
        << "# HELP signet_signing_duration_seconds Time the token took per signature.\n"
        << "# TYPE signet_signing_duration_seconds histogram\n";
    for (std::size_t i = 0; i < bucket_bounds_.size(); ++i) {
      out << "signet_signing_duration_seconds_bucket{le=\"" << number(bucket_bounds_[i])
          << "\"} " << buckets_[i] << "\n";
    }
    out << "signet_signing_duration_seconds_bucket{le=\"+Inf\"} " << latency_count_ << "\n"
        << "signet_signing_duration_seconds_sum " << number(latency_sum_) << "\n"
        << "signet_signing_duration_seconds_count " << latency_count_ << "\n";
    gauges = gauges_;
  }
  // Gauges are sampled outside the lock: they read the store.
  for (const auto& gauge : gauges) {
    out << "# HELP " << gauge.name << " " << gauge.help << "\n"
        << "# TYPE " << gauge.name << " gauge\n";
    for (const auto& sample : gauge.source()) {
      out << gauge.name;
      if (!sample.labels.empty()) out << "{" << sample.labels << "}";
      out << " " << number(sample.value) << "\n";
    }
  }
  return out.str();
}

}  // namespace signet::appliance
