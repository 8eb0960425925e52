// signet card list | watch (enroll, renew, rekey, show and pin are in card_enroll_commands.cpp
// and card_pin_commands.cpp): the smart-card readers of this machine (PC/SC), the cards in them,
// and each card's PKCS#11 token as the ATR map (--atr-map / SIGNET_ATR_MAP) finds it.
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <memory>
#include <mutex>

#include "appliance/cli/card_support.h"
#include "appliance/cli/commands.h"
#include "appliance/cli/output.h"
#include "token/card_token.h"
#include "token/reader_watcher.h"
#include "token/readers.h"

namespace signet::appliance {
namespace {

using base::Result;

struct CardOptions {
  std::string atr_map;  // --atr-map or SIGNET_ATR_MAP
  long count = 0;       // watch: stop after this many events (0: until a signal)
};

Result<token::AtrMap> load_map(const CardOptions& o) {
  if (o.atr_map.empty()) return token::AtrMap();
  return token::AtrMap::load(o.atr_map);
}

// The token part of a card's description: JSON (null when none) and a problem sentence.
struct TokenView {
  nlohmann::json module = nullptr;
  nlohmann::json token = nullptr;
  std::string problem;
};

TokenView describe_token(const token::ReaderState& reader, const token::AtrMap& map,
                         token::ModuleCache& modules) {
  TokenView view;
  if (!reader.card_present) return view;
  const auto& rule = map.match(reader.atr);
  view.module = {{"name", rule.name}, {"path", rule.module_path}};
  auto found = token::find_card_token(reader, map, modules);
  if (!found) {
    view.problem = found.error().message();
    return view;
  }
  const auto& t = found->token;
  view.token = {{"label", t.label},
                {"serial", t.serial},
                {"model", t.model},
                {"manufacturer", t.manufacturer},
                {"slot", t.slot_id},
                {"slot_description", found->slot.description},
                {"user_pin_count_low", t.user_pin_count_low},
                {"user_pin_final_try", t.user_pin_final_try},
                {"user_pin_locked", t.user_pin_locked}};
  return view;
}

Result<void> list_cards(ApplianceContext& ctx, const CardOptions& o) {
  SIGNET_ASSIGN_OR_RETURN(auto map, load_map(o));
  SIGNET_ASSIGN_OR_RETURN(auto context, token::PcscContext::establish());
  SIGNET_ASSIGN_OR_RETURN(auto readers, token::list_readers(context));
  token::ModuleCache modules;
  nlohmann::json items = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  for (const auto& reader : readers) {
    const TokenView view = describe_token(reader, map, modules);
    nlohmann::json j = {{"reader", reader.name},
                        {"card_present", reader.card_present},
                        {"card_mute", reader.card_mute},
                        {"card_in_use", reader.card_in_use},
                        {"atr", reader.card_present ? nlohmann::json(reader.atr_hex()) : nullptr},
                        {"module", view.module},
                        {"token", view.token}};
    j["problem"] = view.problem.empty() ? nlohmann::json(nullptr) : nlohmann::json(view.problem);
    items.push_back(j);
    const std::string card =
        !reader.card_present ? "empty" : (reader.card_mute ? "mute card" : "card");
    std::string token = "-";
    if (!view.token.is_null()) {
      token = "'" + view.token["label"].get<std::string>() + "' serial " +
              view.token["serial"].get<std::string>() + ", " +
              view.token["model"].get<std::string>();
    } else if (!view.problem.empty()) {
      token = view.problem;
    }
    rows.push_back({reader.name, card, reader.card_present ? reader.atr_hex() : "-",
                    view.module.is_null() ? "-" : view.module["path"].get<std::string>(), token});
  }
  if (ctx.json()) {
    print_json(items);
  } else if (rows.empty()) {
    std::cout << "No smart-card reader is attached.\n";
  } else {
    print_table({"READER", "CARD", "ATR", "MODULE", "TOKEN"}, rows);
  }
  return base::ok();
}

// Events handed from the watcher's thread to the printing thread.
class EventQueue {
 public:
  void push(token::ReaderEvent event) {
    {
      std::lock_guard lock(mutex_);
      events_.push_back(std::move(event));
    }
    ready_.notify_one();
  }
  // Waits up to `timeout` for an event.
  std::optional<token::ReaderEvent> pop(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (!ready_.wait_for(lock, timeout, [this] { return !events_.empty(); })) return std::nullopt;
    auto event = std::move(events_.front());
    events_.pop_front();
    return event;
  }

