// Logging facade: modules log through a Logger they are given (or the process default set by
// the composition root). Messages must never contain secrets: PINs and passwords are held in
// SecureBuffer, which cannot be formatted. Thread-safe.
#pragma once

#include <string_view>

namespace signet::base {

enum class LogLevel { kDebug, kInfo, kWarning, kError };
std::string_view to_string(LogLevel level);  // "debug", "info", "warning", "error"

class Logger {
 public:
  virtual ~Logger() = default;
  virtual void log(LogLevel level, std::string_view message) = 0;
};

// Writes "level: message" lines to stderr at or above a threshold.
class StderrLogger final : public Logger {
 public:
  explicit StderrLogger(LogLevel threshold = LogLevel::kWarning) : threshold_(threshold) {}
  void log(LogLevel level, std::string_view message) override;

 private:
  LogLevel threshold_;
};

// Discards everything (the default for library code that was handed no logger).
class NullLogger final : public Logger {
 public:
  void log(LogLevel, std::string_view) override {}
};

}  // namespace signet::base
