// Software EC keys and certificates for the HTTPS tests, made with OpenSSL in the default
// library context: a CA, server and client certificates it issues, self-signed ones, and
// server SSL_CTXs over them (TLS 1.2 and 1.3 only).
#pragma once

#include <openssl/ssl.h>

#include <filesystem>
#include <memory>
#include <string>

#include "base/bytes.h"
#include "base/openssl.h"

namespace signet::test {

using SslCtxPtr = std::unique_ptr<SSL_CTX, base::OpenSslDeleter<SSL_CTX_free>>;

struct KeyAndCert {
  base::EvpPkeyPtr key;
  base::X509Ptr cert;

  base::Bytes der() const;
  // Writes the certificate and the (unencrypted) key as PEM files.
  void write_pem(const std::filesystem::path& cert_file,
                 const std::filesystem::path& key_file) const;
};

enum class CertRole { kCa, kServer, kClient };

// A P-256 key and a certificate for it: self-signed when `issuer` is null. Servers get the
// SANs DNS:localhost and IP:127.0.0.1.
KeyAndCert make_certificate(const std::string& common_name, CertRole role,
                            const KeyAndCert* issuer = nullptr);

// A server context with `server`'s certificate and key, TLS 1.2 to 1.3.
SslCtxPtr make_server_context(const KeyAndCert& server);

// Adds client-certificate verification against `ca`: SSL_VERIFY_PEER without
// FAIL_IF_NO_PEER_CERT, so a client without a certificate still gets in.
void request_client_certificates(SSL_CTX* context, const KeyAndCert& ca);

}  // namespace signet::test
