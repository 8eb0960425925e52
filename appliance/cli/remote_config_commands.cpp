// signet config reload through signetd's REST API (POST /api/v1/config/reload): the running
// daemon re-reads its configuration file (docs/CONFIGURATION.md, "Reloading"). The other
// `signet config` commands read files and run locally (config_commands.cpp).
#include <iostream>

#include "appliance/cli/output.h"
#include "appliance/cli/remote.h"

namespace signet::appliance {
namespace {

using base::Result;
using nlohmann::json;

void print_lines(const char* title, const json& lines) {
  if (!lines.is_array() || lines.empty()) return;
  std::cout << title << "\n";
  for (const auto& line : lines) std::cout << "  " << line.get<std::string>() << "\n";
}

Result<void> config_reload(RemoteContext& ctx) {
  const json body = json::object();
  SIGNET_ASSIGN_OR_RETURN(auto reply, ctx.api.call("POST", "/api/v1/config/reload", &body));
  if (ctx.json) {
    print_json(reply);
    return base::ok();
  }
  const auto file = json_text(reply, "file");
  std::cout << "signetd reloaded " << (file.empty() ? "the factory defaults" : file) << ".\n";
  if (reply["applied"].empty()) std::cout << "No run-time setting changed.\n";
  print_lines("Applied:", reply["applied"]);
  print_lines("Needs a restart:", reply["restart_required"]);
  print_lines("Notes:", reply["notes"]);
  return base::ok();
}

}  // namespace

void register_remote_config_commands(CLI::App& app, RemoteAction& selected) {
  auto* config = app.add_subcommand("config", "signetd's configuration");
  config->require_subcommand(1);
  config
      ->add_subcommand("reload",
                       "make signetd re-read its configuration file (as SIGHUP does): an invalid "
                       "file changes nothing and the error says why; administrators only")
      ->callback([&selected] { selected = [](RemoteContext& ctx) { return config_reload(ctx); }; });
}

}  // namespace signet::appliance
