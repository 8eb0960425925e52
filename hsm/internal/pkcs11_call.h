// The one choke point for PKCS#11: every C_* call in hsm/ goes through call() (usually via
// SIGNET_P11_CALL), which returns a Status holding the CK_RV and where it came from. Status
// translates a failure into base::Error exactly once, in translate(): the code (kPinIncorrect,
// kNotFound, kNotSupported, kTokenError...), and a sentence naming the function, the token and
// the CKR_ code by name. Callers that must react to a specific return value (a stale handle,
// a closed session, CKR_USER_NOT_LOGGED_IN) inspect Status::rv().
//
// No secret ever reaches a message: PINs are passed to the token as arguments and never
// formatted. Stateless and thread-safe.
#pragma once

#include <p11-kit/pkcs11.h>

#include <string>
#include <string_view>
#include <utility>

#include "base/result.h"

namespace signet::hsm::internal {

// What the caller was doing; changes how some return values read (CKR_MECHANISM_INVALID
// during key generation means "this token cannot make such keys").
// C_UnwrapKey's failures that mean "these wrapped bytes do not decrypt" read as
// kVerificationFailed under kUnwrap.
enum class Purpose { kGeneral, kLogin, kSoLogin, kKeyGeneration, kTokenInit, kUnwrap };

struct CallSite {
  const char* function = "";  // "C_Sign"
  std::string_view token;     // the token's label (or the module path before there is one)
  Purpose purpose = Purpose::kGeneral;
};

// "CKR_PIN_INCORRECT"; "CKR_VENDOR_DEFINED+0x12" or "unknown CK_RV" for others.
std::string rv_name(CK_RV rv);

// What a C_ function is for, as token events name it: "sign" (C_SignInit, C_Sign...),
// "generate_key", "login", "open_session", "wrap", "unwrap", "find_key" (C_FindObjects*,
// C_GetAttributeValue); the function's own name otherwise.
std::string operation_of(std::string_view function);

// How to get past a locked PIN: for the user PIN, unblock with the SO PIN / PUK; for the SO
// PIN, re-initialise. One sentence fragment, for messages about locked PINs.
std::string unblock_advice(bool so_pin);

// The translation of one failed call into an Error (see the header comment).
base::Error translate(CK_RV rv, const CallSite& site);

// The session is gone (token removed, session closed underneath): discard it, never reuse.
bool is_session_gone(CK_RV rv);
// An object handle that was valid is not any more (token re-inserted, object re-created).
bool is_stale_handle(CK_RV rv);

// The outcome of one C_* call. Holds a view of the token label: use it before the label's
// owner goes away (in practice: immediately).
class [[nodiscard]] Status {
 public:
  Status(CK_RV rv, CallSite site) : rv_(rv), site_(site) {}
  bool ok() const { return rv_ == CKR_OK; }
  CK_RV rv() const { return rv_; }
  const char* function() const { return site_.function; }  // a string literal ("C_Sign")
  base::Error error() const { return translate(rv_, site_); }
  // ok() as Result<void>, for SIGNET_TRY.
  base::Result<void> result() const {
    if (ok()) return base::ok();
    return error();
  }

 private:
  CK_RV rv_;
  CallSite site_;
};

// Calls `function(args...)`; a null entry in the function list reads as
// CKR_FUNCTION_NOT_SUPPORTED.
template <typename Function, typename... Args>
Status call(const CallSite& site, Function function, Args&&... args) {
  if (function == nullptr) return Status(CKR_FUNCTION_NOT_SUPPORTED, site);
  return Status(function(std::forward<Args>(args)...), site);
}

}  // namespace signet::hsm::internal

// SIGNET_P11_CALL(functions, C_Name, token_label, purpose, args...): calls functions->C_Name
// through the choke point, naming it in any error.
#define SIGNET_P11_CALL(functions, name, token_label, purpose, ...)                          \
  ::signet::hsm::internal::call(                                                             \
      ::signet::hsm::internal::CallSite{#name, (token_label), (purpose)}, (functions)->name, \
      __VA_ARGS__)
