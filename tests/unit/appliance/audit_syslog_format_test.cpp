// The RFC 5424 and journald forms of an audit event (appliance/daemon/audit_syslog_format.h).
// The e2e test (tests/e2e/api/test_audit_forwarding.py) parses the same output with an
// independent, strict RFC 5424 grammar.
#include <catch2/catch.hpp>

#include "appliance/daemon/audit_syslog_format.h"

using namespace signet;
using namespace signet::appliance;

namespace {

ca::AuditEvent sample_event() {
  ca::AuditEvent e;
  e.sequence = 42;
  e.time = base::TimePoint(std::chrono::seconds(1'700'000'000) + std::chrono::microseconds(1234));
  e.actor = "admin";
  e.action = "certificate.issued";
  e.object = "certificate:ca/\"]\\x";
  e.detail = R"({"a":1})";
  e.hash = base::Bytes(32, 0xab);
  e.previous_hash = base::Bytes(32, 0);
  return e;
}

}  // namespace

TEST_CASE("SD-PARAM values escape the quote, the backslash and the closing bracket") {
  CHECK(sd_param_escape(R"(a"b\c]d)") == R"(a\"b\\c\]d)");
  CHECK(sd_param_escape("plain [text] = ok") == "plain [text\\] = ok");
}

TEST_CASE("an audit event becomes one RFC 5424 message with the event in structured data") {
  SyslogIdentity identity;
  identity.hostname = "appliance 1";  // a space is not PRINTUSASCII
  identity.pid = 77;
  const auto text = format_rfc5424(sample_event(), identity);
  CHECK(
      text.rfind("<85>1 2023-11-14T22:13:20.001234Z appliance_1 signetd 77 certificate.issued "
                 "[signet@32473 seq=\"42\" actor=\"admin\" object=\"certificate:ca/\\\"\\]\\\\x\" "
                 "hash=\"abab",
                 0) == 0);
  CHECK(text.find("\"] certificate.issued certificate:ca/") != std::string::npos);
}

TEST_CASE("failures are warnings and the facility and enterprise number are configurable") {
  auto event = sample_event();
  event.action = "operator.login_failed";
  SyslogIdentity identity;
  identity.facility = syslog_facility_code("local3");
  identity.enterprise_number = 99999;
  const auto text = format_rfc5424(event, identity);
  CHECK(text.rfind("<156>1 ", 0) == 0);  // 19 * 8 + 4
  CHECK(text.find(" - signetd 0 operator.login_failed [signet@99999 ") != std::string::npos);
  CHECK(syslog_facility_code("kern") == -1);
}

TEST_CASE("token errors, refused token logins and lost sessions are warnings too") {
  SyslogIdentity identity;
  identity.facility = syslog_facility_code("authpriv");
  for (const char* action : {"token.error", "token.login_refused", "token.session_lost"}) {
    auto event = sample_event();
    event.action = action;
    INFO(action);
    CHECK(format_rfc5424(event, identity).rfind("<84>1 ", 0) == 0);  // 10 * 8 + 4
  }
  auto event = sample_event();
  event.action = "token.logged_in";
  CHECK(format_rfc5424(event, identity).rfind("<85>1 ", 0) == 0);
}

TEST_CASE("the journald form uses the binary encoding for a value with a newline") {
  auto event = sample_event();
  event.detail = "line1\nline2";
  const auto datagram = format_journald(event, SyslogIdentity{});
  CHECK(datagram.find("SIGNET_SEQ=42\n") != std::string::npos);
  CHECK(datagram.find("PRIORITY=5\n") != std::string::npos);
  const std::string binary =
      std::string("SIGNET_DETAIL\n") + std::string("\x0b\0\0\0\0\0\0\0", 8) + "line1\nline2\n";
  CHECK(datagram.find(binary) != std::string::npos);
}

TEST_CASE("a huge detail is cut in MSG, never in the structured data") {
  auto event = sample_event();
  event.detail = std::string(100'000, 'x');
  const auto text = format_rfc5424(event, SyslogIdentity{});
  CHECK(text.size() < 17 * 1024);
  CHECK(text.find("seq=\"42\"") != std::string::npos);
  CHECK(text.size() > 14 + 16 * 1024 - 100);
  CHECK(text.substr(text.size() - 14) == "...(truncated)");
}

TEST_CASE("a huge detail keeps the journald datagram small enough to be sent") {
  auto event = sample_event();
  event.detail = std::string(300'000, 'x');
  const auto datagram = format_journald(event, SyslogIdentity{});
  // MESSAGE and SIGNET_DETAIL are each bounded; the rest is a few hundred bytes.
  CHECK(datagram.size() < 2 * (16 * 1024 + 64) + 1024);
  CHECK(datagram.find("SIGNET_SEQ=42\n") != std::string::npos);
  CHECK(datagram.find("SIGNET_HASH=") != std::string::npos);
}
