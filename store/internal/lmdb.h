// The one choke point for LMDB: every mdb_* call in Signet goes through this file, which turns
// LMDB and errno codes into base::Error (naming the operation and the table) and owns every
// LMDB handle through RAII.
//
// - Environment owns the MDB_env and the map lock. The map lock is what makes growing the map
//   safe: mdb_env_set_mapsize() remaps the file, which is only allowed while no transaction of
//   this process is active. Every Transaction holds the lock shared for its whole life;
//   grow() takes it exclusively. So the caller that grows must hold no transaction itself
//   (the store's writer thread aborts its transaction first, then grows, then retries).
// - Transaction aborts in its destructor unless committed. The environment is opened with
//   MDB_NOTLS, so a read transaction may be used by any one thread at a time; a write
//   transaction must begin, be used, and end on one thread (LMDB's writer mutex is per thread).
// - Cursor closes itself; it must not outlive its Transaction.
//
// Environment is thread-safe; Transaction and Cursor are used by one thread at a time.
#pragma once

#include <lmdb.h>
#include <pthread.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>

#include "base/bytes.h"
#include "base/result.h"

namespace signet::store::lmdb {

// Translates an LMDB or errno return code into an Error whose message names `operation`
// (e.g. "writing to table 'certs'"):
//   MDB_MAP_FULL              -> kStorageFull ("the store's map is full while ...")
//   ENOSPC, EDQUOT, EFBIG     -> kStorageFull ("the disk is full while ...")
//   MDB_KEYEXIST              -> kAlreadyExists
//   MDB_NOTFOUND              -> kNotFound
//   EACCES, EPERM, EROFS      -> kPermissionDenied
//   MDB_READERS_FULL, EAGAIN  -> kUnavailable
//   anything else             -> kStorageError with mdb_strerror's text
base::Error to_error(int rc, std::string_view operation);

// A named database handle and its name (for error messages). Valid for the environment's life.
struct Table {
  MDB_dbi dbi = 0;
  const char* name = "";
};

struct EnvironmentOptions {
  std::size_t map_size = std::size_t{1} << 30;
  unsigned max_tables = 32;
  unsigned max_readers = 256;
  // Extra mdb_env_open flags (MDB_RDONLY, MDB_NOLOCK, MDB_NOSUBDIR for one-off inspections).
  // MDB_NOTLS is always added. MDB_NOSYNC, MDB_NOMETASYNC and MDB_WRITEMAP are refused:
  // acknowledged writes must be durable, and with a writable map a full disk arrives as SIGBUS.
  unsigned extra_flags = 0;
};

class Transaction;

// A readers-writer lock that prefers the writer: glibc's default prefers readers, which could
// keep grow() waiting forever under a steady stream of overlapping reads. Not recursive: a
// thread holding it shared must not take it again (no transaction nests another here).
// Satisfies SharedMutex for std::shared_lock / std::unique_lock.
class MapLock {
 public:
  MapLock();
  ~MapLock();
  MapLock(const MapLock&) = delete;
  MapLock& operator=(const MapLock&) = delete;
  void lock();
  void unlock();
  void lock_shared();
  void unlock_shared();

 private:
  pthread_rwlock_t lock_;
};

class Environment {
 public:
  // Opens (creating if needed) the environment at `path`: a directory, or a file with
  // MDB_NOSUBDIR. The caller has created the directory.
  static base::Result<std::unique_ptr<Environment>> open(const std::filesystem::path& path,
                                                         const EnvironmentOptions& options);
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // mdb_reader_check: clears reader slots left by dead processes; returns how many.
  base::Result<int> reader_check();

  // The current map size in bytes.
  std::size_t map_size();
  // Drops this process's mappings of the map's pages: they stay in the page cache and fault
  // back in on the next access. A long scan calls it now and then so that the resident set
  // holds what it still reads, not every page it passed (a million-entry CRL would otherwise
  // map most of a large store file). Safe because the map is read-only: the environment is
  // never opened with MDB_WRITEMAP, so no page of it holds unwritten data. Call it inside a
  // transaction of this process (which keeps grow() from remapping meanwhile).
  void release_mapped_pages();
  // Remaps to `new_size` bytes. Blocks until no transaction of this process is active; the
  // calling thread must not hold one (it would deadlock).
  base::Result<void> grow(std::size_t new_size);

