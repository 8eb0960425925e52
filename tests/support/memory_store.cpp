#include "tests/support/memory_store.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <tuple>

#include "ca/audit.h"

namespace signet::test {

using base::Error;
using base::ErrorCode;

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

template <typename T>
std::future<T> ready(T value) {
  std::promise<T> promise;
  promise.set_value(std::move(value));
  return promise.get_future();
}

std::string_view san_value(std::string_view san) {
  auto colon = san.find(':');
  return colon == std::string_view::npos ? san : san.substr(colon + 1);
}

bool is_dns_san(std::string_view san) { return lower(san.substr(0, 4)) == "dns:"; }

// CertificateQuery::search: a prefix of the CN or a SAN value, or "*.suffix" for DNS names
// under the suffix (CN or DNS SANs) at any depth.
bool matches_search(const ca::CertificateRecord& r, std::string_view search) {
  if (search.empty()) return true;
  const std::string wanted = lower(search);
  if (wanted.starts_with("*.")) {
    const std::string suffix = wanted.substr(1);  // ".example.com"
    auto under = [&](std::string_view name) {
      const std::string n = lower(name);
      return n.size() > suffix.size() && n.ends_with(suffix);
    };
    if (under(r.common_name)) return true;
    return std::any_of(
        r.subject_alt_names.begin(), r.subject_alt_names.end(),
        [&](const std::string& san) { return is_dns_san(san) && under(san_value(san)); });
  }
  if (lower(r.common_name).starts_with(wanted)) return true;
  return std::any_of(
      r.subject_alt_names.begin(), r.subject_alt_names.end(),
      [&](const std::string& san) { return lower(san_value(san)).starts_with(wanted); });
}

// Sort order of CertificateQuery::sort, ties by id, as the LMDB store's indexes order them:
// times by whole seconds, CNs lower-cased, serials numerically.
bool sorts_before(const ca::CertificateRecord& a, const ca::CertificateRecord& b,
                  ca::CertificateSort sort) {
  auto seconds = [](base::TimePoint t) {
    return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
  };
  switch (sort) {
    case ca::CertificateSort::kNotAfter:
      return std::make_tuple(seconds(a.not_after), a.id) <
             std::make_tuple(seconds(b.not_after), b.id);
    case ca::CertificateSort::kNotBefore:
      return std::make_tuple(seconds(a.not_before), a.id) <
             std::make_tuple(seconds(b.not_before), b.id);
    case ca::CertificateSort::kCommonName:
      return std::make_tuple(lower(a.common_name), a.id) <
             std::make_tuple(lower(b.common_name), b.id);
    case ca::CertificateSort::kSerial:
      return std::make_tuple(a.serial.magnitude().size(), a.serial.magnitude(), a.id) <
             std::make_tuple(b.serial.magnitude().size(), b.serial.magnitude(), b.id);
  }
  return a.id < b.id;
}

std::string cursor_prefix(const ca::CertificateQuery& query) {
  return "mem:" + std::to_string(static_cast<int>(query.sort)) + (query.descending ? "d" : "a") +
         ":";
}

}  // namespace

// ---- Inventory ----

std::future<base::Result<std::uint64_t>> MemoryStore::commit_certificate_async(
    ca::CertificateCommit commit) {
  std::lock_guard lock(mutex_);
  return ready(commit_locked(commit));
}

base::Result<std::uint64_t> MemoryStore::commit_locked(ca::CertificateCommit& commit) {
  auto& record = commit.record;
  if (collisions_to_inject_ > 0) {
    --collisions_to_inject_;
    return Error(ErrorCode::kAlreadyExists, "serial number already used by this CA");
  }
  for (const auto& [id, existing] : certificates_) {
    if ((!record.ca_name.empty() && existing.ca_name == record.ca_name &&
         existing.serial == record.serial) ||
        existing.fingerprint_sha256 == record.fingerprint_sha256) {
      return Error(ErrorCode::kAlreadyExists, "CA '" + record.ca_name +
                                                  "' already has a certificate with serial " +
                                                  record.serial.to_hex());
    }
  }
  if (commit.order && commit.order->id == 0) {
    return Error(ErrorCode::kInvalidArgument,
                 "the order a certificate commit completes has no id (create it first)");
  }
  if (commit.order) SIGNET_TRY(check_order_locked(*commit.order));
  ca::CertificateRecord* predecessor = nullptr;
  if (record.predecessor_id != 0) {
    auto it = certificates_.find(record.predecessor_id);
    if (it == certificates_.end()) {
      return Error(ErrorCode::kNotFound, "the predecessor certificate id " +
                                             std::to_string(record.predecessor_id) +
                                             " does not exist");
    }
    predecessor = &it->second;
    if (predecessor->successor_id != 0) {
      return Error(ErrorCode::kConflict, "certificate id " + std::to_string(predecessor->id) +
                                             " was already renewed or rekeyed (successor id " +
                                             std::to_string(predecessor->successor_id) + ")");
    }
    if (commit.predecessor_must_be_unrevoked && predecessor->revocation) {
      return Error(ErrorCode::kConflict,
                   "certificate id " + std::to_string(predecessor->id) + " is revoked");
    }
  }
  const std::uint64_t id = certificates_.size() + 1;
  record.id = id;
  if (record.revocation) record.revocation->sequence = next_revocation_sequence_++;
  if (predecessor) {
    predecessor->successor_id = id;
    if (commit.revoke_predecessor && !predecessor->revocation) {
      predecessor->revocation = *commit.revoke_predecessor;
      predecessor->revocation->sequence = next_revocation_sequence_++;
    }
  }
  certificates_.emplace(id, record);
  if (commit.order) {
    commit.order->certificate_id = id;
    store_order_locked(std::move(*commit.order));
  }
  append_all_locked(commit.events);
  return id;
}

