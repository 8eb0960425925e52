// LmdbStore::check_integrity: every record decodes, and the indexes and the records agree
// exactly (each index entry resolves to a record carrying the indexed value, and each record
// has each of its index entries, counted); the same for the revocation, order and alert
// indexes and the per-CA revoked table; stored CRLs have their DER under a reserved number;
// operators and API tokens decode under their own keys, and operator_certs holds exactly the
// operators' certificate fingerprints; and the audit log's hash chain verifies.
#include <algorithm>
#include <map>

#include "ca/audit.h"
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
  // Keys of the indexes whose entries carry the id in the key (value empty).
  base::Bytes not_before, cn, ca, profile;  // profile empty: none
  std::vector<std::string> dns;
  std::optional<base::Bytes> key_location;
  std::uint64_t revocation = 0;  // its sequence; 0: not revoked
};

// A managed revoked record's entry in the revoked table.
struct ExpectedRevoked {
  std::uint64_t id = 0;
  schema::RevokedValue value;
};

base::ByteView bytes_of(const std::string& s) { return base::as_bytes(s); }
bool same(base::ByteView a, base::ByteView b) { return std::ranges::equal(a, b); }

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
    std::size_t profiles = 0, dns = 0, keys = 0, revoked = 0;
    for (const auto& [id, e] : records_) {
      profiles += e.profile.empty() ? 0 : 1;
      dns += e.dns.size();
      keys += e.key_location ? 1 : 0;
      revoked += e.revocation != 0 ? 1 : 0;
    }
    SIGNET_TRY(check_index(tables_.cert_by_ca_serial, managed, [](const Expected& e, auto key) {
      return !e.ca_serial.empty() && same(e.ca_serial, key);
    }));
    SIGNET_TRY(check_index(tables_.cert_by_serial, n,
                           [](const Expected& e, auto key) { return same(e.serial, key); }));
    SIGNET_TRY(check_index(tables_.cert_by_fingerprint, n,
                           [](const Expected& e, auto key) { return same(e.fingerprint, key); }));
    SIGNET_TRY(check_index(tables_.cert_by_name, names, [](const Expected& e, auto key) {
      return std::ranges::any_of(e.names,
                                 [&](const auto& name) { return same(bytes_of(name), key); });
    }));
    SIGNET_TRY(check_index(tables_.cert_by_dns, dns, [](const Expected& e, auto key) {
      return std::ranges::any_of(e.dns,
                                 [&](const auto& name) { return same(bytes_of(name), key); });
    }));
    SIGNET_TRY(check_index(tables_.cert_by_key, keys, [](const Expected& e, auto key) {
      return e.key_location && same(*e.key_location, key);
    }));
    SIGNET_TRY(check_key_index(tables_.cert_by_not_after, n,
                               [](const Expected& e, auto key) { return same(e.not_after, key); }));
    SIGNET_TRY(check_key_index(tables_.cert_by_not_before, n, [](const Expected& e, auto key) {
      return same(e.not_before, key);
    }));
    SIGNET_TRY(check_key_index(tables_.cert_by_cn, n,
                               [](const Expected& e, auto key) { return same(e.cn, key); }));
    SIGNET_TRY(check_key_index(tables_.cert_by_ca, n,
                               [](const Expected& e, auto key) { return same(e.ca, key); }));
    SIGNET_TRY(check_key_index(tables_.cert_by_profile, profiles, [](const Expected& e, auto key) {
      return !e.profile.empty() && same(e.profile, key);
    }));
    SIGNET_TRY(check_revocations(revoked));
    SIGNET_TRY(check_revoked());
    SIGNET_TRY(check_cas());
    SIGNET_TRY(check_crls());
    SIGNET_TRY(check_profiles());
    SIGNET_TRY(check_orders());
    SIGNET_TRY(check_alerts());
    SIGNET_TRY(check_operators());
    SIGNET_TRY(check_api_tokens());
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
        const auto serial = schema::serial_key(record->serial);
        e.serial.assign(serial.begin(), serial.end());
        e.fingerprint = record->fingerprint_sha256;
        e.names = schema::name_keys(*record);
        e.not_after = schema::not_after_key(record->not_after, id);
        const auto not_before = schema::not_after_key(record->not_before, id);
        e.not_before.assign(not_before.begin(), not_before.end());
        e.cn = schema::cn_sort_key(record->common_name, id);
        e.ca = schema::prefixed_key(record->ca_name, e.not_after);
        if (!record->profile.empty())
          e.profile = schema::prefixed_key(record->profile, e.not_after);
        e.dns = schema::dns_keys(*record);
        e.key_location = schema::key_location_key(*record);
        if (record->revocation) {
          e.revocation = record->revocation->sequence;
          if (e.revocation == 0) {
            problem("certificate id " + std::to_string(id) + " is revoked without a sequence");
          }
          if (!record->ca_name.empty()) {
            const auto key = schema::revoked_key(record->ca_name, record->serial);
            revoked_.emplace(base::Bytes(key.view().begin(), key.view().end()),
                             ExpectedRevoked{id, schema::revoked_value(*record)});
          }
        }
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

  // As check_index, for the indexes whose keys end in the 8-byte id (and whose values are
  // empty).
  template <typename Matches>
  base::Result<void> check_key_index(const lmdb::Table& index, std::size_t expected,
                                     Matches matches) {
    std::size_t valid = 0;
    SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn_, index));
    SIGNET_ASSIGN_OR_RETURN(auto entry, cursor.first());
    while (entry) {
      ++report_.index_entries;
      const auto& key = entry->key;
      const std::uint64_t id = key.size() >= 8 ? schema::id_from(key.subspan(key.size() - 8)) : 0;
      auto record = records_.find(id);
      if (record == records_.end()) {
        problem(dangling(index, id).message());
      } else if (!matches(record->second, key)) {
        problem("the index '" + std::string(index.name) + "' entry " + base::to_hex(key) +
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

  // Each revocation entry names a record revoked with that sequence, and each revoked record
  // has its entry.
  base::Result<void> check_revocations(std::size_t expected) {
    std::size_t valid = 0;
    SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn_, tables_.revocations));
    SIGNET_ASSIGN_OR_RETURN(auto entry, cursor.first());
    for (; entry; ++report_.revocations) {
      const std::uint64_t sequence = schema::id_from(entry->key);
      const std::uint64_t id = schema::id_from(entry->value);
      auto record = records_.find(id);
      if (record == records_.end()) {
        problem(dangling(tables_.revocations, id).message());
      } else if (record->second.revocation != sequence) {
        problem("revocation " + std::to_string(sequence) + " names certificate id " +
                std::to_string(id) + ", whose revocation sequence is " +
                std::to_string(record->second.revocation));
      } else {
        ++valid;
      }
      SIGNET_ASSIGN_OR_RETURN(entry, cursor.next());
    }
    if (valid != expected) {
      problem("the table 'revocations' has " + std::to_string(valid) + " valid entries for " +
              std::to_string(expected) + " revoked certificates");
    }
    return base::ok();
  }

  // Each entry of the revoked table is a revoked record of that CA and serial and carries
  // exactly that record's revocation and notAfter; each such record has its entry.
  base::Result<void> check_revoked() {
    std::size_t valid = 0;
    SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn_, tables_.revoked));
    SIGNET_ASSIGN_OR_RETURN(auto entry, cursor.first());
    for (; entry; ++report_.revoked_entries) {
      auto expected = revoked_.find(base::Bytes(entry->key.begin(), entry->key.end()));
      if (expected == revoked_.end()) {
        problem("the table 'revoked' entry " + base::to_hex(entry->key) +
                " names no revoked certificate of that CA and serial");
      } else if (!same(expected->second.value.view(), entry->value)) {
        problem("the table 'revoked' entry " + base::to_hex(entry->key) +
                " does not match the revocation of certificate id " +
                std::to_string(expected->second.id));
      } else {
        ++valid;
      }
      SIGNET_ASSIGN_OR_RETURN(entry, cursor.next());
    }
    if (valid != revoked_.size()) {
      problem("the table 'revoked' has " + std::to_string(valid) + " valid entries for " +
              std::to_string(revoked_.size()) + " revoked certificates of CAs");
    }
    return base::ok();
  }

  // Each stored CRL decodes under its own key, below its CA's next CRL number, with its DER
  // of the recorded size; each DER belongs to a stored CRL.
  base::Result<void> check_crls() {
    std::map<std::string, std::uint64_t, std::less<>> next_numbers;
    SIGNET_ASSIGN_OR_RETURN(auto numbers, lmdb::Cursor::open(txn_, tables_.crl_numbers));
    SIGNET_ASSIGN_OR_RETURN(auto entry, numbers.first());
    while (entry) {
      const std::string ca(base::as_chars(entry->key));
      if (entry->value.size() != 8) {
        problem("the table 'crl_numbers' entry for CA '" + ca + "' is not an 8-byte number");
      } else {
        next_numbers.emplace(ca, schema::id_from(entry->value));
      }
      SIGNET_ASSIGN_OR_RETURN(entry, numbers.next());
    }
    std::size_t with_der = 0;
    SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn_, tables_.crls));
    SIGNET_ASSIGN_OR_RETURN(entry, cursor.first());
    for (; entry; ++report_.crls) {
      auto crl = codec::decode_crl(entry->value, tables_.crls.name, entry->key);
      if (!crl) {
        problem(crl.error().message());
      } else {
        const std::string name =
            "CRL number " + std::to_string(crl->number) + " of CA '" + crl->ca_name + "'";
        if (!same(schema::crl_key(crl->ca_name, crl->number).view(), entry->key)) {
          problem("the stored " + name + " is under the key " + base::to_hex(entry->key));
        }
        auto next = next_numbers.find(crl->ca_name);
        if (next == next_numbers.end() || crl->number >= next->second) {
          problem("the stored " + name + " was never reserved");
        }
        SIGNET_ASSIGN_OR_RETURN(auto der, txn_.get(tables_.crl_der, entry->key));
        if (!der || der->size() != crl->der_size) {
          problem("the stored " + name + " lacks its DER of " + std::to_string(crl->der_size) +
                  " bytes");
        } else {
          ++with_der;
        }
      }
      SIGNET_ASSIGN_OR_RETURN(entry, cursor.next());
    }
    SIGNET_ASSIGN_OR_RETURN(const std::size_t ders, txn_.entries(tables_.crl_der));
    if (ders != with_der) {
      problem("the table 'crl_der' has " + std::to_string(ders) + " entries for " +
              std::to_string(with_der) + " stored CRLs with DER");
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

  base::Result<void> check_profiles() {
    SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn_, tables_.profiles));
    SIGNET_ASSIGN_OR_RETURN(auto entry, cursor.first());
    for (; entry; ++report_.profiles) {
      auto profile = codec::decode_profile(entry->value, tables_.profiles.name, entry->key);
      if (!profile) {
        problem(profile.error().message());
      } else if (!same(schema::prefixed_key(profile->ca_name, bytes_of(profile->name)),
                       entry->key)) {
        problem("the profile under " + base::to_hex(entry->key) + " is named '" +
                profile->qualified_name() + "'");
      }
      SIGNET_ASSIGN_OR_RETURN(entry, cursor.next());
    }
    return base::ok();
  }

  // Every order decodes and has exactly its order_by_status entry.
  base::Result<void> check_orders() {
    std::map<std::uint64_t, ca::OrderStatus> statuses;
    SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn_, tables_.orders));
    SIGNET_ASSIGN_OR_RETURN(auto entry, cursor.first());
    for (; entry; ++report_.orders) {
      auto order = codec::decode_order(entry->value, tables_.orders.name, entry->key);
      if (!order) {
        problem(order.error().message());
      } else {
        statuses.emplace(schema::id_from(entry->key), order->status);
      }
      SIGNET_ASSIGN_OR_RETURN(entry, cursor.next());
    }
    std::size_t valid = 0;
    SIGNET_ASSIGN_OR_RETURN(auto index, lmdb::Cursor::open(txn_, tables_.order_by_status));
    SIGNET_ASSIGN_OR_RETURN(entry, index.first());
    while (entry) {
      ++report_.index_entries;
      const std::uint64_t id = entry->key.size() == 9 ? schema::id_from(entry->key.subspan(1)) : 0;
      auto order = statuses.find(id);
      if (order == statuses.end() || schema::order_status_byte(order->second) != entry->key[0]) {
        problem("the index 'order_by_status' entry " + base::to_hex(entry->key) +
                " does not match an order");
      } else {
        ++valid;
      }
      SIGNET_ASSIGN_OR_RETURN(entry, index.next());
    }
    if (valid != statuses.size()) {
      problem("the index 'order_by_status' has " + std::to_string(valid) + " valid entries for " +
              std::to_string(statuses.size()) + " orders");
    }
    return base::ok();
  }

  // Every alert decodes; alert_open holds exactly the unacknowledged ones, and
  // alert_by_dedupe points each key to an unacknowledged alert carrying it.
  base::Result<void> check_alerts() {
    std::map<std::uint64_t, ca::Alert> alerts;
    SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn_, tables_.alerts));
    SIGNET_ASSIGN_OR_RETURN(auto entry, cursor.first());
    for (; entry; ++report_.alerts) {
      auto alert = codec::decode_alert(entry->value, tables_.alerts.name, entry->key);
      if (!alert) {
        problem(alert.error().message());
      } else {
        alerts.emplace(schema::id_from(entry->key), std::move(*alert));
      }
      SIGNET_ASSIGN_OR_RETURN(entry, cursor.next());
    }
    std::size_t open = 0;
    for (const auto& [id, alert] : alerts) open += alert.acknowledged ? 0 : 1;
    std::size_t valid = 0;
    SIGNET_ASSIGN_OR_RETURN(auto index, lmdb::Cursor::open(txn_, tables_.alert_open));
    SIGNET_ASSIGN_OR_RETURN(entry, index.first());
    while (entry) {
      ++report_.index_entries;
      auto alert = alerts.find(schema::id_from(entry->key));
      if (alert == alerts.end() || alert->second.acknowledged) {
        problem("the index 'alert_open' entry " + base::to_hex(entry->key) +
                " is not an unacknowledged alert");
      } else {
        ++valid;
      }
      SIGNET_ASSIGN_OR_RETURN(entry, index.next());
    }
    if (valid != open) {
      problem("the index 'alert_open' has " + std::to_string(valid) + " valid entries for " +
              std::to_string(open) + " unacknowledged alerts");
    }
    SIGNET_ASSIGN_OR_RETURN(auto dedupe, lmdb::Cursor::open(txn_, tables_.alert_by_dedupe));
    SIGNET_ASSIGN_OR_RETURN(entry, dedupe.first());
    while (entry) {
      ++report_.index_entries;
      auto alert = alerts.find(schema::id_from(entry->value));
      if (alert == alerts.end() || alert->second.acknowledged ||
          !same(schema::dedupe_index_key(alert->second.dedupe_key), entry->key)) {
        problem("the index 'alert_by_dedupe' entry " + base::to_hex(entry->key) +
                " does not point to an unacknowledged alert with that key");
      }
      SIGNET_ASSIGN_OR_RETURN(entry, dedupe.next());
    }
    return base::ok();
  }

  // Every operator decodes under its own name; operator_certs maps each operator's
  // certificate fingerprint to it, and nothing else.
  base::Result<void> check_operators() {
    std::map<base::Bytes, std::string> fingerprints;  // expected operator_certs entries
    SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn_, tables_.operators));
    SIGNET_ASSIGN_OR_RETURN(auto entry, cursor.first());
    for (; entry; ++report_.operators) {
      auto record = codec::decode_operator(entry->value, tables_.operators.name, entry->key);
      if (!record) {
        problem(record.error().message());
      } else if (!same(bytes_of(record->name), entry->key)) {
        problem("the operator record under '" + std::string(base::as_chars(entry->key)) +
                "' is named '" + record->name + "'");
      } else if (!record->certificate_fingerprint.empty()) {
        auto [at, added] = fingerprints.emplace(record->certificate_fingerprint, record->name);
        if (!added) {
          problem("the operators '" + at->second + "' and '" + record->name +
                  "' have the same client certificate " +
                  base::to_hex(record->certificate_fingerprint));
        }
      }
      SIGNET_ASSIGN_OR_RETURN(entry, cursor.next());
    }
    std::size_t valid = 0;
    SIGNET_ASSIGN_OR_RETURN(auto index, lmdb::Cursor::open(txn_, tables_.operator_certs));
    SIGNET_ASSIGN_OR_RETURN(entry, index.first());
    while (entry) {
      ++report_.index_entries;
      auto expected = fingerprints.find(base::Bytes(entry->key.begin(), entry->key.end()));
      if (expected == fingerprints.end() || !same(bytes_of(expected->second), entry->value)) {
        problem("the index 'operator_certs' entry " + base::to_hex(entry->key) +
                " does not match an operator with that certificate");
      } else {
        ++valid;
      }
      SIGNET_ASSIGN_OR_RETURN(entry, index.next());
    }
    if (valid != fingerprints.size()) {
      problem("the index 'operator_certs' has " + std::to_string(valid) + " valid entries for " +
              std::to_string(fingerprints.size()) + " operators with a client certificate");
    }
    return base::ok();
  }

  base::Result<void> check_api_tokens() {
    SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn_, tables_.api_tokens));
    SIGNET_ASSIGN_OR_RETURN(auto entry, cursor.first());
    for (; entry; ++report_.api_tokens) {
      auto record = codec::decode_api_token(entry->value, tables_.api_tokens.name, entry->key);
      if (!record) {
        problem(record.error().message());
      } else if (!same(bytes_of(record->id), entry->key)) {
        problem("the API token record under '" + std::string(base::as_chars(entry->key)) +
                "' has the id '" + record->id + "'");
      }
      SIGNET_ASSIGN_OR_RETURN(entry, cursor.next());
    }
    return base::ok();
  }

  // Sequence numbers run 1, 2, 3... without gaps, and each entry chains to the one before.
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
      auto event = codec::decode_audit(entry->value, tables_.audit.name, entry->key);
      if (!event) {
        problem(event.error().message());
      } else if (chain_ok_) {
        event->sequence = sequence;
        if (!same(event->previous_hash, head_) ||
            !same(event->hash, ca::audit_entry_hash(*event, head_))) {
          problem("the audit hash chain breaks at entry " + std::to_string(sequence) +
                  " (ca::verify_audit_chain tells how)");
          chain_ok_ = false;
        }
        head_ = event->hash;
      }
      SIGNET_ASSIGN_OR_RETURN(entry, cursor.next());
    }
    return base::ok();
  }

  lmdb::Transaction& txn_;
  const schema::Tables& tables_;
  IntegrityReport& report_;
  std::map<std::uint64_t, Expected> records_;
  std::map<base::Bytes, ExpectedRevoked> revoked_;         // by revoked table key
  base::Bytes head_ = base::Bytes(ca::kAuditHashSize, 0);  // the audit chain so far
  bool chain_ok_ = true;
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
