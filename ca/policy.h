// Issuance policy checks that hold for every certificate, before RA profiles add their own:
// which subject keys are acceptable and which names a certificate may carry. A check collects
// every violation in a PolicyReport instead of stopping at the first, so that an operator
// fixes a request in one round. Plain functions, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "pki/general_name.h"
#include "pki/public_key.h"

namespace signet::ca {

class PolicyReport {
 public:
  void add(std::string violation) { violations_.push_back(std::move(violation)); }
  bool ok() const { return violations_.empty(); }
  const std::vector<std::string>& violations() const { return violations_; }
  // kPolicyViolation listing every violation ("request refused: a; b").
  base::Error to_error(std::string_view what) const;

 private:
  std::vector<std::string> violations_;
};

// Subject keys we certify: RSA 2048..8192 bits, EC P-256 and P-384, Ed25519.
void check_subject_key(const pki::PublicKeyInfo& key, PolicyReport& report);

// CA names become URL path segments and file names: 1-64 of [A-Za-z0-9._-], not starting
// with '.' or '-'.
base::Result<void> validate_ca_name(std::string_view name);

}  // namespace signet::ca
