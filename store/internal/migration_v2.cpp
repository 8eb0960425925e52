// Schema version 1 -> 2: the certificate lifecycle's indexes and tables (schema.h lists them),
// the revocation sequence, and the audit hash chain over the entries written before it.
//
// Everything is rebuilt from the records, so the step is idempotent: it may run over a store
// that already has some or all of it (an interrupted upgrade never commits, but a store whose
// version record was lost comes through here again). Tables are read in chunks and written
// between them, so no cursor is open on a table while it is written.
#include <algorithm>

#include "ca/audit.h"
#include "store/internal/codec.h"
#include "store/internal/schema.h"

namespace signet::store::schema {

namespace {

constexpr std::size_t kChunk = 1024;

struct Row {
  base::Bytes key;
  base::Bytes value;
};

// Calls fn(rows) for consecutive chunks of `table`, in key order, with no cursor open.
template <typename Fn>
base::Result<void> for_each_chunk(lmdb::Transaction& txn, const lmdb::Table& table, Fn&& fn) {
  base::Bytes after;
  bool first = true;
  while (true) {
    std::vector<Row> rows;
    {
      SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn, table));
      std::optional<lmdb::Entry> entry;
      if (first) {
        SIGNET_ASSIGN_OR_RETURN(entry, cursor.first());
      } else {
        SIGNET_ASSIGN_OR_RETURN(entry, cursor.seek(after));
        if (entry && std::ranges::equal(entry->key, after)) {
          SIGNET_ASSIGN_OR_RETURN(entry, cursor.next());
        }
      }
      while (entry && rows.size() < kChunk) {
        rows.push_back(Row{{entry->key.begin(), entry->key.end()},
                           {entry->value.begin(), entry->value.end()}});
        SIGNET_ASSIGN_OR_RETURN(entry, cursor.next());
      }
    }
    if (rows.empty()) return base::ok();
    first = false;
    after = rows.back().key;
    SIGNET_TRY(fn(rows));
  }
}

base::Result<void> index_certificate(lmdb::Transaction& txn, const Tables& t,
                                     const ca::CertificateRecord& r) {
  const auto key = id_key(r.id);
  SIGNET_TRY(txn.put(t.cert_by_serial, serial_key(r.serial), key));
  const auto not_after = not_after_key(r.not_after, r.id);
  SIGNET_TRY(txn.put(t.cert_by_not_before, not_after_key(r.not_before, r.id), base::ByteView()));
  SIGNET_TRY(txn.put(t.cert_by_cn, cn_sort_key(r.common_name, r.id), base::ByteView()));
  SIGNET_TRY(txn.put(t.cert_by_ca, prefixed_key(r.ca_name, not_after), base::ByteView()));
  if (!r.profile.empty()) {
    SIGNET_TRY(txn.put(t.cert_by_profile, prefixed_key(r.profile, not_after), base::ByteView()));
  }
  for (const auto& name : dns_keys(r))
    SIGNET_TRY(txn.put(t.cert_by_dns, base::as_bytes(name), key));
  if (auto location = key_location_key(r)) SIGNET_TRY(txn.put(t.cert_by_key, *location, key));
  return base::ok();
}

base::Result<void> rebuild_certificate_indexes(lmdb::Transaction& txn, const Tables& t) {
  for (const auto* table : {&t.cert_by_serial, &t.cert_by_not_before, &t.cert_by_cn, &t.cert_by_ca,
                            &t.cert_by_profile, &t.cert_by_dns, &t.cert_by_key, &t.revocations}) {
    SIGNET_TRY(txn.drop_all(*table));
  }
  // Revocations keep a sequence they already have; the others get the next ones, in id order.
  std::uint64_t next_revocation = 1;
  SIGNET_TRY(for_each_chunk(txn, t.certs, [&](std::vector<Row>& rows) -> base::Result<void> {
    for (const auto& row : rows) {
      SIGNET_ASSIGN_OR_RETURN(auto r, codec::decode_certificate(row.value, t.certs.name, row.key));
      if (r.revocation) next_revocation = std::max(next_revocation, r.revocation->sequence + 1);
    }
    return base::ok();
  }));
  base::Bytes encoded;
  return for_each_chunk(txn, t.certs, [&](std::vector<Row>& rows) -> base::Result<void> {
    for (const auto& row : rows) {
      SIGNET_ASSIGN_OR_RETURN(auto r, codec::decode_certificate(row.value, t.certs.name, row.key));
      r.id = id_from(row.key);
      SIGNET_TRY(index_certificate(txn, t, r));
      if (!r.revocation) continue;
      if (r.revocation->sequence == 0) {
        r.revocation->sequence = next_revocation++;
        codec::encode(r, encoded);
        SIGNET_TRY(txn.put(t.certs, row.key, encoded));
      }
      SIGNET_TRY(txn.put(t.revocations, id_key(r.revocation->sequence), row.key));
    }
    return base::ok();
  });
}

// Recomputes every entry's previous_hash and hash, in sequence order.
base::Result<void> chain_audit_log(lmdb::Transaction& txn, const Tables& t) {
  base::Bytes head(ca::kAuditHashSize, 0);
  base::Bytes encoded;
  return for_each_chunk(txn, t.audit, [&](std::vector<Row>& rows) -> base::Result<void> {
    for (const auto& row : rows) {
      SIGNET_ASSIGN_OR_RETURN(auto event, codec::decode_audit(row.value, t.audit.name, row.key));
      event.sequence = id_from(row.key);
      event.previous_hash = head;
      event.hash = ca::audit_entry_hash(event, head);
      head = event.hash;
      codec::encode(event, encoded);
      SIGNET_TRY(txn.put(t.audit, row.key, encoded));
    }
    return base::ok();
  });
}

}  // namespace

base::Result<void> migrate_to_v2(lmdb::Transaction& txn, const Tables& tables) {
  SIGNET_TRY(rebuild_certificate_indexes(txn, tables));
  return chain_audit_log(txn, tables);
}

}  // namespace signet::store::schema
