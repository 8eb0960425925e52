// RA profiles: the JSON operators write, validation, and every rule in both modes.
#include <catch2/catch.hpp>

#include "ca/profile.h"
#include "pki/name.h"
#include "pki/tbs_certificate.h"
#include "tests/support/software_signer.h"

using namespace signet;
using base::KeyAlgorithm;

namespace {

base::Bytes public_key(KeyAlgorithm algorithm) {
  auto key = test::SoftwareSigner::generate(algorithm);
  REQUIRE(key);
  return (*key)->public_key_der();
}

base::Bytes name(const std::string& dn) {
  auto der = pki::parse_distinguished_name(dn);
  REQUIRE(der);
  return *der;
}

ca::ProfileDecision apply(const ca::Profile& profile, const ca::ProfileRequest& request) {
  auto decision = ca::apply_profile(profile, request);
  INFO((decision ? "" : decision.error().describe()));
  REQUIRE(decision);
  return *decision;
}

ca::Profile web_profile() {
  auto profile = ca::default_profile("issuing");
  profile.name = "web";
  profile.key_algorithms.allowed = {KeyAlgorithm::kEcP256, KeyAlgorithm::kRsa3072};
  profile.sans.dns_suffixes = {"example.com"};
  profile.sans.allow_ip = false;
  profile.sans.allow_email = false;
  profile.sans.max_count = 3;
  profile.validity = {90, 397, ca::RuleMode::kHardFail};
  profile.key_usage = {"digitalSignature", "keyEncipherment"};
  profile.extended_key_usage = {"serverAuth"};
  return profile;
}

bool mentions(const std::vector<ca::PolicyFinding>& findings, const std::string& rule,
              const std::string& text) {
  for (const auto& f : findings) {
    if (f.rule == rule && f.message.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("a profile survives its JSON form") {
  auto profile = web_profile();
  profile.subject.fixed = {{"O", "Example Corp"}};
  profile.subject.required = {"CN"};
  profile.subject.mode = ca::RuleMode::kSoftFail;
  auto back = ca::profile_from_json(ca::profile_to_json(profile));
  INFO((back ? "" : back.error().describe()));
  REQUIRE(back);
  CHECK(back->name == "web");
  CHECK(back->ca_name == "issuing");
  CHECK(back->key_algorithms.allowed == profile.key_algorithms.allowed);
  CHECK(back->validity.max_days == 397);
  CHECK(back->subject.fixed.at("O") == "Example Corp");
  CHECK(back->subject.mode == ca::RuleMode::kSoftFail);
  CHECK(back->sans.dns_suffixes == std::vector<std::string>{"example.com"});
  CHECK(back->sans.max_count == 3);
  CHECK(back->extended_key_usage == std::vector<std::string>{"serverAuth"});
}

TEST_CASE("profile JSON errors name the key path") {
  auto unknown = ca::profile_from_json(R"({"name":"x","sans":{"allow_ipv6":true}})");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message().find("unknown key 'sans.allow_ipv6'") != std::string::npos);

  auto wrong_type = ca::profile_from_json(R"({"name":"x","validity":{"max_days":"ninety"}})");
  REQUIRE_FALSE(wrong_type);
  CHECK(wrong_type.error().message().find("'validity.max_days' must be a whole number") !=
        std::string::npos);

  auto bad_algorithm =
      ca::profile_from_json(R"({"name":"x","key_algorithms":{"allowed":["dsa"]}})");
  REQUIRE_FALSE(bad_algorithm);
  CHECK(bad_algorithm.error().message().find("key_algorithms.allowed") != std::string::npos);

  auto no_name = ca::profile_from_json(R"({"ca":"issuing"})");
  REQUIRE_FALSE(no_name);
  CHECK(no_name.error().message().find("needs a \"name\"") != std::string::npos);

  CHECK_FALSE(ca::profile_from_json("{not json"));
}

TEST_CASE("validate_profile reports every inconsistency") {
  auto profile = web_profile();
  profile.validity = {500, 90, ca::RuleMode::kHardFail};
  profile.key_usage = {"digitalSignature", "teleportation"};
  profile.extended_key_usage = {"serverAuth", "not an oid"};
  profile.sans.max_count = 0;
  auto valid = ca::validate_profile(profile);
  REQUIRE_FALSE(valid);
  const auto& message = valid.error().message();
  CHECK(message.find("default_days (500) is longer than validity.max_days (90)") !=
        std::string::npos);
  CHECK(message.find("'teleportation' is not a key usage") != std::string::npos);
  CHECK(message.find("'not an oid'") != std::string::npos);
  CHECK(message.find("sans.max_count") != std::string::npos);
  CHECK(ca::validate_profile(web_profile()));
  CHECK(ca::validate_profile(ca::default_profile("issuing")));
}

TEST_CASE("a request within the profile passes and gets the profile's usages") {
  auto decision =
      apply(web_profile(),
            {public_key(KeyAlgorithm::kEcP256), name("CN=www.example.com"), {}, std::nullopt});
  CHECK_FALSE(decision.refused());
  CHECK(decision.soft_failures.empty());
  CHECK(decision.validity_days == 90);
  // A DNS common name becomes the SAN; keyEncipherment is dropped for an EC key.
  CHECK(decision.subject_alt_names == std::vector<std::string>{"DNS:www.example.com"});
  CHECK(decision.key_usage == pki::kDigitalSignature);
  CHECK(decision.extended_key_usage == std::vector<std::string>{"1.3.6.1.5.5.7.3.1"});
  CHECK(decision.key_algorithm == "ec-p256");

  auto rsa =
      apply(web_profile(),
            {public_key(KeyAlgorithm::kRsa3072), name("CN=a.example.com"), {}, std::nullopt});
  CHECK(rsa.key_usage == (pki::kDigitalSignature | pki::kKeyEncipherment));
}

TEST_CASE("every rule refuses in hard mode and warns in soft mode") {
  struct Case {
    const char* rule;
    std::function<void(ca::Profile&, ca::RuleMode)> set_mode;
    ca::ProfileRequest request;
    const char* message;
  };
  const auto ec256 = public_key(KeyAlgorithm::kEcP256);
  std::vector<Case> cases = {
      {"key_algorithms",
       [](ca::Profile& p, ca::RuleMode m) { p.key_algorithms.mode = m; },
       {public_key(KeyAlgorithm::kEcP384), name("CN=a.example.com"), {}, std::nullopt},
       "ec-p384 is not allowed by profile issuing/web (allowed: ec-p256, rsa-3072)"},
      {"validity",
       [](ca::Profile& p, ca::RuleMode m) { p.validity.mode = m; },
       {ec256, name("CN=a.example.com"), {}, 400},
       "a validity of 400 days exceeds the profile's maximum of 397"},
      {"sans",
       [](ca::Profile& p, ca::RuleMode m) { p.sans.mode = m; },
       {ec256,
        name("CN=a.example.com"),
        {"DNS:a.example.com", "DNS:evil.example.net"},
        std::nullopt},
       "evil.example.net is outside the allowed domains (example.com)"},
      {"sans",
       [](ca::Profile& p, ca::RuleMode m) { p.sans.mode = m; },
       {ec256, name("CN=a.example.com"), {"DNS:a.example.com", "IP:192.0.2.7"}, std::nullopt},
       "IP address 192.0.2.7 is not allowed"},
      {"sans",
       [](ca::Profile& p, ca::RuleMode m) { p.sans.mode = m; },
       {ec256,
        name("CN=a.example.com"),
        {"DNS:a.example.com", "email:x@example.com"},
        std::nullopt},
       "e-mail address x@example.com is not allowed"},
      {"sans",
       [](ca::Profile& p, ca::RuleMode m) { p.sans.mode = m; },
       {ec256,
        name("CN=a.example.com"),
        {"DNS:a.example.com", "DNS:b.example.com", "DNS:c.example.com", "DNS:d.example.com"},
        std::nullopt},
       "4 subject alternative names exceed the profile's maximum of 3"},
      {"subject",
       [](ca::Profile& p, ca::RuleMode m) {
         p.subject.required = {"CN", "O"};
         p.subject.mode = m;
       },
       {ec256, name("CN=a.example.com"), {}, std::nullopt},
       "the required subject field O is missing"},
      {"subject",
       [](ca::Profile& p, ca::RuleMode m) {
         p.subject.allowed = {"CN"};
         p.subject.mode = m;
       },
       {ec256, name("CN=a.example.com,OU=Ops"), {}, std::nullopt},
       "the subject field OU is not allowed (allowed: CN)"},
      {"subject",
       [](ca::Profile& p, ca::RuleMode m) {
         p.subject.fixed = {{"O", "Example Corp"}};
         p.subject.mode = m;
       },
       {ec256, name("CN=a.example.com,O=Someone Else"), {}, std::nullopt},
       "O=Someone Else was requested, but the profile sets O=Example Corp"},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.rule << ": " << c.message) {
      auto hard = web_profile();
      c.set_mode(hard, ca::RuleMode::kHardFail);
      auto refused = apply(hard, c.request);
      CHECK(refused.refused());
      CHECK(mentions(refused.hard_failures, c.rule, c.message));
      auto error = refused.to_error(hard);
      CHECK(error.code() == base::ErrorCode::kPolicyViolation);
      CHECK(error.message().find("request refused by profile 'issuing/web'") != std::string::npos);

      auto soft = web_profile();
      c.set_mode(soft, ca::RuleMode::kSoftFail);
      auto warned = apply(soft, c.request);
      CHECK_FALSE(warned.refused());
      CHECK(mentions(warned.soft_failures, c.rule, c.message));
    }
  }
}

TEST_CASE("keys Signet never certifies are refused whatever the mode") {
  auto profile = web_profile();
  profile.key_algorithms.allowed.clear();
  profile.key_algorithms.mode = ca::RuleMode::kSoftFail;
  auto key = test::SoftwareSigner::generate(KeyAlgorithm::kRsa2048);
  REQUIRE(key);
  // An RSA-1024 key made by openssl would do as well; a P-256 key with a disabled profile shows
  // the other always-hard rule.
  profile.enabled = false;
  auto decision = apply(profile, {(*key)->public_key_der(), name("CN=a.example.com"), {}, {}});
  CHECK(decision.refused());
  CHECK(mentions(decision.hard_failures, "enabled", "profile issuing/web is disabled"));
}

TEST_CASE("the subject template fills in fixed attributes in X.509 order") {
  auto profile = web_profile();
  profile.subject.fixed = {{"O", "Example Corp"}, {"C", "DE"}};
  auto decision = apply(
      profile, {public_key(KeyAlgorithm::kEcP256), name("CN=a.example.com"), {}, std::nullopt});
  CHECK_FALSE(decision.refused());
  auto text = pki::format_distinguished_name(decision.subject_der);
  REQUIRE(text);
  CHECK(*text == "CN=a.example.com,O=Example Corp,C=DE");
}

TEST_CASE("a wildcard DNS name is checked against the allowed domains without its star") {
  auto decision = apply(web_profile(), {public_key(KeyAlgorithm::kEcP256),
                                        name("CN=example.com"),
                                        {"DNS:*.example.com", "DNS:example.com"},
                                        std::nullopt});
  CHECK_FALSE(decision.refused());
  auto outside = apply(
      web_profile(),
      {public_key(KeyAlgorithm::kEcP256), name("CN=x"), {"DNS:*.notexample.com"}, std::nullopt});
  CHECK(outside.refused());
}

TEST_CASE("a UPN is a logon identity: only the realms the profile names admit it") {
  const auto key = public_key(KeyAlgorithm::kEcP256);
  auto profile = web_profile();
  profile.sans.allow_email = true;  // e-mail addresses do not open the door to UPNs
  auto none =
      apply(profile, {key, name("CN=Ada Lovelace"), {"UPN:administrator@corp.example"}, {}});
  CHECK(none.refused());
  CHECK(mentions(none.hard_failures, "sans", "sans.upn_realms is empty"));

  profile.sans.upn_realms = {"corp.example"};
  for (const char* upn : {"UPN:ada@corp.example", "UPN:ada@EU.Corp.Example"}) {
    INFO(upn);
    CHECK_FALSE(apply(profile, {key, name("CN=Ada Lovelace"), {upn}, {}}).refused());
  }
  for (const char* upn : {"UPN:ada@other.example", "UPN:ada@evilcorp.example"}) {
    INFO(upn);
    auto outside = apply(profile, {key, name("CN=Ada Lovelace"), {upn}, {}});
    CHECK(outside.refused());
    CHECK(mentions(outside.hard_failures, "sans", "outside the allowed realms (corp.example)"));
  }
  auto back = ca::profile_from_json(ca::profile_to_json(profile));
  REQUIRE(back);
  CHECK(back->sans.upn_realms == std::vector<std::string>{"corp.example"});
}
