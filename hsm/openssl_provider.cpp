#include "hsm/openssl_provider.h"

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/provider.h>

#include "hsm/internal/provider_context.h"

namespace signet::hsm {
namespace internal {

const char* key_type_name(KeyKind kind) {
  switch (kind) {
    case KeyKind::kEc:
      return "EC";
    case KeyKind::kRsa:
      return "RSA";
    case KeyKind::kEd25519:
      return "ED25519";
  }
  return "";
}

KeyKind key_kind(base::KeyAlgorithm algorithm) {
  if (base::is_rsa(algorithm)) return KeyKind::kRsa;
  return algorithm == base::KeyAlgorithm::kEd25519 ? KeyKind::kEd25519 : KeyKind::kEc;
}

std::uint64_t SignerRegistry::put(std::shared_ptr<const base::Signer> signer) {
  std::lock_guard lock(mutex_);
  const std::uint64_t handle = next_++;
  signers_.emplace(handle, std::move(signer));
  return handle;
}

std::shared_ptr<const base::Signer> SignerRegistry::take(std::uint64_t handle) {
  std::lock_guard lock(mutex_);
  auto found = signers_.find(handle);
  if (found == signers_.end()) return nullptr;
  auto signer = std::move(found->second);
  signers_.erase(found);
  return signer;
}

const EVP_MD* ProviderContext::md(base::DigestAlgorithm digest) const {
  switch (digest) {
    case base::DigestAlgorithm::kSha256:
      return sha256;
    case base::DigestAlgorithm::kSha384:
      return sha384;
    case base::DigestAlgorithm::kSha512:
      return sha512;
    case base::DigestAlgorithm::kNone:
      return nullptr;
  }
  return nullptr;
}

std::optional<base::DigestAlgorithm> ProviderContext::digest_named(const char* name) const {
  if (name == nullptr) return std::nullopt;
  // EVP_MD_is_a knows every alias: "SHA256", "SHA2-256", "sha256", "2.16.840.1.101.3.4.2.1".
  for (auto digest : {base::DigestAlgorithm::kSha256, base::DigestAlgorithm::kSha384,
                      base::DigestAlgorithm::kSha512}) {
    if (md(digest) != nullptr && EVP_MD_is_a(md(digest), name) == 1) return digest;
  }
  return std::nullopt;
}

void raise_error(int reason, const std::string& message) {
  ERR_raise_data(ERR_LIB_PROV, reason, "%s: %s", kProviderName, message.c_str());
}

namespace {

// The provider context lives from init to teardown; the bridge fills it in after loading.
void provider_teardown(void* provctx) { delete static_cast<ProviderContext*>(provctx); }

const OSSL_ALGORITHM* provider_query(void* /*provctx*/, int operation_id, int* no_cache) {
  *no_cache = 0;
  switch (operation_id) {
    case OSSL_OP_KEYMGMT:
      return keymgmt_algorithms();
    case OSSL_OP_SIGNATURE:
      return signature_algorithms();
    default:
      return nullptr;
  }
}

const OSSL_PARAM kProviderGettable[] = {OSSL_PARAM_utf8_ptr(OSSL_PROV_PARAM_NAME, nullptr, 0),
                                        OSSL_PARAM_int(OSSL_PROV_PARAM_STATUS, nullptr),
                                        OSSL_PARAM_END};

const OSSL_PARAM* provider_gettable_params(void* /*provctx*/) { return kProviderGettable; }

int provider_get_params(void* /*provctx*/, OSSL_PARAM params[]) {
  OSSL_PARAM* p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_NAME);
  if (p != nullptr && OSSL_PARAM_set_utf8_ptr(p, "Signet token keys") != 1) return 0;
  p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_STATUS);
  if (p != nullptr && OSSL_PARAM_set_int(p, 1) != 1) return 0;
  return 1;
}

const OSSL_DISPATCH kProviderFunctions[] = {
    {OSSL_FUNC_PROVIDER_TEARDOWN, to_dispatch(&provider_teardown)},
    {OSSL_FUNC_PROVIDER_QUERY_OPERATION, to_dispatch(&provider_query)},
    {OSSL_FUNC_PROVIDER_GETTABLE_PARAMS, to_dispatch(&provider_gettable_params)},
    {OSSL_FUNC_PROVIDER_GET_PARAMS, to_dispatch(&provider_get_params)},
    {0, nullptr}};

int provider_init(const OSSL_CORE_HANDLE* /*handle*/, const OSSL_DISPATCH* /*in*/,
                  const OSSL_DISPATCH** out, void** provctx) {
  return guarded(0, [&] {
    *provctx = new ProviderContext();
    *out = kProviderFunctions;
    return 1;
  });
}

}  // namespace
}  // namespace internal

using base::Error;
using base::ErrorCode;

