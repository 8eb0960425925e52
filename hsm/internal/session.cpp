#include "hsm/internal/session.h"

#include <utility>

namespace signet::hsm::internal {
namespace {

// Ends a search however the function that started it returns.
class FindGuard {
 public:
  explicit FindGuard(Session& session) : session_(session) {}
  ~FindGuard() {
    (void)session_.note(SIGNET_P11_CALL(session_.functions(), C_FindObjectsFinal,
                                        session_.token_label(), Purpose::kGeneral,
                                        session_.handle()));
  }
  FindGuard(const FindGuard&) = delete;
  FindGuard& operator=(const FindGuard&) = delete;

 private:
  Session& session_;
};

}  // namespace

base::Result<Session> Session::open(std::shared_ptr<Pkcs11Module> module, CK_SLOT_ID slot,
                                    std::string token_label, CK_RV* failure) {
  Session session;
  CK_SESSION_HANDLE handle = CK_INVALID_HANDLE;
  auto opened =
      SIGNET_P11_CALL(module->functions(), C_OpenSession, token_label, Purpose::kGeneral, slot,
                      CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &handle);
  if (!opened.ok()) {
    if (failure != nullptr) *failure = opened.rv();
    return opened.error();
  }
  session.module_ = std::move(module);
  session.handle_ = handle;
  session.token_label_ = std::move(token_label);
  return session;
}

Session::Session(Session&& other) noexcept
    : module_(std::move(other.module_)),
      handle_(std::exchange(other.handle_, CK_INVALID_HANDLE)),
      token_label_(std::move(other.token_label_)),
      last_failure_(std::exchange(other.last_failure_, CKR_OK)),
      last_failed_function_(std::exchange(other.last_failed_function_, "")) {}

Session& Session::operator=(Session&& other) noexcept {
  if (this != &other) {
    close();
    module_ = std::move(other.module_);
    handle_ = std::exchange(other.handle_, CK_INVALID_HANDLE);
    token_label_ = std::move(other.token_label_);
    last_failure_ = std::exchange(other.last_failure_, CKR_OK);
    last_failed_function_ = std::exchange(other.last_failed_function_, "");
  }
  return *this;
}

void Session::close() noexcept {
  if (handle_ != CK_INVALID_HANDLE && module_ != nullptr) {
    // A session that is already gone (token removed) fails to close; nothing to do about it.
    (void)SIGNET_P11_CALL(module_->functions(), C_CloseSession, token_label_, Purpose::kGeneral,
                          handle_);
  }
  handle_ = CK_INVALID_HANDLE;
}

base::Result<std::vector<CK_OBJECT_HANDLE>> Session::find_objects(std::vector<CK_ATTRIBUTE> match) {
  SIGNET_TRY(note(SIGNET_P11_CALL(functions(), C_FindObjectsInit, token_label_, Purpose::kGeneral,
                                  handle_, match.data(), match.size()))
                 .result());
  FindGuard guard(*this);
  std::vector<CK_OBJECT_HANDLE> found;
  CK_OBJECT_HANDLE batch[32];
  for (;;) {
    CK_ULONG count = 0;
    SIGNET_TRY(note(SIGNET_P11_CALL(functions(), C_FindObjects, token_label_, Purpose::kGeneral,
                                    handle_, batch, std::size(batch), &count))
                   .result());
    found.insert(found.end(), batch, batch + count);
    if (count < std::size(batch)) break;
  }
  return found;
}

base::Result<std::optional<base::Bytes>> Session::attribute(CK_OBJECT_HANDLE object,
                                                            CK_ATTRIBUTE_TYPE type) {
  CK_ATTRIBUTE query{type, nullptr, 0};
  auto sized = SIGNET_P11_CALL(functions(), C_GetAttributeValue, token_label_, Purpose::kGeneral,
                               handle_, object, &query, 1);
  if (sized.rv() == CKR_ATTRIBUTE_TYPE_INVALID || sized.rv() == CKR_ATTRIBUTE_SENSITIVE ||
      (sized.ok() && query.ulValueLen == CK_UNAVAILABLE_INFORMATION)) {
    return std::optional<base::Bytes>();
  }
  SIGNET_TRY(note(sized).result());
  base::Bytes value(query.ulValueLen);
  query.pValue = value.data();
  SIGNET_TRY(note(SIGNET_P11_CALL(functions(), C_GetAttributeValue, token_label_, Purpose::kGeneral,
                                  handle_, object, &query, 1))
                 .result());
  value.resize(query.ulValueLen);
  return std::optional<base::Bytes>(std::move(value));
}

base::Result<base::Bytes> Session::required_attribute(CK_OBJECT_HANDLE object,
                                                      CK_ATTRIBUTE_TYPE type,
                                                      std::string_view name) {
  SIGNET_ASSIGN_OR_RETURN(auto value, attribute(object, type));
  if (!value) {
    return base::Error(base::ErrorCode::kTokenError, "a key on token '" + token_label_ +
                                                         "' has no readable " + std::string(name));
  }
  return std::move(*value);
}

base::Result<std::optional<bool>> Session::bool_attribute(CK_OBJECT_HANDLE object,
                                                          CK_ATTRIBUTE_TYPE type) {
  SIGNET_ASSIGN_OR_RETURN(auto value, attribute(object, type));
  if (!value || value->size() != sizeof(CK_BBOOL)) return std::optional<bool>();
  return std::optional<bool>((*value)[0] != CK_FALSE);
}

base::Result<std::optional<CK_ULONG>> Session::ulong_attribute(CK_OBJECT_HANDLE object,
                                                               CK_ATTRIBUTE_TYPE type) {
  CK_ULONG value = 0;
  CK_ATTRIBUTE query{type, &value, sizeof(value)};
  auto got = SIGNET_P11_CALL(functions(), C_GetAttributeValue, token_label_, Purpose::kGeneral,
                             handle_, object, &query, 1);
  if (got.rv() == CKR_ATTRIBUTE_TYPE_INVALID || got.rv() == CKR_ATTRIBUTE_SENSITIVE) {
    return std::optional<CK_ULONG>();
  }
  SIGNET_TRY(note(got).result());
  return std::optional<CK_ULONG>(value);
}

base::Result<void> Session::set_label(CK_OBJECT_HANDLE object, std::string_view label) {
  CK_ATTRIBUTE attribute = attr(CKA_LABEL, label.data(), static_cast<CK_ULONG>(label.size()));
  return note(SIGNET_P11_CALL(functions(), C_SetAttributeValue, token_label_, Purpose::kGeneral,
                              handle_, object, &attribute, 1))
      .result();
}

base::Result<void> Session::destroy_object(CK_OBJECT_HANDLE object) {
  return note(SIGNET_P11_CALL(functions(), C_DestroyObject, token_label_, Purpose::kGeneral,
                              handle_, object))
      .result();
}

}  // namespace signet::hsm::internal
