// Who is asking: the operator or API token a request was authenticated as, and what its role
// allows. Made by the Authenticator (auth.h), checked by the Router (router.h) and by handlers
// that narrow further (an API token scoped to RA profiles).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ca/operators.h"

namespace signet::appliance {

// What a route requires. Roles (ca/operators.h) map onto them:
//   kPublic     - nobody needs to be authenticated (health, login, OpenAPI)
//   kRead       - any role: administrator, ra-officer, auditor
//   kAudit      - the audit log: administrator, auditor
//   kOperate    - certificate lifecycle, orders, alerts, CRL generation: administrator,
//                 ra-officer
//   kAdminister - CAs, tokens, RA profiles, operators, API tokens: administrator
enum class Permission { kPublic, kRead, kAudit, kOperate, kAdminister };
std::string_view to_string(Permission permission);

enum class PrincipalKind { kAnonymous, kSession, kApiToken, kClientCertificate };

struct Principal {
  PrincipalKind kind = PrincipalKind::kAnonymous;
  std::string operator_name;  // the operator (for a token: its owner)
  ca::Role role = ca::Role::kAuditor;
  std::string token_id;               // kApiToken
  std::vector<std::string> profiles;  // kApiToken: "ca/profile" it may use; empty: any
  std::string csrf_token;             // kSession: what unsafe requests must echo

  bool authenticated() const { return kind != PrincipalKind::kAnonymous; }
  bool allows(Permission permission) const;
  // Whether this principal may request through the RA profile `ca_name`/`profile_name`.
  bool may_use_profile(std::string_view ca_name, std::string_view profile_name) const;
  // As audit events name it: "operator:alice", "token:0123abcd...(alice)".
  std::string actor() const;
};

}  // namespace signet::appliance
