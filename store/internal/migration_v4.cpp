// Schema version 3 -> 4: operators and API tokens (schema.h lists the tables). open_tables
// creates the three tables, so a version-3 store has them empty by now. The step rebuilds the
// operator_certs index from the operator records, so it may run again over a store that has
// some or all of it (a store whose version record was lost comes through here again).
// One cursor walks `operators` while only `operator_certs` is written.
#include "store/internal/codec.h"
#include "store/internal/schema.h"

namespace signet::store::schema {

base::Result<void> migrate_to_v4(lmdb::Transaction& txn, const Tables& tables) {
  SIGNET_TRY(txn.drop_all(tables.operator_certs));
  SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn, tables.operators));
  SIGNET_ASSIGN_OR_RETURN(auto entry, cursor.first());
  while (entry) {
    SIGNET_ASSIGN_OR_RETURN(
        auto record, codec::decode_operator(entry->value, tables.operators.name, entry->key));
    if (!record.certificate_fingerprint.empty()) {
      auto put = txn.put(tables.operator_certs, record.certificate_fingerprint,
                         base::as_bytes(record.name), MDB_NOOVERWRITE);
      if (!put && put.error().code() == base::ErrorCode::kAlreadyExists) {
        return base::Error(base::ErrorCode::kStorageError,
                           "two operators have the client certificate " +
                               base::to_hex(record.certificate_fingerprint) + " (one is '" +
                               record.name + "')");
      }
      SIGNET_TRY(std::move(put));
    }
    SIGNET_ASSIGN_OR_RETURN(entry, cursor.next());
  }
  return base::ok();
}

}  // namespace signet::store::schema
