#include "appliance/daemon/config_routes.h"

#include <memory>
#include <mutex>

#include "appliance/api/auth.h"
#include "appliance/api/internal/request_support.h"
#include "appliance/core/config_import.h"
#include "appliance/core/operator_bootstrap.h"
#include "appliance/core/profile_bootstrap.h"

namespace signet::appliance {

using base::Result;

namespace {

constexpr const char* kBootstrapActor = "signetd:config";

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += (out.empty() ? "" : "; ") + line;
  return out;
}

// A configuration the running daemon validates: no module is probed (a dlopen() of whatever
// library a file names, inside the hardened process; the module needs a restart anyway).
firmware_config::Probes running_probes() {
  auto probes = appliance_probes();
  probes.module = nullptr;
  return probes;
}

void add_import(Router& router, ApiServices& api, const std::string& default_module) {
  using namespace api_internal;
  auto serial = std::make_shared<std::mutex>();
  RouteDoc doc{"config",
               "import a signed configuration bundle (`signet config export --sign`): verified "
               "against [config] admin_trust_anchors of the active configuration, refused unless "
               "its sequence number is above the last bundle imported, validated, then recorded "
               "as a new version that signetd reads at its next start or reload; every refusal "
               "applies nothing and is audited (config.import_refused)",
               {},
               object_schema({{"bundle", string_schema("the bundle file's text (JSON)")},
                              {"source", string_schema("where it came from, for the version "
                                                       "record (default: \"api\")")}},
                             {"bundle"}),
               "application/json",
               201};
  add_route(router, "POST", "/api/v1/config/import", Permission::kAdminister, std::move(doc),
            [&api, default_module, serial](ApiCall& call,
                                           const nlohmann::json& body) -> Result<http::Response> {
              ConfigImportRequest request;
              request.bundle_text = body.at("bundle").get<std::string>();
              request.source = field_string_or(body, "source", "api");
              request.actor = call.principal.actor();
              request.default_module = default_module;
              request.probes = running_probes();
              std::lock_guard lock(*serial);
              auto imported = import_config_bundle(api.context(), request);
              if (!imported) {
                // The answer carries the message alone: keep "nothing was applied" in it.
                return base::Error(imported.error().code(), imported.error().describe());
              }
              const auto& v = imported->version;
              return json_response({{"version", v.number},
                                    {"applied_by", v.applied_by},
                                    {"applied_at", v.applied_at},
                                    {"action", v.action},
                                    {"bundle_sequence", v.bundle_sequence},
                                    {"active_file", imported->active_file.string()},
                                    {"signer_key_id", imported->bundle.signer_key_id},
                                    {"config_sha256", imported->bundle.config_sha256}},
                                   201);
            });
}

}  // namespace

void register_config_routes(Router& router, ConfigReloader& reloader, ApiServices& api,
                            const std::string& default_module) {
  router.add("POST", "/api/v1/config/reload", Permission::kAdminister,
             {"config",
              "re-read signetd's configuration file (as SIGHUP does): an invalid file changes "
              "nothing and the answer says why; a valid one applies what can change at run time "
              "and lists what needs a restart"},
             [&reloader](ApiCall& call) -> Result<http::Response> {
               SIGNET_ASSIGN_OR_RETURN(auto report, reloader.reload(call.principal.actor()));
               return json_response({{"file", report.file},
                                     {"applied", report.applied},
                                     {"restart_required", report.restart_required},
                                     {"notes", report.notes}});
             });
  add_import(router, api, default_module);
}

std::vector<std::string> bootstrap_declared_profiles(ApiServices& api,
                                                     const firmware_config::Configuration& config) {
  if (config.bootstrap.profiles.empty()) return {};
  auto profiles = api.context().profiles();
  auto audit = api.context().audit();
  if (!profiles || !audit) return {"the RA profile bootstrap did not run: the store is not open"};
  auto service = api.system_service(kBootstrapActor);
  return bootstrap_profiles(config.bootstrap.profiles, **profiles, *service, **audit,
                            api.clock().now(), kBootstrapActor)
      .lines();
}

std::vector<std::string> bootstrap_declared_operators(
    ApiServices& api, const firmware_config::Configuration& config) {
  const auto& declared = config.bootstrap.operators.accounts;
  if (declared.empty()) return {};
  auto operators = api.context().operators();
  auto audit = api.context().audit();
  if (!operators || !audit) return {"the operator bootstrap did not run: the store is not open"};
  auto& authenticator = api.authenticator();
  const PasswordHasher hash = [&authenticator](const base::SecureBuffer& password) {
    return authenticator.hash_password(password);
  };
  return bootstrap_operators(declared, **operators, **audit, hash, api.clock().now(),
                             kBootstrapActor)
      .lines();
}

std::string describe_reload(const Result<ReloadReport>& outcome) {
  if (!outcome) return "warning: " + outcome.error().describe();
  const auto& r = *outcome;
  std::string line = "reloaded " + (r.file.empty() ? std::string("the factory defaults") : r.file);
  line += r.applied.empty() ? ": no run-time setting changed" : ": applied " + joined(r.applied);
  if (!r.restart_required.empty()) line += "; needs a restart: " + joined(r.restart_required);
  if (!r.notes.empty()) line += "; " + joined(r.notes);
  return line;
}

}  // namespace signet::appliance
