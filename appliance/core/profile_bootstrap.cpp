#include "appliance/core/profile_bootstrap.h"

#include <nlohmann/json.hpp>

#include "appliance/core/operator_bootstrap.h"
#include "ca/profile.h"

namespace signet::appliance {
namespace {

using base::Result;
using nlohmann::json;

Result<void> check_profile(const std::string& text) {
  SIGNET_ASSIGN_OR_RETURN(auto profile, ca::profile_from_json(text));
  return ca::validate_profile(profile);
}

// The profile's rules as JSON, without what the store adds (version, times, author).
json rules_of(ca::Profile profile) {
  profile.version = 0;
  profile.created_at = profile.updated_at = base::TimePoint{};
  profile.updated_by.clear();
  auto j = json::parse(ca::profile_to_json(profile, false));
  for (const char* key : {"version", "created_at", "updated_at", "updated_by"}) j.erase(key);
  return j;
}

// "validity (file {...}, stored {...}); enabled (file true, stored false)"
std::string differences(const json& file, const json& stored) {
  std::string out;
  for (const auto& [key, value] : file.items()) {
    const auto it = stored.find(key);
    if (it != stored.end() && *it == value) continue;
    if (!out.empty()) out += "; ";
    out += key + " (file " + value.dump() + ", stored " +
           (it == stored.end() ? std::string("none") : it->dump()) + ")";
  }
  return out;
}

}  // namespace

firmware_config::Probes appliance_probes() {
  auto probes = firmware_config::real_probes();
  probes.profile = check_profile;
  probes.certificate = check_certificate_file;
  return probes;
}

std::vector<std::string> ProfileBootstrapReport::lines() const {
  std::vector<std::string> out;
  for (const auto& line : created) out.push_back("created RA profile " + line);
  for (const auto& line : drifted) out.push_back("drift: RA profile " + line);
  for (const auto& line : failed) out.push_back("could not create RA profile " + line);
  return out;
}

ProfileBootstrapReport bootstrap_profiles(
    const std::vector<firmware_config::ProfileBootstrap>& declared, ca::ProfileDirectory& profiles,
    ca::CertificateService& service, ca::AuditSink& audit, base::TimePoint now,
    const std::string& actor) {
  ProfileBootstrapReport report;
  for (const auto& entry : declared) {
    const std::string name = entry.ca + "/" + entry.name;
    auto profile = ca::profile_from_json(entry.json);
    if (!profile) {
      report.failed.push_back(name + ": " + profile.error().message());
      continue;
    }
    auto stored = profiles.find_profile(entry.ca, entry.name);
    if (!stored) {
      report.failed.push_back(name + ": " + stored.error().message());
    } else if (!*stored) {
      auto created = service.create_profile(*profile);
      if (created) {
        report.created.push_back(name);
      } else {
        report.failed.push_back(name + ": " + created.error().message());
      }
    } else if (auto diff = differences(rules_of(*profile), rules_of(**stored)); !diff.empty()) {
      report.drifted.push_back(name + " (stored version " + std::to_string((*stored)->version) +
                               ") differs from the file, which does not overwrite it: " + diff);
      const json detail = {
          {"profile", name}, {"stored_version", (*stored)->version}, {"differences", diff}};
      auto audited = audit.append_audit(ca::make_audit_event(now, actor, "config.profile_drift",
                                                             "profile:" + name, detail.dump()));
      if (!audited)
        report.failed.push_back(name + ": its drift was not audited: " + audited.error().message());
    }
  }
  return report;
}

}  // namespace signet::appliance
