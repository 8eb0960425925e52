// What the `signet config` commands share (config_commands.cpp, config_bundle_commands.cpp):
// the version history under <state>/config/ and recording a new version with its audit event.
// Single-threaded (one command per process).
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "appliance/cli/commands.h"
#include "firmware-config/versions.h"

namespace signet::appliance {

firmware_config::ConfigHistory config_history(ApplianceContext& ctx);

// Records `text` as the next version (`how` says how it came: "apply", "import"...) and writes
// the audit event `action` about it, with `detail` plus the version and source; prints the
// outcome (human or --json).
base::Result<void> record_config_version(ApplianceContext& ctx, const std::string& text,
                                         const std::string& action, const std::string& how,
                                         const std::string& source, nlohmann::json detail);

// Prints a recorded version (human or --json), as apply, rollback and import do.
void print_recorded_version(bool json, const firmware_config::ConfigVersion& version,
                            const std::filesystem::path& active_file);

// `signet config export` and `signet config import` under `config`.
void register_config_bundle_commands(CLI::App* config, Action& selected);

}  // namespace signet::appliance
