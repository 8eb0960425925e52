// LmdbStore::check_integrity: every record decodes, and the indexes and the records agree
// exactly (each index entry resolves to a record carrying the indexed value, and each record
// has each of its index entries, counted).
#include <algorithm>
#include <map>

#include "store/internal/store_impl.h"

namespace signet::store {

namespace {

constexpr std::size_t kMaxProblems = 100;

// What the indexes should hold for one record.
struct Expected {
  base::Bytes ca_serial;  // empty for a discovered certificate
  base::Bytes serial;
  base::Bytes fingerprint;
  std::vector<std::string> names;
  schema::NotAfterKey not_after{};
};

class Checker {
 public:
  Checker(lmdb::Transaction& txn, const schema::Tables& tables, IntegrityReport& report)
      : txn_(txn), tables_(tables), report_(report) {}

  base::Result<void> run() {
    SIGNET_TRY(read_records());
    std::size_t managed = 0, names = 0;
    for (const auto& [id, e] : records_) {
      managed += e.ca_serial.empty() ? 0 : 1;
      names += e.names.size();
    }
    const std::size_t n = records_.size();
    SIGNET_TRY(
        check_index(tables_.cert_by_ca_serial, managed, [](const Expected& e, base::ByteView key) {
          return !e.ca_serial.empty() && std::ranges::equal(e.ca_serial, key);
        }));
    SIGNET_TRY(check_index(tables_.cert_by_serial, n, [](const Expected& e, base::ByteView key) {
      return std::ranges::equal(e.serial, key);
    }));
    SIGNET_TRY(
        check_index(tables_.cert_by_fingerprint, n, [](const Expected& e, base::ByteView key) {
          return std::ranges::equal(e.fingerprint, key);
        }));
    SIGNET_TRY(check_index(tables_.cert_by_name, names, [](const Expected& e, base::ByteView key) {
      return std::ranges::any_of(e.names, [&](const std::string& name) {
        return std::ranges::equal(base::as_bytes(name), key);
      });
    }));
    SIGNET_TRY(check_not_after(n));
    SIGNET_TRY(check_cas());
    return check_audit();
  }

 private:
  void problem(std::string text) {
    if (report_.problems.size() < kMaxProblems) report_.problems.push_back(std::move(text));
  }

  base::Result<void> read_records() {
    SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn_, tables_.certs));
    SIGNET_ASSIGN_OR_RETURN(auto entry, cursor.first());
    for (; entry; ++report_.certificates) {
      const std::uint64_t id = schema::id_from(entry->key);
      auto record = codec::decode_certificate(entry->value, tables_.certs.name, entry->key);
      if (id == 0) {
        problem("table 'certs' has a key that is not an 8-byte id");
      } else if (!record) {
        problem(record.error().message());
      } else {
        Expected e;
        if (!record->ca_name.empty()) {
          auto key = schema::ca_serial_key(record->ca_name, record->serial);
          e.ca_serial.assign(key.view().begin(), key.view().end());
        }
        e.serial = record->serial.magnitude();
        e.fingerprint = record->fingerprint_sha256;
        e.names = schema::name_keys(*record);
        e.not_after = schema::not_after_key(record->not_after, id);
        records_.emplace(id, std::move(e));
      }
      SIGNET_ASSIGN_OR_RETURN(entry, cursor.next());
    }
    return base::ok();
  }

  // Every entry's value is the id of a record that `matches` the key; the valid entries
  // number exactly `expected` (the unique and dupsort tables hold no repeated pair, so equal
  // counts mean every record has its entry).
  template <typename Matches>
  base::Result<void> check_index(const lmdb::Table& index, std::size_t expected, Matches matches) {
    std::size_t valid = 0;
    SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn_, index));
    SIGNET_ASSIGN_OR_RETURN(auto entry, cursor.first());
    while (entry) {
      ++report_.index_entries;
      const std::uint64_t id = schema::id_from(entry->value);
      auto record = records_.find(id);
      if (record == records_.end()) {
        problem(dangling(index, id).message());
      } else if (!matches(record->second, entry->key)) {
        problem("the index '" + std::string(index.name) + "' entry " + base::to_hex(entry->key) +
                " does not match certificate id " + std::to_string(id));
      } else {
        ++valid;
      }
      SIGNET_ASSIGN_OR_RETURN(entry, cursor.next());
    }
    if (valid != expected) {
      problem("the index '" + std::string(index.name) + "' has " + std::to_string(valid) +
              " valid entries for " + std::to_string(expected) + " expected");
    }
    return base::ok();
  }

  base::Result<void> check_not_after(std::size_t expected) {
    std::size_t valid = 0;
    const auto& index = tables_.cert_by_not_after;
    SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn_, index));
    SIGNET_ASSIGN_OR_RETURN(auto entry, cursor.first());
    while (entry) {
      ++report_.index_entries;
      const std::uint64_t id = entry->key.size() == 16 ? schema::id_from(entry->key.subspan(8)) : 0;
      auto record = records_.find(id);
      if (record == records_.end()) {
        problem(dangling(index, id).message());
      } else if (!std::ranges::equal(record->second.not_after, entry->key)) {
        problem("the index 'cert_by_not_after' entry " + base::to_hex(entry->key) +
                " does not match certificate id " + std::to_string(id));
      } else {
        ++valid;
      }
      SIGNET_ASSIGN_OR_RETURN(entry, cursor.next());
    }
    if (valid != expected) {
      problem("the index 'cert_by_not_after' has " + std::to_string(valid) + " valid entries for " +
              std::to_string(expected) + " expected");
    }
    return base::ok();
  }

  base::Result<void> check_cas() {
    SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn_, tables_.cas));
    SIGNET_ASSIGN_OR_RETURN(auto entry, cursor.first());
    for (; entry; ++report_.cas) {
      auto record = codec::decode_ca(entry->value, tables_.cas.name, entry->key);
      if (!record) {
        problem(record.error().message());
      } else if (!std::ranges::equal(base::as_bytes(record->name), entry->key)) {
        problem("the CA record under '" + std::string(base::as_chars(entry->key)) + "' is named '" +
                record->name + "'");
      }
      SIGNET_ASSIGN_OR_RETURN(entry, cursor.next());
    }
    return base::ok();
  }

  // Sequence numbers run 1, 2, 3... without gaps.
  base::Result<void> check_audit() {
    SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn_, tables_.audit));
    SIGNET_ASSIGN_OR_RETURN(auto entry, cursor.first());
    while (entry) {
      ++report_.audit_events;
      const std::uint64_t sequence = schema::id_from(entry->key);
      if (sequence != report_.audit_events) {
        problem("the audit log has sequence " + std::to_string(sequence) + " where " +
                std::to_string(report_.audit_events) + " was expected");
      }
      if (auto event = codec::decode_audit(entry->value, tables_.audit.name, entry->key); !event) {
        problem(event.error().message());
      }
      SIGNET_ASSIGN_OR_RETURN(entry, cursor.next());
    }
    return base::ok();
  }

  lmdb::Transaction& txn_;
  const schema::Tables& tables_;
  IntegrityReport& report_;
  std::map<std::uint64_t, Expected> records_;
};

}  // namespace

base::Result<IntegrityReport> LmdbStore::check_integrity() {
  IntegrityReport report;
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  Checker checker(txn, impl_->tables, report);
  SIGNET_TRY(checker.run());
  return report;
}

}  // namespace signet::store
