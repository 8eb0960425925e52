// Byte strings and their text encodings (hex, base64). Plain value functions, thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace signet::base {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView as_bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}
inline std::string_view as_chars(ByteView bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Lower-case hex; with a separator (e.g. ':') between bytes when `separator` is not '\0'.
std::string to_hex(ByteView bytes, char separator = '\0');
std::string to_hex_upper(ByteView bytes, char separator = '\0');
// Accepts either case, with or without ':' between bytes; refuses anything else.
Result<Bytes> from_hex(std::string_view text);

std::string to_base64(ByteView bytes);
Result<Bytes> from_base64(std::string_view text);

// Constant-time equality for secrets and MACs (the lengths are not secret).
bool constant_time_equal(ByteView a, ByteView b);

}  // namespace signet::base
