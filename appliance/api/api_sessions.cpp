// Routes: log in (password or client certificate), who am I, change my password, log out.
#include <openssl/crypto.h>

#include "appliance/api/api.h"
#include "appliance/api/auth.h"
#include "appliance/core/views.h"
#include "pki/certificate.h"
#include "pki/digest.h"

namespace signet::appliance {

using base::Error;
using base::ErrorCode;
using base::Result;

namespace {

// Moves a password out of a parsed body into locked memory and wipes the copies we made.
Result<base::SecureBuffer> take_secret(nlohmann::json& body, std::string_view field) {
  auto it = body.find(field);
  if (it == body.end() || !it->is_string()) {
    return Error(ErrorCode::kInvalidArgument, "the field '" + std::string(field) + "' is required");
  }
  auto& text = it->get_ref<std::string&>();
  auto secret = base::SecureBuffer::copy_of(
      base::ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  OPENSSL_cleanse(text.data(), text.size());
  return secret;
}

void wipe(std::string& text) { OPENSSL_cleanse(text.data(), text.size()); }

nlohmann::json principal_json(const Principal& p) {
  nlohmann::json j = {
      {"operator", p.operator_name},
      {"role", std::string(ca::to_string(p.role))},
      {"authenticated_by", p.kind == PrincipalKind::kApiToken            ? "api_token"
                           : p.kind == PrincipalKind::kClientCertificate ? "certificate"
                                                                         : "password"}};
  if (p.kind == PrincipalKind::kApiToken) {
    j["token_id"] = p.token_id;
    j["profiles"] = p.profiles;
  }
  if (!p.csrf_token.empty()) j["csrf_token"] = p.csrf_token;
  return j;
}

http::Response session_created(Authenticator& auth, const NewSession& session) {
  auto j = principal_json(session.principal);
  j["expires"] = format_time(session.expires);
  auto response = json_response(j, 201);
  response.add_header("Set-Cookie", auth.session_cookie(session));
  return response;
}

Result<http::Response> login(ApiServices& api, ApiCall& call) {
  if (!call.request.secure) {
    return Error(ErrorCode::kPermissionDenied, "log in over HTTPS only");
  }
  auto parsed = json_body(call.request);
  wipe(call.request.body);
  SIGNET_ASSIGN_OR_RETURN(auto body, std::move(parsed));
  const std::string method = body.value("method", "password");
  for (const auto& [key, value] : body.items()) {
    if (key != "method" && key != "name" && key != "password") {
      return Error(ErrorCode::kInvalidArgument, "unknown field '" + key + "'");
    }
  }
  Result<NewSession> session = Error(ErrorCode::kInternal, "no login method");
  if (method == "certificate") {
    session = api.authenticator().login_certificate(call.request.client_certificate,
                                                    call.request.remote_address);
  } else if (method == "password") {
    SIGNET_ASSIGN_OR_RETURN(auto name, required_string(body, "name"));
    SIGNET_ASSIGN_OR_RETURN(auto password, take_secret(body, "password"));
    session = api.authenticator().login_password(name, password, call.request.remote_address);
  } else {
    return Error(ErrorCode::kInvalidArgument, "'method' must be \"password\" or \"certificate\"");
  }
  if (!session) {
    if (session.error().code() == ErrorCode::kUnavailable) {
      return error_response(429, "locked", session.error().message())
          .add_header("Retry-After", "60");
    }
    return error_response(401, "unauthenticated", session.error().message());
  }
  return session_created(api.authenticator(), *session);
}

Result<http::Response> change_password(ApiServices& api, ApiCall& call) {
  auto parsed = json_body(call.request);
  wipe(call.request.body);
  SIGNET_ASSIGN_OR_RETURN(auto body, std::move(parsed));
  if (call.principal.kind == PrincipalKind::kApiToken) {
    return Error(ErrorCode::kPermissionDenied, "an API token cannot change a password");
  }
  SIGNET_ASSIGN_OR_RETURN(auto current, take_secret(body, "current_password"));
  SIGNET_ASSIGN_OR_RETURN(auto next, take_secret(body, "new_password"));
  SIGNET_ASSIGN_OR_RETURN(auto found, api.operators().find_operator(call.principal.operator_name));
  if (!found) return Error(ErrorCode::kNotFound, "the operator no longer exists");
  auto op = std::move(*found);
  if (!api.authenticator().verify_password(op.password_hash, current)) {
    return Error(ErrorCode::kPermissionDenied, "the current password is wrong");
  }
  SIGNET_ASSIGN_OR_RETURN(auto hash, api.authenticator().hash_password(next));
  const auto now = api.clock().now();
  SIGNET_TRY(api.operators().modify_operator(
      op.name, [&](ca::OperatorRecord& stored) -> Result<std::optional<ca::AuditEvent>> {
        // The current password was checked against the record read above; one changed since
        // (another change or a reset) is not overwritten.
        if (stored.password_hash != op.password_hash) {
          return Error(ErrorCode::kConflict,
                       "the password was changed meanwhile; log in again and retry");
        }
        stored.password_hash = hash;
        stored.generation += 1;
        return std::optional(ca::make_audit_event(
            now, call.principal.actor(), "operator.password_changed", "operator:" + op.name, "{}"));
      }));
  api.authenticator().end_sessions_of(op.name);
  auto response = json_response({{"changed", true}});
  response.add_header("Set-Cookie", Authenticator::expired_session_cookie());
  return response;
}

// What the login page offers. The certificate's subject is told only to the client that
// proved it holds the certificate's key (TLS), and only whether it logs in, not as whom.
Result<http::Response> login_methods(ApiServices& api, ApiCall& call) {
  nlohmann::json certificate = {{"presented", false}, {"accepted", false}};
  const auto& der = call.request.client_certificate;
  if (call.request.secure && !der.empty()) {
    certificate["presented"] = true;
    if (auto parsed = pki::Certificate::from_der(der)) certificate["subject"] = parsed->subject();
    SIGNET_ASSIGN_OR_RETURN(auto found,
                            api.operators().find_operator_by_certificate(pki::sha256(der)));
    certificate["accepted"] = found.has_value() && !found->disabled;
  }
  return json_response({{"password", true}, {"certificate", certificate}});
}

}  // namespace

void register_session_routes(Router& router, ApiServices& api) {
  nlohmann::json login_schema = {
      {"type", "object"},
      {"additionalProperties", false},
      {"properties",
       {{"method", {{"type", "string"}, {"enum", {"password", "certificate"}}}},
        {"name", {{"type", "string"}}},
        {"password", {{"type", "string"}, {"format", "password"}}}}}};
  router.add("POST", "/api/v1/session", Permission::kPublic,
             {"session",
              "Log in with a password or the TLS client certificate",
              {},
              login_schema,
              "application/json",
              201},
             [&api](ApiCall& call) { return login(api, call); });
  router.add("GET", "/api/v1/session/methods", Permission::kPublic,
             {"session",
              "How this client can log in: password, and whether its TLS connection presented a "
              "client certificate (verified against the appliance CA) that may log in"},
             [&api](ApiCall& call) { return login_methods(api, call); });
  router.add("GET", "/api/v1/session", Permission::kRead,
             {"session", "Who the request is authenticated as (and the session's CSRF token)"},
             [](ApiCall& call) -> Result<http::Response> {
               return json_response(principal_json(call.principal));
             });
  router.add("DELETE", "/api/v1/session", Permission::kRead,
             {"session", "Log out (ends the session)"},
             [&api](ApiCall& call) -> Result<http::Response> {
               api.authenticator().logout(call.request);
               auto response = json_response({{"logged_out", true}});
               response.add_header("Set-Cookie", Authenticator::expired_session_cookie());
               return response;
             });
  nlohmann::json password_schema = {
      {"type", "object"},
      {"additionalProperties", false},
      {"required", {"current_password", "new_password"}},
      {"properties",
       {{"current_password", {{"type", "string"}, {"format", "password"}}},
        {"new_password", {{"type", "string"}, {"format", "password"}}}}}};
  router.add("POST", "/api/v1/session/password", Permission::kRead,
             {"session",
              "Change the logged-in operator's password (ends its sessions)",
              {},
              password_schema},
             [&api](ApiCall& call) { return change_password(api, call); });
}

}  // namespace signet::appliance
