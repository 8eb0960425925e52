// MemoryStore as ca::OperatorDirectory: the LMDB store's contract (store/lmdb_store.h) with
// the same checks, by brute force (the certificate lookup scans the operators).
#include <algorithm>

#include "tests/support/memory_store.h"

namespace signet::test {

using base::Error;
using base::ErrorCode;

namespace {

base::Result<void> validate(const ca::OperatorRecord& record) {
  SIGNET_TRY(ca::validate_operator_name(record.name));
  const std::size_t size = record.certificate_fingerprint.size();
  if (size != 0 && size != 32) {
    return Error(ErrorCode::kInvalidArgument, "the certificate fingerprint of operator '" +
                                                  record.name + "' has " + std::to_string(size) +
                                                  " bytes; a SHA-256 fingerprint has 32");
  }
  return base::ok();
}

bool is_api_token_id(std::string_view id) {
  return id.size() == 16 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

base::Result<void> validate(const ca::ApiTokenRecord& record) {
  if (!is_api_token_id(record.id)) {
    return Error(ErrorCode::kInvalidArgument,
                 "the API token id is not 16 lower-case hex characters");
  }
  if (record.secret_hash.size() != 32) {
    return Error(ErrorCode::kInvalidArgument,
                 "the secret hash of API token '" + record.id + "' is not 32 bytes");
  }
  return base::ok();
}

}  // namespace

base::Result<void> MemoryStore::check_certificate_locked(const ca::OperatorRecord& record) const {
  if (record.certificate_fingerprint.empty()) return base::ok();
  for (const auto& [name, other] : operators_) {
    if (name != record.name && other.certificate_fingerprint == record.certificate_fingerprint) {
      return Error(ErrorCode::kAlreadyExists, "the client certificate " +
                                                  base::to_hex(record.certificate_fingerprint) +
                                                  " already logs in operator '" + name + "'");
    }
  }
  return base::ok();
}

base::Result<void> MemoryStore::create_operator(const ca::OperatorRecord& record,
                                                std::optional<ca::AuditEvent> event) {
  SIGNET_TRY(validate(record));
  std::lock_guard lock(mutex_);
  if (operators_.count(record.name) != 0) {
    return Error(ErrorCode::kAlreadyExists,
                 "an operator named '" + record.name + "' already exists");
  }
  SIGNET_TRY(check_certificate_locked(record));
  operators_.emplace(record.name, record);
  if (event) append_locked(std::move(*event));
  return base::ok();
}

base::Result<void> MemoryStore::update_operator(const ca::OperatorRecord& record,
                                                std::optional<ca::AuditEvent> event) {
  SIGNET_TRY(validate(record));
  std::lock_guard lock(mutex_);
  auto it = operators_.find(record.name);
  if (it == operators_.end()) {
    return Error(ErrorCode::kNotFound, "there is no operator named '" + record.name + "'");
  }
  SIGNET_TRY(check_certificate_locked(record));
  it->second = record;
  if (event) append_locked(std::move(*event));
  return base::ok();
}

base::Result<ca::OperatorRecord> MemoryStore::modify_operator(std::string_view name,
                                                              const ca::OperatorChange& change) {
  std::lock_guard lock(mutex_);
  auto it = operators_.find(name);
  if (it == operators_.end()) {
    return Error(ErrorCode::kNotFound, "there is no operator named '" + std::string(name) + "'");
  }
  ca::OperatorRecord record = it->second;
  SIGNET_ASSIGN_OR_RETURN(auto event, change(record));
  if (record.name != name) {
    return Error(ErrorCode::kInvalidArgument,
                 "a change to operator '" + std::string(name) + "' may not rename it");
  }
  SIGNET_TRY(validate(record));
  SIGNET_TRY(check_certificate_locked(record));
  it->second = record;
  if (event) append_locked(std::move(*event));
  return record;
}

base::Result<void> MemoryStore::delete_operator(std::string_view name,
                                                std::optional<ca::AuditEvent> event) {
  SIGNET_TRY(ca::validate_operator_name(name));
  std::lock_guard lock(mutex_);
  auto it = operators_.find(name);
  if (it == operators_.end()) {
    return Error(ErrorCode::kNotFound, "there is no operator named '" + std::string(name) + "'");
  }
  operators_.erase(it);
  if (event) append_locked(std::move(*event));
  return base::ok();
}

base::Result<std::optional<ca::OperatorRecord>> MemoryStore::find_operator(std::string_view name) {
  std::lock_guard lock(mutex_);
  auto it = operators_.find(name);
  if (it == operators_.end()) return std::optional<ca::OperatorRecord>();
  return std::optional(it->second);
}

base::Result<std::optional<ca::OperatorRecord>> MemoryStore::find_operator_by_certificate(
    base::ByteView fingerprint) {
  if (fingerprint.size() != 32) {
    return Error(ErrorCode::kInvalidArgument,
                 "a SHA-256 fingerprint has 32 bytes, not " + std::to_string(fingerprint.size()));
  }
  std::lock_guard lock(mutex_);
  for (const auto& [name, record] : operators_) {
    if (std::ranges::equal(record.certificate_fingerprint, fingerprint)) {
      return std::optional(record);
    }
  }
  return std::optional<ca::OperatorRecord>();
}

base::Result<std::vector<ca::OperatorRecord>> MemoryStore::list_operators() {
  std::lock_guard lock(mutex_);
  std::vector<ca::OperatorRecord> out;
  for (const auto& [name, record] : operators_) out.push_back(record);
  return out;
}

base::Result<void> MemoryStore::create_api_token(const ca::ApiTokenRecord& record,
                                                 std::optional<ca::AuditEvent> event) {
  SIGNET_TRY(validate(record));
  std::lock_guard lock(mutex_);
  if (!api_tokens_.emplace(record.id, record).second) {
    return Error(ErrorCode::kAlreadyExists,
                 "an API token with id '" + record.id + "' already exists");
  }
  if (event) append_locked(std::move(*event));
  return base::ok();
}

base::Result<void> MemoryStore::update_api_token(const ca::ApiTokenRecord& record,
                                                 std::optional<ca::AuditEvent> event) {
  SIGNET_TRY(validate(record));
  std::lock_guard lock(mutex_);
  auto it = api_tokens_.find(record.id);
  if (it == api_tokens_.end()) {
    return Error(ErrorCode::kNotFound, "there is no API token with id '" + record.id + "'");
  }
  it->second = record;
  if (event) append_locked(std::move(*event));
  return base::ok();
}

base::Result<std::optional<ca::ApiTokenRecord>> MemoryStore::find_api_token(std::string_view id) {
  std::lock_guard lock(mutex_);
  auto it = api_tokens_.find(id);
  if (it == api_tokens_.end()) return std::optional<ca::ApiTokenRecord>();
  return std::optional(it->second);
}

base::Result<std::vector<ca::ApiTokenRecord>> MemoryStore::list_api_tokens() {
  std::lock_guard lock(mutex_);
  std::vector<ca::ApiTokenRecord> out;
  for (const auto& [id, record] : api_tokens_) out.push_back(record);
  return out;
}

}  // namespace signet::test
