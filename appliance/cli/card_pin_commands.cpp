// signet card pin change | unblock: the card's user PIN (hsm/pin_management.h). The PIN
// counters the card reports are shown before any PIN is asked for; a locked card is refused
// with how to unblock it. Secrets come from files (mode 0600), standard input (--pin-stdin,
// one line each in the order asked) or a terminal prompt; never argv. Both write an audit
// event (card.pin_changed / card.pin_unblocked, or card.pin_change_failed /
// card.pin_unblock_failed).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "appliance/cli/card_support.h"
#include "appliance/cli/commands.h"
#include "appliance/cli/output.h"
#include "ca/records.h"
#include "hsm/pin_management.h"
#include "token/card_selection.h"

namespace signet::appliance {
namespace {

using base::Result;
using nlohmann::json;

struct PinOptions {
  CardCommonOptions card;
  std::string new_pin_file;
  std::string so_pin_file;
};

void audit(ApplianceContext& ctx, ca::AuditSink& sink, const std::string& action,
           const std::string& reader, const hsm::TokenInfo& token, const std::string& error) {
  json detail = {{"reader", reader}, {"token_serial", token.serial}, {"token_label", token.label}};
  if (!error.empty()) detail["error"] = error;
  auto appended = sink.append_audit(ca::make_audit_event(ctx.clock().now(), ctx.actor(), action,
                                                         "card:" + token.serial, detail.dump()));
  if (!appended) {
    std::fprintf(stderr, "signet: warning: the audit event %s was not written: %s\n",
                 action.c_str(), appended.error().message().c_str());
  }
}

Result<void> report(ApplianceContext& ctx, const std::string& reader, const token::CardToken& card,
                    const std::string& done) {
  SIGNET_ASSIGN_OR_RETURN(auto now, card.module->token_info(card.token.slot_id));
  if (ctx.json()) {
    print_json({{"reader", reader}, {"result", done}, {"token", token_json(now)}});
  } else {
    std::printf("%s for %s in reader '%s'. PIN counters now: %s\n", done.c_str(),
                now.describe().c_str(), reader.c_str(), pin_counters(now).c_str());
  }
  return base::ok();
}

// The card, its counters shown; the audit sink opened first, so that a change is never made
// without its event.
struct PinTarget {
  std::unique_ptr<CardSession> session;
  std::string reader;
  token::CardToken card;
  ca::AuditSink* audit = nullptr;
};

Result<PinTarget> open_target(ApplianceContext& ctx, const PinOptions& o) {
  PinTarget target;
  SIGNET_ASSIGN_OR_RETURN(target.session, CardSession::create(ctx, o.card));
  SIGNET_ASSIGN_OR_RETURN(target.audit, ctx.audit());
  SIGNET_ASSIGN_OR_RETURN(target.card, token::select_card(o.card.reader, target.session->map,
                                                          target.session->modules, &target.reader));
  print_progress({"pin", target.card.token.describe() + " in reader '" + target.reader +
                             "': PIN counters: " + pin_counters(target.card.token)});
  return target;
}

Result<void> change_pin(ApplianceContext& ctx, const PinOptions& o) {
  SIGNET_ASSIGN_OR_RETURN(auto target, open_target(ctx, o));
  if (target.card.token.user_pin_locked) {
    return token::locked_card_error(target.card.token, target.reader);
  }
  auto& secrets = *target.session->secrets;
  SIGNET_ASSIGN_OR_RETURN(auto old_pin, secrets.read(o.card.pin_file, "Current PIN: "));
  SIGNET_ASSIGN_OR_RETURN(auto new_pin, secrets.read(o.new_pin_file, "New PIN: "));
  auto changed = hsm::change_user_pin(target.card.module, target.card.token, old_pin, new_pin);
  if (!changed) {
    audit(ctx, *target.audit, "card.pin_change_failed", target.reader, target.card.token,
          changed.error().message());
    if (changed.error().code() == base::ErrorCode::kPinLocked) {
      return token::locked_card_error(target.card.token, target.reader);
    }
    return changed;
  }
  audit(ctx, *target.audit, "card.pin_changed", target.reader, target.card.token, "");
  return report(ctx, target.reader, target.card, "PIN changed");
}

Result<void> unblock_pin(ApplianceContext& ctx, const PinOptions& o) {
  SIGNET_ASSIGN_OR_RETURN(auto target, open_target(ctx, o));
  auto& secrets = *target.session->secrets;
  SIGNET_ASSIGN_OR_RETURN(auto so_pin, secrets.read(o.so_pin_file, "PUK (security officer PIN): "));
  SIGNET_ASSIGN_OR_RETURN(auto new_pin, secrets.read(o.new_pin_file, "New PIN: "));
  auto unblocked = hsm::unblock_user_pin(target.card.module, target.card.token, so_pin, new_pin);
  if (!unblocked) {
    audit(ctx, *target.audit, "card.pin_unblock_failed", target.reader, target.card.token,
          unblocked.error().message());
    return unblocked;
  }
  audit(ctx, *target.audit, "card.pin_unblocked", target.reader, target.card.token, "");
  return report(ctx, target.reader, target.card, "PIN unblocked and set");
}

}  // namespace

void register_card_pin_commands(CLI::App* card, Action& selected) {
  auto* pin = card->add_subcommand(
      "pin", "the card's user PIN: change it, or unblock it with the PUK (security officer PIN)");
  pin->require_subcommand(1);
  {
    auto o = std::make_shared<PinOptions>();
    auto* cmd = pin->add_subcommand(
        "change",
        "change the card's PIN (C_SetPIN): asks for the current PIN (--card-pin-file) "
        "and the new one (--new-pin-file)");
    add_card_common_options(cmd, o->card);
    cmd->add_option("--new-pin-file", o->new_pin_file, "file (mode 0600) holding the new PIN");
    cmd->callback(
        [&selected, o] { selected = [o](ApplianceContext& ctx) { return change_pin(ctx, *o); }; });
  }
  {
    auto o = std::make_shared<PinOptions>();
    auto* cmd = pin->add_subcommand(
        "unblock",
        "unblock a locked PIN: log in with the PUK / security officer PIN (--so-pin-file) and set "
        "a new PIN (--new-pin-file) with C_InitPIN, which resets the PIN's try counter");
    add_card_common_options(cmd, o->card, false);
    cmd->add_option("--so-pin-file", o->so_pin_file,
                    "file (mode 0600) holding the PUK / security officer PIN");
    cmd->add_option("--new-pin-file", o->new_pin_file, "file (mode 0600) holding the new PIN");
    cmd->callback(
        [&selected, o] { selected = [o](ApplianceContext& ctx) { return unblock_pin(ctx, *o); }; });
  }
}

}  // namespace signet::appliance
