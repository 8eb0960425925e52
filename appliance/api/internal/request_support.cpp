#include "appliance/api/internal/request_support.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>

namespace signet::appliance::api_internal {

using base::Error;
using base::ErrorCode;
using base::Result;
using nlohmann::json;

nlohmann::json object_schema(const Properties& properties,
                             const std::vector<std::string>& required) {
  json props = json::object();
  for (const auto& [name, schema] : properties) props[name] = schema;
  json schema = {{"type", "object"}, {"additionalProperties", false}, {"properties", props}};
  if (!required.empty()) schema["required"] = required;
  return schema;
}

nlohmann::json string_schema(std::string description, std::vector<std::string> one_of) {
  json schema = {{"type", "string"}, {"description", std::move(description)}};
  if (!one_of.empty()) schema["enum"] = std::move(one_of);
  return schema;
}

nlohmann::json integer_schema(std::string description, std::int64_t minimum, std::int64_t maximum) {
  return {{"type", "integer"},
          {"description", std::move(description)},
          {"minimum", minimum},
          {"maximum", maximum}};
}

nlohmann::json boolean_schema(std::string description) {
  return {{"type", "boolean"}, {"description", std::move(description)}};
}

nlohmann::json string_array_schema(std::string description) {
  return {
      {"type", "array"}, {"description", std::move(description)}, {"items", {{"type", "string"}}}};
}

namespace {

std::string field_name(const std::string& path) {
  return path.empty() ? "the request body" : "the field '" + path + "'";
}

std::string join(const json& values) {
  std::string out;
  for (const auto& v : values) {
    out += (out.empty() ? "" : ", ") + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  return out;
}

Result<void> validate_object(const json& value, const json& schema, const std::string& path) {
  const json& properties = schema.contains("properties") ? schema["properties"] : json::object();
  const std::string prefix = path.empty() ? "" : path + ".";
  // additionalProperties may also be a schema (of a map's values): only false closes the object.
  const auto closed = schema.find("additionalProperties");
  if (closed != schema.end() && closed->is_boolean() && !closed->get<bool>()) {
    for (const auto& [key, _] : value.items()) {
      if (!properties.contains(key)) {
        std::string known;
        for (const auto& [name, __] : properties.items())
          known += (known.empty() ? "" : ", ") + name;
        return Error(ErrorCode::kInvalidArgument,
                     "unknown field '" + prefix + key + "'" +
                         (known.empty() ? " (none is expected)" : " (expected: " + known + ")"));
      }
    }
  }
  if (schema.contains("required")) {
    for (const auto& name : schema["required"]) {
      const auto it = value.find(name.get<std::string>());
      if (it == value.end() || it->is_null()) {
        return Error(ErrorCode::kInvalidArgument,
                     "the field '" + prefix + name.get<std::string>() + "' is required");
      }
    }
  }
  for (const auto& [key, child] : value.items()) {
    if (child.is_null() || !properties.contains(key)) continue;  // null: as if absent
    SIGNET_TRY(validate(child, properties[key], prefix + key));
  }
  return base::ok();
}

Result<void> validate_string(const json& value, const json& schema, const std::string& path) {
  const auto& text = value.get_ref<const std::string&>();
  if (schema.contains("enum")) {
    const auto& allowed = schema["enum"];
    if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
      return Error(ErrorCode::kInvalidArgument,
                   field_name(path) + " is '" + text + "'; expected one of: " + join(allowed));
    }
  }
  if (schema.contains("minLength") && text.size() < schema["minLength"].get<std::size_t>()) {
    return Error(ErrorCode::kInvalidArgument, field_name(path) + " must not be empty");
  }
  if (schema.contains("maxLength") && text.size() > schema["maxLength"].get<std::size_t>()) {
    return Error(ErrorCode::kInvalidArgument,
                 field_name(path) + " is longer than " +
                     std::to_string(schema["maxLength"].get<std::size_t>()) + " characters");
  }
  return base::ok();
}

Result<void> validate_integer(const json& value, const json& schema, const std::string& path) {
  const auto min = schema.value("minimum", std::numeric_limits<std::int64_t>::min());
  const auto max = schema.value("maximum", std::numeric_limits<std::int64_t>::max());
  const bool fits = value.is_number_unsigned()
                        ? value.get<std::uint64_t>() <= static_cast<std::uint64_t>(max)
                        : true;
  const auto n = fits ? value.get<std::int64_t>() : max;
  if (!fits || n < min || n > max) {
    return Error(ErrorCode::kInvalidArgument, field_name(path) + " must be between " +
                                                  std::to_string(min) + " and " +
                                                  std::to_string(max));
  }
  return base::ok();
}

}  // namespace

Result<void> validate(const json& value, const json& schema, const std::string& path) {
  const std::string type = schema.value("type", "");
  if (type == "object") {
    if (!value.is_object()) {
      return Error(ErrorCode::kInvalidArgument, field_name(path) + " must be a JSON object");
    }
    return validate_object(value, schema, path);
  }
  if (type == "string") {
    if (!value.is_string()) {
      return Error(ErrorCode::kInvalidArgument, field_name(path) + " must be a string");
    }
    return validate_string(value, schema, path);
  }
  if (type == "integer") {
    if (!value.is_number_integer()) {
      return Error(ErrorCode::kInvalidArgument, field_name(path) + " must be an integer");
    }
    return validate_integer(value, schema, path);
  }
  if (type == "boolean") {
    if (!value.is_boolean()) {
      return Error(ErrorCode::kInvalidArgument, field_name(path) + " must be true or false");
    }
    return base::ok();
  }
  if (type == "array") {
    if (!value.is_array()) {
      return Error(ErrorCode::kInvalidArgument, field_name(path) + " must be an array");
    }
    if (!schema.contains("items")) return base::ok();
    for (std::size_t i = 0; i < value.size(); ++i) {
      SIGNET_TRY(validate(value[i], schema["items"], path + "[" + std::to_string(i) + "]"));
    }
    return base::ok();
  }
  return base::ok();  // no type: anything
}

Result<json> read_body(const http::Request& request, const json& schema) {
  const bool blank = std::all_of(request.body.begin(), request.body.end(),
                                 [](unsigned char c) { return std::isspace(c) != 0; });
  json body = json::object();
  if (!blank) {
    SIGNET_ASSIGN_OR_RETURN(body, json_body(request));
  }
  SIGNET_TRY(validate(body, schema));
  return body;
}

Result<void> check_query(const http::Request& request,
                         const std::vector<QueryParameterDoc>& documented) {
  for (const auto& [name, _] : request.query) {
    const bool known =
        std::any_of(documented.begin(), documented.end(),
                    [&name = name](const QueryParameterDoc& q) { return q.name == name; });
    if (known) continue;
    std::string expected;
    for (const auto& q : documented) expected += (expected.empty() ? "" : ", ") + q.name;
    return Error(
        ErrorCode::kInvalidArgument,
        "unknown query parameter '" + name + "'" +
            (expected.empty() ? " (this route takes none)" : " (expected: " + expected + ")"));
  }
  return base::ok();
}

void add_route(Router& router, std::string method, std::string pattern, Permission permission,
               RouteDoc doc, BodyHandler handler) {
  auto query = doc.query;
  auto schema = doc.request_body;
  router.add(std::move(method), std::move(pattern), permission, std::move(doc),
             [query = std::move(query), schema = std::move(schema),
              handler = std::move(handler)](ApiCall& call) -> Result<http::Response> {
               SIGNET_TRY(check_query(call.request, query));
               json body = json::object();
               if (schema.is_object()) {
                 SIGNET_ASSIGN_OR_RETURN(body, read_body(call.request, schema));
               }
               return handler(call, body);
             });
}

std::optional<std::string> field_string(const json& body, std::string_view field) {
  const auto it = body.find(field);
  if (it == body.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::string field_string_or(const json& body, std::string_view field, std::string fallback) {
  return field_string(body, field).value_or(std::move(fallback));
}

std::optional<int> field_int(const json& body, std::string_view field) {
  const auto it = body.find(field);
  if (it == body.end() || !it->is_number_integer()) return std::nullopt;
  // The schema bounds every integer field well within int.
  return static_cast<int>(it->get<std::int64_t>());
}

std::optional<bool> field_bool(const json& body, std::string_view field) {
  const auto it = body.find(field);
  if (it == body.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

std::vector<std::string> field_strings(const json& body, std::string_view field) {
  std::vector<std::string> out;
  const auto it = body.find(field);
  if (it == body.end() || !it->is_array()) return out;
  for (const auto& item : *it) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

std::optional<std::string> query_string(const http::Request& request, std::string_view name) {
  auto value = request.query_param(name);
  if (value && value->empty()) return std::nullopt;
  return value;
}

Result<bool> query_bool(const http::Request& request, std::string_view name, bool fallback) {
  const auto value = request.query_param(name);
  if (!value || value->empty()) return fallback;
  if (*value == "true" || *value == "1") return true;
  if (*value == "false" || *value == "0") return false;
  return Error(ErrorCode::kInvalidArgument,
               "the query parameter '" + std::string(name) + "' must be true or false");
}

Result<std::optional<std::string>> query_choice(const http::Request& request, std::string_view name,
                                                std::initializer_list<std::string_view> allowed) {
  auto value = query_string(request, name);
  if (!value) return std::optional<std::string>();
  if (std::find(allowed.begin(), allowed.end(), *value) != allowed.end()) return value;
  std::string expected;
  for (auto a : allowed) expected += (expected.empty() ? "" : ", ") + std::string(a);
  return Error(ErrorCode::kInvalidArgument, "the query parameter '" + std::string(name) + "' is '" +
                                                *value + "'; expected one of: " + expected);
}

base::Error no_such_ca(std::string_view name) {
  return Error(ErrorCode::kNotFound, "no CA named '" + std::string(name) + "'");
}

std::string file_stem(std::string_view common_name, std::string_view fallback) {
  std::string stem;
  for (char c : common_name) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
    stem += ok ? c : '_';
  }
  // Leading dots would make a hidden file; a CN of only odd characters says nothing.
  while (!stem.empty() && stem.front() == '.') stem.erase(stem.begin());
  const bool useful =
      std::any_of(stem.begin(), stem.end(), [](unsigned char c) { return std::isalnum(c) != 0; });
  if (!useful || stem.size() > 100) return std::string(fallback);
  return stem;
}

Result<std::uint64_t> parse_id(std::string_view text, std::string_view what) {
  std::uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value == 0) {
    return Error(ErrorCode::kInvalidArgument, "'" + std::string(text) + "' is not " +
                                                  std::string(what) + " (a positive integer)");
  }
  return value;
}

}  // namespace signet::appliance::api_internal
