// /api/v1/tokens: the PKCS#11 module's slots and tokens and the private keys on them, as
// `signet token list` and `signet token keys` show them: labels, serials, PIN state, login
// state, memory, key labels, types, protection and pkcs11: URIs. Never anything secret (no
// PINs, no key material). An administrator can log signetd in to a token with its user PIN
// (POST .../login: the PIN travels in the body only, is wiped after C_Login and is never
// logged or echoed). Initialising a token and setting its PINs stay with the command line.
#include <openssl/crypto.h>

#include <algorithm>

#include "appliance/api/api.h"
#include "appliance/api/internal/request_support.h"
#include "hsm/key_provider.h"
#include "hsm/module.h"

namespace signet::appliance {
namespace {

using base::Error;
using base::ErrorCode;
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
json token_json(const hsm::TokenInfo& t, bool logged_in) {
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
          {"total_private_memory", optional_memory(t.total_private_memory)},
          {"total_public_memory", optional_memory(t.total_public_memory)},
          {"logged_in", logged_in},
          {"state", token_state(t)}};
}

json slot_json(const hsm::SlotInfo& slot, const std::vector<hsm::TokenInfo>& tokens) {
  json j = {{"slot", slot.slot_id},
            {"description", slot.description},
            {"manufacturer", slot.manufacturer},
            {"token_present", slot.token_present},
            {"removable", slot.removable},
            {"hardware", slot.hardware},
            {"token_serial", nullptr}};
  for (const auto& t : tokens) {
    if (t.slot_id == slot.slot_id) j["token_serial"] = t.serial;
  }
  return j;
}

void add_list(Router& router, ApiServices& api) {
  RouteDoc doc{kTag,
               "the PKCS#11 module's tokens (labels, serials, PIN and login state, memory) and "
               "its slots",
               {{"all", "true: uninitialised slots too", "boolean"}}};
  add_route(router, "GET", "/api/v1/tokens", Permission::kRead, std::move(doc),
            [&api](ApiCall& call, const json&) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto all, query_bool(call.request, "all"));
              SIGNET_ASSIGN_OR_RETURN(auto* module, api.context().module());
              SIGNET_ASSIGN_OR_RETURN(auto* provider, api.context().keys());
              SIGNET_ASSIGN_OR_RETURN(auto tokens, module->tokens(all));
              SIGNET_ASSIGN_OR_RETURN(auto slots, module->slots());
              SIGNET_ASSIGN_OR_RETURN(auto present, module->tokens(true));
              json items = json::array();
              for (const auto& t : tokens) {
                items.push_back(token_json(t, t.initialized && provider->logged_in(t)));
              }
              json slot_items = json::array();
              for (const auto& slot : slots) slot_items.push_back(slot_json(slot, present));
              json modules = json::array({{{"path", module->path()}, {"slots", slot_items}}});
              return json_response({{"items", items}, {"modules", modules}});
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
  // RA officers choose among these keys when they request a certificate for an existing key
  // (key_source token_key); the list holds nothing secret.
  add_route(router, "GET", "/api/v1/tokens/{token}/keys", Permission::kOperate, std::move(doc),
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

// Takes the PIN out of the body into locked memory and wipes every copy this call made.
Result<base::SecureBuffer> take_pin(http::Request& request) {
  auto parsed = json_body(request);
  OPENSSL_cleanse(request.body.data(), request.body.size());
  SIGNET_ASSIGN_OR_RETURN(auto body, std::move(parsed));
  // Every string in the parsed body is wiped on every way out, the refusals included (a PIN
  // sent beside an unknown field, or under another name, is still a PIN).
  struct WipeStrings {
    json& document;
    ~WipeStrings() {
      for (auto& [key, value] : document.items()) {
        if (value.is_string()) {
          auto& text = value.get_ref<std::string&>();
          OPENSSL_cleanse(text.data(), text.size());
        }
      }
    }
  } wipe{body};
  for (const auto& [key, value] : body.items()) {
    if (key != "pin") return Error(ErrorCode::kInvalidArgument, "unknown field '" + key + "'");
  }
  auto it = body.find("pin");
  if (it == body.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return Error(ErrorCode::kInvalidArgument, "the field 'pin' (the token's user PIN) is required");
  }
  return base::SecureBuffer::copy_of(base::as_bytes(it->get_ref<const std::string&>()));
}

// A refused login: the token's PIN state after the attempt goes with the error, so that the
// console can say how many tries are left ("final try", "locked").
http::Response login_refused(const base::Error& error, const hsm::TokenInfo* after) {
  const int status = error.code() == ErrorCode::kPinIncorrect ? 403
                     : error.code() == ErrorCode::kPinLocked  ? 423
                                                              : http_status_of(error.code());
  if (status == 500) return error_response(error);
  json body = {{"error", {{"code", error_code_name(error.code())}, {"message", error.message()}}}};
  if (after != nullptr) {
    body["error"]["token"] = {{"state", token_state(*after)},
                              {"user_pin_count_low", after->user_pin_count_low},
                              {"user_pin_final_try", after->user_pin_final_try},
                              {"user_pin_locked", after->user_pin_locked}};
  }
  return json_response(body, status);
}

Result<http::Response> log_in(ApiServices& api, ApiCall& call) {
  SIGNET_ASSIGN_OR_RETURN(auto pin, take_pin(call.request));
  SIGNET_ASSIGN_OR_RETURN(auto* module, api.context().module());
  SIGNET_ASSIGN_OR_RETURN(auto* provider, api.context().keys());
  SIGNET_ASSIGN_OR_RETURN(auto info, module->find_token(call.param("token")));
  const std::string object = "token:" + info.serial;
  const bool already = provider->logged_in(info);
  auto done = provider->log_in(info.serial, pin);
  auto after = module->find_token(info.serial);
  const hsm::TokenInfo& now_info = after ? *after : info;
  if (!done) {
    json detail = {{"label", info.label},
                   {"error", std::string(error_code_name(done.error().code()))}};
    SIGNET_TRY(api.audit().append_audit(ca::make_audit_event(
        api.clock().now(), call.principal.actor(), "token.login_failed", object, detail.dump())));
    return login_refused(done.error(), &now_info);
  }
  json detail = {{"label", info.label}, {"already_logged_in", already}};
  SIGNET_TRY(api.audit().append_audit(ca::make_audit_event(
      api.clock().now(), call.principal.actor(), "token.login", object, detail.dump())));
  return json_response({{"token", token_json(now_info, provider->logged_in(now_info))},
                        {"already_logged_in", already}});
}

void add_login(Router& router, ApiServices& api) {
  router.add("POST", "/api/v1/tokens/{token}/login", Permission::kAdminister,
             {kTag,
              "log signetd in to a token (label or serial) with its user PIN; 403 pin_incorrect "
              "and 423 pin_locked carry the token's PIN state",
              {},
              {{"type", "object"},
               {"additionalProperties", false},
               {"required", {"pin"}},
               {"properties", {{"pin", {{"type", "string"}, {"format", "password"}}}}}}},
             [&api](ApiCall& call) { return log_in(api, call); });
}

}  // namespace

void register_token_routes(Router& router, ApiServices& api) {
  add_list(router, api);
  add_keys(router, api);
  add_login(router, api);
}

}  // namespace signet::appliance
