// LmdbStore::backup_to and LmdbStore::restore: a compacted, consistent copy out of a live
// store, and its durable return into a state directory that has no store yet.
#include <filesystem>

#include "store/internal/files.h"
#include "store/internal/store_impl.h"

namespace signet::store {

namespace {

namespace fs = std::filesystem;
using base::Error;
using base::ErrorCode;

// Opens a backup's data file read-only without a lock file and checks that it is a store
// whose schema this build can open.
base::Result<void> check_backup(const fs::path& data_file) {
  lmdb::EnvironmentOptions options;
  options.extra_flags = MDB_RDONLY | MDB_NOSUBDIR | MDB_NOLOCK;
  options.map_size = 0;  // the size recorded in the file
  SIGNET_ASSIGN_OR_RETURN(auto env, lmdb::Environment::open(data_file, options));
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*env));
  auto tables = schema::open_meta(txn);  // a store of any version has it
  if (!tables) {
    return Error(ErrorCode::kStorageError, "'" + data_file.string() + "' is not a Signet store (" +
                                               tables.error().message() + ")");
  }
  SIGNET_ASSIGN_OR_RETURN(auto version, schema::read_version(txn, *tables));
  if (version > schema::kCurrentVersion) {
    return Error(ErrorCode::kNotSupported, "the backup '" + data_file.string() +
                                               "' has schema version " + std::to_string(version) +
                                               ", newer than this build understands (up to " +
                                               std::to_string(schema::kCurrentVersion) + ")");
  }
  return base::ok();
}

}  // namespace

base::Result<void> LmdbStore::backup_to(const fs::path& backup_dir) {
  auto done = [&]() -> base::Result<void> {
    SIGNET_TRY(files::prepare_empty_directory(backup_dir, "backup directory"));
    const fs::path target = backup_dir / files::kStoreSubdirectory;
    SIGNET_TRY(files::prepare_empty_directory(target, "backup store directory"));
    SIGNET_TRY(impl_->env->copy_compact_to(target));
    SIGNET_TRY(files::sync_path(target / files::kDataFile));
    SIGNET_TRY(files::sync_path(target));
    return files::sync_path(backup_dir);
  }();
  if (!done) {
    return std::move(done).error().with_context("backing up the store to '" + backup_dir.string() +
                                                "'");
  }
  return base::ok();
}

base::Result<void> LmdbStore::restore(const fs::path& backup_dir, const fs::path& state_dir) {
  auto done = [&]() -> base::Result<void> {
    const fs::path source = backup_dir / files::kStoreSubdirectory / files::kDataFile;
    std::error_code ec;
    if (!fs::is_regular_file(source, ec)) {
      return Error(ErrorCode::kNotFound, "there is no store backup at '" + source.string() + "'");
    }
    SIGNET_TRY(check_backup(source));
    SIGNET_ASSIGN_OR_RETURN(auto store_dir, files::prepare_store_directory(state_dir));
    const fs::path target = store_dir / files::kDataFile;
    if (fs::exists(target, ec)) {
      return Error(ErrorCode::kAlreadyExists,
                   "the state directory '" + state_dir.string() +
                       "' already has a store; refusing to overwrite it (move it away first)");
    }
    return files::copy_file_durably(source, target);
  }();
  if (!done) {
    return std::move(done).error().with_context("restoring the store from '" + backup_dir.string() +
                                                "'");
  }
  return base::ok();
}

}  // namespace signet::store
