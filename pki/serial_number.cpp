#include "pki/serial_number.h"

#include <algorithm>

namespace signet::pki {

using base::Error;
using base::ErrorCode;

base::Result<SerialNumber> SerialNumber::from_bytes(base::ByteView magnitude) {
  auto first = std::find_if(magnitude.begin(), magnitude.end(), [](auto b) { return b != 0; });
  if (first == magnitude.end()) {
    return Error(ErrorCode::kInvalidArgument, "a serial number must be positive, not zero");
  }
  SerialNumber serial;
  serial.magnitude_.assign(first, magnitude.end());
  // RFC 5280 §4.1.2.2: at most 20 octets of DER content (including a 0x00 sign octet).
  if (serial.der_content().size() > 20) {
    return Error(ErrorCode::kInvalidArgument, "a serial number may be at most 20 octets long");
  }
  return serial;
}

base::Result<SerialNumber> SerialNumber::from_hex(std::string_view hex) {
  auto bytes = base::from_hex(hex);
  if (!bytes) {
    return Error(ErrorCode::kInvalidArgument,
                 "'" + std::string(hex) + "' is not a serial number (hex, optional ':')");
  }
  return from_bytes(*bytes);
}

base::Result<SerialNumber> SerialNumber::random(base::Rng& rng) {
  base::Bytes bytes(16);
  for (int attempt = 0; attempt < 8; ++attempt) {
    SIGNET_TRY(rng.fill(bytes));
    auto serial = from_bytes(bytes);
    if (serial) return serial;  // only zero fails, with odds of 2^-128
  }
  return Error(ErrorCode::kInternal, "the random source returned zeros repeatedly");
}

base::Bytes SerialNumber::der_content() const {
  base::Bytes out;
  out.reserve(magnitude_.size() + 1);
  if (!magnitude_.empty() && (magnitude_[0] & 0x80) != 0) out.push_back(0x00);
  out.insert(out.end(), magnitude_.begin(), magnitude_.end());
  return out;
}

std::string SerialNumber::to_hex() const { return base::to_hex_upper(magnitude_); }

}  // namespace signet::pki
