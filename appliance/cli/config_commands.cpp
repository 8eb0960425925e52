// signet config validate | show | diff | apply | rollback (export and import:
// config_bundle_commands.cpp): the appliance configuration (firmware-config/, TOML,
// docs/CONFIGURATION.md) and its versions under <state>/config/. validate, show, diff and export
// read files (and the token) only, never the store, so they run the same while signetd owns the
// state directory; apply, rollback and import write an audit event to the store, so they are
// refused then (like every other command the API does not offer).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "appliance/cli/commands.h"
#include "appliance/cli/config_support.h"
#include "appliance/cli/output.h"
#include "appliance/core/profile_bootstrap.h"
#include "appliance/core/views.h"
#include "firmware-config/loader.h"
#include "firmware-config/versions.h"

namespace signet::appliance {
namespace {

using base::Error;
using base::ErrorCode;
using base::Result;

Result<void> validate(ApplianceContext& ctx, const std::string& file) {
  auto loaded = firmware_config::load_configuration_file(file, SIGNET_DEFAULT_PKCS11_MODULE,
                                                         appliance_probes());
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

Result<firmware_config::Configuration> load_valid(const std::string& file) {
  auto loaded = firmware_config::load_configuration_file(file, SIGNET_DEFAULT_PKCS11_MODULE,
                                                         appliance_probes());
  if (!loaded.ok()) return firmware_config::to_error(file, loaded.issues);
  return std::move(loaded.configuration);
}

firmware_config::ConfigHistory history_of(ApplianceContext& ctx) { return config_history(ctx); }

// A stored version, parsed (without probing: the system may have changed since).
Result<firmware_config::Configuration> load_version(ApplianceContext& ctx, unsigned number) {
  auto history = history_of(ctx);
  SIGNET_ASSIGN_OR_RETURN(auto text, history.text(number));
  const auto name = "version " + std::to_string(number);
  auto loaded = firmware_config::parse_configuration(text, name, SIGNET_DEFAULT_PKCS11_MODULE,
                                                     firmware_config::Probes{});
  if (!loaded.ok()) return firmware_config::to_error(name, loaded.issues);
  return std::move(loaded.configuration);
}

// "N" is a stored version; anything else a file.
Result<firmware_config::Configuration> load_either(ApplianceContext& ctx, const std::string& what) {
  if (!what.empty() && what.find_first_not_of("0123456789") == std::string::npos) {
    return load_version(ctx, static_cast<unsigned>(std::stoul(what)));
  }
  return load_valid(what);
}

Result<void> show(ApplianceContext& ctx, const std::string& file, unsigned version) {
  firmware_config::Configuration config =
      firmware_config::Configuration::defaults(SIGNET_DEFAULT_PKCS11_MODULE);
  if (version != 0) {
    SIGNET_ASSIGN_OR_RETURN(config, load_version(ctx, version));
  } else if (!file.empty()) {
    SIGNET_ASSIGN_OR_RETURN(config, load_valid(file));
  }
  if (ctx.json()) {
    print_json(nlohmann::json::parse(firmware_config::to_json(config)));
  } else {
    std::cout << firmware_config::to_toml(config);
  }
  return base::ok();
}

Result<void> show_diff(ApplianceContext& ctx, const std::string& a, const std::string& b) {
  SIGNET_ASSIGN_OR_RETURN(auto from, load_either(ctx, a));
  SIGNET_ASSIGN_OR_RETURN(auto to, load_either(ctx, b));
  const auto lines = firmware_config::diff_configurations(from, to);
  if (ctx.json()) {
    print_json(lines);
  } else if (lines.empty()) {
    std::cout << "no differences\n";
  } else {
    for (const auto& line : lines) std::cout << line << "\n";
  }
  return base::ok();
}

Result<void> record(ApplianceContext& ctx, const std::string& text, const std::string& action,
                    const std::string& how, const std::string& source, nlohmann::json detail) {
  return record_config_version(ctx, text, action, how, source, std::move(detail));
}

Result<void> apply_config(ApplianceContext& ctx, const std::string& file) {
  SIGNET_TRY(load_valid(file));
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return record(ctx, text.str(), "config.applied", "apply",
                std::filesystem::absolute(file).string(), nlohmann::json::object());
}

Result<void> rollback(ApplianceContext& ctx, unsigned number) {
  auto history = history_of(ctx);
  SIGNET_ASSIGN_OR_RETURN(auto text, history.text(number));
  SIGNET_TRY(load_version(ctx, number));
  return record(ctx, text, "config.rolled_back", "rollback to " + std::to_string(number),
                "version " + std::to_string(number), {{"rollback_to", number}});
}

Result<void> list_versions(ApplianceContext& ctx) {
  SIGNET_ASSIGN_OR_RETURN(auto versions, history_of(ctx).list());
  if (ctx.json()) {
    auto list = nlohmann::json::array();
    for (const auto& v : versions) {
      list.push_back({{"version", v.number},
                      {"applied_by", v.applied_by},
                      {"applied_at", v.applied_at},
                      {"action", v.action},
                      {"source", v.source}});
    }
    print_json(list);
    return base::ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& v : versions) {
    rows.push_back({std::to_string(v.number), v.applied_at, v.applied_by, v.action, v.source});
  }
  print_table({"VERSION", "APPLIED", "BY", "ACTION", "SOURCE"}, rows);
  return base::ok();
}

}  // namespace

firmware_config::ConfigHistory config_history(ApplianceContext& ctx) {
  return firmware_config::ConfigHistory(ctx.state_dir() / "config");
}

// Records `text` as the next version (`how` says how it came) and writes the audit event
// `action` about it.
Result<void> record_config_version(ApplianceContext& ctx, const std::string& text,
                                   const std::string& action, const std::string& how,
                                   const std::string& source, nlohmann::json detail) {
  SIGNET_ASSIGN_OR_RETURN(auto* audit, ctx.audit());
  auto history = history_of(ctx);
  const auto now = ctx.clock().now();
  firmware_config::ConfigVersion meta{0, ctx.actor(), format_time(now), how, source};
  SIGNET_ASSIGN_OR_RETURN(auto version, history.record(text, meta));
  detail["version"] = version.number;
  detail["source"] = source;
  SIGNET_TRY(audit->append_audit(ca::make_audit_event(
      now, ctx.actor(), action, "config:v" + std::to_string(version.number), detail.dump())));
  print_recorded_version(ctx.json(), version, history.active_file());
  return base::ok();
}

void print_recorded_version(bool json, const firmware_config::ConfigVersion& version,
                            const std::filesystem::path& active_file) {
  if (json) {
    nlohmann::json out = {{"version", version.number},
                          {"applied_by", version.applied_by},
                          {"applied_at", version.applied_at},
                          {"action", version.action},
                          {"active_file", active_file.string()}};
    if (version.bundle_sequence != 0) out["bundle_sequence"] = version.bundle_sequence;
    print_json(out);
  } else {
    std::cout
        << "Configuration version " << version.number << " is active (" << active_file.string()
        << "); signetd reads it at its next start or reload (when it runs without --config).\n";
  }
}

bool is_local_only_command(const CLI::App& app) {
  const auto* config = app.get_subcommand("config");
  if (config == nullptr || !config->parsed()) return false;
  return !config->got_subcommand("apply") && !config->got_subcommand("rollback") &&
         !config->got_subcommand("import") && !config->got_subcommand("reload");
}

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
  auto show_version = std::make_shared<unsigned>(0);
  auto* show_cmd = config->add_subcommand(
      "show",
      "the effective configuration of FILE, or of an applied version (the factory "
      "defaults without either), every key included; secrets never appear, only the "
      "files that hold them");
  show_cmd->add_option("FILE", *show_file, "the TOML file");
  show_cmd->add_option("--version", *show_version, "an applied version (signet config versions)")
      ->check(CLI::PositiveNumber);
  show_cmd->callback([&selected, show_file, show_version] {
    selected = [show_file, show_version](ApplianceContext& c) {
      return show(c, *show_file, *show_version);
    };
  });

