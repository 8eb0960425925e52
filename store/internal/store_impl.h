// LmdbStore's insides, shared by its .cpp files (lmdb_store.cpp, inventory_queries.cpp,
// lifecycle_records.cpp, operator_records.cpp, backup.cpp, integrity.cpp).
// Thread-safety as LmdbStore: env and tables are immutable after open; writer is thread-safe.
#pragma once

#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/internal/batch_writer.h"
#include "store/internal/codec.h"
#include "store/internal/lmdb.h"
#include "store/internal/schema.h"
#include "store/lmdb_store.h"

namespace signet::store {

inline base::Error dangling(const lmdb::Table& index, std::uint64_t id) {
  return base::Error(base::ErrorCode::kStorageError,
                     "the index '" + std::string(index.name) + "' points to certificate id " +
                         std::to_string(id) + ", which does not exist");
}

// The environment, its tables and the writer. Destruction order matters: the writer (last
// member) stops first, the environment (first member) closes last.
struct LmdbStore::Impl {
  std::unique_ptr<lmdb::Environment> env;
  schema::Tables tables;
  std::unique_ptr<BatchWriter> writer;

  base::Result<std::optional<ca::CertificateRecord>> load(lmdb::Transaction& txn,
                                                          std::uint64_t id) {
    const auto key = schema::id_key(id);
    SIGNET_ASSIGN_OR_RETURN(auto value, txn.get(tables.certs, key));
    if (!value) return std::optional<ca::CertificateRecord>();
    SIGNET_ASSIGN_OR_RETURN(auto record, codec::decode_certificate(*value, tables.certs.name, key));
    record.id = id;
    return std::optional<ca::CertificateRecord>(std::move(record));
  }

  // Loads a record an index points to; a missing one is a corrupt store.
  base::Result<ca::CertificateRecord> load_indexed(lmdb::Transaction& txn, const lmdb::Table& index,
                                                   base::ByteView id_value) {
    const std::uint64_t id = schema::id_from(id_value);
    SIGNET_ASSIGN_OR_RETURN(auto record, load(txn, id));
    if (!record) return dangling(index, id);
    return std::move(*record);
  }

  // Every record whose id is a value of `key` in the dupsort `index`.
  base::Result<std::vector<ca::CertificateRecord>> load_all(lmdb::Transaction& txn,
                                                            const lmdb::Table& index,
                                                            base::ByteView key) {
    std::vector<ca::CertificateRecord> out;
    SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn, index));
    SIGNET_ASSIGN_OR_RETURN(auto entry, cursor.find(key));
    while (entry) {
      SIGNET_ASSIGN_OR_RETURN(auto record, load_indexed(txn, index, entry->value));
      out.push_back(std::move(record));
      SIGNET_ASSIGN_OR_RETURN(entry, cursor.next_dup());
    }
    return out;
  }

  std::future<base::Result<std::uint64_t>> ready(base::Result<std::uint64_t> result) {
    std::promise<base::Result<std::uint64_t>> promise;
    promise.set_value(std::move(result));
    return promise.get_future();
  }
};

}  // namespace signet::store
