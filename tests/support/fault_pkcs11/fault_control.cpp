#include "tests/support/fault_pkcs11/fault_control.h"

#include <cstdlib>
#include <sstream>

namespace signet::test::fault {
namespace {

struct NamedRv {
  const char* name;
  CK_RV rv;
};

#define FAULT_RV(name) \
  { #name, name }
constexpr NamedRv kRvs[] = {
    FAULT_RV(CKR_OK),
    FAULT_RV(CKR_GENERAL_ERROR),
    FAULT_RV(CKR_FUNCTION_FAILED),
    FAULT_RV(CKR_DEVICE_ERROR),
    FAULT_RV(CKR_DEVICE_MEMORY),
    FAULT_RV(CKR_DEVICE_REMOVED),
    FAULT_RV(CKR_TOKEN_NOT_PRESENT),
    FAULT_RV(CKR_TOKEN_NOT_RECOGNIZED),
    FAULT_RV(CKR_SESSION_HANDLE_INVALID),
    FAULT_RV(CKR_SESSION_CLOSED),
    FAULT_RV(CKR_PIN_INCORRECT),
    FAULT_RV(CKR_PIN_LOCKED),
    FAULT_RV(CKR_PIN_EXPIRED),
    FAULT_RV(CKR_USER_NOT_LOGGED_IN),
    FAULT_RV(CKR_FUNCTION_CANCELED),
    FAULT_RV(CKR_HOST_MEMORY),
    FAULT_RV(CKR_OBJECT_HANDLE_INVALID),
    FAULT_RV(CKR_KEY_HANDLE_INVALID),
};
#undef FAULT_RV

std::string trim(std::string_view text) {
  std::size_t begin = 0;
  std::size_t end = text.size();
  while (begin < end && (text[begin] == ' ' || text[begin] == '\t')) ++begin;
  while (end > begin && (text[end - 1] == ' ' || text[end - 1] == '\t' || text[end - 1] == '\r')) {
    --end;
  }
  return std::string(text.substr(begin, end - begin));
}

std::optional<unsigned long> parse_number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const unsigned long value = std::strtoul(text.c_str(), &end, 10);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return value;
}

std::optional<CK_FLAGS> pin_flag(const std::string& word) {
  if (word == "count_low") return CKF_USER_PIN_COUNT_LOW;
  if (word == "final_try") return CKF_USER_PIN_FINAL_TRY;
  if (word == "locked") return CKF_USER_PIN_LOCKED;
  return std::nullopt;
}

// One directive; false when it is not understood.
bool parse_line(const std::string& line, FaultControl& out) {
  std::istringstream words(line);
  std::string verb;
  words >> verb;
  if (verb == "pin") {
    std::string word;
    words >> word;
    auto flag = pin_flag(word);
    if (!flag) return false;
    out.token_flags |= *flag;
    return true;
  }
  if (verb == "so_pin") {
    std::string word;
    words >> word;
    if (word != "locked") return false;
    out.token_flags |= CKF_SO_PIN_LOCKED;
    return true;
  }
  if (verb == "fail") {
    FailRule rule;
    std::string rv_name;
    std::string after;
    std::string count;
    words >> rule.function >> rv_name >> after >> count;
    auto rv = parse_rv(rv_name);
    if (rule.function.rfind("C_", 0) != 0 || !rv) return false;
    rule.rv = *rv;
    if (!after.empty()) {
      auto n = parse_number(count);
      if (after != "after" || !n) return false;
      rule.pass_first = *n;
    }
    rule.line = line;
    out.failures.push_back(std::move(rule));
    return true;
  }
  if (verb == "delay") {
    DelayRule rule;
    std::string ms;
    words >> rule.function >> ms;
    auto n = parse_number(ms);
    if (rule.function.rfind("C_", 0) != 0 || !n) return false;
    rule.milliseconds = *n;
    out.delays.push_back(std::move(rule));
    return true;
  }
  if (verb == "ykcs11") {
    Ykcs11Settings settings;
    std::string extra;
    words >> settings.management_key >> settings.user_pin >> extra;
    if (settings.management_key.empty() || settings.user_pin.empty() || !extra.empty()) {
      return false;
    }
    out.ykcs11 = std::move(settings);
    return true;
  }
  if (verb == "slot_description") {
    std::string rest;
    std::getline(words, rest);
    rest = trim(rest);
    if (rest.empty()) return false;
    out.slot_description = rest;
    return true;
  }
  return false;
}

}  // namespace

std::optional<CK_RV> parse_rv(std::string_view name) {
  for (const auto& entry : kRvs) {
    if (name == entry.name) return entry.rv;
  }
  if (name.size() > 2 && name.substr(0, 2) == "0x") {
    const std::string digits(name.substr(2));
    char* end = nullptr;
    const unsigned long value = std::strtoul(digits.c_str(), &end, 16);
    if (end != nullptr && *end == '\0') return static_cast<CK_RV>(value);
  }
  return std::nullopt;
}

FaultControl parse_control(std::string_view text, std::vector<std::string>& problems) {
  FaultControl control;
  std::size_t number = 0;
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    std::string_view raw = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    ++number;
    const std::size_t hash = raw.find('#');
    const std::string line = trim(raw.substr(0, hash));
    if (line.empty()) continue;
    if (!parse_line(line, control)) {
      problems.push_back("line " + std::to_string(number) + " not understood: '" + line + "'");
    }
  }
  return control;
}

}  // namespace signet::test::fault