base::Result<ca::CertificateRecord> MemoryStore::revoke_certificate(ca::RevocationCommit commit) {
  std::lock_guard lock(mutex_);
  auto it = certificates_.find(commit.certificate_id);
  if (it == certificates_.end()) {
    return Error(ErrorCode::kNotFound,
                 "there is no certificate with id " + std::to_string(commit.certificate_id));
  }
  if (it->second.revocation) {
    return Error(ErrorCode::kConflict,
                 "certificate id " + std::to_string(commit.certificate_id) + " is already revoked");
  }
  if (commit.order) SIGNET_TRY(check_order_locked(*commit.order));
  it->second.revocation = commit.revocation;
  it->second.revocation->sequence = next_revocation_sequence_++;
  if (commit.order) store_order_locked(std::move(*commit.order));
  append_all_locked(commit.events);
  return it->second;
}

base::Result<std::optional<ca::CertificateRecord>> MemoryStore::find_certificate_by_id(
    std::uint64_t id) {
  std::lock_guard lock(mutex_);
  auto it = certificates_.find(id);
  if (it == certificates_.end()) return std::optional<ca::CertificateRecord>();
  return std::optional(it->second);
}

base::Result<std::vector<ca::CertificateRecord>> MemoryStore::find_certificates_by_key(
    const base::KeyRef& key) {
  std::lock_guard lock(mutex_);
  std::vector<ca::CertificateRecord> out;
  for (const auto& [id, record] : certificates_) {
    if (record.key_location && *record.key_location == key) out.push_back(record);
  }
  return out;
}

base::Result<std::optional<ca::CertificateRecord>> MemoryStore::find_certificate(
    std::string_view ca_name, const pki::SerialNumber& serial) {
  std::lock_guard lock(mutex_);
  for (const auto& [id, record] : certificates_) {
    if (record.ca_name == ca_name && record.serial == serial) return std::optional(record);
  }
  return std::optional<ca::CertificateRecord>();
}

base::Result<std::vector<ca::CertificateRecord>> MemoryStore::find_certificates_by_serial(
    const pki::SerialNumber& serial) {
  std::lock_guard lock(mutex_);
  std::vector<ca::CertificateRecord> out;
  for (const auto& [id, record] : certificates_) {
    if (record.serial == serial) out.push_back(record);
  }
  return out;
}

base::Result<std::optional<ca::CertificateRecord>> MemoryStore::find_certificate_by_fingerprint(
    base::ByteView sha256) {
  std::lock_guard lock(mutex_);
  for (const auto& [id, record] : certificates_) {
    if (std::equal(sha256.begin(), sha256.end(), record.fingerprint_sha256.begin(),
                   record.fingerprint_sha256.end())) {
      return std::optional(record);
    }
  }
  return std::optional<ca::CertificateRecord>();
}

base::Result<std::vector<ca::CertificateRecord>> MemoryStore::find_certificates_by_name(
    std::string_view name) {
  std::lock_guard lock(mutex_);
  std::vector<ca::CertificateRecord> out;
  const std::string wanted = lower(name);
  for (const auto& [id, record] : certificates_) {
    bool match = lower(record.common_name) == wanted;
    for (const auto& san : record.subject_alt_names) {
      if (lower(san_value(san)) == wanted) match = true;
    }
    if (match) out.push_back(record);
  }
  return out;
}

