// RA profiles declared in the configuration file ([[bootstrap.profiles]], docs/CONFIGURATION.md):
// signetd creates each one whose CA has no profile of that name, at start and on every reload,
// through the certificate service (audited as profile.created). A profile that exists is never
// overwritten: when it differs from the declaration (an operator edited it, or the file changed)
// the difference is reported (logged, audited as config.profile_drift, and in the reload's
// answer). Stateless functions; thread-safe as the services they are given.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "ca/certificate_service.h"
#include "ca/records.h"
#include "firmware-config/configuration.h"
#include "firmware-config/loader.h"

namespace signet::appliance {

// real_probes() plus the checks that each declared profile is a valid RA profile and each
// declared operator certificate parses.
firmware_config::Probes appliance_probes();

// What bootstrapping did, one sentence per profile that was created, drifted or failed.
struct ProfileBootstrapReport {
  std::vector<std::string> created;
  std::vector<std::string> drifted;  // "issuing/web: validity differs (file ..., stored ...)"
  std::vector<std::string> failed;
  std::vector<std::string> lines() const;  // all of them, prefixed
};

// `service` acts as the bootstrapping actor ("signetd:config"); `audit` takes the drift events.
ProfileBootstrapReport bootstrap_profiles(
    const std::vector<firmware_config::ProfileBootstrap>& declared, ca::ProfileDirectory& profiles,
    ca::CertificateService& service, ca::AuditSink& audit, base::TimePoint now,
    const std::string& actor);

}  // namespace signet::appliance
