#include "hsm/internal/token.h"

#include <optional>
#include <utility>

namespace signet::hsm::internal {

Token::Token(std::shared_ptr<Pkcs11Module> module, TokenInfo info, PinSource pins,
             std::size_t max_sessions, TokenEventObserver observer)
    : module_(std::move(module)),
      info_(std::move(info)),
      pins_(std::move(pins)),
      max_sessions_(max_sessions == 0 ? 1 : max_sessions),
      observer_(std::move(observer)),
      slot_(info_.slot_id) {}

void Token::report(TokenEvent::Kind kind, CK_RV rv, std::string_view function) const {
  if (!observer_) return;
  TokenEvent event;
  event.kind = kind;
  event.function = std::string(function);
  event.operation = kind == TokenEvent::Kind::kLogin || kind == TokenEvent::Kind::kLoginFailed
                        ? std::string("login")
                        : operation_of(function);
  event.rv = rv;
  event.rv_name = rv_name(rv);
  event.token_label = info_.label;
  event.token_serial = info_.serial;
  observer_(event);
}

void Token::report_failure(base::ErrorCode code, CK_RV rv, const char* function) const {
  if (rv == CKR_OK) return;  // not the token's answer (a key not found, a bad input)
  const bool token_error = code == base::ErrorCode::kTokenError ||
                           code == base::ErrorCode::kPinIncorrect ||
                           code == base::ErrorCode::kPinLocked || is_session_gone(rv);
  if (token_error) report(TokenEvent::Kind::kError, rv, function);
}

Token::~Token() {
  std::lock_guard lock(mutex_);
  idle_.clear();  // closes them
}

CK_SLOT_ID Token::slot() const {
  std::lock_guard lock(mutex_);
  return slot_;
}

base::Result<CK_SLOT_ID> Token::find_slot_again() {
  SIGNET_ASSIGN_OR_RETURN(auto tokens, module_->tokens());
  for (const auto& token : tokens) {
    if (token.serial == info_.serial) {
      std::lock_guard lock(mutex_);
      slot_ = token.slot_id;
      return token.slot_id;
    }
  }
  return base::Error(base::ErrorCode::kNotFound, info_.describe() + " is not present in module '" +
                                                     module_->path() + "' any more");
}

base::Result<TokenInfo> Token::current_info() {
  auto info = module_->token_info(slot());
  if (info && info->serial == info_.serial) return info;
  SIGNET_ASSIGN_OR_RETURN(CK_SLOT_ID slot, find_slot_again());
  return module_->token_info(slot);
}

base::Result<Token::Lease> Token::lease() {
  {
    std::unique_lock lock(mutex_);
    available_.wait(lock, [&] { return !idle_.empty() || open_count_ < max_sessions_; });
    if (!idle_.empty()) {
      Session session = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(session));
    }
    ++open_count_;
  }
  // Opening is slow; do it without holding the pool.
  CK_RV failure = CKR_OK;
  auto opened = Session::open(module_, slot(), info_.label, &failure);
  if (!opened) {
    const bool slot_moved = opened.error().code() == base::ErrorCode::kNotFound;
    if (slot_moved && find_slot_again()) {
      opened = Session::open(module_, slot(), info_.label, &failure);
    }
  }
  if (!opened) {
    report_failure(opened.error().code(), failure, "C_OpenSession");
    {
      std::lock_guard lock(mutex_);
      --open_count_;
    }
    available_.notify_one();
    return std::move(opened).error().with_context("opening a session on " + info_.describe());
  }
  return Lease(this, std::move(opened).value());
}

void Token::give_back(Session session) {
  const CK_RV failure = session.last_failure();
  const std::string_view session_function = session.last_failed_function();
  const bool dead = is_session_gone(failure);
  // A session left mid-operation would refuse the next C_SignInit; close it instead.
  const bool unusable = dead || failure == CKR_OPERATION_ACTIVE ||
                        failure == CKR_BUFFER_TOO_SMALL || !session.is_open();
  std::vector<Session> to_close;
  {
    std::lock_guard lock(mutex_);
    if (!unusable) {
      session.clear_failure();
      idle_.push_back(std::move(session));
    } else {
      --open_count_;
      to_close.push_back(std::move(session));
      if (dead) {
        // The token went away: every other idle session is dead too.
        open_count_ -= idle_.size();
        for (auto& idle : idle_) to_close.push_back(std::move(idle));
        idle_.clear();
      }
    }
  }
  if (dead) {
    session_died();
    report(TokenEvent::Kind::kSessionLost, failure, session_function);
  }
  available_.notify_all();
  // to_close's destructors close the sessions outside the lock.
}

void Token::session_died() {
  generation_.fetch_add(1, std::memory_order_acq_rel);
  logged_in_.store(false, std::memory_order_release);
}

Token::Lease::Lease(Lease&& other) noexcept
    : token_(std::exchange(other.token_, nullptr)), session_(std::move(other.session_)) {}

Token::Lease::~Lease() {
  if (token_ != nullptr) token_->give_back(std::move(session_));
}

