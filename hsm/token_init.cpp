#include "hsm/token_init.h"

#include <algorithm>
#include <array>

#include "hsm/internal/pkcs11_call.h"
#include "hsm/internal/session.h"

namespace signet::hsm {
namespace {

using base::Error;
using base::ErrorCode;
using internal::Purpose;

CK_UTF8CHAR* pin_pointer(const base::SecureBuffer& pin) {
  return const_cast<CK_UTF8CHAR*>(pin.view().data());
}

// Logs the security officer out however the caller returns.
class SoLogout {
 public:
  explicit SoLogout(internal::Session& session) : session_(session) {}
  ~SoLogout() {
    (void)SIGNET_P11_CALL(session_.functions(), C_Logout, session_.token_label(), Purpose::kSoLogin,
                          session_.handle());
  }
  SoLogout(const SoLogout&) = delete;
  SoLogout& operator=(const SoLogout&) = delete;

 private:
  internal::Session& session_;
};

}  // namespace

base::Result<TokenInfo> init_token(Pkcs11Module& module, std::string_view label,
                                   const base::SecureBuffer& so_pin,
                                   const base::SecureBuffer& user_pin) {
  constexpr std::size_t kLabelSize = 32;  // CK_TOKEN_INFO.label
  if (label.empty() || label.size() > kLabelSize) {
    return Error(ErrorCode::kInvalidArgument, "a token label must have 1 to 32 bytes; '" +
                                                  std::string(label) + "' has " +
                                                  std::to_string(label.size()));
  }
  if (so_pin.empty() || user_pin.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "initialising token '" + std::string(label) + "' needs a SO PIN and a user PIN");
  }
  SIGNET_ASSIGN_OR_RETURN(auto tokens, module.tokens(/*include_uninitialized=*/true));
  const TokenInfo* free_slot = nullptr;
  for (const auto& token : tokens) {
    if (token.initialized && token.label == label) {
      return Error(ErrorCode::kAlreadyExists, "a token labelled '" + std::string(label) +
                                                  "' already exists (serial " + token.serial + ")");
    }
    if (!token.initialized && free_slot == nullptr) free_slot = &token;
  }
  if (free_slot == nullptr) {
    return Error(ErrorCode::kNotFound, "PKCS#11 module '" + module.path() +
                                           "' has no uninitialised slot for token '" +
                                           std::string(label) + "'");
  }

  std::array<CK_UTF8CHAR, kLabelSize> padded;
  padded.fill(' ');
  std::copy(label.begin(), label.end(), padded.begin());
  SIGNET_TRY(SIGNET_P11_CALL(module.functions(), C_InitToken, label, Purpose::kTokenInit,
                             free_slot->slot_id, pin_pointer(so_pin), so_pin.size(), padded.data())
                 .result());

  // SoftHSM gives the new token a new slot id: find it again by label.
  SIGNET_ASSIGN_OR_RETURN(TokenInfo created, module.find_token(label));
  {
    SIGNET_ASSIGN_OR_RETURN(auto session, internal::Session::open(module.shared_from_this(),
                                                                  created.slot_id, created.label));
    SIGNET_TRY(SIGNET_P11_CALL(module.functions(), C_Login, created.label, Purpose::kSoLogin,
                               session.handle(), CKU_SO, pin_pointer(so_pin), so_pin.size())
                   .result());
    SoLogout logout(session);
    SIGNET_TRY(SIGNET_P11_CALL(module.functions(), C_InitPIN, created.label, Purpose::kGeneral,
                               session.handle(), pin_pointer(user_pin), user_pin.size())
                   .result());
  }
  return module.token_info(created.slot_id);
}

}  // namespace signet::hsm
