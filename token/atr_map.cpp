#include "token/atr_map.h"

#include "token/token_type.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace signet::token {
namespace {

using base::Error;
using base::ErrorCode;

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Error bad_pattern(std::string_view text, const std::string& why) {
  return Error(ErrorCode::kInvalidArgument,
               "ATR pattern '" + std::string(text) + "' is not valid: " + why);
}

// Hex bytes with '?' nibbles: value and mask (0 bits where a '?' was).
base::Result<void> parse_bytes(std::string_view text, std::string_view whole,
                               std::vector<std::uint8_t>& value, std::vector<std::uint8_t>& mask) {
  std::string digits;
  for (char c : text) {
    if (c == ':' || c == ' ' || c == '\t') continue;
    if (c != '?' && hex_digit(c) < 0) {
      return bad_pattern(whole, std::string("'") + c + "' is neither a hex digit nor '?'");
    }
    digits += c;
  }
  if (digits.size() % 2 != 0) return bad_pattern(whole, "it has an odd number of hex digits");
  for (std::size_t i = 0; i < digits.size(); i += 2) {
    std::uint8_t v = 0;
    std::uint8_t m = 0;
    for (std::size_t j = 0; j < 2; ++j) {
      const char c = digits[i + j];
      v = static_cast<std::uint8_t>(v << 4);
      m = static_cast<std::uint8_t>(m << 4);
      if (c != '?') {
        v = static_cast<std::uint8_t>(v | hex_digit(c));
        m = static_cast<std::uint8_t>(m | 0x0f);
      }
    }
    value.push_back(v);
    mask.push_back(m);
  }
  return base::ok();
}

std::string trimmed(std::string_view text) {
  std::size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return "";
  std::size_t end = text.find_last_not_of(" \t");
  return std::string(text.substr(begin, end - begin + 1));
}

}  // namespace

base::Result<AtrPattern> AtrPattern::parse(std::string_view text) {
  AtrPattern pattern;
  pattern.text_ = std::string(text);
  std::string body = trimmed(text);
  std::string mask_text;
  if (auto slash = body.find('/'); slash != std::string::npos) {
    mask_text = trimmed(std::string_view(body).substr(slash + 1));
    body = trimmed(std::string_view(body).substr(0, slash));
  }
  if (body.size() >= 3 && body.compare(body.size() - 3, 3, "...") == 0) {
    pattern.any_tail_ = true;
    body = trimmed(std::string_view(body).substr(0, body.size() - 3));
  } else if (!body.empty() && body.back() == '*') {
    pattern.any_tail_ = true;
    body = trimmed(std::string_view(body).substr(0, body.size() - 1));
  }
  SIGNET_TRY(parse_bytes(body, text, pattern.value_, pattern.mask_));
  if (pattern.value_.empty()) return bad_pattern(text, "it has no bytes");
  if (pattern.value_.size() > 33) return bad_pattern(text, "an ATR has at most 33 bytes");
  if (!mask_text.empty()) {
    std::vector<std::uint8_t> mask;
    std::vector<std::uint8_t> ignored;
    SIGNET_TRY(parse_bytes(mask_text, text, mask, ignored));
    if (mask.size() != pattern.value_.size()) {
      return bad_pattern(text, "its mask has " + std::to_string(mask.size()) +
                                   " bytes, the pattern " + std::to_string(pattern.value_.size()));
    }
    for (std::size_t i = 0; i < mask.size(); ++i) pattern.mask_[i] &= mask[i];
  }
  return pattern;
}

bool AtrPattern::matches(base::ByteView atr) const {
  if (atr.size() < value_.size()) return false;
  if (!any_tail_ && atr.size() != value_.size()) return false;
  for (std::size_t i = 0; i < value_.size(); ++i) {
    if ((atr[i] & mask_[i]) != (value_[i] & mask_[i])) return false;
  }
  return true;
}

AtrMap::AtrMap(std::string default_module) {
  default_.name = "default";
  default_.module_path = std::move(default_module);
}

base::Result<void> AtrMap::add(ModuleRule rule) {
  if (rule.module_path.empty()) {
    return Error(ErrorCode::kInvalidArgument, "the ATR rule '" + rule.name + "' names no module");
  }
  SIGNET_ASSIGN_OR_RETURN(auto pattern, AtrPattern::parse(rule.atr_pattern));
  patterns_.push_back(std::move(pattern));
  rules_.push_back(std::move(rule));
  return base::ok();
}

const ModuleRule& AtrMap::match(base::ByteView atr) const {
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    if (patterns_[i].matches(atr)) return rules_[i];
  }
  return default_;
}

base::Result<AtrMap> AtrMap::from_json(std::string_view text, const std::string& origin) {
  auto fail = [&origin](const std::string& why) {
    return Error(ErrorCode::kInvalidArgument, "ATR map " + origin + ": " + why);
  };
  nlohmann::json root = nlohmann::json::parse(text, nullptr, false);
  if (root.is_discarded() || !root.is_object()) return fail("not a JSON object");
  for (const auto& [key, value] : root.items()) {
    if (key != "default_module" && key != "cards") return fail("unknown key '" + key + "'");
  }
  AtrMap map;
  if (root.contains("default_module")) {
    if (!root["default_module"].is_string()) return fail("'default_module' must be a string");
    map.default_.module_path = root["default_module"].get<std::string>();
  }
  if (!root.contains("cards")) return map;
  if (!root["cards"].is_array()) return fail("'cards' must be an array");
  std::size_t index = 0;
  for (const auto& card : root["cards"]) {
    const std::string where = "cards[" + std::to_string(index++) + "]";
    if (!card.is_object()) return fail(where + " must be an object");
    ModuleRule rule;
    for (const auto& [key, value] : card.items()) {
      if (!value.is_string()) return fail(where + "." + key + " must be a string");
      const auto text = value.get<std::string>();
      if (key == "name") {
        rule.name = text;
      } else if (key == "atr") {
        rule.atr_pattern = text;
      } else if (key == "module") {
        rule.module_path = text;
      } else if (key == "token") {
        rule.token = text;
      } else if (key == "type") {
        auto type = token_type(text);
        if (!type) return fail(where + ": " + type.error().message());
        rule.type = text;
      } else {
        return fail(where + " has an unknown key '" + key + "'");
      }
    }
    if (rule.atr_pattern.empty()) return fail(where + " has no 'atr'");
    if (rule.name.empty()) rule.name = rule.atr_pattern;
    auto added = map.add(std::move(rule));
    if (!added) return fail(where + ": " + added.error().message());
  }
  return map;
}

base::Result<AtrMap> AtrMap::load(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) {
    return Error(ErrorCode::kNotFound, "cannot read the ATR map '" + file.string() + "'");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return from_json(text.str(), "'" + file.string() + "'");
}

}  // namespace signet::token
