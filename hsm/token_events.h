// TokenEvent: what the PKCS#11 layer tells whoever watches the tokens (signetd writes them to
// the audit log, rate-limited: appliance/core/token_error_audit.h): a login, a refused login, an
// operation the token failed, a session the token lost. Reported by the token's session pool
// (hsm/internal/token.h) after the call, never while it holds the pool's lock. Plain values:
// no PIN or key material is ever part of one.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace signet::hsm {

struct TokenEvent {
  enum class Kind {
    kLogin,        // C_Login succeeded (the process logged in to the token)
    kLoginFailed,  // C_Login refused (wrong or locked PIN, a device error)
    kError,        // an operation failed with a token error (kTokenError, a PIN error, gone)
    kSessionLost,  // a session died underneath (token removed, device reset)
  };
  Kind kind = Kind::kError;
  std::string operation;  // "sign", "generate_key", "login", "open_session", "wrap"...
  std::string function;   // the C_ function that failed ("C_Sign"); "" for a login
  unsigned long rv = 0;   // the CK_RV (0: CKR_OK)
  std::string rv_name;    // "CKR_DEVICE_ERROR"
  std::string token_label;
  std::string token_serial;
};

// "login", "login_failed", "error", "session_lost".
inline std::string_view to_string(TokenEvent::Kind kind) {
  switch (kind) {
    case TokenEvent::Kind::kLogin:
      return "login";
    case TokenEvent::Kind::kLoginFailed:
      return "login_failed";
    case TokenEvent::Kind::kError:
      return "error";
    case TokenEvent::Kind::kSessionLost:
      return "session_lost";
  }
  return "error";
}

// Called on the thread that met the event; must be thread-safe. It may block briefly (an audit
// write) but must not call back into the token.
using TokenEventObserver = std::function<void(const TokenEvent&)>;

}  // namespace signet::hsm
