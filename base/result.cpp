#include "base/result.h"

namespace signet::base {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid argument";
    case ErrorCode::kNotFound:
      return "not found";
    case ErrorCode::kAlreadyExists:
      return "already exists";
    case ErrorCode::kPermissionDenied:
      return "permission denied";
    case ErrorCode::kPolicyViolation:
      return "policy violation";
    case ErrorCode::kVerificationFailed:
      return "verification failed";
    case ErrorCode::kPinIncorrect:
      return "PIN incorrect";
    case ErrorCode::kPinLocked:
      return "PIN locked";
    case ErrorCode::kNotSupported:
      return "not supported";
    case ErrorCode::kTokenError:
      return "token error";
    case ErrorCode::kCryptoError:
      return "cryptographic error";
    case ErrorCode::kStorageFull:
      return "storage full";
    case ErrorCode::kStorageError:
      return "storage error";
    case ErrorCode::kIoError:
      return "I/O error";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kResourceExhausted:
      return "resource exhausted";
    case ErrorCode::kInternal:
      return "internal error";
  }
  return "unknown error";
}

std::string Error::describe() const {
  std::string out;
  for (auto it = context_.rbegin(); it != context_.rend(); ++it) {
    out += *it;
    out += ": ";
  }
  out += message_;
  return out;
}

}  // namespace signet::base
