// DaemonSettings: signetd's typed settings, from defaults, then the configuration file
// (--config FILE, JSON for now; firmware-config/ replaces this with the appliance's one
// configuration), then the environment (SIGNET_STATE, SIGNET_PKCS11_MODULE, SIGNET_TOKEN,
// SIGNET_PIN_FILE), then command-line flags. Unknown keys and wrong types are errors that name
// the key.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "appliance/core/context.h"
#include "base/result.h"

namespace signet::appliance {

struct ListenAddress {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string to_string() const;  // "127.0.0.1:8443", "[::1]:8443"
};

// "127.0.0.1:8443", "[::1]:8443", "0.0.0.0:443"; port 0 asks for an ephemeral port.
base::Result<ListenAddress> parse_listen_address(std::string_view text);

struct DaemonSettings {
  GlobalOptions store;  // state directory, PKCS#11 module, token, PIN file
  ListenAddress https{"127.0.0.1", 8443};
  ListenAddress http{"127.0.0.1", 8080};
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
};

// Applies the JSON configuration file at `path` over `settings`.
base::Result<void> apply_config_file(const std::string& path, DaemonSettings& settings);

}  // namespace signet::appliance
