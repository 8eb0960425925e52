#include "appliance/api/router.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <exception>

#include "appliance/api/auth.h"
#include "appliance/api/metrics.h"

namespace signet::appliance {

using base::Error;
using base::ErrorCode;
using base::Result;

struct Router::Route {
  std::string method;
  std::string pattern;
  std::vector<std::string> segments;  // "{id}" marks a parameter
  Permission permission;
  RouteDoc doc;
  ApiHandler handler;
};

namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> segments;
  std::size_t start = 1;  // paths start with '/'
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    segments.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return segments;
}

bool is_parameter(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

bool changes_state(std::string_view method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

// Security headers on every API response: no caching of anything an operator sees, no
// framing, no sniffing.
void add_security_headers(http::Response& response) {
  response.add_header("Cache-Control", "no-store");
  response.add_header("X-Content-Type-Options", "nosniff");
  response.add_header("X-Frame-Options", "DENY");
  response.add_header("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  response.add_header("Referrer-Policy", "no-referrer");
  response.add_header("Strict-Transport-Security", "max-age=31536000");
}

}  // namespace

const std::string& ApiCall::param(std::string_view name) const {
  static const std::string kEmpty;
  const auto it = params.find(name);
  return it == params.end() ? kEmpty : it->second;
}

Router::Router(Authenticator& authenticator, Metrics& metrics, base::Logger* logger)
    : authenticator_(authenticator), metrics_(metrics), logger_(logger) {}

void Router::add(std::string method, std::string pattern, Permission permission, RouteDoc doc,
                 ApiHandler handler) {
  auto route = std::make_shared<Route>();
  route->method = std::move(method);
  route->segments = split_path(pattern);
  route->pattern = std::move(pattern);
  route->permission = permission;
  route->doc = std::move(doc);
  route->handler = std::move(handler);
  routes_.push_back(std::move(route));
}

const Router::Route* Router::match(const http::Request& request,
                                   std::map<std::string, std::string, std::less<>>& params,
                                   bool& path_matched) const {
  const auto segments = split_path(request.path);
  // Literal segments win over parameters ("/certificates/import" over "/certificates/{id}").
  const Route* best = nullptr;
  int best_literals = -1;
  for (const auto& route : routes_) {
    if (route->segments.size() != segments.size()) continue;
    int literals = 0;
    bool ok = true;
    for (std::size_t i = 0; i < segments.size() && ok; ++i) {
      if (is_parameter(route->segments[i])) {
        ok = !segments[i].empty();
      } else {
        ok = route->segments[i] == segments[i];
        ++literals;
      }
    }
    if (!ok) continue;
    path_matched = true;
    const bool method_ok =
        route->method == request.method || (route->method == "GET" && request.method == "HEAD");
    if (method_ok && literals > best_literals) {
      best = route.get();
      best_literals = literals;
    }
  }
  if (best != nullptr) {
    for (std::size_t i = 0; i < segments.size(); ++i) {
      const auto& segment = best->segments[i];
      if (is_parameter(segment)) params[segment.substr(1, segment.size() - 2)] = segments[i];
    }
  }
  return best;
}

http::Response Router::dispatch(http::Request& request) const {
  std::map<std::string, std::string, std::less<>> params;
  bool path_matched = false;
  const Route* route = match(request, params, path_matched);
  http::Response response;
  std::string route_name = "unmatched";
  if (route == nullptr) {
    response = path_matched ? error_response(
                                  405, "method_not_allowed",
                                  "method " + request.method + " is not allowed on " + request.path)
                            : error_response(404, "not_found", "no such route: " + request.path);
  } else {
    route_name = route->method + " " + route->pattern;
    response = run(*route, request, std::move(params));
  }
  add_security_headers(response);
  if (request.method == "HEAD") response.body.clear();
  metrics_.http_request(route_name, response.status);
  return response;
}

http::Response Router::run(const Route& route, http::Request& request,
                           std::map<std::string, std::string, std::less<>> params) const {
  // Public routes (login, health, this API's description) answer whoever asks and look at no
  // credential: a stale session cookie, which the console cannot clear (it is HttpOnly), or a
  // bad token must not stand between a client and the login.
  auto principal = route.permission == Permission::kPublic ? Result<Principal>(Principal{})
                                                           : authenticator_.authenticate(request);
  if (!principal) {
    auto refused = error_response(401, "unauthenticated", principal.error().message());
    // A cookie that names no live session (expired, logged out elsewhere, signetd restarted)
    // is cleared: the browser cannot drop an HttpOnly cookie by itself.
    if (Authenticator::authenticates_by_session_cookie(request)) {
      refused.add_header("Set-Cookie", Authenticator::expired_session_cookie());
    }
    return refused;
  }
  if (!principal->allows(route.permission)) {
    if (!principal->authenticated()) {
      return error_response(401, "unauthenticated", "this request needs a session or an API token");
    }
    return error_response(403, "forbidden",
                          "the role " + std::string(ca::to_string(principal->role)) + " may not " +
                              request.method + " " + route.pattern);
  }
  if (changes_state(request.method) && !authenticator_.csrf_ok(request, *principal)) {
    return error_response(403, "csrf",
                          "missing or wrong X-CSRF-Token header for this session's request");
  }
  ApiCall call{request, *principal, std::move(params)};
  try {
    auto result = route.handler(call);
    if (!result) {
      if (logger_ != nullptr && http_status_of(result.error().code()) >= 500) {
        logger_->log(base::LogLevel::kError, route.method + " " + route.pattern + " by " +
                                                 call.principal.actor() + ": " +
                                                 result.error().describe());
      }
      return error_response(result.error());
    }
    return std::move(result).value();
  } catch (const std::exception& e) {
    if (logger_ != nullptr) {
      logger_->log(base::LogLevel::kError,
                   route.method + " " + route.pattern + ": exception: " + e.what());
    }
    return error_response(500, "internal", "internal error");
  }
}

std::vector<Router::RouteInfo> Router::routes() const {
  std::vector<RouteInfo> out;
  for (const auto& route : routes_)
    out.push_back({route->method, route->pattern, route->permission});
  return out;
}

// ---- OpenAPI ----

nlohmann::json Router::openapi(std::string_view version) const {
  nlohmann::json paths = nlohmann::json::object();
  const nlohmann::json error_schema = {{"$ref", "#/components/schemas/Error"}};
  for (const auto& route : routes_) {
    nlohmann::json op = {{"summary", route->doc.summary},
                         {"tags", nlohmann::json::array({route->doc.tag})},
                         {"x-signet-permission", std::string(to_string(route->permission))}};
    if (route->permission == Permission::kPublic) op["security"] = nlohmann::json::array();
    nlohmann::json parameters = nlohmann::json::array();
    for (const auto& segment : route->segments) {
      if (!is_parameter(segment)) continue;
      parameters.push_back({{"name", segment.substr(1, segment.size() - 2)},
                            {"in", "path"},
                            {"required", true},
                            {"schema", {{"type", "string"}}}});
    }
    for (const auto& q : route->doc.query) {
      parameters.push_back({{"name", q.name},
                            {"in", "query"},
                            {"required", false},
                            {"description", q.description},
                            {"schema", {{"type", q.type}}}});
    }
    if (!parameters.empty()) op["parameters"] = parameters;
    if (!route->doc.request_body.is_null()) {
      op["requestBody"] = {
          {"required", true},
          {"content", {{"application/json", {{"schema", route->doc.request_body}}}}}};
    }
    nlohmann::json success = {{"description", "success"}};
    if (route->doc.response_type == "application/json") {
      success["content"] = {{"application/json", {{"schema", {{"type", "object"}}}}}};
    } else if (!route->doc.response_type.empty()) {
      success["content"] = {
          {route->doc.response_type, {{"schema", {{"type", "string"}, {"format", "binary"}}}}}};
    }
    op["responses"] = {{std::to_string(route->doc.success_status), success},
                       {"default",
                        {{"description", "error"},
                         {"content", {{"application/json", {{"schema", error_schema}}}}}}}};
    std::string method = route->method;
    std::transform(method.begin(), method.end(), method.begin(), ::tolower);
    paths[route->pattern][method] = op;
  }
  return {
      {"openapi", "3.0.3"},
      {"info",
       {{"title", "Signet appliance API"},
        {"version", std::string(version)},
        {"description",
         "REST API of the Signet PKI appliance. Authenticate with a session (POST "
         "/api/v1/session; state-changing requests echo X-CSRF-Token) or an API token "
         "(Authorization: Bearer sgt_...)."}}},
      {"paths", paths},
      {"security", nlohmann::json::array({{{"session", nlohmann::json::array()}},
                                          {{"apiToken", nlohmann::json::array()}}})},
      {"components",
       {{"securitySchemes",
         {{"session", {{"type", "apiKey"}, {"in", "cookie"}, {"name", "signet_session"}}},
          {"apiToken", {{"type", "http"}, {"scheme", "bearer"}}}}},
        {"schemas",
         {{"Error",
           {{"type", "object"},
            {"required", {"error"}},
            {"properties",
             {{"error",
               {{"type", "object"},
                {"required", {"code", "message"}},
                {"properties",
                 {{"code", {{"type", "string"}}}, {"message", {{"type", "string"}}}}}}}}}}}}}}}};
}

// ---- helpers ----

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kAlreadyExists:
      return "already_exists";
    case ErrorCode::kPermissionDenied:
      return "permission_denied";
    case ErrorCode::kPolicyViolation:
      return "policy_violation";
    case ErrorCode::kVerificationFailed:
      return "verification_failed";
    case ErrorCode::kPinIncorrect:
      return "pin_incorrect";
    case ErrorCode::kPinLocked:
      return "pin_locked";
    case ErrorCode::kNotSupported:
      return "not_supported";
    case ErrorCode::kTokenError:
      return "token_error";
    case ErrorCode::kCryptoError:
      return "crypto_error";
    case ErrorCode::kStorageFull:
      return "storage_full";
    case ErrorCode::kStorageError:
      return "storage_error";
    case ErrorCode::kIoError:
      return "io_error";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kResourceExhausted:
      return "resource_exhausted";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "internal";
}

int http_status_of(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kVerificationFailed:
      return 400;
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kPolicyViolation:
      return 422;
    case ErrorCode::kNotSupported:
      return 501;
    case ErrorCode::kPinIncorrect:
    case ErrorCode::kPinLocked:
    case ErrorCode::kTokenError:
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kStorageFull:
    case ErrorCode::kResourceExhausted:
      return 507;
    case ErrorCode::kCryptoError:
    case ErrorCode::kStorageError:
    case ErrorCode::kIoError:
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

http::Response error_response(int status, std::string_view code, std::string_view message) {
  nlohmann::json body = {{"error", {{"code", code}, {"message", message}}}};
  return json_response(body, status);
}

std::optional<std::uint64_t> failed_order_id(const Error& error) {
  static constexpr std::string_view kPrefix = "order ";
  for (const auto& context : error.context()) {
    if (context.size() <= kPrefix.size() || context.compare(0, kPrefix.size(), kPrefix) != 0) {
      continue;
    }
    std::uint64_t id = 0;
    const char* begin = context.data() + kPrefix.size();
    const char* end = context.data() + context.size();
    const auto [ptr, ec] = std::from_chars(begin, end, id);
    if (ec == std::errc() && ptr == end && id != 0) return id;
  }
  return std::nullopt;
}

http::Response error_response(const Error& error) {
  const int status = http_status_of(error.code());
  // Internal faults keep their detail for the log; the client gets one sentence that names
  // what failed without the internals (paths, library messages).
  if (status == 500) {
    return error_response(status, error_code_name(error.code()),
                          "the appliance could not complete the request (" +
                              std::string(error_code_name(error.code())) +
                              "); signetd's log has the detail");
  }
  auto response = error_response(status, error_code_name(error.code()), error.message());
  // A refused issuance, renewal, rekey, reissue or revocation was recorded as a failed order
  // (ca::CertificateService names it in the error's context as "order <id>"): the client gets
  // its id, to show the order and resubmit it.
  if (const auto order_id = failed_order_id(error)) {
    nlohmann::json body = {{"error",
                            {{"code", error_code_name(error.code())},
                             {"message", error.message()},
                             {"order_id", *order_id}}}};
    response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return response;
}

http::Response json_response(const nlohmann::json& body, int status) {
  http::Response response;
  response.status = status;
  response.content_type = "application/json";
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

http::Response file_response(std::string body, std::string content_type, std::string filename) {
  http::Response response;
  response.content_type = std::move(content_type);
  response.body = std::move(body);
  std::string safe;
  for (char c : filename) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
    safe += ok ? c : '_';
  }
  response.add_header("Content-Disposition", "attachment; filename=\"" + safe + "\"");
  return response;
}

Result<nlohmann::json> json_body(const http::Request& request) {
  const auto type = request.header("content-type");
  if (!type || type->substr(0, 16) != "application/json") {
    return Error(ErrorCode::kInvalidArgument, "the request body must be application/json");
  }
  auto parsed = nlohmann::json::parse(request.body, nullptr, false);
  if (parsed.is_discarded()) {
    return Error(ErrorCode::kInvalidArgument, "the request body is not valid JSON");
  }
  if (!parsed.is_object()) {
    return Error(ErrorCode::kInvalidArgument, "the request body must be a JSON object");
  }
  return parsed;
}

Result<std::string> required_string(const nlohmann::json& body, std::string_view field) {
  const auto it = body.find(field);
  if (it == body.end() || it->is_null()) {
    return Error(ErrorCode::kInvalidArgument, "the field '" + std::string(field) + "' is required");
  }
  if (!it->is_string()) {
    return Error(ErrorCode::kInvalidArgument,
                 "the field '" + std::string(field) + "' must be a string");
  }
  return it->get<std::string>();
}

Result<std::string> optional_string(const nlohmann::json& body, std::string_view field,
                                    std::string fallback) {
  const auto it = body.find(field);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_string()) {
    return Error(ErrorCode::kInvalidArgument,
                 "the field '" + std::string(field) + "' must be a string");
  }
  return it->get<std::string>();
}

Result<std::optional<std::int64_t>> optional_integer(const nlohmann::json& body,
                                                     std::string_view field, std::int64_t min,
                                                     std::int64_t max) {
  const auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::optional<std::int64_t>();
  if (!it->is_number_integer()) {
    return Error(ErrorCode::kInvalidArgument,
                 "the field '" + std::string(field) + "' must be an integer");
  }
  const auto value = it->get<std::int64_t>();
  if (value < min || value > max) {
    return Error(ErrorCode::kInvalidArgument, "the field '" + std::string(field) +
                                                  "' must be between " + std::to_string(min) +
                                                  " and " + std::to_string(max));
  }
  return std::optional<std::int64_t>(value);
}

Result<std::optional<bool>> optional_bool(const nlohmann::json& body, std::string_view field) {
  const auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::optional<bool>();
  if (!it->is_boolean()) {
    return Error(ErrorCode::kInvalidArgument,
                 "the field '" + std::string(field) + "' must be true or false");
  }
  return std::optional<bool>(it->get<bool>());
}

Result<std::vector<std::string>> optional_string_list(const nlohmann::json& body,
                                                      std::string_view field) {
  std::vector<std::string> out;
  const auto it = body.find(field);
  if (it == body.end() || it->is_null()) return out;
  if (!it->is_array()) {
    return Error(ErrorCode::kInvalidArgument,
                 "the field '" + std::string(field) + "' must be an array of strings");
  }
  for (const auto& item : *it) {
    if (!item.is_string()) {
      return Error(ErrorCode::kInvalidArgument,
                   "the field '" + std::string(field) + "' must be an array of strings");
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

Result<std::optional<std::int64_t>> query_integer(const http::Request& request,
                                                  std::string_view name, std::int64_t min,
                                                  std::int64_t max) {
  const auto text = request.query_param(name);
  if (!text) return std::optional<std::int64_t>();
  std::int64_t value = 0;
  const auto* begin = text->data();
  const auto* end = text->data() + text->size();
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  if (text->empty() || ec != std::errc() || ptr != end || value < min || value > max) {
    return Error(ErrorCode::kInvalidArgument,
                 "the query parameter '" + std::string(name) + "' must be an integer between " +
                     std::to_string(min) + " and " + std::to_string(max));
  }
  return std::optional<std::int64_t>(value);
}

}  // namespace signet::appliance
