// signet config export --sign | import: signed configuration bundles (appliance/core/
// config_bundle.h). export signs with an administrator key on a token and reads no store, so it
// runs beside signetd; it numbers each bundle above every bundle imported or exported from this
// state directory (or --sequence). import (appliance/core/config_import.h) verifies the bundle
// against [config] admin_trust_anchors of the active configuration before the text is even
// parsed, refuses a bundle not newer than the last one imported, then validates it and records
// it as a new version (audited, as is every refusal); while signetd runs, `signet config
// import` goes through its API (remote_config_commands.cpp).
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>

#include "appliance/cli/config_support.h"
#include "appliance/cli/output.h"
#include "appliance/core/config_bundle.h"
#include "appliance/core/config_import.h"
#include "appliance/core/profile_bootstrap.h"
#include "appliance/core/views.h"
#include "firmware-config/loader.h"
#include "hsm/key_provider.h"

namespace signet::appliance {
namespace {

using base::Error;
using base::ErrorCode;
using base::Result;

struct ExportOptions {
  bool sign = false;
  std::string key;  // a key label on the token, or a pkcs11: URI
  unsigned version = 0;
  std::uint64_t sequence = 0;  // 0: one above the last imported or exported here
  std::string file;            // a configuration file instead of an applied version
  std::string out;             // empty or "-": standard output
};

std::string uri_escape(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0f];
    }
  }
  return out;
}

// The administrator key: a pkcs11: URI as given, else a private key with that label on the
// default token (--token).
Result<std::shared_ptr<base::Signer>> admin_key(ApplianceContext& ctx, const std::string& key) {
  SIGNET_ASSIGN_OR_RETURN(auto* keys, ctx.keys());
  if (key.rfind("pkcs11:", 0) == 0) return keys->find_key_by_uri(key);
  const std::string token = ctx.options().token;
  return keys->find_key_by_uri(
      "pkcs11:" + (token.empty() ? "" : "token=" + uri_escape(token) + ";") +
      "object=" + uri_escape(key) + ";type=private");
}

// The text to export and where it came from: an applied version (the newest by default) or a
// file, which must be valid either way.
Result<ConfigBundle> export_source(ApplianceContext& ctx, const ExportOptions& o) {
  ConfigBundle bundle;
  if (!o.file.empty()) {
    SIGNET_ASSIGN_OR_RETURN(auto bytes, read_input_file(o.file));
    bundle.config_text = std::string(base::as_chars(bytes));
    bundle.source = std::filesystem::absolute(o.file).string();
  } else {
    auto history = config_history(ctx);
    unsigned number = o.version;
    if (number == 0) {
      SIGNET_ASSIGN_OR_RETURN(auto versions, history.list());
      if (versions.empty()) {
        return Error(ErrorCode::kNotFound,
                     "no configuration was applied yet: export a FILE with --file, or 'signet "
                     "config apply' one first");
      }
      number = versions.back().number;
    }
    SIGNET_ASSIGN_OR_RETURN(bundle.config_text, history.text(number));
    bundle.version = number;
    bundle.source = "version " + std::to_string(number);
  }
  auto loaded = firmware_config::parse_configuration(
      bundle.config_text, bundle.source, SIGNET_DEFAULT_PKCS11_MODULE, firmware_config::Probes{});
  if (!loaded.ok()) return firmware_config::to_error(bundle.source, loaded.issues);
  return bundle;
}

// --sequence, else one above every bundle imported or exported from this state directory.
Result<std::uint64_t> next_sequence(ApplianceContext& ctx, const ExportOptions& o) {
  if (o.sequence != 0) return o.sequence;
  auto history = config_history(ctx);
  SIGNET_ASSIGN_OR_RETURN(auto imported, history.last_bundle_sequence());
  SIGNET_ASSIGN_OR_RETURN(auto exported, history.last_exported_sequence());
  return std::max(imported, exported) + 1;
}

