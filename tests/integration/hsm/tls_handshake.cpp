#include "tests/integration/hsm/tls_handshake.h"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/support/test_support.h"
#include "tests/unit/hsm/provider_test_support.h"

namespace signet::test {
namespace {

constexpr const char* kSpyModule = "/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so";
constexpr const char* kHostName = "signet.test";

// Both ends of a socketpair, closed on destruction.
struct SocketPair {
  int fds[2] = {-1, -1};
  SocketPair() {
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) fds[0] = fds[1] = -1;
  }
  ~SocketPair() {
    for (int fd : fds) {
      if (fd >= 0) ::close(fd);
    }
  }
};

void serve(SSL_CTX* context, int fd, bool& ok, std::string& errors) {
  SslPtr ssl(SSL_new(context));
  if (ssl && SSL_set_fd(ssl.get(), fd) == 1 && SSL_accept(ssl.get()) == 1) {
    ok = SSL_write(ssl.get(), "ok", 2) == 2;
  }
  errors = openssl_errors_with_data();
  ::shutdown(fd, SHUT_RDWR);  // the client never waits for a server that gave up
}

SslCtxPtr client_context(X509* trusted, const HandshakeSettings& settings) {
  SslCtxPtr context(SSL_CTX_new(TLS_client_method()));
  if (!context || SSL_CTX_set_min_proto_version(context.get(), settings.version) != 1 ||
      SSL_CTX_set_max_proto_version(context.get(), settings.version) != 1 ||
      X509_STORE_add_cert(SSL_CTX_get_cert_store(context.get()), trusted) != 1) {
    return nullptr;
  }
  if (!settings.client_sigalgs.empty() &&
      SSL_CTX_set1_sigalgs_list(context.get(), settings.client_sigalgs.c_str()) != 1) {
    return nullptr;
  }
  if (!settings.cipher_list.empty() &&
      SSL_CTX_set_cipher_list(context.get(), settings.cipher_list.c_str()) != 1) {
    return nullptr;
  }
  SSL_CTX_set_verify(context.get(), SSL_VERIFY_PEER, nullptr);
  return context;
}

void connect(SSL_CTX* context, int fd, HandshakeResult& result) {
  SslPtr ssl(SSL_new(context));
  char reply[2] = {};
  if (ssl && SSL_set_fd(ssl.get(), fd) == 1 && SSL_set_tlsext_host_name(ssl.get(), kHostName) &&
      SSL_set1_host(ssl.get(), kHostName) == 1 && SSL_connect(ssl.get()) == 1 &&
      SSL_get_verify_result(ssl.get()) == X509_V_OK &&
      SSL_read(ssl.get(), reply, sizeof(reply)) == 2) {
    result.ok = std::string(reply, 2) == "ok";
    result.version = SSL_version(ssl.get());
    SSL_get_peer_signature_type_nid(ssl.get(), &result.peer_signature_type);
    SSL_get_peer_signature_nid(ssl.get(), &result.peer_digest);
  }
  result.client_errors = openssl_errors_with_data();
  ::shutdown(fd, SHUT_RDWR);
}

}  // namespace

HandshakeResult tls_handshake(SSL_CTX* server, X509* trusted, const HandshakeSettings& settings) {
  HandshakeResult result;
  SslCtxPtr client = client_context(trusted, settings);
  SocketPair sockets;
  if (!client || sockets.fds[0] < 0) {
    result.client_errors = "cannot set up the client: " + openssl_errors_with_data();
    return result;
  }
  bool server_ok = false;
  std::thread server_thread(serve, server, sockets.fds[0], std::ref(server_ok),
                            std::ref(result.server_errors));
  connect(client.get(), sockets.fds[1], result);
  server_thread.join();
  result.ok = result.ok && server_ok;
  return result;
}

const std::filesystem::path& pkcs11_spy_log() {
  // One file per process for as long as the process lives: the spy opens it once.
  struct Log {
    std::filesystem::path path = std::filesystem::temp_directory_path() /
                                 ("signet-pkcs11-spy-" + std::to_string(::getpid()) + ".log");
    Log() { std::filesystem::remove(path); }
    ~Log() {
      std::error_code ignored;
      std::filesystem::remove(path, ignored);
    }
  };
  static const Log log;
  return log.path;
}

void use_pkcs11_spy() {
  ::setenv("SIGNET_PKCS11_MODULE", kSpyModule, 1);
  ::setenv("PKCS11SPY", "/usr/lib/softhsm/libsofthsm2.so", 1);
  ::setenv("PKCS11SPY_OUTPUT", pkcs11_spy_log().c_str(), 1);
}

std::size_t pkcs11_spy_log_size() {
  std::error_code error;
  const auto size = std::filesystem::file_size(pkcs11_spy_log(), error);
  return error ? 0 : static_cast<std::size_t>(size);
}

SpiedSigning pkcs11_spy_signing_since(std::size_t offset) {
  const std::string log = read_text(pkcs11_spy_log());
  std::istringstream lines(log.substr(std::min(offset, log.size())));
  static const std::regex kCall(R"(^\d+: (C_\w+)\s*$)");
  static const std::regex kMechanism(R"(pMechanism->type = (\w+))");
  SpiedSigning spied;
  std::string function;
  std::string line;
  std::smatch match;
  while (std::getline(lines, line)) {
    if (std::regex_match(line, match, kCall)) {
      function = match[1];
      if (function == "C_Sign") ++spied.sign_calls;
    } else if (function == "C_SignInit" && std::regex_search(line, match, kMechanism)) {
      spied.mechanisms.push_back(match[1]);
    }
  }
  return spied;
}

}  // namespace signet::test
