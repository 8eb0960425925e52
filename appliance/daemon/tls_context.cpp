#include "appliance/daemon/tls_context.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include "base/openssl.h"

namespace signet::appliance {

using base::Error;
using base::ErrorCode;
using base::Result;

namespace {

// TLS 1.2: ECDHE with AES-GCM or ChaCha20-Poly1305 only (Mozilla "intermediate" minus the
// DHE suites). TLS 1.3's suites are all AEAD; OpenSSL's default list is kept.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

Error tls_error(std::string what) {
  return Error(ErrorCode::kCryptoError, what + ": " + base::drain_openssl_errors());
}

Result<base::X509Ptr> parse_der(const base::Bytes& der) {
  const unsigned char* p = der.data();
  base::X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) return tls_error("parsing a certificate for TLS");
  return cert;
}

}  // namespace

Result<SslCtxPtr> make_server_tls_context(hsm::OpensslBridge& bridge, const TlsIdentity& identity,
                                          firmware_config::TlsVersion min_version) {
  SslCtxPtr ctx(SSL_CTX_new_ex(bridge.library_context(), nullptr, TLS_server_method()));
  if (!ctx) return tls_error("creating the TLS context");
  SSL_CTX_set_min_proto_version(ctx.get(), min_version == firmware_config::TlsVersion::kTls13
                                               ? TLS1_3_VERSION
                                               : TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION);
  SSL_CTX_set_options(
      ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
  if (SSL_CTX_set_cipher_list(ctx.get(), kTls12Ciphers) != 1) {
    return tls_error("setting the TLS 1.2 cipher suites");
  }
  SIGNET_ASSIGN_OR_RETURN(auto leaf, parse_der(identity.certificate.der));
  SIGNET_ASSIGN_OR_RETURN(auto issuer, parse_der(identity.appliance_ca.certificate_der));
  if (SSL_CTX_use_certificate(ctx.get(), leaf.get()) != 1) {
    return tls_error("using signetd's certificate");
  }
  if (SSL_CTX_add1_chain_cert(ctx.get(), issuer.get()) != 1) {
    return tls_error("adding the appliance CA to the chain");
  }
  SIGNET_ASSIGN_OR_RETURN(auto key, bridge.make_key(identity.key));
  if (SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1) {
    return tls_error("using the token key for TLS");
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    return tls_error("the token key does not match signetd's certificate");
  }
  // Client certificates: asked for, not required; only the appliance CA is trusted for them.
  X509_STORE* store = SSL_CTX_get_cert_store(ctx.get());
  if (X509_STORE_add_cert(store, issuer.get()) != 1) {
    return tls_error("trusting the appliance CA for client certificates");
  }
  STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
  if (names != nullptr) {
    sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(issuer.get())));
    SSL_CTX_set_client_CA_list(ctx.get(), names);
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
  SSL_CTX_set_verify_depth(ctx.get(), 2);
  const unsigned char session_context[] = "signetd";
  SSL_CTX_set_session_id_context(ctx.get(), session_context, sizeof(session_context) - 1);
  return ctx;
}

}  // namespace signet::appliance
