#include "store/internal/batch_writer.h"

#include <algorithm>

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
  Counters counters;
  SIGNET_ASSIGN_OR_RETURN(counters.next_id, next_key(txn, tables_.certs));
  SIGNET_ASSIGN_OR_RETURN(counters.next_sequence, next_key(txn, tables_.audit));
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

base::Result<void> BatchWriter::put_event(lmdb::Transaction& txn, const base::Bytes& encoded,
                                          Counters& counters) {
  if (encoded.empty()) return base::ok();
  const auto key = schema::id_key(counters.next_sequence++);
  return txn.put(tables_.audit, key, encoded, MDB_APPEND);
}

base::Result<void> BatchWriter::apply(lmdb::Transaction& txn, CertificateWrite& w,
                                      Counters& counters, std::vector<Outcome>& outcomes) {
  const auto& r = w.record;
  const bool managed = !r.ca_name.empty();
  const auto ca_serial = schema::ca_serial_key(r.ca_name, r.serial);
  // Existence checks first, so that a refused record writes nothing. They see the writes of
  // earlier requests in this batch, which catches duplicates within the batch too.
  if (managed) {
    SIGNET_ASSIGN_OR_RETURN(auto existing, txn.get(tables_.cert_by_ca_serial, ca_serial.view()));
    if (existing) {
      return refuse(outcomes,
                    Error(ErrorCode::kAlreadyExists,
                          "CA '" + r.ca_name + "' already has a certificate with serial " +
                              r.serial.to_hex() + " (id " +
                              std::to_string(schema::id_from(*existing)) + ")"));
    }
  }
  SIGNET_ASSIGN_OR_RETURN(auto known, txn.get(tables_.cert_by_fingerprint, r.fingerprint_sha256));
  if (known) {
    return refuse(
        outcomes,
        Error(ErrorCode::kAlreadyExists,
              "a certificate with SHA-256 fingerprint " + base::to_hex(r.fingerprint_sha256) +
                  " is already recorded (id " + std::to_string(schema::id_from(*known)) + ")"));
  }

  const std::uint64_t id = counters.next_id++;
  const auto key = schema::id_key(id);
  SIGNET_TRY(txn.put(tables_.certs, key, w.encoded, MDB_APPEND));
  if (managed)
    SIGNET_TRY(txn.put(tables_.cert_by_ca_serial, ca_serial.view(), key, MDB_NOOVERWRITE));
  SIGNET_TRY(txn.put(tables_.cert_by_serial, r.serial.magnitude(), key));
  SIGNET_TRY(txn.put(tables_.cert_by_fingerprint, r.fingerprint_sha256, key, MDB_NOOVERWRITE));
  for (const auto& name : w.name_keys) {
    SIGNET_TRY(txn.put(tables_.cert_by_name, base::as_bytes(name), key));
  }
  SIGNET_TRY(
      txn.put(tables_.cert_by_not_after, schema::not_after_key(r.not_after, id), base::ByteView()));
  SIGNET_TRY(put_event(txn, w.encoded_event, counters));
  outcomes.emplace_back(id);
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
  SIGNET_TRY(put_event(txn, w.encoded_event, counters));
  outcomes.emplace_back(revision);
  return base::ok();
}

base::Result<void> BatchWriter::apply(lmdb::Transaction& txn, AuditWrite& w, Counters& counters,
                                      std::vector<Outcome>& outcomes) {
  const std::uint64_t sequence = counters.next_sequence;
  SIGNET_TRY(put_event(txn, w.encoded_event, counters));
  outcomes.emplace_back(sequence);
  return base::ok();
}

}  // namespace signet::store
