// One test per kind of configuration error: each must name the key path, the line and what
// was wrong; and a file with many errors reports all of them.
#include <catch2/catch.hpp>

#include "firmware-config/loader.h"
#include "tests/support/test_support.h"
#include "tests/unit/firmware_config/config_test_support.h"

using namespace signet::firmware_config;
using signet::firmware_config::test::accepting_probes;
using signet::firmware_config::test::kDefaultModule;
using signet::firmware_config::test::parse;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The only issue of `loaded`, which must be at `key` on `line`.
const ConfigIssue& single_issue(const LoadResult& loaded, const std::string& key, unsigned line) {
  INFO((loaded.issues.empty() ? std::string("no issue") : loaded.issues.front().describe("t")));
  REQUIRE(loaded.issues.size() == 1);
  CHECK(loaded.issues[0].key == key);
  CHECK(loaded.issues[0].line == line);
  return loaded.issues[0];
}

}  // namespace

TEST_CASE("an unknown key is an error that suggests the closest known key") {
  auto loaded = parse("[limits]\nmax_conections = 10\n");
  const auto& issue = single_issue(loaded, "limits.max_conections", 2);
  CHECK(contains(issue.message, "unknown key"));
  CHECK(contains(issue.message, "did you mean 'limits.max_connections'?"));
}

TEST_CASE("an unknown section is an error, and a far-off key gets no suggestion") {
  auto loaded = parse("[listen]\nhttps = \"127.0.0.1:1\"\n\n[frobnicate]\nx = 1\n");
  const auto& issue = single_issue(loaded, "frobnicate", 4);
  CHECK(issue.message == "unknown key");
}

TEST_CASE("a value of the wrong type names the expected and the given type") {
  auto loaded = parse("[limits]\n\nio_threads = \"four\"\n");
  const auto& issue = single_issue(loaded, "limits.io_threads", 3);
  CHECK(issue.message == "must be an integer, not a string");
}

TEST_CASE("a section given as a value is a type error") {
  auto loaded = parse("tls = 3\n");
  const auto& issue = single_issue(loaded, "tls", 1);
  CHECK(issue.message == "must be a table, not an integer");
}

TEST_CASE("a number out of range names the range") {
  auto loaded = parse("[sessions]\nidle_seconds = 0\n");
  const auto& issue = single_issue(loaded, "sessions.idle_seconds", 2);
  CHECK(issue.message == "must be between 1 and 86400, not 0");
}

TEST_CASE("a bad listen address says what is wrong with it") {
  auto loaded = parse("[listen]\nhttps = \"localhost:8443\"\nhttp = \"127.0.0.1:99999\"\n");
  REQUIRE(loaded.issues.size() == 2);
  CHECK(loaded.issues[0].key == "listen.https");
  CHECK(loaded.issues[0].line == 2);
  CHECK(contains(loaded.issues[0].message, "'localhost' is not an IPv4 address"));
  CHECK(loaded.issues[1].key == "listen.http");
  CHECK(loaded.issues[1].line == 3);
  CHECK(contains(loaded.issues[1].message, "the port must be 0 to 65535"));
}

TEST_CASE("an enumerated value outside its choices lists them") {
  auto loaded = parse("[tls]\nmin_version = \"1.1\"\n");
  const auto& issue = single_issue(loaded, "tls.min_version", 2);
  CHECK(issue.message == "must be \"1.2\" or \"1.3\", not \"1.1\"");
}

TEST_CASE("a PIN file readable by group or others is refused") {
  signet::test::TempDir dir;
  const auto pin = dir / "user.pin";
  signet::test::write_text(pin, "1234\n", 0640);
  auto loaded = parse("[[pkcs11.tokens]]\nlabel = \"t\"\npin_file = \"" + pin.string() + "\"\n",
                      real_probes());
  const auto& issue = single_issue(loaded, "pkcs11.tokens[0].pin_file", 3);
  CHECK(contains(issue.message, "mode 0640"));
  CHECK(contains(issue.message, "group and others must have no access"));
  CHECK_FALSE(contains(issue.message, "1234"));

  signet::test::write_text(pin, "1234\n", 0600);
  CHECK(parse("[[pkcs11.tokens]]\nlabel = \"t\"\npin_file = \"" + pin.string() + "\"\n",
              real_probes())
            .ok());
}

TEST_CASE("a missing PIN file is an error naming it") {
  signet::test::TempDir dir;
  const auto pin = (dir / "absent.pin").string();
  auto loaded =
      parse("[[pkcs11.tokens]]\nlabel = \"t\"\npin_file = \"" + pin + "\"\n", real_probes());
  const auto& issue = single_issue(loaded, "pkcs11.tokens[0].pin_file", 3);
  CHECK(contains(issue.message, pin));
  CHECK(contains(issue.message, "does not exist"));
}

