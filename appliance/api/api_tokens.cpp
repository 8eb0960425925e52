// /api/v1/tokens: the PKCS#11 module's tokens and the private keys on them, as `signet token
// list` and `signet token keys` show them: labels, serials, PIN state, free memory, key
// labels, types, protection and pkcs11: URIs. Never anything secret (no PINs, no key
// material). Initialising a token and setting its PINs stay with the command line.
#include <algorithm>

#include "appliance/api/api.h"
#include "appliance/api/internal/request_support.h"
#include "hsm/key_provider.h"
#include "hsm/module.h"

namespace signet::appliance {
namespace {

using base::Result;
using nlohmann::json;
using namespace api_internal;

constexpr const char* kTag = "tokens";

json optional_memory(const std::optional<unsigned long>& bytes) {
  return bytes ? json(*bytes) : json(nullptr);
}

std::string token_state(const hsm::TokenInfo& t) {
  if (!t.initialized) return "not initialised";
  if (t.user_pin_locked) return "user PIN locked";
  if (t.user_pin_final_try) return "user PIN: final try";
  if (t.user_pin_count_low) return "user PIN: tries low";
  if (!t.user_pin_initialized) return "no user PIN";
  return "ready";
}

// As `signet token list --json` describes a token, with its state in words.
json token_json(const hsm::TokenInfo& t) {
  return {{"label", t.label},
          {"serial", t.serial},
          {"manufacturer", t.manufacturer},
          {"model", t.model},
          {"slot", t.slot_id},
          {"module", t.module_path},
          {"initialized", t.initialized},
          {"login_required", t.login_required},
          {"protected_authentication_path", t.protected_authentication_path},
          {"write_protected", t.write_protected},
          {"user_pin_initialized", t.user_pin_initialized},
          {"user_pin_count_low", t.user_pin_count_low},
          {"user_pin_final_try", t.user_pin_final_try},
          {"user_pin_locked", t.user_pin_locked},
          {"so_pin_locked", t.so_pin_locked},
          {"free_private_memory", optional_memory(t.free_private_memory)},
          {"free_public_memory", optional_memory(t.free_public_memory)},
          {"state", token_state(t)}};
}

void add_list(Router& router, ApiServices& api) {
  RouteDoc doc{kTag,
               "the PKCS#11 module's tokens: labels, serials, PIN state, free memory",
               {{"all", "true: uninitialised slots too", "boolean"}}};
  add_route(router, "GET", "/api/v1/tokens", Permission::kRead, std::move(doc),
            [&api](ApiCall& call, const json&) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto all, query_bool(call.request, "all"));
              SIGNET_ASSIGN_OR_RETURN(auto* module, api.context().module());
              SIGNET_ASSIGN_OR_RETURN(auto tokens, module->tokens(all));
              json items = json::array();
              for (const auto& t : tokens) items.push_back(token_json(t));
              return json_response({{"items", items}});
            });
}

json key_json(hsm::Pkcs11KeyProvider& provider, const hsm::KeyInfo& k) {
  json j = {{"uri", k.ref.to_uri()},
            {"label", k.ref.object_label},
            {"id", base::to_hex(k.ref.id)},
            {"token_serial", k.ref.token_serial},
            {"token_label", k.ref.token_label},
            {"key_type", k.key_type},
            {"has_public_key", k.has_public_key}};
  j["algorithm"] = k.algorithm ? json(std::string(base::to_string(*k.algorithm))) : json(nullptr);
  if (auto a = provider.read_private_key_attributes(k.ref)) {
    j["sensitive"] = a->sensitive;
    j["extractable"] = a->extractable;
    j["never_extractable"] = a->never_extractable;
    j["local"] = a->local;
  }
  return j;
}

void add_keys(Router& router, ApiServices& api) {
  RouteDoc doc{kTag,
               "the private keys on a token (label or serial): labels, types, protection, "
               "pkcs11: URIs",
               {{"orphans", "true: only keys no CA and no certificate references", "boolean"}}};
  add_route(router, "GET", "/api/v1/tokens/{token}/keys", Permission::kAdminister, std::move(doc),
            [&api](ApiCall& call, const json&) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto orphans, query_bool(call.request, "orphans"));
              SIGNET_ASSIGN_OR_RETURN(auto* provider, api.context().keys());
              SIGNET_ASSIGN_OR_RETURN(auto keys, provider->list_keys(call.param("token")));
              if (orphans) {
                std::vector<base::KeyRef> refs;
                for (const auto& k : keys) refs.push_back(k.ref);
                auto service = api.service_for(call.principal);
                SIGNET_ASSIGN_OR_RETURN(auto orphaned, service->orphaned_keys(refs));
                std::erase_if(keys, [&](const hsm::KeyInfo& k) {
                  return std::find(orphaned.begin(), orphaned.end(), k.ref) == orphaned.end();
                });
              }
              json items = json::array();
              for (const auto& k : keys) items.push_back(key_json(*provider, k));
              return json_response({{"items", items}});
            });
}

}  // namespace

void register_token_routes(Router& router, ApiServices& api) {
  add_list(router, api);
  add_keys(router, api);
}

}  // namespace signet::appliance
