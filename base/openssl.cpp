#include "base/openssl.h"

#include <openssl/err.h>

namespace signet::base {

std::string drain_openssl_errors() {
  std::string out;
  unsigned long code = 0;
  char buffer[256];
  while ((code = ERR_get_error()) != 0) {
    ERR_error_string_n(code, buffer, sizeof(buffer));
    if (!out.empty()) out += "; ";
    out += buffer;
  }
  return out;
}

Error openssl_error(ErrorCode code, std::string what) {
  std::string detail = drain_openssl_errors();
  if (!detail.empty()) what += " (" + detail + ")";
  return Error(code, std::move(what));
}

}  // namespace signet::base
