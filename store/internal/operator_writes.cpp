// BatchWriter's operator writes: operators (with their client-certificate index, whose
// uniqueness is checked here) and API tokens. Each checks everything before it writes, so a
// refusal leaves nothing of its request behind.
#include <algorithm>

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

base::Result<void> BatchWriter::apply(lmdb::Transaction& txn, OperatorWrite& w, Counters& counters,
                                      std::vector<Outcome>& outcomes) {
  const auto& record = w.record;
  const auto key = base::as_bytes(record.name);
  base::Bytes old_fingerprint;
  {
    SIGNET_ASSIGN_OR_RETURN(auto existing, txn.get(tables_.operators, key));
    if (w.create && existing) {
      return refuse(outcomes, Error(ErrorCode::kAlreadyExists,
                                    "an operator named '" + record.name + "' already exists"));
    }
    if (!w.create) {
      if (!existing) {
        return refuse(outcomes, Error(ErrorCode::kNotFound,
                                      "there is no operator named '" + record.name + "'"));
      }
      auto stored = codec::decode_operator(*existing, tables_.operators.name, key);
      if (!stored) return refuse(outcomes, std::move(stored).error());
      old_fingerprint = std::move(stored->certificate_fingerprint);
    }
  }
  return put_operator(txn, record, old_fingerprint, w.event, counters, outcomes);
}

base::Result<void> BatchWriter::apply(lmdb::Transaction& txn, OperatorModifyWrite& w,
                                      Counters& counters, std::vector<Outcome>& outcomes) {
  const auto key = base::as_bytes(w.name);
  SIGNET_ASSIGN_OR_RETURN(auto existing, txn.get(tables_.operators, key));
  if (!existing) {
    return refuse(outcomes,
                  Error(ErrorCode::kNotFound, "there is no operator named '" + w.name + "'"));
  }
  auto stored = codec::decode_operator(*existing, tables_.operators.name, key);
  if (!stored) return refuse(outcomes, std::move(stored).error());
  ca::OperatorRecord record = *stored;
  auto event = (*w.change)(record);
  if (!event) return refuse(outcomes, std::move(event).error());
  if (record.name != w.name) {
    return refuse(outcomes, Error(ErrorCode::kInvalidArgument,
                                  "a change to operator '" + w.name + "' may not rename it"));
  }
  if (auto valid = schema::validate_operator(record); !valid) {
    return refuse(outcomes, std::move(valid).error());
  }
  const std::size_t before = outcomes.size();
  SIGNET_TRY(
      put_operator(txn, record, stored->certificate_fingerprint, *event, counters, outcomes));
  if (outcomes.size() > before && outcomes.back()) *w.written = std::move(record);
  return base::ok();
}

base::Result<void> BatchWriter::put_operator(lmdb::Transaction& txn,
                                             const ca::OperatorRecord& record,
                                             base::ByteView old_fingerprint,
                                             std::optional<ca::AuditEvent>& event,
                                             Counters& counters, std::vector<Outcome>& outcomes) {
  const auto key = base::as_bytes(record.name);
  const auto& fingerprint = record.certificate_fingerprint;
  const bool fingerprint_changes = !std::ranges::equal(fingerprint, old_fingerprint);
  if (!fingerprint.empty() && fingerprint_changes) {
    SIGNET_ASSIGN_OR_RETURN(auto holder, txn.get(tables_.operator_certs, fingerprint));
    if (holder && !std::ranges::equal(*holder, key)) {
      return refuse(outcomes, Error(ErrorCode::kAlreadyExists,
                                    "the client certificate " + base::to_hex(fingerprint) +
                                        " already logs in operator '" +
                                        std::string(base::as_chars(*holder)) + "'"));
    }
  }
  // Checked; now written.
  if (fingerprint_changes && !old_fingerprint.empty()) {
    SIGNET_TRY(txn.del(tables_.operator_certs, old_fingerprint));
  }
  if (fingerprint_changes && !fingerprint.empty()) {
    SIGNET_TRY(txn.put(tables_.operator_certs, fingerprint, key));
  }
  codec::encode(record, scratch_);
  SIGNET_TRY(txn.put(tables_.operators, key, scratch_));
  if (event) SIGNET_TRY(put_event(txn, *event, counters));
  outcomes.emplace_back(std::uint64_t{0});
  return base::ok();
}

base::Result<void> BatchWriter::apply(lmdb::Transaction& txn, OperatorDeleteWrite& w,
                                      Counters& counters, std::vector<Outcome>& outcomes) {
  const auto key = base::as_bytes(w.name);
  base::Bytes fingerprint;
  {
    SIGNET_ASSIGN_OR_RETURN(auto existing, txn.get(tables_.operators, key));
    if (!existing) {
      return refuse(outcomes,
                    Error(ErrorCode::kNotFound, "there is no operator named '" + w.name + "'"));
    }
    auto stored = codec::decode_operator(*existing, tables_.operators.name, key);
    if (!stored) return refuse(outcomes, std::move(stored).error());
    fingerprint = std::move(stored->certificate_fingerprint);
  }
  if (!fingerprint.empty()) {
    // Only this operator's entry: another one's would be corruption, which is not ours to hide.
    SIGNET_ASSIGN_OR_RETURN(auto holder, txn.get(tables_.operator_certs, fingerprint));
    if (holder && std::ranges::equal(*holder, key)) {
      SIGNET_TRY(txn.del(tables_.operator_certs, fingerprint));
    }
  }
  SIGNET_TRY(txn.del(tables_.operators, key));
  if (w.event) SIGNET_TRY(put_event(txn, *w.event, counters));
  outcomes.emplace_back(std::uint64_t{0});
  return base::ok();
}

base::Result<void> BatchWriter::apply(lmdb::Transaction& txn, ApiTokenWrite& w, Counters& counters,
                                      std::vector<Outcome>& outcomes) {
  const auto key = base::as_bytes(w.record.id);
  SIGNET_ASSIGN_OR_RETURN(auto existing, txn.get(tables_.api_tokens, key));
  if (w.create && existing) {
    return refuse(outcomes, Error(ErrorCode::kAlreadyExists,
                                  "an API token with id '" + w.record.id + "' already exists"));
  }
  if (!w.create && !existing) {
    return refuse(outcomes, Error(ErrorCode::kNotFound,
                                  "there is no API token with id '" + w.record.id + "'"));
  }
  codec::encode(w.record, scratch_);
  SIGNET_TRY(txn.put(tables_.api_tokens, key, scratch_));
  if (w.event) SIGNET_TRY(put_event(txn, *w.event, counters));
  outcomes.emplace_back(std::uint64_t{0});
  return base::ok();
}

}  // namespace signet::store
