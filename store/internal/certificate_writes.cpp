// BatchWriter's certificate writes: an issuance's commit (the record, its indexes, its events,
// its order and what it does to its predecessor) and a revocation. Each request is checked in
// full before anything of it is written, so a refused one leaves nothing behind.
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

std::string certificate_name(std::uint64_t id) { return "certificate id " + std::to_string(id); }

}  // namespace

base::Result<std::optional<ca::CertificateRecord>> BatchWriter::load_certificate(
    lmdb::Transaction& txn, std::uint64_t id) {
  const auto key = schema::id_key(id);
  SIGNET_ASSIGN_OR_RETURN(auto value, txn.get(tables_.certs, key));
  if (!value) return std::optional<ca::CertificateRecord>();
  SIGNET_ASSIGN_OR_RETURN(auto record, codec::decode_certificate(*value, tables_.certs.name, key));
  record.id = id;
  return std::optional<ca::CertificateRecord>(std::move(record));
}

base::Result<void> BatchWriter::put_certificate(lmdb::Transaction& txn,
                                                const ca::CertificateRecord& record) {
  codec::encode(record, scratch_);
  return txn.put(tables_.certs, schema::id_key(record.id), scratch_);
}

base::Result<void> BatchWriter::record_revocation(lmdb::Transaction& txn,
                                                  ca::CertificateRecord& record,
                                                  const ca::Revocation& revocation,
                                                  Counters& counters) {
  record.revocation = revocation;
  record.revocation->sequence = counters.next_revocation++;
  SIGNET_TRY(txn.put(tables_.revocations, schema::id_key(record.revocation->sequence),
                     schema::id_key(record.id), MDB_APPEND));
  if (record.ca_name.empty()) return base::ok();  // a discovered certificate is on no CRL of ours
  const auto key = schema::revoked_key(record.ca_name, record.serial);
  return txn.put(tables_.revoked, key.view(), schema::revoked_value(record).view());
}

base::Result<BatchWriter::Refusal> BatchWriter::check_order(lmdb::Transaction& txn,
                                                            const ca::Order& order,
                                                            ca::OrderStatus& stored_status) {
  const auto key = schema::id_key(order.id);
  SIGNET_ASSIGN_OR_RETURN(auto value, txn.get(tables_.orders, key));
  if (!value) {
    return Refusal(Error(ErrorCode::kNotFound, "there is no order " + std::to_string(order.id)));
  }
  SIGNET_ASSIGN_OR_RETURN(auto stored, codec::decode_order(*value, tables_.orders.name, key));
  if (stored.revision != order.revision) {
    return Refusal(Error(ErrorCode::kConflict,
                         "the order " + std::to_string(order.id) +
                             " was changed meanwhile (revision " + std::to_string(stored.revision) +
                             ", the update was based on " + std::to_string(order.revision) +
                             "); reload it and retry"));
  }
  stored_status = stored.status;
  return Refusal();
}

base::Result<void> BatchWriter::put_order(lmdb::Transaction& txn, ca::Order& order,
                                          std::optional<ca::OrderStatus> stored_status) {
  ++order.revision;
  const auto key = schema::id_key(order.id);
  codec::encode(order, scratch_);
  SIGNET_TRY(txn.put(tables_.orders, key, scratch_, stored_status ? 0 : MDB_APPEND));
  if (stored_status && *stored_status == order.status) return base::ok();
  if (stored_status) {
    SIGNET_TRY(
        txn.del(tables_.order_by_status, schema::order_status_key(*stored_status, order.id)));
  }
  return txn.put(tables_.order_by_status, schema::order_status_key(order.status, order.id),
                 base::ByteView());
}

