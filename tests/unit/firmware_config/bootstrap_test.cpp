// The keys of signed bundles and bootstrapping: [config] admin_trust_anchors (a PEM public key
// or certificate each) and [[bootstrap.profiles]] (any table, checked by the injected profile
// probe, written back by to_toml and compared by diff_configurations).
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

constexpr const char* kProfiles = R"([[bootstrap.profiles]]
name = "web"
ca = "issuing"
extended_key_usage = ["serverAuth"]
validity = { default_days = 90, max_days = 397, mode = "hard" }

[[bootstrap.profiles]]
name = "client"
ca = "issuing"
)";

}  // namespace

TEST_CASE("admin trust anchors are read, and one that holds no PEM key is an error") {
  signet::test::TempDir dir;
  const auto good = dir / "admin.pub";
  const auto bad = dir / "notes.txt";
  signet::test::write_text(good, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
                           0644);
  signet::test::write_text(bad, "hello\n", 0644);
  const auto missing = (dir / "absent.pem").string();
  auto probes = real_probes();
  auto loaded = parse("[config]\nadmin_trust_anchors = [\"" + good.string() + "\"]\n", probes);
  REQUIRE(loaded.ok());
  CHECK(loaded.configuration.config.admin_trust_anchors == std::vector{good.string()});

  loaded = parse("[config]\nadmin_trust_anchors = [\"" + good.string() + "\", \"" + bad.string() +
                     "\",\n  \"" + missing + "\"]\n",
                 probes);
  REQUIRE(loaded.issues.size() == 2);
  CHECK(loaded.issues[0].key == "config.admin_trust_anchors[1]");
  CHECK(contains(loaded.issues[0].message, "holds no PEM public key or certificate"));
  CHECK(loaded.issues[1].key == "config.admin_trust_anchors[2]");
  CHECK(contains(loaded.issues[1].message, "cannot be read"));
}

TEST_CASE("declared profiles keep their whole table as JSON and survive to_toml") {
  auto loaded = parse(kProfiles);
  INFO((loaded.issues.empty() ? std::string() : loaded.issues.front().describe("t")));
  REQUIRE(loaded.ok());
  const auto& profiles = loaded.configuration.bootstrap.profiles;
  REQUIRE(profiles.size() == 2);
  CHECK(profiles[0].name == "web");
  CHECK(profiles[0].ca == "issuing");
  CHECK(profiles[0].json == R"({"ca":"issuing","extended_key_usage":["serverAuth"],"name":"web",)"
                            R"("validity":{"default_days":90,"max_days":397,"mode":"hard"}})");
  const auto text = to_toml(loaded.configuration);
  INFO(text);
  auto again = parse(text);
  REQUIRE(again.ok());
  CHECK(again.configuration == loaded.configuration);
}

TEST_CASE("a declared profile needs a name and a CA, once each, and passes the profile probe") {
  auto loaded = parse("[[bootstrap.profiles]]\nca = \"issuing\"\n");
  REQUIRE(loaded.issues.size() == 1);
  CHECK(loaded.issues[0].key == "bootstrap.profiles[0].name");
  CHECK(loaded.issues[0].message == "is required");

  loaded = parse(
      "[[bootstrap.profiles]]\nname = \"a\"\nca = \"x\"\n[[bootstrap.profiles]]\nname = "
      "\"a\"\nca = \"x\"\n");
  REQUIRE(loaded.issues.size() == 1);
  CHECK(contains(loaded.issues[0].message, "declared twice"));

  Probes probes = accepting_probes();
  probes.profile = [](const std::string& json) -> signet::base::Result<void> {
    if (contains(json, "\"validity\"")) {
      return signet::base::Error(signet::base::ErrorCode::kInvalidArgument,
                                 "validity.max_days must be at least default_days");
    }
    return signet::base::ok();
  };
  loaded = parse(kProfiles, probes);
  REQUIRE(loaded.issues.size() == 1);
  CHECK(loaded.issues[0].key == "bootstrap.profiles[0]");
  CHECK(contains(loaded.issues[0].message, "max_days"));
}

TEST_CASE("diff names a changed declared profile and a changed trust anchor list") {
  auto a = parse(kProfiles);
  auto b = parse(std::string(kProfiles) + "\n[config]\nadmin_trust_anchors = [\"/a.pem\"]\n");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  b.configuration.bootstrap.profiles.pop_back();
  const auto lines = diff_configurations(a.configuration, b.configuration);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == R"(bootstrap.profiles[1].ca: removed (was "issuing"))");
  CHECK(lines[1] == R"(bootstrap.profiles[1].name: removed (was "client"))");
  CHECK(lines[2] == R"(config.admin_trust_anchors: [] -> ["/a.pem"])");
}
