// The "signet-token" provider's key management: EC, RSA and ED25519 keys whose private half is
// a base::Signer and whose public half is a default-provider key made from the Signer's
// SubjectPublicKeyInfo. Public parameters (bits, size, group, encoded point, modulus...) are
// answered by that public key; import and export move public parts only, so that
// EVP_PKEY_eq() and X509_check_private_key() work against keys of the default provider in
// either order (OpenSSL exports one key into the other's keymgmt and compares there).
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/proverr.h>

#include "hsm/internal/provider_context.h"

namespace signet::hsm::internal {
namespace {

KeyData* as_key(void* keydata) { return static_cast<KeyData*>(keydata); }
const KeyData* as_key(const void* keydata) { return static_cast<const KeyData*>(keydata); }

// The signature algorithm name our keymgmt asks EVP to fetch. Unique to this provider, so
// that EVP never pairs a token key with another provider's ECDSA or RSA (which could only
// see the public half).
const char* signature_name(KeyKind kind) {
  switch (kind) {
    case KeyKind::kEc:
      return "SIGNET-TOKEN-ECDSA";
    case KeyKind::kRsa:
      return "SIGNET-TOKEN-RSA";
    case KeyKind::kEd25519:
      return "SIGNET-TOKEN-ED25519";
  }
  return nullptr;
}

// --- parameter tables -------------------------------------------------------------------

const OSSL_PARAM kEcGettable[] = {
    OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, nullptr),
    OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, nullptr),
    OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, nullptr),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, nullptr, 0),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, nullptr, 0),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_ENCODING, nullptr, 0),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, nullptr, 0),
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, nullptr, 0),
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, nullptr, 0),
    OSSL_PARAM_END};

const OSSL_PARAM kRsaGettable[] = {
    OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, nullptr),
    OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, nullptr),
    OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, nullptr),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, nullptr, 0),
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, nullptr, 0),
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, nullptr, 0),
    OSSL_PARAM_END};

const OSSL_PARAM kEd25519Gettable[] = {
    OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, nullptr),
    OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, nullptr),
    OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, nullptr),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_MANDATORY_DIGEST, nullptr, 0),
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, nullptr, 0),
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, nullptr, 0),
    OSSL_PARAM_END};

// Import also takes the bridge's handle; export gives public parts only.
const OSSL_PARAM kEcImport[] = {
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, nullptr, 0),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_ENCODING, nullptr, 0),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, nullptr, 0),
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, nullptr, 0),
    OSSL_PARAM_uint64(kSignerHandleParam, nullptr),
    OSSL_PARAM_END};
const OSSL_PARAM kRsaImport[] = {OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, nullptr, 0),
                                 OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, nullptr, 0),
                                 OSSL_PARAM_uint64(kSignerHandleParam, nullptr), OSSL_PARAM_END};
const OSSL_PARAM kEd25519Import[] = {OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, nullptr, 0),
                                     OSSL_PARAM_uint64(kSignerHandleParam, nullptr),
                                     OSSL_PARAM_END};

const OSSL_PARAM* gettable_for(KeyKind kind) {
  switch (kind) {
    case KeyKind::kEc:
      return kEcGettable;
    case KeyKind::kRsa:
      return kRsaGettable;
    case KeyKind::kEd25519:
      return kEd25519Gettable;
  }
  return nullptr;
}

const OSSL_PARAM* import_for(KeyKind kind) {
  switch (kind) {
    case KeyKind::kEc:
      return kEcImport;
    case KeyKind::kRsa:
      return kRsaImport;
    case KeyKind::kEd25519:
      return kEd25519Import;
  }
  return nullptr;
}

// Export lists the same public parameters, without the handle (always the second-to-last).
const OSSL_PARAM* export_for(KeyKind kind) {
  static const OSSL_PARAM kEcExport[] = {kEcImport[0], kEcImport[1], kEcImport[2], kEcImport[3],
                                         OSSL_PARAM_END};
  static const OSSL_PARAM kRsaExport[] = {kRsaImport[0], kRsaImport[1], OSSL_PARAM_END};
  static const OSSL_PARAM kEd25519Export[] = {kEd25519Import[0], OSSL_PARAM_END};
  switch (kind) {
    case KeyKind::kEc:
      return kEcExport;
    case KeyKind::kRsa:
      return kRsaExport;
    case KeyKind::kEd25519:
      return kEd25519Export;
  }
  return nullptr;
}

// --- import ------------------------------------------------------------------------------

