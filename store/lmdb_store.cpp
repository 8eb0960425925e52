#include "store/lmdb_store.h"

#include <algorithm>
#include <limits>

#include "store/internal/batch_writer.h"
#include "store/internal/codec.h"
#include "store/internal/files.h"
#include "store/internal/lmdb.h"
#include "store/internal/schema.h"
#include "store/internal/store_impl.h"

namespace signet::store {

namespace {

using base::Error;
using base::ErrorCode;

// Every named table needs a slot of the environment's (mdb_env_set_maxdbs).
static_assert(schema::kTableCount <= lmdb::EnvironmentOptions{}.max_tables,
              "raise lmdb::EnvironmentOptions::max_tables for the new tables");

}  // namespace

LmdbStore::LmdbStore(std::unique_ptr<Impl> impl, int stale_readers_cleared)
    : impl_(std::move(impl)), stale_readers_cleared_(stale_readers_cleared) {}

LmdbStore::~LmdbStore() = default;

base::Result<std::unique_ptr<LmdbStore>> LmdbStore::open(const std::filesystem::path& state_dir,
                                                         const LmdbStoreOptions& options) {
  SIGNET_ASSIGN_OR_RETURN(auto store_dir, files::prepare_store_directory(state_dir));
  auto impl = std::make_unique<Impl>();
  lmdb::EnvironmentOptions env_options;
  env_options.map_size = options.initial_map_size;
  env_options.max_readers = options.max_readers;
  SIGNET_ASSIGN_OR_RETURN(impl->env, lmdb::Environment::open(store_dir, env_options));
  // Reader slots of processes that died holding a read transaction would pin old pages forever.
  SIGNET_ASSIGN_OR_RETURN(const int stale, impl->env->reader_check());
  {
    // Table handles opened in a committed transaction stay valid for the environment's life.
    SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_write(*impl->env));
    SIGNET_ASSIGN_OR_RETURN(impl->tables, schema::open_tables(txn, /*create=*/true));
    SIGNET_ASSIGN_OR_RETURN(const auto version, schema::read_version(txn, impl->tables));
    SIGNET_TRY(schema::migrate(txn, impl->tables, version, store_dir.string()));
    SIGNET_TRY(txn.commit());
  }
  BatchWriterOptions writer_options;
  writer_options.max_batch = std::max<std::size_t>(options.max_batch, 1);
  writer_options.max_map_size = std::max(options.max_map_size, options.initial_map_size);
  impl->writer = std::make_unique<BatchWriter>(*impl->env, impl->tables, writer_options);
  return std::unique_ptr<LmdbStore>(new LmdbStore(std::move(impl), stale));
}

// ---- Inventory ----

std::future<base::Result<std::uint64_t>> LmdbStore::commit_certificate_async(
    ca::CertificateCommit commit) {
  if (auto valid = schema::validate(commit.record); !valid) {
    return impl_->ready(std::move(valid).error().with_context("recording a certificate"));
  }
  if (commit.revoke_predecessor) {
    if (auto valid = schema::validate_revocation(*commit.revoke_predecessor); !valid) {
      return impl_->ready(std::move(valid).error().with_context("revoking the predecessor"));
    }
  }
  if (commit.order && commit.order->id == 0) {
    return impl_->ready(Error(ErrorCode::kInvalidArgument,
                              "the order a certificate commit completes has no id (create it "
                              "first)"));
  }
  // Encoding and index keys are prepared here, on the caller's thread, so the writer thread
  // mostly writes.
  CertificateWrite write;
  const auto& record = commit.record;
  codec::encode(record, write.encoded);
  write.name_keys = schema::name_keys(record);
  write.dns_keys = schema::dns_keys(record);
  write.cn_prefix = schema::cn_sort_key(record.common_name, 0);
  write.cn_prefix.resize(write.cn_prefix.size() - 8);
  write.key_location = schema::key_location_key(record);
  write.commit = std::move(commit);
  return impl_->writer->submit(std::move(write));
}

