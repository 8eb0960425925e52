// BatchWriter: signed audit checkpoints, written with their audit event in the writer's
// transaction, checked against the chain the transaction sees.
#include "ca/audit.h"
#include "store/internal/batch_writer.h"
#include "store/internal/codec.h"

namespace signet::store {

namespace {

using base::Error;
using base::ErrorCode;

base::Result<void> refuse(std::vector<base::Result<std::uint64_t>>& outcomes, Error error) {
  outcomes.emplace_back(std::move(error));
  return base::ok();
}

}  // namespace

base::Result<void> BatchWriter::apply(lmdb::Transaction& txn, CheckpointWrite& w,
                                      Counters& counters, std::vector<Outcome>& outcomes) {
  const auto& checkpoint = w.checkpoint;
  const std::string at = "sequence " + std::to_string(checkpoint.sequence);
  {
    SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn, tables_.audit_checkpoints));
    SIGNET_ASSIGN_OR_RETURN(auto last, cursor.last());
    if (last && schema::id_from(last->key) >= checkpoint.sequence) {
      return refuse(outcomes,
                    Error(ErrorCode::kConflict, "a checkpoint at " + at +
                                                    " would not move forward: the "
                                                    "latest checkpoint is at sequence " +
                                                    std::to_string(schema::id_from(last->key))));
    }
  }
  const auto key = schema::id_key(checkpoint.sequence);
  SIGNET_ASSIGN_OR_RETURN(auto stored, txn.get(tables_.audit, key));
  if (!stored) {
    return refuse(outcomes, Error(ErrorCode::kConflict, "the audit log has no entry at " + at +
                                                            " for the checkpoint to sign"));
  }
  SIGNET_ASSIGN_OR_RETURN(auto entry, codec::decode_audit(*stored, tables_.audit.name, key));
  if (entry.hash != checkpoint.head) {
    return refuse(outcomes, Error(ErrorCode::kConflict,
                                  "the checkpoint's head is not the hash of the audit entry at " +
                                      at + " as stored"));
  }
  codec::encode(checkpoint, scratch_);
  SIGNET_TRY(txn.put(tables_.audit_checkpoints, key, scratch_, MDB_APPEND));
  const std::uint64_t sequence = counters.next_sequence;
  SIGNET_TRY(put_event(txn, w.event, counters));
  outcomes.emplace_back(sequence);
  return base::ok();
}

}  // namespace signet::store
