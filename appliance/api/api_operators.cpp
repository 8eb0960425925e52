// Routes: operators (administrators, RA officers, auditors), their client certificates (issued
// by the appliance CA's "operator" profile from the operator's CSR and bound to the operator
// for mTLS login) and API tokens. Administrator only.
#include <openssl/crypto.h>

#include "appliance/api/api.h"
#include "appliance/api/auth.h"
#include "appliance/core/views.h"
#include "pki/pem.h"

namespace signet::appliance {

using base::Error;
using base::ErrorCode;
using base::Result;

namespace {

nlohmann::json operator_json(const ca::OperatorRecord& op, base::TimePoint now) {
  nlohmann::json j = {{"name", op.name},
                      {"role", std::string(ca::to_string(op.role))},
                      {"disabled", op.disabled},
                      {"has_password", !op.password_hash.empty()},
                      {"failed_logins", op.failed_logins},
                      {"locked", op.locked_until && *op.locked_until > now},
                      {"created", format_time(op.created)},
                      {"created_by", op.created_by}};
  if (op.locked_until && *op.locked_until > now) j["locked_until"] = format_time(*op.locked_until);
  if (op.last_login) j["last_login"] = format_time(*op.last_login);
  if (!op.certificate_fingerprint.empty()) {
    j["certificate_fingerprint_sha256"] = colon_hex(op.certificate_fingerprint);
  }
  return j;
}

nlohmann::json token_json(const ca::ApiTokenRecord& t, const Authenticator& auth) {
  nlohmann::json j = {{"id", t.id},
                      {"name", t.name},
                      {"owner", t.owner},
                      {"role", std::string(ca::to_string(t.role))},
                      {"profiles", t.profiles},
                      {"created", format_time(t.created)},
                      {"revoked", t.revoked.has_value()}};
  if (t.expires) j["expires"] = format_time(*t.expires);
  if (t.revoked) j["revoked_at"] = format_time(*t.revoked);
  const auto used = auth.token_last_used(t.id);
  j["last_used"] = used ? nlohmann::json(format_time(*used)) : nlohmann::json(nullptr);
  return j;
}

Result<void> only_fields(const nlohmann::json& body,
                         std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : body.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return Error(ErrorCode::kInvalidArgument, "unknown field '" + key + "'");
    }
  }
  return base::ok();
}

// A readable random password for a new operator, shown once: 20 characters from an alphabet
// without look-alikes (about 116 bits).
Result<base::SecureBuffer> generate_password(base::Rng& rng) {
  static constexpr std::string_view kAlphabet =
      "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  base::SecureBuffer out(20);
  auto bytes = out.mutable_view();
  SIGNET_TRY(rng.fill(bytes));
  for (auto& b : bytes) b = static_cast<std::uint8_t>(kAlphabet[b % kAlphabet.size()]);
  return out;
}

