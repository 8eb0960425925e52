// What the resource handlers (api_*.cpp) share about requests: one route registration that
// checks the query parameters against the route's documentation and the JSON body against the
// route's JSON Schema (so the OpenAPI document and the validation cannot drift), the schema
// builders those routes are documented with, typed reads of a validated body, and small
// response helpers.
//
// The schema validator understands what our schemas use: type (object, string, integer,
// boolean, array), properties, required, additionalProperties: false, enum, minimum, maximum,
// minLength, maxLength, items. Every failure is kInvalidArgument naming the field by its path
// ("key_source.kind").
//
// Plain functions; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "appliance/api/router.h"
#include "base/result.h"

namespace signet::appliance::api_internal {

// ---- JSON Schema builders for RouteDoc::request_body ----
using Properties = std::vector<std::pair<std::string, nlohmann::json>>;
// {"type":"object","additionalProperties":false,"properties":...,"required":[...]}
nlohmann::json object_schema(const Properties& properties,
                             const std::vector<std::string>& required = {});
nlohmann::json string_schema(std::string description, std::vector<std::string> one_of = {});
nlohmann::json integer_schema(std::string description, std::int64_t minimum, std::int64_t maximum);
nlohmann::json boolean_schema(std::string description);
nlohmann::json string_array_schema(std::string description);

// Checks `value` against `schema`; `path` names `value` in messages ("" for the body).
base::Result<void> validate(const nlohmann::json& value, const nlohmann::json& schema,
                            const std::string& path = "");

// The request's JSON body checked against `schema`. An empty body counts as {} (so that a
// POST whose fields are all optional needs none).
base::Result<nlohmann::json> read_body(const http::Request& request, const nlohmann::json& schema);

// Refuses query parameters the route does not document, naming the first.
base::Result<void> check_query(const http::Request& request,
                               const std::vector<QueryParameterDoc>& documented);

// ---- routes ----
using BodyHandler =
    std::function<base::Result<http::Response>(ApiCall& call, const nlohmann::json& body)>;
// Router::add with the query checked against doc.query and, when doc.request_body is an object
// schema, the body read and validated before `handler` runs (it receives {} otherwise).
void add_route(Router& router, std::string method, std::string pattern, Permission permission,
               RouteDoc doc, BodyHandler handler);

// ---- typed reads of a body validated by its schema ----
std::optional<std::string> field_string(const nlohmann::json& body, std::string_view field);
std::string field_string_or(const nlohmann::json& body, std::string_view field,
                            std::string fallback);
std::optional<int> field_int(const nlohmann::json& body, std::string_view field);
std::optional<bool> field_bool(const nlohmann::json& body, std::string_view field);
std::vector<std::string> field_strings(const nlohmann::json& body, std::string_view field);

// ---- query parameters ----
std::optional<std::string> query_string(const http::Request& request, std::string_view name);
// "true"/"false"/"1"/"0"; kInvalidArgument otherwise.
base::Result<bool> query_bool(const http::Request& request, std::string_view name,
                              bool fallback = false);
// One of `allowed`; kInvalidArgument listing them otherwise.
base::Result<std::optional<std::string>> query_choice(
    const http::Request& request, std::string_view name,
    std::initializer_list<std::string_view> allowed);

// ---- responses and names ----
// kNotFound "no CA named '<name>'": also what the appliance's internal CA looks like.
base::Error no_such_ca(std::string_view name);
// A file name made of a certificate's CN (or `fallback` when it has none usable).
std::string file_stem(std::string_view common_name, std::string_view fallback);
// A decimal id from a path segment; kInvalidArgument naming `what` otherwise.
base::Result<std::uint64_t> parse_id(std::string_view text, std::string_view what);

}  // namespace signet::appliance::api_internal
