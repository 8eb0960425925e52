#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "firmware-config/versions.h"
#include "tests/support/test_support.h"
#include "tests/unit/firmware_config/config_test_support.h"

using namespace signet::firmware_config;
using signet::firmware_config::test::kDefaultModule;
using signet::firmware_config::test::parse;

namespace {

unsigned mode_of(const std::filesystem::path& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

ConfigVersion meta(std::string action) {
  return ConfigVersion{0, "cli:tester", "2026-12-06T05:00:00Z", std::move(action), "/tmp/x.toml"};
}

}  // namespace

TEST_CASE("applied configurations are kept as numbered 0600 versions with who and when") {
  signet::test::TempDir dir;
  ConfigHistory history(dir / "config");
  auto none = history.list();
  REQUIRE(none);
  CHECK(none->empty());

  auto first = history.record("[limits]\nio_threads = 3\n", meta("apply"));
  REQUIRE(first);
  CHECK(first->number == 1);
  auto second = history.record("[limits]\nio_threads = 4\n", meta("apply"));
  REQUIRE(second);
  CHECK(second->number == 2);

  auto all = history.list();
  REQUIRE(all);
  REQUIRE(all->size() == 2);
  CHECK((*all)[0] == *first);
  CHECK((*all)[1].applied_by == "cli:tester");
  CHECK((*all)[1].applied_at == "2026-12-06T05:00:00Z");
  CHECK(*history.text(1) == "[limits]\nio_threads = 3\n");
  CHECK(signet::test::read_text(history.active_file()) == "[limits]\nio_threads = 4\n");
  CHECK(mode_of(dir / "config" / "v1.toml") == 0600);
  CHECK(mode_of(dir / "config" / "v1.meta.toml") == 0600);
  CHECK(mode_of(history.active_file()) == 0600);
  CHECK(mode_of(dir / "config") == 0700);

  auto missing = history.text(3);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code() == signet::base::ErrorCode::kNotFound);
}

TEST_CASE("a rollback is a new version with the old text; nothing is rewritten") {
  signet::test::TempDir dir;
  ConfigHistory history(dir / "config");
  REQUIRE(history.record("[limits]\nio_threads = 3\n", meta("apply")));
  REQUIRE(history.record("[limits]\nio_threads = 4\n", meta("apply")));
  auto old = history.text(1);
  REQUIRE(old);
  auto rolled = history.record(*old, meta("rollback to 1"));
  REQUIRE(rolled);
  CHECK(rolled->number == 3);
  CHECK(*history.text(2) == "[limits]\nio_threads = 4\n");
  CHECK(signet::test::read_text(history.active_file()) == *old);
  CHECK(history.list()->back().action == "rollback to 1");
}

TEST_CASE("a diff names each changed, added and removed key") {
  auto a = parse("[limits]\nio_threads = 3\n[tls]\nextra_names = [\"a.example\"]\n");
  auto b = parse(
      "[limits]\nio_threads = 4\n[tls]\nextra_names = [\"a.example\"]\n"
      "[[pkcs11.tokens]]\nlabel = \"audit\"\n");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  const auto lines = diff_configurations(a.configuration, b.configuration);
  CHECK(lines == std::vector<std::string>{"limits.io_threads: 3 -> 4",
                                          "pkcs11.tokens[0].label: added \"audit\""});
  CHECK(diff_configurations(b.configuration, a.configuration) ==
        std::vector<std::string>{"limits.io_threads: 4 -> 3",
                                 "pkcs11.tokens[0].label: removed (was \"audit\")"});
  CHECK(diff_configurations(a.configuration, a.configuration).empty());
}

TEST_CASE("a bundle's sequence is kept with its version; a replayed or older one is refused") {
  signet::test::TempDir dir;
  ConfigHistory history(dir / "config");
  CHECK(*history.last_bundle_sequence() == 0);
  REQUIRE(history.record("[limits]\nio_threads = 3\n", meta("apply")));
  auto imported = meta("import");
  imported.bundle_sequence = 5;
  auto first = history.record("[limits]\nio_threads = 4\n", imported);
  REQUIRE(first);
  CHECK(first->bundle_sequence == 5);
  CHECK(history.list()->back().bundle_sequence == 5);
  CHECK((*history.list())[0].bundle_sequence == 0);
  CHECK(*history.last_bundle_sequence() == 5);

  // The same sequence again, and an older one: refused, nothing recorded.
  auto replay = history.record("[limits]\nio_threads = 5\n", imported);
  REQUIRE_FALSE(replay);
  CHECK(replay.error().code() == signet::base::ErrorCode::kConflict);
  CHECK(replay.error().message().find("was imported already, as version 2") != std::string::npos);
  imported.bundle_sequence = 4;
  auto older = history.record("[limits]\nio_threads = 5\n", imported);
  REQUIRE_FALSE(older);
  CHECK(older.error().message().find("is older than 5") != std::string::npos);
  CHECK(history.list()->size() == 2);
  CHECK(signet::test::read_text(history.active_file()) == "[limits]\nio_threads = 4\n");
  CHECK_FALSE(history.check_bundle_sequence(5));
  CHECK(history.check_bundle_sequence(6));

  // A local apply or rollback in between does not lower the bar.
  REQUIRE(history.record("[limits]\nio_threads = 3\n", meta("rollback to 1")));
  imported.bundle_sequence = 6;
  auto newer = history.record("[limits]\nio_threads = 6\n", imported);
  REQUIRE(newer);
  CHECK(newer->number == 4);
  CHECK(*history.last_bundle_sequence() == 6);
  // Read back from the files by a new history object.
  CHECK(*ConfigHistory(dir / "config").last_bundle_sequence() == 6);
}

TEST_CASE("the highest exported sequence is remembered and never lowered") {
  signet::test::TempDir dir;
  ConfigHistory history(dir / "config");
  CHECK(*history.last_exported_sequence() == 0);
  REQUIRE(history.note_exported_sequence(3));
  CHECK(*history.last_exported_sequence() == 3);
  REQUIRE(history.note_exported_sequence(2));
  CHECK(*history.last_exported_sequence() == 3);
  REQUIRE(history.note_exported_sequence(9));
  CHECK(*ConfigHistory(dir / "config").last_exported_sequence() == 9);
  CHECK(mode_of(dir / "config" / "last-exported-sequence") == 0600);
}
