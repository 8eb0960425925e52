#include "appliance/api/card_service.h"

#include <filesystem>
#include <thread>

#include "appliance/core/views.h"
#include "hsm/module.h"
#include "store/lmdb_store.h"
#include "token/card_selection.h"
#include "token/pcsc_context.h"
#include "token/readers.h"
#include "token/token_type.h"

namespace signet::appliance {

using base::Error;
using base::ErrorCode;
using base::Result;
using nlohmann::json;

std::string_view to_string(CardJobKind kind) {
  switch (kind) {
    case CardJobKind::kEnroll:
      return "enroll";
    case CardJobKind::kRenew:
      return "renew";
    case CardJobKind::kRekey:
      return "rekey";
    case CardJobKind::kResubmit:
      return "resubmit";
  }
  return "enroll";
}

std::string_view to_string(CardJobState state) {
  switch (state) {
    case CardJobState::kWaitingForCard:
      return "waiting_for_card";
    case CardJobState::kOpening:
      return "opening";
    case CardJobState::kGenerating:
      return "generating";
    case CardJobState::kIssuing:
      return "issuing";
    case CardJobState::kWriting:
      return "writing";
    case CardJobState::kDone:
      return "done";
    case CardJobState::kFailed:
      return "failed";
    case CardJobState::kCancelled:
      return "cancelled";
  }
  return "failed";
}

bool is_final(CardJobState state) {
  return state == CardJobState::kDone || state == CardJobState::kFailed ||
         state == CardJobState::kCancelled;
}

json card_token_json(const token::CardToken& card) {
  const auto& t = card.token;
  // The ATR map checked the type name when it was loaded; an unknown one reads as generic.
  const auto type = token::token_type(card.rule.type);
  json slots = json::array();
  if (type) {
    for (const auto& slot : type->key_slots) slots.push_back(slot.name);
  }
  return {{"rule", card.rule.name},
          {"module", card.rule.module_path},
          {"type", card.rule.type},
          {"needs_management_key", type && type->needs_management_key()},
          {"key_slots", slots},
          {"token",
           {{"label", t.label},
            {"serial", t.serial},
            {"model", t.model},
            {"manufacturer", t.manufacturer},
            {"user_pin_count_low", t.user_pin_count_low},
            {"user_pin_final_try", t.user_pin_final_try},
            {"user_pin_locked", t.user_pin_locked},
            {"so_pin_locked", t.so_pin_locked}}}};
}

// ---- CardService ----

CardService::CardService(firmware_config::CardSettings settings, ApplianceContext& context,
                         token::AtrMap map)
    : settings_(std::move(settings)), context_(context), map_(std::move(map)) {}

CardService::~CardService() {
  std::deque<std::shared_ptr<CardJob>> jobs;
  {
    std::lock_guard lock(mutex_);
    jobs = jobs_;
  }
  for (auto& job : jobs) job->cancel("signetd:shutdown");
  for (auto& job : jobs) {
    if (job->thread_.joinable()) job->thread_.join();
  }
}

Result<std::unique_ptr<CardService>> CardService::create(
    const firmware_config::CardSettings& settings, ApplianceContext& context,
    std::vector<std::string>& notes) {
  token::AtrMap map;
  if (!settings.atr_map.empty()) {
    auto loaded = token::AtrMap::load(settings.atr_map);
    if (!loaded) return std::move(loaded).error().with_context("[cards] atr_map");
    map = std::move(*loaded);
  }
  std::unique_ptr<CardService> service(new CardService(settings, context, std::move(map)));
  // One state per PKCS#11 library in a process: a rule naming the appliance's own module (a
  // SoftHSM stand-in for a card) shares it.
  SIGNET_ASSIGN_OR_RETURN(auto* module, context.module());
  service->modules_.adopt(module->shared_from_this());
  for (const auto& rule : service->map_.rules()) {
    auto loaded = service->modules_.get(rule.module_path);
    if (!loaded) {
      return std::move(loaded).error().with_context("[cards] ATR map rule '" + rule.name + "'");
    }
    notes.push_back("cards: rule '" + rule.name + "' uses " + rule.module_path);
  }
  const auto& fallback = service->map_.default_rule().module_path;
  if (std::filesystem::exists(fallback)) {
    auto loaded = service->modules_.get(fallback);
    if (!loaded) return std::move(loaded).error().with_context("[cards] the default module");
    notes.push_back("cards: other cards use " + fallback);
  } else {
    notes.push_back("cards: the default module " + fallback +
                    " is not installed: cards no rule matches are not supported");
  }
  service->modules_.seal();
  return service;
}

Result<json> CardService::readers() {
  SIGNET_ASSIGN_OR_RETURN(auto pcsc, token::PcscContext::establish());
  SIGNET_ASSIGN_OR_RETURN(auto states, token::list_readers(pcsc));
  std::map<std::string, std::uint64_t> busy;
  for (const auto& job : jobs()) {
    if (is_final(job->state())) continue;
    const std::string reader = job->snapshot().value("reader", "");
    if (!reader.empty()) busy.emplace(reader, job->id());
  }
  json items = json::array();
  for (const auto& reader : states) {
    json item = {{"name", reader.name},
                 {"card_present", reader.card_present},
                 {"card_mute", reader.card_mute},
                 {"in_use", reader.card_in_use},
                 {"unavailable", reader.unavailable},
                 {"atr", reader.atr_hex()},
                 {"card", nullptr},
                 {"error", nullptr},
                 {"job", nullptr}};
    if (auto it = busy.find(reader.name); it != busy.end()) item["job"] = it->second;
    if (reader.card_present && !reader.card_mute) {
      auto card = token::find_card_token(reader, map_, modules_);
      if (card) {
        item["card"] = card_token_json(*card);
      } else {
        item["error"] = card.error().message();
      }
    }
    items.push_back(std::move(item));
  }
  return json{{"items", items}};
}

Result<std::shared_ptr<CardJob>> CardService::submit(CardJobRequest request, CardJobSecrets secrets,
                                                     std::string actor) {
  std::shared_ptr<CardJob> job;
  {
    std::lock_guard lock(mutex_);
    for (const auto& other : jobs_) {
      if (is_final(other->state())) continue;
      const std::string& a = other->requested_reader();
      if (a.empty() || request.reader.empty() || a == request.reader) {
        return Error(ErrorCode::kConflict, "card job " + std::to_string(other->id()) +
                                               " is still running" +
                                               (a.empty() ? "" : " on reader '" + a + "'") +
                                               ": wait for it or cancel it first");
      }
    }
    job = std::make_shared<CardJob>(next_id_++, std::move(request), std::move(secrets),
                                    std::move(actor), context_.clock().now());
    jobs_.push_back(job);
    // Forget the oldest finished jobs beyond the limit (their threads have ended).
    while (jobs_.size() > kKeptJobs && is_final(jobs_.front()->state())) {
      if (jobs_.front()->thread_.joinable()) jobs_.front()->thread_.join();
      jobs_.pop_front();
    }
  }
  job->start(*this);
  return job;
}

std::shared_ptr<CardJob> CardService::find(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  for (const auto& job : jobs_) {
    if (job->id() == id) return job;
  }
  return nullptr;
}

std::vector<std::shared_ptr<CardJob>> CardService::jobs() {
  std::lock_guard lock(mutex_);
  return {jobs_.rbegin(), jobs_.rend()};
}

}  // namespace signet::appliance
