// LmdbStore's revocation reads for CRLs and OCSP: scan_revoked (a full CRL: one cursor walk
// over the CA's range of the revoked table), scan_revoked_since (a delta CRL: the revocations
// table from a sequence on) and serial_status (an OCSP request: a few point reads). Each runs
// in one read transaction, so what it reports is one snapshot.
#include <algorithm>

#include "store/internal/store_impl.h"

namespace signet::store {

namespace {

using base::Error;
using base::ErrorCode;

// A full scan lets go of the map pages it passed every so many entries (see
// lmdb::Environment::release_mapped_pages): the revoked table's pages are spread over the
// whole store file, and without this a million-entry CRL keeps ~900 MB of it mapped.
constexpr std::uint64_t kReleaseMappedPagesEvery = 32768;

// The highest revocation sequence in the snapshot (0: none yet).
base::Result<std::uint64_t> last_revocation(lmdb::Transaction& txn, const lmdb::Table& table) {
  SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn, table));
  SIGNET_ASSIGN_OR_RETURN(auto last, cursor.last());
  return last ? schema::id_from(last->key) : 0;
}

Error corrupt_revoked(const lmdb::Table& table, base::ByteView key) {
  return Error(ErrorCode::kStorageError, "corrupt entry in table '" + std::string(table.name) +
                                             "' at key " + base::to_hex(key));
}

// Whether the CA can have revoked entries at all (discovered certificates have none; an
// invalid name names no CA).
bool names_a_ca(std::string_view ca_name) {
  return !ca_name.empty() && schema::validate_ca_name(ca_name).has_value();
}

}  // namespace

base::Result<ca::RevokedScan> LmdbStore::scan_revoked(std::string_view ca_name,
                                                      ca::RevokedVisitor& visitor) {
  ca::RevokedScan scan;
  const auto& table = impl_->tables.revoked;
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  SIGNET_ASSIGN_OR_RETURN(scan.revocation_sequence,
                          last_revocation(txn, impl_->tables.revocations));
  if (!names_a_ca(ca_name)) {
    visitor.begin(0);
    return scan;
  }
  SIGNET_ASSIGN_OR_RETURN(const std::size_t at_most, txn.entries(table));
  visitor.begin(at_most);
  // The CA's range: every key starts with its name and 0x00, then 20 serial bytes.
  const auto start = schema::revoked_key(ca_name, base::ByteView());
  const std::size_t prefix_size = start.size - std::tuple_size_v<schema::SerialKey>;
  const auto prefix = start.view().first(prefix_size);
  SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn, table));
  SIGNET_ASSIGN_OR_RETURN(auto row, cursor.seek(prefix));
  ca::RevokedEntry entry;  // reused: nothing is allocated per entry
  while (row && row->key.size() >= prefix_size &&
         std::equal(prefix.begin(), prefix.end(), row->key.begin())) {
    entry.serial = schema::revoked_key_serial(row->key, prefix_size);
    if (entry.serial.empty() || !schema::decode_revoked_value(row->value, entry)) {
      return corrupt_revoked(table, row->key);
    }
    SIGNET_TRY(visitor.visit(entry));
    if (++scan.entries % kReleaseMappedPagesEvery == 0) impl_->env->release_mapped_pages();
    SIGNET_ASSIGN_OR_RETURN(row, cursor.next());
  }
  return scan;
}

base::Result<ca::RevokedScan> LmdbStore::scan_revoked_since(std::string_view ca_name,
                                                            std::uint64_t after_sequence,
                                                            ca::RevokedVisitor& visitor) {
  ca::RevokedScan scan;
  const auto& t = impl_->tables;
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  SIGNET_ASSIGN_OR_RETURN(scan.revocation_sequence, last_revocation(txn, t.revocations));
  if (!names_a_ca(ca_name) || after_sequence >= scan.revocation_sequence) {
    visitor.begin(0);
    return scan;
  }
  visitor.begin(scan.revocation_sequence - after_sequence);
  SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn, t.revocations));
  SIGNET_ASSIGN_OR_RETURN(auto row, cursor.seek(schema::id_key(after_sequence + 1)));
  ca::RevokedEntry entry;
  while (row) {
    const std::uint64_t sequence = schema::id_from(row->key);
    const std::uint64_t id = schema::id_from(row->value);
    const auto id_key = schema::id_key(id);
    SIGNET_ASSIGN_OR_RETURN(auto encoded, txn.get(t.certs, id_key));
    if (!encoded) return dangling(t.revocations, id);
    SIGNET_ASSIGN_OR_RETURN(auto record, codec::glance_certificate(*encoded, t.certs.name, id_key));
    if (record.ca_name == ca_name) {
      const auto key = schema::revoked_key(ca_name, record.serial);
      SIGNET_ASSIGN_OR_RETURN(auto value, txn.get(t.revoked, key.view()));
      if (!value) {
        return Error(ErrorCode::kStorageError,
                     "revocation " + std::to_string(sequence) + " (certificate id " +
                         std::to_string(id) + ") has no entry in table '" + t.revoked.name + "'");
      }
      entry.serial = schema::revoked_key_serial(key.view(), ca_name.size() + 1);
      if (entry.serial.empty() || !schema::decode_revoked_value(*value, entry) ||
          entry.sequence != sequence) {
        return corrupt_revoked(t.revoked, key.view());
      }
      SIGNET_TRY(visitor.visit(entry));
      ++scan.entries;
    }
    SIGNET_ASSIGN_OR_RETURN(row, cursor.next());
  }
  return scan;
}

base::Result<std::optional<ca::SerialStatus>> LmdbStore::serial_status(
    std::string_view ca_name, const pki::SerialNumber& serial) {
  using Found = std::optional<ca::SerialStatus>;
  const auto& magnitude = serial.magnitude();
  if (!names_a_ca(ca_name) || magnitude.empty() || magnitude.size() > 20) return Found();
  const auto& t = impl_->tables;
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  const auto ca_serial = schema::ca_serial_key(ca_name, serial);
  SIGNET_ASSIGN_OR_RETURN(auto id, txn.get(t.cert_by_ca_serial, ca_serial.view()));
  if (!id) return Found();
  ca::SerialStatus status;
  status.certificate_id = schema::id_from(*id);
  const auto key = schema::revoked_key(ca_name, serial);
  SIGNET_ASSIGN_OR_RETURN(auto value, txn.get(t.revoked, key.view()));
  if (value) {  // the revoked entry carries notAfter too: no record read
    ca::RevokedEntry entry;
    if (!schema::decode_revoked_value(*value, entry)) return corrupt_revoked(t.revoked, key.view());
    status.not_after = entry.not_after;
    status.revocation =
        ca::Revocation{entry.revoked_at, entry.reason, entry.invalidity_date, entry.sequence};
    return Found(std::move(status));
  }
  const auto id_key = schema::id_key(status.certificate_id);
  SIGNET_ASSIGN_OR_RETURN(auto encoded, txn.get(t.certs, id_key));
  if (!encoded) return dangling(t.cert_by_ca_serial, status.certificate_id);
  SIGNET_ASSIGN_OR_RETURN(auto record, codec::glance_certificate(*encoded, t.certs.name, id_key));
  status.not_after = record.not_after;
  return Found(std::move(status));
}

}  // namespace signet::store
