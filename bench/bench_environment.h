// What the bench measures against: a scratch directory holding a fresh SoftHSM token store and
// a real (durable, fsyncing) LmdbStore, the key providers, and a pool of CSRs.
//
// SoftHSM reads SOFTHSM2_CONF once, when the module is initialised, so create() writes a
// softhsm2.conf inside the scratch directory and sets SOFTHSM2_CONF before it loads the module;
// the bench's token therefore never touches the machine's own token store. reopen() opens the
// token and the store that an earlier create() left in a kept directory (signet-crl-bench
// measures in a fresh process over a store filled by another). One environment per process. Members
// are declared so that they are destroyed in a safe order: everything that holds the module or the
// store goes before them, and the directory goes last. Not thread-safe to create or destroy; the
// providers and the store it hands out are.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "bench/bench_keys.h"
#include "hsm/key_provider.h"
#include "hsm/module.h"
#include "store/lmdb_store.h"

namespace signet::bench {

// A fresh directory under `parent` (empty: $TMPDIR, or /tmp), removed recursively on
// destruction unless keep() was called.
class ScratchDir {
 public:
  static base::Result<std::unique_ptr<ScratchDir>> create(const std::filesystem::path& parent = {});
  // Takes ownership of `path` (removes it at destruction) unless `remove` is false.
  explicit ScratchDir(std::filesystem::path path, bool remove = true)
      : path_(std::move(path)), remove_(remove) {}
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  void keep() { remove_ = false; }

 private:
  std::filesystem::path path_;
  bool remove_ = true;
};

struct BenchEnvironment {
  // Declaration order is destruction order reversed: the directory outlives the store and
  // the token that live in it.
  std::unique_ptr<ScratchDir> dir;
  std::shared_ptr<hsm::Pkcs11Module> module;
  std::shared_ptr<hsm::Pkcs11KeyProvider> token_keys;  // the SoftHSM token "signet-bench"
  CannedSignatureKeyProvider canned_keys;
  std::unique_ptr<store::LmdbStore> store;
  std::string token_serial;

  // `module_path`: the PKCS#11 library (SoftHSMv2). A fresh token and store in a new scratch
  // directory under `parent` ($TMPDIR when empty), removed at exit unless dir->keep().
  static base::Result<std::unique_ptr<BenchEnvironment>> create(
      const std::string& module_path, const std::filesystem::path& parent = {},
      const store::LmdbStoreOptions& store_options = {});
  // The token and the store that create() made in `dir` (kept by an earlier run), opened
  // again; `dir` is left in place at exit.
  static base::Result<std::unique_ptr<BenchEnvironment>> reopen(
      const std::filesystem::path& dir, const std::string& module_path,
      const store::LmdbStoreOptions& store_options = {});
};

// `count` PKCS#10 requests (DER), each for its own EC P-256 key made in software, with
// CN=host-<i>.bench.example and that name as a DNS SAN: what a TLS client sends.
base::Result<std::vector<base::Bytes>> make_csr_pool(int count);

}  // namespace signet::bench
