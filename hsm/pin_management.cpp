#include "hsm/pin_management.h"

#include "hsm/internal/pkcs11_call.h"
#include "hsm/internal/session.h"

namespace signet::hsm {
namespace {

using base::Error;
using base::ErrorCode;
using internal::Purpose;
using internal::Session;

CK_UTF8CHAR* pin_data(const base::SecureBuffer& pin) {
  return const_cast<CK_UTF8CHAR*>(pin.view().data());
}

base::Result<void> check_new_pin(const base::SecureBuffer& pin) {
  if (pin.empty()) return Error(ErrorCode::kInvalidArgument, "the new PIN is empty");
  return base::ok();
}

}  // namespace

base::Result<void> change_user_pin(const std::shared_ptr<Pkcs11Module>& module,
                                   const TokenInfo& token, const base::SecureBuffer& old_pin,
                                   const base::SecureBuffer& new_pin) {
  SIGNET_TRY(check_new_pin(new_pin));
  SIGNET_ASSIGN_OR_RETURN(TokenInfo now, module->token_info(token.slot_id));
  if (now.user_pin_locked) {
    return Error(ErrorCode::kPinLocked, "the PIN for " + now.describe() +
                                            " is locked after too many wrong attempts; " +
                                            internal::unblock_advice(false));
  }
  SIGNET_ASSIGN_OR_RETURN(auto session, Session::open(module, token.slot_id, token.label));
  auto changed = session.note(SIGNET_P11_CALL(module->functions(), C_SetPIN, token.label,
                                              Purpose::kLogin, session.handle(), pin_data(old_pin),
                                              old_pin.size(), pin_data(new_pin), new_pin.size()));
  if (!changed.ok()) {
    return changed.error().with_context("changing the PIN of " + token.describe());
  }
  return base::ok();
}

base::Result<void> unblock_user_pin(const std::shared_ptr<Pkcs11Module>& module,
                                    const TokenInfo& token, const base::SecureBuffer& so_pin,
                                    const base::SecureBuffer& new_pin) {
  SIGNET_TRY(check_new_pin(new_pin));
  SIGNET_ASSIGN_OR_RETURN(TokenInfo now, module->token_info(token.slot_id));
  const std::string what = "unblocking the PIN of " + now.describe();
  if (now.so_pin_locked) {
    return Error(ErrorCode::kPinLocked, "the security officer PIN (PUK) of " + now.describe() +
                                            " is locked; " + internal::unblock_advice(true));
  }
  SIGNET_ASSIGN_OR_RETURN(auto session, Session::open(module, token.slot_id, token.label));
  auto login =
      session.note(SIGNET_P11_CALL(module->functions(), C_Login, token.label, Purpose::kSoLogin,
                                   session.handle(), CKU_SO, pin_data(so_pin), so_pin.size()));
  if (!login.ok() && login.rv() != CKR_USER_ALREADY_LOGGED_IN) {
    return login.error().with_context(what);
  }
  auto init =
      session.note(SIGNET_P11_CALL(module->functions(), C_InitPIN, token.label, Purpose::kLogin,
                                   session.handle(), pin_data(new_pin), new_pin.size()));
  // Logged out whatever happened: an SO login must not outlive the operation.
  (void)SIGNET_P11_CALL(module->functions(), C_Logout, token.label, Purpose::kGeneral,
                        session.handle());
  if (!init.ok()) return init.error().with_context(what);
  return base::ok();
}

}  // namespace signet::hsm
