#include "store/internal/lmdb.h"

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <string>
#include <utility>

namespace signet::store::lmdb {

namespace {

using base::Error;
using base::ErrorCode;

MDB_val to_val(base::ByteView bytes) {
  return MDB_val{bytes.size(), const_cast<std::uint8_t*>(bytes.data())};
}
base::ByteView from_val(const MDB_val& val) {
  return {static_cast<const std::uint8_t*>(val.mv_data), val.mv_size};
}

std::string table_op(std::string_view what, const Table& table) {
  std::string op(what);
  op += " table '";
  op += table.name;
  op += "'";
  return op;
}

// LMDB reports a short write as EIO ("short write, filesystem full?"). A short write almost
// always means the file system or the process's file size limit ran out, so we look: when the
// data file is within a few MiB of either limit, it is a full disk, not a broken one.
bool looks_like_full_disk(MDB_env* env) {
  constexpr std::uint64_t kSlack = 4u << 20;
  mdb_filehandle_t fd = -1;
  if (mdb_env_get_fd(env, &fd) != MDB_SUCCESS || fd < 0) return false;
  struct statvfs fs {};
  if (::fstatvfs(fd, &fs) == 0 && static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize < kSlack) {
    return true;
  }
  struct rlimit limit {};
  struct stat st {};
  if (::getrlimit(RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
      ::fstat(fd, &st) == 0 && static_cast<std::uint64_t>(st.st_size) + kSlack >= limit.rlim_cur) {
    return true;
  }
  return false;
}

}  // namespace

Error to_error(int rc, std::string_view operation) {
  std::string op(operation);
  switch (rc) {
    case MDB_MAP_FULL:
      return Error(ErrorCode::kStorageFull, "the store's map is full while " + op);
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return Error(ErrorCode::kStorageFull, "the disk is full while " + op + " (" +
                                                mdb_strerror(rc) + "); nothing was written");
    case MDB_KEYEXIST:
      return Error(ErrorCode::kAlreadyExists, "the key already exists while " + op);
    case MDB_NOTFOUND:
      return Error(ErrorCode::kNotFound, "nothing found while " + op);
    case EACCES:
    case EPERM:
    case EROFS:
      return Error(ErrorCode::kPermissionDenied,
                   "permission denied while " + op + " (" + mdb_strerror(rc) + ")");
    case MDB_READERS_FULL:
    case EAGAIN:
      return Error(ErrorCode::kUnavailable,
                   std::string("the store is busy while ") + op + " (" + mdb_strerror(rc) + ")");
    case MDB_PANIC:
      return Error(ErrorCode::kStorageError,
                   "the store hit a fatal error earlier and must be reopened (while " + op + ")");
    default:
      return Error(ErrorCode::kStorageError, op + " failed: " + mdb_strerror(rc));
  }
}

// ---- MapLock ----

MapLock::MapLock() {
  pthread_rwlockattr_t attr;
  pthread_rwlockattr_init(&attr);
  pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  pthread_rwlock_init(&lock_, &attr);
  pthread_rwlockattr_destroy(&attr);
}
MapLock::~MapLock() { pthread_rwlock_destroy(&lock_); }
void MapLock::lock() { pthread_rwlock_wrlock(&lock_); }
void MapLock::unlock() { pthread_rwlock_unlock(&lock_); }
void MapLock::lock_shared() { pthread_rwlock_rdlock(&lock_); }
void MapLock::unlock_shared() { pthread_rwlock_unlock(&lock_); }

// ---- Environment ----

base::Result<std::unique_ptr<Environment>> Environment::open(const std::filesystem::path& path,
                                                             const EnvironmentOptions& options) {
  constexpr unsigned kForbidden = MDB_NOSYNC | MDB_NOMETASYNC | MDB_WRITEMAP | MDB_MAPASYNC;
  if ((options.extra_flags & kForbidden) != 0) {
    return Error(ErrorCode::kInternal,
                 "MDB_NOSYNC, MDB_NOMETASYNC, MDB_MAPASYNC and MDB_WRITEMAP are not allowed");
  }
  MDB_env* raw = nullptr;
  if (int rc = mdb_env_create(&raw); rc != MDB_SUCCESS) {
    return to_error(rc, "creating an LMDB environment");
  }
  // Owned from here on: the destructor closes it on every early return.
  std::unique_ptr<Environment> env(new Environment(raw, path));
  const std::string where = " for the store at '" + path.string() + "'";
  if (int rc = mdb_env_set_maxdbs(raw, options.max_tables); rc != MDB_SUCCESS) {
    return to_error(rc, "setting the table count" + where);
  }
  if (int rc = mdb_env_set_maxreaders(raw, options.max_readers); rc != MDB_SUCCESS) {
    return to_error(rc, "setting the reader count" + where);
  }
  if (int rc = mdb_env_set_mapsize(raw, options.map_size); rc != MDB_SUCCESS) {
    return to_error(rc, "setting the map size" + where);
  }
  if (int rc = mdb_env_open(raw, path.c_str(), MDB_NOTLS | options.extra_flags, 0600);
      rc != MDB_SUCCESS) {
    return to_error(rc, "opening the store at '" + path.string() + "'");
  }
  return env;
}

Environment::~Environment() { mdb_env_close(env_); }

base::Result<int> Environment::reader_check() {
  int dead = 0;
  if (int rc = mdb_reader_check(env_, &dead); rc != MDB_SUCCESS) {
    return to_error(rc, "checking for stale readers in '" + path_.string() + "'");
  }
  return dead;
}

namespace {

// Where this process maps the file with inode `inode`, from /proc/self/maps (LMDB does not
// say: mdb_env_info's me_mapaddr is only set for MDB_FIXEDMAP). {nullptr, 0} when absent.
std::pair<void*, std::size_t> mapping_of(ino_t inode) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long start = 0, end = 0, offset = 0, mapped_inode = 0;
    char perms[8] = {}, device[16] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %7s %lx %15s %lu", &start, &end, perms, &offset, device,
                    &mapped_inode) == 6 &&
        mapped_inode == inode && offset == 0 && end > start) {
      return {reinterpret_cast<void*>(start), end - start};
    }
  }
  return {nullptr, 0};
}

}  // namespace

