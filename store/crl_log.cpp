// LmdbStore as ca::CrlLog: CRL numbers and stored CRLs. Writes go through the batch writer
// (store/internal/crl_writes.cpp); reads run in their own read transaction. A CRL's metadata
// and its DER live in two tables under the same key (schema.h), so listings and the newest-
// of-a-kind walk never touch the DER's overflow pages.
#include "store/internal/store_impl.h"

namespace signet::store {

namespace {

using base::Error;
using base::ErrorCode;

base::Result<void> validate_crl_ca(std::string_view ca_name) {
  if (ca_name.empty()) return Error(ErrorCode::kInvalidArgument, "a CRL needs its CA's name");
  return schema::validate_ca_name(ca_name);
}

// Reads the DER stored with `meta` (under `key`) into it.
base::Result<void> attach_der(lmdb::Transaction& txn, const schema::Tables& t, base::ByteView key,
                              ca::CrlRecord& meta) {
  SIGNET_ASSIGN_OR_RETURN(auto der, txn.get(t.crl_der, key));
  if (!der || der->size() != meta.der_size) {
    return Error(ErrorCode::kStorageError,
                 "CRL number " + std::to_string(meta.number) + " of CA '" + meta.ca_name +
                     "' has " + (der ? std::to_string(der->size()) + " bytes of DER" : "no DER") +
                     " in table '" + t.crl_der.name + "', expected " +
                     std::to_string(meta.der_size));
  }
  meta.der.assign(der->begin(), der->end());
  return base::ok();
}

}  // namespace

base::Result<std::uint64_t> LmdbStore::reserve_crl_number(std::string_view ca_name) {
  SIGNET_TRY(validate_crl_ca(ca_name));
  auto done = impl_->writer->submit(CrlNumberWrite{std::string(ca_name)}).get();
  if (!done) {
    return std::move(done).error().with_context("reserving a CRL number for CA '" +
                                                std::string(ca_name) + "'");
  }
  return *done;
}

base::Result<void> LmdbStore::store_crl(const ca::CrlRecord& crl,
                                        std::optional<ca::AuditEvent> event, std::size_t keep) {
  const std::string what =
      "storing CRL number " + std::to_string(crl.number) + " of CA '" + crl.ca_name + "'";
  SIGNET_TRY(validate_crl_ca(crl.ca_name));
  if (crl.number == 0) {
    return Error(ErrorCode::kInvalidArgument,
                 "CRL number 0 is never handed out (numbers start at 1)")
        .with_context(what);
  }
  if (crl.der.empty())
    return Error(ErrorCode::kInvalidArgument, "the CRL has no DER").with_context(what);
  if (keep == 0) {
    return Error(ErrorCode::kInvalidArgument, "at least the newest CRL of a kind is kept (keep 0)")
        .with_context(what);
  }
  CrlWrite write;
  write.crl = &crl;  // this thread waits below, so the writer may read it in place
  codec::encode(crl, write.encoded);
  write.event = std::move(event);
  write.keep = keep;
  auto done = impl_->writer->submit(std::move(write)).get();
  if (!done) return std::move(done).error().with_context(what);
  return base::ok();
}

base::Result<std::optional<ca::CrlRecord>> LmdbStore::latest_crl(std::string_view ca_name,
                                                                 ca::CrlKind kind) {
  return latest(ca_name, kind, true);
}

base::Result<std::optional<ca::CrlRecord>> LmdbStore::latest_crl_info(std::string_view ca_name,
                                                                      ca::CrlKind kind) {
  return latest(ca_name, kind, false);
}

base::Result<std::optional<ca::CrlRecord>> LmdbStore::latest(std::string_view ca_name,
                                                             ca::CrlKind kind, bool with_der) {
  using Found = std::optional<ca::CrlRecord>;
  if (!validate_crl_ca(ca_name)) return Found();
  const auto& t = impl_->tables;
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  Found found;
  base::Bytes key;
  SIGNET_TRY(schema::for_each_crl_newest_first(
      txn, t.crls, ca_name, [&](const lmdb::Entry& entry) -> base::Result<bool> {
        SIGNET_ASSIGN_OR_RETURN(auto meta, codec::decode_crl(entry.value, t.crls.name, entry.key));
        if (meta.kind != kind) return true;
        key.assign(entry.key.begin(), entry.key.end());
        found = std::move(meta);
        return false;
      }));
  if (found && with_der) SIGNET_TRY(attach_der(txn, t, key, *found));
  return found;
}

base::Result<std::optional<ca::CrlRecord>> LmdbStore::find_crl(std::string_view ca_name,
                                                               std::uint64_t number) {
  using Found = std::optional<ca::CrlRecord>;
  if (!validate_crl_ca(ca_name) || number == 0) return Found();
  const auto& t = impl_->tables;
  const auto key = schema::crl_key(ca_name, number);
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  SIGNET_ASSIGN_OR_RETURN(auto value, txn.get(t.crls, key.view()));
  if (!value) return Found();
  SIGNET_ASSIGN_OR_RETURN(auto meta, codec::decode_crl(*value, t.crls.name, key.view()));
  SIGNET_TRY(attach_der(txn, t, key.view(), meta));
  return Found(std::move(meta));
}

base::Result<std::vector<ca::CrlRecord>> LmdbStore::list_crls(std::string_view ca_name,
                                                              std::size_t limit) {
  std::vector<ca::CrlRecord> out;
  if (!validate_crl_ca(ca_name) || limit == 0) return out;
  const auto& t = impl_->tables;
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  SIGNET_TRY(schema::for_each_crl_newest_first(
      txn, t.crls, ca_name, [&](const lmdb::Entry& entry) -> base::Result<bool> {
        SIGNET_ASSIGN_OR_RETURN(auto meta, codec::decode_crl(entry.value, t.crls.name, entry.key));
        out.push_back(std::move(meta));
        return out.size() < limit;
      }));
  return out;
}

}  // namespace signet::store