Result<base::SecureBuffer> password_field(nlohmann::json& body) {
  auto& text = body["password"].get_ref<std::string&>();
  auto secret = base::SecureBuffer::copy_of(
      base::ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  OPENSSL_cleanse(text.data(), text.size());
  return secret;
}

std::string secret_text(const base::SecureBuffer& secret) {
  return std::string(reinterpret_cast<const char*>(secret.view().data()), secret.size());
}

Result<std::size_t> administrators(ApiServices& api) {
  SIGNET_ASSIGN_OR_RETURN(auto all, api.operators().list_operators());
  return static_cast<std::size_t>(std::count_if(all.begin(), all.end(), [](const auto& op) {
    return op.role == ca::Role::kAdministrator && !op.disabled;
  }));
}

Result<http::Response> create_operator(ApiServices& api, ApiCall& call) {
  auto parsed = json_body(call.request);
  OPENSSL_cleanse(call.request.body.data(), call.request.body.size());
  SIGNET_ASSIGN_OR_RETURN(auto body, std::move(parsed));
  SIGNET_TRY(only_fields(body, {"name", "role", "password"}));
  SIGNET_ASSIGN_OR_RETURN(auto name, required_string(body, "name"));
  SIGNET_TRY(ca::validate_operator_name(name));
  SIGNET_ASSIGN_OR_RETURN(auto role_name, required_string(body, "role"));
  SIGNET_ASSIGN_OR_RETURN(auto role, ca::parse_role(role_name));
  const bool generated = !body.contains("password");
  if (!generated && !body["password"].is_string()) {
    return Error(ErrorCode::kInvalidArgument, "the field 'password' must be a string");
  }
  SIGNET_ASSIGN_OR_RETURN(
      auto password, generated ? generate_password(api.context().rng()) : password_field(body));
  ca::OperatorRecord op;
  op.name = name;
  op.role = role;
  SIGNET_ASSIGN_OR_RETURN(op.password_hash, api.authenticator().hash_password(password));
  op.created = api.clock().now();
  op.created_by = call.principal.actor();
  nlohmann::json detail = {{"role", role_name}};
  SIGNET_TRY(api.operators().create_operator(
      op, ca::make_audit_event(op.created, call.principal.actor(), "operator.created",
                               "operator:" + name, detail.dump())));
  auto j = operator_json(op, api.clock().now());
  // A generated password is handed out once, in this response only.
  if (generated) j["password"] = secret_text(password);
  return json_response(j, 201);
}

Result<ca::OperatorRecord> existing_operator(ApiServices& api, const std::string& name) {
  SIGNET_ASSIGN_OR_RETURN(auto found, api.operators().find_operator(name));
  if (!found) return Error(ErrorCode::kNotFound, "no operator '" + name + "'");
  return std::move(*found);
}

// What a PATCH asks for, read and checked before the store is touched (a new password is
// hashed here, not inside the store's write).
struct OperatorPatch {
  std::optional<ca::Role> role;
  std::string role_name;
  std::optional<bool> disabled;
  bool unlock = false;
  std::optional<std::string> password_hash;
};

Result<OperatorPatch> read_patch(ApiServices& api, nlohmann::json& body) {
  OperatorPatch patch;
  if (body.contains("role")) {
    SIGNET_ASSIGN_OR_RETURN(patch.role_name, required_string(body, "role"));
    SIGNET_ASSIGN_OR_RETURN(patch.role, ca::parse_role(patch.role_name));
  }
  SIGNET_ASSIGN_OR_RETURN(patch.disabled, optional_bool(body, "disabled"));
  SIGNET_ASSIGN_OR_RETURN(auto unlock, optional_bool(body, "unlock"));
  patch.unlock = unlock.value_or(false);
  if (body.contains("password")) {
    if (!body["password"].is_string()) {
      return Error(ErrorCode::kInvalidArgument, "the field 'password' must be a string");
    }
    SIGNET_ASSIGN_OR_RETURN(auto password, password_field(body));
    SIGNET_ASSIGN_OR_RETURN(patch.password_hash, api.authenticator().hash_password(password));
  }
  return patch;
}

// Applies `patch` to the stored record (inside the store's write); `end_sessions` says whether
// the operator's sessions must end.
Result<std::optional<ca::AuditEvent>> apply_patch(const OperatorPatch& patch,
                                                  ca::OperatorRecord& op, const ApiCall& call,
                                                  base::TimePoint now, bool& end_sessions) {
  nlohmann::json changes = nlohmann::json::object();
  end_sessions = false;
  if (patch.role) {
    end_sessions |= *patch.role != op.role;
    op.role = *patch.role;
    changes["role"] = patch.role_name;
  }
  if (patch.disabled) {
    end_sessions |= *patch.disabled != op.disabled;
    op.disabled = *patch.disabled;
    changes["disabled"] = *patch.disabled;
  }
  if (patch.unlock) {
    op.failed_logins = 0;
    op.locked_until.reset();
    changes["unlocked"] = true;
  }
  if (patch.password_hash) {
    op.password_hash = *patch.password_hash;
    op.generation += 1;
    end_sessions = true;
    changes["password"] = "reset";
  }
  if (op.name == call.principal.operator_name &&
      (op.disabled || op.role != ca::Role::kAdministrator)) {
    return Error(ErrorCode::kPolicyViolation,
                 "an administrator cannot disable or demote themselves; ask another administrator");
  }
  return std::optional(ca::make_audit_event(now, call.principal.actor(), "operator.updated",
                                            "operator:" + op.name, changes.dump()));
}

Result<http::Response> update_operator(ApiServices& api, ApiCall& call) {
  auto parsed = json_body(call.request);
  OPENSSL_cleanse(call.request.body.data(), call.request.body.size());
  SIGNET_ASSIGN_OR_RETURN(auto body, std::move(parsed));
  SIGNET_TRY(only_fields(body, {"role", "disabled", "password", "unlock"}));
  SIGNET_ASSIGN_OR_RETURN(auto patch, read_patch(api, body));
  const auto now = api.clock().now();
  bool end_sessions = false;
  SIGNET_ASSIGN_OR_RETURN(
      auto op, api.operators().modify_operator(call.param("name"), [&](ca::OperatorRecord& stored) {
        return apply_patch(patch, stored, call, now, end_sessions);
      }));
  if (end_sessions) api.authenticator().end_sessions_of(op.name);
  return json_response(operator_json(op, api.clock().now()));
}

Result<http::Response> delete_operator(ApiServices& api, ApiCall& call) {
  SIGNET_ASSIGN_OR_RETURN(auto op, existing_operator(api, call.param("name")));
  if (op.name == call.principal.operator_name) {
    return Error(ErrorCode::kPolicyViolation, "an administrator cannot delete themselves");
  }
  if (op.role == ca::Role::kAdministrator && !op.disabled) {
    SIGNET_ASSIGN_OR_RETURN(auto count, administrators(api));
    if (count <= 1) {
      return Error(ErrorCode::kPolicyViolation, "the last administrator cannot be deleted");
    }
  }
  SIGNET_TRY(api.operators().delete_operator(
      op.name, ca::make_audit_event(api.clock().now(), call.principal.actor(), "operator.deleted",
                                    "operator:" + op.name, "{}")));
  api.authenticator().end_sessions_of(op.name);
  return json_response({{"deleted", op.name}});
}

Result<http::Response> create_token(ApiServices& api, ApiCall& call) {
  SIGNET_ASSIGN_OR_RETURN(auto body, json_body(call.request));
  SIGNET_TRY(only_fields(body, {"name", "role", "profiles", "expires_in_days", "owner"}));
  SIGNET_ASSIGN_OR_RETURN(auto name, required_string(body, "name"));
  if (name.empty() || name.size() > 200) {
    return Error(ErrorCode::kInvalidArgument, "the token's 'name' must have 1 to 200 characters");
  }
  SIGNET_ASSIGN_OR_RETURN(auto role_name, required_string(body, "role"));
  SIGNET_ASSIGN_OR_RETURN(auto role, ca::parse_role(role_name));
  SIGNET_ASSIGN_OR_RETURN(auto profiles, optional_string_list(body, "profiles"));
  for (const auto& p : profiles) {
    const auto slash = p.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == p.size()) {
      return Error(ErrorCode::kInvalidArgument,
                   "profile '" + p + "' must be written as <ca>/<profile>");
    }
    SIGNET_ASSIGN_OR_RETURN(auto found,
                            api.profiles().find_profile(p.substr(0, slash), p.substr(slash + 1)));
    if (!found) return Error(ErrorCode::kNotFound, "no RA profile '" + p + "'");
  }
  SIGNET_ASSIGN_OR_RETURN(auto days, optional_integer(body, "expires_in_days", 1, 3650));
  SIGNET_ASSIGN_OR_RETURN(auto owner, optional_string(body, "owner", call.principal.operator_name));
  SIGNET_ASSIGN_OR_RETURN(auto owner_record, existing_operator(api, owner));
  std::optional<base::TimePoint> expires;
  if (days) expires = api.clock().now() + std::chrono::days(*days);
  auto made = api.authenticator().make_api_token(name, owner_record.name, role, profiles, expires);
  nlohmann::json detail = {
      {"name", name}, {"role", role_name}, {"profiles", profiles}, {"owner", owner_record.name}};
  SIGNET_TRY(api.operators().create_api_token(
      made.record,
      ca::make_audit_event(api.clock().now(), call.principal.actor(), "api_token.created",
                           "api_token:" + made.record.id, detail.dump())));
  auto j = token_json(made.record, api.authenticator());
  j["token"] = made.token;  // shown once; only its SHA-256 is stored
  return json_response(j, 201);
}

