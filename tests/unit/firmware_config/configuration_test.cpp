#include <catch2/catch.hpp>
#include <cstdlib>

#include "firmware-config/loader.h"
#include "tests/support/test_support.h"
#include "tests/unit/firmware_config/config_test_support.h"

using namespace signet::firmware_config;
using signet::firmware_config::test::accepting_probes;
using signet::firmware_config::test::kDefaultModule;
using signet::firmware_config::test::parse;

namespace {

std::string example_path() {
  const char* source = std::getenv("SIGNET_SOURCE_DIR");
  REQUIRE(source != nullptr);
  return std::string(source) + "/docs/signet.example.toml";
}

}  // namespace

TEST_CASE("an empty file gives the factory defaults, which are signetd's behaviour without one") {
  auto loaded = parse("");
  REQUIRE(loaded.ok());
  const auto& c = loaded.configuration;
  CHECK(c == Configuration::defaults(kDefaultModule));
  CHECK(c.listen.https.to_string() == "127.0.0.1:8443");
  CHECK(c.listen.http.to_string() == "127.0.0.1:8080");
  CHECK(c.tls.min_version == TlsVersion::kTls12);
  CHECK(c.limits.max_connections == 512);
  CHECK(c.limits.max_body_bytes == 1024 * 1024);
  CHECK(c.limits.header_timeout == std::chrono::milliseconds(10'000));
  CHECK(c.limits.worker_threads == 32);
  CHECK(c.sessions.idle == std::chrono::minutes(15));
  CHECK(c.sessions.lifetime == std::chrono::hours(8));
  CHECK(c.ca.scheduler_interval == std::chrono::seconds(60));
  REQUIRE(c.pkcs11.modules.size() == 1);
  CHECK(c.pkcs11.modules[0].path == kDefaultModule);
  CHECK(c.pkcs11.tokens.empty());
  CHECK(c.default_token() == nullptr);
  CHECK(c.state.directory.empty());
  CHECK(c.bootstrap.operators.admin_name == "admin");
  CHECK(c.hardening.seccomp);
  CHECK_FALSE(c.pkcs11.modules[0].seccomp_allow);
  CHECK(c.logging.level == LogLevel::kInfo);
}

TEST_CASE("the example file is valid and survives a round trip through to_toml") {
  auto loaded = load_configuration_file(example_path(), kDefaultModule, accepting_probes());
  INFO((loaded.issues.empty() ? std::string() : loaded.issues.front().describe("example")));
  REQUIRE(loaded.ok());
  const auto& c = loaded.configuration;
  CHECK(c.listen.https.to_string() == "0.0.0.0:8443");
  CHECK(c.tls.min_version == TlsVersion::kTls13);
  CHECK(c.tls.extra_names == std::vector<std::string>{"pki.example.com", "192.0.2.10"});
  CHECK(c.limits.max_body_bytes == 2097152);
  CHECK(c.sessions.idle == std::chrono::seconds(600));
  REQUIRE(c.pkcs11.modules.size() == 1);
  CHECK(c.pkcs11.modules[0].name == "softhsm");
  REQUIRE(c.pkcs11.tokens.size() == 2);
  CHECK(c.pkcs11.tokens[1].pin.credential == "signet-audit-pin");
  REQUIRE(c.default_token() != nullptr);
  CHECK(c.default_token()->pin.file == "/var/lib/signet/pins/signet.user.pin");
  CHECK(c.module_of(*c.default_token())->path == "/usr/lib/softhsm/libsofthsm2.so");
  CHECK(c.ca.publish_base_url == "http://pki.example.com");
  CHECK(c.hardening.user == "signet");

  const auto text = to_toml(c);
  auto again = parse(text);
  INFO(text);
  REQUIRE(again.ok());
  CHECK(again.configuration == c);
}

TEST_CASE("to_toml writes every default and reads back to the defaults") {
  const auto defaults = Configuration::defaults(kDefaultModule);
  const auto text = to_toml(defaults);
  CHECK(text.find("max_connections = 512") != std::string::npos);
  CHECK(text.find("[bootstrap.operators]") != std::string::npos);
  auto again = parse(text);
  REQUIRE(again.ok());
  CHECK(again.configuration == defaults);
}

TEST_CASE("to_toml escapes strings so that odd paths read back unchanged") {
  auto c = Configuration::defaults(kDefaultModule);
  c.state.directory = "/srv/a \"quoted\" \\ dir\twith tab";
  auto again = parse(to_toml(c));
  REQUIRE(again.ok());
  CHECK(again.configuration.state.directory == c.state.directory);
}

TEST_CASE("a table of tokens picks the default token and its module") {
  auto loaded = parse(R"(
[pkcs11]
default_token = "b"
[[pkcs11.modules]]
name = "one"
path = "/lib/one.so"
[[pkcs11.modules]]
name = "two"
path = "/lib/two.so"
[[pkcs11.tokens]]
label = "a"
[[pkcs11.tokens]]
label = "b"
module = "two"
pin_file = "/run/b.pin"
)");
  REQUIRE(loaded.ok());
  const auto& c = loaded.configuration;
  REQUIRE(c.default_token() != nullptr);
  CHECK(c.default_token()->label == "b");
  CHECK(c.module_of(*c.default_token())->path == "/lib/two.so");
  CHECK(c.module_of(c.pkcs11.tokens[0])->path == "/lib/one.so");
}

TEST_CASE("listen addresses accept IPv4 and bracketed IPv6 literals") {
  auto v6 = parse_listen_address("[::1]:0");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->to_string() == "[::1]:0");
  CHECK(parse_listen_address("0.0.0.0:443"));
}

TEST_CASE("to_json gives the same configuration as a JSON object") {
  auto c = Configuration::defaults(kDefaultModule);
  c.tls.extra_names = {"a.example", "quote\"d"};
  c.pkcs11.tokens.push_back({"t", "", {"/run/t.pin", ""}});
  const auto json = to_json(c);
  CHECK(json.find("\"limits\":{\"body_timeout_ms\":30000,") != std::string::npos);
  CHECK(json.find("\"extra_names\":[\"a.example\",\"quote\\\"d\"]") != std::string::npos);
  CHECK(json.find("\"tokens\":[{\"label\":\"t\",\"pin_file\":\"/run/t.pin\"}]") !=
        std::string::npos);
  CHECK(json.find("\"seccomp\":true") != std::string::npos);
}
