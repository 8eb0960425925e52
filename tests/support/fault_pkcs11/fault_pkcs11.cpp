// The fault-injecting PKCS#11 module for tests: a shared library exporting C_GetFunctionList
// that loads the real module SIGNET_FAULT_REAL_MODULE names (default SoftHSMv2), forwards
// every call to it, and on the way applies the faults of the control file SIGNET_FAULT_CONTROL
// names (see fault_control.h for its directives): PIN flags and a locked PIN, failures with a
// chosen CK_RV (optionally after N calls pass), delays, and a slot description.
//
// A PKCS#11 library has one state per process, so this one does too: the real module's
// function list and the per-rule call counters live in one process-wide State, its counters
// guarded by a mutex. Every entry point is thread-safe as far as the real module is.
#include <dlfcn.h>
#include <p11-kit/pkcs11.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/fault_pkcs11/fault_control.h"
#include "tests/support/fault_pkcs11/ykcs11_emulation.h"

namespace signet::test::fault {
namespace {

constexpr const char* kDefaultRealModule = "/usr/lib/softhsm/libsofthsm2.so";

struct State {
  CK_FUNCTION_LIST* real = nullptr;
  CK_FUNCTION_LIST ours{};
  std::mutex mutex;                             // guards passed
  std::map<std::string, unsigned long> passed;  // calls let through, by `fail` line
};

State& state() {
  static State instance;
  return instance;
}

FaultControl read_control() {
  const char* path = std::getenv("SIGNET_FAULT_CONTROL");
  if (path == nullptr || *path == '\0') return {};
  std::ifstream in(path);
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  std::vector<std::string> problems;
  FaultControl control = parse_control(text.str(), problems);
  for (const auto& problem : problems) {
    std::fprintf(stderr, "fault_pkcs11: %s: %s\n", path, problem.c_str());
  }
  return control;
}

// The delays and the failure for `function`: CKR_OK means "go on to the real call".
CK_RV before(const FaultControl& control, const char* function) {
  for (const auto& delay : control.delays) {
    if (delay.function == function) {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay.milliseconds));
    }
  }
  for (const auto& rule : control.failures) {
    if (rule.function != function) continue;
    std::lock_guard lock(state().mutex);
    unsigned long& passed = state().passed[rule.line];
    if (passed < rule.pass_first) {
      ++passed;
      continue;
    }
    return rule.rv;
  }
  return CKR_OK;
}

template <std::size_t N>
struct FunctionName {
  char value[N];
  constexpr FunctionName(const char (&name)[N]) { std::copy_n(name, N, value); }  // NOLINT
};

// Forward<&CK_FUNCTION_LIST::C_X, "C_X">::call has C_X's signature: faults, then the real C_X.
template <auto Field, FunctionName Name>
struct Forward;

template <typename... Args, CK_RV (*CK_FUNCTION_LIST::*Field)(Args...), FunctionName Name>
struct Forward<Field, Name> {
  static CK_RV call(Args... args) {
    CK_FUNCTION_LIST* real = state().real;
    if (real == nullptr || real->*Field == nullptr) return CKR_FUNCTION_NOT_SUPPORTED;
    const CK_RV injected = before(read_control(), Name.value);
    if (injected != CKR_OK) return injected;
    return (real->*Field)(args...);
  }
};

CK_RV get_token_info(CK_SLOT_ID slot, CK_TOKEN_INFO* info) {
  const FaultControl control = read_control();
  const CK_RV injected = before(control, "C_GetTokenInfo");
  if (injected != CKR_OK) return injected;
  const CK_RV rv = state().real->C_GetTokenInfo(slot, info);
  if (rv == CKR_OK && info != nullptr) info->flags |= control.token_flags;
  return rv;
}

CK_RV get_slot_info(CK_SLOT_ID slot, CK_SLOT_INFO* info) {
  const FaultControl control = read_control();
  const CK_RV injected = before(control, "C_GetSlotInfo");
  if (injected != CKR_OK) return injected;
  const CK_RV rv = state().real->C_GetSlotInfo(slot, info);
  if (rv == CKR_OK && info != nullptr && control.slot_description) {
    // Blank-padded, not NUL-terminated (PKCS#11 §3.2).
    std::memset(info->slotDescription, ' ', sizeof(info->slotDescription));
    std::memcpy(info->slotDescription, control.slot_description->data(),
                std::min(control.slot_description->size(), sizeof(info->slotDescription)));
  }
  return rv;
}

