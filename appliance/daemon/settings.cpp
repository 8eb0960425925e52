#include "appliance/daemon/settings.h"

#include <filesystem>

namespace signet::appliance {

using base::Error;
using base::ErrorCode;
using base::Result;
using firmware_config::Configuration;

namespace {

// The PIN file of the configured default token: its pin_file, or the file systemd put its
// credential in. Empty when the file configures no token.
Result<std::string> token_pin_file(const Configuration& c, const EnvironmentLookup& environment) {
  const auto* token = c.default_token();
  if (token == nullptr) return std::string();
  if (!token->pin.credential.empty()) {
    const char* directory = environment("CREDENTIALS_DIRECTORY");
    if (directory == nullptr || *directory == '\0') {
      return Error(ErrorCode::kNotFound,
                   "the PIN of token '" + token->label + "' is the systemd credential '" +
                       token->pin.credential +
                       "', but $CREDENTIALS_DIRECTORY is not set (run signetd with "
                       "LoadCredential=, or set SIGNET_PIN_FILE)");
    }
    return (std::filesystem::path(directory) / token->pin.credential).string();
  }
  return token->pin.file;
}

void apply_configuration(const Configuration& c, DaemonSettings& s) {
  s.configuration = c;
  s.https = c.listen.https;
  s.http = c.listen.http;
  s.tls_min_version = c.tls.min_version;
  s.tls_names = c.tls.extra_names;
  s.max_connections = c.limits.max_connections;
  s.max_body_bytes = c.limits.max_body_bytes;
  s.header_timeout = c.limits.header_timeout;
  s.body_timeout = c.limits.body_timeout;
  s.idle_timeout = c.limits.idle_timeout;
  s.io_threads = c.limits.io_threads;
  s.worker_threads = c.limits.worker_threads;
  s.session_idle = c.sessions.idle;
  s.session_lifetime = c.sessions.lifetime;
  s.scheduler_interval = c.ca.scheduler_interval;
  s.expiry_scan_interval = c.ca.expiry_scan_interval;
  s.expiry_alert_days = c.ca.expiry_alert_days;
  s.admin_name = c.bootstrap.operators.admin_name;
  s.admin_password_file = c.bootstrap.operators.admin_password_file;
  s.log_level = c.logging.level;
  s.audit_checkpoint_interval = c.logging.audit_checkpoint_interval;
  s.store.state_dir = c.state.directory;
  const auto* token = c.default_token();
  if (token != nullptr) {
    s.store.token = token->label;
    if (const auto* module = c.module_of(*token)) s.store.module_path = module->path;
  } else {
    s.store.token = c.pkcs11.default_token;
    if (!c.pkcs11.modules.empty()) s.store.module_path = c.pkcs11.modules.front().path;
  }
}

void override_from(const char* value, std::string& field) {
  if (value != nullptr && *value != '\0') field = value;
}

// --config FILE, else the active file `signet config apply` keeps in the state directory
// (the one --state / SIGNET_STATE / the default names), else none.
std::string configuration_file(const DaemonFlags& flags, const EnvironmentLookup& environment) {
  if (!flags.config.empty()) return flags.config;
  GlobalOptions options;
  override_from(environment("SIGNET_STATE"), options.state_dir);
  override_from(flags.state.c_str(), options.state_dir);
  const auto active = ApplianceContext(options).state_dir() / "config" / "signetd.toml";
  std::error_code error;
  return std::filesystem::exists(active, error) ? active.string() : std::string();
}

}  // namespace

Result<DaemonSettings> resolve_daemon_settings(const DaemonFlags& flags,
                                               const std::string& default_module,
                                               const firmware_config::Probes& probes,
                                               const EnvironmentLookup& environment) {
  Configuration config = Configuration::defaults(default_module);
  const std::string file = configuration_file(flags, environment);
  if (!file.empty()) {
    auto loaded = firmware_config::load_configuration_file(file, default_module, probes);
    if (!loaded.ok()) return firmware_config::to_error(file, loaded.issues);
    config = std::move(loaded.configuration);
  }
  DaemonSettings s;
  apply_configuration(config, s);
  s.config_file = file;

  // The environment, then the flags.
  std::string pin_from_environment, pin_flag = flags.pin_file;
  override_from(environment("SIGNET_STATE"), s.store.state_dir);
  override_from(environment("SIGNET_PKCS11_MODULE"), s.store.module_path);
  override_from(environment("SIGNET_TOKEN"), s.store.token);
  override_from(environment("SIGNET_PIN_FILE"), pin_from_environment);
  override_from(environment("SIGNET_ADMIN_PASSWORD_FILE"), s.admin_password_file);
  override_from(flags.state.c_str(), s.store.state_dir);
  override_from(flags.module.c_str(), s.store.module_path);
  override_from(flags.token.c_str(), s.store.token);
  if (!pin_flag.empty()) {
    s.store.pin_file = pin_flag;
  } else if (!pin_from_environment.empty()) {
    s.store.pin_file = pin_from_environment;
  } else {
    SIGNET_ASSIGN_OR_RETURN(s.store.pin_file, token_pin_file(config, environment));
  }
  override_from(flags.user.c_str(), s.configuration.hardening.user);
  if (!flags.listen.empty()) {
    SIGNET_ASSIGN_OR_RETURN(s.https, parse_listen_address(flags.listen));
  }
  if (!flags.http_listen.empty()) {
    SIGNET_ASSIGN_OR_RETURN(s.http, parse_listen_address(flags.http_listen));
  }
  return s;
}

std::vector<std::string> unenforced_settings(const Configuration& c) {
  std::vector<std::string> out;
  const auto note = [&out](bool set, const std::string& what) {
    if (set) out.push_back(what + " is set, but this signetd does not act on it yet");
  };
  note(c.endpoints.acme, "endpoints.acme");
  note(c.endpoints.scep, "endpoints.scep");
  note(c.endpoints.cmp, "endpoints.cmp");
  note(c.endpoints.est, "endpoints.est");
  return out;
}

}  // namespace signet::appliance
