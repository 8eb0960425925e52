// The [cards] settings (smart-card support in signetd): off by default, the accepted forms, one
// error per kind (key path, line and message), and the written file reads back the same.
#include <catch2/catch.hpp>

#include "firmware-config/loader.h"
#include "tests/unit/firmware_config/config_test_support.h"

using namespace signet::firmware_config;
using signet::firmware_config::test::parse;

TEST_CASE("smart-card support is off by default") {
  auto loaded = parse("");
  REQUIRE(loaded.ok());
  const auto& cards = loaded.configuration.cards;
  CHECK_FALSE(cards.enabled);
  CHECK(cards.atr_map.empty());
  CHECK(cards.key_generation_timeout == std::chrono::seconds(600));
  CHECK(cards.card_wait == std::chrono::seconds(120));
}

TEST_CASE("[cards] takes the ATR map and the timeouts, and is written back the same") {
  auto loaded = parse(
      "[cards]\nenabled = true\natr_map = \"/etc/signet/atr-map.json\"\n"
      "key_generation_timeout_seconds = 900\ncard_wait_seconds = 30\n");
  REQUIRE(loaded.ok());
  const auto& cards = loaded.configuration.cards;
  CHECK(cards.enabled);
  CHECK(cards.atr_map == "/etc/signet/atr-map.json");
  CHECK(cards.key_generation_timeout == std::chrono::seconds(900));
  CHECK(cards.card_wait == std::chrono::seconds(30));
  auto again = parse(to_toml(loaded.configuration));
  REQUIRE(again.ok());
  CHECK(again.configuration.cards == cards);
}

TEST_CASE("[cards] refuses a relative ATR map path, timeouts out of range and unknown keys") {
  auto relative = parse("[cards]\natr_map = \"atr-map.json\"\n");
  REQUIRE(relative.issues.size() == 1);
  CHECK(relative.issues[0].key == "cards.atr_map");
  CHECK(relative.issues[0].line == 2);
  CHECK(relative.issues[0].message.find("absolute") != std::string::npos);
  auto fast = parse("[cards]\nkey_generation_timeout_seconds = 1\n");
  REQUIRE(fast.issues.size() == 1);
  CHECK(fast.issues[0].key == "cards.key_generation_timeout_seconds");
  auto unknown = parse("[cards]\nreader = \"x\"\n");
  REQUIRE(unknown.issues.size() == 1);
  CHECK(unknown.issues[0].key == "cards.reader");
}
