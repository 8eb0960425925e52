// Importing a signed configuration bundle (config_bundle.h) into the appliance's configuration
// versions (<state>/config/, firmware_config::ConfigHistory): `signet config import` when
// signetd does not run, POST /api/v1/config/import when it does (signetd owns the state
// directory then).
//
// In order, before anything is recorded: the trust anchors come from [config]
// admin_trust_anchors of the active configuration (never from the bundle); the bundle must open
// with one of them (open_config_bundle); its sequence number must be above that of every bundle
// imported before (replay protection); the text must validate on this machine (`probes`). Only
// then is it recorded as a new version (action "import", with the bundle's sequence; the
// sequence is checked again under the history's lock) and audited as config.imported. Every
// refusal is audited as config.import_refused with the reason, applies nothing and comes back
// with the context "nothing was applied".
//
// Thread-safety: callers in one process serialize imports (signetd holds a mutex); two
// processes are kept apart by the history's directory lock.
#pragma once

#include <filesystem>
#include <string>

#include "appliance/core/config_bundle.h"
#include "appliance/core/context.h"
#include "firmware-config/loader.h"
#include "firmware-config/versions.h"

namespace signet::appliance {

struct ConfigImportRequest {
  std::string bundle_text;         // the bundle file's content
  std::string source;              // where it came from, for the version and the audit: a path
  std::string actor;               // who imports ("cli:root", "operator:alice")
  std::string default_module;      // the PKCS#11 module a configuration without one uses
  firmware_config::Probes probes;  // what validation checks on this machine
};

struct ConfigImportOutcome {
  firmware_config::ConfigVersion version;  // the version recorded
  ConfigBundle bundle;                     // what the bundle held
  std::filesystem::path active_file;       // <state>/config/signetd.toml
};

base::Result<ConfigImportOutcome> import_config_bundle(ApplianceContext& context,
                                                       const ConfigImportRequest& request);

// Audits config.import_refused for `request` with `error` as the reason; returns the error with
// the context "nothing was applied" (for a bundle the caller could not even read).
base::Error refuse_config_import(ApplianceContext& context, const ConfigImportRequest& request,
                                 base::Error error);

// The version history of `context`'s state directory.
firmware_config::ConfigHistory config_versions(const ApplianceContext& context);

}  // namespace signet::appliance
