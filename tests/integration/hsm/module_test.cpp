#include <catch2/catch.hpp>

#include "hsm/key_provider.h"
#include "hsm/module.h"
#include "hsm/token_init.h"
#include "tests/support/softhsm_token.h"
#include "tests/support/test_support.h"

using namespace signet;
using base::ErrorCode;
using test::SoftHsmToken;

TEST_CASE("loading a missing PKCS#11 module names the path and the reason") {
  auto module = hsm::Pkcs11Module::load("/nonexistent/libnothing.so");
  REQUIRE_FALSE(module);
  CHECK(module.error().code() == ErrorCode::kNotFound);
  CHECK(module.error().message().find("PKCS#11 module '/nonexistent/libnothing.so' cannot be "
                                      "loaded") != std::string::npos);
  CHECK(module.error().message().find("No such file") != std::string::npos);
}

TEST_CASE("loading a file that is not a shared library is refused") {
  test::TempDir dir;
  test::write_text(dir / "fake.so", "not an ELF file\n");
  auto module = hsm::Pkcs11Module::load((dir / "fake.so").string());
  REQUIRE_FALSE(module);
  CHECK(module.error().code() == ErrorCode::kNotFound);
  CHECK(module.error().message().find("fake.so") != std::string::npos);
}

TEST_CASE("tokens lists the initialised token with trimmed label and serial") {
  SoftHsmToken softhsm("signet");
  auto tokens = softhsm.module()->tokens();
  REQUIRE(tokens);
  REQUIRE(tokens->size() == 1);
  const auto& token = tokens->front();
  CHECK(token.label == "signet");
  CHECK(token.serial.size() == 16);
  CHECK(token.manufacturer == "SoftHSM project");
  CHECK(token.model == "SoftHSM v2");
  CHECK(token.initialized);
  CHECK(token.user_pin_initialized);
  CHECK(token.login_required);
  CHECK_FALSE(token.user_pin_locked);

  // softhsm2-util, an independent reader of the same store, sees the same serial.
  auto shown = test::run_command("softhsm2-util --show-slots");
  REQUIRE(shown.exit_code == 0);
  CHECK(shown.output.find("Serial number:    " + token.serial) != std::string::npos);

  auto with_free = softhsm.module()->tokens(/*include_uninitialized=*/true);
  REQUIRE(with_free);
  CHECK(with_free->size() == 2);  // SoftHSM keeps one free slot
}

TEST_CASE("a token is found by label or serial, and an ambiguous label asks for the serial") {
  SoftHsmToken softhsm("twin");
  softhsm.add_token("twin");
  softhsm.add_token("other");
  auto module = softhsm.module();
  auto other = module->find_token("other");
  REQUIRE(other);
  auto by_serial = module->find_token(other->serial);
  REQUIRE(by_serial);
  CHECK(by_serial->label == "other");

  auto twin = module->find_token("twin");
  REQUIRE_FALSE(twin);
  CHECK(twin.error().code() == ErrorCode::kInvalidArgument);
  CHECK(twin.error().message().find("name the token by its serial") != std::string::npos);

  auto missing = module->find_token("nope");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code() == ErrorCode::kNotFound);
  CHECK(missing.error().message().find("'nope'") != std::string::npos);
}

TEST_CASE("a token added by another process is seen after the module is loaded again") {
  SoftHsmToken softhsm("first");
  REQUIRE(softhsm.module()->tokens()->size() == 1);
  softhsm.add_token("later");
  softhsm.reload_module();
  auto later = softhsm.module()->find_token("later");
  REQUIRE(later);
  CHECK(later->initialized);
}

TEST_CASE("init_token makes a token whose user PIN works, seen by pkcs11-tool") {
  SoftHsmToken softhsm("first");
  auto module = softhsm.module();
  auto created =
      hsm::init_token(*module, "second", SoftHsmToken::so_pin(), SoftHsmToken::user_pin());
  REQUIRE(created);
  CHECK(created->label == "second");
  CHECK(created->initialized);
  CHECK(created->user_pin_initialized);
  CHECK_FALSE(created->serial.empty());

  auto listed = softhsm.pkcs11_tool("--list-token-slots");
  REQUIRE(listed.exit_code == 0);
  CHECK(listed.output.find("second") != std::string::npos);

  auto provider = hsm::Pkcs11KeyProvider::create({module}, "second", SoftHsmToken::pin_source());
  REQUIRE(provider);
  auto key = (*provider)->generate_key({"", base::KeyAlgorithm::kEcP256, "on-second"});
  REQUIRE(key);
  CHECK((*key)->key_ref().token_serial == created->serial);

  auto again = hsm::init_token(*module, "second", SoftHsmToken::so_pin(), SoftHsmToken::user_pin());
  REQUIRE_FALSE(again);
  CHECK(again.error().code() == ErrorCode::kAlreadyExists);
}

