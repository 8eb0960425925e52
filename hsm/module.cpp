#include "hsm/module.h"

#include <dlfcn.h>

#include "hsm/internal/pkcs11_call.h"

namespace signet::hsm {
namespace {

using base::Error;
using base::ErrorCode;
using internal::Purpose;

// PKCS#11 text fields are fixed-width, blank-padded and not NUL-terminated.
std::string trim_field(const unsigned char* field, std::size_t size) {
  std::size_t end = size;
  while (end > 0 && (field[end - 1] == ' ' || field[end - 1] == '\0')) --end;
  std::size_t begin = 0;
  while (begin < end && field[begin] == ' ') ++begin;
  return std::string(reinterpret_cast<const char*>(field) + begin, end - begin);
}

std::optional<unsigned long> reported(unsigned long value) {
  if (value == CK_UNAVAILABLE_INFORMATION || value == CK_EFFECTIVELY_INFINITE) {
    return std::nullopt;
  }
  return value;
}

TokenInfo to_token_info(CK_SLOT_ID slot, const CK_TOKEN_INFO& raw, const std::string& path) {
  TokenInfo info;
  info.slot_id = slot;
  info.label = trim_field(raw.label, sizeof(raw.label));
  info.serial = trim_field(raw.serialNumber, sizeof(raw.serialNumber));
  info.manufacturer = trim_field(raw.manufacturerID, sizeof(raw.manufacturerID));
  info.model = trim_field(raw.model, sizeof(raw.model));
  info.module_path = path;
  info.initialized = (raw.flags & CKF_TOKEN_INITIALIZED) != 0;
  info.user_pin_initialized = (raw.flags & CKF_USER_PIN_INITIALIZED) != 0;
  info.login_required = (raw.flags & CKF_LOGIN_REQUIRED) != 0;
  info.protected_authentication_path = (raw.flags & CKF_PROTECTED_AUTHENTICATION_PATH) != 0;
  info.write_protected = (raw.flags & CKF_WRITE_PROTECTED) != 0;
  info.user_pin_count_low = (raw.flags & CKF_USER_PIN_COUNT_LOW) != 0;
  info.user_pin_final_try = (raw.flags & CKF_USER_PIN_FINAL_TRY) != 0;
  info.user_pin_locked = (raw.flags & CKF_USER_PIN_LOCKED) != 0;
  info.so_pin_locked = (raw.flags & CKF_SO_PIN_LOCKED) != 0;
  info.free_public_memory = reported(raw.ulFreePublicMemory);
  info.free_private_memory = reported(raw.ulFreePrivateMemory);
  info.total_public_memory = reported(raw.ulTotalPublicMemory);
  info.total_private_memory = reported(raw.ulTotalPrivateMemory);
  return info;
}

SlotInfo to_slot_info(CK_SLOT_ID slot, const CK_SLOT_INFO& raw) {
  SlotInfo info;
  info.slot_id = slot;
  info.description = trim_field(raw.slotDescription, sizeof(raw.slotDescription));
  info.manufacturer = trim_field(raw.manufacturerID, sizeof(raw.manufacturerID));
  info.token_present = (raw.flags & CKF_TOKEN_PRESENT) != 0;
  info.removable = (raw.flags & CKF_REMOVABLE_DEVICE) != 0;
  info.hardware = (raw.flags & CKF_HW_SLOT) != 0;
  return info;
}

// C_GetSlotList twice (count, then ids); asks again when a slot arrived in between.
base::Result<std::vector<CK_SLOT_ID>> slot_ids(CK_FUNCTION_LIST* functions, const std::string& path,
                                               CK_BBOOL token_present) {
  std::vector<CK_SLOT_ID> slots;
  for (int attempt = 0;; ++attempt) {
    CK_ULONG count = 0;
    SIGNET_TRY(SIGNET_P11_CALL(functions, C_GetSlotList, path, Purpose::kGeneral, token_present,
                               nullptr, &count)
                   .result());
    slots.resize(count);
    auto listed = SIGNET_P11_CALL(functions, C_GetSlotList, path, Purpose::kGeneral, token_present,
                                  slots.data(), &count);
    if (listed.rv() == CKR_BUFFER_TOO_SMALL && attempt < 3) continue;
    SIGNET_TRY(listed.result());
    slots.resize(count);
    return slots;
  }
}

}  // namespace

std::string TokenInfo::describe() const { return "token '" + label + "' (serial " + serial + ")"; }

Pkcs11Module::Pkcs11Module(std::string path, void* library, CK_FUNCTION_LIST* functions)
    : path_(std::move(path)), library_(library), functions_(functions) {}

Pkcs11Module::~Pkcs11Module() {
  if (owns_initialization_ && functions_ != nullptr) {
    // Nothing to do with a failure here: the process is letting go of the library.
    (void)SIGNET_P11_CALL(functions_, C_Finalize, path_, Purpose::kGeneral, nullptr);
  }
  if (library_ != nullptr) ::dlclose(library_);
}

base::Result<std::shared_ptr<Pkcs11Module>> Pkcs11Module::load(const std::string& path) {
  // RTLD_NODELETE: dlclose leaves the code mapped. Modules that use OpenSSL or start threads
  // (SoftHSM, most HSM clients) may leave atexit handlers or thread-local destructors pointing
  // into themselves, and unmapping them would crash the process at exit. C_Finalize still
  // resets the module's state, so loading it again starts afresh.
  void* library = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (library == nullptr) {
    const char* reason = ::dlerror();
    return Error(ErrorCode::kNotFound, "PKCS#11 module '" + path + "' cannot be loaded: " +
                                           (reason != nullptr ? reason : "unknown dlopen error"));
  }
  auto get_function_list =
      reinterpret_cast<CK_C_GetFunctionList>(::dlsym(library, "C_GetFunctionList"));
  if (get_function_list == nullptr) {
    ::dlclose(library);
    return Error(ErrorCode::kNotFound, "PKCS#11 module '" + path +
                                           "' cannot be loaded: it has no C_GetFunctionList "
                                           "(is it a PKCS#11 library?)");
  }
  CK_FUNCTION_LIST* functions = nullptr;
  auto listed =
      internal::call({"C_GetFunctionList", path, Purpose::kGeneral}, get_function_list, &functions);
  if (!listed.ok() || functions == nullptr) {
    ::dlclose(library);
    return Error(ErrorCode::kNotFound, "PKCS#11 module '" + path +
                                           "' cannot be loaded: C_GetFunctionList failed (" +
                                           internal::rv_name(listed.rv()) + ")");
  }
  // From here on the destructor owns dlclose.
  std::shared_ptr<Pkcs11Module> module(new Pkcs11Module(path, library, functions));

  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  auto initialized = SIGNET_P11_CALL(functions, C_Initialize, path, Purpose::kGeneral, &args);
  if (initialized.rv() == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
    module->owns_initialization_ = false;
  } else if (!initialized.ok()) {
    return initialized.error().with_context("initialising PKCS#11 module '" + path + "'");
  } else {
    module->owns_initialization_ = true;
  }
  return module;
}

base::Result<TokenInfo> Pkcs11Module::token_info(CK_SLOT_ID slot) const {
  CK_TOKEN_INFO raw{};
  SIGNET_TRY(
      SIGNET_P11_CALL(functions_, C_GetTokenInfo, path_, Purpose::kGeneral, slot, &raw).result());
  return to_token_info(slot, raw, path_);
}

base::Result<std::vector<TokenInfo>> Pkcs11Module::tokens(bool include_uninitialized) const {
  // A token may arrive between the two C_GetSlotList calls: slot_ids() asks again.
  SIGNET_ASSIGN_OR_RETURN(auto slots, slot_ids(functions_, path_, CK_TRUE));
  std::vector<TokenInfo> out;
  for (CK_SLOT_ID slot : slots) {
    CK_TOKEN_INFO raw{};
    auto got = SIGNET_P11_CALL(functions_, C_GetTokenInfo, path_, Purpose::kGeneral, slot, &raw);
    // The token left between listing and asking: it is simply not there any more.
    if (got.rv() == CKR_TOKEN_NOT_PRESENT || got.rv() == CKR_SLOT_ID_INVALID ||
        got.rv() == CKR_DEVICE_REMOVED) {
      continue;
    }
    SIGNET_TRY(got.result());
    TokenInfo info = to_token_info(slot, raw, path_);
    if (info.initialized || include_uninitialized) out.push_back(std::move(info));
  }
  return out;
}

base::Result<std::vector<SlotInfo>> Pkcs11Module::slots() const {
  SIGNET_ASSIGN_OR_RETURN(auto ids, slot_ids(functions_, path_, CK_FALSE));
  std::vector<SlotInfo> out;
  for (CK_SLOT_ID slot : ids) {
    CK_SLOT_INFO raw{};
    auto got = SIGNET_P11_CALL(functions_, C_GetSlotInfo, path_, Purpose::kGeneral, slot, &raw);
    // A reader unplugged between listing and asking.
    if (got.rv() == CKR_SLOT_ID_INVALID || got.rv() == CKR_DEVICE_REMOVED) continue;
    SIGNET_TRY(got.result());
    out.push_back(to_slot_info(slot, raw));
  }
  return out;
}

base::Result<TokenInfo> Pkcs11Module::find_token(std::string_view label_or_serial) const {
  SIGNET_ASSIGN_OR_RETURN(auto all, tokens());
  return select_token(all, label_or_serial);
}

base::Result<TokenInfo> select_token(const std::vector<TokenInfo>& tokens,
                                     std::string_view label_or_serial) {
  std::vector<const TokenInfo*> initialized;
  for (const auto& token : tokens) {
    if (token.initialized) initialized.push_back(&token);
  }
  if (label_or_serial.empty()) {
    if (initialized.size() == 1) return *initialized.front();
    if (initialized.empty()) {
      return Error(ErrorCode::kNotFound, "there is no initialised PKCS#11 token");
    }
    std::string names;
    for (const auto* token : initialized) names += (names.empty() ? "" : ", ") + token->describe();
    return Error(ErrorCode::kInvalidArgument,
                 "there are several PKCS#11 tokens (" + names + "); name one by label or serial");
  }
  for (const auto* token : initialized) {
    if (token->serial == label_or_serial) return *token;
  }
  std::vector<const TokenInfo*> labelled;
  for (const auto* token : initialized) {
    if (token->label == label_or_serial) labelled.push_back(token);
  }
  if (labelled.size() == 1) return *labelled.front();
  if (labelled.empty()) {
    return Error(ErrorCode::kNotFound,
                 "no PKCS#11 token has the label or serial '" + std::string(label_or_serial) + "'");
  }
  std::string serials;
  for (const auto* token : labelled) serials += (serials.empty() ? "" : ", ") + token->serial;
  return Error(ErrorCode::kInvalidArgument,
               "several PKCS#11 tokens are labelled '" + std::string(label_or_serial) +
                   "' (serials " + serials + "); name the token by its serial instead");
}

}  // namespace signet::hsm
