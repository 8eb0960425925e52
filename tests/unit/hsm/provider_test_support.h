// Helpers for tests of hsm/openssl_provider.h (unit and integration): certificates made with
// OpenSSL in the test, verification by the default provider from a SubjectPublicKeyInfo, and
// the OpenSSL error queue with the text providers attach to their errors.
#pragma once

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <string>

#include "base/bytes.h"
#include "base/openssl.h"

namespace signet::test {

// Every queued error with its data ("...:failed to sign (signet-token: ...)"), drained.
inline std::string openssl_errors_with_data() {
  std::string out;
  const char* data = nullptr;
  int flags = 0;
  unsigned long code = 0;
  while ((code = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    out += buffer;
    if (data != nullptr && (flags & ERR_TXT_STRING) != 0) out += std::string(" (") + data + ")";
    out += "; ";
  }
  return out;
}

inline base::EvpPkeyPtr public_key_of(base::ByteView spki) {
  const unsigned char* cursor = spki.data();
  return base::EvpPkeyPtr(d2i_PUBKEY(nullptr, &cursor, static_cast<long>(spki.size())));
}

// PSS as TLS 1.3 uses it: MGF1 with the same digest, salt as long as the digest.
inline bool set_pss(EVP_PKEY_CTX* context) {
  return EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(context, RSA_PSS_SALTLEN_DIGEST) == 1;
}

// The default provider (default library context) verifies `signature` over `message` with
// the key in `spki`; `md` is null for Ed25519.
inline bool default_provider_verifies(base::ByteView spki, const char* md, bool pss,
                                      base::ByteView message, base::ByteView signature) {
  base::EvpPkeyPtr key = public_key_of(spki);
  base::EvpMdCtxPtr context(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pkey_context = nullptr;
  if (!key || EVP_DigestVerifyInit_ex(context.get(), &pkey_context, md, nullptr, nullptr, key.get(),
                                      nullptr) != 1) {
    return false;
  }
  if (pss && !set_pss(pkey_context)) return false;
  const bool ok = EVP_DigestVerify(context.get(), signature.data(), signature.size(),
                                   message.data(), message.size()) == 1;
  ERR_clear_error();
  return ok;
}

// A certificate for `subject_key` ("CN=signet.test", SAN DNS:signet.test, serverAuth), signed
// by `signing_key` with `md` (null for Ed25519) in `libctx`, RSA-PSS when `pss`. Null on
// failure, with OpenSSL's errors left queued.
inline base::X509Ptr make_certificate(EVP_PKEY* subject_key, EVP_PKEY* signing_key, const char* md,
                                      OSSL_LIB_CTX* libctx, bool pss = false) {
  base::X509Ptr cert(X509_new());
  base::X509NamePtr name(X509_NAME_new());
  if (!cert || !name || X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 0x5167) != 1 ||
      X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("signet.test"), -1, -1,
                                 0) != 1 ||
      X509_set_subject_name(cert.get(), name.get()) != 1 ||
      X509_set_issuer_name(cert.get(), name.get()) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400) == nullptr ||
      X509_set_pubkey(cert.get(), subject_key) != 1) {
    return nullptr;
  }
  X509V3_CTX v3;
  X509V3_set_ctx(&v3, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] :
       {std::pair{NID_subject_alt_name, "DNS:signet.test"},
        std::pair{NID_ext_key_usage, "serverAuth"},
        std::pair{NID_key_usage, "critical,digitalSignature,keyCertSign"}}) {
    base::X509ExtensionPtr extension(X509V3_EXT_conf_nid(nullptr, &v3, nid, value));
    if (!extension || X509_add_ext(cert.get(), extension.get(), -1) != 1) return nullptr;
  }
  base::EvpMdCtxPtr context(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pkey_context = nullptr;
  if (EVP_DigestSignInit_ex(context.get(), &pkey_context, md, libctx, nullptr, signing_key,
                            nullptr) != 1 ||
      (pss && !set_pss(pkey_context)) || X509_sign_ctx(cert.get(), context.get()) <= 0) {
    return nullptr;
  }
  return cert;
}

}  // namespace signet::test
