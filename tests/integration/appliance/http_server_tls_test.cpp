// HttpServer's TLS listener with software EC keys made here: curl over HTTPS against our CA,
// client certificates that verify (reach the handler), are absent (empty) or do not verify
// (kept out even when a permissive verify callback lets the handshake go on), and a TLS
// client that never finishes its handshake.
#include <catch2/catch.hpp>

#include <string>

#include "base/bytes.h"
#include "tests/integration/appliance/http_test_client.h"
#include "tests/integration/appliance/server_fixture.h"
#include "tests/integration/appliance/tls_test_certs.h"
#include "tests/support/test_support.h"

using namespace signet;
using namespace signet::test;
using namespace std::chrono_literals;

namespace {

std::string https_url(std::uint16_t port, const std::string& target) {
  return "https://127.0.0.1:" + std::to_string(port) + target;
}

// A CA, a server certificate it issued, and their PEM files in a temporary directory.
struct Pki {
  TempDir dir;
  KeyAndCert ca = make_certificate("Test CA", CertRole::kCa);
  KeyAndCert server = make_certificate("localhost", CertRole::kServer, &ca);

  Pki() { ca.write_pem(dir / "ca.pem", dir / "ca.key"); }
  std::string ca_file() const { return (dir / "ca.pem").string(); }
};

}  // namespace

TEST_CASE("curl talks HTTPS to a self-signed EC certificate it was given") {
  TempDir dir;
  auto self_signed = make_certificate("localhost", CertRole::kServer);
  self_signed.write_pem(dir / "server.pem", dir / "server.key");
  auto context = make_server_context(self_signed);
  auto server = start_server(echo_handler(), test_limits(), context.get());
  const auto port = server->bound_port(0);

  auto got = curl("--cacert '" + (dir / "server.pem").string() + "'",
                  https_url(port, "/secure%20path?q=1"));
  INFO(got.output);
  REQUIRE(got.exit_code == 0);
  CHECK(got.reply.status == 200);
  CHECK(got.reply.header("server") == "signet");
  CHECK(got.reply.body.find("path=/secure path\nquery q=1\nsecure=1\ncert=\n") !=
        std::string::npos);

  auto posted =
      curl("--tlsv1.3 --cacert '" + (dir / "server.pem").string() + "' --data-binary 'over tls'",
           https_url(port, "/post"));
  REQUIRE(posted.exit_code == 0);
  CHECK(posted.reply.body.find("body=over tls") != std::string::npos);

  auto tls12 = curl("--tlsv1.2 --tls-max 1.2 --cacert '" + (dir / "server.pem").string() + "'",
                    https_url(port, "/"));
  REQUIRE(tls12.exit_code == 0);
  CHECK(tls12.reply.status == 200);
}

TEST_CASE("a client certificate from the trusted CA reaches the handler; none gives empty") {
  Pki pki;
  auto client = make_certificate("operator", CertRole::kClient, &pki.ca);
  client.write_pem(pki.dir / "client.pem", pki.dir / "client.key");
  auto context = make_server_context(pki.server);
  request_client_certificates(context.get(), pki.ca);
  auto server = start_server(echo_handler(), test_limits(), context.get());
  const auto port = server->bound_port(0);

  auto with_cert =
      curl("--cacert '" + pki.ca_file() + "' --cert '" + (pki.dir / "client.pem").string() +
               "' --key '" + (pki.dir / "client.key").string() + "'",
           https_url(port, "/whoami"));
  INFO(with_cert.output);
  REQUIRE(with_cert.exit_code == 0);
  CHECK(with_cert.reply.status == 200);
  CHECK(with_cert.reply.body.find("cert=" + base::to_hex(client.der()) + "\n") !=
        std::string::npos);

  auto without = curl("--cacert '" + pki.ca_file() + "'", https_url(port, "/whoami"));
  REQUIRE(without.exit_code == 0);
  CHECK(without.reply.status == 200);
  CHECK(without.reply.body.find("secure=1\ncert=\n") != std::string::npos);
}

