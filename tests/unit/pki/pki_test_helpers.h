// Helpers shared by the pki/ unit tests: running the independent tools (openssl, Debian's
// python3 with python3-cryptography, GnuTLS certtool) on files in a TempDir.
#pragma once

#include <catch2/catch.hpp>

#include <string>

#include "base/bytes.h"
#include "tests/support/test_support.h"

namespace signet::pki::testing {

// Debian's interpreter, which has python3-cryptography (not the pyenv one on PATH).
inline constexpr const char* kPython = "/usr/bin/python3";

inline std::string quote(const std::string& text) { return "'" + text + "'"; }

// Runs a command that must succeed; returns its output.
inline std::string must_run(const std::string& command) {
  auto result = test::run_command(command);
  INFO(command << "\n" << result.output);
  REQUIRE(result.exit_code == 0);
  return result.output;
}

// The value `openssl x509 -noout -subject -nameopt RFC2253` prints for a PEM certificate.
inline std::string openssl_rfc2253_subject(const std::string& cert_path) {
  std::string out =
      must_run("openssl x509 -in " + quote(cert_path) + " -noout -subject -nameopt RFC2253");
  const std::string prefix = "subject=";
  REQUIRE(out.rfind(prefix, 0) == 0);
  out = out.substr(prefix.size());
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// Makes a self-signed P-256 certificate with `openssl req -x509`; returns its PEM path.
inline std::string openssl_self_signed(const test::TempDir& dir, const std::string& name,
                                       const std::string& subject,
                                       const std::string& extra_args = "") {
  const std::string key = (dir / (name + ".key")).string();
  const std::string cert = (dir / (name + ".pem")).string();
  must_run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " +
           quote(key) + " -out " + quote(cert) + " -subj " + quote(subject) + " " + extra_args +
           " 2>&1");
  return cert;
}

}  // namespace signet::pki::testing
