// Remote mode: when --server is given or signetd owns the state directory, the command line is
// parsed again with the remote command set and run through the API.
#include <cstdlib>
#include <exception>
#include <iostream>

#include "appliance/cli/remote.h"
#include "appliance/core/daemon_lock.h"
#include "base/secret_input.h"

namespace signet::appliance {

using base::Error;
using base::ErrorCode;
using base::Result;

namespace {

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

// "signetd (pid 1234)", or "signetd" when the lock names no pid.
std::string daemon_name(const RemoteTarget& target) {
  if (target.daemon_pid && *target.daemon_pid > 0) {
    return "signetd (pid " + std::to_string(*target.daemon_pid) + ")";
  }
  return "signetd";
}

// Who the commands go to, for messages: the daemon that owns the state directory, or --server.
std::string owner_phrase(const RemoteTarget& target) {
  if (target.daemon_pid) {
    return daemon_name(target) + " owns the state directory " + target.state_dir.string();
  }
  return "--server " + target.url + " is given";
}

// The chosen command of a parsed app: {"cert", "list"}.
std::vector<std::string> command_path(const CLI::App& app) {
  std::vector<std::string> path;
  const CLI::App* at = &app;
  while (true) {
    const auto chosen = at->get_subcommands();
    if (chosen.empty()) break;
    path.push_back(chosen.front()->get_name());
    at = chosen.front();
  }
  return path;
}

bool has_command(const CLI::App& app, const std::vector<std::string>& path) {
  const CLI::App* at = &app;
  for (const auto& name : path) {
    try {
      at = at->get_subcommand(name);
    } catch (const CLI::OptionNotFound&) {
      return false;
    }
  }
  return true;
}

Result<base::SecureBuffer> read_api_token(const RemoteOptions& options,
                                          const RemoteTarget& target) {
  if (options.token_file.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 owner_phrase(target) +
                     ", so signet works through the REST API and needs an API token: give "
                     "--token-file FILE or set SIGNET_API_TOKEN_FILE (a file of mode 0600 "
                     "holding the token, e.g. one an administrator made with POST "
                     "/api/v1/api-tokens)");
  }
  auto token = base::read_secret_file(options.token_file);
  if (!token) {
    return std::move(token).error().with_context(
        "reading the API token file (--token-file / "
        "SIGNET_API_TOKEN_FILE)");
  }
  return token;
}

void build_remote_app(CLI::App& app, GlobalOptions& global, RemoteOptions& remote,
                      RemoteAction& selected) {
  app.require_subcommand(1);
  app.set_version_flag("--version", "signet 0.1.0");
  add_global_options(app, global, remote);
  app.fallthrough();
  register_remote_token_commands(app, selected);
  register_remote_config_commands(app, selected);
  register_remote_ca_commands(app, selected);
  register_remote_cert_commands(app, selected);
  register_remote_profile_commands(app, selected);
  register_remote_order_commands(app, selected);
  register_remote_alert_commands(app, selected);
  register_remote_audit_commands(app, selected);
  register_remote_crl_commands(app, selected);
  register_remote_ocsp_commands(app, selected);
  register_remote_card_commands(app, selected);
}

}  // namespace

RemoteOptions RemoteOptions::from_environment() {
  RemoteOptions options;
  options.server = env_or_empty("SIGNET_SERVER");
  options.token_file = env_or_empty("SIGNET_API_TOKEN_FILE");
  return options;
}

void add_global_options(CLI::App& app, GlobalOptions& options, RemoteOptions& remote) {
  app.add_option("--state", options.state_dir, "state directory (env SIGNET_STATE)");
  app.add_option("--module", options.module_path, "PKCS#11 module (env SIGNET_PKCS11_MODULE)")
      ->capture_default_str();
  app.add_option("--token", options.token, "default token label or serial (env SIGNET_TOKEN)");
  app.add_option("--pin-file", options.pin_file,
                 "file holding the token's user PIN, mode 0600 (env SIGNET_PIN_FILE)");
  app.add_flag("--json", options.json, "print machine-readable JSON");
  app.add_option("--server", remote.server,
                 "work through this signetd's REST API, https://HOST:PORT (env SIGNET_SERVER; "
                 "default: the signetd that owns the state directory, if one runs)");
  app.add_option("--token-file", remote.token_file,
                 "file holding the API token for --server or a running signetd, mode 0600 "
                 "(env SIGNET_API_TOKEN_FILE)");
  app.add_option("--ca-file", remote.ca_file,
                 "CA certificates (PEM) that verify signetd's TLS certificate (default: "
                 "<state>/appliance-ca.pem)");
}

Result<std::optional<RemoteTarget>> remote_target(const RemoteOptions& options,
                                                  const std::filesystem::path& state_dir) {
  const auto daemon = running_daemon(state_dir);
  RemoteTarget target;
  target.state_dir = state_dir;
  if (daemon) target.daemon_pid = daemon->pid;
  if (!options.server.empty()) {
    target.url = options.server;
    return std::optional(std::move(target));
  }
  if (!daemon) return std::optional<RemoteTarget>();
  if (daemon->https_url.empty()) {
    return Error(ErrorCode::kUnavailable,
                 owner_phrase(target) +
                     " but has not published its address yet; try again in a moment (or give "
                     "--server URL)");
  }
  target.url = daemon->https_url;
  return std::optional(std::move(target));
}

int run_remote(int argc, char** argv, const CLI::App& local, const GlobalOptions& global,
               const RemoteOptions& options, const RemoteTarget& target) {
  GlobalOptions remote_global = global;
  RemoteOptions remote_options = options;
  RemoteAction selected;
  CLI::App app{
      "signet, through signetd's REST API (--server, or the signetd that owns the state "
      "directory): the same commands and flags as without the daemon, for those the API "
      "offers.",
      "signet"};
  build_remote_app(app, remote_global, remote_options, selected);

  const auto path = command_path(local);
  if (!has_command(app, path)) {
    std::string command;
    for (const auto& name : path) command += (command.empty() ? "" : " ") + name;
    std::cerr << "signet: error: " << owner_phrase(target) << "; 'signet " << command
              << "' is not available through the API — use the REST API or "
              << (target.daemon_pid ? "stop signetd" : "run it where no signetd owns the store")
              << "\n";
    return 1;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int status = app.exit(e);
    if (status != 0) {
      std::cerr << "signet: note: " << owner_phrase(target)
                << ", so this command runs through the API, which does not offer every flag it "
                   "takes locally\n";
    }
    return status;
  }
  if (!selected) {
    std::cerr << "signet: error: no command given; see signet --help\n";
    return 2;
  }
  auto token = read_api_token(remote_options, target);
  if (!token) {
    std::cerr << "signet: error: " << token.error().describe() << "\n";
    return 1;
  }
  const std::string ca_file = remote_options.ca_file.empty()
                                  ? (target.state_dir / "appliance-ca.pem").string()
                                  : remote_options.ca_file;
  auto client = ApiClient::create(target.url, ca_file, std::move(*token));
  if (!client) {
    std::cerr << "signet: error: " << client.error().describe() << "\n";
    return 1;
  }
  RemoteContext context{std::move(*client), remote_global.json, remote_global.token};
  Result<void> result = base::ok();
  try {
    result = selected(context);
  } catch (const std::exception& e) {
    // A reply whose JSON lacks what the views promise (nlohmann throws on a type mismatch).
    result = Error(ErrorCode::kInternal,
                   "unexpected reply from signetd at " + target.url + ": " + e.what());
  }
  if (!result) {
    std::cerr << "signet: error: " << result.error().describe() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace signet::appliance
