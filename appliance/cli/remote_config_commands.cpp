// signet config reload | import through signetd's REST API: POST /api/v1/config/reload (the
// running daemon re-reads its configuration file, docs/CONFIGURATION.md, "Reloading") and
// POST /api/v1/config/import (a signed bundle recorded as a new version while signetd owns the
// state directory). The other `signet config` commands read files and run locally
// (config_commands.cpp).
#include <filesystem>
#include <iostream>

#include "appliance/cli/config_support.h"
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

Result<void> config_import(RemoteContext& ctx, const std::string& file) {
  SIGNET_ASSIGN_OR_RETURN(auto bytes, read_input_file(file));
  const json body = {{"bundle", std::string(base::as_chars(bytes))},
                     {"source", std::filesystem::absolute(file).string()}};
  SIGNET_ASSIGN_OR_RETURN(auto reply, ctx.api.call("POST", "/api/v1/config/import", &body));
  firmware_config::ConfigVersion version;
  version.number = reply.value("version", 0u);
  version.applied_by = json_text(reply, "applied_by");
  version.applied_at = json_text(reply, "applied_at");
  version.action = json_text(reply, "action");
  version.bundle_sequence = reply.value("bundle_sequence", std::uint64_t{0});
  print_recorded_version(ctx.json, version, json_text(reply, "active_file"));
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
  auto file = std::make_shared<std::string>();
  auto* import_cmd = config->add_subcommand(
      "import",
      "send a signed bundle to signetd, which verifies it against [config] admin_trust_anchors, "
      "refuses it unless its sequence number is above that of the last bundle imported, "
      "validates it and makes it active as a new version; any failure applies nothing; "
      "audited either way; administrators only");
  import_cmd->add_option("FILE", *file, "the bundle (signet config export)")->required();
  import_cmd->callback([&selected, file] {
    selected = [file](RemoteContext& ctx) { return config_import(ctx, *file); };
  });
}

}  // namespace signet::appliance
