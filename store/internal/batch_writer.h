// BatchWriter: the store's one writer thread and its group commit.
//
// Every write to the store (certificates, revocations, CA records, profiles, orders, alerts,
// audit events and checkpoints, CRL numbers and CRLs, operators and API tokens) is queued
// here. The writer thread takes everything queued (up to max_batch requests) into ONE write
// transaction, applies each request, commits with fsync, and only then completes each request's
// future. So one fsync covers many issuances, and throughput comes from concurrency rather than
// from skipping durability.
//
// Within a batch each request succeeds or fails alone: existence checks (serial per CA,
// fingerprint, CA name, revisions and versions, predecessor rules, "already revoked", operator
// names, operator certificates, API token ids) happen before anything of that request is
// written, and see
// the earlier requests of the same batch, so a duplicate fails with kAlreadyExists while its
// neighbours commit. A failure of the transaction itself (a full disk at commit, an I/O error)
// fails every request of the batch and writes nothing. When the map fills up (MDB_MAP_FULL) the
// writer aborts, grows the map (doubling, up to max_map_size) and replays the batch: ids and
// sequence numbers are assigned inside the transaction, so the replay assigns the same ones.
//
// Thread-safety: submit() may be called from any thread. mutex_ guards queue_ and stopping_;
// everything else is touched only by the writer thread, except the statistics (atomics). The
// destructor finishes what is queued, then joins the thread; submissions after that fail with
// kUnavailable.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "ca/operators.h"
#include "ca/records.h"
#include "store/internal/lmdb.h"
#include "store/internal/schema.h"

namespace signet::store {

// A certificate commit ready to write: the commit, and the record's encoding and index keys,
// prepared by the submitting thread so that the writer thread mostly does B-tree work. (The
// record is re-encoded in the writer only when it arrives revoked: the revocation's sequence
// is assigned there.)
struct CertificateWrite {
  ca::CertificateCommit commit;
  base::Bytes encoded;
  std::vector<std::string> name_keys;
  std::vector<std::string> dns_keys;
  base::Bytes cn_prefix;  // schema::cn_sort_key without its 8-byte id
  std::optional<base::Bytes> key_location;
};
struct CaWrite {
  ca::CaRecord record;
  bool create = false;  // false: update (revision-checked)
  std::optional<ca::AuditEvent> event;
};
struct AuditWrite {
  ca::AuditEvent event;
};
struct RevocationWrite {  // completes with the revocation's sequence
  ca::RevocationCommit commit;
};
struct ProfileWrite {  // completes with the stored version
  ca::Profile profile;
  bool create = false;  // false: update (version-checked)
  std::optional<ca::AuditEvent> event;
};
struct OrderWrite {  // completes with the order's id (create) or its new revision (update)
  ca::Order order;
  bool create = false;  // false: update (revision-checked)
  std::vector<ca::AuditEvent> events;
  std::optional<ca::Alert> alert;
};
struct AlertWrite {  // completes with the alert's id, or the open duplicate's
  ca::Alert alert;
  std::optional<ca::AuditEvent> event;  // written only when the alert is raised
};
struct AcknowledgeWrite {  // completes with the alert's id
  std::uint64_t id = 0;
  std::string by;
  base::TimePoint at{};
  std::optional<ca::AuditEvent> event;  // written only when this acknowledges it
};
struct CrlNumberWrite {  // completes with the number handed out
  std::string ca_name;
};
struct CrlWrite {  // completes with 0
  // The caller's CRL, not a copy (its DER may be tens of MB): the caller waits for the write
  // to complete, so it outlives the request, replays included.
  const ca::CrlRecord* crl = nullptr;
  base::Bytes encoded;  // codec-encoded metadata, prepared by the caller
  std::optional<ca::AuditEvent> event;
  std::size_t keep = 1;  // CRLs of its kind kept for the CA (>= 1)
};
struct OperatorWrite {  // completes with 0
  ca::OperatorRecord record;
  bool create = false;  // false: update (the operator must exist)
  std::optional<ca::AuditEvent> event;
};
struct OperatorModifyWrite {  // completes with 0; the record as written goes to `*written`
  std::string name;
  // The caller's change and result, not copies: the caller waits for the write to complete, so
  // they outlive the request, replays included.
  const ca::OperatorChange* change = nullptr;
  ca::OperatorRecord* written = nullptr;
};
struct OperatorDeleteWrite {  // completes with 0
  std::string name;
  std::optional<ca::AuditEvent> event;
};
struct ApiTokenWrite {  // completes with 0
  ca::ApiTokenRecord record;
  bool create = false;  // false: update (the token must exist)
  std::optional<ca::AuditEvent> event;
};
struct CheckpointWrite {  // completes with the sequence of the checkpoint's audit event
  ca::AuditCheckpoint checkpoint;
  ca::AuditEvent event;
};
using WriteOp =
    std::variant<CertificateWrite, CaWrite, AuditWrite, RevocationWrite, ProfileWrite, OrderWrite,
                 AlertWrite, AcknowledgeWrite, CrlNumberWrite, CrlWrite, OperatorWrite,
                 OperatorModifyWrite, OperatorDeleteWrite, ApiTokenWrite, CheckpointWrite>;

struct BatchWriterOptions {
  std::size_t max_batch = 1024;
  // Under concurrent load (the previous batch held more than one request), the writer waits
  // up to `linger` for `linger_batch` requests before committing: a fraction of a commit's
  // latency buys fewer fsyncs and page writes per record. A lone request never waits.
  std::chrono::microseconds linger{300};
  std::size_t linger_batch = 16;
  std::size_t max_map_size = std::size_t{1} << 40;
};

class BatchWriter {
 public:
  // `env` and `tables` must outlive the writer.
  BatchWriter(lmdb::Environment& env, const schema::Tables& tables, BatchWriterOptions options);
  ~BatchWriter();
  BatchWriter(const BatchWriter&) = delete;
  BatchWriter& operator=(const BatchWriter&) = delete;