CK_RV login(CK_SESSION_HANDLE session, CK_USER_TYPE user, CK_UTF8CHAR* pin, CK_ULONG pin_len) {
  const FaultControl control = read_control();
  const CK_RV injected = before(control, "C_Login");
  if (injected != CKR_OK) return injected;
  if ((user == CKU_USER || user == CKU_CONTEXT_SPECIFIC) && control.user_pin_locked()) {
    return CKR_PIN_LOCKED;
  }
  if (user == CKU_SO && control.so_pin_locked()) return CKR_PIN_LOCKED;
  if (control.ykcs11) {
    return ykcs11::login(*state().real, *control.ykcs11, session, user, pin, pin_len);
  }
  return state().real->C_Login(session, user, pin, pin_len);
}

CK_RV logout(CK_SESSION_HANDLE session) {
  const FaultControl control = read_control();
  const CK_RV injected = before(control, "C_Logout");
  if (injected != CKR_OK) return injected;
  if (control.ykcs11) return ykcs11::logout(*state().real, session);
  return state().real->C_Logout(session);
}

CK_RV open_session(CK_SLOT_ID slot, CK_FLAGS flags, void* application, CK_NOTIFY notify,
                   CK_SESSION_HANDLE* session) {
  const CK_RV injected = before(read_control(), "C_OpenSession");
  if (injected != CKR_OK) return injected;
  const CK_RV rv = state().real->C_OpenSession(slot, flags, application, notify, session);
  if (rv == CKR_OK) ykcs11::session_opened();
  return rv;
}

CK_RV close_session(CK_SESSION_HANDLE session) {
  const CK_RV injected = before(read_control(), "C_CloseSession");
  if (injected != CKR_OK) return injected;
  const CK_RV rv = state().real->C_CloseSession(session);
  if (rv == CKR_OK) ykcs11::session_closed();
  return rv;
}

CK_RV close_all_sessions(CK_SLOT_ID slot) {
  const CK_RV injected = before(read_control(), "C_CloseAllSessions");
  if (injected != CKR_OK) return injected;
  const CK_RV rv = state().real->C_CloseAllSessions(slot);
  if (rv == CKR_OK) ykcs11::all_sessions_closed();
  return rv;
}

CK_RV generate_key_pair(CK_SESSION_HANDLE session, CK_MECHANISM* mechanism,
                        CK_ATTRIBUTE* public_template, CK_ULONG public_count,
                        CK_ATTRIBUTE* private_template, CK_ULONG private_count,
                        CK_OBJECT_HANDLE* public_key, CK_OBJECT_HANDLE* private_key) {
  const FaultControl control = read_control();
  const CK_RV injected = before(control, "C_GenerateKeyPair");
  if (injected != CKR_OK) return injected;
  if (control.ykcs11) {
    return ykcs11::generate_key_pair(*state().real, session, mechanism, public_template,
                                     public_count, private_template, private_count, public_key,
                                     private_key);
  }
  return state().real->C_GenerateKeyPair(session, mechanism, public_template, public_count,
                                         private_template, private_count, public_key, private_key);
}

CK_RV create_object(CK_SESSION_HANDLE session, CK_ATTRIBUTE* attributes, CK_ULONG count,
                    CK_OBJECT_HANDLE* object) {
  const FaultControl control = read_control();
  const CK_RV injected = before(control, "C_CreateObject");
  if (injected != CKR_OK) return injected;
  if (control.ykcs11) {
    if (const CK_RV refused = ykcs11::check_object_change(); refused != CKR_OK) return refused;
  }
  return state().real->C_CreateObject(session, attributes, count, object);
}

CK_RV destroy_object(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object) {
  const FaultControl control = read_control();
  const CK_RV injected = before(control, "C_DestroyObject");
  if (injected != CKR_OK) return injected;
  if (control.ykcs11) {
    if (const CK_RV refused = ykcs11::check_object_change(); refused != CKR_OK) return refused;
  }
  return state().real->C_DestroyObject(session, object);
}