  // Consistent compacted copy of the whole environment into `directory` (which must exist and
  // hold no data.mdb). Runs under a read transaction, so writers continue meanwhile.
  base::Result<void> copy_compact_to(const std::filesystem::path& directory);

  MDB_env* handle() const { return env_; }

 private:
  friend class Transaction;
  Environment(MDB_env* env, std::filesystem::path path) : env_(env), path_(std::move(path)) {}
  std::shared_lock<MapLock> lock_shared() { return std::shared_lock(map_lock_); }

  MDB_env* env_;
  std::filesystem::path path_;
  // Held shared by every live Transaction, exclusively by grow() (see the header comment).
  MapLock map_lock_;
};

class Transaction {
 public:
  static base::Result<Transaction> begin_read(Environment& env);
  static base::Result<Transaction> begin_write(Environment& env);

  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&& other) noexcept;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  // Opens (with MDB_CREATE in a write transaction: creates) a named table.
  base::Result<Table> open_table(const char* name, unsigned flags);

  // The value under `key`, or nullopt. The view is valid until the transaction ends or (in a
  // write transaction) the next write.
  base::Result<std::optional<base::ByteView>> get(const Table& table, base::ByteView key);
  // mdb_put; with MDB_NOOVERWRITE an existing key yields kAlreadyExists.
  base::Result<void> put(const Table& table, base::ByteView key, base::ByteView value,
                         unsigned flags = 0);
  // Deletes `key` (and for a dupsort table only the pair with `value` when it is given).
  // Returns false when there was nothing to delete.
  base::Result<bool> del(const Table& table, base::ByteView key,
                         std::optional<base::ByteView> value = std::nullopt);
  base::Result<void> drop_all(const Table& table);  // empties the table, keeps it
  base::Result<std::size_t> entries(const Table& table);

  // Commits (with fsync of data and meta pages). The transaction is finished either way.
  base::Result<void> commit();
  void abort() noexcept;

  // True once any write in this transaction failed with MDB_MAP_FULL: the transaction is then
  // unusable and the caller should abort, grow the map and retry.
  bool hit_map_full() const { return hit_map_full_; }
  MDB_txn* handle() const { return txn_; }
  Environment& environment() const { return *env_; }

 private:
  Transaction(Environment& env, MDB_txn* txn, std::shared_lock<MapLock> lock)
      : env_(&env), txn_(txn), lock_(std::move(lock)) {}
  static base::Result<Transaction> begin(Environment& env, unsigned flags);
  base::Error fail(int rc, std::string_view what, const Table& table);

  Environment* env_;
  MDB_txn* txn_;
  std::shared_lock<MapLock> lock_;  // the environment's map lock, shared
  bool hit_map_full_ = false;
};

struct Entry {
  base::ByteView key;
  base::ByteView value;
};

class Cursor {
 public:
  static base::Result<Cursor> open(Transaction& txn, const Table& table);
  Cursor(Cursor&& other) noexcept
      : cursor_(std::exchange(other.cursor_, nullptr)), table_(other.table_) {}
  Cursor& operator=(Cursor&&) = delete;
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;
  ~Cursor();

  base::Result<std::optional<Entry>> first() { return get(MDB_FIRST); }
  base::Result<std::optional<Entry>> last() { return get(MDB_LAST); }
  base::Result<std::optional<Entry>> next() { return get(MDB_NEXT); }
  base::Result<std::optional<Entry>> prev() { return get(MDB_PREV); }
  // The first entry whose key is >= `key`.
  base::Result<std::optional<Entry>> seek(base::ByteView key) { return get(MDB_SET_RANGE, key); }
  // The first value of exactly `key` (dupsort tables: then next_dup() for the others).
  base::Result<std::optional<Entry>> find(base::ByteView key) { return get(MDB_SET_KEY, key); }
  base::Result<std::optional<Entry>> next_dup() { return get(MDB_NEXT_DUP); }

 private:
  Cursor(MDB_cursor* cursor, Table table) : cursor_(cursor), table_(table) {}
  base::Result<std::optional<Entry>> get(MDB_cursor_op op, base::ByteView key = {});

  MDB_cursor* cursor_;
  Table table_;
};

// Big-endian fixed-width integers, the key encoding for every id-ordered table.
inline void put_be64(std::uint8_t* out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
}
inline std::uint64_t get_be64(const std::uint8_t* in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | in[i];
  return v;
}

}  // namespace signet::store::lmdb
