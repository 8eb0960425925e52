#include "appliance/cli/cert_support.h"

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "appliance/cli/output.h"
#include "base/secret_input.h"
#include "pki/pem.h"

namespace signet::appliance {

using base::Error;
using base::ErrorCode;
using base::Result;

Result<ca::CertificateRecord> find_certificate(ApplianceContext& ctx, const std::string& id,
                                               const std::string& ca_name) {
  SIGNET_ASSIGN_OR_RETURN(auto* inventory, ctx.inventory());
  auto bytes = base::from_hex(id);
  if (!bytes || bytes->empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "'" + id + "' is neither a serial number nor a SHA-256 fingerprint (hex)");
  }
  if (bytes->size() == 32) {
    SIGNET_ASSIGN_OR_RETURN(auto found, inventory->find_certificate_by_fingerprint(*bytes));
    if (found) return std::move(*found);
  }
  SIGNET_ASSIGN_OR_RETURN(auto serial, pki::SerialNumber::from_bytes(*bytes));
  SIGNET_ASSIGN_OR_RETURN(auto matches, inventory->find_certificates_by_serial(serial));
  if (!ca_name.empty()) {
    std::erase_if(matches, [&](const auto& r) { return r.ca_name != ca_name; });
  }
  if (matches.empty()) {
    return Error(ErrorCode::kNotFound, "no certificate has serial number or fingerprint " + id);
  }
  if (matches.size() > 1) {
    std::string cas;
    for (const auto& m : matches) cas += (cas.empty() ? "" : ", ") + m.ca_name;
    return Error(ErrorCode::kInvalidArgument, "serial number " + id + " is used by several CAs (" +
                                                  cas +
                                                  "); name one with --ca or use the fingerprint");
  }
  return std::move(matches.front());
}

void add_key_source_options(CLI::App* cmd, KeySourceOptions& o) {
  cmd->add_option("--csr", o.csr, "key source: a PKCS#10 request, PEM or DER");
  cmd->add_option("--key-uri", o.key_uri,
                  "key source: an existing private key on a token (RFC 7512 pkcs11: URI); the "
                  "request is built and signed with it on the token");
  cmd->add_flag("--key-on-token", o.key_on_token,
                "key source: generate a non-extractable key pair on the token (--token, --key)");
  cmd->add_flag("--local-key", o.local_key,
                "key source: generate a software key, deliver it once as PKCS#12 (--pfx-out) and "
                "keep it only wrapped under the token's key-encryption key");
  cmd->add_option("--key", o.key,
                  "algorithm of a generated key: ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096, "
                  "ed25519 (default: the profile's first allowed, else ec-p256)");
  cmd->add_option("--token", o.token,
                  "token that generates the key (--key-on-token) or wraps it (--local-key); "
                  "default: the global --token");
  cmd->add_option("--pfx-out", o.pfx_out, "with --local-key: write the PKCS#12 here (mode 0600)");
  cmd->add_option("--pfx-profile", o.pfx_profile,
                  "modern (AES-256, PBKDF2, SHA-256 MAC) or compat (3DES, SHA-1 MAC, for old "
                  "Windows and Java)")
      ->check(CLI::IsMember({"modern", "compat"}))
      ->capture_default_str();
  cmd->add_option("--password-out", o.password_out,
                  "write the PKCS#12 password to this new file (mode 0600) instead of stderr");
}

Result<pki::PfxProfile> pfx_profile_of(const KeySourceOptions& o) {
  return pki::parse_pfx_profile(o.pfx_profile);
}

Result<ca::KeySource> to_key_source(const KeySourceOptions& o, bool has_subject) {
  const int sources = static_cast<int>(!o.csr.empty()) + static_cast<int>(!o.key_uri.empty()) +
                      static_cast<int>(o.key_on_token) + static_cast<int>(o.local_key);
  if (sources == 0) {
    return Error(ErrorCode::kInvalidArgument,
                 "give one key source: --csr FILE, --key-uri URI, --key-on-token or --local-key");
  }
  if (sources > 1) {
    return Error(ErrorCode::kInvalidArgument,
                 "give only one key source of --csr, --key-uri, --key-on-token and --local-key");
  }
  const bool generated = o.key_on_token || o.local_key;
  if (!generated && !o.key.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "--key chooses the algorithm of a generated key: use it with --key-on-token or "
                 "--local-key");
  }
  if (!generated && !o.token.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "--token names where a key is generated or wrapped: use it with --key-on-token "
                 "or --local-key (a --key-uri names its token itself)");
  }
  if (!o.local_key && (!o.pfx_out.empty() || !o.password_out.empty())) {
    return Error(ErrorCode::kInvalidArgument,
                 "--pfx-out and --password-out go with --local-key (only a local software key "
                 "can be delivered as PKCS#12)");
  }
  if (o.local_key && o.pfx_out.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "--local-key needs --pfx-out FILE: the key is delivered only as PKCS#12");
  }
  if (!o.csr.empty() && has_subject) {
    return Error(
        ErrorCode::kInvalidArgument,
        "a CSR carries its own subject and SANs: leave out --subject and --san with --csr");
  }
  SIGNET_TRY(check_password_out(o.password_out));

  ca::KeySource source;
  if (!o.csr.empty()) {
    source.kind = ca::KeySourceKind::kCsr;
    SIGNET_ASSIGN_OR_RETURN(source.csr, read_input_file(o.csr));
  } else if (!o.key_uri.empty()) {
    source.kind = ca::KeySourceKind::kTokenKey;
    source.key_uri = o.key_uri;
  } else {
    source.kind = o.key_on_token ? ca::KeySourceKind::kKeyOnToken : ca::KeySourceKind::kLocalKey;
    source.token = o.token;
    if (!o.key.empty()) {
      SIGNET_ASSIGN_OR_RETURN(source.algorithm, base::parse_key_algorithm(o.key));
    }
  }
  return source;
}