base::Result<ca::CertificatePage> MemoryStore::list_certificates(
    const ca::CertificateQuery& query) {
  if (query.limit < 1 || query.limit > 1000) {
    return Error(ErrorCode::kInvalidArgument,
                 "the page size must be between 1 and 1000, not " + std::to_string(query.limit));
  }
  const std::string prefix = cursor_prefix(query);
  std::size_t start = 0;
  if (!query.cursor.empty()) {
    if (!query.cursor.starts_with(prefix) ||
        query.cursor.find_first_not_of("0123456789", prefix.size()) != std::string::npos ||
        query.cursor.size() == prefix.size()) {
      return Error(ErrorCode::kInvalidArgument,
                   "the cursor '" + query.cursor + "' is not one this store gave for this sort");
    }
    start = std::stoul(query.cursor.substr(prefix.size()));
  }
  std::lock_guard lock(mutex_);
  std::vector<ca::CertificateRecord> matches;
  for (const auto& [id, record] : certificates_) {
    if (query.ca_name && record.ca_name != *query.ca_name) continue;
    if (query.profile && record.profile != *query.profile) continue;
    if (query.status && ca::status_at(record, query.now) != *query.status) continue;
    if (query.source && record.source != *query.source) continue;
    if (query.not_after_before && record.not_after >= *query.not_after_before) continue;
    if (!matches_search(record, query.search)) continue;
    matches.push_back(record);
  }
  std::sort(matches.begin(), matches.end(), [&](const auto& a, const auto& b) {
    return query.descending ? sorts_before(b, a, query.sort) : sorts_before(a, b, query.sort);
  });
  ca::CertificatePage page;
  for (std::size_t i = start; i < matches.size() && page.items.size() < query.limit; ++i) {
    page.items.push_back(matches[i]);
  }
  if (start + page.items.size() < matches.size()) {
    page.next_cursor = prefix + std::to_string(start + page.items.size());
  }
  return page;
}

