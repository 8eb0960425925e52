// /api/v1/profiles: RA profiles, the rules every certificate is issued under, as `signet
// profile` manages them. A profile is the JSON that `signet profile show --json` prints and
// `signet profile create --file` takes (ca::profile_to_json / profile_from_json); updates are
// new versions, checked against the version the client read (409 when another update came
// first).
#include "appliance/api/api.h"
#include "appliance/api/internal/certificate_support.h"
#include "appliance/api/internal/request_support.h"

namespace signet::appliance {
namespace {

using base::Error;
using base::ErrorCode;
using base::Result;
using nlohmann::json;
using namespace api_internal;

constexpr const char* kTag = "profiles";
constexpr const char* kProfilePattern = "/api/v1/profiles/{ca}/{name}";

json profile_json(const ca::Profile& profile) {
  return json::parse(ca::profile_to_json(profile, false));
}

json mode_schema() { return string_schema("hard (refuse) or soft (warn)", {"hard", "soft"}); }

// The profile JSON; `required` names the fields a request must give.
json profile_schema(const std::vector<std::string>& required) {
  json fixed = {{"type", "object"},
                {"description", "TYPE: VALUE set whatever was asked (O: Example)"},
                {"additionalProperties", {{"type", "string"}}}};
  return object_schema(
      {{"name", string_schema("profile name (letters, digits, '.', '_', '-')")},
       {"ca", string_schema("the CA the profile issues from")},
       {"description", string_schema("what the profile is for")},
       {"enabled", boolean_schema("a disabled profile refuses every request")},
       {"version", integer_schema("updates: the version being replaced (409 when it is no "
                                  "longer the stored one)",
                                  0, std::numeric_limits<std::int32_t>::max())},
       {"key_algorithms",
        object_schema({{"allowed", string_array_schema("ec-p256, ec-p384, rsa-2048, rsa-3072, "
                                                       "rsa-4096, ed25519; empty: any")},
                       {"mode", mode_schema()}})},
       {"validity",
        object_schema({{"default_days", integer_schema("when a request names none", 1, 36500)},
                       {"max_days", integer_schema("longest allowed", 1, 36500)},
                       {"mode", mode_schema()}})},
       {"key_usage", string_array_schema("digitalSignature, keyEncipherment, ...")},
       {"extended_key_usage",
        string_array_schema("serverAuth, clientAuth, codeSigning, emailProtection, ... or OIDs")},
       {"subject", object_schema({{"required", string_array_schema("attributes that must be "
                                                                   "present (CN, O, ...)")},
                                  {"allowed", string_array_schema("the only attributes allowed; "
                                                                  "empty: any")},
                                  {"fixed", fixed},
                                  {"mode", mode_schema()}})},
       {"sans",
        object_schema({{"dns_suffixes", string_array_schema("DNS names must equal or end "
                                                            "in one of these")},
                       {"allow_ip", boolean_schema("IP address SANs")},
                       {"allow_email", boolean_schema("e-mail SANs")},
                       {"upn_realms", string_array_schema("realms a UPN SAN may name (equal or "
                                                          "a subdomain); empty: no UPN")},
                       {"allow_uri", boolean_schema("URI SANs")},
                       {"max_count", integer_schema("most SANs a request may carry", 1, 100000)},
                       {"mode", mode_schema()}})}},
      required);
}

Result<ca::Profile> parse_profile(const json& body) {
  auto profile = ca::profile_from_json(body.dump());
  if (!profile) {
    return Error(ErrorCode::kInvalidArgument, "the profile: " + profile.error().message());
  }
  return profile;
}

// The stored profile named by the path (the internal CA's are not found).
Result<ca::Profile> stored_profile(ApiServices& api, const ApiCall& call) {
  SIGNET_ASSIGN_OR_RETURN(auto ca_name, visible_ca(call));
  const auto& name = call.param("name");
  SIGNET_ASSIGN_OR_RETURN(auto found, api.profiles().find_profile(ca_name, name));
  if (!found) {
    return Error(ErrorCode::kNotFound, "no RA profile '" + ca_name + "/" + name + "'");
  }
  return std::move(*found);
}

void add_list(Router& router, ApiServices& api) {
  RouteDoc doc{kTag, "list the RA profiles (of one CA with ca=)", {{"ca", "only this CA's"}}};
  add_route(router, "GET", "/api/v1/profiles", Permission::kRead, std::move(doc),
            [&api](ApiCall& call, const json&) -> Result<http::Response> {
              const auto ca_name = query_string(call.request, "ca").value_or("");
              if (ApiServices::is_internal_ca(ca_name)) return no_such_ca(ca_name);
              SIGNET_ASSIGN_OR_RETURN(auto list, api.profiles().list_profiles(ca_name));
              json items = json::array();
              for (const auto& p : list) {
                if (!ApiServices::is_internal_ca(p.ca_name)) items.push_back(profile_json(p));
              }
              return json_response({{"items", items}});
            });
}

void add_show(Router& router, ApiServices& api) {
  add_route(router, "GET", kProfilePattern, Permission::kRead,
            RouteDoc{kTag, "an RA profile (the JSON that create and update take)"},
            [&api](ApiCall& call, const json&) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto profile, stored_profile(api, call));
              return json_response(profile_json(profile));
            });
}

