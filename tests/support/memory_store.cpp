#include "tests/support/memory_store.h"

#include <algorithm>
#include <cctype>

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

}  // namespace

std::future<base::Result<std::uint64_t>> MemoryStore::put_certificate_async(
    ca::CertificateRecord record, std::optional<ca::AuditEvent> event) {
  std::lock_guard lock(mutex_);
  if (collisions_to_inject_ > 0) {
    --collisions_to_inject_;
    return ready<base::Result<std::uint64_t>>(
        Error(ErrorCode::kAlreadyExists, "serial number already used by this CA"));
  }
  for (const auto& [id, existing] : certificates_) {
    if ((existing.ca_name == record.ca_name && existing.serial == record.serial) ||
        existing.fingerprint_sha256 == record.fingerprint_sha256) {
      return ready<base::Result<std::uint64_t>>(
          Error(ErrorCode::kAlreadyExists, "serial number already used by this CA"));
    }
  }
  const std::uint64_t id = certificates_.size() + 1;
  record.id = id;
  certificates_.emplace(id, std::move(record));
  if (event) append_locked(std::move(*event));
  return ready<base::Result<std::uint64_t>>(id);
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
      auto colon = san.find(':');
      if (colon != std::string::npos && lower(san.substr(colon + 1)) == wanted) match = true;
    }
    if (match) out.push_back(record);
  }
  return out;
}

base::Result<ca::CertificatePage> MemoryStore::list_certificates(
    const ca::CertificateQuery& query) {
  std::lock_guard lock(mutex_);
  std::vector<ca::CertificateRecord> matches;
  for (const auto& [id, record] : certificates_) {
    if (query.ca_name && record.ca_name != *query.ca_name) continue;
    if (query.status && ca::status_at(record, query.now) != *query.status) continue;
    if (query.not_after_before && record.not_after >= *query.not_after_before) continue;
    matches.push_back(record);
  }
  std::sort(matches.begin(), matches.end(), [](const auto& a, const auto& b) {
    return std::tie(a.not_after, a.id) < std::tie(b.not_after, b.id);
  });
  ca::CertificatePage page;
  std::size_t start = query.cursor.empty() ? 0 : std::stoul(query.cursor);
  for (std::size_t i = start; i < matches.size() && page.items.size() < query.limit; ++i) {
    page.items.push_back(matches[i]);
  }
  if (start + page.items.size() < matches.size()) {
    page.next_cursor = std::to_string(start + page.items.size());
  }
  return page;
}

base::Result<void> MemoryStore::create_ca(const ca::CaRecord& record,
                                          std::optional<ca::AuditEvent> event) {
  std::lock_guard lock(mutex_);
  if (cas_.count(record.name) != 0) {
    return Error(ErrorCode::kAlreadyExists, "a CA named '" + record.name + "' already exists");
  }
  auto stored = record;
  stored.revision = 1;
  cas_.emplace(record.name, std::move(stored));
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

base::Result<std::uint64_t> MemoryStore::append_audit(ca::AuditEvent event) {
  std::lock_guard lock(mutex_);
  return append_locked(std::move(event));
}

std::uint64_t MemoryStore::append_locked(ca::AuditEvent event) {
  event.sequence = audit_.size() + 1;
  audit_.push_back(std::move(event));
  return audit_.size();
}

base::Result<std::vector<ca::AuditEvent>> MemoryStore::list_audit(std::uint64_t after,
                                                                  std::size_t limit) {
  std::lock_guard lock(mutex_);
  std::vector<ca::AuditEvent> out;
  for (const auto& event : audit_) {
    if (event.sequence > after && out.size() < limit) out.push_back(event);
  }
  return out;
}

void MemoryStore::inject_collisions(int count) {
  std::lock_guard lock(mutex_);
  collisions_to_inject_ = count;
}

std::size_t MemoryStore::certificate_count() {
  std::lock_guard lock(mutex_);
  return certificates_.size();
}

}  // namespace signet::test
