// Configuration: the appliance's one typed configuration (docs/CONFIGURATION.md), as read
// from a TOML file by firmware-config/loader.h. Every field has its factory default here;
// Configuration::defaults() (which adds the default PKCS#11 module) is exactly how signetd
// behaves with no file.
// Secrets are never part of it: PINs and passwords are named by the files (or systemd
// credentials) that hold them. Plain value types; safe to copy between threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/log.h"
#include "base/result.h"

namespace signet::firmware_config {

// An address to listen on: "127.0.0.1:8443", "[::1]:8443", "0.0.0.0:443"; port 0 asks the
// kernel for an ephemeral port.
struct ListenAddress {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string to_string() const;  // "127.0.0.1:8443", "[::1]:8443"
  bool operator==(const ListenAddress&) const = default;
};

// Parses ADDRESS:PORT; the address must be an IPv4 or IPv6 literal (IPv6 in brackets).
base::Result<ListenAddress> parse_listen_address(std::string_view text);

enum class TlsVersion { kTls12, kTls13 };
std::string_view to_string(TlsVersion version);  // "1.2", "1.3"

// The levels are base's (base/log.h), as the loggers they configure take them.
using base::LogLevel;

struct ListenSettings {
  ListenAddress https{"127.0.0.1", 8443};  // the REST API
  ListenAddress http{"127.0.0.1", 8080};   // CRLs, CA certificates, OCSP
  bool operator==(const ListenSettings&) const = default;
};

struct TlsSettings {
  TlsVersion min_version = TlsVersion::kTls12;
  std::vector<std::string> extra_names;  // DNS names / IP addresses added to the certificate
  // signetd's certificate from the appliance CA: its validity, how long before expiry it is
  // renewed (at start and by the renewal schedule, without a restart), and how often the
  // schedule looks.
  // Each is given in days (certificate_days, renew_before_days) or in seconds
  // (certificate_lifetime_seconds, renew_before_seconds: short lifetimes, e.g. for tests), and
  // renew_before must be shorter than certificate_lifetime.
  std::chrono::seconds certificate_lifetime{std::chrono::days(397)};
  std::chrono::seconds renew_before{std::chrono::days(30)};
  std::chrono::seconds renew_check_interval{3600};
  // Operators' client certificates (365 days, profile "operator") are renewed by the same
  // schedule when less than this is left.
  std::chrono::seconds operator_renew_before{std::chrono::days(30)};
  bool operator==(const TlsSettings&) const = default;
};

struct LimitSettings {
  std::size_t max_connections = 512;
  std::size_t max_body_bytes = 1024 * 1024;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  int io_threads = 2;
  int worker_threads = 32;
  bool operator==(const LimitSettings&) const = default;
};

struct SessionSettings {
  std::chrono::seconds idle{15 * 60};
  std::chrono::seconds lifetime{8 * 60 * 60};
  bool operator==(const SessionSettings&) const = default;
};

// Where a token's user PIN comes from: a file only its owner can read, or a systemd
// credential (LoadCredential=, read from $CREDENTIALS_DIRECTORY/<name>). At most one is set;
// neither means the environment (SIGNET_PIN_FILE) must name one.
struct PinSource {
  std::string file;
  std::string credential;
  bool operator==(const PinSource&) const = default;
};

struct Pkcs11Module {
  std::string name;  // how tokens refer to it
  std::string path;  // the shared library
  // Syscalls this module needs beyond signetd's seccomp allowlist; unset: none declared (a
  // module other than SoftHSMv2 then runs without the filter, with a warning).
  std::optional<std::vector<std::string>> seccomp_allow;
  bool operator==(const Pkcs11Module&) const = default;
};

struct Pkcs11Token {
  std::string label;   // token label (or serial)
  std::string module;  // a Pkcs11Module name; empty: the first module
  PinSource pin;
  bool operator==(const Pkcs11Token&) const = default;
};

struct Pkcs11Settings {
  std::vector<Pkcs11Module> modules;  // default: one module "default" at the built-in path
  std::vector<Pkcs11Token> tokens;
  std::string default_token;  // a token label; empty: the only token, if there is one
  bool operator==(const Pkcs11Settings&) const = default;
};

struct StateSettings {
  std::string directory;  // empty: SIGNET_STATE, else ~/.local/state/signet or /var/lib/signet
  bool operator==(const StateSettings&) const = default;
};

struct CaSettings {
  std::chrono::seconds scheduler_interval{60};  // the longest the CRL/OCSP scheduler sleeps
  // The expiry scan: how often signetd runs it, and the window that raises an alert.
  std::chrono::seconds expiry_scan_interval{3600};
  int expiry_alert_days = 30;
  std::string publish_base_url;  // http(s)://host[:port] for CDP/AIA/OCSP URLs; empty: none
  bool operator==(const CaSettings&) const = default;
};

// An operator account declared in the file ([[bootstrap.operators.accounts]]): signetd creates
// it when no operator of that name exists (at start, after the first administrator, and on
// reload) and never overwrites one that exists; a difference in role, disabled flag or bound
// certificate is reported instead. At least one of password_file and certificate_file is set.
struct OperatorAccount {
  std::string name;
  std::string role;              // "administrator", "ra-officer" or "auditor"
  std::string password_file;     // its initial password, in a file only its owner can read
  std::string certificate_file;  // a PEM client certificate (from the appliance CA) to bind
  bool disabled = false;         // created disabled
  bool operator==(const OperatorAccount&) const = default;
};

struct OperatorBootstrap {
  std::string admin_name = "admin";  // the first administrator, created when none exists
  std::string admin_password_file;   // empty: SIGNET_ADMIN_PASSWORD_FILE, else generated
  std::vector<OperatorAccount> accounts;
  bool operator==(const OperatorBootstrap&) const = default;
};

// An RA profile declared in the file ([[bootstrap.profiles]]): signetd creates it when its CA
// has no profile of that name (at start and on reload) and never overwrites one that exists;
// it reports the difference instead. The table is the JSON `signet profile create --file` takes.
struct ProfileBootstrap {
  std::string ca;
  std::string name;
  std::string json;                                       // the whole table as a JSON object
  std::vector<std::pair<std::string, std::string>> toml;  // (key, inline TOML value), for to_toml
  bool operator==(const ProfileBootstrap&) const = default;
};

struct BootstrapSettings {
  OperatorBootstrap operators;
  std::vector<ProfileBootstrap> profiles;
  bool operator==(const BootstrapSettings&) const = default;
};

// Not acted on by signetd yet (it warns at start when they are set); see CONFIGURATION.md.
struct HardeningSettings {
  bool seccomp = true;  // the syscall allowlist (SoftHSMv2, or modules with seccomp_allow)
  std::string user;     // started as root: drop to this user after binding; empty: stay
  bool operator==(const HardeningSettings&) const = default;
};

// The enrollment protocols, for the protocol work; signetd serves none yet (and warns).
struct EndpointSettings {
  bool acme = false;
  bool scep = false;
  bool cmp = false;
  bool est = false;
  bool operator==(const EndpointSettings&) const = default;
};

struct LoggingSettings {
  LogLevel level = LogLevel::kInfo;
  // How often signetd signs a checkpoint of the audit log (when it has new entries); 0: only
  // at shutdown and on demand.
  std::chrono::minutes audit_checkpoint_interval{15};
  bool operator==(const LoggingSettings&) const = default;
};

// Forwarding of every audit event to syslog (RFC 5424 with structured data) and/or journald
// (its native protocol), so that a copy lives outside the appliance.
struct AuditSettings {
  std::vector<std::string> forward;  // "syslog", "journald"; empty: no forwarding
  // "/dev/log" or "unix:/path" (datagram socket), "udp:127.0.0.1:514", "tcp:[::1]:601".
  std::string syslog_address = "/dev/log";
  std::string syslog_facility = "authpriv";  // auth, authpriv, daemon, local0..local7
  // The SD-ID's private enterprise number ("signet@32473"): 32473 is IANA's example number
  // (RFC 5612); use your organisation's.
  std::uint32_t enterprise_number = 32473;
  std::string journald_socket = "/run/systemd/journal/socket";
  std::size_t queue_size = 1024;  // events held at most; beyond it they are dropped (counted)
  bool operator==(const AuditSettings&) const = default;
};

// How configurations are accepted from elsewhere: `signet config import` takes a signed bundle
// only when its signature verifies with one of these administrator public keys.
struct ConfigSettings {
  // Paths of PEM files, each a public key ("PUBLIC KEY") or a certificate whose key is trusted.
  std::vector<std::string> admin_trust_anchors;
  bool operator==(const ConfigSettings&) const = default;
};

// Smart cards in PC/SC readers for token-holder enrollment through signetd's REST API and
// console (docs/SMART-CARDS.md). Off unless enabled: signetd then loads the PKCS#11 module of
// every ATR map rule at start-up (no library is loaded after start) and may reach pcscd's
// socket (AF_UNIX) under its seccomp filter.
struct CardSettings {
  bool enabled = false;
  std::string atr_map;  // the JSON ATR map; empty: every card goes to OpenSC's module
  std::chrono::seconds key_generation_timeout{600};  // allowed for key generation on a card
  std::chrono::seconds card_wait{120};  // how long an enrollment waits for a card inserted
  bool operator==(const CardSettings&) const = default;
};

struct Configuration {
  ListenSettings listen;
  TlsSettings tls;
  LimitSettings limits;
  SessionSettings sessions;
  Pkcs11Settings pkcs11;
  StateSettings state;
  CaSettings ca;
  BootstrapSettings bootstrap;
  HardeningSettings hardening;
  EndpointSettings endpoints;
  LoggingSettings logging;
  AuditSettings audit;
  ConfigSettings config;
  CardSettings cards;
  bool operator==(const Configuration&) const = default;

  // The factory defaults; `default_module` is the PKCS#11 module path used when the file
  // names none (the build's SIGNET_DEFAULT_PKCS11_MODULE).
  static Configuration defaults(std::string default_module);

  // The token signetd and the CLI use by default (pkcs11.default_token, else the only token);
  // nullptr when there is none.
  const Pkcs11Token* default_token() const;
  // The module a token uses (by name; the first module when the token names none).
  const Pkcs11Module* module_of(const Pkcs11Token& token) const;
};

}  // namespace signet::firmware_config