void Environment::release_mapped_pages() {
  const char* data_path = nullptr;
  struct stat st {};
  if (mdb_env_get_path(env_, &data_path) != MDB_SUCCESS || data_path == nullptr) return;
  const std::filesystem::path data = std::filesystem::path(data_path) / "data.mdb";
  if (::stat(data.c_str(), &st) != 0) return;  // an optimisation only
  auto [address, size] = mapping_of(st.st_ino);
  if (address != nullptr) (void)::madvise(address, size, MADV_DONTNEED);
}

std::size_t Environment::map_size() {
  auto lock = lock_shared();  // grow() changes it
  MDB_envinfo info{};
  mdb_env_info(env_, &info);
  return info.me_mapsize;
}

base::Result<void> Environment::grow(std::size_t new_size) {
  std::unique_lock lock(map_lock_);
  if (int rc = mdb_env_set_mapsize(env_, new_size); rc != MDB_SUCCESS) {
    return to_error(rc, "growing the map of '" + path_.string() + "' to " +
                            std::to_string(new_size) + " bytes");
  }
  return base::ok();
}

base::Result<void> Environment::copy_compact_to(const std::filesystem::path& directory) {
  // mdb_env_copy2 opens its own read transaction: hold the map lock shared like one.
  auto lock = lock_shared();
  if (int rc = mdb_env_copy2(env_, directory.c_str(), MDB_CP_COMPACT); rc != MDB_SUCCESS) {
    return to_error(rc, "copying the store to '" + directory.string() + "'");
  }
  return base::ok();
}

// ---- Transaction ----

base::Result<Transaction> Transaction::begin(Environment& env, unsigned flags) {
  for (int attempt = 0;; ++attempt) {
    auto lock = env.lock_shared();
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env.env_, nullptr, flags, &txn);
    if (rc == MDB_SUCCESS) return Transaction(env, txn, std::move(lock));
    if (rc == MDB_MAP_RESIZED && attempt < 3) {
      // Another process grew the map: adopt its size (0 = the size recorded in the file).
      lock.unlock();
      std::unique_lock exclusive(env.map_lock_);
      if (int rc2 = mdb_env_set_mapsize(env.env_, 0); rc2 != MDB_SUCCESS) {
        return to_error(rc2, "adopting the map size of '" + env.path_.string() + "'");
      }
      continue;
    }
    return to_error(rc, std::string("beginning a ") + ((flags & MDB_RDONLY) ? "read" : "write") +
                            " transaction on '" + env.path_.string() + "'");
  }
}

base::Result<Transaction> Transaction::begin_read(Environment& env) {
  return begin(env, MDB_RDONLY);
}
base::Result<Transaction> Transaction::begin_write(Environment& env) { return begin(env, 0); }

Transaction::Transaction(Transaction&& other) noexcept
    : env_(other.env_),
      txn_(std::exchange(other.txn_, nullptr)),
      lock_(std::move(other.lock_)),
      hit_map_full_(other.hit_map_full_) {}

