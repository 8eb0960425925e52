// AuditCheckpointLoop: signetd's schedule of signed audit checkpoints. Every `interval` it asks
// the checkpointer for a checkpoint of the log's head when the log has entries that no
// checkpoint covers (besides the last checkpoint's own event); final() makes one more at
// graceful shutdown. Failures are logged (the next round retries). An interval of zero runs
// no schedule (final() still works). set_interval() changes the schedule while it runs (a
// configuration reload); the next checkpoint is then one new interval away.
//
// Thread-safety: owns one thread; the destructor stops and joins it. final() may be called
// from any thread (the checkpointer serialises checkpoints).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "ca/audit_checkpoint.h"

namespace signet::appliance {

class AuditCheckpointLoop {
 public:
  using Log = std::function<void(const std::string&)>;
  AuditCheckpointLoop(ca::AuditCheckpointer& checkpointer, std::chrono::minutes interval, Log log);
  ~AuditCheckpointLoop();
  AuditCheckpointLoop(const AuditCheckpointLoop&) = delete;
  AuditCheckpointLoop& operator=(const AuditCheckpointLoop&) = delete;

  // Stops the schedule and signs the head once more when it has new entries.
  void final();
  void set_interval(std::chrono::minutes interval);

 private:
  void run();
  void stop();
  void checkpoint(const char* when);

  ca::AuditCheckpointer& checkpointer_;
  const Log log_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::chrono::minutes interval_;  // guarded by mutex_
  unsigned generation_ = 0;        // guarded by mutex_; counts set_interval() calls
  bool stopping_ = false;          // guarded by mutex_
  std::thread thread_;             // last: starts after everything above
};

}  // namespace signet::appliance
