#include "pki/general_name.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace signet::pki {

using base::Error;
using base::ErrorCode;

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

Error invalid(const GeneralName& name, const std::string& problem) {
  return Error(ErrorCode::kInvalidArgument,
               "subjectAltName '" + name.to_string() + "' is invalid: " + problem);
}

bool is_ldh(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

// True for printable ASCII without spaces: what an IA5String name may hold in a certificate.
bool printable_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

// RFC 5280 §4.2.1.6 and RFC 1034 §3.5 (preferred name syntax, letters digits hyphen), with
// the leftmost-label "*" wildcard of RFC 6125 §6.4.3 as the only exception.
base::Result<void> validate_dns(const GeneralName& name) {
  std::string_view host = name.value;
  if (host.empty()) return invalid(name, "the DNS name is empty");
  if (host.size() > 253) return invalid(name, "the DNS name is longer than 253 characters");
  if (host.starts_with("*.")) host.remove_prefix(2);
  if (host.empty()) return invalid(name, "a wildcard needs a domain after '*.'");
  std::size_t pos = 0;
  while (pos <= host.size()) {
    const std::size_t end = std::min(host.find('.', pos), host.size());
    const std::string_view label = host.substr(pos, end - pos);
    if (label.empty()) return invalid(name, "it has an empty label");
    if (label.size() > 63) {
      return invalid(name, "label '" + std::string(label) + "' is longer than 63 characters");
    }
    if (label.find('*') != std::string_view::npos) {
      return invalid(name, "a wildcard is allowed only as the whole leftmost label ('*.')");
    }
    for (char c : label) {
      if (!is_ldh(c)) {
        return invalid(
            name, (static_cast<unsigned char>(c) >= 0x80
                       ? std::string("non-ASCII characters must use the A-label "
                                     "form (xn--)")
                       : "label '" + std::string(label) + "' has the character '" +
                             std::string(1, c) + "' (only letters, digits and '-' are allowed)"));
      }
    }
    if (label.front() == '-' || label.back() == '-') {
      return invalid(name, "label '" + std::string(label) + "' begins or ends with '-'");
    }
    pos = end + 1;
  }
  return base::ok();
}

base::Result<void> validate_ip(const GeneralName& name) {
  if (name.ip_octets.size() != 4 && name.ip_octets.size() != 16) {
    return invalid(
        name, "an IP address has 4 or 16 octets, not " + std::to_string(name.ip_octets.size()));
  }
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(name.ip_octets.size() == 4 ? AF_INET : AF_INET6, name.ip_octets.data(), text,
            sizeof(text));
  if (name.value != text) {
    return invalid(name, "the text does not match the address octets (" + std::string(text) + ")");
  }
  return base::ok();
}

// RFC 5280 §4.2.1.6: an rfc822Name is an addr-spec (local-part "@" domain), IA5String.
base::Result<void> validate_email(const GeneralName& name) {
  const std::string& value = name.value;
  const std::size_t at = value.find('@');
  if (at == std::string::npos) return invalid(name, "an email address needs an '@'");
  if (value.find('@', at + 1) != std::string::npos) {
    return invalid(name, "an email address has exactly one '@'");
  }
  if (at == 0) return invalid(name, "the part before '@' is empty");
  if (at + 1 == value.size()) return invalid(name, "the domain after '@' is empty");
  if (!printable_ascii(value)) {
    return invalid(name, "an email address may hold only printable ASCII without spaces");
  }
  return base::ok();
}

// A UPN is user@realm (MS-ADTS §3.1.1.5.2.1 "userPrincipalName"); UTF-8 is allowed, control
// characters are not.
base::Result<void> validate_upn(const GeneralName& name) {
  const std::string& value = name.value;
  const std::size_t at = value.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 == value.size()) {
    return invalid(name, "a user principal name has the form user@realm");
  }
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f)
      return invalid(name, "a user principal name has a control character");
  }
  return base::ok();
}

// RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then ":".
base::Result<void> validate_uri(const GeneralName& name) {
  const std::string& value = name.value;
  const std::size_t colon = value.find(':');
  if (colon == std::string::npos || colon == 0) {
    return invalid(name, "a URI needs a scheme (e.g. 'https:')");
  }
  if (!std::isalpha(static_cast<unsigned char>(value[0])) ||
      !std::all_of(value.begin(), value.begin() + static_cast<std::ptrdiff_t>(colon), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
      })) {
    return invalid(name, "the URI scheme '" + value.substr(0, colon) + "' is not valid");
  }
  if (colon + 1 == value.size()) return invalid(name, "the URI has nothing after its scheme");
  if (!printable_ascii(value)) {
    return invalid(name,
                   "a URI may hold only printable ASCII without spaces "
                   "(percent-encode the rest)");
  }
  return base::ok();
}

}  // namespace

std::string GeneralName::to_string() const {
  switch (type) {
    case Type::kDns:
      return "DNS:" + value;
    case Type::kIp:
      return "IP:" + value;
    case Type::kEmail:
      return "email:" + value;
    case Type::kUri:
      return "URI:" + value;
    case Type::kUpn:
      return "UPN:" + value;
  }
  return value;
}

base::Result<GeneralName> parse_general_name(std::string_view text) {
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return Error(ErrorCode::kInvalidArgument,
                 "subjectAltName '" + std::string(text) +
                     "' has no type (write DNS:, IP:, email:, URI: or UPN: before the value)");
  }
  const std::string_view type = text.substr(0, colon);
  const std::string_view value = text.substr(colon + 1);
  GeneralName name;
  name.value = std::string(value);
  if (iequals(type, "DNS")) {
    name.type = GeneralName::Type::kDns;
    for (char& c : name.value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  } else if (iequals(type, "IP")) {
    name.type = GeneralName::Type::kIp;
    const std::string address(value);
    std::uint8_t octets[16];
    if (inet_pton(AF_INET, address.c_str(), octets) == 1) {
      name.ip_octets.assign(octets, octets + 4);
    } else if (inet_pton(AF_INET6, address.c_str(), octets) == 1) {
      name.ip_octets.assign(octets, octets + 16);
    } else {
      return Error(ErrorCode::kInvalidArgument, "subjectAltName '" + std::string(text) +
                                                    "' is invalid: not an IPv4 or IPv6 address");
    }
    char canonical[INET6_ADDRSTRLEN] = {};
    inet_ntop(name.ip_octets.size() == 4 ? AF_INET : AF_INET6, name.ip_octets.data(), canonical,
              sizeof(canonical));
    name.value = canonical;  // RFC 5952 form for IPv6
  } else if (iequals(type, "email")) {
    name.type = GeneralName::Type::kEmail;
  } else if (iequals(type, "URI")) {
    name.type = GeneralName::Type::kUri;
  } else if (iequals(type, "UPN")) {
    name.type = GeneralName::Type::kUpn;
  } else {
    return Error(ErrorCode::kInvalidArgument, "subjectAltName '" + std::string(text) +
                                                  "' has the unknown type '" + std::string(type) +
                                                  "' (expected DNS, IP, email, URI or UPN)");
  }
  SIGNET_TRY(validate_general_name(name));
  return name;
}

base::Result<void> validate_general_name(const GeneralName& name) {
  switch (name.type) {
    case GeneralName::Type::kDns:
      return validate_dns(name);
    case GeneralName::Type::kIp:
      return validate_ip(name);
    case GeneralName::Type::kEmail:
      return validate_email(name);
    case GeneralName::Type::kUri:
      return validate_uri(name);
    case GeneralName::Type::kUpn:
      return validate_upn(name);
  }
  return Error(ErrorCode::kInvalidArgument, "subjectAltName of an unknown type");
}

}  // namespace signet::pki
