// Pkcs11Module: one loaded PKCS#11 library (dlopen + C_GetFunctionList + C_Initialize), and
// the tokens it currently shows.
//
// Ownership: load() returns a shared_ptr; every Token, session and Signer made from the module
// holds it, so C_Finalize and dlclose run (in the destructor) only after the last of them is
// gone. The library is opened with RTLD_NODELETE: it stays mapped after dlclose, because
// modules leave atexit handlers and thread-local destructors behind. A PKCS#11 library has one
// state per process: load each module path once and share the pointer. If the library was already
// initialised by someone else in this process (CKR_CRYPTOKI_ALREADY_INITIALIZED), the module uses
// it and leaves finalisation to its owner.
//
// Slot ids are not stable (SoftHSM renumbers slots after C_InitToken, smart cards come and
// go), so tokens are always found by enumerating again: by label or serial, never by a slot
// id remembered from earlier.
//
// Thread-safety: initialised with CKF_OS_LOCKING_OK; every method may be called from many
// threads at once.
#pragma once

#include <p11-kit/pkcs11.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/secure_buffer.h"

namespace signet::hsm {

// What C_GetTokenInfo says about one token, with the blank padding trimmed.
struct TokenInfo {
  CK_SLOT_ID slot_id = 0;
  std::string label;
  std::string serial;
  std::string manufacturer;
  std::string model;
  std::string module_path;  // the library that shows this token
  bool initialized = false;
  bool user_pin_initialized = false;
  bool login_required = false;
  bool protected_authentication_path = false;  // PIN pad: C_Login takes no PIN
  bool write_protected = false;
  bool user_pin_count_low = false;
  bool user_pin_final_try = false;
  bool user_pin_locked = false;
  bool so_pin_locked = false;
  // Bytes free for new objects, where the token reports it (absent: unknown).
  std::optional<unsigned long> free_public_memory;
  std::optional<unsigned long> free_private_memory;
  std::optional<unsigned long> total_public_memory;
  std::optional<unsigned long> total_private_memory;

  // "token 'signet' (serial 1a2b...)", for messages.
  std::string describe() const;
};

// What C_GetSlotInfo says about one slot, with the blank padding trimmed. For smart-card
// modules (OpenSC, ykcs11) the description is the PC/SC reader's name, cut to 64 bytes.
struct SlotInfo {
  CK_SLOT_ID slot_id = 0;
  std::string description;
  std::string manufacturer;
  bool token_present = false;
  bool removable = false;  // CKF_REMOVABLE_DEVICE: a reader whose token comes and goes
  bool hardware = false;   // CKF_HW_SLOT
};

// Where the user PIN for a token comes from (a PIN file, a prompt, a test). Called when a token
// needs a login, at most once per login; the PIN is used for C_Login and then wiped. It may be
// called from any thread that first uses the token, so it must be thread-safe.
using PinSource = std::function<base::Result<base::SecureBuffer>(const TokenInfo&)>;

class Pkcs11Module : public std::enable_shared_from_this<Pkcs11Module> {
 public:
  // Loads and initialises the library. A missing or broken file gives kNotFound naming the
  // path and dlerror(); a library without C_GetFunctionList is refused the same way.
  static base::Result<std::shared_ptr<Pkcs11Module>> load(const std::string& path);

  ~Pkcs11Module();
  Pkcs11Module(const Pkcs11Module&) = delete;
  Pkcs11Module& operator=(const Pkcs11Module&) = delete;

  const std::string& path() const { return path_; }
  // The library's own function list, for hsm/ internals; valid for the module's lifetime.
  CK_FUNCTION_LIST* functions() const { return functions_; }

  // Tokens present now, in slot order. Uninitialised tokens (a SoftHSM free slot, a blank
  // card) are left out unless asked for.
  base::Result<std::vector<TokenInfo>> tokens(bool include_uninitialized = false) const;

  // The one initialised token whose serial, or else label, is `label_or_serial`. kNotFound
  // when there is none; kInvalidArgument when several tokens share the label (name the
  // serial instead).
  base::Result<TokenInfo> find_token(std::string_view label_or_serial) const;

  // Every slot the module shows now (C_GetSlotList with tokenPresent false), in slot order,
  // with C_GetSlotInfo; a slot that vanished between the two calls is left out.
  base::Result<std::vector<SlotInfo>> slots() const;

  // Fresh C_GetTokenInfo for one slot.
  base::Result<TokenInfo> token_info(CK_SLOT_ID slot) const;

 private:
  Pkcs11Module(std::string path, void* library, CK_FUNCTION_LIST* functions);

  std::string path_;
  void* library_ = nullptr;  // dlopen handle
  CK_FUNCTION_LIST* functions_ = nullptr;
  bool owns_initialization_ = false;
};

// Finds one token among several modules' tokens (same rules as Pkcs11Module::find_token).
// An empty `label_or_serial` means "the only initialised token" and is an error when there
// are none or several.
base::Result<TokenInfo> select_token(const std::vector<TokenInfo>& tokens,
                                     std::string_view label_or_serial);

}  // namespace signet::hsm
