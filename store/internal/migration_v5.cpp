// Schema version 4 -> 5: signed audit checkpoints (schema.h lists the table). open_tables
// creates audit_checkpoints, so a version-4 store has it empty by now. The step checks that
// whatever it holds decodes under its own sequence, so it may run again.
#include "store/internal/codec.h"
#include "store/internal/schema.h"

namespace signet::store::schema {

base::Result<void> migrate_to_v5(lmdb::Transaction& txn, const Tables& tables) {
  SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn, tables.audit_checkpoints));
  SIGNET_ASSIGN_OR_RETURN(auto entry, cursor.first());
  while (entry) {
    SIGNET_ASSIGN_OR_RETURN(
        auto checkpoint,
        codec::decode_checkpoint(entry->value, tables.audit_checkpoints.name, entry->key));
    if (checkpoint.sequence != id_from(entry->key)) {
      return base::Error(base::ErrorCode::kStorageError,
                         "the audit checkpoint stored at sequence " +
                             std::to_string(id_from(entry->key)) + " names sequence " +
                             std::to_string(checkpoint.sequence));
    }
    SIGNET_ASSIGN_OR_RETURN(entry, cursor.next());
  }
  return base::ok();
}

}  // namespace signet::store::schema
