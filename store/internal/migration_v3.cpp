// Schema version 2 -> 3: the revocation services' tables (schema.h lists them). The revoked
// table is rebuilt from the revoked certificate records, so the step may run again over a
// store that has some or all of it; the CRL tables (stored CRLs, CRL numbers) start empty.
// One cursor walks `certs` while only `revoked` is written.
#include "store/internal/codec.h"
#include "store/internal/schema.h"

namespace signet::store::schema {

base::Result<void> migrate_to_v3(lmdb::Transaction& txn, const Tables& tables) {
  SIGNET_TRY(txn.drop_all(tables.revoked));
  SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn, tables.certs));
  SIGNET_ASSIGN_OR_RETURN(auto entry, cursor.first());
  while (entry) {
    SIGNET_ASSIGN_OR_RETURN(auto record,
                            codec::decode_certificate(entry->value, tables.certs.name, entry->key));
    if (record.revocation && !record.ca_name.empty()) {
      const auto key = revoked_key(record.ca_name, record.serial);
      SIGNET_TRY(txn.put(tables.revoked, key.view(), revoked_value(record).view()));
    }
    SIGNET_ASSIGN_OR_RETURN(entry, cursor.next());
  }
  return base::ok();
}

}  // namespace signet::store::schema
