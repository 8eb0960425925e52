// CardJob (card_service.h): one enrollment, renewal or rekey on a card, on a thread of its own.
#include <openssl/crypto.h>

#include <thread>

#include "appliance/api/card_service.h"
#include "appliance/api/router.h"
#include "appliance/core/views.h"
#include "ca/records.h"
#include "pki/certificate.h"
#include "store/lmdb_store.h"
#include "token/card_selection.h"

namespace signet::appliance {

using base::Error;
using base::ErrorCode;
using base::Result;
using nlohmann::json;

namespace {

constexpr std::size_t kMaxProgressLines = 200;

json pin_state_json(const hsm::TokenInfo& t) {
  return {{"user_pin_count_low", t.user_pin_count_low},
          {"user_pin_final_try", t.user_pin_final_try},
          {"user_pin_locked", t.user_pin_locked}};
}

// The store's order log, telling the job when its order is created and when the card key is
// made (the service records it on the order before the CSR is signed): progress the token
// layer does not report by itself.
class ObservedOrderLog final : public ca::OrderLog {
 public:
  ObservedOrderLog(ca::OrderLog& inner, CardJob& job) : inner_(inner), job_(job) {}

  Result<std::uint64_t> create_order(ca::Order order, std::vector<ca::AuditEvent> events) override {
    auto id = inner_.create_order(std::move(order), std::move(events));
    if (id) job_.order_created(*id);
    return id;
  }
  Result<std::uint64_t> update_order(const ca::Order& order, std::vector<ca::AuditEvent> events,
                                     std::optional<ca::Alert> alert) override {
    auto revision = inner_.update_order(order, std::move(events), std::move(alert));
    if (revision && order.status == ca::OrderStatus::kProcessing && order.generated_key) {
      job_.key_generated();
    }
    return revision;
  }
  Result<std::optional<ca::Order>> find_order(std::uint64_t id) override {
    return inner_.find_order(id);
  }
  Result<std::vector<ca::Order>> list_orders(const ca::OrderQuery& query) override {
    return inner_.list_orders(query);
  }
  Result<std::vector<ca::Order>> list_unfinished_orders() override {
    return inner_.list_unfinished_orders();
  }

