// ConfigReloader: signetd re-reading its configuration while it runs (SIGHUP, and
// POST /api/v1/config/reload for administrators; docs/CONFIGURATION.md, "Reloading").
//
// A reload resolves the settings exactly as signetd's start did (the same file, environment
// and flags, every check). A file that fails validation changes nothing: the reason is
// returned, logged by the caller and audited (config.reload_failed). A good file is compared
// with what runs: the settings that can change at run time (reloadable_at_run_time()) are
// handed to the Apply callback, which puts them into effect and returns what it did beyond
// that (RA profiles created, drift found); every other changed setting is reported as needing
// a restart, on every reload until signetd restarts. Audited as config.reloaded.
//
// Thread-safety: reload() and attach() may be called from any thread; reloads run one at a
// time (a mutex), and attach() waits for a reload in progress.
#pragma once

#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "appliance/daemon/settings.h"
#include "ca/records.h"

namespace signet::appliance {

struct ReloadReport {
  std::string file;                           // the file read ("" : the factory defaults)
  std::vector<std::string> applied;           // "sessions.lifetime_seconds: 3600 -> 7200"
  std::vector<std::string> restart_required;  // changed settings that wait for a restart
  std::vector<std::string> notes;             // what Apply did beyond the settings
};

// Whether the setting at this key path ("logging.level", "bootstrap.profiles[0].ca") takes
// effect when reloaded; everything else needs a restart.
bool reloadable_at_run_time(std::string_view key_path);

class ConfigReloader {
 public:
  using Resolve = std::function<base::Result<DaemonSettings>()>;
  // Puts the run-time settings of `next` into effect; returns notes for the report.
  using Apply = std::function<std::vector<std::string>(const DaemonSettings& next)>;

  // `running` is what signetd started with; `audit` and `clock` must outlive the reloader.
  ConfigReloader(DaemonSettings running, Resolve resolve, ca::AuditSink& audit,
                 const base::Clock& clock);

  // Sets (or, with nullptr, clears) what applies a reload; until set, reload() answers
  // kUnavailable (signetd is starting or stopping).
  void attach(Apply apply);

  base::Result<ReloadReport> reload(const std::string& actor);

 private:
  base::Result<void> audit(const std::string& actor, const std::string& action,
                           const nlohmann::json& detail);

  const DaemonSettings started_;
  const Resolve resolve_;
  ca::AuditSink& audit_;
  const base::Clock& clock_;
  std::mutex mutex_;        // one reload at a time; guards the members below
  DaemonSettings current_;  // the run-time settings in effect
  Apply apply_;
};

}  // namespace signet::appliance
