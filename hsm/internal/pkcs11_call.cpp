#include "hsm/internal/pkcs11_call.h"

#include <cstdio>

namespace signet::hsm::internal {
namespace {

using base::Error;
using base::ErrorCode;

struct RvName {
  CK_RV rv;
  const char* name;
};

#define SIGNET_RV(name) \
  { name, #name }
constexpr RvName kRvNames[] = {
    SIGNET_RV(CKR_OK),
    SIGNET_RV(CKR_CANCEL),
    SIGNET_RV(CKR_HOST_MEMORY),
    SIGNET_RV(CKR_SLOT_ID_INVALID),
    SIGNET_RV(CKR_GENERAL_ERROR),
    SIGNET_RV(CKR_FUNCTION_FAILED),
    SIGNET_RV(CKR_ARGUMENTS_BAD),
    SIGNET_RV(CKR_NO_EVENT),
    SIGNET_RV(CKR_NEED_TO_CREATE_THREADS),
    SIGNET_RV(CKR_CANT_LOCK),
    SIGNET_RV(CKR_ATTRIBUTE_READ_ONLY),
    SIGNET_RV(CKR_ATTRIBUTE_SENSITIVE),
    SIGNET_RV(CKR_ATTRIBUTE_TYPE_INVALID),
    SIGNET_RV(CKR_ATTRIBUTE_VALUE_INVALID),
    SIGNET_RV(CKR_ACTION_PROHIBITED),
    SIGNET_RV(CKR_DATA_INVALID),
    SIGNET_RV(CKR_DATA_LEN_RANGE),
    SIGNET_RV(CKR_DEVICE_ERROR),
    SIGNET_RV(CKR_DEVICE_MEMORY),
    SIGNET_RV(CKR_DEVICE_REMOVED),
    SIGNET_RV(CKR_ENCRYPTED_DATA_INVALID),
    SIGNET_RV(CKR_ENCRYPTED_DATA_LEN_RANGE),
    SIGNET_RV(CKR_FUNCTION_CANCELED),
    SIGNET_RV(CKR_FUNCTION_NOT_PARALLEL),
    SIGNET_RV(CKR_FUNCTION_NOT_SUPPORTED),
    SIGNET_RV(CKR_KEY_HANDLE_INVALID),
    SIGNET_RV(CKR_KEY_SIZE_RANGE),
    SIGNET_RV(CKR_KEY_TYPE_INCONSISTENT),
    SIGNET_RV(CKR_KEY_NOT_NEEDED),
    SIGNET_RV(CKR_KEY_CHANGED),
    SIGNET_RV(CKR_KEY_NEEDED),
    SIGNET_RV(CKR_KEY_INDIGESTIBLE),
    SIGNET_RV(CKR_KEY_FUNCTION_NOT_PERMITTED),
    SIGNET_RV(CKR_KEY_NOT_WRAPPABLE),
    SIGNET_RV(CKR_KEY_UNEXTRACTABLE),
    SIGNET_RV(CKR_MECHANISM_INVALID),
    SIGNET_RV(CKR_MECHANISM_PARAM_INVALID),
    SIGNET_RV(CKR_OBJECT_HANDLE_INVALID),
    SIGNET_RV(CKR_OPERATION_ACTIVE),
    SIGNET_RV(CKR_OPERATION_NOT_INITIALIZED),
    SIGNET_RV(CKR_PIN_INCORRECT),
    SIGNET_RV(CKR_PIN_INVALID),
    SIGNET_RV(CKR_PIN_LEN_RANGE),
    SIGNET_RV(CKR_PIN_EXPIRED),
    SIGNET_RV(CKR_PIN_LOCKED),
    SIGNET_RV(CKR_SESSION_CLOSED),
    SIGNET_RV(CKR_SESSION_COUNT),
    SIGNET_RV(CKR_SESSION_HANDLE_INVALID),
    SIGNET_RV(CKR_SESSION_PARALLEL_NOT_SUPPORTED),
    SIGNET_RV(CKR_SESSION_READ_ONLY),
    SIGNET_RV(CKR_SESSION_EXISTS),
    SIGNET_RV(CKR_SESSION_READ_ONLY_EXISTS),
    SIGNET_RV(CKR_SESSION_READ_WRITE_SO_EXISTS),
    SIGNET_RV(CKR_SIGNATURE_INVALID),
    SIGNET_RV(CKR_SIGNATURE_LEN_RANGE),
    SIGNET_RV(CKR_TEMPLATE_INCOMPLETE),
    SIGNET_RV(CKR_TEMPLATE_INCONSISTENT),
    SIGNET_RV(CKR_TOKEN_NOT_PRESENT),
    SIGNET_RV(CKR_TOKEN_NOT_RECOGNIZED),
    SIGNET_RV(CKR_TOKEN_WRITE_PROTECTED),
    SIGNET_RV(CKR_UNWRAPPING_KEY_HANDLE_INVALID),
    SIGNET_RV(CKR_UNWRAPPING_KEY_SIZE_RANGE),
    SIGNET_RV(CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT),
    SIGNET_RV(CKR_USER_ALREADY_LOGGED_IN),
    SIGNET_RV(CKR_USER_NOT_LOGGED_IN),
    SIGNET_RV(CKR_USER_PIN_NOT_INITIALIZED),
    SIGNET_RV(CKR_USER_TYPE_INVALID),
    SIGNET_RV(CKR_USER_ANOTHER_ALREADY_LOGGED_IN),
    SIGNET_RV(CKR_USER_TOO_MANY_TYPES),
    SIGNET_RV(CKR_WRAPPED_KEY_INVALID),
    SIGNET_RV(CKR_WRAPPED_KEY_LEN_RANGE),
    SIGNET_RV(CKR_WRAPPING_KEY_HANDLE_INVALID),
    SIGNET_RV(CKR_WRAPPING_KEY_SIZE_RANGE),
    SIGNET_RV(CKR_WRAPPING_KEY_TYPE_INCONSISTENT),
    SIGNET_RV(CKR_RANDOM_SEED_NOT_SUPPORTED),
    SIGNET_RV(CKR_RANDOM_NO_RNG),
    SIGNET_RV(CKR_DOMAIN_PARAMS_INVALID),
    SIGNET_RV(CKR_CURVE_NOT_SUPPORTED),
    SIGNET_RV(CKR_BUFFER_TOO_SMALL),
    SIGNET_RV(CKR_SAVED_STATE_INVALID),
    SIGNET_RV(CKR_INFORMATION_SENSITIVE),
    SIGNET_RV(CKR_STATE_UNSAVEABLE),
    SIGNET_RV(CKR_CRYPTOKI_NOT_INITIALIZED),
    SIGNET_RV(CKR_CRYPTOKI_ALREADY_INITIALIZED),
    SIGNET_RV(CKR_MUTEX_BAD),
    SIGNET_RV(CKR_MUTEX_NOT_LOCKED),
    SIGNET_RV(CKR_FUNCTION_REJECTED),
};
#undef SIGNET_RV

std::string hex(CK_RV rv) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "0x%lx", static_cast<unsigned long>(rv));
  return buffer;
}

std::string token_phrase(std::string_view token) {
  return token.empty() ? std::string("the token") : "token '" + std::string(token) + "'";
}

}  // namespace

