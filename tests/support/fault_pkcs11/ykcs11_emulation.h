// The fault module's ykcs11 mode (control directive `ykcs11 MANAGEMENT_KEY USER_PIN`): the
// login model of Yubico's ykcs11 (yubico-piv-tool, ykcs11/ykcs11.c) over a real module that
// has no PIV management key (SoftHSM), so that a test fails when a caller logs in the wrong
// way for a YubiKey:
//   - C_Login(CKU_SO, key): CKR_USER_ALREADY_LOGGED_IN when SO already, and
//     CKR_USER_ANOTHER_ALREADY_LOGGED_IN when the user is logged in (as ykcs11); a key other
//     than MANAGEMENT_KEY is CKR_PIN_INCORRECT (the card refuses the authentication); else the
//     real module is logged in as its user with USER_PIN (what SoftHSM needs to create private
//     objects), and the PIN counts as NOT verified: the card would not sign.
//   - C_Login(CKU_USER, pin): CKR_USER_ANOTHER_ALREADY_LOGGED_IN when SO is logged in; else
//     the real module checks the PIN; success verifies the PIN.
//   - C_GenerateKeyPair, C_CreateObject, C_DestroyObject without the SO login:
//     CKR_USER_TYPE_INVALID (ykcs11: "Authentication as SO required"). C_GenerateKeyPair
//     first destroys the key pair with the template's CKA_ID (a PIV slot holds one key).
//   - C_SignInit without any login: CKR_USER_NOT_LOGGED_IN (as ykcs11); C_Sign and
//     C_SignFinal without a verified PIN: CKR_USER_NOT_LOGGED_IN (the card's "security status
//     not satisfied", which the emulation reports with that code).
//   - C_Logout, and closing the last session (PKCS#11 v2.40 §5.6), end either login.
// State is process-wide (one emulated card), guarded by a mutex.
#pragma once

#include <p11-kit/pkcs11.h>

#include "tests/support/fault_pkcs11/fault_control.h"

namespace signet::test::fault::ykcs11 {

CK_RV login(CK_FUNCTION_LIST& real, const Ykcs11Settings& settings, CK_SESSION_HANDLE session,
            CK_USER_TYPE user, CK_UTF8CHAR* pin, CK_ULONG pin_len);
CK_RV logout(CK_FUNCTION_LIST& real, CK_SESSION_HANDLE session);
CK_RV generate_key_pair(CK_FUNCTION_LIST& real, CK_SESSION_HANDLE session, CK_MECHANISM* mechanism,
                        CK_ATTRIBUTE* public_template, CK_ULONG public_count,
                        CK_ATTRIBUTE* private_template, CK_ULONG private_count,
                        CK_OBJECT_HANDLE* public_key, CK_OBJECT_HANDLE* private_key);
// CKR_OK, or what ykcs11 returns for the call in the current login state.
CK_RV check_object_change();
CK_RV check_sign_init();
CK_RV check_sign();

void session_opened();
void session_closed();
void all_sessions_closed();

}  // namespace signet::test::fault::ykcs11
