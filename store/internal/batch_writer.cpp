#include "store/internal/batch_writer.h"

#include <algorithm>

#include "ca/audit.h"
#include "store/internal/codec.h"

namespace signet::store {

namespace {

using base::Error;
using base::ErrorCode;

// The key after the last key of an id-ordered table, 1 when it is empty.
base::Result<std::uint64_t> next_key(lmdb::Transaction& txn, const lmdb::Table& table) {
  SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn, table));
  SIGNET_ASSIGN_OR_RETURN(auto last, cursor.last());
  if (!last) return std::uint64_t{1};
  return schema::id_from(last->key) + 1;
}

// Records a request's own failure; the transaction goes on.
base::Result<void> refuse(std::vector<base::Result<std::uint64_t>>& outcomes, Error error) {
  outcomes.emplace_back(std::move(error));
  return base::ok();
}

}  // namespace

BatchWriter::BatchWriter(lmdb::Environment& env, const schema::Tables& tables,
                         BatchWriterOptions options)
    : env_(env), tables_(tables), options_(options), thread_([this] { run(); }) {}

BatchWriter::~BatchWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_one();
  thread_.join();
}

std::future<base::Result<std::uint64_t>> BatchWriter::submit(WriteOp op) {
  Request request{std::move(op), {}};
  auto future = request.done.get_future();
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      request.done.set_value(Error(ErrorCode::kUnavailable, "the store is closing"));
      return future;
    }
    queue_.push_back(std::move(request));
  }
  work_ready_.notify_one();
  return future;
}

void BatchWriter::run() {
  std::vector<Request> batch;
  batch.reserve(options_.max_batch);
  std::size_t previous_batch = 0;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      work_ready_.wait(lock, [this] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;  // stopping, and everything queued is done
      if (previous_batch > 1 && queue_.size() < options_.linger_batch) {
        work_ready_.wait_for(lock, options_.linger, [this] {
          return queue_.size() >= options_.linger_batch || stopping_;
        });
      }
      const std::size_t n = std::min(queue_.size(), options_.max_batch);
      for (std::size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    previous_batch = batch.size();
    commit_batch(batch);
    batch.clear();
  }
}

void BatchWriter::commit_batch(std::vector<Request>& batch) {
  std::vector<Outcome> outcomes;
  outcomes.reserve(batch.size());
  base::Result<void> committed;
  for (int attempt = 0;; ++attempt) {
    bool map_full = false;
    committed = try_commit(batch, outcomes, map_full);
    if (committed || !map_full || attempt >= 8) break;
    // The transaction is gone (aborted in try_commit): safe to remap, then replay.
    if (auto grown = grow_map(); !grown) {
      committed = std::move(grown).error();
      break;
    }
  }
  if (!committed) {
    for (auto& request : batch) request.done.set_value(committed.error());
    return;
  }
  std::uint64_t certificates = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (outcomes[i] && std::holds_alternative<CertificateWrite>(batch[i].op)) ++certificates;
  }
  commits_.fetch_add(1, std::memory_order_relaxed);
  records_committed_.fetch_add(certificates, std::memory_order_relaxed);
  if (batch.size() > largest_batch_.load(std::memory_order_relaxed)) {
    largest_batch_.store(batch.size(), std::memory_order_relaxed);
  }
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done.set_value(std::move(outcomes[i]));
}

base::Result<void> BatchWriter::try_commit(std::vector<Request>& batch,
                                           std::vector<Outcome>& outcomes, bool& map_full) {
  outcomes.clear();
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_write(env_));
  SIGNET_ASSIGN_OR_RETURN(auto counters, read_counters(txn));
  for (auto& request : batch) {
    auto applied =
        std::visit([&](auto& op) { return apply(txn, op, counters, outcomes); }, request.op);
    if (!applied) {
      map_full = txn.hit_map_full();
      return std::move(applied).error();  // txn aborts on return: nothing is written
    }
  }
  auto committed = txn.commit();
  map_full = txn.hit_map_full();
  return committed;
}

