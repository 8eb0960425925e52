#include "appliance/api/principal.h"

#include <algorithm>

namespace signet::appliance {

std::string_view to_string(Permission permission) {
  switch (permission) {
    case Permission::kPublic:
      return "public";
    case Permission::kRead:
      return "read";
    case Permission::kAudit:
      return "audit";
    case Permission::kOperate:
      return "operate";
    case Permission::kAdminister:
      return "administer";
  }
  return "unknown";
}

bool Principal::allows(Permission permission) const {
  if (permission == Permission::kPublic) return true;
  if (!authenticated()) return false;
  switch (permission) {
    case Permission::kPublic:
    case Permission::kRead:
      return true;
    case Permission::kAudit:
      return role == ca::Role::kAdministrator || role == ca::Role::kAuditor;
    case Permission::kOperate:
      return role == ca::Role::kAdministrator || role == ca::Role::kRaOfficer;
    case Permission::kAdminister:
      return role == ca::Role::kAdministrator;
  }
  return false;
}

bool Principal::may_use_profile(std::string_view ca_name, std::string_view profile_name) const {
  if (profiles.empty()) return true;
  const std::string qualified = std::string(ca_name) + "/" + std::string(profile_name);
  return std::find(profiles.begin(), profiles.end(), qualified) != profiles.end();
}

std::string Principal::actor() const {
  switch (kind) {
    case PrincipalKind::kAnonymous:
      return "anonymous";
    case PrincipalKind::kApiToken:
      return "token:" + token_id + "(" + operator_name + ")";
    case PrincipalKind::kSession:
    case PrincipalKind::kClientCertificate:
      return "operator:" + operator_name;
  }
  return "unknown";
}

}  // namespace signet::appliance
