#include "appliance/daemon/audit_checkpoint_loop.h"

namespace signet::appliance {

AuditCheckpointLoop::AuditCheckpointLoop(ca::AuditCheckpointer& checkpointer,
                                         std::chrono::minutes interval, Log log)
    : checkpointer_(checkpointer),
      log_(std::move(log)),
      interval_(interval),
      thread_([this] { run(); }) {}

AuditCheckpointLoop::~AuditCheckpointLoop() { stop(); }

void AuditCheckpointLoop::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AuditCheckpointLoop::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const auto interval = interval_;
    const auto generation = generation_;
    const auto woken = [&] { return stopping_ || generation_ != generation; };
    if (interval.count() == 0) {
      wake_.wait(lock, woken);
      continue;
    }
    if (wake_.wait_for(lock, interval, woken)) continue;
    lock.unlock();
    checkpoint("scheduled");
    lock.lock();
  }
}

void AuditCheckpointLoop::set_interval(std::chrono::minutes interval) {
  {
    std::lock_guard lock(mutex_);
    interval_ = interval;
    ++generation_;
  }
  wake_.notify_all();
}

void AuditCheckpointLoop::final() {
  stop();
  checkpoint("at shutdown");
}

void AuditCheckpointLoop::checkpoint(const char* when) {
  auto made = checkpointer_.checkpoint("signetd", /*only_if_new=*/true);
  if (!made) {
    log_(std::string("warning: the ") + when +
         " audit checkpoint failed: " + made.error().describe());
  } else if (*made) {
    log_(std::string("signed an audit checkpoint ") + when + " at sequence " +
         std::to_string((*made)->sequence));
  }
}

}  // namespace signet::appliance
