// Signed configuration bundles (appliance/core/config_bundle.h) with software keys: a bundle
// opens with its signer's key as anchor; an unknown signer, an altered payload, a swapped
// signature and a damaged file are each refused with their own error.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "appliance/core/config_bundle.h"
#include "base/bytes.h"
#include "tests/support/software_signer.h"

using namespace signet::appliance;
using signet::base::ErrorCode;
using signet::base::KeyAlgorithm;
using signet::test::SoftwareSigner;

namespace {

ConfigBundle sample() {
  ConfigBundle b;
  b.config_text = "[limits]\nmax_connections = 32\n";
  b.version = 4;
  b.sequence = 17;
  b.created = "2026-12-06T08:00:00Z";
  b.source = "version 4";
  return b;
}

TrustAnchor anchor_of(const signet::base::Signer& signer) {
  return {"test", signer.public_key_der(), config_key_id(signer.public_key_der())};
}

// Rewrites the payload of `text` with `edit` applied to its JSON.
template <typename Edit>
std::string with_payload(const std::string& text, Edit edit) {
  auto envelope = nlohmann::json::parse(text);
  auto payload = signet::base::from_base64(envelope["payload"].get<std::string>());
  REQUIRE(payload);
  auto inner = nlohmann::json::parse(signet::base::as_chars(*payload));
  edit(inner);
  envelope["payload"] = signet::base::to_base64(signet::base::as_bytes(inner.dump()));
  return envelope.dump();
}

}  // namespace

TEST_CASE("a bundle opens with its signer as trust anchor and keeps text and metadata") {
  for (auto algorithm : {KeyAlgorithm::kEcP256, KeyAlgorithm::kEcP384, KeyAlgorithm::kRsa2048,
                         KeyAlgorithm::kEd25519}) {
    auto signer = SoftwareSigner::generate(algorithm);
    REQUIRE(signer);
    auto text = make_config_bundle(sample(), **signer);
    REQUIRE(text);
    auto opened = open_config_bundle(*text, {anchor_of(**signer)});
    INFO((opened ? std::string() : opened.error().describe()));
    REQUIRE(opened);
    CHECK(opened->config_text == sample().config_text);
    CHECK(opened->version == 4);
    CHECK(opened->sequence == 17);
    CHECK(opened->created == "2026-12-06T08:00:00Z");
    CHECK(opened->signer_key_id == config_key_id((*signer)->public_key_der()));
    CHECK(opened->config_sha256.size() == 64);
  }
}

TEST_CASE("bundles that must not be applied are refused, each with its reason") {
  auto admin = SoftwareSigner::generate(KeyAlgorithm::kEcP256);
  auto intruder = SoftwareSigner::generate(KeyAlgorithm::kEcP256);
  REQUIRE(admin);
  REQUIRE(intruder);
  const std::vector<TrustAnchor> anchors = {anchor_of(**admin)};
  auto good = make_config_bundle(sample(), **admin);
  auto foreign = make_config_bundle(sample(), **intruder);
  REQUIRE(good);
  REQUIRE(foreign);

  auto unknown = open_config_bundle(*foreign, anchors);
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code() == ErrorCode::kVerificationFailed);
  CHECK(unknown.error().message().find("unknown key") != std::string::npos);

  // The intruder's signature under the administrator's key id.
  auto forged = nlohmann::json::parse(*foreign);
  const auto admin_id = config_key_id((*admin)->public_key_der());
  forged["signer_key_id"] = admin_id;
  auto wrong = open_config_bundle(
      with_payload(forged.dump(), [&](auto& inner) { inner["signer_key_id"] = admin_id; }),
      anchors);
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().message().find("signature does not verify") != std::string::npos);

  auto tampered = open_config_bundle(
      with_payload(*good, [](auto& inner) { inner["config"] = "[limits]\nmax_connections = 1\n"; }),
      anchors);
  REQUIRE_FALSE(tampered);
  CHECK(tampered.error().code() == ErrorCode::kVerificationFailed);

  auto truncated = open_config_bundle(good->substr(0, good->size() / 2), anchors);
  REQUIRE_FALSE(truncated);
  CHECK(truncated.error().code() == ErrorCode::kInvalidArgument);
  CHECK(truncated.error().message().find("truncated") != std::string::npos);

  CHECK_FALSE(open_config_bundle(*good, {}));
  CHECK_FALSE(open_config_bundle("{\"format\": \"other\"}", anchors));
}

TEST_CASE("a bundle carries a sequence number in its signed payload; v1 bundles are refused") {
  auto admin = SoftwareSigner::generate(KeyAlgorithm::kEcP256);
  REQUIRE(admin);
  const std::vector<TrustAnchor> anchors = {anchor_of(**admin)};

  auto unnumbered = sample();
  unnumbered.sequence = 0;
  auto refused = make_config_bundle(unnumbered, **admin);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == ErrorCode::kInvalidArgument);

  auto good = make_config_bundle(sample(), **admin);
  REQUIRE(good);
  // The sequence is signed: raising it breaks the signature.
  auto raised =
      open_config_bundle(with_payload(*good, [](auto& inner) { inner["sequence"] = 18; }), anchors);
  REQUIRE_FALSE(raised);
  CHECK(raised.error().code() == ErrorCode::kVerificationFailed);

  // A version 1 bundle (no sequence), even one whose signature verifies, is refused saying why.
  auto v1_payload = nlohmann::json::parse(signet::base::as_chars(
      *signet::base::from_base64(nlohmann::json::parse(*good)["payload"].get<std::string>())));
  v1_payload["format"] = "signet-config-bundle-v1";
  v1_payload.erase("sequence");
  const auto payload_text = v1_payload.dump();
  auto signature = (*admin)->sign(signet::base::as_bytes(payload_text));
  REQUIRE(signature);
  const nlohmann::json v1 = {
      {"format", "signet-config-bundle-v1"},
      {"signer_key_id", config_key_id((*admin)->public_key_der())},
      {"digest", "sha256"},
      {"payload", signet::base::to_base64(signet::base::as_bytes(payload_text))},
      {"signature", signet::base::to_base64(*signature)}};
  auto old = open_config_bundle(v1.dump(), anchors);
  REQUIRE_FALSE(old);
  CHECK(old.error().code() == ErrorCode::kInvalidArgument);
  CHECK(old.error().message().find("no sequence number") != std::string::npos);

  // A v2 payload without a sequence (signed as such) is no whole bundle either.
  auto missing = nlohmann::json::parse(signet::base::as_chars(
      *signet::base::from_base64(nlohmann::json::parse(*good)["payload"].get<std::string>())));
  missing.erase("sequence");
  const auto missing_text = missing.dump();
  auto missing_signature = (*admin)->sign(signet::base::as_bytes(missing_text));
  REQUIRE(missing_signature);
  auto envelope = nlohmann::json::parse(*good);
  envelope["payload"] = signet::base::to_base64(signet::base::as_bytes(missing_text));
  envelope["signature"] = signet::base::to_base64(*missing_signature);
  auto unnumbered_open = open_config_bundle(envelope.dump(), anchors);
  REQUIRE_FALSE(unnumbered_open);
  CHECK(unnumbered_open.error().message().find("sequence") != std::string::npos);
}
