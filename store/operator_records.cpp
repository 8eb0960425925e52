// LmdbStore as ca::OperatorDirectory: writes through the batch writer
// (store/internal/operator_writes.cpp), reads in their own read transactions.
#include <algorithm>

#include "store/internal/store_impl.h"

namespace signet::store {

namespace {

using base::Error;
using base::ErrorCode;

base::Result<void> wait(std::future<base::Result<std::uint64_t>> future) {
  auto done = future.get();
  if (!done) return std::move(done).error();
  return base::ok();
}

}  // namespace

base::Result<void> LmdbStore::create_operator(const ca::OperatorRecord& record,
                                              std::optional<ca::AuditEvent> event) {
  SIGNET_TRY(schema::validate_operator(record));
  return wait(impl_->writer->submit(OperatorWrite{record, /*create=*/true, std::move(event)}));
}

base::Result<void> LmdbStore::update_operator(const ca::OperatorRecord& record,
                                              std::optional<ca::AuditEvent> event) {
  SIGNET_TRY(schema::validate_operator(record));
  return wait(impl_->writer->submit(OperatorWrite{record, /*create=*/false, std::move(event)}));
}

base::Result<ca::OperatorRecord> LmdbStore::modify_operator(std::string_view name,
                                                            const ca::OperatorChange& change) {
  SIGNET_TRY(ca::validate_operator_name(name));
  ca::OperatorRecord written;
  SIGNET_TRY(
      wait(impl_->writer->submit(OperatorModifyWrite{std::string(name), &change, &written})));
  return written;
}

base::Result<void> LmdbStore::delete_operator(std::string_view name,
                                              std::optional<ca::AuditEvent> event) {
  SIGNET_TRY(ca::validate_operator_name(name));
  return wait(impl_->writer->submit(OperatorDeleteWrite{std::string(name), std::move(event)}));
}

base::Result<std::optional<ca::OperatorRecord>> LmdbStore::find_operator(std::string_view name) {
  using Found = std::optional<ca::OperatorRecord>;
  if (!ca::validate_operator_name(name)) return Found();
  const auto key = base::as_bytes(name);
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  SIGNET_ASSIGN_OR_RETURN(auto value, txn.get(impl_->tables.operators, key));
  if (!value) return Found();
  SIGNET_ASSIGN_OR_RETURN(auto record,
                          codec::decode_operator(*value, impl_->tables.operators.name, key));
  return Found(std::move(record));
}

base::Result<std::optional<ca::OperatorRecord>> LmdbStore::find_operator_by_certificate(
    base::ByteView fingerprint) {
  using Found = std::optional<ca::OperatorRecord>;
  if (fingerprint.size() != 32) {
    return Error(ErrorCode::kInvalidArgument,
                 "a SHA-256 fingerprint has 32 bytes, not " + std::to_string(fingerprint.size()));
  }
  const auto& tables = impl_->tables;
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  SIGNET_ASSIGN_OR_RETURN(auto name, txn.get(tables.operator_certs, fingerprint));
  if (!name) return Found();
  const std::string operator_name(base::as_chars(*name));
  SIGNET_ASSIGN_OR_RETURN(auto value, txn.get(tables.operators, *name));
  if (!value) {
    return Error(ErrorCode::kStorageError, "the index 'operator_certs' points to operator '" +
                                               operator_name + "', which does not exist");
  }
  SIGNET_ASSIGN_OR_RETURN(auto record,
                          codec::decode_operator(*value, tables.operators.name, *name));
  // A login is decided by this answer: an index entry the record does not back is refused.
  if (!std::ranges::equal(record.certificate_fingerprint, fingerprint)) {
    return Error(ErrorCode::kStorageError, "the index 'operator_certs' points to operator '" +
                                               operator_name +
                                               "', whose record does not carry that certificate");
  }
  return Found(std::move(record));
}

base::Result<std::vector<ca::OperatorRecord>> LmdbStore::list_operators() {
  std::vector<ca::OperatorRecord> out;
  const auto& table = impl_->tables.operators;
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn, table));
  SIGNET_ASSIGN_OR_RETURN(auto entry, cursor.first());
  while (entry) {
    SIGNET_ASSIGN_OR_RETURN(auto record,
                            codec::decode_operator(entry->value, table.name, entry->key));
    out.push_back(std::move(record));
    SIGNET_ASSIGN_OR_RETURN(entry, cursor.next());
  }
  return out;
}

base::Result<void> LmdbStore::create_api_token(const ca::ApiTokenRecord& record,
                                               std::optional<ca::AuditEvent> event) {
  SIGNET_TRY(schema::validate_api_token(record));
  return wait(impl_->writer->submit(ApiTokenWrite{record, /*create=*/true, std::move(event)}));
}

base::Result<void> LmdbStore::update_api_token(const ca::ApiTokenRecord& record,
                                               std::optional<ca::AuditEvent> event) {
  SIGNET_TRY(schema::validate_api_token(record));
  return wait(impl_->writer->submit(ApiTokenWrite{record, /*create=*/false, std::move(event)}));
}

base::Result<std::optional<ca::ApiTokenRecord>> LmdbStore::find_api_token(std::string_view id) {
  using Found = std::optional<ca::ApiTokenRecord>;
  if (!schema::is_api_token_id(id)) return Found();
  const auto key = base::as_bytes(id);
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  SIGNET_ASSIGN_OR_RETURN(auto value, txn.get(impl_->tables.api_tokens, key));
  if (!value) return Found();
  SIGNET_ASSIGN_OR_RETURN(auto record,
                          codec::decode_api_token(*value, impl_->tables.api_tokens.name, key));
  return Found(std::move(record));
}

base::Result<std::vector<ca::ApiTokenRecord>> LmdbStore::list_api_tokens() {
  std::vector<ca::ApiTokenRecord> out;
  const auto& table = impl_->tables.api_tokens;
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn, table));
  SIGNET_ASSIGN_OR_RETURN(auto entry, cursor.first());
  while (entry) {
    SIGNET_ASSIGN_OR_RETURN(auto record,
                            codec::decode_api_token(entry->value, table.name, entry->key));
    out.push_back(std::move(record));
    SIGNET_ASSIGN_OR_RETURN(entry, cursor.next());
  }
  return out;
}

}  // namespace signet::store
