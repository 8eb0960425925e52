// MemoryStore's revocation reads (scan_revoked, scan_revoked_since, serial_status) and its
// ca::CrlLog: brute force over the records, with the LMDB store's orders and refusals.
#include <algorithm>

#include "tests/support/memory_store.h"

namespace signet::test {

using base::Error;
using base::ErrorCode;

// ---- Inventory: revocations ----

std::vector<ca::CertificateRecord> MemoryStore::revoked_locked(std::string_view ca_name) const {
  std::vector<ca::CertificateRecord> out;
  if (ca_name.empty()) return out;  // discovered certificates are on no CRL of ours
  for (const auto& [id, record] : certificates_) {
    if (record.ca_name == ca_name && record.revocation) out.push_back(record);
  }
  return out;
}

base::Result<ca::RevokedScan> MemoryStore::visit_all(std::vector<ca::CertificateRecord> revoked,
                                                     std::uint64_t revocation_sequence,
                                                     ca::RevokedVisitor& visitor) {
  ca::RevokedScan scan;
  scan.revocation_sequence = revocation_sequence;
  visitor.begin(revoked.size());
  for (const auto& record : revoked) {
    ca::RevokedEntry entry;
    entry.serial = record.serial.magnitude();
    entry.revoked_at = record.revocation->revoked_at;
    entry.reason = record.revocation->reason;
    entry.invalidity_date = record.revocation->invalidity_date;
    entry.not_after = record.not_after;
    entry.sequence = record.revocation->sequence;
    SIGNET_TRY(visitor.visit(entry));
    ++scan.entries;
  }
  return scan;
}

base::Result<ca::RevokedScan> MemoryStore::scan_revoked(std::string_view ca_name,
                                                        ca::RevokedVisitor& visitor) {
  std::vector<ca::CertificateRecord> revoked;
  std::uint64_t sequence = 0;
  {
    std::lock_guard lock(mutex_);
    revoked = revoked_locked(ca_name);
    sequence = next_revocation_sequence_ - 1;
  }
  // Numeric order: a shorter minimal magnitude is a smaller number.
  std::sort(revoked.begin(), revoked.end(), [](const auto& a, const auto& b) {
    const auto& x = a.serial.magnitude();
    const auto& y = b.serial.magnitude();
    return x.size() != y.size() ? x.size() < y.size() : x < y;
  });
  return visit_all(std::move(revoked), sequence, visitor);
}

base::Result<ca::RevokedScan> MemoryStore::scan_revoked_since(std::string_view ca_name,
                                                              std::uint64_t after_sequence,
                                                              ca::RevokedVisitor& visitor) {
  std::vector<ca::CertificateRecord> revoked;
  std::uint64_t sequence = 0;
  {
    std::lock_guard lock(mutex_);
    revoked = revoked_locked(ca_name);
    sequence = next_revocation_sequence_ - 1;
  }
  std::erase_if(revoked, [&](const auto& r) { return r.revocation->sequence <= after_sequence; });
  std::sort(revoked.begin(), revoked.end(), [](const auto& a, const auto& b) {
    return a.revocation->sequence < b.revocation->sequence;
  });
  return visit_all(std::move(revoked), sequence, visitor);
}

base::Result<std::optional<ca::SerialStatus>> MemoryStore::serial_status(
    std::string_view ca_name, const pki::SerialNumber& serial) {
  std::lock_guard lock(mutex_);
  if (ca_name.empty()) return std::optional<ca::SerialStatus>();
  for (const auto& [id, record] : certificates_) {
    if (record.ca_name == ca_name && record.serial == serial) {
      return std::optional(ca::SerialStatus{id, record.not_after, record.revocation});
    }
  }
  return std::optional<ca::SerialStatus>();
}

// ---- CrlLog ----

base::Result<std::uint64_t> MemoryStore::reserve_crl_number(std::string_view ca_name) {
  if (ca_name.empty()) return Error(ErrorCode::kInvalidArgument, "a CRL needs its CA's name");
  std::lock_guard lock(mutex_);
  auto it = next_crl_numbers_.find(ca_name);
  if (it == next_crl_numbers_.end()) it = next_crl_numbers_.emplace(std::string(ca_name), 1).first;
  return it->second++;
}

base::Result<void> MemoryStore::store_crl(const ca::CrlRecord& crl,
                                          std::optional<ca::AuditEvent> event, std::size_t keep) {
  const std::string name =
      "CRL number " + std::to_string(crl.number) + " of CA '" + crl.ca_name + "'";
  if (crl.ca_name.empty() || crl.number == 0 || crl.der.empty() || keep == 0) {
    return Error(ErrorCode::kInvalidArgument,
                 name + " needs a CA name, a number from 1, DER and keep >= 1");
  }
  std::lock_guard lock(mutex_);
  auto next = next_crl_numbers_.find(crl.ca_name);
  if (next == next_crl_numbers_.end() || crl.number >= next->second) {
    return Error(ErrorCode::kInvalidArgument, name + " was never reserved");
  }
  const auto key = std::make_pair(crl.ca_name, crl.number);
  if (crls_.count(key) != 0) return Error(ErrorCode::kAlreadyExists, name + " is already stored");
  ca::CrlRecord stored = crl;
  stored.der_size = stored.der.size();
  crls_.emplace(key, std::move(stored));
  if (event) append_locked(std::move(*event));
  // Keep the newest `keep` of this kind.
  std::size_t kept = 0;
  for (auto it = crls_.rbegin(); it != crls_.rend();) {
    const bool doomed =
        it->first.first == crl.ca_name && it->second.kind == crl.kind && ++kept > keep;
    if (doomed) {
      it = std::make_reverse_iterator(crls_.erase(std::next(it).base()));
    } else {
      ++it;
    }
  }
  return base::ok();
}

base::Result<std::optional<ca::CrlRecord>> MemoryStore::latest_crl(std::string_view ca_name,
                                                                   ca::CrlKind kind) {
  std::lock_guard lock(mutex_);
  for (auto it = crls_.rbegin(); it != crls_.rend(); ++it) {
    if (it->first.first == ca_name && it->second.kind == kind) return std::optional(it->second);
  }
  return std::optional<ca::CrlRecord>();
}

base::Result<std::optional<ca::CrlRecord>> MemoryStore::latest_crl_info(std::string_view ca_name,
                                                                        ca::CrlKind kind) {
  SIGNET_ASSIGN_OR_RETURN(auto found, latest_crl(ca_name, kind));
  if (found) {
    found->der.clear();
    found->der.shrink_to_fit();
  }
  return found;
}

base::Result<std::optional<ca::CrlRecord>> MemoryStore::find_crl(std::string_view ca_name,
                                                                 std::uint64_t number) {
  std::lock_guard lock(mutex_);
  auto it = crls_.find(std::make_pair(std::string(ca_name), number));
  if (it == crls_.end()) return std::optional<ca::CrlRecord>();
  return std::optional(it->second);
}

base::Result<std::vector<ca::CrlRecord>> MemoryStore::list_crls(std::string_view ca_name,
                                                                std::size_t limit) {
  std::lock_guard lock(mutex_);
  std::vector<ca::CrlRecord> out;
  for (auto it = crls_.rbegin(); it != crls_.rend() && out.size() < limit; ++it) {
    if (it->first.first != ca_name) continue;
    ca::CrlRecord listed = it->second;
    listed.der.clear();
    out.push_back(std::move(listed));
  }
  return out;
}

}  // namespace signet::test
