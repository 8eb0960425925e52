// Token: one initialised token of one module as the provider and its signers use it: its
// identity (serial, label), a pool of sessions, and the login state.
//
// Sessions are opened on demand up to a bound and reused; a Lease hands one session to one
// caller and gives it back when destroyed. A session that failed because it is gone
// (CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED, CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_PRESENT)
// or that was left mid-operation is closed instead of returned, and the token counts a new
// generation: object handles cached before it may be stale and the login is gone.
//
// Login happens once per token (PKCS#11 logins belong to the application, not the session),
// with a PIN from the PinSource. CKR_USER_ALREADY_LOGGED_IN is success. We never call C_Logout
// per operation: it would log out every session of the process.
//
// Administration (key generation, writing and deleting objects) runs under the user login,
// unless an administrator PIN source is set: then it runs under a security officer login with
// that secret (ykcs11 takes a PIV card's management key as the SO PIN and refuses
// C_GenerateKeyPair, C_CreateObject and C_DestroyObject otherwise). As a module refuses an SO
// login beside a user login (CKR_USER_ANOTHER_ALREADY_LOGGED_IN), run_administration ends the
// user login first and logs the SO out afterwards; the next run() logs the user in again.
//
// The slot id is found again by serial when the slot disappears (SoftHSM renumbers slots,
// cards move between readers).
//
// Logins, refused logins, operations that end in a token error and lost sessions are reported to
// the TokenEventObserver (when one is given), outside the pool's lock.
//
// Ownership: shared by the provider and every signer on the token; keeps the module alive.
// A Lease must not outlive its Token. Thread-safe: the pool and the login state are guarded
// by mutexes; sessions themselves are used by one lease holder at a time.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "base/result.h"
#include "hsm/internal/session.h"
#include "hsm/module.h"
#include "hsm/token_events.h"

namespace signet::hsm::internal {

class Token {
 public:
  static constexpr std::size_t kDefaultMaxSessions = 16;

  Token(std::shared_ptr<Pkcs11Module> module, TokenInfo info, PinSource pins,
        std::size_t max_sessions = kDefaultMaxSessions, TokenEventObserver observer = {});
  Token(const Token&) = delete;
  Token& operator=(const Token&) = delete;

  // The identity as first seen (label and serial do not change while we hold the token).
  const TokenInfo& info() const { return info_; }
  const std::string& label() const { return info_.label; }
  const std::string& serial() const { return info_.serial; }
  const std::shared_ptr<Pkcs11Module>& module() const { return module_; }

  // Fresh C_GetTokenInfo (free memory, PIN flags), following the token to its current slot.
  base::Result<TokenInfo> current_info();

  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();
    Session& session() { return session_; }
    Session* operator->() { return &session_; }

   private:
    friend class Token;
    Lease(Token* token, Session session) : token_(token), session_(std::move(session)) {}
    Token* token_;
    Session session_;
  };

  // A session from the pool (waits while `max_sessions` are leased).
  base::Result<Lease> lease();

  // Logs in once (no-op if the token needs no login or we are logged in).
  base::Result<void> ensure_logged_in();
  // Logs in with `pin` given by an operator (the console's PIN entry) instead of the
  // PinSource; a no-op when already logged in (the PIN is then not sent).
  base::Result<void> log_in_with(const base::SecureBuffer& pin);
  // Whether this process is logged in to the token (or the token needs no login).
  bool logged_in() const {
    return !info_.login_required || logged_in_.load(std::memory_order_acquire);
  }
  // The security officer secret for administration (see the header comment); set it before
  // the token is used by other threads.
  void set_administrator_pins(PinSource so_pins);
  bool has_administrator() const { return has_administrator_.load(std::memory_order_acquire); }

  // Runs op(Session&) -> Result<T> as administration: under the SO login when an
  // administrator PIN source is set (once, no retry), else as run(op).
  template <typename Op>
  auto run_administration(Op&& op) -> decltype(op(std::declval<Session&>())) {
    if (!has_administrator()) return run(std::forward<Op>(op));
    std::lock_guard login_lock(login_mutex_);
    SIGNET_ASSIGN_OR_RETURN(auto leased, log_in_administrator_locked());
    auto result = op(leased.session());
    log_out_locked(leased.session());
    return result;
  }

  // Bumped whenever sessions were found dead; handles cached under an older one may be stale.
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  // Runs op(Session&) -> Result<T> on a leased, logged-in session. After
  // CKR_USER_NOT_LOGGED_IN it logs in again and retries once; after a dead session it retries
  // once on a fresh one. `op` must therefore be safe to run twice when its first run failed.
  template <typename Op>
  auto run(Op&& op) -> decltype(op(std::declval<Session&>())) {
    for (int attempt = 0;; ++attempt) {
      SIGNET_TRY(ensure_logged_in());
      SIGNET_ASSIGN_OR_RETURN(auto leased, lease());
      auto result = op(leased.session());
      if (result) return result;
      const CK_RV rv = leased.session().last_failure();
      if (attempt > 0 || (rv != CKR_USER_NOT_LOGGED_IN && !is_session_gone(rv))) {
        report_failure(result.error().code(), rv, leased.session().last_failed_function());
        return result;
      }
      if (rv == CKR_USER_NOT_LOGGED_IN) {
        logged_in_.store(false, std::memory_order_release);
        continue;
      }
    }
  }

  ~Token();

 private:
  void give_back(Session session);
  // Reports a failed operation to the observer when it is a token error (kTokenError, a PIN
  // error, a token gone) that a C_ function returned.
  void report_failure(base::ErrorCode code, CK_RV rv, const char* function) const;
  void report(TokenEvent::Kind kind, CK_RV rv, std::string_view function) const;
  void session_died();
  base::Result<CK_SLOT_ID> find_slot_again();
  // C_Login with `pin` (nullptr: the PinSource's); login_mutex_ held by the caller.
  base::Result<void> log_in_locked(const base::SecureBuffer* pin);
  CK_SLOT_ID slot() const;
  // Ends any login, then C_Login as CKU_SO with the administrator's secret; login_mutex_ held.
  base::Result<Lease> log_in_administrator_locked();
  // C_Logout (its result ignored: there may be no login to end); login_mutex_ held.
  void log_out_locked(Session& session);

  const std::shared_ptr<Pkcs11Module> module_;
  const TokenInfo info_;
  const PinSource pins_;
  const std::size_t max_sessions_;
  const TokenEventObserver observer_;

  mutable std::mutex mutex_;  // guards slot_, idle_, open_count_
  std::condition_variable available_;
  CK_SLOT_ID slot_;
  std::vector<Session> idle_;
  std::size_t open_count_ = 0;  // idle + leased

  std::mutex login_mutex_;  // one login at a time
  std::atomic<bool> logged_in_{false};
  PinSource administrator_pins_;  // guarded by login_mutex_
  std::atomic<bool> has_administrator_{false};
  std::atomic<std::uint64_t> generation_{0};
};

}  // namespace signet::hsm::internal
