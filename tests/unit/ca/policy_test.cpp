#include <catch2/catch.hpp>

#include "ca/policy.h"

using namespace signet;

namespace {

pki::PublicKeyInfo key(pki::PublicKeyInfo::Type type, int bits, std::string curve,
                       std::string name) {
  pki::PublicKeyInfo info;
  info.type = type;
  info.bits = bits;
  info.curve = std::move(curve);
  info.name = std::move(name);
  return info;
}

}  // namespace

TEST_CASE("subject keys: RSA 2048 to 8192, P-256, P-384 and Ed25519 pass") {
  using Type = pki::PublicKeyInfo::Type;
  for (const auto& k :
       {key(Type::kRsa, 2048, "", "rsa-2048"), key(Type::kRsa, 4096, "", "rsa-4096"),
        key(Type::kEc, 256, "P-256", "ec-p256"), key(Type::kEc, 384, "P-384", "ec-p384"),
        key(Type::kEd25519, 256, "", "ed25519")}) {
    ca::PolicyReport report;
    ca::check_subject_key(k, report);
    CHECK(report.ok());
  }
}

TEST_CASE("subject keys: small RSA, other curves and other types are refused by name") {
  using Type = pki::PublicKeyInfo::Type;
  ca::PolicyReport report;
  ca::check_subject_key(key(Type::kRsa, 1024, "", "rsa-1024"), report);
  ca::check_subject_key(key(Type::kEc, 256, "secp256k1", "ec-secp256k1"), report);
  ca::check_subject_key(key(Type::kEd448, 448, "", "ed448"), report);
  ca::check_subject_key(key(Type::kRsa, 16384, "", "rsa-16384"), report);
  REQUIRE(report.violations().size() == 4);
  auto error = report.to_error("certificate request");
  CHECK(error.code() == base::ErrorCode::kPolicyViolation);
  CHECK(error.message().find("1024 bits is too small") != std::string::npos);
  CHECK(error.message().find("secp256k1") != std::string::npos);
  CHECK(error.message().find("ed448") != std::string::npos);
  CHECK(error.message().find("too large") != std::string::npos);
}

TEST_CASE("CA names are safe as URL segments and file names") {
  CHECK(ca::validate_ca_name("issuing-2026.a_b"));
  CHECK_FALSE(ca::validate_ca_name(""));
  CHECK_FALSE(ca::validate_ca_name("../etc"));
  CHECK_FALSE(ca::validate_ca_name("a/b"));
  CHECK_FALSE(ca::validate_ca_name("-x"));
  CHECK_FALSE(ca::validate_ca_name(std::string(65, 'a')));
}