TEST_CASE("a PKCS#11 module that does not load is an error (injected probe)") {
  Probes probes = accepting_probes();
  probes.module = [](const std::string& path) -> signet::base::Result<void> {
    if (path == "/opt/vendor/broken.so") {
      return signet::base::Error(signet::base::ErrorCode::kNotFound,
                                 "the PKCS#11 module '" + path + "' does not load: nope");
    }
    return signet::base::ok();
  };
  auto loaded = parse(
      "[[pkcs11.modules]]\nname = \"good\"\npath = \"/opt/vendor/good.so\"\n"
      "[[pkcs11.modules]]\nname = \"bad\"\npath = \"/opt/vendor/broken.so\"\n",
      probes);
  const auto& issue = single_issue(loaded, "pkcs11.modules[1].path", 6);
  CHECK(contains(issue.message, "does not load: nope"));
}

TEST_CASE("the real module probe refuses a missing file and a library without C_GetFunctionList") {
  const auto probes = real_probes();
  auto missing = probes.module("/nonexistent/libpkcs11.so");
  REQUIRE_FALSE(missing);
  CHECK(contains(missing.error().message(), "does not load"));
  auto not_pkcs11 = probes.module("libm.so.6");
  REQUIRE_FALSE(not_pkcs11);
  CHECK(contains(not_pkcs11.error().message(), "no C_GetFunctionList"));
}

TEST_CASE("references between sections must resolve") {
  auto loaded = parse(
      "[pkcs11]\ndefault_token = \"nope\"\n"
      "[[pkcs11.tokens]]\nlabel = \"t\"\nmodule = \"vendor\"\n");
  REQUIRE(loaded.issues.size() == 2);
  CHECK(loaded.issues[0].key == "pkcs11.default_token");
  CHECK(loaded.issues[0].line == 2);
  CHECK(loaded.issues[1].key == "pkcs11.tokens[0].module");
  CHECK(loaded.issues[1].line == 5);
}

TEST_CASE("a PIN given both as a file and as a credential is refused") {
  auto loaded =
      parse("[[pkcs11.tokens]]\nlabel = \"t\"\npin_file = \"/p\"\npin_credential = \"c\"\n");
  const auto& issue = single_issue(loaded, "pkcs11.tokens[0].pin_credential", 4);
  CHECK(contains(issue.message, "either pin_file or pin_credential"));
}

TEST_CASE("a required key that is missing is named") {
  auto loaded = parse("[[pkcs11.modules]]\nname = \"m\"\n");
  const auto& issue = single_issue(loaded, "pkcs11.modules[0].path", 1);
  CHECK(issue.message == "is required");
}

TEST_CASE("invalid TOML is reported with its line") {
  auto loaded = parse("[limits]\nmax_connections = 1\nworker_threads = = 2\n");
  REQUIRE(loaded.issues.size() == 1);
  CHECK(loaded.issues[0].line == 3);
  CHECK(contains(loaded.issues[0].message, "not valid TOML"));
}

TEST_CASE("an unreadable file is one issue") {
  auto loaded =
      load_configuration_file("/nonexistent/signet.toml", kDefaultModule, accepting_probes());
  REQUIRE(loaded.issues.size() == 1);
  CHECK(loaded.issues[0].describe("/nonexistent/signet.toml") ==
        "/nonexistent/signet.toml: cannot read the file");
}

TEST_CASE("every error of a file is reported, in line order, not just the first") {
  auto loaded = parse(R"([listen]
https = "nowhere"
[limits]
io_threads = 0
worker_threads = "many"
[logging]
levle = "debug"
[tls]
extra_names = ["ok.example", 7]
)");
  REQUIRE(loaded.issues.size() == 5);
  std::vector<std::string> keys;
  std::vector<unsigned> lines;
  for (const auto& i : loaded.issues) {
    keys.push_back(i.key);
    lines.push_back(i.line);
  }
  CHECK(keys == std::vector<std::string>{"listen.https", "limits.io_threads",
                                         "limits.worker_threads", "logging.levle",
                                         "tls.extra_names[1]"});
  CHECK(lines == std::vector<unsigned>{2, 4, 5, 7, 9});
  const auto error = to_error("signet.toml", loaded.issues);
  CHECK(contains(error.message(), "has 5 errors:"));
  CHECK(contains(error.message(),
                 "\n  signet.toml:7: logging.levle: unknown key; did you mean "
                 "'logging.level'?"));
}
