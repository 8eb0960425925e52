#include "appliance/daemon/config_routes.h"

#include "appliance/api/auth.h"
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

}  // namespace

void register_config_routes(Router& router, ConfigReloader& reloader) {
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
