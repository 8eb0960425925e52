#include "tests/integration/appliance/tls_test_certs.h"

#include <openssl/pem.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace signet::test {
namespace {

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string(what) + ": " + base::drain_openssl_errors());
}

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  base::X509ExtensionPtr extension(X509V3_EXT_conf_nid(nullptr, &context, nid, value));
  check(extension != nullptr, "X509V3_EXT_conf_nid");
  check(X509_add_ext(cert, extension.get(), -1) == 1, "X509_add_ext");
}

}  // namespace

base::Bytes KeyAndCert::der() const {
  const int length = i2d_X509(cert.get(), nullptr);
  check(length > 0, "i2d_X509");
  base::Bytes out(static_cast<std::size_t>(length));
  unsigned char* p = out.data();
  i2d_X509(cert.get(), &p);
  return out;
}

void KeyAndCert::write_pem(const std::filesystem::path& cert_file,
                           const std::filesystem::path& key_file) const {
  base::BioPtr cert_bio(BIO_new_file(cert_file.c_str(), "w"));
  check(cert_bio && PEM_write_bio_X509(cert_bio.get(), cert.get()) == 1, "write certificate");
  base::BioPtr key_bio(BIO_new_file(key_file.c_str(), "w"));
  check(key_bio && PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr,
                                            nullptr) == 1,
        "write key");
}

KeyAndCert make_certificate(const std::string& common_name, CertRole role,
                            const KeyAndCert* issuer) {
  KeyAndCert made;
  made.key.reset(EVP_EC_gen("P-256"));
  check(made.key != nullptr, "EVP_EC_gen");
  made.cert.reset(X509_new());
  X509* cert = made.cert.get();
  check(X509_set_version(cert, X509_VERSION_3) == 1, "X509_set_version");
  unsigned char serial_bytes[16];
  check(RAND_bytes(serial_bytes, sizeof(serial_bytes)) == 1, "RAND_bytes");
  serial_bytes[0] &= 0x7f;
  base::BignumPtr serial(BN_bin2bn(serial_bytes, sizeof(serial_bytes), nullptr));
  check(serial && BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) != nullptr,
        "serial");
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_NAME* name = X509_get_subject_name(cert);
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                   -1, 0) == 1,
        "subject");
  X509* issuer_cert = issuer != nullptr ? issuer->cert.get() : cert;
  EVP_PKEY* issuer_key = issuer != nullptr ? issuer->key.get() : made.key.get();
  check(X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert)) == 1, "issuer");
  check(X509_set_pubkey(cert, made.key.get()) == 1, "X509_set_pubkey");
  add_extension(cert, issuer_cert, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) add_extension(cert, issuer_cert, NID_authority_key_identifier, "keyid");
  switch (role) {
    case CertRole::kCa:
      add_extension(cert, issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
      add_extension(cert, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
      break;
    case CertRole::kServer:
      add_extension(cert, issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
      add_extension(cert, issuer_cert, NID_key_usage, "critical,digitalSignature");
      add_extension(cert, issuer_cert, NID_ext_key_usage, "serverAuth");
      add_extension(cert, issuer_cert, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
      break;
    case CertRole::kClient:
      add_extension(cert, issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
      add_extension(cert, issuer_cert, NID_key_usage, "critical,digitalSignature");
      add_extension(cert, issuer_cert, NID_ext_key_usage, "clientAuth");
      break;
  }
  check(X509_sign(cert, issuer_key, EVP_sha256()) > 0, "X509_sign");
  return made;
}

SslCtxPtr make_server_context(const KeyAndCert& server) {
  SslCtxPtr context(SSL_CTX_new(TLS_server_method()));
  check(context != nullptr, "SSL_CTX_new");
  check(SSL_CTX_set_min_proto_version(context.get(), TLS1_2_VERSION) == 1, "min version");
  check(SSL_CTX_set_max_proto_version(context.get(), TLS1_3_VERSION) == 1, "max version");
  check(SSL_CTX_use_certificate(context.get(), server.cert.get()) == 1, "use certificate");
  check(SSL_CTX_use_PrivateKey(context.get(), server.key.get()) == 1, "use key");
  check(SSL_CTX_check_private_key(context.get()) == 1, "check key");
  return context;
}

void request_client_certificates(SSL_CTX* context, const KeyAndCert& ca) {
  check(X509_STORE_add_cert(SSL_CTX_get_cert_store(context), ca.cert.get()) == 1,
        "X509_STORE_add_cert");
  check(SSL_CTX_add_client_CA(context, ca.cert.get()) == 1, "SSL_CTX_add_client_CA");
  SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
}

}  // namespace signet::test
