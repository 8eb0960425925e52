// Token types as settings: the generic type (free ids, chain allowed) and the PIV types with
// their fixed slots, ids and labels as OpenSC and ykcs11 expose them; the ATR map's "type".
#include <catch2/catch.hpp>

#include "token/atr_map.h"
#include "token/token_type.h"

using namespace signet;
using namespace signet::token;

TEST_CASE("the generic token type has free ids and room for the chain") {
  auto generic = token_type("generic");
  REQUIRE(generic);
  CHECK_FALSE(generic->fixed_slots());
  CHECK(generic->chain_allowed);
  CHECK(generic->key_generation == KeyGenerationAuth::kUserPin);
  CHECK_FALSE(generic->slot(""));
  auto empty = token_type("");
  REQUIRE(empty);
  CHECK(empty->name == "generic");
}

TEST_CASE("PIV token types have the four fixed slots, one certificate each and no chain") {
  auto opensc = token_type("piv");
  REQUIRE(opensc);
  CHECK(opensc->fixed_slots());
  CHECK_FALSE(opensc->chain_allowed);
  CHECK(opensc->key_generation == KeyGenerationAuth::kModuleSetting);
  REQUIRE(opensc->key_slots.size() == 4);
  auto first = opensc->slot("");
  REQUIRE(first);
  CHECK(first->name == "9a");
  CHECK(first->id == base::Bytes{0x01});
  CHECK(first->key_label == "PIV AUTH key");
  CHECK(first->certificate_label == "Certificate for PIV Authentication");
  auto signing = opensc->slot("9c");
  REQUIRE(signing);
  CHECK(signing->id == base::Bytes{0x02});
  CHECK(signing->key_label == "SIGN key");

  auto yubikey = token_type("ykcs11");
  REQUIRE(yubikey);
  CHECK(yubikey->key_generation == KeyGenerationAuth::kSoPin);
  auto management = yubikey->slot("9d");
  REQUIRE(management);
  CHECK(management->id == base::Bytes{0x03});
  CHECK(management->key_label == "Private key for Key Management");
  CHECK(management->certificate_label == "X.509 Certificate for Key Management");

  auto unknown_slot = yubikey->slot("82");
  REQUIRE_FALSE(unknown_slot);
  CHECK(unknown_slot.error().message().find("slots: 9a, 9c, 9d, 9e") != std::string::npos);
}

TEST_CASE("an unknown token type is refused, also in the ATR map") {
  auto unknown = token_type("cac");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message().find("known: generic, piv, ykcs11") != std::string::npos);

  auto map = AtrMap::from_json(
      R"({"cards": [{"atr": "3B:95*", "module": "/m.so", "type": "piv"},
                    {"atr": "3B:FD*", "module": "/y.so", "type": "ykcs11"}]})",
      "test");
  REQUIRE(map);
  CHECK(map->rules()[0].type == "piv");
  CHECK(map->rules()[1].type == "ykcs11");
  CHECK(map->default_rule().type == "generic");
  auto bad =
      AtrMap::from_json(R"({"cards": [{"atr": "3B", "module": "/m.so", "type": "cac"}]})", "test");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message().find("cards[0]: unknown card type 'cac'") != std::string::npos);
}

TEST_CASE("only ykcs11 needs the management key, and it must be hex of a PIV key's length") {
  CHECK(token_type("ykcs11")->needs_management_key());
  CHECK_FALSE(token_type("piv")->needs_management_key());
  CHECK_FALSE(token_type("generic")->needs_management_key());

  CHECK(check_management_key(base::as_bytes("010203040506070801020304050607080102030405060708")));
  CHECK(check_management_key(base::as_bytes("00112233445566778899AABBCCDDEEFF")));  // AES-128
  CHECK(check_management_key(base::as_bytes(std::string(64, 'f'))));                // AES-256
  auto short_key = check_management_key(base::as_bytes("0102"));
  REQUIRE_FALSE(short_key);
  CHECK(short_key.error().message().find("got 4 characters") != std::string::npos);
  auto not_hex = check_management_key(base::as_bytes(std::string(47, '0') + "g"));
  REQUIRE_FALSE(not_hex);
  CHECK(not_hex.error().message().find("not all of them hex digits") != std::string::npos);
  CHECK(not_hex.error().message().find("000g") == std::string::npos);  // never quoted
}

TEST_CASE("a PIV key slot is found by its CKA_ID") {
  auto piv = token_type("piv");
  REQUIRE(piv);
  const base::Bytes id = {0x03};
  const KeySlot* slot = piv->slot_with_id(id);
  REQUIRE(slot != nullptr);
  CHECK(slot->name == "9d");
  const base::Bytes unknown = {0x07};
  CHECK(piv->slot_with_id(unknown) == nullptr);
  CHECK(token_type("generic")->slot_with_id(id) == nullptr);
}