CK_RV sign_init(CK_SESSION_HANDLE session, CK_MECHANISM* mechanism, CK_OBJECT_HANDLE key) {
  const FaultControl control = read_control();
  const CK_RV injected = before(control, "C_SignInit");
  if (injected != CKR_OK) return injected;
  if (control.ykcs11) {
    if (const CK_RV refused = ykcs11::check_sign_init(); refused != CKR_OK) return refused;
  }
  return state().real->C_SignInit(session, mechanism, key);
}

// The fault for a C_Sign / C_SignFinal: an injected one, or ykcs11's refusal to sign without
// the PIN.
CK_RV sign_fault(const char* function) {
  const FaultControl control = read_control();
  const CK_RV injected = before(control, function);
  if (injected != CKR_OK) return injected;
  return control.ykcs11 ? ykcs11::check_sign() : CKR_OK;
}

// PKCS#11 v2.40 §5.11: a C_Sign or C_SignFinal that fails ends the signing operation. An
// injected failure must leave the real module in that state too, or the session's next
// C_SignInit would meet CKR_OPERATION_ACTIVE: so the real call is made into a scratch buffer
// and its result dropped.
constexpr CK_ULONG kScratchSize = 16384;

CK_RV sign(CK_SESSION_HANDLE session, CK_BYTE* data, CK_ULONG data_len, CK_BYTE* signature,
           CK_ULONG* signature_len) {
  const CK_RV injected = sign_fault("C_Sign");
  if (injected != CKR_OK) {
    std::vector<CK_BYTE> scratch(kScratchSize);
    CK_ULONG scratch_len = scratch.size();
    (void)state().real->C_Sign(session, data, data_len, scratch.data(), &scratch_len);
    return injected;
  }
  return state().real->C_Sign(session, data, data_len, signature, signature_len);
}

CK_RV sign_final(CK_SESSION_HANDLE session, CK_BYTE* signature, CK_ULONG* signature_len) {
  const CK_RV injected = sign_fault("C_SignFinal");
  if (injected != CKR_OK) {
    std::vector<CK_BYTE> scratch(kScratchSize);
    CK_ULONG scratch_len = scratch.size();
    (void)state().real->C_SignFinal(session, scratch.data(), &scratch_len);
    return injected;
  }
  return state().real->C_SignFinal(session, signature, signature_len);
}

#define FAULT_FORWARD(name) list.name = &Forward<&CK_FUNCTION_LIST::name, #name>::call

void fill_function_list(CK_FUNCTION_LIST& list, const CK_FUNCTION_LIST& real);

CK_RV load_real_module() {
  State& s = state();
  if (s.real != nullptr) return CKR_OK;
  const char* configured = std::getenv("SIGNET_FAULT_REAL_MODULE");
  const char* path = configured != nullptr && *configured != '\0' ? configured : kDefaultRealModule;
  void* library = ::dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (library == nullptr) {
    std::fprintf(stderr, "fault_pkcs11: cannot load the real module '%s': %s\n", path, ::dlerror());
    return CKR_GENERAL_ERROR;
  }
  auto get_list = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(library, "C_GetFunctionList"));
  CK_FUNCTION_LIST* real = nullptr;
  if (get_list == nullptr || get_list(&real) != CKR_OK || real == nullptr) {
    std::fprintf(stderr, "fault_pkcs11: '%s' has no usable C_GetFunctionList\n", path);
    return CKR_GENERAL_ERROR;
  }
  fill_function_list(s.ours, *real);
  s.real = real;
  return CKR_OK;
}

}  // namespace
}  // namespace signet::test::fault

extern "C" __attribute__((visibility("default"))) CK_RV C_GetFunctionList(CK_FUNCTION_LIST** list) {
  using namespace signet::test::fault;
  if (list == nullptr) return CKR_ARGUMENTS_BAD;
  // Callers serialise their first C_GetFunctionList with C_Initialize in practice; a static
  // once-flag makes concurrent first calls safe anyway.
  static std::once_flag loaded;
  static CK_RV load_result = CKR_OK;
  std::call_once(loaded, [] { load_result = load_real_module(); });
  if (load_result != CKR_OK) return load_result;
  *list = &state().ours;
  return CKR_OK;
}