  // Completes with what each WriteOp names: the certificate's id, the audit event's sequence
  // number, the CA's stored revision...
  std::future<base::Result<std::uint64_t>> submit(WriteOp op);

  std::uint64_t commits() const { return commits_.load(std::memory_order_relaxed); }
  std::uint64_t records_committed() const {
    return records_committed_.load(std::memory_order_relaxed);
  }
  std::uint64_t map_resizes() const { return map_resizes_.load(std::memory_order_relaxed); }
  std::size_t largest_batch() const { return largest_batch_.load(std::memory_order_relaxed); }

 private:
  struct Request {
    WriteOp op;
    std::promise<base::Result<std::uint64_t>> done;
  };
  using Outcome = base::Result<std::uint64_t>;
  // The ids and sequence numbers the next request of the transaction gets, and the head of
  // the audit hash chain.
  struct Counters {
    std::uint64_t next_id = 1;
    std::uint64_t next_sequence = 1;
    base::Bytes audit_head;  // the last entry's hash; 32 zero bytes for an empty log
    std::uint64_t next_revocation = 1;
    std::uint64_t next_order = 1;
    std::uint64_t next_alert = 1;
  };
  // A request's own refusal (the transaction goes on), or nothing.
  using Refusal = std::optional<base::Error>;

  void run();
  void commit_batch(std::vector<Request>& batch);
  // Applies the batch in one transaction and commits. The outer error means the transaction
  // failed (nothing written); `map_full` then says whether growing the map may help.
  base::Result<void> try_commit(std::vector<Request>& batch, std::vector<Outcome>& outcomes,
                                bool& map_full);
  base::Result<Counters> read_counters(lmdb::Transaction& txn);
  base::Result<void> grow_map();
  // Each appends the request's own outcome (its id, or why it alone was refused) to
  // `outcomes`, or returns an error when the transaction itself failed.
  // batch_writer.cpp:
  base::Result<void> apply(lmdb::Transaction& txn, CaWrite& w, Counters& counters,
                           std::vector<Outcome>& outcomes);
  base::Result<void> apply(lmdb::Transaction& txn, AuditWrite& w, Counters& counters,
                           std::vector<Outcome>& outcomes);
  // certificate_writes.cpp:
  base::Result<void> apply(lmdb::Transaction& txn, CertificateWrite& w, Counters& counters,
                           std::vector<Outcome>& outcomes);
  base::Result<void> apply(lmdb::Transaction& txn, RevocationWrite& w, Counters& counters,
                           std::vector<Outcome>& outcomes);
  // lifecycle_writes.cpp:
  base::Result<void> apply(lmdb::Transaction& txn, ProfileWrite& w, Counters& counters,
                           std::vector<Outcome>& outcomes);
  base::Result<void> apply(lmdb::Transaction& txn, OrderWrite& w, Counters& counters,
                           std::vector<Outcome>& outcomes);
  base::Result<void> apply(lmdb::Transaction& txn, AlertWrite& w, Counters& counters,
                           std::vector<Outcome>& outcomes);
  base::Result<void> apply(lmdb::Transaction& txn, AcknowledgeWrite& w, Counters& counters,
                           std::vector<Outcome>& outcomes);
  // crl_writes.cpp:
  base::Result<void> apply(lmdb::Transaction& txn, CrlNumberWrite& w, Counters& counters,
                           std::vector<Outcome>& outcomes);
  base::Result<void> apply(lmdb::Transaction& txn, CrlWrite& w, Counters& counters,
                           std::vector<Outcome>& outcomes);
  // operator_writes.cpp:
  base::Result<void> apply(lmdb::Transaction& txn, OperatorWrite& w, Counters& counters,
                           std::vector<Outcome>& outcomes);
  base::Result<void> apply(lmdb::Transaction& txn, OperatorModifyWrite& w, Counters& counters,
                           std::vector<Outcome>& outcomes);
  base::Result<void> apply(lmdb::Transaction& txn, OperatorDeleteWrite& w, Counters& counters,
                           std::vector<Outcome>& outcomes);
  // Writes `record` over a stored one whose certificate was `old_fingerprint` (empty for a new
  // operator), keeping the operator_certs index right, and then `event`; a refusal (another
  // operator's certificate) goes to `outcomes` and writes nothing.
  base::Result<void> put_operator(lmdb::Transaction& txn, const ca::OperatorRecord& record,
                                  base::ByteView old_fingerprint,
                                  std::optional<ca::AuditEvent>& event, Counters& counters,
                                  std::vector<Outcome>& outcomes);
  base::Result<void> apply(lmdb::Transaction& txn, ApiTokenWrite& w, Counters& counters,
                           std::vector<Outcome>& outcomes);
  // checkpoint_writes.cpp: the checkpoint's head must be the stored hash of its entry, and
  // checkpoints only move forward.
  base::Result<void> apply(lmdb::Transaction& txn, CheckpointWrite& w, Counters& counters,
                           std::vector<Outcome>& outcomes);
  // Deletes the CA's CRLs of `kind` beyond the newest `keep`.
  base::Result<void> prune_crls(lmdb::Transaction& txn, const std::string& ca_name,
                                ca::CrlKind kind, std::size_t keep);

