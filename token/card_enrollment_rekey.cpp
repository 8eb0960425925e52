// CardEnrollment's rekey (with the fixed-slot cases: into the previous key's own slot, or into
// another free one) and resubmit; see card_enrollment.h.
#include <nlohmann/json.hpp>

#include "pki/certificate.h"
#include "token/card_enrollment.h"

namespace signet::token {
namespace {

using base::Error;
using base::ErrorCode;
using base::Result;
using nlohmann::json;

std::string slot_phrase(const TokenType& type, base::ByteView id) {
  if (const KeySlot* slot = type.slot_with_id(id)) return "slot " + slot->name;
  return "CKA_ID " + base::to_hex(id);
}

}  // namespace

Result<std::pair<std::string, bool>> CardEnrollment::rekey_target(
    const base::KeyRef& previous) const {
  if (!type_.fixed_slots()) return std::make_pair(std::string(), false);
  const KeySlot* previous_slot = type_.slot_with_id(previous.id);
  std::string wanted = key_slot_;
  if (wanted.empty() && previous_slot != nullptr) wanted = previous_slot->name;
  SIGNET_ASSIGN_OR_RETURN(KeySlot target, type_.slot(wanted));
  const bool replace = previous_slot != nullptr && previous_slot->name == target.name;
  return std::make_pair(target.name, replace);
}

Result<CardOutcome> CardEnrollment::rekey(std::uint64_t certificate_id,
                                          std::optional<base::KeyAlgorithm> algorithm,
                                          bool revoke_previous) {
  written_.clear();
  replaced_.clear();
  SIGNET_ASSIGN_OR_RETURN(auto previous, card_certificate(certificate_id));
  SIGNET_ASSIGN_OR_RETURN(auto chosen,
                          choose_algorithm({previous.profile, previous.ca_name}, algorithm));
  SIGNET_ASSIGN_OR_RETURN(auto target, rekey_target(*previous.key_location));
  const auto& [slot, replace] = target;
  SIGNET_TRY(check_can_change());
  SIGNET_TRY(unlock());
  keys_->set_key_slot(slot, replace);
  ca::RekeyRequest rekey;
  rekey.certificate_id = certificate_id;
  rekey.key.kind = ca::KeySourceKind::kKeyOnToken;
  rekey.key.token = card_.token.serial;
  rekey.key.algorithm = chosen;
  rekey.revoke_previous = revoke_previous;
  report("order", "rekeying certificate " + previous.serial.to_hex() + " with a new " +
                      std::string(base::to_string(chosen)) + " key on the card" +
                      (slot.empty() ? "" : " in slot " + slot) +
                      (replace ? " (replacing the previous key there)" : ""));
  auto result = service_->rekey(rekey);
  const bool lost = !result && replace && keys_->generation_started();
  // The slot's previous certificate names a key the slot may no longer hold: not put back.
  if (lost) replaced_.clear();
  auto finished = finish(std::move(result), "card.rekeyed");
  if (!finished) {
    if (lost) return previous_key_lost(previous, std::move(finished).error());
    return finished;
  }
  CardOutcome outcome = std::move(*finished);
  const std::string where = slot_phrase(type_, previous.key_location->id);
  if (replace) {
    // The new key took the previous key's slot: nothing of the previous key is left to delete,
    // and write_to_card gave the slot's previous certificate object up already.
    outcome.removed.push_back("key in " + where + " (replaced by the new key) and certificate " +
                              previous.serial.to_hex());
    if (!revoke_previous) {
      outcome.warnings.push_back("certificate " + previous.serial.to_hex() +
                                 " stays valid, but its key in " + where +
                                 " was replaced by the new key; revoke it unless it is used "
                                 "elsewhere (signet cert revoke " +
                                 previous.serial.to_hex() + " --reason superseded)");
    }
    json detail = {{"reader", reader_},
                   {"token_serial", card_.token.serial},
                   {"key", previous.key_location->to_uri()},
                   {"certificate_serial", previous.serial.to_hex()},
                   {"reason", revoke_previous ? "superseded" : "slot key replaced"}};
    audit("card.objects_deleted", "card:" + card_.token.serial, detail.dump());
    return outcome;
  }
  if (revoke_previous) {
    // Revoked (superseded) in the commit: its key and certificate leave the card.
    auto destroyed = keys_->destroy_key(*previous.key_location);
    if (!destroyed) {
      outcome.warnings.push_back("the previous key could not be removed from the card: " +
                                 destroyed.error().message());
    } else {
      outcome.removed.push_back("key " + previous.key_location->to_uri() + " and certificate " +
                                previous.serial.to_hex());
      json detail = {{"reader", reader_},
                     {"token_serial", card_.token.serial},
                     {"key", previous.key_location->to_uri()},
                     {"certificate_serial", previous.serial.to_hex()},
                     {"reason", "superseded"}};
      audit("card.objects_deleted", "card:" + card_.token.serial, detail.dump());
    }
  }
  return outcome;
}

Error CardEnrollment::previous_key_lost(const ca::CertificateRecord& previous, Error error) {
  const std::string where = slot_phrase(type_, previous.key_location->id);
  const std::string serial = previous.serial.to_hex();
  // Is the previous key still there? Only a key with the previous certificate's public key
  // counts (the failed order's key was deleted, or is a different key).
  const bool present = static_cast<bool>(keys_->check_present());
  std::string state = "unknown (the card is gone)";
  bool gone = false;
  if (present) {
    auto key = card_keys_->find_key(*previous.key_location);
    auto certificate = pki::Certificate::from_der(previous.der);
    if (key && certificate && (*key)->public_key_der() == certificate->public_key_der()) {
      state = "still on the card";
    } else {
      gone = true;
      state = "it is gone from the card";
      // The slot's old certificate object would name a key the slot no longer has.
      (void)card_keys_->destroy_certificates(card_.token.serial, previous.key_location->id,
                                             base::ByteView(previous.der));
    }
  }
  json detail = {{"reader", reader_},
                 {"token_serial", card_.token.serial},
                 {"key", previous.key_location->to_uri()},
                 {"certificate_serial", serial},
                 {"key_state", gone ? "gone" : state},
                 {"slot", where},
                 {"error", error.message()}};
  // card.previous_key_lost when the key is gone or may be; card.previous_key_kept otherwise.
  audit(present && !gone ? "card.previous_key_kept" : "card.previous_key_lost",
        "card:" + card_.token.serial, detail.dump());
  if (gone) {
    return std::move(error).with_context(
        "generating the new key in " + where + " replaced the previous key of certificate " +
        serial + " (a PIV card keeps one key per slot): " + state +
        ", so that certificate can no longer be used with this card. It stays valid in the "
        "inventory and was not revoked: run 'signet card rekey " +
        serial +
        "' again to put a new key and certificate into the slot, and revoke it if it is not "
        "to be trusted any more");
  }
  if (present) {
    return std::move(error).with_context("the rekey failed before the card replaced the key in " +
                                         where + ": certificate " + serial +
                                         " and its key are still on the card and usable");
  }
  return std::move(error).with_context(
      "the card went away after key generation began in " + where +
      ", which on a PIV card replaces the slot's key: whether the previous key of certificate " +
      serial +
      " survived is unknown; check with 'signet card show' once the card is back, and "
      "run 'signet card rekey " +
      serial + "' again if it is gone");
}

Result<CardOutcome> CardEnrollment::resubmit(std::uint64_t order_id) {
  written_.clear();
  replaced_.clear();
  SIGNET_ASSIGN_OR_RETURN(auto found, env_.stores.orders.find_order(order_id));
  if (!found) return Error(ErrorCode::kNotFound, "there is no order " + std::to_string(order_id));
  const ca::Order& order = *found;
  const json parameters = json::parse(order.parameters, nullptr, false);
  const std::string token =
      parameters.is_object() ? parameters.value("token", std::string()) : std::string();
  if (order.kind != ca::OrderKind::kIssue || order.key_source != ca::KeySourceKind::kKeyOnToken ||
      token.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "order " + std::to_string(order_id) +
                     " is not a card enrollment (an issue order whose key is generated on a "
                     "token); resubmit it with 'signet order resubmit'");
  }
  if (token != card_.token.serial && token != card_.token.label) {
    return Error(ErrorCode::kInvalidArgument, "order " + std::to_string(order_id) +
                                                  " was for the card with token serial " + token +
                                                  ", but reader '" + reader_ + "' holds " +
                                                  card_.token.describe() + "; insert that card");
  }
  if (order.status != ca::OrderStatus::kFailed) {
    return Error(ErrorCode::kInvalidArgument, "order " + std::to_string(order_id) + " is " +
                                                  std::string(ca::to_string(order.status)) +
                                                  "; only a failed order can be resubmitted");
  }
  // A failed order stays failed when a resubmission succeeds: refuse a second card for it.
  ca::OrderQuery query;
  query.status = ca::OrderStatus::kComplete;
  query.kind = ca::OrderKind::kIssue;
  query.limit = 1000;
  for (;;) {
    SIGNET_ASSIGN_OR_RETURN(auto page, env_.stores.orders.list_orders(query));
    for (const auto& later : page) {
      if (later.resubmitted_from == order_id) {
        return Error(ErrorCode::kAlreadyExists, "order " + std::to_string(order_id) +
                                                    " was resubmitted already: order " +
                                                    std::to_string(later.id) + " completed it");
      }
    }
    if (page.size() < query.limit || page.back().id <= order_id) break;
    query.before = page.back().id;
  }
  SIGNET_TRY(check_can_change());
  SIGNET_TRY(unlock());
  keys_->set_key_slot(key_slot_, false);
  report("order", "resubmitting failed order " + std::to_string(order_id) + " (" +
                      order.error_message + ")");
  return finish(service_->resubmit(order_id), "card.resubmitted");
}

}  // namespace signet::token
