#include "base/log.h"

#include <cstdio>
#include <mutex>
#include <string>

namespace signet::base {

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

void StderrLogger::log(LogLevel level, std::string_view message) {
  if (level < threshold_) return;
  std::string line = "signet ";
  line += to_string(level);
  line += ": ";
  line += message;
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);  // one write per line: no interleaving
}

}  // namespace signet::base
