// BatchWriter's lifecycle writes: RA profiles (versioned), orders (revisioned, with their
// status index) and alerts (deduplicated while open).
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

base::Result<void> BatchWriter::apply(lmdb::Transaction& txn, ProfileWrite& w, Counters& counters,
                                      std::vector<Outcome>& outcomes) {
  const auto& p = w.profile;
  const auto key = schema::prefixed_key(p.ca_name, base::as_bytes(p.name));
  SIGNET_ASSIGN_OR_RETURN(auto existing, txn.get(tables_.profiles, key));
  ca::Profile stored = p;
  if (w.create) {
    if (existing) {
      return refuse(outcomes, Error(ErrorCode::kAlreadyExists,
                                    "the CA '" + p.ca_name + "' already has a profile named '" +
                                        p.name + "'"));
    }
    stored.version = 1;
  } else {
    if (!existing) {
      return refuse(outcomes, Error(ErrorCode::kNotFound,
                                    "there is no profile '" + p.qualified_name() + "'"));
    }
    auto current = codec::decode_profile(*existing, tables_.profiles.name, key);
    if (!current) return refuse(outcomes, std::move(current).error());
    if (current->version != p.version) {
      return refuse(
          outcomes,
          Error(ErrorCode::kConflict,
                "the profile '" + p.qualified_name() + "' was changed meanwhile (version " +
                    std::to_string(current->version) + ", the update was based on " +
                    std::to_string(p.version) + "); reload it and retry"));
    }
    stored.version = p.version + 1;
  }
  codec::encode(stored, scratch_);
  SIGNET_TRY(txn.put(tables_.profiles, key, scratch_));
  if (w.event) SIGNET_TRY(put_event(txn, *w.event, counters));
  outcomes.emplace_back(stored.version);
  return base::ok();
}

base::Result<void> BatchWriter::apply(lmdb::Transaction& txn, OrderWrite& w, Counters& counters,
                                      std::vector<Outcome>& outcomes) {
  ca::Order order = w.order;  // the request stays as given, for a replay
  std::optional<ca::OrderStatus> stored_status;
  if (w.create) {
    order.id = counters.next_order++;
    order.revision = 0;  // put_order stores revision 1
  } else {
    ca::OrderStatus status{};
    SIGNET_ASSIGN_OR_RETURN(auto refusal, check_order(txn, order, status));
    if (refusal) return refuse(outcomes, std::move(*refusal));
    stored_status = status;
  }
  SIGNET_TRY(put_order(txn, order, stored_status));
  if (w.alert) {
    ca::Alert alert = *w.alert;
    bool raised = false;
    SIGNET_TRY(raise(txn, alert, counters, raised));
  }
  SIGNET_TRY(put_events(txn, w.events, counters));
  outcomes.emplace_back(w.create ? order.id : order.revision);
  return base::ok();
}

base::Result<std::uint64_t> BatchWriter::raise(lmdb::Transaction& txn, ca::Alert& alert,
                                               Counters& counters, bool& raised) {
  raised = false;
  const auto dedupe = schema::dedupe_index_key(alert.dedupe_key);
  if (!alert.dedupe_key.empty()) {
    SIGNET_ASSIGN_OR_RETURN(auto open, txn.get(tables_.alert_by_dedupe, dedupe));
    if (open) return schema::id_from(*open);
  }
  alert.id = counters.next_alert++;
  alert.acknowledged = false;
  alert.acknowledged_at.reset();
  alert.acknowledged_by.clear();
  const auto key = schema::id_key(alert.id);
  codec::encode(alert, scratch_);
  SIGNET_TRY(txn.put(tables_.alerts, key, scratch_, MDB_APPEND));
  SIGNET_TRY(txn.put(tables_.alert_open, key, base::ByteView(), MDB_APPEND));
  if (!alert.dedupe_key.empty()) SIGNET_TRY(txn.put(tables_.alert_by_dedupe, dedupe, key));
  raised = true;
  return alert.id;
}

base::Result<void> BatchWriter::apply(lmdb::Transaction& txn, AlertWrite& w, Counters& counters,
                                      std::vector<Outcome>& outcomes) {
  ca::Alert alert = w.alert;
  bool raised = false;
  SIGNET_ASSIGN_OR_RETURN(const auto id, raise(txn, alert, counters, raised));
  if (raised && w.event) SIGNET_TRY(put_event(txn, *w.event, counters));
  outcomes.emplace_back(id);
  return base::ok();
}

base::Result<void> BatchWriter::apply(lmdb::Transaction& txn, AcknowledgeWrite& w,
                                      Counters& counters, std::vector<Outcome>& outcomes) {
  const auto key = schema::id_key(w.id);
  SIGNET_ASSIGN_OR_RETURN(auto value, txn.get(tables_.alerts, key));
  if (!value) {
    return refuse(outcomes,
                  Error(ErrorCode::kNotFound, "there is no alert " + std::to_string(w.id)));
  }
  SIGNET_ASSIGN_OR_RETURN(auto alert, codec::decode_alert(*value, tables_.alerts.name, key));
  if (!alert.acknowledged) {  // acknowledging twice keeps the first acknowledgement
    alert.acknowledged = true;
    alert.acknowledged_at = w.at;
    alert.acknowledged_by = w.by;
    codec::encode(alert, scratch_);
    SIGNET_TRY(txn.put(tables_.alerts, key, scratch_));
    SIGNET_TRY(txn.del(tables_.alert_open, key));
    if (!alert.dedupe_key.empty()) {
      const auto dedupe = schema::dedupe_index_key(alert.dedupe_key);
      SIGNET_ASSIGN_OR_RETURN(auto open, txn.get(tables_.alert_by_dedupe, dedupe));
      if (open && schema::id_from(*open) == w.id) {
        SIGNET_TRY(txn.del(tables_.alert_by_dedupe, dedupe));
      }
    }
    if (w.event) SIGNET_TRY(put_event(txn, *w.event, counters));
  }
  outcomes.emplace_back(w.id);
  return base::ok();
}

}  // namespace signet::store
