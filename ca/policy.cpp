#include "ca/policy.h"

namespace signet::ca {

base::Error PolicyReport::to_error(std::string_view what) const {
  std::string message(what);
  message += " refused: ";
  for (std::size_t i = 0; i < violations_.size(); ++i) {
    if (i > 0) message += "; ";
    message += violations_[i];
  }
  return base::Error(base::ErrorCode::kPolicyViolation, std::move(message));
}

void check_subject_key(const pki::PublicKeyInfo& key, PolicyReport& report) {
  using Type = pki::PublicKeyInfo::Type;
  switch (key.type) {
    case Type::kRsa:
      if (key.bits < 2048) {
        report.add("RSA key of " + std::to_string(key.bits) + " bits is too small (minimum 2048)");
      } else if (key.bits > 8192) {
        report.add("RSA key of " + std::to_string(key.bits) + " bits is too large (maximum 8192)");
      }
      return;
    case Type::kEc:
      if (key.curve != "P-256" && key.curve != "P-384") {
        report.add("EC curve " + (key.curve.empty() ? std::string("(unnamed)") : key.curve) +
                   " is not allowed (allowed: P-256, P-384)");
      }
      return;
    case Type::kEd25519:
      return;
    case Type::kEd448:
    case Type::kOther:
      report.add("key type " + (key.name.empty() ? std::string("(unknown)") : key.name) +
                 " is not allowed (allowed: RSA >= 2048, EC P-256/P-384, Ed25519)");
      return;
  }
}

base::Result<void> validate_ca_name(std::string_view name) {
  auto bad = [&](std::string why) {
    return base::Error(base::ErrorCode::kInvalidArgument,
                       "CA name '" + std::string(name) + "' is not allowed: " + why);
  };
  if (name.empty() || name.size() > 64) return bad("it must be 1 to 64 characters long");
  if (name.front() == '.' || name.front() == '-') return bad("it may not start with '.' or '-'");
  for (char c : name) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!allowed) return bad("use only letters, digits, '.', '_' and '-'");
  }
  return base::ok();
}

}  // namespace signet::ca
