// LmdbStore as ca::ProfileDirectory, ca::OrderLog and ca::AlertLog: writes through the batch
// writer (store/internal/lifecycle_writes.cpp), reads in their own read transactions.
#include <limits>

#include "store/internal/store_impl.h"

namespace signet::store {

namespace {

using base::Error;
using base::ErrorCode;

constexpr std::size_t kMaxPageSize = 1000;

base::Result<void> validate_profile_key(const ca::Profile& profile) {
  SIGNET_TRY(schema::validate_ca_name(profile.ca_name));
  if (profile.name.empty() || profile.name.size() > schema::kMaxCaNameLength ||
      profile.name.find('\0') != std::string::npos) {
    return Error(ErrorCode::kInvalidArgument, "the profile name '" + profile.name.substr(0, 40) +
                                                  "' must be 1 to 255 bytes without a NUL byte");
  }
  return base::ok();
}

base::Result<void> validate_page(std::size_t limit) {
  if (limit < 1 || limit > kMaxPageSize) {
    return Error(ErrorCode::kInvalidArgument, "the page size must be between 1 and " +
                                                  std::to_string(kMaxPageSize) + ", not " +
                                                  std::to_string(limit));
  }
  return base::ok();
}

template <typename T>
base::Result<T> wait(std::future<base::Result<std::uint64_t>> future) {
  auto done = future.get();
  if (!done) return std::move(done).error();
  return static_cast<T>(*done);
}

}  // namespace

// ---- ProfileDirectory ----

base::Result<void> LmdbStore::create_profile(const ca::Profile& profile,
                                             std::optional<ca::AuditEvent> event) {
  SIGNET_TRY(validate_profile_key(profile));
  auto done = impl_->writer->submit(ProfileWrite{profile, /*create=*/true, std::move(event)}).get();
  if (!done) return std::move(done).error();
  return base::ok();
}

base::Result<ca::Profile> LmdbStore::update_profile(const ca::Profile& profile,
                                                    std::optional<ca::AuditEvent> event) {
  SIGNET_TRY(validate_profile_key(profile));
  auto done =
      impl_->writer->submit(ProfileWrite{profile, /*create=*/false, std::move(event)}).get();
  if (!done) return std::move(done).error();
  ca::Profile stored = profile;
  stored.version = *done;
  return stored;
}

base::Result<std::optional<ca::Profile>> LmdbStore::find_profile(std::string_view ca_name,
                                                                 std::string_view name) {
  using Found = std::optional<ca::Profile>;
  if (name.empty() || ca_name.size() > schema::kMaxCaNameLength ||
      name.size() > schema::kMaxCaNameLength) {
    return Found();
  }
  const auto key = schema::prefixed_key(ca_name, base::as_bytes(name));
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  SIGNET_ASSIGN_OR_RETURN(auto value, txn.get(impl_->tables.profiles, key));
  if (!value) return Found();
  SIGNET_ASSIGN_OR_RETURN(auto profile,
                          codec::decode_profile(*value, impl_->tables.profiles.name, key));
  return Found(std::move(profile));
}

base::Result<std::vector<ca::Profile>> LmdbStore::find_profiles_by_name(std::string_view name) {
  // Profiles are few (a handful per CA): every one is read.
  SIGNET_ASSIGN_OR_RETURN(auto all, list_profiles(""));
  std::erase_if(all, [&](const ca::Profile& p) { return p.name != name; });
  return all;
}

base::Result<std::vector<ca::Profile>> LmdbStore::list_profiles(std::string_view ca_name) {
  std::vector<ca::Profile> out;
  const auto& table = impl_->tables.profiles;
  const base::Bytes prefix = ca_name.empty() ? base::Bytes() : schema::prefixed_key(ca_name, {});
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn, table));
  std::optional<lmdb::Entry> entry;
  if (prefix.empty()) {
    SIGNET_ASSIGN_OR_RETURN(entry, cursor.first());
  } else {
    SIGNET_ASSIGN_OR_RETURN(entry, cursor.seek(prefix));
  }
  while (entry && std::equal(prefix.begin(), prefix.end(), entry->key.begin(),
                             entry->key.begin() + std::min(entry->key.size(), prefix.size()))) {
    if (entry->key.size() < prefix.size()) break;
    SIGNET_ASSIGN_OR_RETURN(auto profile,
                            codec::decode_profile(entry->value, table.name, entry->key));
    out.push_back(std::move(profile));
    SIGNET_ASSIGN_OR_RETURN(entry, cursor.next());
  }
  return out;
}

