#include "appliance/core/config_import.h"

#include <nlohmann/json.hpp>

#include "appliance/core/views.h"

namespace signet::appliance {
namespace {

using base::Error;
using base::ErrorCode;
using base::Result;

// The trust anchors of the active configuration.
Result<std::vector<TrustAnchor>> active_trust_anchors(const ApplianceContext& context,
                                                      const std::string& default_module) {
  const auto active = config_versions(context).active_file();
  std::error_code error;
  if (!std::filesystem::exists(active, error)) {
    return Error(ErrorCode::kNotFound,
                 "no configuration is active (" + active.string() +
                     "), so no administrator trust anchor is configured: 'signet config apply' a "
                     "file with [config] admin_trust_anchors first");
  }
  auto loaded = firmware_config::load_configuration_file(active.string(), default_module,
                                                         firmware_config::Probes{});
  if (!loaded.ok()) return firmware_config::to_error(active.string(), loaded.issues);
  const auto& paths = loaded.configuration.config.admin_trust_anchors;
  if (paths.empty()) {
    return Error(ErrorCode::kNotFound,
                 "the active configuration names no administrator trust anchor ([config] "
                 "admin_trust_anchors): no bundle can be imported");
  }
  return load_trust_anchors(paths);
}

// The bundle, verified, new enough and valid here.
Result<ConfigBundle> checked_bundle(const ApplianceContext& context,
                                    const ConfigImportRequest& request) {
  SIGNET_ASSIGN_OR_RETURN(auto anchors, active_trust_anchors(context, request.default_module));
  SIGNET_ASSIGN_OR_RETURN(auto bundle, open_config_bundle(request.bundle_text, anchors));
  SIGNET_TRY(config_versions(context).check_bundle_sequence(bundle.sequence));
  auto loaded = firmware_config::parse_configuration(bundle.config_text, request.source,
                                                     request.default_module, request.probes);
  if (!loaded.ok()) return firmware_config::to_error(request.source, loaded.issues);
  return bundle;
}

Result<void> audit(ApplianceContext& context, const std::string& actor, const std::string& action,
                   const std::string& object, const nlohmann::json& detail) {
  SIGNET_ASSIGN_OR_RETURN(auto* sink, context.audit());
  SIGNET_TRY(sink->append_audit(
      ca::make_audit_event(context.clock().now(), actor, action, object, detail.dump())));
  return base::ok();
}

}  // namespace

Error refuse_config_import(ApplianceContext& context, const ConfigImportRequest& request,
                           Error error) {
  const nlohmann::json detail = {{"source", request.source}, {"reason", error.message()}};
  if (auto written =
          audit(context, request.actor, "config.import_refused", "config:bundle", detail);
      !written) {
    return std::move(written).error().with_context("auditing a refused import");
  }
  return std::move(error).with_context("nothing was applied");
}

firmware_config::ConfigHistory config_versions(const ApplianceContext& context) {
  return firmware_config::ConfigHistory(context.state_dir() / "config");
}

Result<ConfigImportOutcome> import_config_bundle(ApplianceContext& context,
                                                 const ConfigImportRequest& request) {
  auto bundle = checked_bundle(context, request);
  if (!bundle) return refuse_config_import(context, request, std::move(bundle).error());
  auto history = config_versions(context);
  firmware_config::ConfigVersion meta{0,        request.actor,  format_time(context.clock().now()),
                                      "import", request.source, bundle->sequence};
  auto version = history.record(bundle->config_text, meta);
  if (!version) return refuse_config_import(context, request, std::move(version).error());
  const nlohmann::json detail = {{"version", version->number},
                                 {"source", request.source},
                                 {"signer_key_id", bundle->signer_key_id},
                                 {"signer_key", bundle->signer_key_uri},
                                 {"config_sha256", bundle->config_sha256},
                                 {"bundle_sequence", bundle->sequence},
                                 {"bundle_created", bundle->created},
                                 {"bundle_source", bundle->source}};
  SIGNET_TRY(audit(context, request.actor, "config.imported",
                   "config:v" + std::to_string(version->number), detail));
  return ConfigImportOutcome{std::move(*version), std::move(*bundle), history.active_file()};
}

}  // namespace signet::appliance
