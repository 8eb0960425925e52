// The configuration's run-time side in signetd: POST /api/v1/config/reload (administrators;
// the same reload as SIGHUP, config_reload.h), POST /api/v1/config/import (administrators; a
// signed bundle recorded as a new version, appliance/core/config_import.h, while signetd owns
// the state directory) and the bootstrap of the RA profiles and operator accounts the file
// declares (at start and on reload; appliance/core/profile_bootstrap.h, operator_bootstrap.h).
#pragma once

#include <string>
#include <vector>

#include "appliance/api/api.h"
#include "appliance/daemon/config_reload.h"

namespace signet::appliance {

// `default_module`: the PKCS#11 module a configuration without one uses. Imports run one at a
// time (a mutex the routes own).
void register_config_routes(Router& router, ConfigReloader& reloader, ApiServices& api,
                            const std::string& default_module);

// Creates the declared profiles that do not exist (acting as "signetd:config"); returns one
// line per profile created, drifted or failed.
std::vector<std::string> bootstrap_declared_profiles(ApiServices& api,
                                                     const firmware_config::Configuration& config);

// Creates the declared operator accounts that do not exist (acting as "signetd:config"); returns
// one line per operator created, drifted or failed.
std::vector<std::string> bootstrap_declared_operators(ApiServices& api,
                                                      const firmware_config::Configuration& config);

// One line for signetd's log about a reload's outcome.
std::string describe_reload(const base::Result<ReloadReport>& outcome);

}  // namespace signet::appliance
