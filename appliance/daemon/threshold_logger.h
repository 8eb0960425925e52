// ThresholdLogger: signetd's request log, a base::StderrLogger whose threshold a configuration
// reload may change ([logging] level) while other threads log. Thread-safe.
#pragma once

#include <atomic>

#include "base/log.h"

namespace signet::appliance {

class ThresholdLogger final : public base::Logger {
 public:
  explicit ThresholdLogger(base::LogLevel threshold) : threshold_(threshold) {}
  void log(base::LogLevel level, std::string_view message) override {
    if (level >= threshold_.load(std::memory_order_relaxed)) stderr_.log(level, message);
  }
  void set_threshold(base::LogLevel threshold) { threshold_.store(threshold); }

 private:
  std::atomic<base::LogLevel> threshold_;
  base::StderrLogger stderr_{base::LogLevel::kDebug};  // filters nothing itself
};

}  // namespace signet::appliance