  // Shared steps (their refusals leave nothing written).
  // Assigns the event's sequence and hashes and appends it.
  base::Result<void> put_event(lmdb::Transaction& txn, ca::AuditEvent& event, Counters& counters);
  base::Result<void> put_events(lmdb::Transaction& txn, std::vector<ca::AuditEvent>& events,
                                Counters& counters);
  // The stored order `order` replaces: kNotFound, or kConflict when the revisions differ.
  base::Result<Refusal> check_order(lmdb::Transaction& txn, const ca::Order& order,
                                    ca::OrderStatus& stored_status);
  // Writes `order` with its revision bumped over a stored one of `stored_status`.
  base::Result<void> put_order(lmdb::Transaction& txn, ca::Order& order,
                               std::optional<ca::OrderStatus> stored_status);
  // Raises `alert` unless an open alert has its dedupe key; returns the id either way.
  base::Result<std::uint64_t> raise(lmdb::Transaction& txn, ca::Alert& alert, Counters& counters,
                                    bool& raised);
  // Loads the certificate `id` (nullopt when absent).
  base::Result<std::optional<ca::CertificateRecord>> load_certificate(lmdb::Transaction& txn,
                                                                      std::uint64_t id);
  // Marks `record` revoked with the next revocation sequence and records it in `revocations`
  // and, for a CA's certificate, in `revoked` (the caller writes the record).
  base::Result<void> record_revocation(lmdb::Transaction& txn, ca::CertificateRecord& record,
                                       const ca::Revocation& revocation, Counters& counters);
  base::Result<void> put_certificate(lmdb::Transaction& txn, const ca::CertificateRecord& record);

  lmdb::Environment& env_;
  const schema::Tables& tables_;
  const BatchWriterOptions options_;

  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::deque<Request> queue_;  // guarded by mutex_
  bool stopping_ = false;      // guarded by mutex_

  base::Bytes scratch_;  // writer thread only: encoding records

  std::atomic<std::uint64_t> commits_{0};
  std::atomic<std::uint64_t> records_committed_{0};
  std::atomic<std::uint64_t> map_resizes_{0};
  std::atomic<std::size_t> largest_batch_{0};

  std::thread thread_;  // last: starts after everything above is constructed
};

}  // namespace signet::store