base::Result<std::vector<ca::CertificateRecord>> MemoryStore::list_revocations(
    std::string_view ca_name, std::uint64_t after, std::size_t limit) {
  std::lock_guard lock(mutex_);
  std::vector<ca::CertificateRecord> out;
  for (const auto& [id, record] : certificates_) {
    if (record.ca_name == ca_name && record.revocation && record.revocation->sequence > after) {
      out.push_back(record);
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.revocation->sequence < b.revocation->sequence;
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

// ---- CaDirectory ----

base::Result<void> MemoryStore::create_ca(const ca::CaRecord& record,
                                          std::optional<ca::AuditEvent> event) {
  std::lock_guard lock(mutex_);
  if (cas_.count(record.name) != 0) {
    return Error(ErrorCode::kAlreadyExists, "a CA named '" + record.name + "' already exists");
  }
  cas_.emplace(record.name, record);
  if (event) append_locked(std::move(*event));
  return base::ok();
}

base::Result<void> MemoryStore::update_ca(const ca::CaRecord& record,
                                          std::optional<ca::AuditEvent> event) {
  std::lock_guard lock(mutex_);
  auto it = cas_.find(record.name);
  if (it == cas_.end()) return Error(ErrorCode::kNotFound, "no CA named '" + record.name + "'");
  if (it->second.revision != record.revision) {
    return Error(ErrorCode::kConflict, "CA '" + record.name + "' was changed concurrently");
  }
  it->second = record;
  ++it->second.revision;
  if (event) append_locked(std::move(*event));
  return base::ok();
}

base::Result<std::optional<ca::CaRecord>> MemoryStore::find_ca(std::string_view name) {
  std::lock_guard lock(mutex_);
  auto it = cas_.find(name);
  if (it == cas_.end()) return std::optional<ca::CaRecord>();
  return std::optional(it->second);
}

base::Result<std::vector<ca::CaRecord>> MemoryStore::list_cas() {
  std::lock_guard lock(mutex_);
  std::vector<ca::CaRecord> out;
  for (const auto& [name, record] : cas_) out.push_back(record);
  return out;
}

// ---- AuditSink ----

base::Result<std::uint64_t> MemoryStore::append_audit(ca::AuditEvent event) {
  std::lock_guard lock(mutex_);
  return append_locked(std::move(event));
}

std::uint64_t MemoryStore::append_locked(ca::AuditEvent event) {
  event.sequence = audit_.size() + 1;
  event.previous_hash = audit_.empty() ? base::Bytes(ca::kAuditHashSize, 0) : audit_.back().hash;
  event.hash = ca::audit_entry_hash(event, event.previous_hash);
  audit_.push_back(std::move(event));
  return audit_.size();
}

void MemoryStore::append_all_locked(std::vector<ca::AuditEvent>& events) {
  for (auto& event : events) append_locked(std::move(event));
}

base::Result<std::vector<ca::AuditEvent>> MemoryStore::list_audit(std::uint64_t after,
                                                                  std::size_t limit) {
  std::lock_guard lock(mutex_);
  std::vector<ca::AuditEvent> out;
  for (std::size_t i = after; i < audit_.size() && out.size() < limit; ++i) {
    out.push_back(audit_[i]);
  }
  return out;
}

// ---- ProfileDirectory ----

base::Result<void> MemoryStore::create_profile(const ca::Profile& profile,
                                               std::optional<ca::AuditEvent> event) {
  std::lock_guard lock(mutex_);
  auto key = std::make_pair(profile.ca_name, profile.name);
  if (profiles_.count(key) != 0) {
    return Error(
        ErrorCode::kAlreadyExists,
        "the CA '" + profile.ca_name + "' already has a profile named '" + profile.name + "'");
  }
  auto stored = profile;
  stored.version = 1;
  profiles_.emplace(std::move(key), std::move(stored));
  if (event) append_locked(std::move(*event));
  return base::ok();
}

base::Result<ca::Profile> MemoryStore::update_profile(const ca::Profile& profile,
                                                      std::optional<ca::AuditEvent> event) {
  std::lock_guard lock(mutex_);
  auto it = profiles_.find(std::make_pair(profile.ca_name, profile.name));
  if (it == profiles_.end()) {
    return Error(ErrorCode::kNotFound, "there is no profile '" + profile.qualified_name() + "'");
  }
  if (it->second.version != profile.version) {
    return Error(ErrorCode::kConflict,
                 "the profile '" + profile.qualified_name() + "' was changed meanwhile (version " +
                     std::to_string(it->second.version) + ", the update was based on " +
                     std::to_string(profile.version) + ")");
  }
  it->second = profile;
  it->second.version = profile.version + 1;
  if (event) append_locked(std::move(*event));
  return it->second;
}

base::Result<std::optional<ca::Profile>> MemoryStore::find_profile(std::string_view ca_name,
                                                                   std::string_view name) {
  std::lock_guard lock(mutex_);
  auto it = profiles_.find(std::make_pair(std::string(ca_name), std::string(name)));
  if (it == profiles_.end()) return std::optional<ca::Profile>();
  return std::optional(it->second);
}

base::Result<std::vector<ca::Profile>> MemoryStore::find_profiles_by_name(std::string_view name) {
  std::lock_guard lock(mutex_);
  std::vector<ca::Profile> out;
  for (const auto& [key, profile] : profiles_) {
    if (key.second == name) out.push_back(profile);
  }
  return out;
}

base::Result<std::vector<ca::Profile>> MemoryStore::list_profiles(std::string_view ca_name) {
  std::lock_guard lock(mutex_);
  std::vector<ca::Profile> out;
  for (const auto& [key, profile] : profiles_) {
    if (ca_name.empty() || key.first == ca_name) out.push_back(profile);
  }
  return out;
}

// ---- OrderLog ----

base::Result<void> MemoryStore::check_order_locked(const ca::Order& order) const {
  auto it = orders_.find(order.id);
  if (it == orders_.end()) {
    return Error(ErrorCode::kNotFound, "there is no order " + std::to_string(order.id));
  }
  if (it->second.revision != order.revision) {
    return Error(ErrorCode::kConflict,
                 "the order " + std::to_string(order.id) + " was changed meanwhile (revision " +
                     std::to_string(it->second.revision) + ", the update was based on " +
                     std::to_string(order.revision) + ")");
  }
  return base::ok();
}

std::uint64_t MemoryStore::store_order_locked(ca::Order order) {
  ++order.revision;
  const std::uint64_t revision = order.revision;
  orders_[order.id] = std::move(order);
  return revision;
}

base::Result<std::uint64_t> MemoryStore::create_order(ca::Order order,
                                                      std::vector<ca::AuditEvent> events) {
  std::lock_guard lock(mutex_);
  order.id = orders_.empty() ? 1 : orders_.rbegin()->first + 1;
  order.revision = 1;
  const std::uint64_t id = order.id;
  ++order_writes_;
  created_status_[id] = order.status;
  orders_.emplace(id, std::move(order));
  append_all_locked(events);
  return id;
}

std::size_t MemoryStore::order_writes() const {
  std::lock_guard lock(mutex_);
  return order_writes_;
}

std::optional<ca::OrderStatus> MemoryStore::first_status_of(std::uint64_t id) const {
  std::lock_guard lock(mutex_);
  const auto it = created_status_.find(id);
  if (it == created_status_.end()) return std::nullopt;
  return it->second;
}

base::Result<std::uint64_t> MemoryStore::update_order(const ca::Order& order,
                                                      std::vector<ca::AuditEvent> events,
                                                      std::optional<ca::Alert> alert) {
  std::lock_guard lock(mutex_);
  SIGNET_TRY(check_order_locked(order));
  ++order_writes_;
  const std::uint64_t revision = store_order_locked(order);
  if (alert) {
    bool raised = false;
    raise_locked(std::move(*alert), raised);
  }
  append_all_locked(events);
  return revision;
}

base::Result<std::optional<ca::Order>> MemoryStore::find_order(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  auto it = orders_.find(id);
  if (it == orders_.end()) return std::optional<ca::Order>();
  return std::optional(it->second);
}

base::Result<std::vector<ca::Order>> MemoryStore::list_orders(const ca::OrderQuery& query) {
  if (query.limit < 1 || query.limit > 1000) {
    return Error(ErrorCode::kInvalidArgument,
                 "the page size must be between 1 and 1000, not " + std::to_string(query.limit));
  }
  std::lock_guard lock(mutex_);
  std::vector<ca::Order> out;
  for (auto it = orders_.rbegin(); it != orders_.rend() && out.size() < query.limit; ++it) {
    const auto& order = it->second;
    if (query.before != 0 && order.id >= query.before) continue;
    if (query.status && order.status != *query.status) continue;
    if (query.kind && order.kind != *query.kind) continue;
    out.push_back(order);
  }
  return out;
}

base::Result<std::vector<ca::Order>> MemoryStore::list_unfinished_orders() {
  std::lock_guard lock(mutex_);
  std::vector<ca::Order> out;
  for (const auto& [id, order] : orders_) {
    if (order.status == ca::OrderStatus::kPending || order.status == ca::OrderStatus::kProcessing)
      out.push_back(order);
  }
  return out;
}

// ---- AlertLog ----

std::uint64_t MemoryStore::raise_locked(ca::Alert alert, bool& raised) {
  if (!alert.dedupe_key.empty()) {
    for (const auto& [id, open] : alerts_) {
      if (!open.acknowledged && open.dedupe_key == alert.dedupe_key) {
        raised = false;
        return id;
      }
    }
  }
  alert.id = alerts_.empty() ? 1 : alerts_.rbegin()->first + 1;
  alert.acknowledged = false;
  alert.acknowledged_at.reset();
  alert.acknowledged_by.clear();
  const std::uint64_t id = alert.id;
  alerts_.emplace(id, std::move(alert));
  raised = true;
  return id;
}

base::Result<std::uint64_t> MemoryStore::raise_alert(ca::Alert alert,
                                                     std::optional<ca::AuditEvent> event) {
  std::lock_guard lock(mutex_);
  bool raised = false;
  const std::uint64_t id = raise_locked(std::move(alert), raised);
  if (raised && event) append_locked(std::move(*event));
  return id;
}

base::Result<ca::Alert> MemoryStore::acknowledge_alert(std::uint64_t id, std::string by,
                                                       base::TimePoint at,
                                                       std::optional<ca::AuditEvent> event) {
  std::lock_guard lock(mutex_);
  auto it = alerts_.find(id);
  if (it == alerts_.end()) {
    return Error(ErrorCode::kNotFound, "there is no alert " + std::to_string(id));
  }
  if (!it->second.acknowledged) {
    it->second.acknowledged = true;
    it->second.acknowledged_at = at;
    it->second.acknowledged_by = std::move(by);
    if (event) append_locked(std::move(*event));
  }
  return it->second;
}

base::Result<std::optional<ca::Alert>> MemoryStore::find_alert(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  auto it = alerts_.find(id);
  if (it == alerts_.end()) return std::optional<ca::Alert>();
  return std::optional(it->second);
}

base::Result<std::vector<ca::Alert>> MemoryStore::list_alerts(bool include_acknowledged,
                                                              std::size_t limit) {
  std::lock_guard lock(mutex_);
  std::vector<ca::Alert> out;
  for (auto it = alerts_.rbegin(); it != alerts_.rend() && out.size() < limit; ++it) {
    if (include_acknowledged || !it->second.acknowledged) out.push_back(it->second);
  }
  return out;
}

// ---- for tests ----

void MemoryStore::inject_collisions(int count) {
  std::lock_guard lock(mutex_);
  collisions_to_inject_ = count;
}

std::size_t MemoryStore::certificate_count() {
  std::lock_guard lock(mutex_);
  return certificates_.size();
}

}  // namespace signet::test