base::Result<void> Token::ensure_logged_in() {
  if (!info_.login_required || logged_in_.load(std::memory_order_acquire)) return base::ok();
  std::lock_guard login_lock(login_mutex_);
  if (logged_in_.load(std::memory_order_acquire)) return base::ok();
  return log_in_locked(nullptr);
}

base::Result<void> Token::log_in_with(const base::SecureBuffer& pin) {
  if (!info_.login_required || logged_in_.load(std::memory_order_acquire)) return base::ok();
  std::lock_guard login_lock(login_mutex_);
  if (logged_in_.load(std::memory_order_acquire)) return base::ok();
  return log_in_locked(&pin);
}

base::Result<void> Token::log_in_locked(const base::SecureBuffer* given_pin) {
  SIGNET_ASSIGN_OR_RETURN(auto leased, lease());
  Session& session = leased.session();
  std::optional<Status> login;
  if (info_.protected_authentication_path) {
    login = session.note(SIGNET_P11_CALL(session.functions(), C_Login, info_.label, Purpose::kLogin,
                                         session.handle(), CKU_USER, nullptr, 0));
  } else {
    // The PIN source sees current flags (count low, final try) so that a prompt can warn.
    auto info = current_info();
    // A locked PIN is reported before the attempt: no PIN is asked for or sent.
    if (info && info->user_pin_locked) {
      report(TokenEvent::Kind::kLoginFailed, CKR_PIN_LOCKED, "C_GetTokenInfo");
      return base::Error(base::ErrorCode::kPinLocked,
                         "the PIN for " + info->describe() +
                             " is locked after too many wrong attempts; " + unblock_advice(false) +
                             " (C_GetTokenInfo: CKF_USER_PIN_LOCKED)");
    }
    std::optional<base::SecureBuffer> sourced;
    if (given_pin == nullptr) {
      auto pin = pins_ ? pins_(info ? *info : info_)
                       : base::Result<base::SecureBuffer>(base::Error(
                             base::ErrorCode::kInvalidArgument, "no PIN source was configured"));
      if (!pin) {
        return std::move(pin).error().with_context("getting the PIN for " + info_.describe());
      }
      sourced.emplace(std::move(*pin));
    }
    const base::SecureBuffer& pin = given_pin != nullptr ? *given_pin : *sourced;
    auto* pin_bytes = const_cast<CK_UTF8CHAR*>(pin.view().data());
    login = session.note(SIGNET_P11_CALL(session.functions(), C_Login, info_.label, Purpose::kLogin,
                                         session.handle(), CKU_USER, pin_bytes, pin.size()));
  }  // a sourced PIN's SecureBuffer is wiped here
  if (login->ok() || login->rv() == CKR_USER_ALREADY_LOGGED_IN) {
    session.clear_failure();
    logged_in_.store(true, std::memory_order_release);
    report(TokenEvent::Kind::kLogin, login->rv(), "C_Login");
    return base::ok();
  }
  report(TokenEvent::Kind::kLoginFailed, login->rv(), "C_Login");
  return login->error().with_context("logging in to " + info_.describe());
}

void Token::set_administrator_pins(PinSource so_pins) {
  std::lock_guard login_lock(login_mutex_);
  administrator_pins_ = std::move(so_pins);
  has_administrator_.store(static_cast<bool>(administrator_pins_), std::memory_order_release);
}

void Token::log_out_locked(Session& session) {
  (void)SIGNET_P11_CALL(session.functions(), C_Logout, info_.label, Purpose::kSoLogin,
                        session.handle());
  logged_in_.store(false, std::memory_order_release);
}

base::Result<Token::Lease> Token::log_in_administrator_locked() {
  SIGNET_ASSIGN_OR_RETURN(auto leased, lease());
  Session& session = leased.session();
  // A module keeps one login per application: the user's must end before the SO's begins.
  log_out_locked(session);
  auto info = current_info();
  if (info && info->so_pin_locked) {
    return base::Error(base::ErrorCode::kPinLocked,
                       "the security officer PIN (management key) of " + info->describe() +
                           " is locked; " + unblock_advice(true) +
                           " (C_GetTokenInfo: CKF_SO_PIN_LOCKED)");
  }
  std::optional<Status> login;
  {
    auto secret = administrator_pins_(info ? *info : info_);
    if (!secret) {
      return std::move(secret).error().with_context("getting the security officer secret for " +
                                                    info_.describe());
    }
    auto* bytes = const_cast<CK_UTF8CHAR*>(secret->view().data());
    login =
        session.note(SIGNET_P11_CALL(session.functions(), C_Login, info_.label, Purpose::kSoLogin,
                                     session.handle(), CKU_SO, bytes, secret->size()));
  }  // the secret's SecureBuffer is wiped here
  if (login->ok() || login->rv() == CKR_USER_ALREADY_LOGGED_IN) {
    session.clear_failure();
    return leased;
  }
  return login->error().with_context("logging in to " + info_.describe() +
                                     " as security officer to administer it");
}

}  // namespace signet::hsm::internal