Transaction& Transaction::operator=(Transaction&& other) noexcept {
  if (this != &other) {
    abort();
    env_ = other.env_;
    txn_ = std::exchange(other.txn_, nullptr);
    lock_ = std::move(other.lock_);
    hit_map_full_ = other.hit_map_full_;
  }
  return *this;
}

Transaction::~Transaction() { abort(); }

void Transaction::abort() noexcept {
  if (txn_ != nullptr) mdb_txn_abort(std::exchange(txn_, nullptr));
  if (lock_.owns_lock()) lock_.unlock();
}

Error Transaction::fail(int rc, std::string_view what, const Table& table) {
  if (rc == MDB_MAP_FULL) hit_map_full_ = true;
  return to_error(rc, table_op(what, table));
}

base::Result<Table> Transaction::open_table(const char* name, unsigned flags) {
  MDB_dbi dbi = 0;
  if (int rc = mdb_dbi_open(txn_, name, flags, &dbi); rc != MDB_SUCCESS) {
    return fail(rc, "opening", Table{0, name});
  }
  return Table{dbi, name};
}

base::Result<std::optional<base::ByteView>> Transaction::get(const Table& table,
                                                             base::ByteView key) {
  MDB_val k = to_val(key);
  MDB_val v{};
  int rc = mdb_get(txn_, table.dbi, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<base::ByteView>();
  if (rc != MDB_SUCCESS) return fail(rc, "reading from", table);
  return std::optional<base::ByteView>(from_val(v));
}

base::Result<void> Transaction::put(const Table& table, base::ByteView key, base::ByteView value,
                                    unsigned flags) {
  MDB_val k = to_val(key);
  MDB_val v = to_val(value);
  if (int rc = mdb_put(txn_, table.dbi, &k, &v, flags); rc != MDB_SUCCESS) {
    return fail(rc, "writing to", table);
  }
  return base::ok();
}

base::Result<bool> Transaction::del(const Table& table, base::ByteView key,
                                    std::optional<base::ByteView> value) {
  MDB_val k = to_val(key);
  MDB_val v{};
  if (value) v = to_val(*value);
  int rc = mdb_del(txn_, table.dbi, &k, value ? &v : nullptr);
  if (rc == MDB_NOTFOUND) return false;
  if (rc != MDB_SUCCESS) return fail(rc, "deleting from", table);
  return true;
}

base::Result<void> Transaction::drop_all(const Table& table) {
  if (int rc = mdb_drop(txn_, table.dbi, 0); rc != MDB_SUCCESS) {
    return fail(rc, "emptying", table);
  }
  return base::ok();
}

base::Result<std::size_t> Transaction::entries(const Table& table) {
  MDB_stat stat{};
  if (int rc = mdb_stat(txn_, table.dbi, &stat); rc != MDB_SUCCESS) {
    return fail(rc, "counting", table);
  }
  return stat.ms_entries;
}

base::Result<void> Transaction::commit() {
  if (txn_ == nullptr) return Error(ErrorCode::kInternal, "committing a finished transaction");
  int rc = mdb_txn_commit(std::exchange(txn_, nullptr));  // frees the txn, success or not
  lock_.unlock();
  if (rc == MDB_SUCCESS) return base::ok();
  if (rc == MDB_MAP_FULL) hit_map_full_ = true;  // saving the free list can need pages too
  const std::string op = "committing to the store at '" + env_->path_.string() + "'";
  if (rc == EIO && looks_like_full_disk(env_->env_)) {
    return Error(ErrorCode::kStorageFull,
                 "the disk is full while " + op +
                     " (a short write: the file system or the file size limit is exhausted); "
                     "nothing was written");
  }
  return to_error(rc, op);
}

// ---- Cursor ----

base::Result<Cursor> Cursor::open(Transaction& txn, const Table& table) {
  MDB_cursor* cursor = nullptr;
  if (int rc = mdb_cursor_open(txn.handle(), table.dbi, &cursor); rc != MDB_SUCCESS) {
    return to_error(rc, table_op("opening a cursor on", table));
  }
  return Cursor(cursor, table);
}

Cursor::~Cursor() {
  if (cursor_ != nullptr) mdb_cursor_close(cursor_);
}

base::Result<std::optional<Entry>> Cursor::get(MDB_cursor_op op, base::ByteView key) {
  MDB_val k = to_val(key);
  MDB_val v{};
  int rc = mdb_cursor_get(cursor_, &k, &v, op);
  if (rc == MDB_NOTFOUND) return std::optional<Entry>();
  if (rc != MDB_SUCCESS) return to_error(rc, table_op("walking", table_));
  return std::optional<Entry>(Entry{from_val(k), from_val(v)});
}

}  // namespace signet::store::lmdb
