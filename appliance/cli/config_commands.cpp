// signet config validate | show: the appliance configuration (firmware-config/, TOML,
// docs/CONFIGURATION.md). These read files only, never the store, so they run the same while
// signetd owns the state directory.
#include <iostream>
#include <nlohmann/json.hpp>

#include "appliance/cli/commands.h"
#include "appliance/cli/output.h"
#include "firmware-config/loader.h"

namespace signet::appliance {
namespace {

using base::Error;
using base::ErrorCode;
using base::Result;

Result<void> validate(ApplianceContext& ctx, const std::string& file) {
  auto loaded = firmware_config::load_configuration_file(file, SIGNET_DEFAULT_PKCS11_MODULE,
                                                         firmware_config::real_probes());
  if (ctx.json()) {
    auto list = nlohmann::json::array();
    for (const auto& issue : loaded.issues) {
      list.push_back({{"key", issue.key}, {"line", issue.line}, {"message", issue.message}});
    }
    print_json(list);
  } else if (loaded.ok()) {
    std::cout << "valid\n";
  } else {
    for (const auto& issue : loaded.issues) std::cout << issue.describe(file) << "\n";
  }
  if (loaded.ok()) return base::ok();
  return Error(ErrorCode::kInvalidArgument, "the configuration file '" + file + "' has " +
                                                std::to_string(loaded.issues.size()) +
                                                (loaded.issues.size() == 1 ? " error" : " errors"));
}

Result<void> show(const std::string& file) {
  if (file.empty()) {
    std::cout << firmware_config::to_toml(
        firmware_config::Configuration::defaults(SIGNET_DEFAULT_PKCS11_MODULE));
    return base::ok();
  }
  auto loaded = firmware_config::load_configuration_file(file, SIGNET_DEFAULT_PKCS11_MODULE,
                                                         firmware_config::real_probes());
  if (!loaded.ok()) return firmware_config::to_error(file, loaded.issues);
  std::cout << firmware_config::to_toml(loaded.configuration);
  return base::ok();
}

}  // namespace

bool is_local_only_command(const CLI::App& app) { return app.got_subcommand("config"); }

void register_config_commands(CLI::App& app, Action& selected) {
  auto* config = app.add_subcommand(
      "config", "the appliance configuration file (TOML; docs/CONFIGURATION.md)");
  config->require_subcommand(1);

  auto file = std::make_shared<std::string>();
  auto* validate_cmd = config->add_subcommand(
      "validate", "check a configuration file: 'valid', or every error with its key and line");
  validate_cmd->add_option("FILE", *file, "the TOML file")->required();
  validate_cmd->callback(
      [&selected, file] { selected = [file](ApplianceContext& c) { return validate(c, *file); }; });

  auto show_file = std::make_shared<std::string>();
  auto* show_cmd = config->add_subcommand(
      "show",
      "the effective configuration of FILE (the factory defaults without one), every "
      "key included; secrets never appear, only the files that hold them");
  show_cmd->add_option("FILE", *show_file, "the TOML file");
  show_cmd->callback([&selected, show_file] {
    selected = [show_file](ApplianceContext&) { return show(*show_file); };
  });
}

}  // namespace signet::appliance