Result<http::Response> revoke_token(ApiServices& api, ApiCall& call) {
  SIGNET_ASSIGN_OR_RETURN(auto found, api.operators().find_api_token(call.param("id")));
  if (!found) return Error(ErrorCode::kNotFound, "no API token '" + call.param("id") + "'");
  auto token = std::move(*found);
  if (!token.revoked) {
    token.revoked = api.clock().now();
    SIGNET_TRY(api.operators().update_api_token(
        token, ca::make_audit_event(api.clock().now(), call.principal.actor(), "api_token.revoked",
                                    "api_token:" + token.id, "{}")));
  }
  return json_response(token_json(token, api.authenticator()));
}

// Issues a client certificate for the operator from its CSR through the appliance CA's
// "operator" profile and binds it (by SHA-256 fingerprint) to the operator: TLS then verifies
// it against the appliance CA and POST /api/v1/session {"method":"certificate"} logs in.
Result<http::Response> issue_operator_certificate(ApiServices& api, ApiCall& call) {
  SIGNET_ASSIGN_OR_RETURN(auto body, json_body(call.request));
  SIGNET_TRY(only_fields(body, {"csr"}));
  SIGNET_ASSIGN_OR_RETURN(auto csr, required_string(body, "csr"));
  SIGNET_ASSIGN_OR_RETURN(auto op, existing_operator(api, call.param("name")));
  ca::IssueRequest request;
  request.profile = {"operator", std::string(ApiServices::kApplianceCaName)};
  request.key.kind = ca::KeySourceKind::kCsr;
  const auto bytes = base::as_bytes(csr);
  request.key.csr.assign(bytes.begin(), bytes.end());
  auto service = api.service_for(call.principal);
  SIGNET_ASSIGN_OR_RETURN(auto result, service->issue(request));
  const auto& issued = result.certificate;
  nlohmann::json detail = {{"serial", issued.serial.to_hex()},
                           {"fingerprint_sha256", colon_hex(issued.fingerprint_sha256)}};
  const auto now = api.clock().now();
  SIGNET_TRY(api.operators().modify_operator(
      op.name, [&](ca::OperatorRecord& stored) -> Result<std::optional<ca::AuditEvent>> {
        stored.certificate_fingerprint = issued.fingerprint_sha256;
        return std::optional(ca::make_audit_event(now, call.principal.actor(),
                                                  "operator.certificate_bound",
                                                  "operator:" + op.name, detail.dump()));
      }));
  auto j = certificate_json(issued, api.clock().now());
  j["operator"] = op.name;
  j["pem"] = pki::pem_encode("CERTIFICATE", issued.der);
  std::string chain;
  for (const auto& der : result.chain) chain += pki::pem_encode("CERTIFICATE", der);
  j["chain_pem"] = chain;
  return json_response(j, 201);
}

