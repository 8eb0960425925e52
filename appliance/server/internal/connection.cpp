// Connection<Stream>: one client connection, plain (tcp::socket) or TLS
// (ssl::stream<tcp::socket>), a state machine on its own strand. The one translation unit that
// includes Boost.Beast, which is heavy to compile.
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cstdint>
#include <limits>
#include <string_view>
#include <type_traits>
#include <utility>

#include "appliance/server/http.h"
#include "appliance/server/internal/http_wire.h"
#include "appliance/server/internal/server_state.h"

namespace signet::appliance::http::internal {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using TlsStream = asio::ssl::stream<tcp::socket>;

constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// The leaf certificate the TLS layer verified, as DER; empty when there is none.
base::Bytes verified_peer_certificate(SSL* ssl) {
  X509* peer = SSL_get0_peer_certificate(ssl);
  if (peer == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return {};
  const int length = i2d_X509(peer, nullptr);
  if (length <= 0) return {};
  base::Bytes der(static_cast<std::size_t>(length));
  unsigned char* out = der.data();
  i2d_X509(peer, &out);
  return der;
}

bool is_disconnect(const error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
         ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::ssl::error::stream_truncated;
}

bool is_parse_error(const error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category();
}

// Beast refuses every version but 1.0 and 1.1 as bad_version; a well-formed request line
// ("GET / HTTP/2.0") gets 505 rather than 400.
bool names_other_http_version(std::string_view input) {
  const std::string_view line = input.substr(0, input.find("\r\n"));
  if (line.size() < 9 || line.find(' ') == std::string_view::npos) return false;
  const std::string_view version = line.substr(line.size() - 9);
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  return version.substr(0, 6) == " HTTP/" && digit(version[6]) && version[7] == '.' &&
         digit(version[8]);
}

std::string_view to_std(beast::string_view text) { return {text.data(), text.size()}; }

std::string lower(std::string_view text) {
  std::string result(text);
  for (char& c : result) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return result;
}

// One client connection. Its state is touched only on its strand (the socket's executor):
// the ConnectionBase calls post there; handle() runs on a worker thread and touches only the
// request it is given and the immutable listener configuration; close_unsynchronized() runs
// once no server thread is left. It owns one max_connections slot, given back by the
// destructor, which runs when the last operation or queued call holding it is gone.
//
// Phases: [kHandshake] -> kAwaitRequest -> kReadHeader -> [kReadBody] -> kHandling ->
// kWriting -> kAwaitRequest (keep-alive) or kClosing (drain, then close) -> kClosed.
template <class Stream>
class Connection final : public ConnectionBase,
                         public std::enable_shared_from_this<Connection<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  template <class... StreamArgs>
  Connection(ServerState& server, const ListenerConfig& listener, std::string remote,
             StreamArgs&&... stream_args)
      : server_(server),
        listener_(listener),
        stream_(std::forward<StreamArgs>(stream_args)...),
        timer_(stream_.get_executor()),
        remote_(std::move(remote)),
        accepted_at_(Clock::now()) {}

  ~Connection() override { server_.connection_ended(id_); }

  void start() override {
    id_ = server_.register_connection(this->weak_from_this());
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->begin(); });
  }

  void notify_stop() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->phase_ == Phase::kHandshake || self->phase_ == Phase::kAwaitRequest ||
          self->phase_ == Phase::kClosing) {
        self->close_now();
      }
    });
  }

  void close_unsynchronized() override { close_now(); }

  void force_close() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] { self->close_now(); });
  }

 private:
  enum class Phase {
    kStarting,
    kHandshake,
    kAwaitRequest,
    kReadHeader,
    kReadBody,
    kHandling,
    kWriting,
    kClosing,
    kClosed
  };

  const ServerLimits& limits() const { return server_.limits; }
  tcp::socket& socket() { return beast::get_lowest_layer(stream_); }

  // One deadline at a time; a newer arm() or disarm() makes an older expiry a no-op.
  void arm(Clock::time_point deadline) {
    ++timer_generation_;
    timed_out_ = false;
    timer_.expires_at(deadline);
    timer_.async_wait(
        [self = this->shared_from_this(), generation = timer_generation_](error_code ec) {
          if (!ec && generation == self->timer_generation_) self->on_deadline();
        });
  }
  void disarm() {
    ++timer_generation_;
    timer_.cancel();
  }

  void on_deadline() {
    switch (phase_) {
      case Phase::kAwaitRequest:
        // A kept-alive connection that stays idle is closed quietly; a new one that never
        // sends a byte used up its header deadline.
        if (first_request_) server_.counters.timeouts.fetch_add(1);
        close_now();
        break;
      case Phase::kReadHeader:
      case Phase::kReadBody:
        // Part of a request arrived: cancel the read, whose handler answers 408.
        server_.counters.timeouts.fetch_add(1);
        timed_out_ = true;
        {
          error_code ignored;
          socket().cancel(ignored);
        }
        break;
      case Phase::kHandshake:
      case Phase::kWriting:
        server_.counters.timeouts.fetch_add(1);
        close_now();
        break;
      case Phase::kClosing:
        close_now();
        break;
      default:
        break;
    }
  }

  void close_now() {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    disarm();
    error_code ignored;
    socket().close(ignored);
  }

  void begin() {
    if (server_.stopping.load()) return close_now();
    if constexpr (kTls) {
      phase_ = Phase::kHandshake;
      arm(accepted_at_ + limits().tls_handshake_timeout);
      stream_.async_handshake(
          asio::ssl::stream_base::server,
          [self = this->shared_from_this()](error_code ec) { self->on_handshake(ec); });
    } else {
      header_deadline_ = accepted_at_ + limits().header_timeout;
      await_request();
    }
  }

  void on_handshake(error_code ec) {
    if (phase_ == Phase::kClosed) return;
    disarm();
    if (ec) return close_now();
    if constexpr (kTls) client_certificate_ = verified_peer_certificate(stream_.native_handle());
    header_deadline_ = Clock::now() + limits().header_timeout;
    await_request();
  }

  // Waits for the first byte of the next request, unless it is already buffered.
  void await_request() {
    if (server_.stopping.load()) return close_gracefully();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(
        limits().max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    parser_->body_limit(static_cast<std::uint64_t>(limits().max_body_bytes));
    if (buffer_.size() > 0) {  // pipelined
      if (!first_request_) header_deadline_ = Clock::now() + limits().header_timeout;
      return read_header();
    }
    phase_ = Phase::kAwaitRequest;
    arm(first_request_ ? header_deadline_ : Clock::now() + limits().idle_timeout);
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = this->shared_from_this()](error_code ec, std::size_t n) {
                              self->on_first_bytes(ec, n);
                            });
  }

  void on_first_bytes(error_code ec, std::size_t n) {
    if (phase_ == Phase::kClosed) return;
    disarm();
    if (ec) return close_now();
    buffer_.commit(n);
    if (!first_request_) header_deadline_ = Clock::now() + limits().header_timeout;
    read_header();
  }

  void read_header() {
    phase_ = Phase::kReadHeader;
    arm(header_deadline_);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(error_code ec) {
    if (phase_ == Phase::kClosed) return;
    const bool timed_out = timed_out_;
    disarm();
    if (ec) return on_read_error(ec, timed_out);
    const auto& message = parser_->get();
    if (parser_->is_done()) return dispatch();
    // RFC 9110 §10.1.1: a client that asked may wait for 100 Continue before the body.
    if (message.version() == 11 && beast::iequals(message[bhttp::field::expect], "100-continue")) {
      phase_ = Phase::kWriting;
      arm(Clock::now() + limits().write_timeout);
      return asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                               [self = this->shared_from_this()](error_code write_ec, std::size_t) {
                                 if (self->phase_ == Phase::kClosed) return;
                                 self->disarm();
                                 if (write_ec) return self->close_now();
                                 self->read_body();
                               });
    }
    read_body();
  }

  void read_body() {
    phase_ = Phase::kReadBody;
    arm(Clock::now() + limits().body_timeout);
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_body(ec); });
  }

  void on_body(error_code ec) {
    if (phase_ == Phase::kClosed) return;
    const bool timed_out = timed_out_;
    disarm();
    if (ec) return on_read_error(ec, timed_out);
    dispatch();
  }

  void on_read_error(error_code ec, bool timed_out) {
    if (ec == bhttp::error::header_limit) {
      return reply_error(431, "headers_too_large", "request header fields too large");
    }
    if (ec == bhttp::error::body_limit) {
      return reply_error(413, "payload_too_large", "request body too large");
    }
    if (timed_out && ec == asio::error::operation_aborted) {
      return send(error_response(408, "request_timeout", "request not received in time"),
                  /*close=*/true);
    }
    if (is_disconnect(ec) || !is_parse_error(ec)) return close_now();
    if (ec == bhttp::error::bad_version && names_other_http_version(buffered())) {
      return reply_error(505, "http_version_not_supported", "HTTP version not supported");
    }
    reply_error(400, "bad_request", "malformed request");
  }

  std::string_view buffered() const {
    const auto data = buffer_.data();
    return {static_cast<const char*>(data.data()), data.size()};
  }

  void reply_error(int status, std::string_view code, std::string_view message) {
    server_.counters.bad_requests.fetch_add(1);
    send(error_response(status, code, message), /*close=*/true);
  }

  // A complete request: hand it to a worker.
  void dispatch() {
    server_.counters.requests.fetch_add(1);
    auto& message = parser_->get();
    Request request;
    request.method = std::string(to_std(message.method_string()));
    request.target = std::string(to_std(message.target()));
    auto target = parse_target(request.target);
    if (!target) return reply_error(400, "bad_request", "malformed request target");
    request.path = std::move(target->path);
    request.query = std::move(target->query);
    for (const auto& field : message) {
      request.headers.push_back(
          {lower(to_std(field.name_string())), std::string(to_std(field.value()))});
    }
    request.body = std::move(message.body());
    request.remote_address = remote_;
    request.secure = kTls;
    request.client_certificate = client_certificate_;
    keep_alive_ = message.keep_alive();
    request_version_ = message.version();
    head_ = message.method() == bhttp::verb::head;
    parser_.reset();
    phase_ = Phase::kHandling;
    asio::post(*server_.workers,
               [self = this->shared_from_this(), request = std::move(request)]() mutable {
                 self->handle(request);
               });
  }

  // On a worker thread.
  void handle(Request& request) {
    Response response;
    try {
      response = listener_.handler(request);
      if (auto problem = response_problem(response)) {
        handler_failed(request, "returned an unusable response: " + *problem);
        response = internal_error_response();
      }
    } catch (const std::exception& e) {
      handler_failed(request, std::string("threw: ") + e.what());
      response = internal_error_response();
    } catch (...) {
      handler_failed(request, "threw a non-standard exception");
      response = internal_error_response();
    }
    asio::post(stream_.get_executor(),
               [self = this->shared_from_this(), response = std::move(response)]() mutable {
                 self->send(std::move(response), /*close=*/false);
               });
  }

  void handler_failed(const Request& request, const std::string& what) {
    server_.counters.handler_errors.fetch_add(1);
    server_.log(base::LogLevel::kError, "listener '" + listener_.name + "': handler for " +
                                            printable(request.method, 20) + " " +
                                            printable(request.path) + " " + printable(what, 500));
  }

  void send(Response response, bool close) {
    if (phase_ == Phase::kClosed) return;
    keep_alive_ = keep_alive_ && !close && !server_.stopping.load() && !asks_to_close(response);
    auto& out = response_.emplace();
    out.version(11);  // RFC 9110 §6.2: our own version, also to an HTTP/1.0 client
    out.result(static_cast<unsigned>(response.status));
    out.set(bhttp::field::server, "signet");
    out.set(bhttp::field::date, http_date(std::chrono::system_clock::now()));
    if (!response.content_type.empty()) out.set(bhttp::field::content_type, response.content_type);
    for (const auto& header : response.headers) {
      if (!is_server_owned_header(lower(header.name))) {
        out.insert(header.name, header.value);
      }
    }
    // RFC 9110 §8.6: no Content-Length in a 204; a 304's would have to be the GET's.
    if (response.status != 204 && response.status != 304) {
      out.content_length(response.body.size());
      if (!head_) out.body() = std::move(response.body);
    }
    if (!keep_alive_) {
      out.set(bhttp::field::connection, "close");
    } else if (request_version_ == 10) {
      out.set(bhttp::field::connection, "keep-alive");
    }
    phase_ = Phase::kWriting;
    arm(Clock::now() + limits().write_timeout);
    bhttp::async_write(stream_, out, [self = this->shared_from_this()](error_code ec, std::size_t) {
      self->on_written(ec);
    });
  }

  void on_written(error_code ec) {
    if (phase_ == Phase::kClosed) return;
    disarm();
    response_.reset();
    if (ec) return close_now();
    if (!keep_alive_) return close_gracefully();
    first_request_ = false;
    head_ = false;
    await_request();
  }

  // Sends TLS close_notify, half-closes TCP, and drains what the client still sends (the
  // rest of a refused body, say) until it closes or linger_timeout passes: closing with
  // unread input would reset the connection and could destroy the response in flight.
  void close_gracefully() {
    phase_ = Phase::kClosing;
    arm(Clock::now() + limits().linger_timeout);
    if constexpr (kTls) {
      stream_.async_shutdown([self = this->shared_from_this()](error_code) {
        if (self->phase_ == Phase::kClosed) return;
        self->half_close_and_drain();
      });
    } else {
      half_close_and_drain();
    }
  }

  void half_close_and_drain() {
    error_code ignored;
    socket().shutdown(tcp::socket::shutdown_send, ignored);
    drain();
  }

  void drain() {
    buffer_.clear();
    socket().async_read_some(buffer_.prepare(kReadChunk),
                             [self = this->shared_from_this()](error_code ec, std::size_t) {
                               if (self->phase_ == Phase::kClosed) return;
                               if (ec) return self->close_now();
                               self->drain();
                             });
  }

  ServerState& server_;
  const ListenerConfig& listener_;
  Stream stream_;
  asio::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::response<bhttp::string_body>> response_;
  const std::string remote_;
  base::Bytes client_certificate_;
  const Clock::time_point accepted_at_;
  Clock::time_point header_deadline_;
  Phase phase_ = Phase::kStarting;
  std::uint64_t timer_generation_ = 0;
  std::uint64_t id_ = 0;
  unsigned request_version_ = 11;
  bool timed_out_ = false;
  bool first_request_ = true;
  bool keep_alive_ = false;
  bool head_ = false;
};

}  // namespace

std::shared_ptr<ConnectionBase> make_connection(ServerState& server, std::size_t index,
                                                tcp::socket socket, std::string remote) {
  if (server.tls[index]) {
    return std::make_shared<Connection<TlsStream>>(server, server.configs[index], std::move(remote),
                                                   std::move(socket), *server.tls[index]);
  }
  return std::make_shared<Connection<tcp::socket>>(server, server.configs[index], std::move(remote),
                                                   std::move(socket));
}

}  // namespace signet::appliance::http::internal
