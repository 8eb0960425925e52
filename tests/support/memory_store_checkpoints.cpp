// MemoryStore as ca::AuditCheckpointLog, with the LMDB store's checks.
#include "tests/support/memory_store.h"

namespace signet::test {

base::Result<std::uint64_t> MemoryStore::append_checkpoint(const ca::AuditCheckpoint& checkpoint,
                                                           ca::AuditEvent event) {
  std::lock_guard lock(mutex_);
  const std::string at = "sequence " + std::to_string(checkpoint.sequence);
  if (!checkpoints_.empty() && checkpoints_.rbegin()->first >= checkpoint.sequence) {
    return base::Error(base::ErrorCode::kConflict,
                       "a checkpoint at " + at + " would not move forward");
  }
  if (checkpoint.sequence == 0 || checkpoint.sequence > audit_.size()) {
    return base::Error(base::ErrorCode::kConflict, "the audit log has no entry at " + at);
  }
  if (audit_[checkpoint.sequence - 1].hash != checkpoint.head) {
    return base::Error(base::ErrorCode::kConflict,
                       "the checkpoint's head is not the hash of the audit entry at " + at);
  }
  checkpoints_.emplace(checkpoint.sequence, checkpoint);
  return append_locked(std::move(event));
}

base::Result<std::vector<ca::AuditCheckpoint>> MemoryStore::list_checkpoints(std::uint64_t after,
                                                                             std::size_t limit) {
  std::lock_guard lock(mutex_);
  std::vector<ca::AuditCheckpoint> out;
  for (auto it = checkpoints_.upper_bound(after); it != checkpoints_.end() && out.size() < limit;
       ++it) {
    out.push_back(it->second);
  }
  return out;
}

base::Result<std::optional<ca::AuditCheckpoint>> MemoryStore::latest_checkpoint() {
  std::lock_guard lock(mutex_);
  if (checkpoints_.empty()) return std::optional<ca::AuditCheckpoint>();
  return std::optional<ca::AuditCheckpoint>(checkpoints_.rbegin()->second);
}

base::Result<std::optional<ca::AuditEvent>> MemoryStore::last_audit_event() {
  std::lock_guard lock(mutex_);
  if (audit_.empty()) return std::optional<ca::AuditEvent>();
  return std::optional<ca::AuditEvent>(audit_.back());
}

}  // namespace signet::test
