// CardService: signetd's smart-card support behind /api/v1/cards (api_cards.cpp): the ATR map,
// the card PKCS#11 modules (all loaded at start-up, then the cache is sealed so that nothing is
// dlopen()ed in the hardened process), the readers and the card in each, and enrollment jobs.
//
// An enrollment, renewal, rekey or resubmission (of a failed card enrollment order) on a card runs
// as a CardJob on a thread of its own, because key generation can take minutes on a real card: the
// job waits for a card (up to card_wait), opens it (token/card_enrollment.h), logs in with the
// holder's PIN, and runs the order; its state (waiting_for_card, opening, generating, issuing,
// writing, done, failed, cancelled), its progress lines, the order id (as soon as the order exists)
// and the outcome are read with snapshot(). cancel() stops it: before the card is open at once,
// afterwards as a removal would (the card key is deleted, nothing written stays, the order fails).
//
// The holder's PIN, and the card's PIV management key for card types that need it (ykcs11),
// live in base::SecureBuffers owned by the job and are wiped when the job ends (or is
// cancelled); they are never logged, stored in the job's view or echoed.
//
// Ownership: the ApplianceContext (store, Authority) must outlive it; it owns the jobs and their
// threads and joins them (after cancelling) on destruction. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "appliance/core/context.h"
#include "base/result.h"
#include "base/secure_buffer.h"
#include "firmware-config/configuration.h"
#include "token/atr_map.h"
#include "token/card_enrollment.h"
#include "token/card_token.h"

namespace signet::appliance {

enum class CardJobKind { kEnroll, kRenew, kRekey, kResubmit };
std::string_view to_string(CardJobKind kind);  // "enroll", "renew", "rekey", "resubmit"

enum class CardJobState {
  kWaitingForCard,
  kOpening,
  kGenerating,
  kIssuing,
  kWriting,
  kDone,
  kFailed,
  kCancelled,
};
std::string_view to_string(CardJobState state);  // "waiting_for_card", "generating"...
bool is_final(CardJobState state);

struct CardJobRequest {
  CardJobKind kind = CardJobKind::kEnroll;
  token::EnrollRequest enroll;       // kEnroll
  std::uint64_t certificate_id = 0;  // kRenew, kRekey: the certificate whose key is on the card
  std::optional<base::KeyAlgorithm> algorithm;  // kRekey
  bool revoke_previous = false;                 // kRekey
  std::optional<int> validity_days;             // kRenew
  std::uint64_t resubmit_order = 0;             // kResubmit: the failed card enrollment order
  std::string reader;                           // "" = the only reader with a card
  std::string key_slot;                         // fixed-slot (PIV) cards
};

class CardJob;

// What a job needs to unlock and change the card. The management key is checked for its
// format (token::check_management_key) before it gets here.
struct CardJobSecrets {
  base::SecureBuffer pin;
  std::optional<base::SecureBuffer> management_key;  // card types that need it (ykcs11)
};

// A card as the API shows it: the ATR map's rule, module and type, and its token (label,
// serial, model, manufacturer, PIN counters).
nlohmann::json card_token_json(const token::CardToken& card);

class CardService {
 public:
  // Loads the ATR map (settings.atr_map; the OpenSC default alone when empty) and the module of
  // every rule, sharing `appliance_module` when a rule names the same library; the default
  // rule's module only when its file exists (`notes` says so otherwise). Then seals the cache.
  static base::Result<std::unique_ptr<CardService>> create(
      const firmware_config::CardSettings& settings, ApplianceContext& context,
      std::vector<std::string>& notes);
  ~CardService();
  CardService(const CardService&) = delete;
  CardService& operator=(const CardService&) = delete;

  const token::AtrMap& map() const { return map_; }
  token::ModuleCache& modules() { return modules_; }
  ApplianceContext& context() { return context_; }
  const firmware_config::CardSettings& settings() const { return settings_; }

