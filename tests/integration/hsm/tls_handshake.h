// A TLS handshake for tests of the token provider: a server SSL_CTX (any library context) in a
// thread and a plain OpenSSL client in the default library context, over a socketpair. The
// client trusts exactly one certificate and checks the host name "signet.test". And a reader
// of OpenSC's pkcs11-spy log, to see what the token was asked to do.
#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/openssl.h"

namespace signet::test {

using SslCtxPtr = std::unique_ptr<SSL_CTX, base::OpenSslDeleter<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, base::OpenSslDeleter<SSL_free>>;

struct HandshakeSettings {
  int version = TLS1_3_VERSION;  // the only version the client offers
  std::string client_sigalgs;    // e.g. "rsa_pss_rsae_sha256", "ECDSA+SHA256"
  std::string cipher_list;       // TLS 1.2 only, e.g. "ECDHE-RSA-AES128-GCM-SHA256"
};

struct HandshakeResult {
  bool ok = false;                      // both sides finished and application data flowed
  int version = 0;                      // SSL_version() on the client
  int peer_signature_type = NID_undef;  // EVP_PKEY_RSA_PSS, EVP_PKEY_RSA, EVP_PKEY_EC...
  int peer_digest = NID_undef;          // NID_sha256...
  std::string server_errors;
  std::string client_errors;
};

HandshakeResult tls_handshake(SSL_CTX* server, X509* trusted, const HandshakeSettings& settings);

// OpenSC's pkcs11-spy in front of SoftHSM for this process. Call before the first
// SoftHsmToken: SoftHsmToken then loads the spy (SIGNET_PKCS11_MODULE), which forwards to
// SoftHSM (PKCS11SPY) and logs every call to one file per process (PKCS11SPY_OUTPUT; the spy
// stays loaded and keeps its file).
void use_pkcs11_spy();
const std::filesystem::path& pkcs11_spy_log();

// What the spy logged after `offset` bytes of its log.
struct SpiedSigning {
  int sign_calls = 0;                   // C_Sign
  std::vector<std::string> mechanisms;  // of each C_SignInit, e.g. "CKM_RSA_PKCS_PSS"
};
std::size_t pkcs11_spy_log_size();
SpiedSigning pkcs11_spy_signing_since(std::size_t offset);

}  // namespace signet::test