base::Result<BatchWriter::Counters> BatchWriter::read_counters(lmdb::Transaction& txn) {
  Counters counters;
  SIGNET_ASSIGN_OR_RETURN(counters.next_id, next_key(txn, tables_.certs));
  SIGNET_ASSIGN_OR_RETURN(counters.next_revocation, next_key(txn, tables_.revocations));
  SIGNET_ASSIGN_OR_RETURN(counters.next_order, next_key(txn, tables_.orders));
  SIGNET_ASSIGN_OR_RETURN(counters.next_alert, next_key(txn, tables_.alerts));
  SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn, tables_.audit));
  SIGNET_ASSIGN_OR_RETURN(auto last, cursor.last());
  if (!last) {
    counters.audit_head.assign(ca::kAuditHashSize, 0);
    return counters;
  }
  counters.next_sequence = schema::id_from(last->key) + 1;
  SIGNET_ASSIGN_OR_RETURN(auto event,
                          codec::decode_audit(last->value, tables_.audit.name, last->key));
  if (event.hash.size() != ca::kAuditHashSize) {
    return Error(ErrorCode::kStorageError, "the last audit entry (" +
                                               std::to_string(counters.next_sequence - 1) +
                                               ") has no hash to chain the next entry to");
  }
  counters.audit_head = std::move(event.hash);
  return counters;
}

base::Result<void> BatchWriter::grow_map() {
  const std::size_t current = env_.map_size();
  if (current >= options_.max_map_size) {
    return Error(ErrorCode::kStorageFull,
                 "the store at '" + env_.path().string() + "' reached its maximum size of " +
                     std::to_string(options_.max_map_size) + " bytes; nothing was written");
  }
  const std::size_t target = std::min(current * 2, options_.max_map_size);
  SIGNET_TRY(env_.grow(target));
  map_resizes_.fetch_add(1, std::memory_order_relaxed);
  return base::ok();
}

base::Result<void> BatchWriter::put_event(lmdb::Transaction& txn, ca::AuditEvent& event,
                                          Counters& counters) {
  event.sequence = counters.next_sequence;
  event.previous_hash = counters.audit_head;
  event.hash = ca::audit_entry_hash(event, event.previous_hash);
  codec::encode(event, scratch_);
  SIGNET_TRY(txn.put(tables_.audit, schema::id_key(event.sequence), scratch_, MDB_APPEND));
  ++counters.next_sequence;
  counters.audit_head = event.hash;
  return base::ok();
}

base::Result<void> BatchWriter::put_events(lmdb::Transaction& txn,
                                           std::vector<ca::AuditEvent>& events,
                                           Counters& counters) {
  for (auto& event : events) SIGNET_TRY(put_event(txn, event, counters));
  return base::ok();
}

base::Result<void> BatchWriter::apply(lmdb::Transaction& txn, CaWrite& w, Counters& counters,
                                      std::vector<Outcome>& outcomes) {
  const auto name = base::as_bytes(w.record.name);
  SIGNET_ASSIGN_OR_RETURN(auto existing, txn.get(tables_.cas, name));
  std::uint64_t revision = w.record.revision;
  if (w.create) {
    if (existing) {
      return refuse(outcomes, Error(ErrorCode::kAlreadyExists,
                                    "a CA named '" + w.record.name + "' already exists"));
    }
    codec::encode(w.record, scratch_);
  } else {
    if (!existing) {
      return refuse(outcomes,
                    Error(ErrorCode::kNotFound, "there is no CA named '" + w.record.name + "'"));
    }
    auto stored = codec::decode_ca(*existing, tables_.cas.name, name);
    if (!stored) return refuse(outcomes, std::move(stored).error());
    if (stored->revision != w.record.revision) {
      return refuse(outcomes,
                    Error(ErrorCode::kConflict,
                          "the CA '" + w.record.name + "' was changed meanwhile (revision " +
                              std::to_string(stored->revision) + ", the update was based on " +
                              std::to_string(w.record.revision) + "); reload it and retry"));
    }
    revision = stored->revision + 1;
    ca::CaRecord updated = w.record;
    updated.revision = revision;
    codec::encode(updated, scratch_);
  }
  SIGNET_TRY(txn.put(tables_.cas, name, scratch_, w.create ? MDB_NOOVERWRITE : 0));
  if (w.event) SIGNET_TRY(put_event(txn, *w.event, counters));
  outcomes.emplace_back(revision);
  return base::ok();
}

base::Result<void> BatchWriter::apply(lmdb::Transaction& txn, AuditWrite& w, Counters& counters,
                                      std::vector<Outcome>& outcomes) {
  const std::uint64_t sequence = counters.next_sequence;
  SIGNET_TRY(put_event(txn, w.event, counters));
  outcomes.emplace_back(sequence);
  return base::ok();
}

}  // namespace signet::store