TEST_CASE("a client certificate that does not verify never reaches the handler") {
  Pki pki;
  auto stranger_ca = make_certificate("Stranger CA", CertRole::kCa);
  auto stranger = make_certificate("stranger", CertRole::kClient, &stranger_ca);
  stranger.write_pem(pki.dir / "stranger.pem", pki.dir / "stranger.key");
  const std::string client_args = "--cacert '" + pki.ca_file() + "' --cert '" +
                                  (pki.dir / "stranger.pem").string() + "' --key '" +
                                  (pki.dir / "stranger.key").string() + "'";

  SECTION("with SSL_VERIFY_PEER the handshake fails") {
    auto context = make_server_context(pki.server);
    request_client_certificates(context.get(), pki.ca);
    auto server = start_server(echo_handler(), test_limits(), context.get());
    auto got = curl(client_args, https_url(server->bound_port(0), "/"));
    CHECK(got.exit_code != 0);
    CHECK(server->stats().requests == 0);
  }
  SECTION("a verify callback that lets it through still leaves client_certificate empty") {
    auto context = make_server_context(pki.server);
    request_client_certificates(context.get(), pki.ca);
    SSL_CTX_set_verify(context.get(), SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
    auto server = start_server(echo_handler(), test_limits(), context.get());
    auto got = curl(client_args, https_url(server->bound_port(0), "/"));
    INFO(got.output);
    REQUIRE(got.exit_code == 0);
    CHECK(got.reply.body.find("secure=1\ncert=\n") != std::string::npos);
  }
}

TEST_CASE("a TLS client that never finishes its handshake is cut off") {
  Pki pki;
  auto context = make_server_context(pki.server);
  auto limits = test_limits();
  limits.tls_handshake_timeout = 300ms;
  auto server = start_server(echo_handler(), limits, context.get());
  RawClient client(server->bound_port(0));
  REQUIRE(client.send(std::string("\x16\x03\x01\x00\x50", 5)));  // a record header, no more
  CHECK(client.read_until_closed());
  CHECK(server->stats().timeouts == 1);
  CHECK(eventually([&] { return server->stats().connections_open == 0; }));
}

TEST_CASE("plain HTTP to the TLS listener is refused without reaching a handler") {
  Pki pki;
  auto context = make_server_context(pki.server);
  auto server = start_server(echo_handler(), test_limits(), context.get());
  RawClient client(server->bound_port(0));
  REQUIRE(client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto received = client.read_until_closed();
  REQUIRE(received);
  CHECK(received->find("HTTP/1.1") == std::string::npos);
  CHECK(server->stats().requests == 0);
}

TEST_CASE("create() refuses a TLS context whose app data Asio would take for its own") {
  Pki pki;
  auto context = make_server_context(pki.server);
  int mine = 0;
  SSL_CTX_set_app_data(context.get(), &mine);
  appliance::ListenerConfig listener{"https", "127.0.0.1", 0, context.get(), echo_handler()};
  auto server = appliance::HttpServer::create({listener}, test_limits());
  REQUIRE_FALSE(server);
  CHECK(server.error().code() == base::ErrorCode::kInvalidArgument);
  CHECK(SSL_CTX_get_app_data(context.get()) == &mine);
}

TEST_CASE("the server keeps its own reference to the TLS context") {
  Pki pki;
  auto context = make_server_context(pki.server);
  pki.server.write_pem(pki.dir / "server.pem", pki.dir / "server.key");
  appliance::ListenerConfig listener{"https", "127.0.0.1", 0, context.get(), echo_handler()};
  auto server = appliance::HttpServer::create({listener}, test_limits());
  REQUIRE(server);
  context.reset();  // the caller lets go of its reference
  (*server)->start();
  auto got = curl("--cacert '" + pki.ca_file() + "'", https_url((*server)->bound_port(0), "/"));
  REQUIRE(got.exit_code == 0);
  CHECK(got.reply.status == 200);
}
