// [[bootstrap.operators.accounts]]: operator accounts declared in the file. Each kind of error
// names the key path, the line and what was wrong (one test per kind); a good declaration is
// read, written back by to_toml and compared by diff_configurations.
#include <catch2/catch.hpp>

#include "firmware-config/loader.h"
#include "firmware-config/versions.h"
#include "tests/support/test_support.h"
#include "tests/unit/firmware_config/config_test_support.h"

using namespace signet::firmware_config;
using signet::firmware_config::test::accepting_probes;
using signet::firmware_config::test::parse;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

const ConfigIssue& single_issue(const LoadResult& loaded, const std::string& key, unsigned line) {
  INFO((loaded.issues.empty() ? std::string("no issue") : loaded.issues.front().describe("t")));
  REQUIRE(loaded.issues.size() == 1);
  CHECK(loaded.issues[0].key == key);
  CHECK(loaded.issues[0].line == line);
  return loaded.issues[0];
}

constexpr const char* kAccounts = R"([bootstrap.operators]
admin_name = "chief"

[[bootstrap.operators.accounts]]
name = "olga"
role = "ra-officer"
password_file = "/etc/signet/olga.password"

[[bootstrap.operators.accounts]]
name = "audrey"
role = "auditor"
certificate_file = "/etc/signet/audrey.pem"
password_file = "/etc/signet/audrey.password"
disabled = true
)";

}  // namespace

TEST_CASE("declared operator accounts are read with their defaults") {
  auto loaded = parse(kAccounts);
  REQUIRE(loaded.ok());
  const auto& ops = loaded.configuration.bootstrap.operators;
  CHECK(ops.admin_name == "chief");
  REQUIRE(ops.accounts.size() == 2);
  CHECK(ops.accounts[0].name == "olga");
  CHECK(ops.accounts[0].role == "ra-officer");
  CHECK(ops.accounts[0].password_file == "/etc/signet/olga.password");
  CHECK(ops.accounts[0].certificate_file.empty());
  CHECK_FALSE(ops.accounts[0].disabled);
  CHECK(ops.accounts[1].certificate_file == "/etc/signet/audrey.pem");
  CHECK(ops.accounts[1].disabled);
  CHECK(parse("").configuration.bootstrap.operators.accounts.empty());
}

TEST_CASE("declared operator accounts survive to_toml, and diff names what changed") {
  auto loaded = parse(kAccounts);
  REQUIRE(loaded.ok());
  auto again = parse(to_toml(loaded.configuration));
  INFO((again.issues.empty() ? std::string() : again.issues.front().describe("to_toml")));
  REQUIRE(again.ok());
  CHECK(again.configuration == loaded.configuration);
  auto changed = loaded.configuration;
  changed.bootstrap.operators.accounts[1].role = "administrator";
  const auto diff = diff_configurations(loaded.configuration, changed);
  REQUIRE(diff.size() == 1);
  CHECK(diff[0] == "bootstrap.operators.accounts[1].role: \"auditor\" -> \"administrator\"");
}

TEST_CASE("an operator account without a name is an error") {
  auto loaded = parse(
      "[[bootstrap.operators.accounts]]\nrole = \"auditor\"\n"
      "password_file = \"/p\"\n");
  const auto& issue = single_issue(loaded, "bootstrap.operators.accounts[0].name", 1);
  CHECK(issue.message == "is required");
}

TEST_CASE("an operator account name that is no operator name is an error") {
  auto loaded = parse(
      "[[bootstrap.operators.accounts]]\nname = \"bad name!\"\n"
      "role = \"auditor\"\npassword_file = \"/p\"\n");
  const auto& issue = single_issue(loaded, "bootstrap.operators.accounts[0].name", 2);
  CHECK(contains(issue.message, "'bad name!' is not an operator name"));
}

TEST_CASE("an operator account named like the first administrator is an error") {
  auto loaded = parse(
      "[bootstrap.operators]\nadmin_name = \"root\"\n"
      "[[bootstrap.operators.accounts]]\nname = \"root\"\n"
      "role = \"auditor\"\npassword_file = \"/p\"\n");
  const auto& issue = single_issue(loaded, "bootstrap.operators.accounts[0].name", 4);
  CHECK(contains(issue.message, "is bootstrap.operators.admin_name"));
}