base::Result<void> BatchWriter::apply(lmdb::Transaction& txn, CertificateWrite& w,
                                      Counters& counters, std::vector<Outcome>& outcomes) {
  const auto& r = w.commit.record;
  const bool managed = !r.ca_name.empty();
  const auto ca_serial = schema::ca_serial_key(r.ca_name, r.serial);
  // Every check first, so that a refused commit writes nothing. They see the writes of earlier
  // requests in this batch, which catches duplicates (and double renewals) within it too.
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
  ca::OrderStatus order_status{};
  if (w.commit.order) {
    SIGNET_ASSIGN_OR_RETURN(auto refusal, check_order(txn, *w.commit.order, order_status));
    if (refusal) return refuse(outcomes, std::move(*refusal));
  }
  std::optional<ca::CertificateRecord> predecessor;
  if (r.predecessor_id != 0) {
    SIGNET_ASSIGN_OR_RETURN(predecessor, load_certificate(txn, r.predecessor_id));
    const std::string name = "the predecessor " + certificate_name(r.predecessor_id);
    if (!predecessor)
      return refuse(outcomes, Error(ErrorCode::kNotFound, name + " does not exist"));
    if (predecessor->successor_id != 0) {
      return refuse(outcomes, Error(ErrorCode::kConflict,
                                    name + " was already renewed or rekeyed (its successor is " +
                                        certificate_name(predecessor->successor_id) + ")"));
    }
    if (w.commit.predecessor_must_be_unrevoked && predecessor->revocation) {
      return refuse(outcomes, Error(ErrorCode::kConflict, name + " is revoked"));
    }
  }

  const std::uint64_t id = counters.next_id++;
  const auto key = schema::id_key(id);
  if (r.revocation) {  // recorded already revoked: its sequence is assigned here
    ca::CertificateRecord revoked = r;
    revoked.id = id;
    SIGNET_TRY(record_revocation(txn, revoked, *r.revocation, counters));
    codec::encode(revoked, w.encoded);
  }
  SIGNET_TRY(txn.put(tables_.certs, key, w.encoded, MDB_APPEND));
  if (managed)
    SIGNET_TRY(txn.put(tables_.cert_by_ca_serial, ca_serial.view(), key, MDB_NOOVERWRITE));
  SIGNET_TRY(txn.put(tables_.cert_by_serial, schema::serial_key(r.serial), key));
  SIGNET_TRY(txn.put(tables_.cert_by_fingerprint, r.fingerprint_sha256, key, MDB_NOOVERWRITE));
  for (const auto& name : w.name_keys) {
    SIGNET_TRY(txn.put(tables_.cert_by_name, base::as_bytes(name), key));
  }
  const auto not_after = schema::not_after_key(r.not_after, id);
  SIGNET_TRY(txn.put(tables_.cert_by_not_after, not_after, base::ByteView()));
  SIGNET_TRY(txn.put(tables_.cert_by_not_before, schema::not_after_key(r.not_before, id),
                     base::ByteView()));
  base::Bytes cn_key = w.cn_prefix;  // the request stays as given, for a replay
  cn_key.insert(cn_key.end(), key.begin(), key.end());
  SIGNET_TRY(txn.put(tables_.cert_by_cn, cn_key, base::ByteView()));
  SIGNET_TRY(
      txn.put(tables_.cert_by_ca, schema::prefixed_key(r.ca_name, not_after), base::ByteView()));
  if (!r.profile.empty()) {
    SIGNET_TRY(txn.put(tables_.cert_by_profile, schema::prefixed_key(r.profile, not_after),
                       base::ByteView()));
  }
  for (const auto& name : w.dns_keys) {
    SIGNET_TRY(txn.put(tables_.cert_by_dns, base::as_bytes(name), key));
  }
  if (w.key_location) SIGNET_TRY(txn.put(tables_.cert_by_key, *w.key_location, key));

  if (predecessor) {
    predecessor->successor_id = id;
    if (w.commit.revoke_predecessor && !predecessor->revocation) {
      SIGNET_TRY(record_revocation(txn, *predecessor, *w.commit.revoke_predecessor, counters));
    }
    SIGNET_TRY(put_certificate(txn, *predecessor));
  }
  if (w.commit.order) {
    ca::Order order = *w.commit.order;  // the request stays as given, for a replay
    order.certificate_id = id;
    SIGNET_TRY(put_order(txn, order, order_status));
  }
  SIGNET_TRY(put_events(txn, w.commit.events, counters));
  outcomes.emplace_back(id);
  return base::ok();
}

base::Result<void> BatchWriter::apply(lmdb::Transaction& txn, RevocationWrite& w,
                                      Counters& counters, std::vector<Outcome>& outcomes) {
  const std::uint64_t id = w.commit.certificate_id;
  SIGNET_ASSIGN_OR_RETURN(auto record, load_certificate(txn, id));
  if (!record) {
    return refuse(outcomes, Error(ErrorCode::kNotFound,
                                  "there is no certificate with id " + std::to_string(id)));
  }
  if (record->revocation) {
    return refuse(outcomes, Error(ErrorCode::kConflict,
                                  certificate_name(id) + " is already revoked (revocation " +
                                      std::to_string(record->revocation->sequence) +
                                      "); a revocation is permanent"));
  }
  ca::OrderStatus order_status{};
  if (w.commit.order) {
    SIGNET_ASSIGN_OR_RETURN(auto refusal, check_order(txn, *w.commit.order, order_status));
    if (refusal) return refuse(outcomes, std::move(*refusal));
  }
  SIGNET_TRY(record_revocation(txn, *record, w.commit.revocation, counters));
  SIGNET_TRY(put_certificate(txn, *record));
  if (w.commit.order) {
    ca::Order order = *w.commit.order;
    SIGNET_TRY(put_order(txn, order, order_status));
  }
  SIGNET_TRY(put_events(txn, w.commit.events, counters));
  outcomes.emplace_back(record->revocation->sequence);
  return base::ok();
}

}  // namespace signet::store
