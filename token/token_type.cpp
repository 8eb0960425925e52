#include "token/token_type.h"

#include <algorithm>

namespace signet::token {
namespace {

using base::Error;
using base::ErrorCode;

// NIST SP 800-73-4 Part 1 §3.1: the four PIV key references and what each key is for. OpenSC
// and ykcs11 both give them CKA_IDs 01..04.
struct PivSlot {
  const char* name;
  std::uint8_t id;
  const char* purpose;
  const char* opensc_key;
};
constexpr PivSlot kPivSlots[] = {{"9a", 1, "PIV Authentication", "PIV AUTH key"},
                                 {"9c", 2, "Digital Signature", "SIGN key"},
                                 {"9d", 3, "Key Management", "KEY MAN key"},
                                 {"9e", 4, "Card Authentication", "CARD AUTH key"}};

TokenType piv(bool ykcs11) {
  TokenType type;
  type.name = ykcs11 ? "ykcs11" : "piv";
  type.chain_allowed = false;
  type.key_generation = ykcs11 ? KeyGenerationAuth::kSoPin : KeyGenerationAuth::kModuleSetting;
  for (const auto& s : kPivSlots) {
    KeySlot slot;
    slot.name = s.name;
    slot.id = {s.id};
    if (ykcs11) {
      slot.key_label = std::string("Private key for ") + s.purpose;
      slot.certificate_label = std::string("X.509 Certificate for ") + s.purpose;
    } else {
      slot.key_label = s.opensc_key;
      slot.certificate_label = std::string("Certificate for ") + s.purpose;
    }
    type.key_slots.push_back(std::move(slot));
  }
  return type;
}

}  // namespace

std::string_view to_string(KeyGenerationAuth auth) {
  switch (auth) {
    case KeyGenerationAuth::kModuleSetting:
      return "module-setting";
    case KeyGenerationAuth::kSoPin:
      return "so-pin";
    case KeyGenerationAuth::kUserPin:
      break;
  }
  return "user-pin";
}

base::Result<KeySlot> TokenType::slot(std::string_view wanted) const {
  if (key_slots.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "cards of type '" + name + "' have no fixed key slots to choose from");
  }
  if (wanted.empty()) return key_slots.front();
  std::string names;
  for (const auto& s : key_slots) {
    if (s.name == wanted) return s;
    names += (names.empty() ? "" : ", ") + s.name;
  }
  return Error(ErrorCode::kInvalidArgument, "cards of type '" + name + "' have no key slot '" +
                                                std::string(wanted) + "' (slots: " + names + ")");
}

const KeySlot* TokenType::slot_with_id(base::ByteView id) const {
  for (const auto& s : key_slots) {
    if (base::ByteView(s.id).size() == id.size() && std::equal(id.begin(), id.end(), s.id.begin()))
      return &s;
  }
  return nullptr;
}

base::Result<void> check_management_key(base::ByteView key) {
  const bool hex = std::all_of(key.begin(), key.end(), [](std::uint8_t c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
  if (!hex || (key.size() != 32 && key.size() != 48 && key.size() != 64)) {
    return Error(ErrorCode::kInvalidArgument,
                 "the management key must be given as hex digits: 48 for a 3DES or AES-192 key "
                 "(the YubiKey default type), 32 for AES-128, 64 for AES-256 (got " +
                     std::to_string(key.size()) + " characters" +
                     (hex ? "" : ", not all of them hex digits") + ")");
  }
  return base::ok();
}

base::Result<TokenType> token_type(std::string_view name) {
  if (name.empty() || name == "generic") return TokenType();
  if (name == "piv") return piv(false);
  if (name == "ykcs11") return piv(true);
  return Error(ErrorCode::kInvalidArgument,
               "unknown card type '" + std::string(name) + "' (known: generic, piv, ykcs11)");
}

}  // namespace signet::token
