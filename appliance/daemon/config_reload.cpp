#include "appliance/daemon/config_reload.h"

#include <nlohmann/json.hpp>

#include "firmware-config/versions.h"

namespace signet::appliance {
namespace {

using base::Error;
using base::ErrorCode;
using base::Result;

constexpr std::string_view kRunTimeKeys[] = {
    "logging.level",
    "logging.audit_checkpoint_interval_minutes",
    "sessions.idle_seconds",
    "sessions.lifetime_seconds",
    "ca.scheduler_interval_seconds",
    "ca.expiry_scan_interval_seconds",
    "ca.expiry_alert_days",
    "ca.publish_base_url",
    "config.admin_trust_anchors",
};

std::string key_of(const std::string& diff_line) {
  return diff_line.substr(0, diff_line.find(": "));
}

}  // namespace

bool reloadable_at_run_time(std::string_view key) {
  if (key.rfind("bootstrap.profiles", 0) == 0) return true;
  if (key.rfind("bootstrap.operators.accounts", 0) == 0) return true;
  for (const auto known : kRunTimeKeys) {
    if (key == known) return true;
  }
  return false;
}

ConfigReloader::ConfigReloader(DaemonSettings running, Resolve resolve, ca::AuditSink& audit,
                               const base::Clock& clock)
    : started_(running),
      resolve_(std::move(resolve)),
      audit_(audit),
      clock_(clock),
      current_(std::move(running)) {}

void ConfigReloader::attach(Apply apply) {
  std::lock_guard lock(mutex_);
  apply_ = std::move(apply);
}

Result<void> ConfigReloader::audit(const std::string& actor, const std::string& action,
                                   const nlohmann::json& detail) {
  SIGNET_TRY(audit_.append_audit(
      ca::make_audit_event(clock_.now(), actor, action, "config:reload", detail.dump())));
  return base::ok();
}

Result<ReloadReport> ConfigReloader::reload(const std::string& actor) {
  std::lock_guard lock(mutex_);
  if (!apply_) return Error(ErrorCode::kUnavailable, "signetd is starting or stopping; try again");
  auto next = resolve_();
  if (!next) {
    Error error(next.error().code(),
                "the configuration was not reloaded, nothing changed: " + next.error().message());
    SIGNET_TRY(audit(actor, "config.reload_failed",
                     {{"file", current_.config_file}, {"reason", error.message()}}));
    return error;
  }
  ReloadReport report;
  report.file = next->config_file;
  for (auto& line :
       firmware_config::diff_configurations(current_.configuration, next->configuration)) {
    if (reloadable_at_run_time(key_of(line))) report.applied.push_back(std::move(line));
  }
  for (auto& line :
       firmware_config::diff_configurations(started_.configuration, next->configuration)) {
    if (!reloadable_at_run_time(key_of(line))) report.restart_required.push_back(std::move(line));
  }
  report.notes = apply_(*next);
  current_ = std::move(*next);
  SIGNET_TRY(audit(actor, "config.reloaded",
                   {{"file", report.file},
                    {"applied", report.applied},
                    {"restart_required", report.restart_required},
                    {"notes", report.notes}}));
  return report;
}

}  // namespace signet::appliance
