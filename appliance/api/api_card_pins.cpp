// POST /api/v1/cards/pin/change and /unblock: the card holder's PIN life cycle through the API,
// as `signet card pin change | unblock` does it (hsm/pin_management.h): change with the current
// PIN (C_SetPIN), or unblock with the PUK / security officer PIN (C_Login as SO, C_InitPIN),
// which resets the try counter. The secrets travel in the body only, are moved into
// base::SecureBuffers, every copy in the request is wiped, and none is logged or echoed. A
// refused PIN answers 403 pin_incorrect / 423 pin_locked with the card's PIN counters after the
// attempt. Audit: card.pin_changed / card.pin_unblocked, or card.pin_change_failed /
// card.pin_unblock_failed.
#include <openssl/crypto.h>

#include "appliance/api/api.h"
#include "appliance/api/card_service.h"
#include "appliance/api/internal/request_support.h"
#include "hsm/pin_management.h"
#include "token/card_selection.h"

namespace signet::appliance {
namespace {

using base::Error;
using base::ErrorCode;
using base::Result;
using nlohmann::json;
using namespace api_internal;

json secret_property(std::string description) {
  return {{"type", "string"},
          {"format", "password"},
          {"minLength", 1},
          {"maxLength", 256},
          {"description", std::move(description)}};
}

void wipe_strings(json& body) {
  for (auto& [key, value] : body.items()) {
    if (value.is_string()) {
      auto& text = value.get_ref<std::string&>();
      OPENSSL_cleanse(text.data(), text.size());
    }
  }
}

// The two secrets `first` and `second` out of the body (wiped everywhere), and the reader.
struct PinRequest {
  std::string reader;
  base::SecureBuffer first;
  base::SecureBuffer second;
};
Result<PinRequest> take(http::Request& request, const std::string& first,
                        const std::string& second) {
  auto parsed = json_body(request);
  OPENSSL_cleanse(request.body.data(), request.body.size());
  SIGNET_ASSIGN_OR_RETURN(auto body, std::move(parsed));
  struct Wipe {
    json& body;
    ~Wipe() { wipe_strings(body); }
  } wipe{body};
  PinRequest out;
  for (const auto& [key, value] : body.items()) {
    if (key != first && key != second && key != "reader") {
      return Error(ErrorCode::kInvalidArgument, "unknown field '" + key + "'");
    }
    if (!value.is_string()) {
      return Error(ErrorCode::kInvalidArgument, "the field '" + key + "' must be a string");
    }
    const auto& text = value.get_ref<const std::string&>();
    if (key != "reader" && (text.empty() || text.size() > 256)) {
      return Error(ErrorCode::kInvalidArgument,
                   "the field '" + key + "' must hold 1 to 256 characters");
    }
  }
  for (const auto* name : {&first, &second}) {
    if (!body.contains(*name)) {
      return Error(ErrorCode::kInvalidArgument, "the field '" + *name + "' is required");
    }
  }
  out.first = base::SecureBuffer::copy_of(base::as_bytes(body[first].get_ref<std::string&>()));
  out.second = base::SecureBuffer::copy_of(base::as_bytes(body[second].get_ref<std::string&>()));
  if (body.contains("reader")) out.reader = body["reader"].get<std::string>();
  return out;
}

http::Response refused(const Error& error, const hsm::TokenInfo& after) {
  const int status = error.code() == ErrorCode::kPinIncorrect ? 403
                     : error.code() == ErrorCode::kPinLocked  ? 423
                                                              : http_status_of(error.code());
  if (status == 500) return error_response(error);
  json body = {{"error", {{"code", error_code_name(error.code())}, {"message", error.message()}}}};
  body["error"]["token"] = {{"user_pin_count_low", after.user_pin_count_low},
                            {"user_pin_final_try", after.user_pin_final_try},
                            {"user_pin_locked", after.user_pin_locked},
                            {"so_pin_locked", after.so_pin_locked}};
  return json_response(body, status);
}

Result<http::Response> run(ApiServices& api, CardService* cards, ApiCall& call, bool unblock) {
  if (cards == nullptr) {
    return Error(ErrorCode::kNotFound,
                 "smart-card support is off: set [cards] enabled = true in signetd's "
                 "configuration (docs/CONFIGURATION.md) and restart signetd");
  }
  SIGNET_ASSIGN_OR_RETURN(auto secrets, take(call.request, unblock ? "puk" : "pin", "new_pin"));
  std::string reader;
  SIGNET_ASSIGN_OR_RETURN(
      auto card, token::select_card(secrets.reader, cards->map(), cards->modules(), &reader));
  const std::string action = unblock ? "card.pin_unblock" : "card.pin_change";
  auto done = unblock
                  ? hsm::unblock_user_pin(card.module, card.token, secrets.first, secrets.second)
                  : hsm::change_user_pin(card.module, card.token, secrets.first, secrets.second);
  auto after = card.module->token_info(card.token.slot_id);
  const hsm::TokenInfo& now = after ? *after : card.token;
  json detail = {{"reader", reader}, {"label", card.token.label}};
  if (!done) detail["error"] = done.error().message();
  SIGNET_TRY(api.audit().append_audit(ca::make_audit_event(
      api.clock().now(), call.principal.actor(),
      done ? (unblock ? "card.pin_unblocked" : "card.pin_changed") : action + "_failed",
      "card:" + card.token.serial, detail.dump())));
  if (!done) {
    if (!unblock && done.error().code() == ErrorCode::kPinLocked) {
      return refused(token::locked_card_error(now, reader), now);
    }
    return refused(done.error(), now);
  }
  auto view = card_token_json(card);
  view["token"]["user_pin_count_low"] = now.user_pin_count_low;
  view["token"]["user_pin_final_try"] = now.user_pin_final_try;
  view["token"]["user_pin_locked"] = now.user_pin_locked;
  return json_response(
      {{"reader", reader}, {"card", view}, {unblock ? "unblocked" : "changed", true}});
}

}  // namespace

void register_card_pin_routes(Router& router, ApiServices& api, CardService* cards) {
  const json reader = string_schema("the reader (default: the only one holding a card)");
  router.add("POST", "/api/v1/cards/pin/change", Permission::kOperate,
             {"cards",
              "change the card's user PIN with the current one (C_SetPIN); 403 pin_incorrect and "
              "423 pin_locked carry the card's PIN counters",
              {},
              object_schema({{"reader", reader},
                             {"pin", secret_property("the current user PIN")},
                             {"new_pin", secret_property("the new user PIN")}},
                            {"pin", "new_pin"})},
             [&api, cards](ApiCall& call) { return run(api, cards, call, false); });
  router.add("POST", "/api/v1/cards/pin/unblock", Permission::kOperate,
             {"cards",
              "unblock the card's user PIN with the PUK / security officer PIN and set a new one "
              "(C_Login as SO, C_InitPIN: the try counter starts afresh)",
              {},
              object_schema({{"reader", reader},
                             {"puk", secret_property("the PUK / security officer PIN")},
                             {"new_pin", secret_property("the new user PIN")}},
                            {"puk", "new_pin"})},
             [&api, cards](ApiCall& call) { return run(api, cards, call, true); });
}

}  // namespace signet::appliance
