// HttpServer over real sockets on 127.0.0.1 (ephemeral ports), plain HTTP: round trips with
// curl and with a raw socket, keep-alive, size limits, slow clients, the connection bound,
// failing handlers and a graceful stop. Waits are bounded for liveness only; nothing asserts
// how long something took.
#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>

#include "tests/integration/appliance/http_test_client.h"
#include "tests/integration/appliance/server_fixture.h"
#include "tests/support/test_support.h"

using namespace signet;
using namespace signet::test;
using appliance::http::Request;
using appliance::http::Response;
using namespace std::chrono_literals;

namespace {

std::string url(std::uint16_t port, const std::string& target) {
  return "http://127.0.0.1:" + std::to_string(port) + target;
}

std::string get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: test\r\n" + extra + "\r\n";
}

const std::string kInternalError = R"({"error":{"code":"internal","message":"internal error"}})";

}  // namespace

TEST_CASE("curl GETs and POSTs through the server and the handler sees the decoded request") {
  auto server = start_server(echo_handler(), test_limits());
  const auto port = server->bound_port(0);

  auto got = curl("-H 'X-Test: hello'", url(port, "/hello%20world/a+b?a=1&b=x+y&c=%2F"));
  REQUIRE(got.exit_code == 0);
  CHECK(got.reply.status == 200);
  CHECK(got.reply.header("content-type") == "text/plain");
  CHECK(got.reply.body.find("method=GET\npath=/hello world/a+b\n") == 0);
  CHECK(got.reply.body.find("query a=1\nquery b=x y\nquery c=/\n") != std::string::npos);
  CHECK(got.reply.body.find("x-test=hello\n") != std::string::npos);
  CHECK(got.reply.body.find("secure=0\ncert=\nremote=127.0.0.1:") != std::string::npos);

  auto posted = curl("--data-binary 'name=value&more'", url(port, "/submit"));
  REQUIRE(posted.exit_code == 0);
  CHECK(posted.reply.status == 200);
  CHECK(posted.reply.body.find("method=POST\npath=/submit\n") == 0);
  CHECK(posted.reply.body.find("body=name=value&more") != std::string::npos);
  CHECK(server->stats().requests == 2);
}

TEST_CASE("every response carries Content-Length, Date and Server: signet and nothing else of us") {
  auto server = start_server(
      [](Request&) {
        Response response;
        response.body = "{}";
        response.add_header("Server", "nginx").add_header("X-Powered-By", "handler");
        response.add_header("Content-Length", "999").add_header("Date", "yesterday");
        return response;
      },
      test_limits());
  RawClient client(server->bound_port(0));
  REQUIRE(client.send(get("/")));
  auto reply = client.read_response();
  REQUIRE(reply);
  CHECK(reply->status == 200);
  CHECK(reply->header("server") == "signet");
  CHECK(reply->header("content-length") == "2");
  CHECK(reply->header("date").size() == 29);  // "Sun, 06 Nov 1994 08:49:37 GMT"
  CHECK(reply->header("date").substr(25) == " GMT");
  CHECK(reply->header("x-powered-by") == "handler");  // a handler's own header goes out
  CHECK(reply->body == "{}");
}

TEST_CASE("a raw client GETs and POSTs, and two requests share one kept-alive connection") {
  auto server = start_server(echo_handler(), test_limits());
  RawClient client(server->bound_port(0));
  REQUIRE(client.connected());

  REQUIRE(client.send(get("/first?x=1")));
  auto first = client.read_response();
  REQUIRE(first);
  CHECK(first->status == 200);
  CHECK(first->body.find("path=/first\nquery x=1\n") != std::string::npos);
  CHECK_FALSE(first->has("connection"));

  REQUIRE(client.send("POST /second HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello"));
  auto second = client.read_response();
  REQUIRE(second);
  CHECK(second->status == 200);
  CHECK(second->body.find("method=POST\npath=/second\n") == 0);
  CHECK(second->body.find("body=hello") != std::string::npos);

  // Pipelined: both requests in one write, both answered in order.
  REQUIRE(client.send(get("/third") + get("/fourth")));
  auto third = client.read_response();
  auto fourth = client.read_response();
  REQUIRE(third);
  REQUIRE(fourth);
  CHECK(third->body.find("path=/third\n") != std::string::npos);
  CHECK(fourth->body.find("path=/fourth\n") != std::string::npos);

  const auto stats = server->stats();
  CHECK(stats.connections_accepted == 1);
  CHECK(stats.requests == 4);
}

