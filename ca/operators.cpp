#include "ca/operators.h"

#include <array>
#include <utility>

namespace signet::ca {

namespace {

using base::Error;
using base::ErrorCode;

constexpr std::size_t kMaxOperatorNameLength = 64;

constexpr std::array<std::pair<Role, std::string_view>, 3> kRoles = {{
    {Role::kAdministrator, "administrator"},
    {Role::kRaOfficer, "ra-officer"},
    {Role::kAuditor, "auditor"},
}};

bool is_alphanumeric(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// A name as it may appear in a message: printable ASCII, at most 40 characters.
std::string shown(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 40)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  if (text.size() > 40) out += "...";
  return out;
}

}  // namespace

std::string_view to_string(Role role) {
  for (const auto& [value, name] : kRoles) {
    if (value == role) return name;
  }
  return "unknown";
}

base::Result<Role> parse_role(std::string_view name) {
  for (const auto& [value, text] : kRoles) {
    if (text == name) return value;
  }
  return Error(
      ErrorCode::kInvalidArgument,
      "unknown role '" + shown(name) + "': expected 'administrator', 'ra-officer' or 'auditor'");
}

base::Result<void> validate_operator_name(std::string_view name) {
  if (name.empty()) return Error(ErrorCode::kInvalidArgument, "an operator name cannot be empty");
  if (name.size() > kMaxOperatorNameLength) {
    return Error(ErrorCode::kInvalidArgument,
                 "the operator name '" + shown(name) + "' is longer than " +
                     std::to_string(kMaxOperatorNameLength) + " characters");
  }
  if (!is_alphanumeric(name.front())) {
    return Error(ErrorCode::kInvalidArgument,
                 "the operator name '" + shown(name) + "' must start with a letter or a digit");
  }
  for (char c : name) {
    if (!is_alphanumeric(c) && c != '.' && c != '_' && c != '@' && c != '-') {
      return Error(ErrorCode::kInvalidArgument,
                   "the operator name '" + shown(name) +
                       "' may only contain letters, digits, '.', '_', '@' and '-'");
    }
  }
  return base::ok();
}

}  // namespace signet::ca