std::string unblock_advice(bool so_pin) {
  if (so_pin) {
    return "a locked security officer PIN (PUK) cannot be unblocked: only re-initialising the "
           "token, which erases its keys, makes it usable again";
  }
  return "unblock it by logging in with the security officer PIN (a card's PUK) and setting a "
         "new user PIN (C_InitPIN), e.g. with 'pkcs11-tool --login --login-type so --init-pin' "
         "or the card vendor's tool";
}

std::string rv_name(CK_RV rv) {
  for (const auto& entry : kRvNames) {
    if (entry.rv == rv) return entry.name;
  }
  if (rv >= CKR_VENDOR_DEFINED) return "CKR_VENDOR_DEFINED+" + hex(rv - CKR_VENDOR_DEFINED);
  return "unknown CK_RV";
}

std::string operation_of(std::string_view function) {
  if (function.rfind("C_Sign", 0) == 0) return "sign";
  if (function.rfind("C_Generate", 0) == 0) return "generate_key";
  if (function == "C_Login") return "login";
  if (function == "C_OpenSession") return "open_session";
  if (function == "C_WrapKey") return "wrap";
  if (function == "C_UnwrapKey") return "unwrap";
  if (function.rfind("C_FindObjects", 0) == 0 || function == "C_GetAttributeValue") {
    return "find_key";
  }
  return std::string(function);
}

bool is_session_gone(CK_RV rv) {
  return rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED || rv == CKR_DEVICE_REMOVED ||
         rv == CKR_TOKEN_NOT_PRESENT;
}

bool is_stale_handle(CK_RV rv) {
  return rv == CKR_OBJECT_HANDLE_INVALID || rv == CKR_KEY_HANDLE_INVALID;
}