TEST_CASE("an operator account declared twice is an error") {
  auto loaded = parse(
      "[[bootstrap.operators.accounts]]\nname = \"olga\"\nrole = \"auditor\"\n"
      "password_file = \"/p\"\n"
      "[[bootstrap.operators.accounts]]\nname = \"olga\"\nrole = \"auditor\"\n"
      "password_file = \"/q\"\n");
  const auto& issue = single_issue(loaded, "bootstrap.operators.accounts[1].name", 6);
  CHECK(issue.message == "operator 'olga' is declared twice");
}

TEST_CASE("an operator account without a role, or with an unknown one, is an error") {
  auto missing = parse(
      "[[bootstrap.operators.accounts]]\nname = \"olga\"\n"
      "password_file = \"/p\"\n");
  CHECK(single_issue(missing, "bootstrap.operators.accounts[0].role", 1).message == "is required");
  auto unknown = parse(
      "[[bootstrap.operators.accounts]]\nname = \"olga\"\n"
      "role = \"superuser\"\npassword_file = \"/p\"\n");
  const auto& issue = single_issue(unknown, "bootstrap.operators.accounts[0].role", 3);
  CHECK(issue.message ==
        "must be \"administrator\", \"ra-officer\" or \"auditor\", not \"superuser\"");
}

TEST_CASE("an operator account with no way to log in is an error") {
  auto loaded = parse("[[bootstrap.operators.accounts]]\nname = \"olga\"\nrole = \"auditor\"\n");
  const auto& issue = single_issue(loaded, "bootstrap.operators.accounts[0]", 1);
  CHECK(contains(issue.message, "give password_file, certificate_file or both"));
}

TEST_CASE("an operator password file readable by group or others is refused") {
  signet::test::TempDir dir;
  const auto password = dir / "olga.password";
  signet::test::write_text(password, "a long enough password\n", 0644);
  const std::string text =
      "[[bootstrap.operators.accounts]]\nname = \"olga\"\nrole = \"auditor\"\n"
      "password_file = \"" +
      password.string() + "\"\n";
  auto loaded = parse(text, real_probes());
  const auto& issue = single_issue(loaded, "bootstrap.operators.accounts[0].password_file", 4);
  CHECK(contains(issue.message, "mode 0644"));
  CHECK(contains(issue.message, "group and others must have no access"));
  CHECK_FALSE(contains(issue.message, "a long enough password"));

  signet::test::write_text(password, "a long enough password\n", 0600);
  CHECK(parse(text, real_probes()).ok());
}

TEST_CASE("an operator certificate file that holds no certificate is refused") {
  signet::test::TempDir dir;
  const auto certificate = dir / "olga.pem";
  signet::test::write_text(certificate,
                           "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", 0644);
  auto loaded = parse(
      "[[bootstrap.operators.accounts]]\nname = \"olga\"\nrole = \"auditor\"\n"
      "certificate_file = \"" +
          certificate.string() + "\"\n",
      real_probes());
  const auto& issue = single_issue(loaded, "bootstrap.operators.accounts[0].certificate_file", 4);
  CHECK(contains(issue.message, "holds no PEM certificate"));

  auto missing = parse(
      "[[bootstrap.operators.accounts]]\nname = \"olga\"\nrole = \"auditor\"\n"
      "certificate_file = \"" +
          (dir / "absent.pem").string() + "\"\n",
      real_probes());
  CHECK(
      contains(single_issue(missing, "bootstrap.operators.accounts[0].certificate_file", 4).message,
               "cannot be read"));
}

TEST_CASE("an unknown key in an operator account suggests the known one") {
  auto loaded = parse(
      "[[bootstrap.operators.accounts]]\nname = \"olga\"\nrole = \"auditor\"\n"
      "password_file = \"/p\"\ndisable = true\n");
  const auto& issue = single_issue(loaded, "bootstrap.operators.accounts[0].disable", 5);
  CHECK(contains(issue.message, "did you mean 'bootstrap.operators.accounts[0].disabled'?"));
}

TEST_CASE("an operator account's disabled flag of the wrong type is an error") {
  auto loaded = parse(
      "[[bootstrap.operators.accounts]]\nname = \"olga\"\nrole = \"auditor\"\n"
      "password_file = \"/p\"\ndisabled = \"yes\"\n");
  const auto& issue = single_issue(loaded, "bootstrap.operators.accounts[0].disabled", 5);
  CHECK(issue.message == "must be a boolean, not a string");
}

TEST_CASE("operator accounts given as a table instead of an array of tables are an error") {
  auto loaded = parse("[bootstrap.operators.accounts]\nname = \"olga\"\n");
  const auto& issue = single_issue(loaded, "bootstrap.operators.accounts", 1);
  CHECK(contains(issue.message, "must be an array"));
}
