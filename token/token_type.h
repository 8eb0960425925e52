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
//                ykcs11's labels; the management key is given as the SO PIN.
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

// Who authorises key generation on the card.
enum class KeyGenerationAuth {
  kUserPin,        // the holder's PIN (generic tokens)
  kModuleSetting,  // the module's own configuration (OpenSC PIV: PIV_EXT_AUTH_KEY)
  kSoPin,          // the management key given as the SO PIN (ykcs11)
};
std::string_view to_string(KeyGenerationAuth auth);  // "user-pin", "module-setting", "so-pin"

struct TokenType {
  std::string name = "generic";
  std::vector<KeySlot> key_slots;  // empty: free ids
  bool chain_allowed = true;       // whether CA certificates go onto the card too
  KeyGenerationAuth key_generation = KeyGenerationAuth::kUserPin;

  bool fixed_slots() const { return !key_slots.empty(); }
  // The slot named `name` ("" = the first, PIV Authentication); kInvalidArgument listing the
  // slots otherwise, or when the type has no fixed slots.
  base::Result<KeySlot> slot(std::string_view name) const;
};

// "generic", "piv", "ykcs11"; kInvalidArgument naming the known types otherwise.
base::Result<TokenType> token_type(std::string_view name);

}  // namespace signet::token
