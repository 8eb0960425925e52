// Distinguished names: parsing what operators type and printing what OpenSSL prints.
// Plain functions, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"

namespace signet::pki {

// Parses an RFC 4514 string as `openssl x509 -nameopt RFC2253` prints it ("CN=www,O=Ex,C=DE",
// most significant RDN last) or OpenSSL's slash form ("/C=DE/O=Ex/CN=www", most significant
// first), and returns the DER Name (RDNs in X.509 order). Attribute strings are UTF8String
// (RFC 5280 §4.1.2.4) except: countryName and jurisdictionCountryName (PrintableString, 2
// letters), serialNumber and dnQualifier (PrintableString, as X.520 defines them), and
// emailAddress and domainComponent (IA5String, RFC 5280 §4.1.2.6 and RFC 4519).
// RFC 4514 values may be "#" + the hex DER of a string (as OpenSSL prints unknown types).
// Refuses unknown attribute types, empty values, bad escapes, and an empty name.
base::Result<base::Bytes> parse_distinguished_name(std::string_view text);

// The RFC 2253 form of a DER Name, exactly as `openssl x509 -nameopt RFC2253` prints it.
base::Result<std::string> format_distinguished_name(base::ByteView name_der);

// The first commonName of a DER Name as UTF-8, or "" when it has none.
base::Result<std::string> common_name_of(base::ByteView name_der);

// True for the DER of an empty Name (SEQUENCE {}).
bool is_empty_name(base::ByteView name_der);

// One attribute of a Name, by OpenSSL's short name ("CN", "O", "OU", "C", "L", "ST",
// "emailAddress", "serialNumber", "DC", "UID"...; the dotted OID for others) and its value as
// UTF-8.
struct NameAttribute {
  std::string type;
  std::string value;
  bool operator==(const NameAttribute&) const = default;
};

// The attributes of a DER Name in X.509 order (most significant first); multi-valued RDNs are
// flattened. kInvalidArgument for a malformed Name.
base::Result<std::vector<NameAttribute>> name_attributes(base::ByteView name_der);

// Encodes attributes (X.509 order, one per RDN) as a DER Name with the string types
// parse_distinguished_name uses. kInvalidArgument for an unknown type or an empty value.
base::Result<base::Bytes> encode_name(const std::vector<NameAttribute>& attributes);

}  // namespace signet::pki
