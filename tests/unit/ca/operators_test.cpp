// Roles and operator names (ca/operators.h): the three canonical role names round-trip and
// nothing else parses; operator names follow [A-Za-z0-9][A-Za-z0-9._@-]{0,63}.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "ca/operators.h"

using namespace signet;
using base::ErrorCode;

TEST_CASE("roles print and parse by their canonical names") {
  for (auto role : {ca::Role::kAdministrator, ca::Role::kRaOfficer, ca::Role::kAuditor}) {
    auto parsed = ca::parse_role(ca::to_string(role));
    REQUIRE(parsed);
    CHECK(*parsed == role);
  }
  CHECK(ca::to_string(ca::Role::kAdministrator) == "administrator");
  CHECK(ca::to_string(ca::Role::kRaOfficer) == "ra-officer");
  CHECK(ca::to_string(ca::Role::kAuditor) == "auditor");
}

TEST_CASE("parse_role refuses anything but the three canonical names, listing them") {
  for (const std::string& name : std::vector<std::string>{
           "admin", "ra_officer", "Administrator", "AUDITOR", "", "auditor ", " ra-officer",
           "ra-officer\n", "root", std::string("auditor\0", 8)}) {
    INFO("'" << name << "'");
    auto parsed = ca::parse_role(name);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code() == ErrorCode::kInvalidArgument);
    CHECK_THAT(parsed.error().message(), Catch::Contains("administrator") &&
                                             Catch::Contains("ra-officer") &&
                                             Catch::Contains("auditor"));
  }
}

TEST_CASE("operator names: 1..64 of [A-Za-z0-9._@-], starting with a letter or digit") {
  for (const std::string& name :
       std::vector<std::string>{"a", "Z", "7", "alice", "alice.smith@example.org", "ops-team_2",
                                "0day", std::string(64, 'x')}) {
    INFO(name);
    CHECK(ca::validate_operator_name(name));
  }
  for (const std::string& name : std::vector<std::string>{
           "", std::string(65, 'x'), ".alice", "-alice", "_alice", "@alice", "ali ce", "alice/bob",
           "alice:x", "al\xc3\xa9", std::string("al\0x", 4), "alice\n", "ali+ce"}) {
    INFO(name);
    auto valid = ca::validate_operator_name(name);
    REQUIRE_FALSE(valid);
    CHECK(valid.error().code() == ErrorCode::kInvalidArgument);
    CHECK_THAT(valid.error().message(), Catch::Contains("operator name"));
  }
}

TEST_CASE("an invalid operator name is shown printable and shortened in the message") {
  const std::string name = "bad\x01name" + std::string(100, 'y');
  auto valid = ca::validate_operator_name(name);
  REQUIRE_FALSE(valid);
  CHECK_THAT(valid.error().message(), Catch::Contains("bad?name") && Catch::Contains("..."));
  CHECK(valid.error().message().find('\x01') == std::string::npos);
  CHECK(valid.error().message().size() < 200);
}
