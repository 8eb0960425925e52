// What the "signet-token" OpenSSL provider's functions share (hsm/openssl_provider.h): the
// provider context, the registry through which a Signer reaches a new key, the keymgmt's key
// data, and the error and exception guards every entry point uses.
//
// Ownership: OpensslBridge owns the registry and the fetched digests; the provider context is
// made by the provider's init function and freed by its teardown, and the bridge points it at
// what it owns right after loading the provider (no globals). KeyData owns its Signer (shared)
// and its public key. Thread-safe: the registry is guarded by a mutex; the provider context
// and KeyData are not changed after they are set up.
#pragma once

#include <openssl/core.h>
#include <openssl/err.h>
#include <openssl/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "base/keys.h"
#include "base/openssl.h"

namespace signet::hsm::internal {

inline constexpr const char* kProviderName = "signet-token";
// Where the provider's own code fetches public-key operations and digests.
inline constexpr const char* kDefaultProviderQuery = "provider=default";
// The private import parameter carrying a SignerRegistry handle (OpensslBridge::make_key).
inline constexpr const char* kSignerHandleParam = "signet-signer-handle";

enum class KeyKind { kEc, kRsa, kEd25519 };

// "EC", "RSA", "ED25519": the key type names of the default provider.
const char* key_type_name(KeyKind kind);
KeyKind key_kind(base::KeyAlgorithm algorithm);

// Hands a Signer to the keymgmt's import by number, so that no raw pointer travels through
// OSSL_PARAMs: put() before EVP_PKEY_fromdata, take() in the import (once), and take() again
// by the bridge afterwards in case the import never ran.
class SignerRegistry {
 public:
  std::uint64_t put(std::shared_ptr<const base::Signer> signer);
  std::shared_ptr<const base::Signer> take(std::uint64_t handle);

 private:
  std::mutex mutex_;  // guards next_ and signers_
  std::uint64_t next_ = 1;
  std::map<std::uint64_t, std::shared_ptr<const base::Signer>> signers_;
};

struct ProviderContext {
  OSSL_LIB_CTX* libctx = nullptr;      // the bridge's library context
  SignerRegistry* registry = nullptr;  // the bridge's
  const EVP_MD* sha256 = nullptr;      // fetched once by the bridge from "default"
  const EVP_MD* sha384 = nullptr;
  const EVP_MD* sha512 = nullptr;

  const EVP_MD* md(base::DigestAlgorithm digest) const;
  // The digest an EVP caller named ("SHA256", "SHA2-256", an OID...); nullopt when it is none
  // of SHA-256/384/512.
  std::optional<base::DigestAlgorithm> digest_named(const char* name) const;
};

// The keymgmt's key: always a public key (from the default provider, in the bridge's
// context) once imported; a Signer as well when it is the private key of a token.
struct KeyData {
  ProviderContext* provider = nullptr;
  KeyKind kind = KeyKind::kEc;
  std::shared_ptr<const base::Signer> signer;  // null: a public key only
  base::EvpPkeyPtr public_key;
};

// ERR_raise_data(ERR_LIB_PROV, reason, "signet-token: <message>").
void raise_error(int reason, const std::string& message);

// Runs `body` and turns an escaping exception (std::bad_alloc) into `failure` with an error
// raised: nothing may unwind through OpenSSL's C frames.
template <typename R, typename Body>
R guarded(R failure, Body&& body) noexcept {
  try {
    return body();
  } catch (const std::exception& e) {
    try {
      raise_error(ERR_R_INTERNAL_ERROR, e.what());
    } catch (...) {
    }
    return failure;
  } catch (...) {
    return failure;
  }
}

// An entry of an OSSL_DISPATCH table (OpenSSL's generic function pointer type).
template <typename F>
void (*to_dispatch(F* function))(void) {
  return reinterpret_cast<void (*)(void)>(function);
}

// The algorithm tables of the two operations (provider_keymgmt.cpp, provider_signature.cpp).
const OSSL_ALGORITHM* keymgmt_algorithms();
const OSSL_ALGORITHM* signature_algorithms();

}  // namespace signet::hsm::internal
