// Operators and API tokens: who may drive the CA, in which role, and the records that prove
// it. The appliance (signetd) authenticates people with passwords (Argon2id PHC strings made
// and checked in appliance/, never here) or client certificates issued by its internal
// appliance CA, and programs with API tokens (long random values of which only a SHA-256 hash
// is stored). Roles (EJBCA's and Vault's split of duties):
//   administrator - CAs, tokens, RA profiles, operators and API tokens, and everything below
//   ra-officer    - issue, renew, rekey, reissue, revoke; orders and alerts; reading
//   auditor       - read-only, including the audit log
// An API token carries a role and, optionally, the RA profiles it may request through.
//
// OperatorDirectory is a record interface like those in ca/records.h: the store implements it
// (store/ over LMDB, the in-memory store in tests); every write carries its audit event in the
// same transaction. Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/result.h"
#include "ca/records.h"

namespace signet::ca {

enum class Role { kAdministrator, kRaOfficer, kAuditor };
std::string_view to_string(Role role);  // "administrator", "ra-officer", "auditor"
base::Result<Role> parse_role(std::string_view name);

// Operator names: 1..64 characters of [A-Za-z0-9._@-], starting with a letter or digit.
base::Result<void> validate_operator_name(std::string_view name);

struct OperatorRecord {
  std::string name;
  Role role = Role::kAuditor;
  // Argon2id PHC string ("$argon2id$v=19$m=...,t=...,p=...$salt$hash"); empty: no password
  // login (certificate only).
  std::string password_hash;
  bool disabled = false;
  // SHA-256 fingerprint of the client certificate that logs this operator in (issued by the
  // appliance CA); empty when none.
  base::Bytes certificate_fingerprint;
  // Back-off and lockout state: consecutive failures and until when logins are refused.
  std::uint32_t failed_logins = 0;
  std::optional<base::TimePoint> locked_until;
  base::TimePoint created{};
  std::string created_by;
  std::optional<base::TimePoint> last_login;
  // Bumped when the password changes or the operator is disabled: sessions made under an
  // older generation are no longer valid.
  std::uint32_t generation = 1;
};

struct ApiTokenRecord {
  std::string id;           // public part of the token: 16 lower-case hex characters
  base::Bytes secret_hash;  // SHA-256 of the whole token string as presented (32 bytes)
  std::string name;         // what it is for ("certbot on web01")
  std::string owner;        // the operator who created it
  Role role = Role::kRaOfficer;
  std::vector<std::string> profiles;  // "ca/profile" names it may request through; empty: any
  base::TimePoint created{};
  std::optional<base::TimePoint> expires;
  std::optional<base::TimePoint> revoked;
};

// One change to an operator's record, applied by OperatorDirectory::modify_operator to the
// record as stored, inside the store's write: concurrent changes (a role change, a password
// reset, a failed-login counter) each see the others' results, so none is lost. It edits
// `record` in place and returns the audit event to write with it (nullopt: bookkeeping that is
// audited elsewhere, such as a failed-login counter), or an error, which refuses the change and
// writes nothing. It runs on the store's writer, so it must be quick (hash a password before,
// not inside) and have no effect beyond `record` and its own captures: a store may run it more
// than once (a replayed batch), each time on the stored record, and the last run counts.
using OperatorChange =
    std::function<base::Result<std::optional<AuditEvent>>(OperatorRecord& record)>;

class OperatorDirectory {
 public:
  virtual ~OperatorDirectory() = default;

  // kAlreadyExists when the name is taken.
  virtual base::Result<void> create_operator(const OperatorRecord& record,
                                             std::optional<AuditEvent> event) = 0;
  // Replaces the record of that name wholesale; kNotFound when there is none. `event` may be
  // empty for bookkeeping that is audited elsewhere. A replace based on an earlier read loses
  // whatever changed in between: code that changes part of a record uses modify_operator.
  virtual base::Result<void> update_operator(const OperatorRecord& record,
                                             std::optional<AuditEvent> event) = 0;
  // Applies `change` to the stored record of `name` in one write (see OperatorChange) and
  // returns the record as written. kNotFound when there is none; the change's own error when it
  // refuses; kInvalidArgument when it renames the operator or leaves an invalid record;
  // kAlreadyExists when it binds a client certificate another operator has.
  virtual base::Result<OperatorRecord> modify_operator(std::string_view name,
                                                       const OperatorChange& change) = 0;
  virtual base::Result<void> delete_operator(std::string_view name,
                                             std::optional<AuditEvent> event) = 0;
  virtual base::Result<std::optional<OperatorRecord>> find_operator(std::string_view name) = 0;
  virtual base::Result<std::optional<OperatorRecord>> find_operator_by_certificate(
      base::ByteView fingerprint) = 0;
  virtual base::Result<std::vector<OperatorRecord>> list_operators() = 0;  // by name

  // kAlreadyExists when the id is taken.
  virtual base::Result<void> create_api_token(const ApiTokenRecord& record,
                                              std::optional<AuditEvent> event) = 0;
  virtual base::Result<void> update_api_token(const ApiTokenRecord& record,
                                              std::optional<AuditEvent> event) = 0;
  virtual base::Result<std::optional<ApiTokenRecord>> find_api_token(std::string_view id) = 0;
  virtual base::Result<std::vector<ApiTokenRecord>> list_api_tokens() = 0;  // by id
};

}  // namespace signet::ca
