#include "firmware-config/configuration.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace signet::firmware_config {

using base::Error;
using base::ErrorCode;
using base::Result;

std::string ListenAddress::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<ListenAddress> parse_listen_address(std::string_view text) {
  const auto bad = [&](std::string why) {
    return Error(ErrorCode::kInvalidArgument, "'" + std::string(text) + "' is not ADDRESS:PORT (" +
                                                  why + "; e.g. 127.0.0.1:8443, [::1]:8443)");
  };
  ListenAddress out;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return bad("an IPv6 address in brackets needs :PORT after it");
    }
    out.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
    in6_addr address{};
    if (::inet_pton(AF_INET6, out.host.c_str(), &address) != 1) {
      return bad("'" + out.host + "' is not an IPv6 address");
    }
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return bad("no :PORT");
    out.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    if (out.host.find(':') != std::string::npos) return bad("IPv6 addresses go in brackets");
    in_addr address{};
    if (::inet_pton(AF_INET, out.host.c_str(), &address) != 1) {
      return bad("'" + out.host + "' is not an IPv4 address");
    }
  }
  unsigned port = 0;
  const auto [ptr, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || ptr != port_text.data() + port_text.size() ||
      port > 65535) {
    return bad("the port must be 0 to 65535");
  }
  out.port = static_cast<std::uint16_t>(port);
  return out;
}

std::string_view to_string(TlsVersion version) {
  return version == TlsVersion::kTls13 ? "1.3" : "1.2";
}

Configuration Configuration::defaults(std::string default_module) {
  Configuration c;
  c.pkcs11.modules.push_back({"default", std::move(default_module), std::nullopt});
  return c;
}

const Pkcs11Token* Configuration::default_token() const {
  const auto& tokens = pkcs11.tokens;
  if (!pkcs11.default_token.empty()) {
    const auto it = std::find_if(tokens.begin(), tokens.end(),
                                 [&](const auto& t) { return t.label == pkcs11.default_token; });
    return it == tokens.end() ? nullptr : &*it;
  }
  return tokens.size() == 1 ? &tokens.front() : nullptr;
}

const Pkcs11Module* Configuration::module_of(const Pkcs11Token& token) const {
  const auto& modules = pkcs11.modules;
  if (token.module.empty()) return modules.empty() ? nullptr : &modules.front();
  const auto it = std::find_if(modules.begin(), modules.end(),
                               [&](const auto& m) { return m.name == token.module; });
  return it == modules.end() ? nullptr : &*it;
}

}  // namespace signet::firmware_config