TEST_CASE("a chunked request body reaches the handler whole") {
  auto server = start_server(echo_handler(), test_limits());
  RawClient client(server->bound_port(0));
  REQUIRE(
      client.send("POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
  auto reply = client.read_response();
  REQUIRE(reply);
  CHECK(reply->status == 200);
  CHECK(reply->body.find("body=hello world") != std::string::npos);
}

TEST_CASE("Connection: close and HTTP/1.0 without keep-alive close after the response") {
  auto server = start_server(echo_handler(), test_limits());
  const auto port = server->bound_port(0);
  {
    RawClient client(port);
    REQUIRE(client.send(get("/", "Connection: close\r\n")));
    auto reply = client.read_response();
    REQUIRE(reply);
    CHECK(reply->status == 200);
    CHECK(reply->header("connection") == "close");
    CHECK(client.read_until_closed() == "");
  }
  {
    RawClient client(port);
    REQUIRE(client.send("GET /old HTTP/1.0\r\n\r\n"));
    auto reply = client.read_response();
    REQUIRE(reply);
    CHECK(reply->status == 200);
    CHECK(reply->body.find("path=/old\n") != std::string::npos);
    CHECK(client.read_until_closed() == "");
  }
  {
    RawClient client(port);
    REQUIRE(client.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    auto reply = client.read_response();
    REQUIRE(reply);
    CHECK(reply->header("connection") == "keep-alive");
    REQUIRE(client.send("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    auto again = client.read_response();
    REQUIRE(again);
    CHECK(again->body.find("path=/b\n") != std::string::npos);
  }
}

TEST_CASE("a handler can ask to close the connection") {
  auto server = start_server(
      [](Request&) {
        Response response;
        response.add_header("Connection", "close");
        return response;
      },
      test_limits());
  RawClient client(server->bound_port(0));
  REQUIRE(client.send(get("/")));
  auto reply = client.read_response();
  REQUIRE(reply);
  CHECK(reply->header("connection") == "close");
  CHECK(client.read_until_closed() == "");
}

TEST_CASE("HEAD gets the handler's Content-Length but no body") {
  std::atomic<bool> saw_head{false};
  auto server = start_server(
      [&saw_head](Request& request) {
        if (request.method == "HEAD") saw_head = true;
        Response response;
        response.body = "0123456789";
        return response;
      },
      test_limits());
  RawClient client(server->bound_port(0));
  REQUIRE(client.send("HEAD / HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto head = client.read_response(/*expect_body=*/false);
  REQUIRE(head);
  CHECK(head->header("content-length") == "10");
  CHECK(saw_head);
  // Had a body followed, this GET's response would not parse as the next one.
  REQUIRE(client.send(get("/")));
  auto reply = client.read_response();
  REQUIRE(reply);
  CHECK(reply->status == 200);
  CHECK(reply->body == "0123456789");
}

TEST_CASE("204 and 304 go out without a body or Content-Length") {
  auto server = start_server(
      [](Request& request) {
        Response response;
        response.status = request.path == "/gone" ? 204 : 304;
        response.body = "ignored";
        return response;
      },
      test_limits());
  RawClient client(server->bound_port(0));
  REQUIRE(client.send(get("/gone") + get("/same")));
  auto no_content = client.read_response(false);
  auto not_modified = client.read_response(false);
  REQUIRE(no_content);
  REQUIRE(not_modified);
  CHECK(no_content->status == 204);
  CHECK_FALSE(no_content->has("content-length"));
  CHECK(not_modified->status == 304);
  CHECK_FALSE(not_modified->has("content-length"));
}

TEST_CASE("Expect: 100-continue gets its 100 before the body is sent") {
  auto server = start_server(echo_handler(), test_limits());
  auto got = curl("-H 'Expect: 100-continue' --data-binary 'payload'",
                  url(server->bound_port(0), "/upload"));
  REQUIRE(got.exit_code == 0);
  CHECK(got.all_headers.find("HTTP/1.1 100 Continue") == 0);
  CHECK(got.reply.status == 200);
  CHECK(got.reply.body.find("body=payload") != std::string::npos);
}

TEST_CASE("a body over the limit is refused with 413 and the connection closed") {
  auto limits = test_limits();
  limits.max_body_bytes = 1024;
  std::atomic<int> calls{0};
  auto server = start_server(
      [&calls](Request&) {
        ++calls;
        return Response{};
      },
      limits);
  const auto port = server->bound_port(0);
  TempDir dir;
  write_text(dir / "big", std::string(4096, 'x'));

  auto got = curl("--data-binary @'" + (dir / "big").string() + "'", url(port, "/upload"));
  REQUIRE(got.exit_code == 0);
  CHECK(got.reply.status == 413);
  CHECK(got.reply.body ==
        R"({"error":{"code":"payload_too_large","message":"request body too large"}})");

  RawClient declared(port);  // a Content-Length over the limit is refused before any body
  REQUIRE(declared.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n"));
  auto reply = declared.read_response();
  REQUIRE(reply);
  CHECK(reply->status == 413);
  CHECK(reply->header("connection") == "close");
  CHECK(declared.read_until_closed());

  RawClient chunked(port);  // chunked bodies are counted as they arrive
  REQUIRE(chunked.send("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk = "400\r\n" + std::string(1024, 'y') + "\r\n";
  chunked.send(chunk);
  chunked.send(chunk);
  auto chunked_reply = chunked.read_response();
  REQUIRE(chunked_reply);
  CHECK(chunked_reply->status == 413);

  CHECK(calls == 0);
  CHECK(server->stats().bad_requests == 3);
}

TEST_CASE("a header over the limit is refused with 431") {
  auto limits = test_limits();
  limits.max_header_bytes = 2048;
  auto server = start_server(echo_handler(), limits);
  const auto port = server->bound_port(0);

  auto got = curl("-H 'X-Big: " + std::string(4000, 'h') + "'", url(port, "/"));
  REQUIRE(got.exit_code == 0);
  CHECK(got.reply.status == 431);
  CHECK(got.reply.body ==
        R"({"error":{"code":"headers_too_large","message":"request header fields too large"}})");

  auto fits = curl("-H 'X-Test: " + std::string(1000, 'h') + "'", url(port, "/"));
  REQUIRE(fits.exit_code == 0);
  CHECK(fits.reply.status == 200);
}

TEST_CASE("malformed requests and targets get 400, other HTTP versions 505") {
  auto server = start_server(echo_handler(), test_limits());
  const auto port = server->bound_port(0);
  for (const std::string& request : {get("/a%zz"), get("/a%00b"), get("/a#b"),
                                     std::string("GET / HTTP/1.1\r\nBad Header\r\n\r\n"),
                                     std::string("NOT A REQUEST\r\n\r\n")}) {
    RawClient client(port);
    REQUIRE(client.send(request));
    auto reply = client.read_response();
    REQUIRE(reply);
    CHECK(reply->status == 400);
    CHECK(reply->body.find(R"({"error":{"code":"bad_request",)") == 0);
    CHECK(client.read_until_closed());
  }
  for (const std::string version : {"HTTP/1.2", "HTTP/2.0"}) {
    RawClient client(port);
    REQUIRE(client.send("GET / " + version + "\r\nHost: t\r\n\r\n"));
    auto reply = client.read_response();
    REQUIRE(reply);
    CHECK(reply->status == 505);
  }
}

TEST_CASE("a client that sends half a header and stalls is cut off with 408") {
  auto limits = test_limits();
  limits.header_timeout = 300ms;
  auto server = start_server(echo_handler(), limits);
  RawClient client(server->bound_port(0));
  REQUIRE(client.send("GET /slow HTTP/1.1\r\nHost: t\r\nX-Partial: "));
  auto received = client.read_until_closed();
  REQUIRE(received);  // closed by the server within the bounded wait
  CHECK(received->find("HTTP/1.1 408 ") == 0);
  CHECK(received->find(R"("code":"request_timeout")") != std::string::npos);
  CHECK(server->stats().timeouts >= 1);
  CHECK(server->stats().requests == 0);
}

TEST_CASE("a client that never sends a byte is closed quietly at the header deadline") {
  auto limits = test_limits();
  limits.header_timeout = 300ms;
  auto server = start_server(echo_handler(), limits);
  RawClient client(server->bound_port(0));
  REQUIRE(client.connected());
  CHECK(client.read_until_closed() == "");
}

TEST_CASE("a client that stalls in the body is cut off with 408") {
  auto limits = test_limits();
  limits.body_timeout = 300ms;
  auto server = start_server(echo_handler(), limits);
  RawClient client(server->bound_port(0));
  REQUIRE(client.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly a little"));
  auto received = client.read_until_closed();
  REQUIRE(received);
  CHECK(received->find("HTTP/1.1 408 ") == 0);
}

TEST_CASE("an idle kept-alive connection is closed after the idle timeout, without a 408") {
  auto limits = test_limits();
  limits.idle_timeout = 300ms;
  auto server = start_server(echo_handler(), limits);
  RawClient client(server->bound_port(0));
  REQUIRE(client.send(get("/")));
  REQUIRE(client.read_response());
  CHECK(client.read_until_closed() == "");
  CHECK(eventually([&] { return server->stats().connections_open == 0; }));
}

TEST_CASE("connections beyond max_connections are accepted and closed at once") {
  auto limits = test_limits();
  limits.max_connections = 2;
  auto server = start_server(echo_handler(), limits);
  const auto port = server->bound_port(0);
  auto first = std::make_unique<RawClient>(port);
  RawClient second(port);
  for (RawClient* client : {first.get(), &second}) {  // both are being served
    REQUIRE(client->send(get("/")));
    REQUIRE(client->read_response());
  }

  RawClient extra(port);
  REQUIRE(extra.connected());  // the kernel completed the handshake; the server then closes it
  CHECK(extra.read_until_closed() == "");
  CHECK(server->stats().connections_refused == 1);

  first.reset();  // frees a slot
  REQUIRE(eventually([&] { return server->stats().connections_open == 1; }));
  RawClient later(port);
  REQUIRE(later.send(get("/again")));
  auto reply = later.read_response();
  REQUIRE(reply);
  CHECK(reply->status == 200);
  CHECK(server->stats().connections_refused == 1);
  CHECK(server->stats().connections_accepted == 3);
}

TEST_CASE("a throwing handler gives a 500 without its details, and the details are logged") {
  RecordingLogger logger;
  auto server = start_server(
      [](Request& request) -> Response {
        if (request.path == "/int") throw 42;
        throw std::runtime_error("secret detail: token PIN 1234");
      },
      test_limits(), nullptr, &logger);
  const auto port = server->bound_port(0);
  auto got = curl("", url(port, "/boom"));
  REQUIRE(got.exit_code == 0);
  CHECK(got.reply.status == 500);
  CHECK(got.reply.body == kInternalError);
  CHECK(got.all_headers.find("secret") == std::string::npos);

  RawClient client(port);  // not even a non-standard exception closes the connection
  REQUIRE(client.send(get("/int") + get("/boom")));
  auto first = client.read_response();
  auto second = client.read_response();
  REQUIRE(first);
  REQUIRE(second);
  CHECK(first->status == 500);
  CHECK(second->status == 500);
  CHECK(server->stats().handler_errors == 3);
  CHECK(logger.all().find("secret detail") != std::string::npos);
}

TEST_CASE("a handler's response that could split the response becomes a 500") {
  auto server = start_server(
      [](Request&) {
        Response response;
        response.add_header("Location", "/x\r\nSet-Cookie: stolen=1");
        return response;
      },
      test_limits());
  RawClient client(server->bound_port(0));
  REQUIRE(client.send(get("/")));
  auto reply = client.read_response();
  REQUIRE(reply);
  CHECK(reply->status == 500);
  CHECK_FALSE(reply->has("set-cookie"));
  CHECK(reply->body == kInternalError);
}

TEST_CASE("stop() lets a slow in-flight request finish, then the server is gone") {
  std::promise<void> handler_started;
  auto started = handler_started.get_future();
  auto server = start_server(
      [&handler_started](Request&) {
        handler_started.set_value();
        std::this_thread::sleep_for(200ms);
        Response response;
        response.body = "slow and done";
        return response;
      },
      test_limits());
  const auto port = server->bound_port(0);
  RawClient idle(port);  // an idle keep-alive connection is closed at once
  REQUIRE(idle.connected());

  auto slow = std::async(std::launch::async, [port] { return curl("", url(port, "/slow")); });
  REQUIRE(started.wait_for(RawClient::kWait) == std::future_status::ready);
  server->stop(10'000ms);

  auto got = slow.get();
  REQUIRE(got.exit_code == 0);
  CHECK(got.reply.status == 200);
  CHECK(got.reply.body == "slow and done");
  CHECK(got.reply.header("connection") == "close");
  CHECK(idle.read_until_closed() == "");
  CHECK(server->stats().connections_open == 0);
  CHECK(connection_refused(port));
  server->stop();  // idempotent
}

TEST_CASE("stop() is idempotent from several threads, also for a server never started") {
  appliance::ListenerConfig listener{"http", "127.0.0.1", 0, nullptr, echo_handler()};
  auto never_started = appliance::HttpServer::create({listener}, test_limits());
  REQUIRE(never_started);
  (*never_started)->stop();
  (*never_started)->stop();
  (*never_started)->start();  // after stop: nothing

  auto server = start_server(echo_handler(), test_limits());
  std::vector<std::thread> stoppers;
  for (int i = 0; i < 4; ++i) stoppers.emplace_back([&server] { server->stop(1'000ms); });
  for (auto& thread : stoppers) thread.join();
  CHECK(connection_refused(server->bound_port(0)));
}

TEST_CASE("a handler that stops the server gets its response out") {
  appliance::HttpServer* self = nullptr;
  auto server = start_server(
      [&self](Request&) {
        self->stop();  // from a worker: begins the stop, cannot join
        return Response{};
      },
      test_limits());
  self = server.get();
  RawClient client(server->bound_port(0));
  REQUIRE(client.send(get("/")));
  auto reply = client.read_response();
  REQUIRE(reply);
  CHECK(reply->status == 200);
  CHECK(reply->header("connection") == "close");
  CHECK(client.read_until_closed() == "");
  client.close();
  server->stop();  // ends it from outside
  CHECK(connection_refused(server->bound_port(0)));
}

TEST_CASE("create() reports a bad address and an address in use before any thread starts") {
  auto first = start_server(echo_handler(), test_limits());
  appliance::ListenerConfig taken{"http", "127.0.0.1", first->bound_port(0), nullptr,
                                  echo_handler()};
  auto clash = appliance::HttpServer::create({taken}, test_limits());
  REQUIRE_FALSE(clash);
  CHECK(clash.error().code() == base::ErrorCode::kUnavailable);
  CHECK(clash.error().message().find("listener 'http'") != std::string::npos);

  appliance::ListenerConfig bad{"http", "not-an-address", 0, nullptr, echo_handler()};
  auto invalid = appliance::HttpServer::create({bad}, test_limits());
  REQUIRE_FALSE(invalid);
  CHECK(invalid.error().code() == base::ErrorCode::kInvalidArgument);

  appliance::ListenerConfig no_handler{"http", "127.0.0.1", 0, nullptr, nullptr};
  CHECK_FALSE(appliance::HttpServer::create({no_handler}, test_limits()));
}

TEST_CASE("a server with two listeners serves both with their own handlers") {
  auto handler_for = [](std::string name) {
    return [name](Request&) {
      Response response;
      response.body = name;
      return response;
    };
  };
  auto server = appliance::HttpServer::create({{"one", "127.0.0.1", 0, nullptr, handler_for("one")},
                                               {"two", "::1", 0, nullptr, handler_for("two")}},
                                              test_limits());
  if (!server) {
    // No IPv6 loopback here: one listener is enough to show the rest.
    WARN("skipped: " << server.error().describe());
    return;
  }
  (*server)->start();
  auto one = curl("", url((*server)->bound_port(0), "/"));
  auto two = curl("-g", "http://[::1]:" + std::to_string((*server)->bound_port(1)) + "/");
  CHECK(one.reply.body == "one");
  CHECK(two.reply.body == "two");
}

TEST_CASE("many clients at once each get their own responses") {
  auto limits = test_limits();
  limits.worker_threads = 3;  // fewer workers than clients: requests queue for a worker
  auto server = start_server(echo_handler(), limits);
  const auto port = server->bound_port(0);
  constexpr int kClients = 24;
  constexpr int kRequests = 20;
  std::atomic<int> good{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([port, c, &good] {
      RawClient client(port);
      for (int r = 0; r < kRequests; ++r) {
        const std::string body = "client " + std::to_string(c) + " request " + std::to_string(r);
        if (!client.send("POST /c" + std::to_string(c) +
                         " HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) +
                         "\r\n\r\n" + body)) {
          return;
        }
        auto reply = client.read_response();
        if (reply && reply->status == 200 &&
            reply->body.find("path=/c" + std::to_string(c) + "\n") != std::string::npos &&
            reply->body.find("body=" + body) != std::string::npos) {
          ++good;
        }
      }
    });
  }
  for (auto& thread : clients) thread.join();
  CHECK(good == kClients * kRequests);
  const auto stats = server->stats();
  CHECK(stats.connections_accepted == kClients);
  CHECK(stats.requests == kClients * kRequests);
}

TEST_CASE("stop() cuts off a request still arriving when the grace runs out") {
  auto server = start_server(echo_handler(), test_limits());  // header deadline: 10 s
  RawClient client(server->bound_port(0));
  REQUIRE(client.send("GET /never-finished HTTP/1.1\r\nHost: t\r\n"));
  REQUIRE(eventually([&] { return server->stats().connections_accepted == 1; }));
  server->stop(50ms);
  CHECK(client.read_until_closed());
  CHECK(server->stats().requests == 0);
}

TEST_CASE("stop() waits for a handler that outlives the grace, but its client is cut off") {
  std::promise<void> handler_started;
  auto started = handler_started.get_future();
  std::atomic<bool> handler_finished{false};
  auto server = start_server(
      [&](Request&) {
        handler_started.set_value();
        std::this_thread::sleep_for(300ms);
        handler_finished = true;
        return Response{};
      },
      test_limits());
  RawClient client(server->bound_port(0));
  REQUIRE(client.send(get("/stuck")));
  REQUIRE(started.wait_for(RawClient::kWait) == std::future_status::ready);
  server->stop(10ms);
  CHECK(handler_finished);                  // joined, not abandoned
  CHECK(client.read_until_closed() == "");  // closed without a response
}
