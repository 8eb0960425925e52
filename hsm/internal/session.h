// Session: one open PKCS#11 session (RAII: C_CloseSession in the destructor), and the object
// and attribute helpers that run inside a session. Every call goes through the choke point
// (pkcs11_call.h); a Session remembers the last return value that failed so that its owner
// (the pool, the signer) can tell a dead session or a stale handle from other failures.
//
// Ownership: a Session keeps its module alive. Not thread-safe: one thread uses a session at a
// time (the pool hands each session to one lease).
#pragma once

#include <p11-kit/pkcs11.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "hsm/internal/pkcs11_call.h"
#include "hsm/module.h"

namespace signet::hsm::internal {

class Session {
 public:
  // Opens a read-write session on `slot`; `token_label` names the token in messages. On
  // failure, `*failure` (when given) receives C_OpenSession's return value.
  static base::Result<Session> open(std::shared_ptr<Pkcs11Module> module, CK_SLOT_ID slot,
                                    std::string token_label, CK_RV* failure = nullptr);

  Session() = default;
  ~Session() { close(); }
  Session(Session&& other) noexcept;
  Session& operator=(Session&& other) noexcept;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  bool is_open() const { return handle_ != CK_INVALID_HANDLE; }
  CK_SESSION_HANDLE handle() const { return handle_; }
  CK_FUNCTION_LIST* functions() const { return module_->functions(); }
  const std::string& token_label() const { return token_label_; }
  // The last CK_RV that failed in this session (CKR_OK if none).
  CK_RV last_failure() const { return last_failure_; }
  // The C_ function that returned last_failure() ("" if none).
  const char* last_failed_function() const { return last_failed_function_; }
  void clear_failure() {
    last_failure_ = CKR_OK;
    last_failed_function_ = "";
  }

  // Records a failed status so the owner can inspect it; returns it unchanged.
  Status note(Status status) {
    if (!status.ok()) {
      last_failure_ = status.rv();
      last_failed_function_ = status.function();
    }
    return status;
  }

  // All objects matching `match` (C_FindObjectsInit / C_FindObjects / C_FindObjectsFinal).
  base::Result<std::vector<CK_OBJECT_HANDLE>> find_objects(std::vector<CK_ATTRIBUTE> match);

  // One attribute's value; std::nullopt when the object does not have it (or it is sensitive).
  base::Result<std::optional<base::Bytes>> attribute(CK_OBJECT_HANDLE object,
                                                     CK_ATTRIBUTE_TYPE type);
  // One attribute that must be there.
  base::Result<base::Bytes> required_attribute(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type,
                                               std::string_view name);
  base::Result<std::optional<bool>> bool_attribute(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type);
  base::Result<std::optional<CK_ULONG>> ulong_attribute(CK_OBJECT_HANDLE object,
                                                        CK_ATTRIBUTE_TYPE type);

  base::Result<void> destroy_object(CK_OBJECT_HANDLE object);
  // C_SetAttributeValue of CKA_LABEL.
  base::Result<void> set_label(CK_OBJECT_HANDLE object, std::string_view label);

  void close() noexcept;

 private:
  std::shared_ptr<Pkcs11Module> module_;
  CK_SESSION_HANDLE handle_ = CK_INVALID_HANDLE;
  std::string token_label_;
  CK_RV last_failure_ = CKR_OK;
  const char* last_failed_function_ = "";  // a string literal
};

// Template helpers: PKCS#11 attributes point at their values, which must outlive the call.
inline CK_ATTRIBUTE attr(CK_ATTRIBUTE_TYPE type, const void* value, CK_ULONG size) {
  return CK_ATTRIBUTE{type, const_cast<void*>(value), size};
}
inline CK_ATTRIBUTE attr(CK_ATTRIBUTE_TYPE type, const CK_BBOOL& value) {
  return attr(type, &value, sizeof(value));
}
inline CK_ATTRIBUTE attr(CK_ATTRIBUTE_TYPE type, const CK_ULONG& value) {
  return attr(type, &value, sizeof(value));
}
// A temporary would dangle once the template statement ends: name the value instead.
CK_ATTRIBUTE attr(CK_ATTRIBUTE_TYPE type, CK_BBOOL&& value) = delete;
CK_ATTRIBUTE attr(CK_ATTRIBUTE_TYPE type, CK_ULONG&& value) = delete;
inline CK_ATTRIBUTE attr(CK_ATTRIBUTE_TYPE type, base::ByteView value) {
  return attr(type, value.data(), value.size());
}
inline CK_ATTRIBUTE attr(CK_ATTRIBUTE_TYPE type, std::string_view value) {
  return attr(type, value.data(), value.size());
}

inline constexpr CK_BBOOL kTrue = CK_TRUE;
inline constexpr CK_BBOOL kFalse = CK_FALSE;
inline constexpr CK_OBJECT_CLASS kPrivateKeyClass = CKO_PRIVATE_KEY;
inline constexpr CK_OBJECT_CLASS kPublicKeyClass = CKO_PUBLIC_KEY;
inline constexpr CK_OBJECT_CLASS kCertificateClass = CKO_CERTIFICATE;

}  // namespace signet::hsm::internal
