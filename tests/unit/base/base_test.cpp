#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "base/bytes.h"
#include "base/keys.h"
#include "base/result.h"
#include "base/secret_input.h"
#include "base/secure_buffer.h"
#include "tests/support/test_support.h"

using namespace signet::base;

TEST_CASE("hex round-trips and accepts colons and either case") {
  Bytes data{0x00, 0xab, 0xCD, 0xff};
  CHECK(to_hex(data) == "00abcdff");
  CHECK(to_hex_upper(data, ':') == "00:AB:CD:FF");
  auto parsed = from_hex("00:AB:cd:FF");
  REQUIRE(parsed);
  CHECK(*parsed == data);
}

TEST_CASE("hex parsing names the bad input") {
  auto odd = from_hex("abc");
  REQUIRE_FALSE(odd);
  CHECK(odd.error().message().find("abc") != std::string::npos);
  CHECK_FALSE(from_hex("zz"));
  CHECK_FALSE(from_hex(""));
}

TEST_CASE("base64 round-trips all padding lengths and rejects garbage") {
  for (std::size_t n = 0; n < 8; ++n) {
    Bytes data(n);
    for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<std::uint8_t>(i * 37 + 1);
    auto back = from_base64(to_base64(data));
    REQUIRE(back);
    CHECK(*back == data);
  }
  CHECK(to_base64(as_bytes("foobar")) == "Zm9vYmFy");
  CHECK_FALSE(from_base64("Zm9v!mFy"));
}

TEST_CASE("constant-time comparison compares contents and lengths") {
  CHECK(constant_time_equal(as_bytes("secret"), as_bytes("secret")));
  CHECK_FALSE(constant_time_equal(as_bytes("secret"), as_bytes("secreT")));
  CHECK_FALSE(constant_time_equal(as_bytes("secret"), as_bytes("secrets")));
}

TEST_CASE("key algorithm names parse and print, unknown ones are refused") {
  for (auto name : {"ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096", "ed25519"}) {
    auto a = parse_key_algorithm(name);
    REQUIRE(a);
    CHECK(to_string(*a) == name);
  }
  auto bad = parse_key_algorithm("rsa-1024");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code() == ErrorCode::kInvalidArgument);
  CHECK(default_digest(KeyAlgorithm::kEcP384) == DigestAlgorithm::kSha384);
  CHECK(default_digest(KeyAlgorithm::kEd25519) == DigestAlgorithm::kNone);
}

TEST_CASE("a key reference prints as an RFC 7512 URI without any PIN") {
  KeyRef ref{"0123abcd", {0x01, 0xa2}, "signet", "root ca"};
  CHECK(ref.to_uri() ==
        "pkcs11:token=signet;serial=0123abcd;object=root%20ca;id=%01%A2;type=private");
}

TEST_CASE("errors carry context outermost first in describe()") {
  Error e(ErrorCode::kNotFound, "no CA named 'x'");
  e.with_context("issuing a certificate");
  CHECK(e.describe() == "issuing a certificate: no CA named 'x'");
}

TEST_CASE("a secret file readable by others is refused; an owner-only one is read") {
  signet::test::TempDir dir;
  auto path = dir / "pin";
  signet::test::write_text(path, "1234\n", 0644);
  auto refused = read_secret_file(path);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == ErrorCode::kPermissionDenied);
  CHECK(refused.error().message().find("chmod 600") != std::string::npos);
  ::chmod(path.c_str(), 0600);
  auto pin = read_secret_file(path);
  REQUIRE(pin);
  CHECK(as_chars(pin->view()) == "1234");
  CHECK_FALSE(read_secret_file((dir / "missing").string()));
}

TEST_CASE("secure buffers move and wipe") {
  auto a = SecureBuffer::copy_of(as_bytes("hunter2"));
  SecureBuffer b = std::move(a);
  CHECK(a.empty());
  CHECK(as_chars(b.view()) == "hunter2");
  b.truncate(3);
  CHECK(as_chars(b.view()) == "hun");
}