  auto diff_a = std::make_shared<std::string>(), diff_b = std::make_shared<std::string>();
  auto* diff_cmd = config->add_subcommand(
      "diff", "what differs between A and B, each an applied version number or a file");
  diff_cmd->add_option("A", *diff_a, "version or file")->required();
  diff_cmd->add_option("B", *diff_b, "version or file")->required();
  diff_cmd->callback([&selected, diff_a, diff_b] {
    selected = [diff_a, diff_b](ApplianceContext& c) { return show_diff(c, *diff_a, *diff_b); };
  });

  config->add_subcommand("versions", "the applied versions: number, when, by whom, how")
      ->callback([&selected] { selected = list_versions; });

  auto apply_file = std::make_shared<std::string>();
  auto* apply_cmd = config->add_subcommand(
      "apply",
      "validate FILE and make it the active configuration (<state>/config/signetd.toml) "
      "as a new version; the previous versions are kept; audited");
  apply_cmd->add_option("FILE", *apply_file, "the TOML file")->required();
  apply_cmd->callback([&selected, apply_file] {
    selected = [apply_file](ApplianceContext& c) { return apply_config(c, *apply_file); };
  });

  auto rollback_to = std::make_shared<unsigned>(0);
  auto* rollback_cmd = config->add_subcommand(
      "rollback", "make applied version N active again (recorded as a new version); audited");
  rollback_cmd->add_option("N", *rollback_to, "the version")
      ->required()
      ->check(CLI::PositiveNumber);
  rollback_cmd->callback([&selected, rollback_to] {
    selected = [rollback_to](ApplianceContext& c) { return rollback(c, *rollback_to); };
  });
  register_config_bundle_commands(config, selected);

  config
      ->add_subcommand("reload",
                       "make the running signetd re-read its configuration file (as SIGHUP "
                       "does; POST /api/v1/config/reload): an invalid file changes nothing; "
                       "administrators only")
      ->callback([&selected] {
        selected = [](ApplianceContext& ctx) -> Result<void> {
          return Error(ErrorCode::kUnavailable,
                       "no signetd owns " + ctx.state_dir().string() +
                           ": 'signet config reload' asks a running signetd (or give --server "
                           "URL)");
        };
      });
}

}  // namespace signet::appliance
