// What the PKCS#11 layer reports about its tokens (hsm/token_events.h) when the fault module in
// front of a real SoftHSM token makes them fail, and how signetd's TokenEventAudit
// (appliance/core/token_error_audit.h) writes those reports to the audit log: each with the
// operation, the C_ function, the CKR_ name and the token's label and serial, and rate-limited so
// that a dead HSM cannot flood the log.
#include <catch2/catch.hpp>

#include <mutex>
#include <nlohmann/json.hpp>
#include <vector>

#include "appliance/core/token_error_audit.h"
#include "base/bytes.h"
#include "ca/audit.h"
#include "hsm/key_provider.h"
#include "tests/support/fault_pkcs11/fault_fixture.h"
#include "tests/support/memory_store.h"
#include "tests/support/softhsm_token.h"

using namespace signet;
using base::ErrorCode;
using base::KeyAlgorithm;
using hsm::TokenEvent;
using test::FaultInjection;
using test::SoftHsmToken;

namespace {

// Collects what the provider reports (from any thread).
struct Recorder {
  std::mutex mutex;
  std::vector<TokenEvent> events;
  hsm::TokenEventObserver observer() {
    return [this](const TokenEvent& event) {
      std::lock_guard lock(mutex);
      events.push_back(event);
    };
  }
  std::vector<TokenEvent> of(TokenEvent::Kind kind) {
    std::lock_guard lock(mutex);
    std::vector<TokenEvent> out;
    for (const auto& e : events) {
      if (e.kind == kind) out.push_back(e);
    }
    return out;
  }
};

std::shared_ptr<hsm::Pkcs11KeyProvider> make_provider(SoftHsmToken& softhsm,
                                                      hsm::TokenEventObserver observer,
                                                      hsm::PinSource pins = nullptr) {
  hsm::Pkcs11KeyProvider::Options options;
  options.token_events = std::move(observer);
  auto provider = hsm::Pkcs11KeyProvider::create(
      {softhsm.module()}, "", pins ? std::move(pins) : SoftHsmToken::pin_source(), options);
  REQUIRE(provider);
  return *provider;
}

std::vector<ca::AuditEvent> audit_of(test::MemoryStore& store, const std::string& action) {
  auto all = store.list_audit(0, 100000);
  REQUIRE(all);
  std::vector<ca::AuditEvent> out;
  for (auto& e : *all) {
    if (e.action == action) out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

TEST_CASE("a login and a signature that the token fails are reported with function and CKR name") {
  FaultInjection faults;
  SoftHsmToken softhsm;
  Recorder recorded;
  auto provider = make_provider(softhsm, recorded.observer());
  auto signer = provider->generate_key({"", KeyAlgorithm::kEcP256, "events"});
  REQUIRE(signer);
  const auto logins = recorded.of(TokenEvent::Kind::kLogin);
  REQUIRE(logins.size() == 1);
  CHECK(logins[0].operation == "login");
  CHECK(logins[0].token_label == softhsm.label());
  CHECK(logins[0].token_serial == softhsm.serial());
  CHECK(recorded.of(TokenEvent::Kind::kError).empty());

  faults.set("fail C_Sign CKR_DEVICE_ERROR\n");
  auto signed_ = (*signer)->sign(base::as_bytes("hello"));
  REQUIRE_FALSE(signed_);
  CHECK(signed_.error().code() == ErrorCode::kTokenError);
  const auto errors = recorded.of(TokenEvent::Kind::kError);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].operation == "sign");
  CHECK(errors[0].function == "C_Sign");
  CHECK(errors[0].rv_name == "CKR_DEVICE_ERROR");
  CHECK(errors[0].rv == CKR_DEVICE_ERROR);
  CHECK(errors[0].token_label == softhsm.label());
  CHECK(errors[0].token_serial == softhsm.serial());

  faults.clear();
  CHECK((*signer)->sign(base::as_bytes("hello")));
  CHECK(recorded.of(TokenEvent::Kind::kError).size() == 1);
}

TEST_CASE("a refused login is reported with the token's answer, never the PIN") {
  FaultInjection faults;
  SoftHsmToken softhsm;
  Recorder recorded;
  auto provider = make_provider(softhsm, recorded.observer(), [](const hsm::TokenInfo&) {
    return base::Result<base::SecureBuffer>(base::SecureBuffer::copy_of(base::as_bytes("9999")));
  });
  auto signer = provider->generate_key({"", KeyAlgorithm::kEcP256, "refused"});
  REQUIRE_FALSE(signer);
  CHECK(signer.error().code() == ErrorCode::kPinIncorrect);
  const auto refused = recorded.of(TokenEvent::Kind::kLoginFailed);
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].operation == "login");
  CHECK(refused[0].function == "C_Login");
  CHECK(refused[0].rv_name == "CKR_PIN_INCORRECT");
  CHECK(recorded.of(TokenEvent::Kind::kLogin).empty());
}

