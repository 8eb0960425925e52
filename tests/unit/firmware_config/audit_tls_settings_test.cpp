// The [audit] forwarding settings and [tls] renewal settings: defaults, accepted forms, and
// one error per kind (key path, line and message).
#include <catch2/catch.hpp>

#include "firmware-config/loader.h"
#include "tests/unit/firmware_config/config_test_support.h"

using namespace signet::firmware_config;
using signet::firmware_config::test::parse;

namespace {

const ConfigIssue& single_issue(const LoadResult& loaded, const std::string& key, unsigned line) {
  INFO((loaded.issues.empty() ? std::string("no issue") : loaded.issues.front().describe("t")));
  REQUIRE(loaded.issues.size() == 1);
  CHECK(loaded.issues[0].key == key);
  CHECK(loaded.issues[0].line == line);
  return loaded.issues[0];
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("audit forwarding is off and TLS renewal on a 30-day window by default") {
  auto loaded = parse("");
  REQUIRE(loaded.ok());
  const auto& c = loaded.configuration;
  CHECK(c.audit.forward.empty());
  CHECK(c.audit.syslog_address == "/dev/log");
  CHECK(c.audit.syslog_facility == "authpriv");
  CHECK(c.audit.enterprise_number == 32473);
  CHECK(c.audit.journald_socket == "/run/systemd/journal/socket");
  CHECK(c.tls.certificate_lifetime == std::chrono::days(397));
  CHECK(c.tls.renew_before == std::chrono::days(30));
  CHECK(c.tls.operator_renew_before == std::chrono::days(30));
  CHECK(c.tls.renew_check_interval == std::chrono::hours(1));
}

TEST_CASE("audit.forward takes one target or a list, and every address form") {
  auto one = parse("[audit]\nforward = \"journald\"\n");
  REQUIRE(one.ok());
  CHECK(one.configuration.audit.forward == std::vector<std::string>{"journald"});
  for (const char* address : {"/dev/log", "unix:/run/x.sock", "udp:127.0.0.1:514", "tcp:[::1]:601",
                              "udp:192.0.2.1:5514"}) {
    auto loaded = parse(std::string("[audit]\nforward = [\"syslog\", \"journald\"]\n"
                                    "syslog_address = \"") +
                        address + "\"\nsyslog_facility = \"local7\"\nenterprise_number = 1\n");
    INFO(address);
    REQUIRE(loaded.ok());
    CHECK(loaded.configuration.audit.syslog_address == address);
    CHECK(loaded.configuration.audit.forward.size() == 2);
  }
}

TEST_CASE("an unknown forwarding target is refused") {
  auto loaded = parse("[audit]\nforward = [\"syslog\", \"kafka\"]\n");
  const auto& issue = single_issue(loaded, "audit.forward", 2);
  CHECK(contains(issue.message, "\"kafka\""));
}

TEST_CASE("a syslog address with a host name or no port is refused") {
  for (const char* address : {"udp:loghost:514", "tcp:127.0.0.1", "syslog.example:514"}) {
    auto loaded = parse(std::string("[audit]\n\nsyslog_address = \"") + address + "\"\n");
    INFO(address);
    single_issue(loaded, "audit.syslog_address", 3);
  }
}

TEST_CASE("an unknown syslog facility lists the allowed ones") {
  auto loaded = parse("[audit]\nsyslog_facility = \"kern\"\n");
  const auto& issue = single_issue(loaded, "audit.syslog_facility", 2);
  CHECK(contains(issue.message, "local0..local7"));
}

TEST_CASE("a relative journald socket and an enterprise number of 0 are refused") {
  single_issue(parse("[audit]\njournald_socket = \"journal.sock\"\n"), "audit.journald_socket", 2);
  single_issue(parse("[audit]\nenterprise_number = 0\n"), "audit.enterprise_number", 2);
}

TEST_CASE("TLS certificate validity and renewal settings have ranges") {
  auto loaded = parse(
      "[tls]\ncertificate_days = 7\nrenew_before_days = 2\nrenew_check_interval_seconds = 60\n");
  REQUIRE(loaded.ok());
  CHECK(loaded.configuration.tls.certificate_lifetime == std::chrono::days(7));
  CHECK(loaded.configuration.tls.renew_before == std::chrono::days(2));
  CHECK(loaded.configuration.tls.renew_check_interval == std::chrono::minutes(1));
  auto too_long = parse("[tls]\ncertificate_days = 398\n");
  const auto& issue = single_issue(too_long, "tls.certificate_days", 2);
  CHECK(issue.message == "must be between 1 and 397, not 398");
  single_issue(parse("[tls]\nrenew_check_interval_seconds = 0\n"),
               "tls.renew_check_interval_seconds", 2);
}

TEST_CASE("TLS lifetimes may be given in seconds, and renew_before must be shorter") {
  auto seconds = parse(
      "[tls]\ncertificate_lifetime_seconds = 300\nrenew_before_seconds = 295\n"
      "operator_renew_before_days = 400\n");
  REQUIRE(seconds.ok());
  CHECK(seconds.configuration.tls.certificate_lifetime == std::chrono::seconds(300));
  CHECK(seconds.configuration.tls.renew_before == std::chrono::seconds(295));
  CHECK(seconds.configuration.tls.operator_renew_before == std::chrono::days(400));
  // What to_toml writes reads back the same (days when whole days, else seconds).
  auto again = parse(to_toml(seconds.configuration));
  REQUIRE(again.ok());
  CHECK(again.configuration.tls == seconds.configuration.tls);

  // At or above the lifetime, every check would rekey: refused, naming the key and both values.
  // (single_issue returns a reference into the LoadResult: keep it alive.)
  const auto equal_loaded = parse("[tls]\ncertificate_days = 7\nrenew_before_days = 7\n");
  const auto& equal = single_issue(equal_loaded, "tls.renew_before_days", 3);
  CHECK(equal.message.find("less than 7 days") != std::string::npos);
  CHECK(equal.message.find("must be shorter than the lifetime (7 days)") != std::string::npos);
  single_issue(parse("[tls]\ncertificate_days = 1\nrenew_before_days = 2\n"),
               "tls.renew_before_days", 3);
  // With the default renew_before (30 days), a short lifetime is the key named.
  const auto short_loaded = parse("[tls]\ncertificate_lifetime_seconds = 3600\n");
  const auto& short_lifetime = single_issue(short_loaded, "tls.certificate_lifetime_seconds", 2);
  CHECK(short_lifetime.message.find("(1 day and 0 seconds)") == std::string::npos);
  CHECK(short_lifetime.message.find("30 days") != std::string::npos);
  CHECK(short_lifetime.message.find("(3600 seconds)") != std::string::npos);

  // One unit or the other, not both; and the bounds.
  single_issue(parse("[tls]\ncertificate_days = 7\ncertificate_lifetime_seconds = 600\n"),
               "tls.certificate_lifetime_seconds", 3);
  single_issue(parse("[tls]\ncertificate_lifetime_seconds = 59\nrenew_before_seconds = 1\n"),
               "tls.certificate_lifetime_seconds", 2);
}
