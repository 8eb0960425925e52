// Subject alternative names as operators write them: "DNS:www.example.com", "IP:192.0.2.1",
// "email:ops@example.com", "URI:https://example.com/", "UPN:ada@corp.example" (Microsoft's user
// principal name, an otherName with type-id 1.3.6.1.4.1.311.20.2.3 and a UTF8String value, as
// smart-card logon certificates carry it). Value type.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"

namespace signet::pki {

struct GeneralName {
  enum class Type { kDns, kIp, kEmail, kUri, kUpn };
  Type type = Type::kDns;
  // DNS: lower-cased ASCII name; IP: printable address (IPv4 dotted or IPv6 RFC 5952);
  // email, URI, UPN: as given.
  std::string value;
  base::Bytes ip_octets;  // the 4 or 16 address octets when type == kIp

  std::string to_string() const;  // "DNS:www.example.com"
  bool operator==(const GeneralName&) const = default;
};

// Parses "TYPE:value" and checks the value's syntax: DNS labels (LDH, 1-63 octets, total <= 253,
// an optional leading "*." wildcard), an IPv4/IPv6 address, an addr-spec with one '@', an
// absolute URI with a scheme, a UPN of the form user@realm (UTF-8, no control characters). Every
// failure names the name and what is wrong with it.
base::Result<GeneralName> parse_general_name(std::string_view text);

// Checks the syntax of a name that arrived in a CSR or certificate (same rules as above).
base::Result<void> validate_general_name(const GeneralName& name);

}  // namespace signet::pki