namespace signet::test::fault {
namespace {

void fill_function_list(CK_FUNCTION_LIST& list, const CK_FUNCTION_LIST& real) {
  list.version = real.version;
  list.C_GetFunctionList = &::C_GetFunctionList;
  list.C_GetTokenInfo = &get_token_info;
  list.C_GetSlotInfo = &get_slot_info;
  list.C_Login = &login;
  FAULT_FORWARD(C_Initialize);
  FAULT_FORWARD(C_Finalize);
  FAULT_FORWARD(C_GetInfo);
  FAULT_FORWARD(C_GetSlotList);
  FAULT_FORWARD(C_GetMechanismList);
  FAULT_FORWARD(C_GetMechanismInfo);
  FAULT_FORWARD(C_InitToken);
  FAULT_FORWARD(C_InitPIN);
  FAULT_FORWARD(C_SetPIN);
  list.C_OpenSession = &open_session;
  list.C_CloseSession = &close_session;
  list.C_CloseAllSessions = &close_all_sessions;
  FAULT_FORWARD(C_GetSessionInfo);
  FAULT_FORWARD(C_GetOperationState);
  FAULT_FORWARD(C_SetOperationState);
  list.C_Logout = &logout;
  list.C_CreateObject = &create_object;
  FAULT_FORWARD(C_CopyObject);
  list.C_DestroyObject = &destroy_object;
  FAULT_FORWARD(C_GetObjectSize);
  FAULT_FORWARD(C_GetAttributeValue);
  FAULT_FORWARD(C_SetAttributeValue);
  FAULT_FORWARD(C_FindObjectsInit);
  FAULT_FORWARD(C_FindObjects);
  FAULT_FORWARD(C_FindObjectsFinal);
  FAULT_FORWARD(C_EncryptInit);
  FAULT_FORWARD(C_Encrypt);
  FAULT_FORWARD(C_EncryptUpdate);
  FAULT_FORWARD(C_EncryptFinal);
  FAULT_FORWARD(C_DecryptInit);
  FAULT_FORWARD(C_Decrypt);
  FAULT_FORWARD(C_DecryptUpdate);
  FAULT_FORWARD(C_DecryptFinal);
  FAULT_FORWARD(C_DigestInit);
  FAULT_FORWARD(C_Digest);
  FAULT_FORWARD(C_DigestUpdate);
  FAULT_FORWARD(C_DigestKey);
  FAULT_FORWARD(C_DigestFinal);
  list.C_SignInit = &sign_init;
  list.C_Sign = &sign;
  FAULT_FORWARD(C_SignUpdate);
  list.C_SignFinal = &sign_final;
  FAULT_FORWARD(C_SignRecoverInit);
  FAULT_FORWARD(C_SignRecover);
  FAULT_FORWARD(C_VerifyInit);
  FAULT_FORWARD(C_Verify);
  FAULT_FORWARD(C_VerifyUpdate);
  FAULT_FORWARD(C_VerifyFinal);
  FAULT_FORWARD(C_VerifyRecoverInit);
  FAULT_FORWARD(C_VerifyRecover);
  FAULT_FORWARD(C_DigestEncryptUpdate);
  FAULT_FORWARD(C_DecryptDigestUpdate);
  FAULT_FORWARD(C_SignEncryptUpdate);
  FAULT_FORWARD(C_DecryptVerifyUpdate);
  FAULT_FORWARD(C_GenerateKey);
  list.C_GenerateKeyPair = &generate_key_pair;
  FAULT_FORWARD(C_WrapKey);
  FAULT_FORWARD(C_UnwrapKey);
  FAULT_FORWARD(C_DeriveKey);
  FAULT_FORWARD(C_SeedRandom);
  FAULT_FORWARD(C_GenerateRandom);
  FAULT_FORWARD(C_GetFunctionStatus);
  FAULT_FORWARD(C_CancelFunction);
  FAULT_FORWARD(C_WaitForSlotEvent);
}

}  // namespace
}  // namespace signet::test::fault