Result<http::Response> unbind_operator_certificate(ApiServices& api, ApiCall& call) {
  const std::string name = call.param("name");
  const auto now = api.clock().now();
  SIGNET_ASSIGN_OR_RETURN(
      auto op, api.operators().modify_operator(
                   name, [&](ca::OperatorRecord& stored) -> Result<std::optional<ca::AuditEvent>> {
                     if (stored.certificate_fingerprint.empty()) {
                       return Error(ErrorCode::kNotFound,
                                    "the operator '" + name + "' has no client certificate");
                     }
                     nlohmann::json detail = {
                         {"fingerprint_sha256", colon_hex(stored.certificate_fingerprint)}};
                     stored.certificate_fingerprint.clear();
                     return std::optional(ca::make_audit_event(now, call.principal.actor(),
                                                               "operator.certificate_unbound",
                                                               "operator:" + name, detail.dump()));
                   }));
  api.authenticator().end_sessions_of(op.name);
  return json_response(operator_json(op, api.clock().now()));
}

}  // namespace

void register_operator_routes(Router& router, ApiServices& api) {
  router.add("GET", "/api/v1/operators", Permission::kAdminister,
             {"operators", "List operators (never their password hashes)"},
             [&api](ApiCall&) -> Result<http::Response> {
               SIGNET_ASSIGN_OR_RETURN(auto all, api.operators().list_operators());
               nlohmann::json items = nlohmann::json::array();
               for (const auto& op : all) items.push_back(operator_json(op, api.clock().now()));
               return json_response({{"operators", items}});
             });
  router.add("GET", "/api/v1/operators/{name}", Permission::kAdminister,
             {"operators", "One operator"}, [&api](ApiCall& call) -> Result<http::Response> {
               SIGNET_ASSIGN_OR_RETURN(auto op, existing_operator(api, call.param("name")));
               return json_response(operator_json(op, api.clock().now()));
             });
  const nlohmann::json role_schema = {{"type", "string"},
                                      {"enum", {"administrator", "ra-officer", "auditor"}}};
  router.add("POST", "/api/v1/operators", Permission::kAdminister,
             {"operators",
              "Create an operator; without 'password' one is generated and returned once",
              {},
              {{"type", "object"},
               {"additionalProperties", false},
               {"required", {"name", "role"}},
               {"properties",
                {{"name", {{"type", "string"}}},
                 {"role", role_schema},
                 {"password", {{"type", "string"}, {"format", "password"}}}}}},
              "application/json",
              201},
             [&api](ApiCall& call) { return create_operator(api, call); });
  router.add("PATCH", "/api/v1/operators/{name}", Permission::kAdminister,
             {"operators",
              "Change an operator's role, disable or enable, reset the password, or unlock",
              {},
              {{"type", "object"},
               {"additionalProperties", false},
               {"properties",
                {{"role", role_schema},
                 {"disabled", {{"type", "boolean"}}},
                 {"unlock", {{"type", "boolean"}}},
                 {"password", {{"type", "string"}, {"format", "password"}}}}}}},
             [&api](ApiCall& call) { return update_operator(api, call); });
  router.add("DELETE", "/api/v1/operators/{name}", Permission::kAdminister,
             {"operators", "Delete an operator (not yourself, not the last administrator)"},
             [&api](ApiCall& call) { return delete_operator(api, call); });
  router.add("POST", "/api/v1/operators/{name}/certificate", Permission::kAdminister,
             {"operators",
              "Issue the operator a client certificate from its CSR (the appliance CA's "
              "'operator' profile) and bind it for certificate login",
              {},
              {{"type", "object"},
               {"additionalProperties", false},
               {"required", {"csr"}},
               {"properties", {{"csr", {{"type", "string"}}}}}},
              "application/json",
              201},
             [&api](ApiCall& call) { return issue_operator_certificate(api, call); });
  router.add("DELETE", "/api/v1/operators/{name}/certificate", Permission::kAdminister,
             {"operators", "Unbind the operator's client certificate (it no longer logs in)"},
             [&api](ApiCall& call) { return unbind_operator_certificate(api, call); });
  router.add("GET", "/api/v1/api-tokens", Permission::kAdminister,
             {"api-tokens",
              "List API tokens (never their secrets); last_used counts since signetd started"},
             [&api](ApiCall&) -> Result<http::Response> {
               SIGNET_ASSIGN_OR_RETURN(auto all, api.operators().list_api_tokens());
               nlohmann::json items = nlohmann::json::array();
               for (const auto& t : all) items.push_back(token_json(t, api.authenticator()));
               return json_response({{"api_tokens", items}});
             });
  router.add("POST", "/api/v1/api-tokens", Permission::kAdminister,
             {"api-tokens",
              "Create an API token for a role, optionally limited to RA profiles; the token is "
              "returned once",
              {},
              {{"type", "object"},
               {"additionalProperties", false},
               {"required", {"name", "role"}},
               {"properties",
                {{"name", {{"type", "string"}}},
                 {"role", role_schema},
                 {"profiles", {{"type", "array"}, {"items", {{"type", "string"}}}}},
                 {"expires_in_days", {{"type", "integer"}, {"minimum", 1}, {"maximum", 3650}}},
                 {"owner", {{"type", "string"}}}}}},
              "application/json",
              201},
             [&api](ApiCall& call) { return create_token(api, call); });
  router.add("DELETE", "/api/v1/api-tokens/{id}", Permission::kAdminister,
             {"api-tokens", "Revoke an API token"},
             [&api](ApiCall& call) { return revoke_token(api, call); });
}

}  // namespace signet::appliance
