// Assertions shared by the lifecycle e2e tests: a command succeeded, its JSON, a refusal with
// one clear sentence, and the independent tools (openssl, pkcs11-tool) they are checked with.
#pragma once

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/e2e/cli/cli_fixture.h"

namespace signet::test {

inline void require_ok(const CommandResult& result) {
  INFO(result.output);
  REQUIRE(result.exit_code == 0);
}

// Diagnostics on stderr are merged into output; the JSON document starts at the first line
// that begins with '{' or '['.
inline nlohmann::json json_of(const CommandResult& result) {
  require_ok(result);
  std::size_t start = 0;
  while (start < result.output.size() && result.output[start] != '{' &&
         result.output[start] != '[') {
    const auto newline = result.output.find('\n', start);
    REQUIRE(newline != std::string::npos);
    start = newline + 1;
  }
  REQUIRE(start < result.output.size());
  return nlohmann::json::parse(result.output.substr(start));
}

// Fails with a single "signet: error:" sentence that names `needle`.
inline void require_refused(const CommandResult& result, const std::string& needle) {
  INFO(result.output);
  CHECK(result.exit_code != 0);
  CHECK(result.output.find("signet: error: ") != std::string::npos);
  CHECK(result.output.find(needle) != std::string::npos);
}

inline const char* kSoftHsm = "/usr/lib/softhsm/libsofthsm2.so";

// pkcs11-tool against the fixture's token "signet", logged in with its PIN (read from the
// 0600 PIN file by the shell, so never typed into a test's own argv).
inline CommandResult pkcs11_tool(const CliFixture& f, const std::string& args) {
  return f.shell(std::string("pkcs11-tool --module ") + kSoftHsm +
                 " --token-label signet --login --pin \"$(cat " + f.pin_file() + ")\" " + args);
}

// Root "root" and intermediate "issuing", both exported as root.pem and issuing.pem.
inline void make_cas(const CliFixture& f) {
  f.create_root_and_issuing();
  require_ok(f.signet("ca export root --out " + f.path("root.pem")));
  require_ok(f.signet("ca export issuing --out " + f.path("issuing.pem")));
}

// `openssl verify` of a leaf PEM against root.pem with `untrusted` as intermediates.
inline CommandResult openssl_verify(const CliFixture& f, const std::string& leaf,
                                    const std::string& untrusted) {
  return run_command("openssl verify -x509_strict -CAfile " + f.path("root.pem") + " -untrusted " +
                     untrusted + " " + leaf);
}

// The SubjectPublicKeyInfo of a certificate, as PEM text (for comparing keys).
inline std::string public_key_of(const std::string& certificate_pem) {
  auto result = run_command("openssl x509 -in " + certificate_pem + " -noout -pubkey");
  INFO(result.output);
  REQUIRE(result.exit_code == 0);
  return result.output;
}

}  // namespace signet::test