  // Every reader and the card in it: ATR, the ATR map's rule, module and token type, and the
  // card's token (serial, label, model, PIN counters). A reader whose card cannot be read
  // carries an "error" instead of the token.
  base::Result<nlohmann::json> readers();

  // Starts a job acting for `actor`; kConflict when a job still runs on that reader.
  base::Result<std::shared_ptr<CardJob>> submit(CardJobRequest request, CardJobSecrets secrets,
                                                std::string actor);
  std::shared_ptr<CardJob> find(std::uint64_t id);
  // Called (on the job's thread) after a rekey revoked the previous certificate, with its CA:
  // signetd regenerates that CA's CRLs and refreshes OCSP (ApiServices::after_revocation). Set
  // before the server starts.
  void set_after_revocation(std::function<void(const std::string& ca_name)> hook) {
    after_revocation_ = std::move(hook);
  }
  void after_revocation(const std::string& ca_name) const {
    if (after_revocation_) after_revocation_(ca_name);
  }

  // Newest first (the finished ones kept are the last kKeptJobs).
  std::vector<std::shared_ptr<CardJob>> jobs();

  static constexpr std::size_t kKeptJobs = 100;

 private:
  CardService(firmware_config::CardSettings settings, ApplianceContext& context, token::AtrMap map);

  firmware_config::CardSettings settings_;
  ApplianceContext& context_;
  token::AtrMap map_;
  token::ModuleCache modules_;
  std::function<void(const std::string&)> after_revocation_;
  std::mutex mutex_;  // guards next_id_ and jobs_
  std::uint64_t next_id_ = 1;
  std::deque<std::shared_ptr<CardJob>> jobs_;  // oldest first
};

// One enrollment / renewal / rekey on a card (see CardService). Thread-safe.
class CardJob {
 public:
  CardJob(std::uint64_t id, CardJobRequest request, CardJobSecrets secrets, std::string actor,
          std::chrono::system_clock::time_point created);
  ~CardJob();
  CardJob(const CardJob&) = delete;
  CardJob& operator=(const CardJob&) = delete;

  std::uint64_t id() const { return id_; }
  const std::string& actor() const { return actor_; }
  const std::string& requested_reader() const { return request_.reader; }
  CardJobState state() const;
  // The job as the API shows it: id, kind, state, reader, card, order id, progress, outcome or
  // error (with the card's PIN counters after a refused PIN).
  nlohmann::json snapshot() const;
  // Asks the job to stop; false when it had already ended.
  bool cancel(const std::string& by);

 private:
  friend class CardService;
  void start(CardService& service);
  void run(CardService& service);
  void execute(CardService& service);
  void audit_end(CardService& service);
  base::Result<void> wait_for_card(CardService& service);
  void on_progress(const token::Progress& progress);
  void set_state(CardJobState state);
  bool cancelled() const;
  void finish(base::Result<token::CardOutcome> outcome, const token::CardEnrollment* card);
  void wipe_secrets();

 public:
  // Called by the order log observer (card_service.cpp).
  void order_created(std::uint64_t order_id);
  void key_generated();

 private:
  const std::uint64_t id_;
  const CardJobRequest request_;
  const std::string actor_;
  const std::chrono::system_clock::time_point created_;

  mutable std::mutex mutex_;  // guards everything below
  std::optional<base::SecureBuffer> pin_;
  std::optional<base::SecureBuffer> management_key_;
  CardJobState state_ = CardJobState::kWaitingForCard;
  std::vector<nlohmann::json> progress_;
  std::optional<std::uint64_t> order_id_;
  std::string reader_;
  nlohmann::json card_ = nullptr;
  nlohmann::json outcome_ = nullptr;
  nlohmann::json error_ = nullptr;
  std::string cancelled_by_;
  bool cancel_requested_ = false;
  token::CardEnrollment* active_ = nullptr;  // while open; cancel() reaches it
  std::chrono::system_clock::time_point finished_{};
  std::thread thread_;
};

}  // namespace signet::appliance