TEST_CASE("key generation and session opening that the token fails are reported") {
  FaultInjection faults;
  SoftHsmToken softhsm;
  Recorder recorded;
  auto provider = make_provider(softhsm, recorded.observer());

  faults.set("fail C_OpenSession CKR_DEVICE_ERROR\n");
  auto no_session = provider->generate_key({"", KeyAlgorithm::kEcP256, "no-session"});
  REQUIRE_FALSE(no_session);
  auto errors = recorded.of(TokenEvent::Kind::kError);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].operation == "open_session");
  CHECK(errors[0].rv_name == "CKR_DEVICE_ERROR");

  faults.set("fail C_GenerateKeyPair CKR_DEVICE_ERROR\n");
  auto no_key = provider->generate_key({"", KeyAlgorithm::kEcP256, "no-key"});
  REQUIRE_FALSE(no_key);
  errors = recorded.of(TokenEvent::Kind::kError);
  REQUIRE(errors.size() == 2);
  CHECK(errors[1].operation == "generate_key");
  CHECK(errors[1].function == "C_GenerateKeyPair");
  CHECK(errors[1].rv_name == "CKR_DEVICE_ERROR");
}

TEST_CASE("a token removed mid-signature is reported as a lost session") {
  FaultInjection faults;
  SoftHsmToken softhsm;
  Recorder recorded;
  auto provider = make_provider(softhsm, recorded.observer());
  auto signer = provider->generate_key({"", KeyAlgorithm::kEcP256, "removed"});
  REQUIRE(signer);
  faults.set("fail C_Sign CKR_DEVICE_REMOVED\n");
  REQUIRE_FALSE((*signer)->sign(base::as_bytes("hello")));
  const auto lost = recorded.of(TokenEvent::Kind::kSessionLost);
  REQUIRE_FALSE(lost.empty());
  CHECK(lost[0].rv_name == "CKR_DEVICE_REMOVED");
  CHECK(lost[0].operation == "sign");
  CHECK(lost[0].token_serial == softhsm.serial());
  // The retry on a fresh session failed too: that is the operation's error.
  const auto errors = recorded.of(TokenEvent::Kind::kError);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].rv_name == "CKR_DEVICE_REMOVED");

  faults.clear();
  CHECK((*signer)->sign(base::as_bytes("hello")));
  CHECK(recorded.of(TokenEvent::Kind::kLogin).size() >= 2);  // logged in again
}

TEST_CASE("a dead HSM's errors reach the audit log rate-limited, with what was suppressed") {
  FaultInjection faults;
  SoftHsmToken softhsm;
  test::MemoryStore store;
  base::FixedClock clock(base::TimePoint{} + std::chrono::hours(24 * 20000));
  appliance::TokenEventAudit audit(store, clock, std::chrono::seconds(60));
  auto provider =
      make_provider(softhsm, [&audit](const TokenEvent& event) { audit.record(event); });
  auto signer = provider->generate_key({"", KeyAlgorithm::kEcP256, "dead"});
  REQUIRE(signer);
  REQUIRE(audit_of(store, "token.logged_in").size() == 1);

  faults.set("fail C_Sign CKR_DEVICE_ERROR\n");
  constexpr int kFailures = 50;
  for (int i = 0; i < kFailures; ++i) REQUIRE_FALSE((*signer)->sign(base::as_bytes("x")));
  auto events = audit_of(store, "token.error");
  REQUIRE(events.size() == 1);
  CHECK(events[0].actor == "signetd");
  CHECK(events[0].object == "token:" + softhsm.serial());
  auto detail = nlohmann::json::parse(events[0].detail);
  CHECK(detail["operation"] == "sign");
  CHECK(detail["function"] == "C_Sign");
  CHECK(detail["rv"] == "CKR_DEVICE_ERROR");
  CHECK(detail["token_label"] == softhsm.label());
  CHECK(detail["token_serial"] == softhsm.serial());
  CHECK(detail["suppressed_since_last_event"] == 0);

  // A different failure of the same token is its own key: told at once.
  faults.set("fail C_Sign CKR_FUNCTION_FAILED\n");
  REQUIRE_FALSE((*signer)->sign(base::as_bytes("x")));
  REQUIRE(audit_of(store, "token.error").size() == 2);

  // After the interval the next failure is written, counting the ones suppressed meanwhile.
  faults.set("fail C_Sign CKR_DEVICE_ERROR\n");
  clock.advance(std::chrono::seconds(61));
  REQUIRE_FALSE((*signer)->sign(base::as_bytes("x")));
  events = audit_of(store, "token.error");
  REQUIRE(events.size() == 3);
  detail = nlohmann::json::parse(events[2].detail);
  CHECK(detail["rv"] == "CKR_DEVICE_ERROR");
  CHECK(detail["suppressed_since_last_event"] == kFailures - 1);

  // Suppressed ones not yet told are written by flush() (signetd's shutdown), once.
  for (int i = 0; i < 5; ++i) REQUIRE_FALSE((*signer)->sign(base::as_bytes("x")));
  CHECK(audit_of(store, "token.error").size() == 3);
  audit.flush();
  events = audit_of(store, "token.error");
  REQUIRE(events.size() == 4);
  detail = nlohmann::json::parse(events[3].detail);
  CHECK(detail["summary"] == true);
  CHECK(detail["suppressed_since_last_event"] == 5);
  audit.flush();
  CHECK(audit_of(store, "token.error").size() == 4);

  auto chain = ca::verify_audit_chain(store);
  REQUIRE(chain);
  CHECK(chain->ok());
}
