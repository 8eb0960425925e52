#include <catch2/catch.hpp>

#include "base/bytes.h"
#include "token/atr_map.h"

using namespace signet;
using base::ErrorCode;
using token::AtrMap;
using token::AtrPattern;

namespace {

// vsmartcard's `vicc -t iso7816` and a YubiKey 5 NFC (over USB), as pcscd reports them.
const char* const kVirtualCard = "3B951381018073FF01000B";
const char* const kYubiKey = "3BFD1300008131FE158073C021C057597562694B657940";

base::Bytes atr(std::string text) {
  std::erase(text, ' ');
  auto bytes = base::from_hex(text);
  REQUIRE(bytes);
  return *bytes;
}

AtrPattern pattern(std::string_view text) {
  auto parsed = AtrPattern::parse(text);
  INFO(text);
  REQUIRE(parsed);
  return *parsed;
}

}  // namespace

TEST_CASE("an exact ATR pattern matches only that ATR, with any separators") {
  for (const char* text : {"3B:95:13:81:01:80:73:FF:01:00:0B", "3b 95 13 81 01 80 73 ff 01 00 0b",
                           "3B951381018073FF01000B"}) {
    auto p = pattern(text);
    CHECK(p.matches(atr(kVirtualCard)));
    CHECK_FALSE(p.matches(atr(kYubiKey)));
    // One byte longer or shorter is another card.
    CHECK_FALSE(p.matches(atr(std::string(kVirtualCard) + "00")));
    CHECK_FALSE(p.matches(atr("3B951381018073FF0100")));
  }
}

TEST_CASE("question-mark nibbles and bytes are wildcards") {
  auto p = pattern("3B:9?:13:81:??:80:73:FF:01:00:0B");
  CHECK(p.matches(atr(kVirtualCard)));
  CHECK(p.matches(atr("3B9F1381FF8073FF01000B")));
  CHECK_FALSE(p.matches(atr("3BA51381018073FF01000B")));
}

TEST_CASE("a trailing '*' or '...' lets the ATR go on") {
  for (const char* text : {"3B:FD:13:00:00:81:31:FE:15:80:73:C0:21:C0:57*",
                           "3B:FD:13:00:00:81:31:FE:15:80:73:C0:21:C0:57 ..."}) {
    auto p = pattern(text);
    CHECK(p.matches(atr(kYubiKey)));
    CHECK(p.matches(atr("3BFD1300008131FE158073C021C057")));
    CHECK_FALSE(p.matches(atr("3BFD1300008131FE158073C021C0")));
    CHECK_FALSE(p.matches(atr(kVirtualCard)));
  }
}

TEST_CASE("an OpenSC-style mask ignores the bits it clears") {
  auto p = pattern("3B:95:13:81:01:80:73:FF:01:00:00 / FF:FF:FF:FF:FF:FF:FF:FF:FF:00:00");
  CHECK(p.matches(atr(kVirtualCard)));
  CHECK(p.matches(atr("3B951381018073FF01AB77")));
  CHECK_FALSE(p.matches(atr("3B951381018073FF02000B")));
}

TEST_CASE("malformed ATR patterns are refused with the reason") {
  struct Case {
    const char* text;
    const char* reason;
  };
  const std::string too_long(68, 'A');
  for (const Case& c :
       {Case{"3B:9", "odd number"}, Case{"3B:GG", "'G' is neither"}, Case{"", "no bytes"},
        Case{"3B:95 / FF", "its mask has 1 bytes"}, Case{too_long.c_str(), "at most 33 bytes"}}) {
    auto parsed = AtrPattern::parse(c.text);
    INFO(c.text);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code() == ErrorCode::kInvalidArgument);
    CHECK(parsed.error().message().find(c.reason) != std::string::npos);
  }
}

TEST_CASE("the map tries its rules in order and falls back to OpenSC") {
  auto map = AtrMap::from_json(R"({
      "cards": [
        {"name": "virtual", "atr": "3B:95:13:81:01:80:73:FF:01:00:0B",
         "module": "/usr/lib/softhsm/libsofthsm2.so", "token": "card-1"},
        {"name": "any 3B 95", "atr": "3B:95*", "module": "/second.so"},
        {"atr": "3B:FD:13*", "module": "/usr/lib/x86_64-linux-gnu/libykcs11.so"}
      ]})",
                               "test");
  REQUIRE(map);
  const auto& first = map->match(atr(kVirtualCard));
  CHECK(first.name == "virtual");
  CHECK(first.token == "card-1");
  CHECK(map->match(atr("3B95FF")).module_path == "/second.so");
  const auto& yubikey = map->match(atr(kYubiKey));
  CHECK(yubikey.module_path == "/usr/lib/x86_64-linux-gnu/libykcs11.so");
  CHECK(yubikey.name == "3B:FD:13*");  // unnamed: named after its pattern
  const auto& other = map->match(atr("3B8F8001"));
  CHECK(other.name == "default");
  CHECK(other.module_path == token::kOpenScModule);
  CHECK(AtrMap().match(atr(kVirtualCard)).module_path == token::kOpenScModule);
}

TEST_CASE("the map's default module can be configured") {
  auto map = AtrMap::from_json(R"({"default_module": "/opt/vendor/pkcs11.so"})", "test");
  REQUIRE(map);
  CHECK(map->match(atr(kVirtualCard)).module_path == "/opt/vendor/pkcs11.so");
  CHECK(map->rules().empty());
}

TEST_CASE("a malformed ATR map names the file and the problem") {
  struct Case {
    const char* json;
    const char* problem;
  };
  for (const Case& c :
       {Case{"[]", "not a JSON object"}, Case{R"({"cards": {}})", "'cards' must be an array"},
        Case{R"({"modules": []})", "unknown key 'modules'"},
        Case{R"({"cards": [{"atr": "3B", "module": "/m.so", "pin": "1"}]})",
             "cards[0] has an unknown key 'pin'"},
        Case{R"({"cards": [{"module": "/m.so"}]})", "cards[0] has no 'atr'"},
        Case{R"({"cards": [{"atr": "3B"}]})", "names no module"},
        Case{R"({"cards": [{"atr": "3X", "module": "/m.so"}]})", "'X' is neither"}}) {
    auto map = AtrMap::from_json(c.json, "'/etc/signet/atr-map.json'");
    INFO(c.json);
    REQUIRE_FALSE(map);
    CHECK(map.error().message().find("'/etc/signet/atr-map.json'") != std::string::npos);
    CHECK(map.error().message().find(c.problem) != std::string::npos);
  }
  auto missing = AtrMap::load("/nonexistent/atr-map.json");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code() == ErrorCode::kNotFound);
}
