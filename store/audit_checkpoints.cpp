// LmdbStore as ca::AuditCheckpointLog: signed checkpoints of the audit chain, in their own
// table (schema.h: audit_checkpoints), written by the store's writer with their audit event.
#include <limits>

#include "store/internal/store_impl.h"

namespace signet::store {

base::Result<std::uint64_t> LmdbStore::append_checkpoint(const ca::AuditCheckpoint& checkpoint,
                                                         ca::AuditEvent event) {
  if (checkpoint.sequence == 0 || checkpoint.head.size() != 32 || checkpoint.signature.empty()) {
    return base::Error(base::ErrorCode::kInvalidArgument,
                       "a checkpoint needs a sequence, a 32-byte head and a signature");
  }
  return impl_->writer->submit(CheckpointWrite{checkpoint, std::move(event)}).get();
}

base::Result<std::vector<ca::AuditCheckpoint>> LmdbStore::list_checkpoints(std::uint64_t after,
                                                                           std::size_t limit) {
  std::vector<ca::AuditCheckpoint> out;
  if (limit == 0 || after == std::numeric_limits<std::uint64_t>::max()) return out;
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  const auto& table = impl_->tables.audit_checkpoints;
  SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn, table));
  SIGNET_ASSIGN_OR_RETURN(auto entry, cursor.seek(schema::id_key(after + 1)));
  while (entry && out.size() < limit) {
    SIGNET_ASSIGN_OR_RETURN(auto checkpoint,
                            codec::decode_checkpoint(entry->value, table.name, entry->key));
    out.push_back(std::move(checkpoint));
    SIGNET_ASSIGN_OR_RETURN(entry, cursor.next());
  }
  return out;
}

base::Result<std::optional<ca::AuditCheckpoint>> LmdbStore::latest_checkpoint() {
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  const auto& table = impl_->tables.audit_checkpoints;
  SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn, table));
  SIGNET_ASSIGN_OR_RETURN(auto last, cursor.last());
  if (!last) return std::optional<ca::AuditCheckpoint>();
  SIGNET_ASSIGN_OR_RETURN(auto checkpoint,
                          codec::decode_checkpoint(last->value, table.name, last->key));
  return std::optional<ca::AuditCheckpoint>(std::move(checkpoint));
}

base::Result<std::optional<ca::AuditEvent>> LmdbStore::last_audit_event() {
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  const auto& table = impl_->tables.audit;
  SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn, table));
  SIGNET_ASSIGN_OR_RETURN(auto last, cursor.last());
  if (!last) return std::optional<ca::AuditEvent>();
  SIGNET_ASSIGN_OR_RETURN(auto event, codec::decode_audit(last->value, table.name, last->key));
  event.sequence = schema::id_from(last->key);
  return std::optional<ca::AuditEvent>(std::move(event));
}

}  // namespace signet::store