// ---- OrderLog ----

base::Result<std::uint64_t> LmdbStore::create_order(ca::Order order,
                                                    std::vector<ca::AuditEvent> events) {
  return wait<std::uint64_t>(impl_->writer->submit(
      OrderWrite{std::move(order), /*create=*/true, std::move(events), std::nullopt}));
}

base::Result<std::uint64_t> LmdbStore::update_order(const ca::Order& order,
                                                    std::vector<ca::AuditEvent> events,
                                                    std::optional<ca::Alert> alert) {
  return wait<std::uint64_t>(impl_->writer->submit(
      OrderWrite{order, /*create=*/false, std::move(events), std::move(alert)}));
}

base::Result<std::optional<ca::Order>> LmdbStore::find_order(std::uint64_t id) {
  using Found = std::optional<ca::Order>;
  const auto key = schema::id_key(id);
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  SIGNET_ASSIGN_OR_RETURN(auto value, txn.get(impl_->tables.orders, key));
  if (!value) return Found();
  SIGNET_ASSIGN_OR_RETURN(auto order, codec::decode_order(*value, impl_->tables.orders.name, key));
  order.id = id;
  return Found(std::move(order));
}

namespace {

// Orders from the order_by_status entries of `status` with id < before, newest first.
base::Result<void> orders_with_status(LmdbStore::Impl& impl, lmdb::Transaction& txn,
                                      ca::OrderStatus status, std::uint64_t before,
                                      const ca::OrderQuery& query, std::vector<ca::Order>& out) {
  const std::uint8_t tag = schema::order_status_byte(status);
  SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn, impl.tables.order_by_status));
  SIGNET_ASSIGN_OR_RETURN(auto entry, cursor.seek(schema::order_status_key(status, before)));
  if (entry) {
    SIGNET_ASSIGN_OR_RETURN(entry, cursor.prev());
  } else {
    SIGNET_ASSIGN_OR_RETURN(entry, cursor.last());
  }
  while (entry && entry->key.size() == 9 && entry->key[0] == tag && out.size() < query.limit) {
    const std::uint64_t id = schema::id_from(entry->key.subspan(1));
    const auto key = schema::id_key(id);
    SIGNET_ASSIGN_OR_RETURN(auto value, txn.get(impl.tables.orders, key));
    if (!value) {
      return Error(ErrorCode::kStorageError, "the index 'order_by_status' points to order " +
                                                 std::to_string(id) + ", which does not exist");
    }
    SIGNET_ASSIGN_OR_RETURN(auto order, codec::decode_order(*value, impl.tables.orders.name, key));
    order.id = id;
    if (!query.kind || order.kind == *query.kind) out.push_back(std::move(order));
    SIGNET_ASSIGN_OR_RETURN(entry, cursor.prev());
  }
  return base::ok();
}

}  // namespace