 private:
  ca::OrderLog& inner_;
  CardJob& job_;
};

}  // namespace

CardJob::CardJob(std::uint64_t id, CardJobRequest request, CardJobSecrets secrets,
                 std::string actor, std::chrono::system_clock::time_point created)
    : id_(id),
      request_(std::move(request)),
      actor_(std::move(actor)),
      created_(created),
      pin_(std::move(secrets.pin)),
      management_key_(std::move(secrets.management_key)) {}

CardJob::~CardJob() {
  if (thread_.joinable()) thread_.join();
}

void CardJob::start(CardService& service) {
  thread_ = std::thread([this, &service] { run(service); });
}

CardJobState CardJob::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

bool CardJob::cancelled() const {
  std::lock_guard lock(mutex_);
  return cancel_requested_;
}

void CardJob::set_state(CardJobState state) {
  std::lock_guard lock(mutex_);
  if (!is_final(state_)) state_ = state;
}

void CardJob::wipe_secrets() {
  std::lock_guard lock(mutex_);
  pin_.reset();  // SecureBuffer wipes its memory
  management_key_.reset();
}

bool CardJob::cancel(const std::string& by) {
  std::lock_guard lock(mutex_);
  if (is_final(state_) || cancel_requested_) return !is_final(state_);
  cancel_requested_ = true;
  cancelled_by_ = by;
  if (active_ != nullptr) active_->cancel();
  return true;
}

void CardJob::order_created(std::uint64_t order_id) {
  std::lock_guard lock(mutex_);
  order_id_ = order_id;
}

void CardJob::key_generated() {
  std::lock_guard lock(mutex_);
  if (!is_final(state_)) state_ = CardJobState::kIssuing;
}

void CardJob::on_progress(const token::Progress& progress) {
  std::lock_guard lock(mutex_);
  if (progress.step == "key-generation" && state_ != CardJobState::kIssuing) {
    state_ = CardJobState::kGenerating;
  } else if (progress.step == "writing") {
    state_ = CardJobState::kWriting;
  } else if (progress.step == "order" && request_.kind == CardJobKind::kRenew) {
    state_ = CardJobState::kIssuing;  // the same key: nothing is generated
  }
  // A key generation's per-second lines replace each other: the job shows the latest.
  if (!progress_.empty() && progress.step == "key-generation" &&
      progress_.back()["step"] == "key-generation") {
    progress_.back()["message"] = progress.message;
    progress_.back()["time"] = format_time(std::chrono::system_clock::now());
    return;
  }
  if (progress_.size() >= kMaxProgressLines) progress_.erase(progress_.begin());
  progress_.push_back({{"step", progress.step},
                       {"message", progress.message},
                       {"time", format_time(std::chrono::system_clock::now())}});
}

Result<void> CardJob::wait_for_card(CardService& service) {
  const auto deadline = std::chrono::steady_clock::now() + service.settings().card_wait;
  bool announced = false;
  for (;;) {
    if (cancelled()) return Error(ErrorCode::kUnavailable, "cancelled while waiting for a card");
    auto reader = token::select_card_reader(request_.reader);
    if (reader) {
      std::lock_guard lock(mutex_);
      reader_ = reader->name;
      return base::ok();
    }
    if (reader.error().code() != ErrorCode::kNotFound) return std::move(reader).error();
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::move(reader).error().with_context(
          "no card was ready within " + std::to_string(service.settings().card_wait.count()) +
          " s");
    }
    if (!announced) {
      announced = true;
      on_progress({"card", "waiting for a card: " + reader.error().message()});
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

void CardJob::run(CardService& service) {
  execute(service);
  audit_end(service);
  if (request_.kind == CardJobKind::kRekey && request_.revoke_previous &&
      state() == CardJobState::kDone) {
    std::string ca_name;
    {
      std::lock_guard lock(mutex_);
      ca_name = outcome_["certificate"].value("ca", "");
    }
    service.after_revocation(ca_name);
  }
}

// The job's end in the audit log when no order recorded it (no card, a refused PIN, a
// cancellation before the order); the order and certificate events are the service's.
void CardJob::audit_end(CardService& service) {
  const auto view = snapshot();
  if (view["state"] == "done") return;
  auto audit = service.context().audit();
  if (!audit) return;
  json detail = {{"kind", view["kind"]},
                 {"reader", view["reader"]},
                 {"order_id", view["order_id"]},
                 {"error", view["error"]}};
  auto appended = (*audit)->append_audit(
      ca::make_audit_event(service.context().clock().now(), actor_,
                           view["state"] == "cancelled" ? "card.job_cancelled" : "card.job_failed",
                           "card-job:" + std::to_string(id_), detail.dump()));
  (void)appended;  // the job's own view keeps the outcome either way
}

void CardJob::execute(CardService& service) {
  auto waited = wait_for_card(service);
  if (!waited) {
    finish(std::move(waited).error(), nullptr);
    return;
  }
  set_state(CardJobState::kOpening);
  auto& context = service.context();
  auto store = context.store();
  auto authority = context.authority();
  if (!store || !authority) {
    finish(Error(ErrorCode::kInternal, "the store or the CA is not open"), nullptr);
    return;
  }
  ObservedOrderLog orders(**store, *this);
  token::EnrollmentEnvironment environment{
      **authority,     ca::RecordStores{**store, **store, **store, **store, orders, **store},
      context.clock(), context.rng(),
      actor_,          context.worker()};
  token::CardSelection selection;
  {
    std::lock_guard lock(mutex_);
    selection.reader = reader_;
  }
  selection.key_slot = request_.key_slot;
  selection.key_generation_timeout = service.settings().key_generation_timeout;
  hsm::PinSource pins = [this](const hsm::TokenInfo&) -> Result<base::SecureBuffer> {
    std::lock_guard lock(mutex_);
    if (!pin_) return Error(ErrorCode::kUnavailable, "the job was cancelled");
    return base::SecureBuffer::copy_of(pin_->view());
  };
  bool has_management_key = false;
  {
    std::lock_guard lock(mutex_);
    has_management_key = management_key_.has_value();
  }
  if (has_management_key) {
    // Left unset without one: a card type that needs it then refuses with a clear error.
    selection.management_key = [this](const hsm::TokenInfo&) -> Result<base::SecureBuffer> {
      std::lock_guard lock(mutex_);
      if (!management_key_) return Error(ErrorCode::kUnavailable, "the job was cancelled");
      return base::SecureBuffer::copy_of(management_key_->view());
    };
  }
  auto opened = token::CardEnrollment::open(std::move(environment), service.map(),
                                            service.modules(), selection, pins,
                                            [this](const token::Progress& p) { on_progress(p); });
  if (!opened) {
    finish(std::move(opened).error(), nullptr);
    return;
  }
  auto& card = **opened;
  {
    std::lock_guard lock(mutex_);
    card_ = card_token_json(card.card());
    if (cancel_requested_) card.cancel();
    active_ = &card;
  }
  Result<token::CardOutcome> outcome = Error(ErrorCode::kInternal, "no operation ran");
  switch (request_.kind) {
    case CardJobKind::kEnroll:
      outcome = card.enroll(request_.enroll);
      break;
    case CardJobKind::kRenew:
      outcome = card.renew(request_.certificate_id, request_.validity_days);
      break;
    case CardJobKind::kRekey:
      outcome = card.rekey(request_.certificate_id, request_.algorithm, request_.revoke_previous);
      break;
    case CardJobKind::kResubmit:
      outcome = card.resubmit(request_.resubmit_order);
      break;
  }
  {
    std::lock_guard lock(mutex_);
    active_ = nullptr;
  }
  finish(std::move(outcome), &card);
}

void CardJob::finish(Result<token::CardOutcome> outcome, const token::CardEnrollment* card) {
  wipe_secrets();
  const auto now = std::chrono::system_clock::now();
  json pin_state = nullptr;
  if (!outcome && card != nullptr &&
      (outcome.error().code() == ErrorCode::kPinIncorrect ||
       outcome.error().code() == ErrorCode::kPinLocked)) {
    auto info = card->card().module->token_info(card->card().token.slot_id);
    if (info) pin_state = pin_state_json(*info);
  }
  json certificate = nullptr;
  std::string pem;
  if (outcome) {
    const auto& record = outcome->result.certificate;
    certificate = certificate_json(record, now);
    if (auto parsed = pki::Certificate::from_der(record.der)) pem = parsed->pem();
  }
  std::lock_guard lock(mutex_);
  finished_ = now;
  if (outcome) {
    state_ = CardJobState::kDone;
    order_id_ = outcome->result.order.id;
    outcome_ = {{"certificate", certificate},
                {"pem", pem},
                {"key_uri", outcome->key_uri},
                {"objects_written", outcome->written},
                {"objects_removed", outcome->removed},
                {"warnings", outcome->warnings},
                {"order_warnings", outcome->result.order.warnings}};
    return;
  }
  const auto& error = outcome.error();
  state_ = cancel_requested_ ? CardJobState::kCancelled : CardJobState::kFailed;
  error_ = {{"code", cancel_requested_ ? std::string("cancelled")
                                       : std::string(error_code_name(error.code()))},
            {"message", cancel_requested_ ? "cancelled by " + cancelled_by_ + ": " + error.message()
                                          : error.message()}};
  if (!pin_state.is_null()) error_["token"] = pin_state;
}

json CardJob::snapshot() const {
  std::lock_guard lock(mutex_);
  json j = {{"id", id_},
            {"kind", std::string(to_string(request_.kind))},
            {"state", std::string(to_string(state_))},
            {"final", is_final(state_)},
            {"requested_by", actor_},
            {"created", format_time(created_)},
            {"finished", is_final(state_) ? json(format_time(finished_)) : json(nullptr)},
            {"reader", reader_.empty() ? request_.reader : reader_},
            {"card", card_},
            {"order_id", order_id_ ? json(*order_id_) : json(nullptr)},
            {"progress", progress_},
            {"result", outcome_},
            {"error", error_}};
  if (request_.kind == CardJobKind::kEnroll) {
    j["subject"] = request_.enroll.subject;
    j["profile"] = request_.enroll.profile.profile;
  } else if (request_.kind == CardJobKind::kResubmit) {
    j["resubmit_order"] = request_.resubmit_order;
  } else {
    j["certificate_id"] = request_.certificate_id;
  }
  return j;
}

}  // namespace signet::appliance
