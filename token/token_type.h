// TokenType: how a kind of card keeps keys and certificates, as settings rather than special
// cases in the enrollment flow. Named by the ATR map entry's "type" (atr_map.h):
//   "generic"    PKCS#15 cards through OpenSC, SoftHSM and other tokens with free object ids:
//                a fresh random CKA_ID per key, labels from the order, the certificate and
//                its CA chain written beside the key.
//   "piv"        PIV cards through OpenSC's opensc-pkcs11.so: four fixed key slots (9A PIV
//                Authentication, 9C Digital Signature, 9D Key Management, 9E Card
//                Authentication) with CKA_IDs 01..04 and OpenSC's labels, one certificate per
//                slot and no room for a chain. Key generation is authorised by the card's
//                management key, which OpenSC's PIV driver takes from its own setting
//                (PIV_EXT_AUTH_KEY, see docs/SMART-CARDS.md), not from the holder's PIN.
//   "ykcs11"     YubiKey PIV through Yubico's libykcs11.so: the same slots and ids with
//                ykcs11's labels; the management key is given as the SO PIN. ykcs11 refuses
//                C_GenerateKeyPair, C_CreateObject and C_DestroyObject (CKR_USER_TYPE_INVALID)
//                unless the session is logged in as SO, and an SO login beside the user's
//                (CKR_USER_ANOTHER_ALREADY_LOGGED_IN): so every change to the card runs under
//                an SO login with the management key, signing under the user's PIN.
// On fixed-slot types, generating a key into a slot replaces the key there (a PIV card keeps
// one key per slot): a rekey may put the new key into the previous key's slot.
// Plain values; thread-safe to share.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"

namespace signet::token {

struct KeySlot {
  std::string name;  // "9a", "9c"...: what `--slot` takes
  base::Bytes id;    // CKA_ID of the key and its certificate
  std::string key_label;
  std::string certificate_label;
};

// Who authorises key generation (and, for kSoPin, every change of objects) on the card.
enum class KeyGenerationAuth {
  kUserPin,        // the holder's PIN (generic tokens)
  kModuleSetting,  // the holder's PIN, plus the module's own configuration (OpenSC PIV: the
                   // management key in the file PIV_EXT_AUTH_KEY names)
  kSoPin,          // the management key given as the SO PIN (ykcs11)
};
std::string_view to_string(KeyGenerationAuth auth);  // "user-pin", "module-setting", "so-pin"

struct TokenType {
  std::string name = "generic";
  std::vector<KeySlot> key_slots;  // empty: free ids
  bool chain_allowed = true;       // whether CA certificates go onto the card too
  KeyGenerationAuth key_generation = KeyGenerationAuth::kUserPin;

  bool fixed_slots() const { return !key_slots.empty(); }
  // Whether Signet must hold the card's management key to change the card (kSoPin).
  bool needs_management_key() const { return key_generation == KeyGenerationAuth::kSoPin; }
  // The fixed slot whose CKA_ID is `id`, if any.
  const KeySlot* slot_with_id(base::ByteView id) const;
  // The slot named `name` ("" = the first, PIV Authentication); kInvalidArgument listing the
  // slots otherwise, or when the type has no fixed slots.
  base::Result<KeySlot> slot(std::string_view name) const;
};

// A PIV management key as ykcs11 takes it for the SO PIN: hex digits only, 32, 48 or 64 of
// them (AES-128; 3DES or AES-192; AES-256). kInvalidArgument otherwise (the key is never
// quoted in the message).
base::Result<void> check_management_key(base::ByteView key);

// "generic", "piv", "ykcs11"; kInvalidArgument naming the known types otherwise.
base::Result<TokenType> token_type(std::string_view name);

}  // namespace signet::token