Error translate(CK_RV rv, const CallSite& site) {
  const std::string detail = std::string(site.function) + ": " + rv_name(rv) + " (" + hex(rv) + ")";
  const std::string token = token_phrase(site.token);
  const bool so = site.purpose == Purpose::kSoLogin || site.purpose == Purpose::kTokenInit;
  const char* pin_name = so ? "security officer PIN" : "PIN";
  switch (rv) {
    case CKR_PIN_INCORRECT:
      return Error(ErrorCode::kPinIncorrect, "the " + std::string(pin_name) + " for " + token +
                                                 " is incorrect (" + detail + ")");
    case CKR_PIN_LOCKED:
      return Error(ErrorCode::kPinLocked, "the " + std::string(pin_name) + " for " + token +
                                              " is locked after too many wrong attempts; " +
                                              unblock_advice(so) + " (" + detail + ")");
    case CKR_PIN_INVALID:
    case CKR_PIN_LEN_RANGE:
      return Error(ErrorCode::kInvalidArgument, "the " + std::string(pin_name) + " for " + token +
                                                    " has a length or characters the " +
                                                    "token does not accept (" + detail + ")");
    case CKR_PIN_EXPIRED:
      return Error(ErrorCode::kPinLocked,
                   "the PIN for " + token + " has expired and must be changed (" + detail + ")");
    case CKR_USER_PIN_NOT_INITIALIZED:
      return Error(ErrorCode::kTokenError,
                   token + " has no user PIN yet; initialise it first (" + detail + ")");
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_SLOT_ID_INVALID:
    case CKR_DEVICE_REMOVED:
      return Error(ErrorCode::kNotFound, token + " is not present (" + detail + ")");
    case CKR_TOKEN_NOT_RECOGNIZED:
      return Error(ErrorCode::kNotFound, token + " is not recognised (" + detail + ")");
    case CKR_DEVICE_MEMORY:
      return Error(ErrorCode::kTokenError,
                   token + " is full: it has no memory left for new objects (" + detail + ")");
    case CKR_TOKEN_WRITE_PROTECTED:
      return Error(ErrorCode::kPermissionDenied, token + " is write-protected (" + detail + ")");
    case CKR_HOST_MEMORY:
      return Error(ErrorCode::kInternal, "out of host memory (" + detail + ")");
    case CKR_USER_NOT_LOGGED_IN:
      return Error(ErrorCode::kPermissionDenied, "not logged in to " + token + " (" + detail + ")");
    case CKR_FUNCTION_NOT_SUPPORTED:
      return Error(ErrorCode::kNotSupported, "the PKCS#11 module of " + token +
                                                 " does not implement " + site.function + " (" +
                                                 detail + ")");
    case CKR_KEY_FUNCTION_NOT_PERMITTED:
      return Error(ErrorCode::kPermissionDenied,
                   "the key on " + token + " is not permitted to do this (" + detail + ")");
    case CKR_MECHANISM_INVALID:
    case CKR_MECHANISM_PARAM_INVALID:
    case CKR_ATTRIBUTE_VALUE_INVALID:
    case CKR_ATTRIBUTE_TYPE_INVALID:
    case CKR_TEMPLATE_INCONSISTENT:
    case CKR_DOMAIN_PARAMS_INVALID:
    case CKR_CURVE_NOT_SUPPORTED:
    case CKR_KEY_SIZE_RANGE:
      if (site.purpose == Purpose::kKeyGeneration) {
        return Error(ErrorCode::kNotSupported,
                     token + " cannot generate a key of this kind (" + detail + ")");
      }
      break;
    case CKR_WRAPPED_KEY_INVALID:
    case CKR_WRAPPED_KEY_LEN_RANGE:
    case CKR_ENCRYPTED_DATA_INVALID:
    case CKR_ENCRYPTED_DATA_LEN_RANGE:
    // SoftHSM 2.6 answers a failed RFC 5649 integrity check with CKR_GENERAL_ERROR.
    case CKR_GENERAL_ERROR:
    case CKR_FUNCTION_FAILED:
      if (site.purpose == Purpose::kUnwrap) {
        return Error(ErrorCode::kVerificationFailed,
                     "the wrapped secret fails its integrity check on " + token +
                         ": it was altered, or wrapped under another key (" + detail + ")");
      }
      break;
    default:
      break;
  }
  return Error(ErrorCode::kTokenError, std::string(site.function) + " failed on " + token + ": " +
                                           rv_name(rv) + " (" + hex(rv) + ")");
}

}  // namespace signet::hsm::internal
