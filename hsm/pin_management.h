// The user PIN's life cycle on a token (a smart card, usually): change it with the old PIN
// (C_SetPIN in a session that is not logged in changes the user PIN, PKCS#11 v2.40 §5.6), and
// unblock it with the security officer PIN, which a card calls its PUK (C_Login as CKU_SO, then
// C_InitPIN, then C_Logout). Both refuse, before any attempt, a PIN the token reports locked
// (CKF_USER_PIN_LOCKED for a change; CKF_SO_PIN_LOCKED for an unblock), with what to do next.
//
// PINs arrive in SecureBuffers and go only to the token; messages never carry them.
// Stateless. C_Logout ends every login of this process on the token, so do not run these while
// the same process signs with the token.
#pragma once

#include <memory>

#include "base/result.h"
#include "base/secure_buffer.h"
#include "hsm/module.h"

namespace signet::hsm {

// kPinIncorrect for a wrong old PIN, kPinLocked for a locked one, kInvalidArgument for a new
// PIN the token refuses (length, characters).
base::Result<void> change_user_pin(const std::shared_ptr<Pkcs11Module>& module,
                                   const TokenInfo& token, const base::SecureBuffer& old_pin,
                                   const base::SecureBuffer& new_pin);

// Sets a new user PIN after a security officer login; the PIN's try counter starts afresh.
base::Result<void> unblock_user_pin(const std::shared_ptr<Pkcs11Module>& module,
                                    const TokenInfo& token, const base::SecureBuffer& so_pin,
                                    const base::SecureBuffer& new_pin);

}  // namespace signet::hsm
