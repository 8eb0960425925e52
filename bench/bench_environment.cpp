#include "bench/bench_environment.h"

#include <stdlib.h>

#include <fstream>
#include <system_error>

#include "base/secure_buffer.h"
#include "hsm/token_init.h"
#include "pki/csr.h"
#include "pki/general_name.h"
#include "pki/name.h"
#include "tests/support/software_signer.h"

namespace signet::bench {

using base::Error;
using base::ErrorCode;
using base::Result;

namespace {

constexpr const char* kTokenLabel = "signet-bench";
// A throwaway token in a directory that is deleted at exit; its PINs protect nothing.
constexpr const char* kUserPin = "1234";
constexpr const char* kSoPin = "12345678";

base::SecureBuffer pin(const char* text) {
  return base::SecureBuffer::copy_of(base::as_bytes(text));
}

// Before the module loads: SoftHSM reads its configuration once, at C_Initialize.
Result<void> use_softhsm_conf(const std::filesystem::path& conf) {
  if (::setenv("SOFTHSM2_CONF", conf.c_str(), 1) != 0) {
    return Error(ErrorCode::kInternal, "cannot set SOFTHSM2_CONF");
  }
  return base::ok();
}

Result<void> write_softhsm_conf(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directory(dir / "tokens", ec);
  if (ec) {
    return Error(ErrorCode::kIoError,
                 "cannot create " + (dir / "tokens").string() + ": " + ec.message());
  }
  const auto conf = dir / "softhsm2.conf";
  std::ofstream out(conf);
  out << "directories.tokendir = " << (dir / "tokens").string() << "\n"
      << "objectstore.backend = file\n"
      << "log.level = ERROR\n"
      << "slots.removable = false\n";
  out.close();
  if (!out) return Error(ErrorCode::kIoError, "cannot write " + conf.string());
  return use_softhsm_conf(conf);
}

hsm::PinSource bench_pins() {
  return [](const hsm::TokenInfo&) -> Result<base::SecureBuffer> { return pin(kUserPin); };
}

}  // namespace

Result<std::unique_ptr<ScratchDir>> ScratchDir::create(const std::filesystem::path& parent) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = (!parent.empty()                  ? parent.string()
                         : tmp != nullptr && *tmp != '\0' ? std::string(tmp)
                                                          : std::string("/tmp")) +
                        "/signet-bench-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    return Error(ErrorCode::kIoError, "cannot create a scratch directory like " + pattern);
  }
  return std::make_unique<ScratchDir>(pattern);
}

ScratchDir::~ScratchDir() {
  if (!remove_) return;
  std::error_code ignored;  // best effort: a leftover directory in $TMPDIR is harmless
  std::filesystem::remove_all(path_, ignored);
}

Result<std::unique_ptr<BenchEnvironment>> BenchEnvironment::create(
    const std::string& module_path, const std::filesystem::path& parent,
    const store::LmdbStoreOptions& store_options) {
  auto env = std::make_unique<BenchEnvironment>();
  SIGNET_ASSIGN_OR_RETURN(env->dir, ScratchDir::create(parent));
  SIGNET_TRY(write_softhsm_conf(env->dir->path()));
  auto module = hsm::Pkcs11Module::load(module_path);
  if (!module) return std::move(module).error().with_context("loading " + module_path);
  env->module = std::move(*module);
  auto token = hsm::init_token(*env->module, kTokenLabel, pin(kSoPin), pin(kUserPin));
  if (!token) return std::move(token).error().with_context("initialising the bench token");
  env->token_serial = token->serial;
  SIGNET_ASSIGN_OR_RETURN(env->token_keys,
                          hsm::Pkcs11KeyProvider::create({env->module}, kTokenLabel, bench_pins()));
  SIGNET_ASSIGN_OR_RETURN(env->store,
                          store::LmdbStore::open(env->dir->path() / "state", store_options));
  return env;
}

Result<std::unique_ptr<BenchEnvironment>> BenchEnvironment::reopen(
    const std::filesystem::path& dir, const std::string& module_path,
    const store::LmdbStoreOptions& store_options) {
  const auto conf = dir / "softhsm2.conf";
  std::error_code ec;
  if (!std::filesystem::exists(conf, ec) || !std::filesystem::exists(dir / "state", ec)) {
    return Error(ErrorCode::kNotFound, dir.string() + " holds no bench token and store (no " +
                                           conf.string() + " or state/)");
  }
  auto env = std::make_unique<BenchEnvironment>();
  env->dir = std::make_unique<ScratchDir>(dir, /*remove=*/false);
  SIGNET_TRY(use_softhsm_conf(conf));
  auto module = hsm::Pkcs11Module::load(module_path);
  if (!module) return std::move(module).error().with_context("loading " + module_path);
  env->module = std::move(*module);
  SIGNET_ASSIGN_OR_RETURN(env->token_keys,
                          hsm::Pkcs11KeyProvider::create({env->module}, kTokenLabel, bench_pins()));
  SIGNET_ASSIGN_OR_RETURN(auto tokens, env->token_keys->tokens());
  for (const auto& token : tokens) {
    if (token.label == kTokenLabel) env->token_serial = token.serial;
  }
  SIGNET_ASSIGN_OR_RETURN(env->store, store::LmdbStore::open(dir / "state", store_options));
  return env;
}

Result<std::vector<base::Bytes>> make_csr_pool(int count) {
  std::vector<base::Bytes> pool;
  pool.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    const std::string host = "host-" + std::to_string(i) + ".bench.example";
    SIGNET_ASSIGN_OR_RETURN(auto key,
                            test::SoftwareSigner::generate(base::KeyAlgorithm::kEcP256, {}));
    SIGNET_ASSIGN_OR_RETURN(base::Bytes subject,
                            pki::parse_distinguished_name("CN=" + host + ",O=Signet Bench"));
    SIGNET_ASSIGN_OR_RETURN(pki::GeneralName san, pki::parse_general_name("DNS:" + host));
    SIGNET_ASSIGN_OR_RETURN(base::Bytes csr, pki::build_csr(subject, {san}, *key));
    pool.push_back(std::move(csr));
  }
  return pool;
}

}  // namespace signet::bench
