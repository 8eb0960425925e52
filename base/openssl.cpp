#include "base/openssl.h"

#include <openssl/err.h>

namespace signet::base {

std::string drain_openssl_errors() {
  std::string out;
  unsigned long code = 0;
  char buffer[256];
  const char* data = nullptr;
  int flags = 0;
  // With the data string: a provider (hsm/openssl_provider.h) puts the token's own message
  // there, and it is the part that says what went wrong.
  while ((code = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) != 0) {
    ERR_error_string_n(code, buffer, sizeof(buffer));
    if (!out.empty()) out += "; ";
    out += buffer;
    if (data != nullptr && *data != '\0' && (flags & ERR_TXT_STRING) != 0) {
      out += " (";
      out += data;
      out += ")";
    }
  }
  return out;
}

Error openssl_error(ErrorCode code, std::string what) {
  std::string detail = drain_openssl_errors();
  if (!detail.empty()) what += " (" + detail + ")";
  return Error(code, std::move(what));
}

}  // namespace signet::base
