#include <catch2/catch.hpp>

#include "pki/general_name.h"

using namespace signet;
using namespace signet::pki;

namespace {

std::string error_of(std::string_view text) {
  auto result = parse_general_name(text);
  REQUIRE_FALSE(result);
  return result.error().message();
}

}  // namespace

TEST_CASE("SANs parse with a case-insensitive type and normalised values") {
  auto dns = parse_general_name("dns:WWW.Example.COM");
  REQUIRE(dns);
  CHECK(dns->type == GeneralName::Type::kDns);
  CHECK(dns->value == "www.example.com");
  CHECK(dns->to_string() == "DNS:www.example.com");

  auto wildcard = parse_general_name("DNS:*.example.com");
  REQUIRE(wildcard);
  CHECK(wildcard->value == "*.example.com");
  CHECK(parse_general_name("DNS:xn--mller-kva.example").has_value());
  CHECK(parse_general_name("DNS:a-b.c1").has_value());

  auto v4 = parse_general_name("IP:192.0.2.1");
  REQUIRE(v4);
  CHECK(v4->ip_octets == base::Bytes{192, 0, 2, 1});
  CHECK(v4->to_string() == "IP:192.0.2.1");

  auto v6 = parse_general_name("ip:2001:DB8:0:0:0:0:0:1");
  REQUIRE(v6);
  CHECK(v6->value == "2001:db8::1");  // RFC 5952
  CHECK(v6->ip_octets.size() == 16);
  CHECK(v6->ip_octets[0] == 0x20);
  CHECK(v6->ip_octets[15] == 0x01);

  auto email = parse_general_name("EMAIL:ops@example.com");
  REQUIRE(email);
  CHECK(email->type == GeneralName::Type::kEmail);
  CHECK(email->to_string() == "email:ops@example.com");

  auto uri = parse_general_name("URI:https://example.com/a?b=c");
  REQUIRE(uri);
  CHECK(uri->type == GeneralName::Type::kUri);
  CHECK(uri->value == "https://example.com/a?b=c");
  CHECK(parse_general_name("uri:urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6").has_value());
}

TEST_CASE("invalid SANs are refused naming the SAN and the problem") {
  std::string e = error_of("DNS:bad_name.example.com");
  CHECK(e.find("DNS:bad_name.example.com") != std::string::npos);
  CHECK(e.find("'_'") != std::string::npos);
  CHECK(error_of("DNS:www.*.example.com").find("wildcard") != std::string::npos);
  CHECK(error_of("DNS:w*.example.com").find("wildcard") != std::string::npos);
  CHECK(error_of("DNS:*.").find("wildcard needs a domain") != std::string::npos);
  CHECK(error_of("DNS:-a.example.com").find("begins or ends with '-'") != std::string::npos);
  CHECK(error_of("DNS:a-.example.com").find("begins or ends with '-'") != std::string::npos);
  CHECK(error_of("DNS:a..example.com").find("empty label") != std::string::npos);
  CHECK(error_of("DNS:example.com.").find("empty label") != std::string::npos);
  CHECK(error_of("DNS:").find("empty") != std::string::npos);
  CHECK(error_of("DNS:" + std::string(64, 'a') + ".com").find("longer than 63") !=
        std::string::npos);
  std::string long_name;
  for (int i = 0; i < 51; ++i) long_name += "abcd.";
  long_name += "com";  // 258 characters
  CHECK(error_of("DNS:" + long_name).find("longer than 253") != std::string::npos);
  CHECK(error_of("DNS:m\xc3\xbcller.de").find("xn--") != std::string::npos);
  CHECK(error_of("IP:300.1.1.1").find("not an IPv4 or IPv6 address") != std::string::npos);
  CHECK(error_of("IP:example.com").find("IP:example.com") != std::string::npos);
  CHECK(error_of("email:a@b@c").find("exactly one '@'") != std::string::npos);
  CHECK(error_of("email:@example.com").find("before '@' is empty") != std::string::npos);
  CHECK(error_of("email:ops@").find("after '@' is empty") != std::string::npos);
  CHECK(error_of("email:nobody").find("needs an '@'") != std::string::npos);
  CHECK(error_of("URI:example.com/path").find("needs a scheme") != std::string::npos);
  CHECK(error_of("URI:1http://x").find("scheme '1http'") != std::string::npos);
  CHECK(error_of("URI:https://exa mple.com").find("printable ASCII") != std::string::npos);
  CHECK(error_of("FOO:bar").find("unknown type 'FOO'") != std::string::npos);
  CHECK(error_of("www.example.com").find("has no type") != std::string::npos);
}

TEST_CASE("validate_general_name checks names that did not come from text") {
  GeneralName ip;
  ip.type = GeneralName::Type::kIp;
  ip.ip_octets = {10, 0, 0};
  ip.value = "10.0.0";
  auto short_ip = validate_general_name(ip);
  REQUIRE_FALSE(short_ip);
  CHECK(short_ip.error().message().find("4 or 16 octets") != std::string::npos);
  ip.ip_octets = {10, 0, 0, 1};
  ip.value = "10.0.0.2";
  CHECK_FALSE(validate_general_name(ip));
  ip.value = "10.0.0.1";
  CHECK(validate_general_name(ip));
}

TEST_CASE("a user principal name parses as UPN and is checked for its form") {
  auto upn = parse_general_name("upn:ada@CORP.example");
  REQUIRE(upn);
  CHECK(upn->type == GeneralName::Type::kUpn);
  CHECK(upn->value == "ada@CORP.example");
  CHECK(upn->to_string() == "UPN:ada@CORP.example");
  CHECK(parse_general_name("UPN:jürgen@corp.example").has_value());  // UTF-8 is allowed
  CHECK(error_of("UPN:ada").find("user@realm") != std::string::npos);
  CHECK(error_of("UPN:@corp.example").find("user@realm") != std::string::npos);
  CHECK(error_of("UPN:ada@corp\texample").find("control character") != std::string::npos);
  CHECK(error_of("X400:ada").find("DNS, IP, email, URI or UPN") != std::string::npos);
}