base::Result<std::vector<ca::Order>> LmdbStore::list_orders(const ca::OrderQuery& query) {
  SIGNET_TRY(validate_page(query.limit));
  const std::uint64_t before =
      query.before == 0 ? std::numeric_limits<std::uint64_t>::max() : query.before;
  std::vector<ca::Order> out;
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  if (query.status) {
    SIGNET_TRY(orders_with_status(*impl_, txn, *query.status, before, query, out));
    return out;
  }
  const auto& table = impl_->tables.orders;
  SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn, table));
  SIGNET_ASSIGN_OR_RETURN(auto entry, cursor.seek(schema::id_key(before)));
  if (entry) {
    SIGNET_ASSIGN_OR_RETURN(entry, cursor.prev());
  } else {
    SIGNET_ASSIGN_OR_RETURN(entry, cursor.last());
  }
  while (entry && out.size() < query.limit) {
    SIGNET_ASSIGN_OR_RETURN(auto order, codec::decode_order(entry->value, table.name, entry->key));
    order.id = schema::id_from(entry->key);
    if (!query.kind || order.kind == *query.kind) out.push_back(std::move(order));
    SIGNET_ASSIGN_OR_RETURN(entry, cursor.prev());
  }
  return out;
}

base::Result<std::vector<ca::Order>> LmdbStore::list_unfinished_orders() {
  std::vector<ca::Order> out;
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  ca::OrderQuery all;
  all.limit = std::numeric_limits<std::size_t>::max();
  const auto newest = std::numeric_limits<std::uint64_t>::max();
  SIGNET_TRY(orders_with_status(*impl_, txn, ca::OrderStatus::kPending, newest, all, out));
  SIGNET_TRY(orders_with_status(*impl_, txn, ca::OrderStatus::kProcessing, newest, all, out));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

// ---- AlertLog ----

base::Result<std::uint64_t> LmdbStore::raise_alert(ca::Alert alert,
                                                   std::optional<ca::AuditEvent> event) {
  return wait<std::uint64_t>(impl_->writer->submit(AlertWrite{std::move(alert), std::move(event)}));
}

base::Result<ca::Alert> LmdbStore::acknowledge_alert(std::uint64_t id, std::string by,
                                                     base::TimePoint at,
                                                     std::optional<ca::AuditEvent> event) {
  SIGNET_TRY(wait<std::uint64_t>(
      impl_->writer->submit(AcknowledgeWrite{id, std::move(by), at, std::move(event)})));
  // An acknowledgement is permanent, so what is read now carries it.
  SIGNET_ASSIGN_OR_RETURN(auto alert, find_alert(id));
  if (!alert) return Error(ErrorCode::kInternal, "alert " + std::to_string(id) + " vanished");
  return std::move(*alert);
}

base::Result<std::optional<ca::Alert>> LmdbStore::find_alert(std::uint64_t id) {
  using Found = std::optional<ca::Alert>;
  const auto key = schema::id_key(id);
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  SIGNET_ASSIGN_OR_RETURN(auto value, txn.get(impl_->tables.alerts, key));
  if (!value) return Found();
  SIGNET_ASSIGN_OR_RETURN(auto alert, codec::decode_alert(*value, impl_->tables.alerts.name, key));
  alert.id = id;
  return Found(std::move(alert));
}

base::Result<std::vector<ca::Alert>> LmdbStore::list_alerts(bool include_acknowledged,
                                                            std::size_t limit) {
  std::vector<ca::Alert> out;
  if (limit == 0) return out;
  const auto& alerts = impl_->tables.alerts;
  // Open alerts come from their own index; all of them from the alerts table.
  const auto& walked = include_acknowledged ? alerts : impl_->tables.alert_open;
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn, walked));
  SIGNET_ASSIGN_OR_RETURN(auto entry, cursor.last());
  while (entry && out.size() < limit) {
    const std::uint64_t id = schema::id_from(entry->key);
    const auto key = schema::id_key(id);
    SIGNET_ASSIGN_OR_RETURN(auto value, txn.get(alerts, key));
    if (!value) {
      return Error(ErrorCode::kStorageError, "the index 'alert_open' points to alert " +
                                                 std::to_string(id) + ", which does not exist");
    }
    SIGNET_ASSIGN_OR_RETURN(auto alert, codec::decode_alert(*value, alerts.name, key));
    alert.id = id;
    out.push_back(std::move(alert));
    SIGNET_ASSIGN_OR_RETURN(entry, cursor.prev());
  }
  return out;
}

}  // namespace signet::store