base::Result<ca::CertificateRecord> LmdbStore::revoke_certificate(ca::RevocationCommit commit) {
  const std::uint64_t id = commit.certificate_id;
  if (auto valid = schema::validate_revocation(commit.revocation); !valid) {
    return std::move(valid).error().with_context("revoking certificate id " + std::to_string(id));
  }
  auto done = impl_->writer->submit(RevocationWrite{std::move(commit)}).get();
  if (!done)
    return std::move(done).error().with_context("revoking certificate id " + std::to_string(id));
  // A revocation is permanent, so what is read now carries the one just committed.
  SIGNET_ASSIGN_OR_RETURN(auto record, find_certificate_by_id(id));
  if (!record) {
    return Error(ErrorCode::kInternal,
                 "certificate id " + std::to_string(id) + " vanished after its revocation");
  }
  return std::move(*record);
}

base::Result<std::optional<ca::CertificateRecord>> LmdbStore::find_certificate_by_id(
    std::uint64_t id) {
  if (id == 0) return std::optional<ca::CertificateRecord>();
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  return impl_->load(txn, id);
}

base::Result<std::vector<ca::CertificateRecord>> LmdbStore::find_certificates_by_key(
    const base::KeyRef& key) {
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  SIGNET_ASSIGN_OR_RETURN(
      auto all, impl_->load_all(txn, impl_->tables.cert_by_key, schema::key_ref_key(key)));
  // A hashed key is compared with the real location.
  std::erase_if(all, [&](const ca::CertificateRecord& r) {
    return !r.key_location || !(*r.key_location == key);
  });
  return all;
}

base::Result<std::optional<ca::CertificateRecord>> LmdbStore::find_certificate(
    std::string_view ca_name, const pki::SerialNumber& serial) {
  using Found = std::optional<ca::CertificateRecord>;
  if (serial.magnitude().empty() || !schema::validate_ca_name(ca_name)) {
    return Found();
  }
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  if (ca_name.empty()) {  // discovered certificates are not in cert_by_ca_serial
    SIGNET_ASSIGN_OR_RETURN(
        auto all, impl_->load_all(txn, impl_->tables.cert_by_serial, schema::serial_key(serial)));
    for (auto& record : all) {
      if (record.ca_name.empty()) return Found(std::move(record));
    }
    return Found();
  }
  const auto key = schema::ca_serial_key(ca_name, serial);
  SIGNET_ASSIGN_OR_RETURN(auto id, txn.get(impl_->tables.cert_by_ca_serial, key.view()));
  if (!id) return Found();
  SIGNET_ASSIGN_OR_RETURN(auto record,
                          impl_->load_indexed(txn, impl_->tables.cert_by_ca_serial, *id));
  return Found(std::move(record));
}

base::Result<std::vector<ca::CertificateRecord>> LmdbStore::find_certificates_by_serial(
    const pki::SerialNumber& serial) {
  if (serial.magnitude().empty() || serial.magnitude().size() > 20) {
    return std::vector<ca::CertificateRecord>();
  }
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  return impl_->load_all(txn, impl_->tables.cert_by_serial, schema::serial_key(serial));
}

base::Result<std::optional<ca::CertificateRecord>> LmdbStore::find_certificate_by_fingerprint(
    base::ByteView sha256) {
  using Found = std::optional<ca::CertificateRecord>;
  if (sha256.size() != 32) {
    return Error(ErrorCode::kInvalidArgument,
                 "a SHA-256 fingerprint has 32 bytes, not " + std::to_string(sha256.size()));
  }
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  SIGNET_ASSIGN_OR_RETURN(auto id, txn.get(impl_->tables.cert_by_fingerprint, sha256));
  if (!id) return Found();
  SIGNET_ASSIGN_OR_RETURN(auto record,
                          impl_->load_indexed(txn, impl_->tables.cert_by_fingerprint, *id));
  return Found(std::move(record));
}

