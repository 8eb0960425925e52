// ApiClient: the CLI's HTTPS client for signetd's REST API, used when a daemon owns the state
// directory (core/daemon_lock.h) or --server names one. Blocking HTTP/1.1 over OpenSSL, one
// connection per request; the server is verified against a CA file (default: the appliance CA
// that signetd publishes in <state>/appliance-ca.pem) and the URL's host name. The API token
// is read from a file (--token-file / SIGNET_API_TOKEN_FILE) into locked memory.
// Single-threaded use.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"
#include "base/secure_buffer.h"

namespace signet::appliance {

struct ApiReply {
  int status = 0;
  std::string content_type;
  std::string body;
};

class ApiClient {
 public:
  // `url`: "https://127.0.0.1:8443"; `ca_file`: PEM trust anchors.
  static base::Result<ApiClient> create(std::string url, std::string ca_file,
                                        base::SecureBuffer token);

  base::Result<ApiReply> send(std::string_view method, std::string_view target,
                              const std::string& body = {},
                              std::string_view content_type = "application/json") const;
  // A JSON request whose error replies ({"error": {...}}) become base::Errors with the
  // server's message; the JSON body of a 2xx reply otherwise.
  base::Result<nlohmann::json> call(std::string_view method, std::string_view target,
                                    const nlohmann::json* body = nullptr) const;
  // A GET of a file (PEM, DER, CRL): the body of a 2xx reply; error replies as call() makes them.
  base::Result<std::string> download(std::string_view target) const;

  const std::string& url() const { return url_; }

 private:
  ApiClient(std::string url, std::string host, std::string port, std::string ca_file,
            base::SecureBuffer token)
      : url_(std::move(url)),
        host_(std::move(host)),
        port_(std::move(port)),
        ca_file_(std::move(ca_file)),
        token_(std::move(token)) {}

  std::string url_, host_, port_, ca_file_;
  base::SecureBuffer token_;
};

// Percent-encodes a path segment or query value.
std::string url_encode(std::string_view text);

}  // namespace signet::appliance
