// FaultControl: what the fault-injecting PKCS#11 module (fault_pkcs11.cpp) should do, parsed
// from the small text file that SIGNET_FAULT_CONTROL names. The module reads the file again on
// every call, so a test changes the faults mid-run by rewriting the file (write a new file and
// rename it over the old one: the module never sees half a file).
//
// The file has one directive per line; '#' starts a comment; an absent or empty file means
// "no faults, forward everything":
//
//   pin count_low | final_try | locked      C_GetTokenInfo reports CKF_USER_PIN_COUNT_LOW /
//                                            CKF_USER_PIN_FINAL_TRY / CKF_USER_PIN_LOCKED
//                                            (several lines add up); with `locked`, C_Login as
//                                            the user returns CKR_PIN_LOCKED without asking
//                                            the real module.
//   so_pin locked                            CKF_SO_PIN_LOCKED, and C_Login as SO returns
//                                            CKR_PIN_LOCKED.
//   fail C_Name CKR_NAME [after N]           C_Name returns CKR_NAME (CKR_DEVICE_REMOVED,
//                                            CKR_TOKEN_NOT_PRESENT, CKR_DEVICE_ERROR, ... or
//                                            0x hex) instead of calling the real module; with
//                                            `after N`, the first N calls made while this very
//                                            line is in the file pass through. A failed
//                                            C_Sign / C_SignFinal still ends the real
//                                            module's signing operation, as the standard
//                                            says a failed call does.
//   delay C_Name MS                          C_Name sleeps MS milliseconds, then proceeds
//                                            (to the real call, or to a `fail` of the same
//                                            function).
//   slot_description TEXT                    C_GetSlotInfo reports TEXT (e.g. a PC/SC reader
//                                            name) as every slot's description.
//   ykcs11 MANAGEMENT_KEY USER_PIN           Yubico ykcs11's login model (ykcs11_emulation.h):
//                                            C_GenerateKeyPair, C_CreateObject and
//                                            C_DestroyObject need an SO login with
//                                            MANAGEMENT_KEY (hex, compared case-blind), else
//                                            CKR_USER_TYPE_INVALID; an SO login beside a user
//                                            login (or the reverse) is
//                                            CKR_USER_ANOTHER_ALREADY_LOGGED_IN; signing needs
//                                            the user PIN; generating into a CKA_ID replaces
//                                            the key pair there. Underneath, the SO login
//                                            logs in to the real module as its user with
//                                            USER_PIN (SoftHSM has no PIV management key).
//
// Lines it does not understand are reported on stderr and ignored.
// Value type; parsing is a pure function.
#pragma once

#include <p11-kit/pkcs11.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace signet::test::fault {

struct FailRule {
  std::string function;  // "C_Sign"
  CK_RV rv = CKR_OK;
  unsigned long pass_first = 0;  // `after N`
  std::string line;              // the directive as written: the key of its call counter
};

struct DelayRule {
  std::string function;
  unsigned long milliseconds = 0;
};

struct Ykcs11Settings {
  std::string management_key;
  std::string user_pin;  // the real module's user PIN, for the SO login underneath
};

struct FaultControl {
  CK_FLAGS token_flags = 0;  // OR-ed into C_GetTokenInfo's flags
  std::vector<FailRule> failures;
  std::vector<DelayRule> delays;
  std::optional<std::string> slot_description;
  std::optional<Ykcs11Settings> ykcs11;

  bool user_pin_locked() const { return (token_flags & CKF_USER_PIN_LOCKED) != 0; }
  bool so_pin_locked() const { return (token_flags & CKF_SO_PIN_LOCKED) != 0; }
};

// Parses the control file's text; `problems` receives one message per line not understood.
FaultControl parse_control(std::string_view text, std::vector<std::string>& problems);

// "CKR_DEVICE_REMOVED" -> its value; also "0x..." hex. nullopt for unknown names.
std::optional<CK_RV> parse_rv(std::string_view name);

}  // namespace signet::test::fault
