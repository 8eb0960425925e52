// SerialNumber: an X.509 certificate serial, held as its minimal positive big-endian magnitude.
// RFC 5280 §4.1.2.2: positive, at most 20 octets; CA/B Forum: at least 64 random bits (we use
// 128 from the injected CSPRNG). Value type; thread-safe to share.
#pragma once

#include <compare>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "base/rng.h"

namespace signet::pki {

class SerialNumber {
 public:
  SerialNumber() = default;
  // From a big-endian magnitude; leading zero bytes are dropped. Refuses zero and > 20 octets.
  static base::Result<SerialNumber> from_bytes(base::ByteView magnitude);
  // Hex, either case, with or without ':' separators (as `openssl x509 -serial` prints it).
  static base::Result<SerialNumber> from_hex(std::string_view hex);
  // 128 random bits, never zero.
  static base::Result<SerialNumber> random(base::Rng& rng);

  const base::Bytes& magnitude() const { return magnitude_; }
  // The content octets of the DER INTEGER (a 0x00 prefix when the top bit is set).
  base::Bytes der_content() const;
  std::string to_hex() const;  // upper-case, no separators, as openssl prints serials

  auto operator<=>(const SerialNumber&) const = default;

 private:
  base::Bytes magnitude_;
};

}  // namespace signet::pki
