#include "token/internal/pcsc_call.h"

#include <cstdio>

namespace signet::token::internal {
namespace {

using base::Error;
using base::ErrorCode;

struct CodeName {
  LONG rc;
  const char* name;
};

#define SIGNET_SCARD(name) \
  { name, #name }
constexpr CodeName kCodes[] = {
    SIGNET_SCARD(SCARD_S_SUCCESS),
    SIGNET_SCARD(SCARD_F_INTERNAL_ERROR),
    SIGNET_SCARD(SCARD_E_CANCELLED),
    SIGNET_SCARD(SCARD_E_INVALID_HANDLE),
    SIGNET_SCARD(SCARD_E_INVALID_PARAMETER),
    SIGNET_SCARD(SCARD_E_NO_MEMORY),
    SIGNET_SCARD(SCARD_E_INSUFFICIENT_BUFFER),
    SIGNET_SCARD(SCARD_E_UNKNOWN_READER),
    SIGNET_SCARD(SCARD_E_TIMEOUT),
    SIGNET_SCARD(SCARD_E_SHARING_VIOLATION),
    SIGNET_SCARD(SCARD_E_NO_SMARTCARD),
    SIGNET_SCARD(SCARD_E_UNKNOWN_CARD),
    SIGNET_SCARD(SCARD_E_PROTO_MISMATCH),
    SIGNET_SCARD(SCARD_E_NOT_READY),
    SIGNET_SCARD(SCARD_E_INVALID_VALUE),
    SIGNET_SCARD(SCARD_E_SYSTEM_CANCELLED),
    SIGNET_SCARD(SCARD_F_COMM_ERROR),
    SIGNET_SCARD(SCARD_F_UNKNOWN_ERROR),
    SIGNET_SCARD(SCARD_E_READER_UNAVAILABLE),
    SIGNET_SCARD(SCARD_E_NO_SERVICE),
    SIGNET_SCARD(SCARD_E_SERVICE_STOPPED),
    SIGNET_SCARD(SCARD_E_UNEXPECTED),
    SIGNET_SCARD(SCARD_E_NO_READERS_AVAILABLE),
    SIGNET_SCARD(SCARD_E_UNSUPPORTED_FEATURE),
    SIGNET_SCARD(SCARD_W_UNRESPONSIVE_CARD),
    SIGNET_SCARD(SCARD_W_UNPOWERED_CARD),
    SIGNET_SCARD(SCARD_W_RESET_CARD),
    SIGNET_SCARD(SCARD_W_REMOVED_CARD),
};
#undef SIGNET_SCARD

std::string reader_phrase(std::string_view reader) {
  return reader.empty() ? std::string("the reader") : "reader '" + std::string(reader) + "'";
}

}  // namespace

std::string pcsc_code_name(LONG rc) {
  char hex[24];
  std::snprintf(hex, sizeof(hex), "0x%08lX", static_cast<unsigned long>(rc) & 0xffffffffUL);
  for (const auto& entry : kCodes) {
    if (entry.rc == rc) return std::string(entry.name) + " (" + hex + ")";
  }
  return std::string("PC/SC error ") + hex;
}

bool is_service_gone(LONG rc) {
  // After pcscd restarts, calls on a context from before answer SCARD_E_INVALID_HANDLE (the new
  // daemon never issued it) or a communication error on the dead socket.
  return rc == SCARD_E_NO_SERVICE || rc == SCARD_E_SERVICE_STOPPED ||
         rc == SCARD_E_INVALID_HANDLE || rc == SCARD_F_COMM_ERROR;
}

Error pcsc_error(LONG rc, std::string_view call, std::string_view reader) {
  const std::string detail = std::string(call) + ": " + pcsc_code_name(rc);
  switch (rc) {
    case SCARD_E_NO_SERVICE:
      return Error(ErrorCode::kUnavailable,
                   "pcscd is not running: start the PC/SC daemon ('pcscd', or 'systemctl start "
                   "pcscd.socket') (" +
                       detail + ")");
    case SCARD_E_SERVICE_STOPPED:
    case SCARD_F_COMM_ERROR:
      return Error(ErrorCode::kUnavailable,
                   "pcscd stopped while we were using it (" + detail + ")");
    case SCARD_E_INVALID_HANDLE:
      return Error(ErrorCode::kUnavailable,
                   "the PC/SC context is no longer valid (pcscd restarted?) (" + detail + ")");
    case SCARD_E_UNKNOWN_READER:
      return Error(ErrorCode::kNotFound,
                   reader.empty()
                       ? "a reader vanished (" + detail + ")"
                       : "no reader named '" + std::string(reader) + "' (" + detail + ")");
    case SCARD_E_READER_UNAVAILABLE:
      return Error(ErrorCode::kUnavailable,
                   reader_phrase(reader) + " is unavailable (unplugged?) (" + detail + ")");
    case SCARD_E_NO_SMARTCARD:
    case SCARD_W_REMOVED_CARD:
      return Error(ErrorCode::kNotFound,
                   "there is no card in " + reader_phrase(reader) + " (" + detail + ")");
    case SCARD_W_UNRESPONSIVE_CARD:
      return Error(ErrorCode::kIoError, "the card in " + reader_phrase(reader) +
                                            " does not answer (inserted the wrong way?) (" +
                                            detail + ")");
    case SCARD_E_SHARING_VIOLATION:
      return Error(ErrorCode::kUnavailable, "the card in " + reader_phrase(reader) +
                                                " is held exclusively by another program (" +
                                                detail + ")");
    case SCARD_E_NO_MEMORY:
      return Error(ErrorCode::kInternal, "out of memory in PC/SC (" + detail + ")");
    default:
      return Error(ErrorCode::kIoError, "PC/SC failed: " + detail);
  }
}

}  // namespace signet::token::internal
