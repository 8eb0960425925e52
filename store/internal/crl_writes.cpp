// BatchWriter's CRL writes: handing out CRL numbers (each durably, before the caller gets it)
// and storing a signed CRL with its audit event, pruning the CA's older CRLs of its kind in
// the same transaction.
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

// The CA's next CRL number to hand out: 1 when it never reserved one.
base::Result<std::uint64_t> next_crl_number(lmdb::Transaction& txn, const lmdb::Table& numbers,
                                            std::string_view ca_name) {
  SIGNET_ASSIGN_OR_RETURN(auto value, txn.get(numbers, base::as_bytes(ca_name)));
  if (!value) return std::uint64_t{1};
  if (value->size() != 8) {
    return Error(ErrorCode::kStorageError, "corrupt record in table '" + std::string(numbers.name) +
                                               "' for CA '" + std::string(ca_name) +
                                               "': " + std::to_string(value->size()) +
                                               " bytes, expected 8");
  }
  return schema::id_from(*value);
}

}  // namespace

base::Result<void> BatchWriter::apply(lmdb::Transaction& txn, CrlNumberWrite& w, Counters&,
                                      std::vector<Outcome>& outcomes) {
  SIGNET_ASSIGN_OR_RETURN(const std::uint64_t number,
                          next_crl_number(txn, tables_.crl_numbers, w.ca_name));
  // RFC 5280 §5.2.3: at most 20 octets; 2^64 - 1 reservations will not happen.
  SIGNET_TRY(txn.put(tables_.crl_numbers, base::as_bytes(w.ca_name), schema::id_key(number + 1)));
  outcomes.emplace_back(number);
  return base::ok();
}

base::Result<void> BatchWriter::apply(lmdb::Transaction& txn, CrlWrite& w, Counters& counters,
                                      std::vector<Outcome>& outcomes) {
  const ca::CrlRecord& crl = *w.crl;
  const std::string name =
      "CRL number " + std::to_string(crl.number) + " of CA '" + crl.ca_name + "'";
  SIGNET_ASSIGN_OR_RETURN(const std::uint64_t next,
                          next_crl_number(txn, tables_.crl_numbers, crl.ca_name));
  if (crl.number >= next) {
    return refuse(outcomes, Error(ErrorCode::kInvalidArgument,
                                  name + " was never reserved (the next number to hand out is " +
                                      std::to_string(next) + ")"));
  }
  const auto key = schema::crl_key(crl.ca_name, crl.number);
  SIGNET_ASSIGN_OR_RETURN(auto existing, txn.get(tables_.crls, key.view()));
  if (existing) {
    return refuse(outcomes, Error(ErrorCode::kAlreadyExists, name + " is already stored"));
  }
  SIGNET_TRY(txn.put(tables_.crls, key.view(), w.encoded, MDB_NOOVERWRITE));
  // The DER goes into its overflow pages straight from the caller's buffer: no other copy.
  SIGNET_TRY(txn.put(tables_.crl_der, key.view(), crl.der));
  if (w.event) SIGNET_TRY(put_event(txn, *w.event, counters));
  SIGNET_TRY(prune_crls(txn, crl.ca_name, crl.kind, w.keep));
  outcomes.emplace_back(std::uint64_t{0});
  return base::ok();
}

base::Result<void> BatchWriter::prune_crls(lmdb::Transaction& txn, const std::string& ca_name,
                                           ca::CrlKind kind, std::size_t keep) {
  std::vector<base::Bytes> doomed;
  std::size_t kept = 0;
  SIGNET_TRY(schema::for_each_crl_newest_first(
      txn, tables_.crls, ca_name, [&](const lmdb::Entry& entry) -> base::Result<bool> {
        SIGNET_ASSIGN_OR_RETURN(auto stored,
                                codec::decode_crl(entry.value, tables_.crls.name, entry.key));
        if (stored.kind == kind && ++kept > keep) {
          doomed.emplace_back(entry.key.begin(), entry.key.end());
        }
        return true;
      }));
  for (const auto& key : doomed) {
    SIGNET_TRY(txn.del(tables_.crls, key));
    SIGNET_TRY(txn.del(tables_.crl_der, key));
  }
  return base::ok();
}

}  // namespace signet::store
