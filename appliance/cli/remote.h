// The `signet` commands that work through signetd's REST API. While signetd runs it owns the
// state directory (core/daemon_lock.h): a write beside it would leave its caches stale, so the
// CLI then sends each command to the daemon instead of opening the store, as it does when
// --server names a daemon. The remote commands carry the local commands' names and flags and
// print what they print (human and --json); a command without a remote variant is refused,
// naming the daemon. Single-threaded use (one command per process).
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "appliance/cli/api_client.h"
#include "appliance/core/context.h"
#include "base/result.h"
#include "ca/certificate_service.h"

namespace signet::appliance {

// The global flags of remote mode.
struct RemoteOptions {
  std::string server;      // --server URL or SIGNET_SERVER
  std::string token_file;  // --token-file FILE or SIGNET_API_TOKEN_FILE
  std::string ca_file;     // --ca-file FILE; default <state>/appliance-ca.pem

  static RemoteOptions from_environment();
};

// The global flags, the same in both command sets: --state, --module, --token, --pin-file,
// --json, and remote mode's --server, --token-file and --ca-file.
void add_global_options(CLI::App& app, GlobalOptions& options, RemoteOptions& remote);

// What a remote command reaches: the API client and the global settings.
struct RemoteContext {
  ApiClient api;
  bool json = false;
  std::string token;  // the global --token (SIGNET_TOKEN), for `token keys`
};

using RemoteAction = std::function<base::Result<void>(RemoteContext&)>;

// Where the commands go, when not to the local store: --server, or the daemon that holds the
// state directory's lock (its pid is then named in refusals).
struct RemoteTarget {
  std::string url;
  std::optional<long> daemon_pid;
  std::filesystem::path state_dir;
};
// Remote mode's target, when --server is given or a daemon owns `state_dir`. An error when a
// daemon holds the lock without having published its address yet.
base::Result<std::optional<RemoteTarget>> remote_target(const RemoteOptions& options,
                                                        const std::filesystem::path& state_dir);

// Runs the command line through the API. `local` is the local app, already parsed (so help,
// version and usage errors were handled): its chosen command names the remote one. Returns the
// process's exit status.
int run_remote(int argc, char** argv, const CLI::App& local, const GlobalOptions& global,
               const RemoteOptions& options, const RemoteTarget& target);

// ---- the remote command set (remote_cert_commands.cpp, remote_commands.cpp) ----
void register_remote_cert_commands(CLI::App& app, RemoteAction& selected);
void register_remote_ca_commands(CLI::App& app, RemoteAction& selected);
void register_remote_profile_commands(CLI::App& app, RemoteAction& selected);
void register_remote_order_commands(CLI::App& app, RemoteAction& selected);
void register_remote_alert_commands(CLI::App& app, RemoteAction& selected);
void register_remote_crl_commands(CLI::App& app, RemoteAction& selected);
void register_remote_ocsp_commands(CLI::App& app, RemoteAction& selected);
void register_remote_audit_commands(CLI::App& app, RemoteAction& selected);
void register_remote_token_commands(CLI::App& app, RemoteAction& selected);
// `signet card enroll | renew | rekey` (remote_card_commands.cpp).
void register_remote_card_commands(CLI::App& app, RemoteAction& selected);
// Whether the parsed local command line is a card command that signetd's API offers.
bool is_remote_card_command(const CLI::App& app);
// `signet config reload` (remote_config_commands.cpp).
void register_remote_config_commands(CLI::App& app, RemoteAction& selected);

// ---- helpers the remote commands share (remote_support.cpp) ----

// "?a=1&b=x" of the non-empty values (percent-encoded), or "".
std::string query_string(std::initializer_list<std::pair<const char*, std::string>> params);
// "/api/v1/certificates/<id>" plus "/<suffix>" and "?ca=<ca>" when given.
std::string certificate_target(const std::string& id, const std::string& suffix,
                               const std::string& ca_name);
// A PKCS#10 request file (PEM or DER) as PEM, the form the API takes.
base::Result<std::string> read_csr_pem(const std::string& path);
// A field of a reply as text: strings as they are, numbers and booleans as JSON, "" when
// missing or null.
std::string json_text(const nlohmann::json& j, const char* key);

// A local key's PKCS#12 and its one-time password ("pfx_base64", "pfx_password",
// "pfx_profile"), taken out of a reply, whose copy of the password is wiped; nullopt when the
// reply carries none.
base::Result<std::optional<ca::LocalKeyDelivery>> take_local_key(nlohmann::json& reply);

// The outcome of issue / renew / rekey / reissue / resubmit, from the API's reply
// (order_result_json), shown as show_order_result() shows a local one.
struct ResultOutput;
base::Result<void> show_remote_order_result(RemoteContext& ctx, nlohmann::json reply,
                                            const ResultOutput& output, const std::string& verb);
// A revocation's outcome (revocation_result_json), as `cert revoke` shows it.
void show_remote_revocation(RemoteContext& ctx, const nlohmann::json& reply);

}  // namespace signet::appliance