void add_create(Router& router, ApiServices& api) {
  RouteDoc doc{kTag,
               "create an RA profile; rules left out take the values of a CA's default profile",
               {},
               profile_schema({"name", "ca"})};
  doc.success_status = 201;
  add_route(router, "POST", "/api/v1/profiles", Permission::kAdminister, std::move(doc),
            [&api](ApiCall& call, const json& body) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto profile, parse_profile(body));
              if (ApiServices::is_internal_ca(profile.ca_name)) return no_such_ca(profile.ca_name);
              profile.version = 0;
              auto service = api.service_for(call.principal);
              SIGNET_ASSIGN_OR_RETURN(auto created, service->create_profile(std::move(profile)));
              return json_response(profile_json(created), 201);
            });
}

// Stores `updated` as the next version of `current` when `version` is still the stored one.
Result<http::Response> store_update(ApiServices& api, const ApiCall& call,
                                    const ca::Profile& current, ca::Profile updated,
                                    std::uint64_t version) {
  if (updated.ca_name.empty()) updated.ca_name = current.ca_name;
  if (updated.name.empty()) updated.name = current.name;
  if (updated.ca_name != current.ca_name || updated.name != current.name) {
    return Error(ErrorCode::kInvalidArgument,
                 "the body describes profile '" + updated.qualified_name() + "', not '" +
                     current.qualified_name() + "' (a profile's CA and name do not change)");
  }
  updated.created_at = current.created_at;
  updated.version = version;  // checked against the stored version at commit
  auto service = api.service_for(call.principal);
  SIGNET_ASSIGN_OR_RETURN(auto stored, service->update_profile(std::move(updated)));
  return json_response(profile_json(stored));
}

void add_replace(Router& router, ApiServices& api) {
  RouteDoc doc{kTag,
               "store a new version of an RA profile (the whole profile; 'version' is the one it "
               "replaces); certificates already issued keep theirs",
               {},
               profile_schema({"version"})};
  add_route(router, "PUT", kProfilePattern, Permission::kAdminister, std::move(doc),
            [&api](ApiCall& call, const json& body) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto current, stored_profile(api, call));
              SIGNET_ASSIGN_OR_RETURN(auto updated, parse_profile(body));
              return store_update(api, call, current, std::move(updated),
                                  body["version"].get<std::uint64_t>());
            });
}

void add_patch(Router& router, ApiServices& api) {
  RouteDoc doc{kTag,
               "change some rules of an RA profile (a JSON merge patch, RFC 7396, with "
               "'version', the version it changes)",
               {},
               profile_schema({"version"})};
  add_route(router, "PATCH", kProfilePattern, Permission::kAdminister, std::move(doc),
            [&api](ApiCall& call, const json& body) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto current, stored_profile(api, call));
              auto merged = profile_json(current);
              merged.merge_patch(body);
              SIGNET_ASSIGN_OR_RETURN(auto updated, parse_profile(merged));
              return store_update(api, call, current, std::move(updated),
                                  body["version"].get<std::uint64_t>());
            });
}

void add_disable(Router& router, ApiServices& api) {
  add_route(router, "POST", std::string(kProfilePattern) + "/disable", Permission::kAdminister,
            RouteDoc{kTag, "disable an RA profile: it refuses every request until enabled again"},
            [&api](ApiCall& call, const json&) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto current, stored_profile(api, call));
              auto service = api.service_for(call.principal);
              SIGNET_ASSIGN_OR_RETURN(auto disabled,
                                      service->disable_profile(current.ca_name, current.name));
              return json_response(profile_json(disabled));
            });
}

void add_enable(Router& router, ApiServices& api) {
  add_route(router, "POST", std::string(kProfilePattern) + "/enable", Permission::kAdminister,
            RouteDoc{kTag,
                     "enable a disabled RA profile again (a new version; audited as "
                     "profile.enabled)"},
            [&api](ApiCall& call, const json&) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto current, stored_profile(api, call));
              if (current.enabled) return json_response(profile_json(current));
              auto service = api.service_for(call.principal);
              SIGNET_ASSIGN_OR_RETURN(auto enabled,
                                      service->enable_profile(current.ca_name, current.name));
              return json_response(profile_json(enabled));
            });
}

}  // namespace

void register_profile_routes(Router& router, ApiServices& api) {
  add_list(router, api);
  add_show(router, api);
  add_create(router, api);
  add_replace(router, api);
  add_patch(router, api);
  add_disable(router, api);
  add_enable(router, api);
}

}  // namespace signet::appliance