TEST_CASE("init_token refuses a label longer than 32 bytes") {
  SoftHsmToken softhsm;
  auto created = hsm::init_token(*softhsm.module(), std::string(33, 'x'), SoftHsmToken::so_pin(),
                                 SoftHsmToken::user_pin());
  REQUIRE_FALSE(created);
  CHECK(created.error().code() == ErrorCode::kInvalidArgument);
}

TEST_CASE("a wrong PIN gives kPinIncorrect and the message never shows the PIN") {
  SoftHsmToken softhsm;
  hsm::PinSource wrong = [](const hsm::TokenInfo&) -> base::Result<base::SecureBuffer> {
    return base::SecureBuffer::copy_of(base::as_bytes("987654"));
  };
  auto provider = hsm::Pkcs11KeyProvider::create({softhsm.module()}, "", wrong);
  REQUIRE(provider);
  auto key = (*provider)->generate_key({"", base::KeyAlgorithm::kEcP256, "k"});
  REQUIRE_FALSE(key);
  CHECK(key.error().code() == ErrorCode::kPinIncorrect);
  const std::string text = key.error().describe();
  CHECK(text.find("the PIN for token 'signet' is incorrect") != std::string::npos);
  CHECK(text.find("987654") == std::string::npos);
  CHECK(text.find(SoftHsmToken::kUserPin) == std::string::npos);
}

TEST_CASE("a PIN source failure is reported with the token it was for") {
  SoftHsmToken softhsm;
  hsm::PinSource failing = [](const hsm::TokenInfo&) -> base::Result<base::SecureBuffer> {
    return base::Error(ErrorCode::kUnavailable, "no terminal to prompt on");
  };
  auto provider = hsm::Pkcs11KeyProvider::create({softhsm.module()}, "", failing);
  REQUIRE(provider);
  auto keys = (*provider)->list_keys("");
  REQUIRE_FALSE(keys);
  CHECK(keys.error().code() == ErrorCode::kUnavailable);
  CHECK(keys.error().describe().find("getting the PIN for token 'signet'") != std::string::npos);
}

TEST_CASE("two providers over one module both log in: already-logged-in is success") {
  SoftHsmToken softhsm;
  int asked = 0;
  hsm::PinSource counting = [&](const hsm::TokenInfo& token) -> base::Result<base::SecureBuffer> {
    ++asked;
    CHECK(token.label == "signet");
    return SoftHsmToken::user_pin();
  };
  auto first = hsm::Pkcs11KeyProvider::create({softhsm.module()}, "", counting);
  auto second = hsm::Pkcs11KeyProvider::create({softhsm.module()}, "", counting);
  REQUIRE(first);
  REQUIRE(second);
  auto a = (*first)->generate_key({"", base::KeyAlgorithm::kEcP256, "a"});
  REQUIRE(a);
  auto b = (*second)->generate_key({"", base::KeyAlgorithm::kEcP256, "b"});
  REQUIRE(b);
  auto found = (*second)->find_key((*a)->key_ref());
  REQUIRE(found);
  CHECK(asked == 2);  // once per provider's login, not once per operation
  auto keys = (*first)->list_keys("");
  REQUIRE(keys);
  CHECK(keys->size() == 2);
}

TEST_CASE("a provider refuses a default token that does not exist") {
  SoftHsmToken softhsm;
  auto provider =
      hsm::Pkcs11KeyProvider::create({softhsm.module()}, "missing", SoftHsmToken::pin_source());
  REQUIRE_FALSE(provider);
  CHECK(provider.error().code() == ErrorCode::kNotFound);
  CHECK(provider.error().message().find("'missing'") != std::string::npos);
}