Result<void> export_bundle(ApplianceContext& ctx, const ExportOptions& o) {
  if (!o.sign) {
    return Error(ErrorCode::kInvalidArgument,
                 "export makes signed bundles only: give --sign --key KEY ('signet config show' "
                 "prints the plain text)");
  }
  SIGNET_ASSIGN_OR_RETURN(auto bundle, export_source(ctx, o));
  SIGNET_ASSIGN_OR_RETURN(auto signer, admin_key(ctx, o.key));
  bundle.created = format_time(ctx.clock().now());
  SIGNET_ASSIGN_OR_RETURN(bundle.sequence, next_sequence(ctx, o));
  SIGNET_ASSIGN_OR_RETURN(auto text, make_config_bundle(bundle, *signer));
  const bool to_stdout = o.out.empty() || o.out == "-";
  SIGNET_TRY(write_output(o.out, base::as_bytes(text)));
  SIGNET_TRY(config_history(ctx).note_exported_sequence(bundle.sequence));
  const auto key_id = config_key_id(signer->public_key_der());
  if (ctx.json() && !to_stdout) {
    print_json({{"file", o.out},
                {"source", bundle.source},
                {"sequence", bundle.sequence},
                {"signer_key_id", key_id},
                {"signer_key", signer->key_ref().to_uri()}});
  } else if (!to_stdout) {
    std::cout << "Wrote bundle " << bundle.sequence << " of " << bundle.source << " signed by "
              << signer->key_ref().to_uri() << " (key id " << key_id << ") to " << o.out << ".\n";
  }
  return base::ok();
}

Result<void> import_bundle(ApplianceContext& ctx, const std::string& file) {
  ConfigImportRequest request;
  request.source = std::filesystem::absolute(file).string();
  request.actor = ctx.actor();
  request.default_module = SIGNET_DEFAULT_PKCS11_MODULE;
  request.probes = appliance_probes();
  auto bytes = read_input_file(file);
  if (!bytes) return refuse_config_import(ctx, request, std::move(bytes).error());
  request.bundle_text = std::string(base::as_chars(*bytes));
  SIGNET_ASSIGN_OR_RETURN(auto imported, import_config_bundle(ctx, request));
  print_recorded_version(ctx.json(), imported.version, imported.active_file);
  return base::ok();
}

}  // namespace

void register_config_bundle_commands(CLI::App* config, Action& selected) {
  auto o = std::make_shared<ExportOptions>();
  auto* export_cmd = config->add_subcommand(
      "export",
      "write a signed bundle of the active configuration (or --version N, or --file FILE): the "
      "TOML with its sequence number, version, creation time, signer key id and SHA-256, "
      "signed by an "
      "administrator key on the token (docs/CONFIGURATION.md, 'Signed bundles')");
  export_cmd->add_flag("--sign", o->sign, "sign the bundle (required)");
  export_cmd
      ->add_option("--key", o->key,
                   "the administrator key: a key label on the token (--token) or a "
                   "pkcs11: URI ('signet token generate-key' makes one)")
      ->required();
  export_cmd->add_option("--version", o->version, "an applied version (signet config versions)")
      ->check(CLI::PositiveNumber);
  export_cmd->add_option("--file", o->file, "a configuration file instead of an applied version");
  export_cmd
      ->add_option("--sequence", o->sequence,
                   "the bundle's sequence number: an appliance imports only bundles numbered "
                   "above the last one it imported (default: one above every bundle imported or "
                   "exported from this state directory)")
      ->check(CLI::PositiveNumber);
  export_cmd->add_option("--out", o->out, "the bundle file (default: standard output)");
  export_cmd->callback(
      [&selected, o] { selected = [o](ApplianceContext& c) { return export_bundle(c, *o); }; });

  auto import_file = std::make_shared<std::string>();
  auto* import_cmd = config->add_subcommand(
      "import",
      "verify a signed bundle against [config] admin_trust_anchors of the active configuration, "
      "refuse it unless its sequence number is above that of the last bundle imported, then "
      "validate it and make it active as a new version; any failure applies nothing; audited "
      "either way");
  import_cmd->add_option("FILE", *import_file, "the bundle (signet config export)")->required();
  import_cmd->callback([&selected, import_file] {
    selected = [import_file](ApplianceContext& c) { return import_bundle(c, *import_file); };
  });
}

}  // namespace signet::appliance