Result<void> check_password_out(const std::string& password_out) {
  if (password_out.empty()) return base::ok();
  std::error_code error;
  if (std::filesystem::exists(password_out, error)) {
    return Error(ErrorCode::kAlreadyExists,
                 "the password file '" + password_out +
                     "' already exists; name a new file (a password is written once)");
  }
  return base::ok();
}

Result<void> deliver_pfx(const ca::LocalKeyDelivery& delivery, const std::string& pfx_out,
                         const std::string& password_out) {
  SIGNET_TRY(write_private_output(pfx_out, delivery.pfx));
  if (!password_out.empty()) {
    auto written = base::write_secret_file(password_out, delivery.password.view());
    if (written) return base::ok();
    // The password exists only here: rather than lose it, show it once on stderr.
    std::cerr << "signet: warning: " << written.error().describe() << "\n";
  }
  std::fputs("PFX password (shown once): ", stderr);
  std::fwrite(delivery.password.view().data(), 1, delivery.password.size(), stderr);
  std::fputs("\n", stderr);
  std::fflush(stderr);
  return base::ok();
}

namespace {

Result<std::string> certificate_pem(ApplianceContext& ctx, const ca::CertificateRecord& record,
                                    bool with_chain) {
  std::string pem = pki::pem_encode("CERTIFICATE", record.der);
  if (!with_chain) return pem;
  SIGNET_ASSIGN_OR_RETURN(auto* authority, ctx.authority());
  SIGNET_ASSIGN_OR_RETURN(auto chain, authority->chain_for(record.ca_name, record.der));
  for (const auto& der : chain) {
    if (der != record.der) pem += pki::pem_encode("CERTIFICATE", der);
  }
  return pem;
}

}  // namespace

Result<void> show_order_result(ApplianceContext& ctx, const ca::OrderResult& result,
                               const ResultOutput& output, const std::string& verb) {
  const auto now = ctx.clock().now();
  const auto& record = result.certificate;
  SIGNET_ASSIGN_OR_RETURN(auto pem, certificate_pem(ctx, record, output.chain));
  if (result.local_key)
    SIGNET_TRY(deliver_pfx(*result.local_key, output.pfx_out, output.password_out));
  if (!output.out.empty()) SIGNET_TRY(write_output(output.out, base::as_bytes(pem)));
  if (ctx.json()) {
    auto j = certificate_json(record, now);
    j["pem"] = pem;
    j["order"] = order_json(result.order, now);
    j["order_id"] = result.order.id;
    j["warnings"] = result.order.warnings;
    if (result.local_key) {
      j["pfx_out"] = output.pfx_out;
      j["pfx_profile"] = std::string(pki::to_string(result.local_key->profile));
      j["password_out"] = output.password_out.empty() ? nlohmann::json(nullptr)
                                                      : nlohmann::json(output.password_out);
    }
    print_json(j);
    return base::ok();
  }
  // The PEM takes stdout when it has no file and no PFX carries it; the summary then goes to
  // stderr so that `signet cert issue ... > leaf.pem` stays a clean PEM file.
  const bool pem_on_stdout = output.out.empty() && !result.local_key;
  if (pem_on_stdout) SIGNET_TRY(write_output("", base::as_bytes(pem)));
  std::FILE* summary = pem_on_stdout ? stderr : stdout;
  std::fprintf(summary, "%s certificate %s for '%s' (order %llu).\n", verb.c_str(),
               record.serial.to_hex().c_str(), record.subject.c_str(),
               static_cast<unsigned long long>(result.order.id));
  print_certificate(record, now, summary);
  for (const auto& warning : result.order.warnings) {
    std::fprintf(summary, "Warning (soft-fail):   %s\n", warning.c_str());
  }
  if (!output.out.empty()) std::fprintf(summary, "Certificate written to %s\n", output.out.c_str());
  if (result.local_key) {
    std::fprintf(
        summary, "PKCS#12 (%s) written to %s%s\n",
        std::string(pki::to_string(result.local_key->profile)).c_str(), output.pfx_out.c_str(),
        output.password_out.empty() ? "" : (", password in " + output.password_out).c_str());
  }
  std::fflush(summary);
  return base::ok();
}

void add_revocation_options(CLI::App* cmd, RevocationOptions& o) {
  cmd->add_option("--reason", o.reason,
                  "unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, "
                  "cessationOfOperation, privilegeWithdrawn or aACompromise")
      ->required();
  cmd->add_option("--invalidity-date", o.invalidity_date,
                  "when the key is known or suspected to have been compromised (RFC 3339 UTC, "
                  "not in the future)");
}

base::Result<ca::RevokeRequest> to_revoke_request(const RevocationOptions& o) {
  ca::RevokeRequest request;
  SIGNET_ASSIGN_OR_RETURN(request.reason, ca::parse_revocation_reason(o.reason));
  if (!o.invalidity_date.empty()) {
    SIGNET_ASSIGN_OR_RETURN(request.invalidity_date, parse_time(o.invalidity_date));
  }
  return request;
}

}  // namespace signet::appliance