int import_signer(KeyData& key, const OSSL_PARAM& handle_param) {
  std::uint64_t handle = 0;
  if (key.provider->registry == nullptr || OSSL_PARAM_get_uint64(&handle_param, &handle) != 1) {
    raise_error(PROV_R_FAILED_TO_GET_PARAMETER, "a signer handle must be a uint64");
    return 0;
  }
  std::shared_ptr<const base::Signer> signer = key.provider->registry->take(handle);
  if (!signer) {
    raise_error(PROV_R_INVALID_KEY, "no signer is waiting under handle " + std::to_string(handle));
    return 0;
  }
  const base::Bytes& spki = signer->public_key_der();
  const unsigned char* cursor = spki.data();
  base::EvpPkeyPtr public_key(d2i_PUBKEY_ex(nullptr, &cursor, static_cast<long>(spki.size()),
                                            key.provider->libctx, kDefaultProviderQuery));
  if (!public_key || EVP_PKEY_is_a(public_key.get(), key_type_name(key.kind)) != 1) {
    raise_error(PROV_R_INVALID_KEY, "the public key of " + signer->key_ref().to_uri() +
                                        " is not a valid " + key_type_name(key.kind) + " key");
    return 0;
  }
  key.signer = std::move(signer);
  key.public_key = std::move(public_key);
  return 1;
}

// Public parts from another provider (EVP_PKEY_eq, EVP_PKEY_copy_parameters): built as a
// default-provider key. Private parts in `params`, if any, are ignored: this keymgmt never
// holds private key material.
int import_public(KeyData& key, int selection, const OSSL_PARAM params[]) {
  const bool has_public = (selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) != 0;
  if (!has_public && key.public_key) return 1;  // parameters of a key we already hold
  if (key.signer) {
    raise_error(PROV_R_INVALID_KEY, "cannot replace the public key of a token key");
    return 0;
  }
  base::EvpPkeyCtxPtr context(EVP_PKEY_CTX_new_from_name(
      key.provider->libctx, key_type_name(key.kind), kDefaultProviderQuery));
  EVP_PKEY* made = nullptr;
  if (!context || EVP_PKEY_fromdata_init(context.get()) != 1 ||
      EVP_PKEY_fromdata(context.get(), &made,
                        has_public ? EVP_PKEY_PUBLIC_KEY : EVP_PKEY_KEY_PARAMETERS,
                        const_cast<OSSL_PARAM*>(params)) != 1) {
    raise_error(PROV_R_INVALID_KEY, std::string("cannot import the public parts of a ") +
                                        key_type_name(key.kind) + " key");
    return 0;
  }
  key.public_key.reset(made);
  return 1;
}

// --- dispatch functions ------------------------------------------------------------------

template <KeyKind Kind>
void* key_new(void* provctx) {
  return guarded<void*>(nullptr, [&]() -> void* {
    auto key = std::make_unique<KeyData>();
    key->provider = static_cast<ProviderContext*>(provctx);
    key->kind = Kind;
    return key.release();
  });
}

void key_free(void* keydata) { delete as_key(keydata); }

int key_has(const void* keydata, int selection) {
  const KeyData* key = as_key(keydata);
  if (key == nullptr) return 0;
  bool ok = true;
  if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) != 0) ok = ok && key->public_key != nullptr;
  if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0) ok = ok && key->signer != nullptr;
  if ((selection & OSSL_KEYMGMT_SELECT_DOMAIN_PARAMETERS) != 0 && key->kind == KeyKind::kEc) {
    ok = ok && key->public_key != nullptr;
  }
  return ok ? 1 : 0;
}

int key_match(const void* keydata1, const void* keydata2, int selection) {
  const KeyData* first = as_key(keydata1);
  const KeyData* second = as_key(keydata2);
  if (first == nullptr || second == nullptr || first->kind != second->kind) return 0;
  if (!first->public_key || !second->public_key) return 0;
  if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) != 0) {
    return EVP_PKEY_eq(first->public_key.get(), second->public_key.get()) == 1 ? 1 : 0;
  }
  if ((selection & OSSL_KEYMGMT_SELECT_DOMAIN_PARAMETERS) != 0) {
    return EVP_PKEY_parameters_eq(first->public_key.get(), second->public_key.get()) == 1 ? 1 : 0;
  }
  return 1;
}

int key_import(void* keydata, int selection, const OSSL_PARAM params[]) {
  return guarded(0, [&] {
    KeyData* key = as_key(keydata);
    if (key == nullptr || params == nullptr) return 0;
    if (const OSSL_PARAM* handle = OSSL_PARAM_locate_const(params, kSignerHandleParam)) {
      return import_signer(*key, *handle);
    }
    return import_public(*key, selection, params);
  });
}

// Exports the public parts only, whatever the selection asks: a token key's private half
// never leaves the token. That is what OpenSSL needs to compare keys (EVP_PKEY_eq exports with
// OSSL_KEYMGMT_SELECT_ALL) and to answer legacy queries (libssl's TLS 1.2 curve check goes
// through a downgraded EC_KEY). No other provider's signature can be handed such a copy for
// signing: our keymgmt names a signature only this provider offers (key_query_operation_name).
int key_export(void* keydata, int selection, OSSL_CALLBACK* callback, void* callback_arg) {
  const KeyData* key = as_key(keydata);
  if (key == nullptr || !key->public_key) return 0;
  return EVP_PKEY_export(key->public_key.get(), selection & ~OSSL_KEYMGMT_SELECT_PRIVATE_KEY,
                         callback, callback_arg);
}

