// Token faults that SoftHSM never produces (PIN counters and lock, a card pulled mid-operation,
// a failing or slow device), injected by the fault PKCS#11 module in front of a real SoftHSM
// token, and how each surfaces through hsm/ as a clear error.
#include <catch2/catch.hpp>

#include <chrono>

#include "base/bytes.h"
#include "hsm/key_provider.h"
#include "tests/support/fault_pkcs11/fault_fixture.h"
#include "tests/support/softhsm_token.h"

using namespace signet;
using base::ErrorCode;
using base::KeyAlgorithm;
using test::FaultInjection;
using test::SoftHsmToken;

namespace {

std::shared_ptr<hsm::Pkcs11KeyProvider> make_provider(SoftHsmToken& softhsm) {
  auto provider =
      hsm::Pkcs11KeyProvider::create({softhsm.module()}, "", SoftHsmToken::pin_source());
  REQUIRE(provider);
  return *provider;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("with no faults the fault module is a transparent SoftHSM") {
  FaultInjection faults;
  SoftHsmToken softhsm;
  REQUIRE(softhsm.module_path() == faults.module_path());
  auto provider = make_provider(softhsm);
  auto signer = provider->generate_key({"", KeyAlgorithm::kEcP256, "plain"});
  REQUIRE(signer);
  CHECK((*signer)->sign(base::as_bytes("hello")));
}

TEST_CASE("PIN counters set by the control file show in the token info") {
  FaultInjection faults;
  SoftHsmToken softhsm;
  auto token = softhsm.module()->find_token(softhsm.label());
  REQUIRE(token);
  CHECK_FALSE(token->user_pin_count_low);
  CHECK_FALSE(token->user_pin_final_try);

  faults.set("pin count_low\n");
  token = softhsm.module()->find_token(softhsm.label());
  REQUIRE(token);
  CHECK(token->user_pin_count_low);
  CHECK_FALSE(token->user_pin_final_try);

  faults.set("pin count_low\npin final_try\n");
  token = softhsm.module()->find_token(softhsm.label());
  REQUIRE(token);
  CHECK(token->user_pin_count_low);
  CHECK(token->user_pin_final_try);
  CHECK_FALSE(token->user_pin_locked);
}

TEST_CASE("a token that reports its user PIN locked is refused before any PIN is sent") {
  FaultInjection faults;
  SoftHsmToken softhsm;
  faults.set("pin locked\n");
  bool pin_asked = false;
  auto provider =
      hsm::Pkcs11KeyProvider::create({softhsm.module()}, "", [&pin_asked](const hsm::TokenInfo&) {
        pin_asked = true;
        return base::Result<base::SecureBuffer>(SoftHsmToken::user_pin());
      });
  REQUIRE(provider);
  auto signer = (*provider)->generate_key({"", KeyAlgorithm::kEcP256, "locked"});
  REQUIRE_FALSE(signer);
  CHECK(signer.error().code() == ErrorCode::kPinLocked);
  const std::string message = signer.error().describe();
  INFO(message);
  CHECK(contains(message, "locked"));
  CHECK(contains(message, "unblock it by logging in with the security officer PIN"));
  CHECK(contains(message, "C_InitPIN"));
  CHECK_FALSE(pin_asked);
}

TEST_CASE("C_Login answering CKR_PIN_LOCKED reads as a locked PIN with how to unblock it") {
  FaultInjection faults;
  SoftHsmToken softhsm;
  auto provider = make_provider(softhsm);
  faults.set("fail C_Login CKR_PIN_LOCKED\n");
  auto signer = provider->generate_key({"", KeyAlgorithm::kEcP256, "locked-at-login"});
  REQUIRE_FALSE(signer);
  CHECK(signer.error().code() == ErrorCode::kPinLocked);
  INFO(signer.error().describe());
  CHECK(contains(signer.error().message(), "CKR_PIN_LOCKED"));
  CHECK(contains(signer.error().message(), "unblock"));

  // Once unblocked (the fault is gone), the same provider logs in and works.
  faults.clear();
  CHECK(provider->generate_key({"", KeyAlgorithm::kEcP256, "after-unblock"}));
}

TEST_CASE("a card removed during key generation fails the generation as 'not present'") {
  FaultInjection faults;
  SoftHsmToken softhsm;
  auto provider = make_provider(softhsm);
  for (const char* rv : {"CKR_DEVICE_REMOVED", "CKR_TOKEN_NOT_PRESENT"}) {
    INFO(rv);
    faults.set(std::string("fail C_GenerateKeyPair ") + rv + "\n");
    auto signer = provider->generate_key({"", KeyAlgorithm::kEcP256, "removed"});
    REQUIRE_FALSE(signer);
    CHECK(signer.error().code() == ErrorCode::kNotFound);
    CHECK(contains(signer.error().message(), "is not present"));
    CHECK(contains(signer.error().message(), rv));
  }
  // Re-inserted: the provider opens fresh sessions, logs in again and generates.
  faults.clear();
  auto signer = provider->generate_key({"", KeyAlgorithm::kEcP256, "reinserted"});
  REQUIRE(signer);
  CHECK((*signer)->sign(base::as_bytes("after re-insert")));
  // No half-made key pair was left by the failed attempts.
  auto keys = provider->list_keys("");
  REQUIRE(keys);
  CHECK(keys->size() == 1);
}

TEST_CASE("a device error after N good signatures fails the next one and names the error") {
  FaultInjection faults;
  SoftHsmToken softhsm;
  auto provider = make_provider(softhsm);
  auto signer = provider->generate_key({"", KeyAlgorithm::kEcP256, "tired"});
  REQUIRE(signer);
  faults.set("fail C_Sign CKR_DEVICE_ERROR after 2\n");
  CHECK((*signer)->sign(base::as_bytes("one")));
  CHECK((*signer)->sign(base::as_bytes("two")));
  auto third = (*signer)->sign(base::as_bytes("three"));
  REQUIRE_FALSE(third);
  CHECK(third.error().code() == ErrorCode::kTokenError);
  CHECK(contains(third.error().message(), "C_Sign"));
  CHECK(contains(third.error().message(), "CKR_DEVICE_ERROR"));
  // The rule keeps failing while it stays in the file, and stops when it goes.
  CHECK_FALSE((*signer)->sign(base::as_bytes("four")));
  faults.clear();
  CHECK((*signer)->sign(base::as_bytes("five")));
}

TEST_CASE("a card pulled while a signature is made: the signer finds its key again afterwards") {
  FaultInjection faults;
  SoftHsmToken softhsm;
  auto provider = make_provider(softhsm);
  auto signer = provider->generate_key({"", KeyAlgorithm::kRsa2048, "pulled"});
  REQUIRE(signer);
  faults.set("fail C_SignInit CKR_DEVICE_REMOVED\n");
  auto pulled = (*signer)->sign(base::as_bytes("during removal"));
  REQUIRE_FALSE(pulled);
  CHECK(pulled.error().code() == ErrorCode::kNotFound);
  CHECK(contains(pulled.error().message(), "is not present"));
  faults.clear();
  CHECK((*signer)->sign(base::as_bytes("after re-insert")));
}

TEST_CASE("a failing object search surfaces when a key is looked up") {
  FaultInjection faults;
  SoftHsmToken softhsm;
  auto provider = make_provider(softhsm);
  auto signer = provider->generate_key({"", KeyAlgorithm::kEcP256, "findable"});
  REQUIRE(signer);
  const base::KeyRef ref = (*signer)->key_ref();
  signer = base::Error(ErrorCode::kInternal, "released");
  faults.set("fail C_FindObjectsInit CKR_DEVICE_ERROR\n");
  auto found = provider->find_key(ref);
  REQUIRE_FALSE(found);
  CHECK(contains(found.error().describe(), "CKR_DEVICE_ERROR"));
  faults.clear();
  CHECK(provider->find_key(ref));
}

TEST_CASE("a delayed key generation is waited for and then succeeds") {
  FaultInjection faults;
  SoftHsmToken softhsm;
  auto provider = make_provider(softhsm);
  faults.set("delay C_GenerateKeyPair 400\n");
  const auto start = std::chrono::steady_clock::now();
  auto signer = provider->generate_key({"", KeyAlgorithm::kEcP256, "slow"});
  const auto waited = std::chrono::steady_clock::now() - start;
  REQUIRE(signer);
  // The delay really happened (a lower bound: the sleep guarantees it).
  CHECK(waited >= std::chrono::milliseconds(400));
}

TEST_CASE("the slot description can be set to a reader name") {
  FaultInjection faults;
  SoftHsmToken softhsm;
  faults.set("slot_description Virtual PCD 00 00\n");
  auto slots = softhsm.module()->slots();
  REQUIRE(slots);
  REQUIRE_FALSE(slots->empty());
  bool with_token = false;
  for (const auto& slot : *slots) {
    CHECK(slot.description == "Virtual PCD 00 00");
    with_token = with_token || slot.token_present;
  }
  CHECK(with_token);
  faults.clear();
  slots = softhsm.module()->slots();
  REQUIRE(slots);
  CHECK(slots->front().description.rfind("SoftHSM", 0) == 0);
}

TEST_CASE("a card pulled while an object is written fails the write; the next write works") {
  FaultInjection faults;
  SoftHsmToken softhsm;
  auto provider = make_provider(softhsm);
  const base::Bytes secret(32, 0x42);
  // The key-encryption key exists first, so that only the secret's C_CreateObject is hit.
  REQUIRE(provider->wrap_secret("", secret));
  faults.set("fail C_CreateObject CKR_TOKEN_NOT_PRESENT\n");
  auto wrapped = provider->wrap_secret("", secret);
  REQUIRE_FALSE(wrapped);
  CHECK(wrapped.error().code() == ErrorCode::kNotFound);
  CHECK(contains(wrapped.error().message(), "C_CreateObject"));
  CHECK(contains(wrapped.error().message(), "is not present"));
  faults.clear();
  auto again = provider->wrap_secret("", secret);
  REQUIRE(again);
  auto unwrapped = provider->unwrap_secret(*again);
  REQUIRE(unwrapped);
  CHECK(base::Bytes(unwrapped->view().begin(), unwrapped->view().end()) == secret);
}
