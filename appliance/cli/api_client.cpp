#include "appliance/cli/api_client.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <charconv>
#include <memory>

#include "base/openssl.h"

namespace signet::appliance {

using base::Error;
using base::ErrorCode;
using base::Result;

namespace {

struct SslCtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free_all(b); }
};

constexpr std::size_t kMaxReply = 64u << 20;

Error connection_error(const std::string& url, const std::string& what) {
  return Error(ErrorCode::kUnavailable, "cannot reach signetd at " + url + ": " + what);
}

std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Splits a raw HTTP/1.1 reply (Connection: close, Content-Length or read-to-end).
Result<ApiReply> parse_reply(const std::string& raw, const std::string& url) {
  const auto head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos || raw.compare(0, 9, "HTTP/1.1 ") != 0) {
    return connection_error(url, "the reply is not HTTP/1.1");
  }
  ApiReply reply;
  const auto [ptr, ec] = std::from_chars(raw.data() + 9, raw.data() + 12, reply.status);
  if (ec != std::errc() || ptr != raw.data() + 12) return connection_error(url, "no status code");
  std::size_t line = raw.find("\r\n") + 2;
  while (line < head_end) {
    const auto end = raw.find("\r\n", line);
    const std::string header = raw.substr(line, end - line);
    const auto colon = header.find(':');
    if (colon != std::string::npos && lower(header.substr(0, colon)) == "content-type") {
      reply.content_type = header.substr(header.find_first_not_of(' ', colon + 1));
    }
    line = end + 2;
  }
  reply.body = raw.substr(head_end + 4);
  return reply;
}

}  // namespace

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Result<ApiClient> ApiClient::create(std::string url, std::string ca_file,
                                    base::SecureBuffer token) {
  constexpr std::string_view kScheme = "https://";
  if (url.rfind(kScheme, 0) != 0) {
    return Error(ErrorCode::kInvalidArgument,
                 "--server must be an https:// URL, not '" + url + "'");
  }
  while (!url.empty() && url.back() == '/') url.pop_back();
  std::string authority = url.substr(kScheme.size());
  std::string host, port = "443";
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) return Error(ErrorCode::kInvalidArgument, "bad --server URL");
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':')
      port = authority.substr(close + 2);
  } else {
    const auto colon = authority.rfind(':');
    host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  if (host.empty() || port.empty() || authority.find('/') != std::string::npos) {
    return Error(ErrorCode::kInvalidArgument, "--server must look like https://HOST:PORT");
  }
  return ApiClient(std::move(url), std::move(host), std::move(port), std::move(ca_file),
                   std::move(token));
}

Result<ApiReply> ApiClient::send(std::string_view method, std::string_view target,
                                 const std::string& body, std::string_view content_type) const {
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return connection_error(url_, base::drain_openssl_errors());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  if (SSL_CTX_load_verify_locations(ctx.get(), ca_file_.c_str(), nullptr) != 1) {
    return Error(ErrorCode::kNotFound,
                 "cannot read the CA file '" + ca_file_ + "' to verify signetd's certificate");
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  std::unique_ptr<BIO, BioFree> bio(BIO_new_ssl_connect(ctx.get()));
  if (!bio) return connection_error(url_, base::drain_openssl_errors());
  SSL* ssl = nullptr;
  BIO_get_ssl(bio.get(), &ssl);
  const bool host_is_ip = host_.find_first_not_of("0123456789.") == std::string::npos ||
                          host_.find(':') != std::string::npos;
  if (!host_is_ip) SSL_set_tlsext_host_name(ssl, host_.c_str());
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (host_is_ip) {
    X509_VERIFY_PARAM_set1_ip_asc(param, host_.c_str());
  } else {
    X509_VERIFY_PARAM_set1_host(param, host_.c_str(), 0);
  }
  const std::string address =
      (host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_) + ":" + port_;
  BIO_set_conn_hostname(bio.get(), address.c_str());
  if (BIO_do_connect(bio.get()) != 1 || BIO_do_handshake(bio.get()) != 1) {
    return connection_error(url_, base::drain_openssl_errors());
  }
  std::string request =
      std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: " + address +
      "\r\nConnection: close\r\nAccept: application/json\r\n" + "User-Agent: signet-cli\r\n";
  if (!token_.empty()) {
    request += "Authorization: Bearer ";
    request.append(reinterpret_cast<const char*>(token_.view().data()), token_.size());
    request += "\r\n";
  }
  if (!body.empty() || method == "POST" || method == "PATCH" || method == "PUT") {
    request += "Content-Type: " + std::string(content_type) +
               "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n" + body;
  if (BIO_write(bio.get(), request.data(), static_cast<int>(request.size())) !=
      static_cast<int>(request.size())) {
    OPENSSL_cleanse(request.data(), request.size());
    return connection_error(url_, "cannot send the request");
  }
  OPENSSL_cleanse(request.data(), request.size());  // it held the API token
  std::string raw;
  char buffer[16384];
  for (;;) {
    const int n = BIO_read(bio.get(), buffer, sizeof(buffer));
    if (n <= 0) break;
    raw.append(buffer, static_cast<std::size_t>(n));
    if (raw.size() > kMaxReply) return connection_error(url_, "the reply is too large");
  }
  ERR_clear_error();
  auto reply = parse_reply(raw, url_);
  OPENSSL_cleanse(raw.data(), raw.size());  // it may hold a one-time PKCS#12 password
  return reply;
}

namespace {

// The base::Error of a reply that is not 2xx: the server's message ({"error": {...}}) with its
// code translated, or the bare status.
Error reply_error(const ApiReply& reply, const nlohmann::json& parsed) {
  std::string message = "signetd answered " + std::to_string(reply.status);
  ErrorCode code = reply.status == 503 ? ErrorCode::kUnavailable : ErrorCode::kInternal;
  if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_object()) {
    message = parsed["error"].value("message", message);
    const std::string name = parsed["error"].value("code", "");
    if (name == "not_found")
      code = ErrorCode::kNotFound;
    else if (name == "invalid_argument")
      code = ErrorCode::kInvalidArgument;
    else if (name == "policy_violation")
      code = ErrorCode::kPolicyViolation;
    else if (name == "already_exists")
      code = ErrorCode::kAlreadyExists;
    else if (name == "conflict")
      code = ErrorCode::kConflict;
    else if (name == "unauthenticated" || name == "forbidden")
      code = ErrorCode::kPermissionDenied;
  }
  return Error(code, message);
}

}  // namespace

Result<nlohmann::json> ApiClient::call(std::string_view method, std::string_view target,
                                       const nlohmann::json* body) const {
  SIGNET_ASSIGN_OR_RETURN(auto reply, send(method, target, body ? body->dump() : std::string()));
  auto parsed = nlohmann::json::parse(reply.body, nullptr, false);
  OPENSSL_cleanse(reply.body.data(), reply.body.size());  // the caller wipes what it takes out
  if (reply.status >= 200 && reply.status < 300) {
    if (parsed.is_discarded()) return connection_error(url_, "the reply is not JSON");
    return parsed;
  }
  return reply_error(reply, parsed);
}

Result<std::string> ApiClient::download(std::string_view target) const {
  SIGNET_ASSIGN_OR_RETURN(auto reply, send("GET", target));
  if (reply.status >= 200 && reply.status < 300) return std::move(reply.body);
  return reply_error(reply, nlohmann::json::parse(reply.body, nullptr, false));
}

}  // namespace signet::appliance
