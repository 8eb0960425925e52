// DaemonSettings: signetd's effective settings. They are resolved in this order, each step
// overriding the one before:
//   1. the factory defaults of firmware-config (firmware_config::Configuration::defaults),
//   2. the configuration file (--config FILE, TOML, docs/CONFIGURATION.md; without the flag,
//      the active file <state>/config/signetd.toml that `signet config apply` keeps, when there
//      is one): validated as a whole, and any error stops signetd with every error listed
//      (key path, line, message),
//   3. the environment (SIGNET_STATE, SIGNET_PKCS11_MODULE, SIGNET_TOKEN, SIGNET_PIN_FILE,
//      SIGNET_ADMIN_PASSWORD_FILE),
//   4. the command-line flags (--state, --module, --token, --pin-file, --listen, --http-listen).
// Value types, built once in main().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "appliance/core/context.h"
#include "base/log.h"
#include "base/result.h"
#include "firmware-config/configuration.h"
#include "firmware-config/loader.h"

namespace signet::appliance {

using firmware_config::ListenAddress;
using firmware_config::parse_listen_address;

struct DaemonSettings {
  GlobalOptions store;  // state directory, PKCS#11 module, token, PIN file
  ListenAddress https{"127.0.0.1", 8443};
  ListenAddress http{"127.0.0.1", 8080};
  firmware_config::TlsVersion tls_min_version = firmware_config::TlsVersion::kTls12;
  std::vector<std::string> tls_names;  // extra DNS names / IPs for the TLS certificate
  std::size_t max_connections = 512;
  std::size_t max_body_bytes = 1024 * 1024;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  int io_threads = 2;
  int worker_threads = 32;
  std::chrono::seconds session_idle{15 * 60};
  std::chrono::seconds session_lifetime{8 * 60 * 60};
  std::chrono::seconds scheduler_interval{60};  // the longest the CRL scheduler sleeps
  // The expiry scan: how often it runs, and the window in which a certificate gets an alert.
  std::chrono::seconds expiry_scan_interval{3600};
  int expiry_alert_days = 30;
  std::chrono::minutes audit_checkpoint_interval{15};  // 0: only at shutdown and on demand
  std::string admin_name = "admin";  // the first administrator, created when there is none
  std::string admin_password_file;   // its password; empty: generated into the state dir
  base::LogLevel log_level = base::LogLevel::kInfo;
  std::string config_file;  // the file read; empty: none (the factory defaults)
  // The whole file as read (defaults where it was silent), for what the fields above leave out.
  firmware_config::Configuration configuration;
};

// What the command line gave; empty strings were not given.
struct DaemonFlags {
  std::string config, listen, http_listen, state, module, token, pin_file;
  std::string user;  // --user: overrides [hardening] user
};

// Reads an environment variable; nullptr when unset (injected so tests need no setenv).
using EnvironmentLookup = std::function<const char*(const char* name)>;

// Resolves the settings as described above. `default_module` is the build's default PKCS#11
// module; `probes` check PIN files and modules named in the file (firmware_config::real_probes()).
base::Result<DaemonSettings> resolve_daemon_settings(const DaemonFlags& flags,
                                                     const std::string& default_module,
                                                     const firmware_config::Probes& probes,
                                                     const EnvironmentLookup& environment);

// The settings the file asks for that this signetd does not act on yet (protocol endpoints),
// one sentence each, for signetd to warn about.
std::vector<std::string> unenforced_settings(const firmware_config::Configuration& config);

}  // namespace signet::appliance
