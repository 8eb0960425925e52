#include "base/log.h"

#include <cstdio>
#include <mutex>
#include <string>

namespace signet::base {
namespace {

std::string_view level_name(LogLevel level) {
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
  return "log";
}

}  // namespace

void StderrLogger::log(LogLevel level, std::string_view message) {
  if (level < threshold_) return;
  std::string line = "signet ";
  line += level_name(level);
  line += ": ";
  line += message;
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);  // one write per line: no interleaving
}

}  // namespace signet::base
