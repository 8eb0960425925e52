#include "appliance/daemon/audit_checkpoint_loop.h"

namespace signet::appliance {

AuditCheckpointLoop::AuditCheckpointLoop(ca::AuditCheckpointer& checkpointer,
                                         std::chrono::minutes interval, Log log)
    : checkpointer_(checkpointer),
      interval_(interval),
      log_(std::move(log)),
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
  if (interval_.count() == 0) return;
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
    lock.unlock();
    checkpoint("scheduled");
    lock.lock();
  }
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
