// Operator accounts declared in the configuration file ([[bootstrap.operators.accounts]],
// docs/CONFIGURATION.md): signetd creates each one that does not exist, at start (after the
// first administrator) and on every reload, with its role, its initial password (read from its
// file, which only its owner may read, and hashed as the Authenticator hashes), the client
// certificate it binds (by SHA-256 fingerprint) and its disabled flag; audited as
// operator.created by "signetd:config". An operator that exists is never overwritten: when its
// role, disabled flag or bound certificate differs from the declaration (an administrator changed
// it, or the file did) the difference is reported (logged, audited as config.operator_drift, and
// in the reload's answer). Passwords are not compared: operators change theirs.
// Stateless functions; thread-safe as the directory and audit sink they are given.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "base/secure_buffer.h"
#include "ca/operators.h"
#include "ca/records.h"
#include "firmware-config/configuration.h"

namespace signet::appliance {

// The checks a declared certificate_file must pass: it holds a PEM certificate that parses.
base::Result<void> check_certificate_file(const std::string& path);

// What bootstrapping did, one sentence per operator that was created, drifted or failed.
struct OperatorBootstrapReport {
  std::vector<std::string> created;
  std::vector<std::string> drifted;  // "alice: role (file auditor, stored ra-officer)"
  std::vector<std::string> failed;
  std::vector<std::string> lines() const;  // all of them, prefixed
};

// Hashes an initial password (the Authenticator's policy and Argon2id).
using PasswordHasher = std::function<base::Result<std::string>(const base::SecureBuffer&)>;

// `actor` names signetd in the records and events ("signetd:config").
OperatorBootstrapReport bootstrap_operators(
    const std::vector<firmware_config::OperatorAccount>& declared, ca::OperatorDirectory& operators,
    ca::AuditSink& audit, const PasswordHasher& hash_password, base::TimePoint now,
    const std::string& actor);

}  // namespace signet::appliance
