// What the certificate commands share: finding a certificate by the ID an operator types,
// the key source options of `cert issue` and `cert rekey`, and handing out a local key's
// PKCS#12 with its one-time password. Single-threaded use (one command per process).
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "appliance/core/context.h"
#include "base/result.h"
#include "ca/certificate_service.h"

namespace signet::appliance {

// ID is a SHA-256 fingerprint (32 bytes) or a serial number, hex with or without colons;
// `ca_name` picks among CAs that used the same serial. Reads the inventory only.
base::Result<ca::CertificateRecord> find_certificate(ApplianceContext& ctx, const std::string& id,
                                                     const std::string& ca_name);

// Where the subject's key comes from, as typed: exactly one of --csr, --key-uri,
// --key-on-token, --local-key, and what goes with it.
struct KeySourceOptions {
  std::string csr;      // --csr FILE
  std::string key_uri;  // --key-uri URI
  bool key_on_token = false;
  bool local_key = false;
  std::string key;    // --key ALG (generated keys)
  std::string token;  // --token LABEL (generated keys; the KEK's token for --local-key)
  std::string pfx_out, pfx_profile = "modern", password_out;
};

// Adds --csr, --key-uri, --key-on-token, --local-key, --key, --token, --pfx-out,
// --pfx-profile and --password-out to `cmd`.
void add_key_source_options(CLI::App* cmd, KeySourceOptions& o);

// --reason (required) and --invalidity-date, as `cert revoke` and `ca revoke` take them.
struct RevocationOptions {
  std::string reason, invalidity_date;
};
void add_revocation_options(CLI::App* cmd, RevocationOptions& o);
base::Result<ca::RevokeRequest> to_revoke_request(const RevocationOptions& o);

// Checks the combination (one source; --key/--token only for generated keys; the PFX options
// only with --local-key, which needs --pfx-out) and reads the CSR. `has_subject`: whether the
// command was given --subject/--san (which a CSR carries itself).
base::Result<ca::KeySource> to_key_source(const KeySourceOptions& o, bool has_subject);
base::Result<pki::PfxProfile> pfx_profile_of(const KeySourceOptions& o);

// Refuses, before any work, a --password-out file that exists (the password would be lost).
base::Result<void> check_password_out(const std::string& password_out);

// Writes the PFX (mode 0600) and hands out its password once: to `password_out` (a new 0600
// file) or as one line on stderr, "PFX password (shown once): ...". Never in argv or stdout.
base::Result<void> deliver_pfx(const ca::LocalKeyDelivery& delivery, const std::string& pfx_out,
                               const std::string& password_out);

// The outcome of issue/renew/rekey/resubmit: the certificate PEM to `out` (or stdout, when
// not --json and nothing else took stdout), the PFX when the key is local, and the summary
// (certificate, order, warnings) on stdout or, when stdout carries the PEM, stderr.
// `verb` names what happened ("Issued", "Renewed"...).
struct ResultOutput {
  std::string out;  // --out FILE for the certificate PEM
  bool chain = false;
  std::string pfx_out, password_out;
};
base::Result<void> show_order_result(ApplianceContext& ctx, const ca::OrderResult& result,
                                     const ResultOutput& output, const std::string& verb);

}  // namespace signet::appliance
