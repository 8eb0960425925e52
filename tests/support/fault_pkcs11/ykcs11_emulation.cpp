#include "tests/support/fault_pkcs11/ykcs11_emulation.h"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <string>
#include <vector>

namespace signet::test::fault::ykcs11 {
namespace {

struct LoginState {
  std::mutex mutex;  // guards the fields below
  bool so = false;
  bool user = false;
  bool pin_verified = false;
  long sessions = 0;

  void reset() { so = user = pin_verified = false; }
};

LoginState& state() {
  static LoginState instance;
  return instance;
}

bool same_key(const Ykcs11Settings& settings, const CK_UTF8CHAR* pin, CK_ULONG pin_len) {
  const std::string& key = settings.management_key;
  if (pin == nullptr || pin_len != key.size()) return false;
  for (CK_ULONG i = 0; i < pin_len; ++i) {
    if (std::tolower(pin[i]) != std::tolower(static_cast<unsigned char>(key[i]))) return false;
  }
  return true;
}

// The real objects of `object_class` with CKA_ID `id`.
std::vector<CK_OBJECT_HANDLE> find(CK_FUNCTION_LIST& real, CK_SESSION_HANDLE session,
                                   CK_OBJECT_CLASS object_class, const CK_ATTRIBUTE& id) {
  CK_ATTRIBUTE match[] = {{CKA_CLASS, &object_class, sizeof(object_class)}, id};
  std::vector<CK_OBJECT_HANDLE> out;
  if (real.C_FindObjectsInit(session, match, 2) != CKR_OK) return out;
  CK_OBJECT_HANDLE handles[16];
  CK_ULONG count = 0;
  while (real.C_FindObjects(session, handles, 16, &count) == CKR_OK && count > 0) {
    out.insert(out.end(), handles, handles + count);
  }
  (void)real.C_FindObjectsFinal(session);
  return out;
}

}  // namespace

CK_RV login(CK_FUNCTION_LIST& real, const Ykcs11Settings& settings, CK_SESSION_HANDLE session,
            CK_USER_TYPE user, CK_UTF8CHAR* pin, CK_ULONG pin_len) {
  LoginState& s = state();
  std::lock_guard lock(s.mutex);
  if (user == CKU_SO) {
    if (s.so) return CKR_USER_ALREADY_LOGGED_IN;
    if (s.user) return CKR_USER_ANOTHER_ALREADY_LOGGED_IN;
    if (!same_key(settings, pin, pin_len)) return CKR_PIN_INCORRECT;
    auto* user_pin = reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(settings.user_pin.data()));
    const CK_RV rv = real.C_Login(session, CKU_USER, user_pin, settings.user_pin.size());
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) return rv;
    s.so = true;
    s.pin_verified = false;
    return CKR_OK;
  }
  if (user == CKU_USER && s.so) return CKR_USER_ANOTHER_ALREADY_LOGGED_IN;
  const CK_RV rv = real.C_Login(session, user, pin, pin_len);
  if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) {
    s.user = true;
    s.pin_verified = true;
  }
  return rv;
}

CK_RV logout(CK_FUNCTION_LIST& real, CK_SESSION_HANDLE session) {
  LoginState& s = state();
  std::lock_guard lock(s.mutex);
  s.reset();
  return real.C_Logout(session);
}

CK_RV generate_key_pair(CK_FUNCTION_LIST& real, CK_SESSION_HANDLE session, CK_MECHANISM* mechanism,
                        CK_ATTRIBUTE* public_template, CK_ULONG public_count,
                        CK_ATTRIBUTE* private_template, CK_ULONG private_count,
                        CK_OBJECT_HANDLE* public_key, CK_OBJECT_HANDLE* private_key) {
  if (const CK_RV refused = check_object_change(); refused != CKR_OK) return refused;
  // ykcs11 generates into the PIV slot the CKA_ID names, replacing the key there.
  for (CK_ULONG i = 0; i < private_count && private_template != nullptr; ++i) {
    if (private_template[i].type != CKA_ID) continue;
    for (CK_OBJECT_CLASS c : {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY}) {
      for (CK_OBJECT_HANDLE h : find(real, session, c, private_template[i])) {
        (void)real.C_DestroyObject(session, h);
      }
    }
  }
  return real.C_GenerateKeyPair(session, mechanism, public_template, public_count, private_template,
                                private_count, public_key, private_key);
}

CK_RV check_object_change() {
  LoginState& s = state();
  std::lock_guard lock(s.mutex);
  return s.so ? CKR_OK : CKR_USER_TYPE_INVALID;
}

CK_RV check_sign_init() {
  LoginState& s = state();
  std::lock_guard lock(s.mutex);
  return s.so || s.user ? CKR_OK : CKR_USER_NOT_LOGGED_IN;
}

CK_RV check_sign() {
  LoginState& s = state();
  std::lock_guard lock(s.mutex);
  return s.pin_verified ? CKR_OK : CKR_USER_NOT_LOGGED_IN;
}

void session_opened() {
  LoginState& s = state();
  std::lock_guard lock(s.mutex);
  ++s.sessions;
}

void session_closed() {
  LoginState& s = state();
  std::lock_guard lock(s.mutex);
  if (s.sessions > 0 && --s.sessions == 0) s.reset();
}

void all_sessions_closed() {
  LoginState& s = state();
  std::lock_guard lock(s.mutex);
  s.sessions = 0;
  s.reset();
}

}  // namespace signet::test::fault::ykcs11
