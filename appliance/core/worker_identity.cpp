#include "appliance/core/worker_identity.h"

#include <unistd.h>

#include <charconv>
#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

namespace signet::appliance {

namespace {

template <typename T>
std::optional<T> parse_number(std::string_view text) {
  T value{};
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<unsigned long long> process_start_time(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return std::nullopt;
  const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Field 2, the command name, is in parentheses and may itself hold spaces and ')': the
  // fields that follow start after the LAST ')'.
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(stat.substr(close + 1));
  std::string field;
  // Fields 3, 4, ... : field 3 is the state, field 22 the start time.
  for (int number = 3; rest >> field; ++number) {
    // A zombie (killed, not yet reaped: its parent died too and nobody reaps orphans in some
    // containers) still has its /proc entry, but it will never finish an order.
    if (number == 3 && (field == "Z" || field == "X" || field == "x")) return std::nullopt;
    if (number == 22) return parse_number<unsigned long long>(field);
  }
  return std::nullopt;
}

std::string current_worker() {
  const pid_t pid = ::getpid();
  const auto start = process_start_time(pid);
  return "pid:" + std::to_string(pid) + ":" + (start ? std::to_string(*start) : "0");
}

bool worker_alive(std::string_view worker) {
  constexpr std::string_view kPrefix = "pid:";
  if (worker.substr(0, kPrefix.size()) != kPrefix) return false;
  worker.remove_prefix(kPrefix.size());
  const auto colon = worker.find(':');
  if (colon == std::string_view::npos) return false;
  const auto pid = parse_number<pid_t>(worker.substr(0, colon));
  const auto start = parse_number<unsigned long long>(worker.substr(colon + 1));
  if (!pid || !start) return false;
  const auto now_start = process_start_time(*pid);
  return now_start && *now_start == *start;
}

}  // namespace signet::appliance