base::Result<std::vector<ca::CertificateRecord>> LmdbStore::find_certificates_by_name(
    std::string_view name) {
  if (name.empty()) return std::vector<ca::CertificateRecord>();
  const std::string key = schema::name_key(name);
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  SIGNET_ASSIGN_OR_RETURN(auto all,
                          impl_->load_all(txn, impl_->tables.cert_by_name, base::as_bytes(key)));
  // A hashed key is compared with the real names, which also settles any ambiguity between a
  // hashed and a literal key.
  std::erase_if(all, [&](const ca::CertificateRecord& r) { return !schema::has_name(r, name); });
  return all;
}

// ---- CaDirectory ----

base::Result<void> LmdbStore::create_ca(const ca::CaRecord& record,
                                        std::optional<ca::AuditEvent> event) {
  if (record.name.empty()) return Error(ErrorCode::kInvalidArgument, "a CA needs a name");
  SIGNET_TRY(schema::validate_ca_name(record.name));
  CaWrite write{record, /*create=*/true, std::move(event)};
  auto done = impl_->writer->submit(std::move(write)).get();
  if (!done) return std::move(done).error();
  return base::ok();
}

base::Result<void> LmdbStore::update_ca(const ca::CaRecord& record,
                                        std::optional<ca::AuditEvent> event) {
  CaWrite write{record, /*create=*/false, std::move(event)};
  auto done = impl_->writer->submit(std::move(write)).get();
  if (!done) return std::move(done).error();
  return base::ok();
}

base::Result<std::optional<ca::CaRecord>> LmdbStore::find_ca(std::string_view name) {
  using Found = std::optional<ca::CaRecord>;
  if (name.empty() || name.size() > schema::kMaxCaNameLength) return Found();
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  SIGNET_ASSIGN_OR_RETURN(auto value, txn.get(impl_->tables.cas, base::as_bytes(name)));
  if (!value) return Found();
  SIGNET_ASSIGN_OR_RETURN(auto record,
                          codec::decode_ca(*value, impl_->tables.cas.name, base::as_bytes(name)));
  return Found(std::move(record));
}

base::Result<std::vector<ca::CaRecord>> LmdbStore::list_cas() {
  std::vector<ca::CaRecord> out;
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn, impl_->tables.cas));
  SIGNET_ASSIGN_OR_RETURN(auto entry, cursor.first());
  while (entry) {
    SIGNET_ASSIGN_OR_RETURN(auto record,
                            codec::decode_ca(entry->value, impl_->tables.cas.name, entry->key));
    out.push_back(std::move(record));
    SIGNET_ASSIGN_OR_RETURN(entry, cursor.next());
  }
  return out;
}

// ---- AuditSink ----

base::Result<std::uint64_t> LmdbStore::append_audit(ca::AuditEvent event) {
  return impl_->writer->submit(AuditWrite{std::move(event)}).get();
}

base::Result<std::vector<ca::AuditEvent>> LmdbStore::list_audit(std::uint64_t after,
                                                                std::size_t limit) {
  std::vector<ca::AuditEvent> out;
  if (limit == 0 || after == std::numeric_limits<std::uint64_t>::max()) return out;
  out.reserve(std::min<std::size_t>(limit, 1024));
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn, impl_->tables.audit));
  SIGNET_ASSIGN_OR_RETURN(auto entry, cursor.seek(schema::id_key(after + 1)));
  while (entry && out.size() < limit) {
    SIGNET_ASSIGN_OR_RETURN(
        auto event, codec::decode_audit(entry->value, impl_->tables.audit.name, entry->key));
    event.sequence = schema::id_from(entry->key);
    out.push_back(std::move(event));
    SIGNET_ASSIGN_OR_RETURN(entry, cursor.next());
  }
  return out;
}

// ---- statistics ----

std::uint64_t LmdbStore::commits() const { return impl_->writer->commits(); }
std::uint64_t LmdbStore::records_committed() const { return impl_->writer->records_committed(); }
std::uint64_t LmdbStore::map_resizes() const { return impl_->writer->map_resizes(); }
std::size_t LmdbStore::largest_batch() const { return impl_->writer->largest_batch(); }
std::size_t LmdbStore::map_size() const { return impl_->env->map_size(); }
const std::filesystem::path& LmdbStore::path() const { return impl_->env->path(); }

}  // namespace signet::store
