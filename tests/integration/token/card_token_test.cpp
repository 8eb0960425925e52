// A card's PKCS#11 token found through the ATR map, with presence from the real PC/SC stack:
// the virtual card's ATR is mapped to the fault-injecting module in front of a SoftHSM token,
// whose slot description is set to the virtual reader's name, so that the reader-to-slot
// matching runs as it does for OpenSC and ykcs11.
#include <catch2/catch.hpp>

#include "tests/integration/token/pcsc_stack.h"
#include "tests/support/fault_pkcs11/fault_fixture.h"
#include "tests/support/softhsm_token.h"
#include "token/card_token.h"

using namespace signet;
using base::ErrorCode;
using test::FaultInjection;
using test::PcscStack;
using test::SoftHsmToken;

namespace {

token::ReaderState card_reader() {
  auto context = token::PcscContext::establish();
  REQUIRE(context);
  auto reader = token::find_reader(*context, PcscStack::kReader);
  REQUIRE(reader);
  REQUIRE(reader->card_present);
  return *reader;
}

token::AtrMap map_to(const std::string& module, const std::string& fixed_token = "") {
  token::AtrMap map;
  REQUIRE(map.add({"virtual card", "3B:95:13:81:01:80:73:FF:01:00:0B", module, fixed_token}));
  return map;
}

}  // namespace

TEST_CASE("the card's token is the module's slot named after the reader") {
  PcscStack stack;
  FaultInjection faults;
  SoftHsmToken softhsm("card-1");
  faults.set("slot_description Virtual PCD 00 00\n");
  stack.insert_card();
  token::ModuleCache modules;
  modules.adopt(softhsm.module());

  auto found = token::find_card_token(card_reader(), map_to(faults.module_path()), modules);
  INFO((found ? std::string() : found.error().describe()));
  REQUIRE(found);
  CHECK(found->rule.name == "virtual card");
  CHECK(found->slot.description == PcscStack::kReader);
  CHECK(found->token.label == "card-1");
  CHECK(found->token.serial == softhsm.serial());
  CHECK(found->token.model == "SoftHSM v2");
  CHECK(found->module == softhsm.module());

  // The PIN state the card reports comes with it.
  faults.set("slot_description Virtual PCD 00 00\npin final_try\n");
  found = token::find_card_token(card_reader(), map_to(faults.module_path()), modules);
  REQUIRE(found);
  CHECK(found->token.user_pin_final_try);
}

TEST_CASE("a module that shows no slot for the reader is named in the error") {
  PcscStack stack;
  FaultInjection faults;
  SoftHsmToken softhsm("card-1");
  faults.set("slot_description Some Other Reader 00 00\n");
  stack.insert_card();
  token::ModuleCache modules;
  modules.adopt(softhsm.module());
  auto found = token::find_card_token(card_reader(), map_to(faults.module_path()), modules);
  REQUIRE_FALSE(found);
  CHECK(found.error().code() == ErrorCode::kNotFound);
  CHECK(found.error().message().find("shows no slot for reader 'Virtual PCD 00 00'") !=
        std::string::npos);
  CHECK(found.error().message().find(faults.module_path()) != std::string::npos);
}

TEST_CASE("a rule with a fixed token maps the card to that token of the module") {
  PcscStack stack;
  SoftHsmToken softhsm("stand-in");
  softhsm.add_token("other");
  softhsm.reload_module();
  stack.insert_card();
  token::ModuleCache modules;
  modules.adopt(softhsm.module());
  auto found =
      token::find_card_token(card_reader(), map_to(softhsm.module_path(), "stand-in"), modules);
  INFO((found ? std::string() : found.error().describe()));
  REQUIRE(found);
  CHECK(found->token.label == "stand-in");
  CHECK(found->token.serial == softhsm.serial("stand-in"));
}

TEST_CASE("OpenSC, the default module, sees the virtual reader but not a card it knows") {
  PcscStack stack;
  stack.insert_card();
  token::ModuleCache modules;
  auto found = token::find_card_token(card_reader(), token::AtrMap(), modules);
  REQUIRE_FALSE(found);
  INFO(found.error().describe());
  CHECK(found.error().code() == ErrorCode::kNotFound);
  CHECK(found.error().message().find(token::kOpenScModule) != std::string::npos);
  CHECK(found.error().message().find("does not recognise the card in reader 'Virtual PCD 00 00'") !=
        std::string::npos);
}
