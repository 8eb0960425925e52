// What signetd needs of its own before it serves anything, made on first start and reused
// afterwards:
//   - the internal appliance CA ("signet-appliance", an EC P-256 root whose key is on the
//     default token), separate from the operators' CAs, with two RA profiles: "tls-server"
//     (signetd's HTTPS certificate) and "operator" (client certificates for mTLS login);
//   - signetd's TLS server certificate, key generated on the token, SANs for localhost and
//     the configured host names and addresses, valid for [tls] certificate_days; reissued
//     when missing, revoked, within [tls] renew_before_days of expiry or lacking a configured
//     name (while signetd runs, tls_renewal_loop.h renews it);
//   - the initial administrator (bootstrap.operators.admin_name, "admin" by default), when
//     there is no operator at all: the password comes from the configured file
//     (bootstrap.operators.admin_password_file or SIGNET_ADMIN_PASSWORD_FILE), or is
//     generated and written to
//     <state>/initial-admin-password (mode 0600), whose path (never the password) is logged.
// Single-threaded use at startup.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "appliance/api/auth.h"
#include "appliance/core/context.h"
#include "base/keys.h"
#include "base/result.h"
#include "ca/records.h"

namespace signet::appliance {

struct TlsIdentity {
  ca::CertificateRecord certificate;  // signetd's server certificate
  ca::CaRecord appliance_ca;          // its issuer (also the client-certificate anchor)
  std::shared_ptr<base::Signer> key;  // the server key on the token
};

// `names`: DNS names and IP addresses the certificate must cover besides localhost,
// 127.0.0.1 and ::1 (e.g. the listen address when it is not a wildcard).
// `lifetime`: the validity of a new certificate ([tls] certificate_days or
// certificate_lifetime_seconds); `renew_before`: a certificate with less validity left is
// replaced.
base::Result<TlsIdentity> ensure_tls_identity(ApplianceContext& context,
                                              const std::vector<std::string>& names,
                                              std::chrono::seconds lifetime,
                                              std::chrono::seconds renew_before);

// The validity in whole days (rounded up, 1 to 397) that the "tls-server" profile checks for a
// certificate of this lifetime; the request's lifetime then caps it.
int validity_days_of(std::chrono::seconds lifetime);

// Creates the administrator `name` when there is no operator at all, with the password read
// from `password_file` (bootstrap.operators.admin_password_file / SIGNET_ADMIN_PASSWORD_FILE),
// or generated when that is empty. Returns the path of the generated password file when it
// made one, "" otherwise.
base::Result<std::string> ensure_initial_administrator(ApplianceContext& context,
                                                       Authenticator& authenticator,
                                                       const std::string& name,
                                                       const std::string& password_file);

}  // namespace signet::appliance
