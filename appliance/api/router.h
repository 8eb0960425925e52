// Router: the REST API's routes, the one place where a request is authenticated, checked
// against the route's permission (and CSRF for session requests that change state), handed to
// its handler, and its outcome turned into JSON (errors in one shape) and metrics. The
// OpenAPI document is generated from the same route table, with the documentation each route
// is registered with, so the two cannot drift; tests probe every documented route over HTTPS.
//
// Error shape, for every failure on every route:
//   {"error": {"code": "not_found", "message": "no certificate 'ab:cd'"}}
// with a stable code (error_code_name()) and an HTTP status (http_status_of()).
//
// Thread-safe once built: add() routes before the server starts; dispatch() from any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "appliance/api/principal.h"
#include "appliance/server/http.h"
#include "base/log.h"
#include "base/result.h"

namespace signet::appliance {

class Authenticator;
class Metrics;

// A call as a handler sees it: the request, who makes it, and the path's {parameters}.
struct ApiCall {
  http::Request& request;
  const Principal& principal;
  std::map<std::string, std::string, std::less<>> params;

  const std::string& param(std::string_view name) const;  // a {name} of the route pattern
};

using ApiHandler = std::function<base::Result<http::Response>(ApiCall&)>;

// What the OpenAPI document says about a route.
struct QueryParameterDoc {
  std::string name;
  std::string description;
  std::string type = "string";  // "string", "integer", "boolean"
};
struct RouteDoc {
  RouteDoc() = default;
  // Brace-initialisable with any prefix of the fields: {"tag", "summary"}, {..., query, body}.
  RouteDoc(std::string tag_, std::string summary_, std::vector<QueryParameterDoc> query_ = {},
           nlohmann::json request_body_ = nullptr, std::string response_type_ = "application/json",
           int success_status_ = 200)
      : tag(std::move(tag_)),
        summary(std::move(summary_)),
        query(std::move(query_)),
        request_body(std::move(request_body_)),
        response_type(std::move(response_type_)),
        success_status(success_status_) {}

  std::string tag;      // "certificates", "cas"...
  std::string summary;  // one line
  std::vector<QueryParameterDoc> query;
  // JSON Schema of the request body (an object); null: no body.
  nlohmann::json request_body;
  // Content type of a successful response: "application/json" (default), "application/pkix-crl"...
  std::string response_type = "application/json";
  int success_status = 200;
};

class Router {
 public:
  // `logger` (optional) receives the detail of every 5xx answer, which clients never see.
  Router(Authenticator& authenticator, Metrics& metrics, base::Logger* logger = nullptr);

  // `pattern`: "/api/v1/certificates/{id}/revoke"; a {name} segment matches one path segment.
  void add(std::string method, std::string pattern, Permission permission, RouteDoc doc,
           ApiHandler handler);

  // Never throws; every outcome is a response.
  http::Response dispatch(http::Request& request) const;

  // OpenAPI 3.0 document of every route.
  nlohmann::json openapi(std::string_view version) const;

  struct RouteInfo {
    std::string method, pattern;
    Permission permission;
  };
  std::vector<RouteInfo> routes() const;

 private:
  struct Route;
  const Route* match(const http::Request& request,
                     std::map<std::string, std::string, std::less<>>& params,
                     bool& path_matched) const;
  http::Response run(const Route& route, http::Request& request,
                     std::map<std::string, std::string, std::less<>> params) const;

  Authenticator& authenticator_;
  Metrics& metrics_;
  base::Logger* logger_;
  std::vector<std::shared_ptr<Route>> routes_;
};

// ---- helpers for handlers ----
std::string_view error_code_name(base::ErrorCode code);  // "invalid_argument", "not_found"...
int http_status_of(base::ErrorCode code);
// The failed order an error names ("order <id>" in its context, as ca::CertificateService
// adds when it records a refused request as a failed order); nullopt when none.
std::optional<std::uint64_t> failed_order_id(const base::Error& error);
http::Response error_response(int status, std::string_view code, std::string_view message);
http::Response error_response(const base::Error& error);
http::Response json_response(const nlohmann::json& body, int status = 200);
// A download: body bytes, content type, and Content-Disposition attachment with `filename`.
http::Response file_response(std::string body, std::string content_type, std::string filename);
// The body as a JSON object; kInvalidArgument naming what was wrong.
base::Result<nlohmann::json> json_body(const http::Request& request);
// Typed accessors that fail with kInvalidArgument naming the field.
base::Result<std::string> required_string(const nlohmann::json& body, std::string_view field);
base::Result<std::string> optional_string(const nlohmann::json& body, std::string_view field,
                                          std::string fallback = "");
base::Result<std::optional<std::int64_t>> optional_integer(const nlohmann::json& body,
                                                           std::string_view field, std::int64_t min,
                                                           std::int64_t max);
base::Result<std::optional<bool>> optional_bool(const nlohmann::json& body, std::string_view field);
base::Result<std::vector<std::string>> optional_string_list(const nlohmann::json& body,
                                                            std::string_view field);
// A query parameter as an integer in [min, max]; kInvalidArgument otherwise.
base::Result<std::optional<std::int64_t>> query_integer(const http::Request& request,
                                                        std::string_view name, std::int64_t min,
                                                        std::int64_t max);

}  // namespace signet::appliance