namespace {

// OpenSSL 3.0 fills a library context's method store per operation on the first fetch, and a
// fetch restricted to one provider ("provider=signet-token", or EVP's own fetch from the
// provider of a key) fills it from that provider alone. A later unrestricted fetch of "EC"
// then finds only the token provider's keymgmt, takes it despite "?provider=default", and
// libssl builds its TLS group list from it (the P-256 group would vanish, and with it TLS 1.2
// ECDSA). One unrestricted fetch per operation first makes the store hold every provider's
// algorithms, so the preference for "default" decides.
bool prime_method_store(OSSL_LIB_CTX* libctx) {
  EVP_KEYMGMT* keymgmt = EVP_KEYMGMT_fetch(libctx, "EC", nullptr);
  EVP_SIGNATURE* signature = EVP_SIGNATURE_fetch(libctx, "ECDSA", nullptr);
  const bool primed = keymgmt != nullptr && signature != nullptr;
  EVP_KEYMGMT_free(keymgmt);
  EVP_SIGNATURE_free(signature);
  return primed;
}

}  // namespace

struct OpensslBridge::State {
  OSSL_LIB_CTX* libctx = nullptr;
  OSSL_PROVIDER* default_provider = nullptr;
  OSSL_PROVIDER* token_provider = nullptr;
  base::EvpMdPtr sha256;
  base::EvpMdPtr sha384;
  base::EvpMdPtr sha512;
  internal::SignerRegistry registry;

  ~State() {
    // Digests first (they hold the default provider), then the providers, then the context.
    sha256.reset();
    sha384.reset();
    sha512.reset();
    if (token_provider != nullptr) OSSL_PROVIDER_unload(token_provider);
    if (default_provider != nullptr) OSSL_PROVIDER_unload(default_provider);
    if (libctx != nullptr) OSSL_LIB_CTX_free(libctx);
  }
};

base::Result<std::unique_ptr<OpensslBridge>> OpensslBridge::create() {
  auto state = std::make_unique<State>();
  state->libctx = OSSL_LIB_CTX_new();
  if (state->libctx == nullptr) {
    return base::openssl_error(ErrorCode::kCryptoError, "cannot make an OpenSSL library context");
  }
  state->default_provider = OSSL_PROVIDER_load(state->libctx, "default");
  if (state->default_provider == nullptr ||
      OSSL_PROVIDER_add_builtin(state->libctx, internal::kProviderName, &internal::provider_init) !=
          1) {
    return base::openssl_error(ErrorCode::kCryptoError,
                               "cannot set up the token provider's library context");
  }
  state->token_provider = OSSL_PROVIDER_load(state->libctx, internal::kProviderName);
  // Whoever fetches in this context without asking for a provider (libssl's key shares and
  // verifications, digests) gets the default provider's implementation; token keys reach
  // this provider through their own keymgmt.
  if (state->token_provider == nullptr ||
      EVP_set_default_properties(state->libctx, "?provider=default") != 1) {
    return base::openssl_error(ErrorCode::kCryptoError, "cannot load the signet-token provider");
  }
  if (!prime_method_store(state->libctx)) {
    return base::openssl_error(ErrorCode::kCryptoError,
                               "cannot list the key and signature algorithms of the token "
                               "provider's library context");
  }
  state->sha256.reset(EVP_MD_fetch(state->libctx, "SHA2-256", internal::kDefaultProviderQuery));
  state->sha384.reset(EVP_MD_fetch(state->libctx, "SHA2-384", internal::kDefaultProviderQuery));
  state->sha512.reset(EVP_MD_fetch(state->libctx, "SHA2-512", internal::kDefaultProviderQuery));
  if (!state->sha256 || !state->sha384 || !state->sha512) {
    return base::openssl_error(ErrorCode::kCryptoError,
                               "cannot fetch SHA-2 for the token provider");
  }
  auto* context = static_cast<internal::ProviderContext*>(
      OSSL_PROVIDER_get0_provider_ctx(state->token_provider));
  context->libctx = state->libctx;
  context->registry = &state->registry;
  context->sha256 = state->sha256.get();
  context->sha384 = state->sha384.get();
  context->sha512 = state->sha512.get();
  return std::unique_ptr<OpensslBridge>(new OpensslBridge(std::move(state)));
}

OpensslBridge::OpensslBridge(std::unique_ptr<State> state) : state_(std::move(state)) {}

OpensslBridge::~OpensslBridge() = default;

OSSL_LIB_CTX* OpensslBridge::library_context() const { return state_->libctx; }

base::Result<base::EvpPkeyPtr> OpensslBridge::make_key(std::shared_ptr<const base::Signer> signer) {
  if (!signer) return Error(ErrorCode::kInvalidArgument, "there is no signer to bridge");
  const std::string uri = signer->key_ref().to_uri();
  const char* type = internal::key_type_name(internal::key_kind(signer->algorithm()));
  std::uint64_t handle = state_->registry.put(std::move(signer));
  OSSL_PARAM params[] = {OSSL_PARAM_construct_uint64(internal::kSignerHandleParam, &handle),
                         OSSL_PARAM_construct_end()};
  base::EvpPkeyCtxPtr context(
      EVP_PKEY_CTX_new_from_name(state_->libctx, type, "provider=signet-token"));
  EVP_PKEY* key = nullptr;
  const bool made = context && EVP_PKEY_fromdata_init(context.get()) == 1 &&
                    EVP_PKEY_fromdata(context.get(), &key, EVP_PKEY_KEYPAIR, params) == 1;
  (void)state_->registry.take(handle);  // in case the import never ran
  if (!made) {
    return base::openssl_error(ErrorCode::kCryptoError, "cannot make an OpenSSL key for " + uri);
  }
  return base::EvpPkeyPtr(key);
}

}  // namespace signet::hsm
