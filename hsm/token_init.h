// Initialising a software token (`signet token init --label L`): C_InitToken on the first
// uninitialised slot, then a security-officer login that sets the user PIN (C_InitPIN) and
// logs out again. For SoftHSM and other tokens that keep a free slot; a real HSM partition
// is initialised with its vendor's tools.
//
// Thread-safety: safe to call while other threads use other tokens of the module; do not run
// two initialisations at once (both would pick the same free slot).
#pragma once

#include <string_view>

#include "base/result.h"
#include "base/secure_buffer.h"
#include "hsm/module.h"

namespace signet::hsm {

// Returns the new token's info, found by label after enumerating again (SoftHSM moves an
// initialised token to a new slot id). Refuses (kAlreadyExists) a label that an initialised
// token already has, a label over 32 bytes and empty PINs (kInvalidArgument); kNotFound when
// there is no uninitialised slot.
base::Result<TokenInfo> init_token(Pkcs11Module& module, std::string_view label,
                                   const base::SecureBuffer& so_pin,
                                   const base::SecureBuffer& user_pin);

}  // namespace signet::hsm
