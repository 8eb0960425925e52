// Shared by the ca/ unit tests: subject keys, CSRs made with them, parsed certificates.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "pki/certificate.h"
#include "pki/csr.h"
#include "pki/general_name.h"
#include "pki/name.h"
#include "tests/support/software_signer.h"

namespace signet::test {

inline base::Bytes csr_for(const base::Signer& key, const std::string& subject,
                           const std::vector<std::string>& sans = {}) {
  auto name = pki::parse_distinguished_name(subject);
  REQUIRE(name);
  std::vector<pki::GeneralName> names;
  for (const auto& san : sans) names.push_back(*pki::parse_general_name(san));
  auto csr = pki::build_csr(*name, names, key);
  REQUIRE(csr);
  return *csr;
}

inline std::shared_ptr<SoftwareSigner> subject_key(
    base::KeyAlgorithm algorithm = base::KeyAlgorithm::kEcP256) {
  auto key = SoftwareSigner::generate(algorithm);
  REQUIRE(key);
  return *key;
}

inline pki::Certificate parse(const base::Bytes& der) {
  auto certificate = pki::Certificate::from_der(der);
  REQUIRE(certificate);
  return *certificate;
}

}  // namespace signet::test
