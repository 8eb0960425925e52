// AuditForwarder: sends every audit event to syslog (RFC 5424 with structured data, see
// audit_syslog_format.h) and/or journald (its native protocol), so that a copy of the log
// lives outside the appliance ([audit] forward, docs/CONFIGURATION.md).
//
// It tails the committed log from its own thread: every 250 ms it reads the events after the
// last one it handled (at most [audit] queue_size at a time, oldest first, so in sequence
// order) and sends each to each target. Writers of audit events never wait on it: forwarding
// is off the commit path, and a slow or absent target costs only this thread. Where it got to
// is kept in <state>/audit-forward.cursor, so that events committed while signetd was not
// running (by the CLI) are sent at the next start; without that file it begins at the log's
// head. When a target is down its events are dropped and counted (status(), /metrics,
// /healthz, `signet doctor`), a warning is logged at most once a minute per target, and the
// target is reconnected (ForwardTarget), also while idle. The destructor sends what was
// committed up to then.
//
// Thread-safety: status() from any thread; the rest is the forwarding thread's.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "appliance/daemon/audit_syslog_format.h"
#include "appliance/daemon/forward_target.h"
#include "base/result.h"
#include "ca/records.h"
#include "firmware-config/configuration.h"

namespace signet::appliance {

class AuditForwarder {
 public:
  using Log = std::function<void(const std::string&)>;

  // nullptr when `settings.forward` is empty. `audit` and `head` (borrowed) must outlive it.
  static base::Result<std::unique_ptr<AuditForwarder>> create(
      const firmware_config::AuditSettings& settings, ca::AuditSink& audit,
      ca::AuditCheckpointLog& head, const std::filesystem::path& state_dir, Log log);
  // Starts the forwarding thread (once). Until then nothing is sent: signetd creates the
  // forwarder early, so that its start cursor precedes the start-up's own events, and starts it
  // once privileges are dropped.
  void start();
  ~AuditForwarder();
  AuditForwarder(const AuditForwarder&) = delete;
  AuditForwarder& operator=(const AuditForwarder&) = delete;

  struct TargetStatus {
    std::string name;     // "syslog", "journald"
    std::string address;  // as configured
    bool connected = false;
    std::uint64_t forwarded = 0;
    std::uint64_t dropped = 0;
  };
  std::vector<TargetStatus> status() const;
  std::uint64_t last_sequence() const { return cursor_.load(); }

 private:
  struct Target {
    Target(std::string n, bool j, ForwardTarget s)
        : name(std::move(n)), journald(j), socket(std::move(s)) {}
    std::string name;
    bool journald = false;
    ForwardTarget socket;
    std::atomic<std::uint64_t> forwarded{0}, dropped{0};
    std::atomic<bool> connected{false};
    std::uint64_t unreported_drops = 0;  // since the last warning
    std::chrono::steady_clock::time_point next_warning{};
  };
  AuditForwarder(ca::AuditSink& audit, std::filesystem::path cursor_file, std::size_t batch,
                 SyslogIdentity identity, Log log);
  void run();
  // Sends what was committed since the cursor; false when reading the log failed.
  bool drain();
  void deliver(Target& target, const ca::AuditEvent& event);
  void connect_idle(Target& target);
  void save_cursor();

  ca::AuditSink& audit_;
  const std::filesystem::path cursor_file_;
  const std::size_t batch_;
  const SyslogIdentity identity_;
  const Log log_;
  std::vector<std::unique_ptr<Target>> targets_;
  std::atomic<std::uint64_t> cursor_{0};  // the last sequence handled
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;     // started by start()
};

}  // namespace signet::appliance