int key_get_params(void* keydata, OSSL_PARAM params[]) {
  return guarded(0, [&] {
    const KeyData* key = as_key(keydata);
    if (key == nullptr) return 0;
    if (!key->public_key) return 1;  // an empty key has nothing to say
    if (EVP_PKEY_get_params(key->public_key.get(), params) != 1) return 0;
    // The digest this key signs with unless told otherwise: SHA-384 for P-384.
    OSSL_PARAM* digest = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_DEFAULT_DIGEST);
    if (digest != nullptr && key->signer && key->kind != KeyKind::kEd25519) {
      const auto name = key->signer->digest() == base::DigestAlgorithm::kSha384   ? "SHA384"
                        : key->signer->digest() == base::DigestAlgorithm::kSha512 ? "SHA512"
                                                                                  : "SHA256";
      if (OSSL_PARAM_set_utf8_string(digest, name) != 1) return 0;
    }
    return 1;
  });
}

template <KeyKind Kind>
const OSSL_PARAM* key_gettable_params(void* /*provctx*/) {
  return gettable_for(Kind);
}

template <KeyKind Kind>
const OSSL_PARAM* key_import_types(int /*selection*/) {
  return import_for(Kind);
}

template <KeyKind Kind>
const OSSL_PARAM* key_export_types(int /*selection*/) {
  return export_for(Kind);
}

template <KeyKind Kind>
const char* key_query_operation_name(int operation_id) {
  return operation_id == OSSL_OP_SIGNATURE ? signature_name(Kind) : nullptr;
}

void* key_dup(const void* keydata, int selection) {
  return guarded<void*>(nullptr, [&]() -> void* {
    const KeyData* from = as_key(keydata);
    if (from == nullptr) return nullptr;
    auto copy = std::make_unique<KeyData>();
    copy->provider = from->provider;
    copy->kind = from->kind;
    if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0) copy->signer = from->signer;
    if (from->public_key && EVP_PKEY_up_ref(from->public_key.get()) == 1) {
      copy->public_key.reset(from->public_key.get());  // immutable: shared
    }
    return copy.release();
  });
}

template <KeyKind Kind>
const OSSL_DISPATCH kKeymgmtFunctions[] = {
    {OSSL_FUNC_KEYMGMT_NEW, to_dispatch(&key_new<Kind>)},
    {OSSL_FUNC_KEYMGMT_FREE, to_dispatch(&key_free)},
    {OSSL_FUNC_KEYMGMT_HAS, to_dispatch(&key_has)},
    {OSSL_FUNC_KEYMGMT_MATCH, to_dispatch(&key_match)},
    {OSSL_FUNC_KEYMGMT_IMPORT, to_dispatch(&key_import)},
    {OSSL_FUNC_KEYMGMT_IMPORT_TYPES, to_dispatch(&key_import_types<Kind>)},
    {OSSL_FUNC_KEYMGMT_EXPORT, to_dispatch(&key_export)},
    {OSSL_FUNC_KEYMGMT_EXPORT_TYPES, to_dispatch(&key_export_types<Kind>)},
    {OSSL_FUNC_KEYMGMT_GET_PARAMS, to_dispatch(&key_get_params)},
    {OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, to_dispatch(&key_gettable_params<Kind>)},
    {OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, to_dispatch(&key_query_operation_name<Kind>)},
    {OSSL_FUNC_KEYMGMT_DUP, to_dispatch(&key_dup)},
    {0, nullptr}};

}  // namespace

const OSSL_ALGORITHM* keymgmt_algorithms() {
  // The default provider's names, so that EVP_PKEY_is_a() and libssl's certificate-type
  // lookup (by short and long OID name) treat token keys like any other.
  static const OSSL_ALGORITHM kAlgorithms[] = {
      {"EC:id-ecPublicKey:1.2.840.10045.2.1", "provider=signet-token",
       kKeymgmtFunctions<KeyKind::kEc>, "EC keys on a token"},
      {"RSA:rsaEncryption:1.2.840.113549.1.1.1", "provider=signet-token",
       kKeymgmtFunctions<KeyKind::kRsa>, "RSA keys on a token"},
      {"ED25519:1.3.101.112", "provider=signet-token", kKeymgmtFunctions<KeyKind::kEd25519>,
       "Ed25519 keys on a token"},
      {nullptr, nullptr, nullptr, nullptr}};
  return kAlgorithms;
}

}  // namespace signet::hsm::internal