 private:
  std::mutex mutex_;  // guards events_
  std::condition_variable ready_;
  std::deque<token::ReaderEvent> events_;
};

void print_event(ApplianceContext& ctx, const token::ReaderEvent& event, const token::AtrMap& map,
                 token::ModuleCache& modules) {
  using Kind = token::ReaderEvent::Kind;
  TokenView view;
  if (event.kind == Kind::kCardInserted) {
    token::ReaderState reader;
    reader.name = event.reader;
    reader.card_present = true;
    auto atr = base::from_hex(event.atr_hex);
    if (atr) reader.atr = std::move(atr).value();
    view = describe_token(reader, map, modules);
  }
  const std::string kind(token::to_string(event.kind));
  if (ctx.json()) {
    nlohmann::json j = {{"event", kind}, {"initial", event.initial}};
    j["reader"] = event.reader.empty() ? nlohmann::json(nullptr) : nlohmann::json(event.reader);
    j["atr"] = event.kind == Kind::kCardInserted ? nlohmann::json(event.atr_hex) : nullptr;
    j["message"] = event.message.empty() ? nlohmann::json(nullptr) : nlohmann::json(event.message);
    if (event.kind == Kind::kCardInserted) {
      j["module"] = view.module;
      j["token"] = view.token;
      j["problem"] = view.problem.empty() ? nlohmann::json(nullptr) : nlohmann::json(view.problem);
    }
    std::cout << j.dump() << std::endl;
    return;
  }
  std::string line = kind;
  if (!event.reader.empty()) line += " '" + event.reader + "'";
  if (event.initial) line += " (present at start)";
  if (event.kind == Kind::kCardInserted) {
    line += " ATR " + (event.atr_hex.empty() ? std::string("none (mute card)") : event.atr_hex);
    if (!view.token.is_null()) {
      line += ": token '" + view.token["label"].get<std::string>() + "' serial " +
              view.token["serial"].get<std::string>() + " model " +
              view.token["model"].get<std::string>();
    } else if (!view.problem.empty()) {
      line += ": " + view.problem;
    }
  }
  if (!event.message.empty()) line += ": " + event.message;
  std::cout << line << std::endl;
}

Result<void> watch_cards(ApplianceContext& ctx, const CardOptions& o) {
  SIGNET_ASSIGN_OR_RETURN(auto map, load_map(o));
  // SIGINT and SIGTERM end the watch: blocked here (and so in the watcher's thread, which
  // inherits the mask) and polled between events.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  EventQueue queue;
  auto watcher =
      token::ReaderWatcher::start([&queue](const token::ReaderEvent& event) { queue.push(event); });
  token::ModuleCache modules;
  long printed = 0;
  while (o.count <= 0 || printed < o.count) {
    const timespec no_wait{0, 0};
    if (sigtimedwait(&stop_signals, nullptr, &no_wait) > 0) break;
    auto event = queue.pop(std::chrono::milliseconds(200));
    if (!event) continue;
    print_event(ctx, *event, map, modules);
    ++printed;
  }
  watcher->stop();
  return base::ok();
}

void add_map_option(CLI::App* cmd, CardOptions& o) {
  cmd->add_option("--atr-map", o.atr_map,
                  "JSON file mapping ATR patterns to PKCS#11 modules (default: SIGNET_ATR_MAP; "
                  "without one, every card goes to OpenSC's opensc-pkcs11.so); see "
                  "docs/SMART-CARDS.md");
}

}  // namespace

void register_card_commands(CLI::App& app, Action& selected) {
  auto* card = app.add_subcommand(
      "card",
      "smart cards in this machine's PC/SC readers (needs pcscd): list, watch, enroll a token "
      "holder, renew, rekey, show, PIN change and unblock; always runs locally (enroll, renew, "
      "rekey, show and pin use the state directory's store, which a running signetd holds)");
  card->require_subcommand(1);
  auto defaults = [] {
    auto o = std::make_shared<CardOptions>();
    if (const char* map = std::getenv("SIGNET_ATR_MAP"); map != nullptr) o->atr_map = map;
    return o;
  };
  {
    auto o = defaults();
    auto* cmd = card->add_subcommand(
        "list",
        "list the readers, whether a card is in each, its ATR, the PKCS#11 module chosen for it "
        "and the card's token (label, serial, model)");
    add_map_option(cmd, *o);
    cmd->callback(
        [&selected, o] { selected = [o](ApplianceContext& ctx) { return list_cards(ctx, *o); }; });
  }
  {
    auto o = defaults();
    auto* cmd = card->add_subcommand(
        "watch",
        "print reader and card events as they happen (starting with what is present now) until "
        "Ctrl-C or SIGTERM; pcscd restarts are reported and survived");
    add_map_option(cmd, *o);
    cmd->add_option("--count", o->count, "exit after this many events")->check(CLI::PositiveNumber);
    cmd->callback(
        [&selected, o] { selected = [o](ApplianceContext& ctx) { return watch_cards(ctx, *o); }; });
  }
  register_card_enrollment_commands(card, selected);
  register_card_pin_commands(card, selected);
}

}  // namespace signet::appliance
