#include <catch2/catch.hpp>

#include "pki/certificate.h"
#include "pki/digest.h"
#include "pki/pem.h"
#include "tests/unit/pki/pki_test_helpers.h"

using namespace signet;
using namespace signet::pki;
using signet::pki::testing::kPython;
using signet::pki::testing::must_run;
using signet::pki::testing::openssl_self_signed;
using signet::pki::testing::quote;

namespace {

std::int64_t python_not_after(const std::string& path) {
  const std::string out =
      must_run(std::string(kPython) +
               " -c 'import sys, calendar; from cryptography import x509; "
               "c = x509.load_pem_x509_certificate(open(sys.argv[1], \"rb\").read()); "
               "print(calendar.timegm(c.not_valid_before.utctimetuple()), "
               "calendar.timegm(c.not_valid_after.utctimetuple()))' " +
               quote(path));
  return std::stoll(out.substr(out.find(' ') + 1));
}

}  // namespace

TEST_CASE("parse_bundle reads every CERTIFICATE block of a PEM bundle, or one DER") {
  test::TempDir dir;
  const std::string first = test::read_text(openssl_self_signed(dir, "a", "/CN=first"));
  const std::string second = test::read_text(openssl_self_signed(dir, "b", "/CN=second"));
  const std::string bundle =
      "Bundle made by a test\r\n" + first + "\r\nsome text between\r\n" + second + "trailer\n";
  auto certs = Certificate::parse_bundle(base::as_bytes(bundle));
  REQUIRE(certs);
  REQUIRE(certs->size() == 2);
  CHECK((*certs)[0].common_name() == "first");
  CHECK((*certs)[1].common_name() == "second");
  CHECK((*certs)[0].pem() == first);

  auto der = Certificate::parse_bundle((*certs)[1].der());
  REQUIRE(der);
  REQUIRE(der->size() == 1);
  CHECK((*der)[0].subject() == "CN=second");

  const std::string broken = first + second.substr(0, second.size() - 30);
  auto refused = Certificate::parse_bundle(base::as_bytes(broken));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message().find("truncated") != std::string::npos);
}

TEST_CASE("certificate fields match what openssl and python3-cryptography read") {
  test::TempDir dir;
  const std::string path = openssl_self_signed(
      dir, "ca", "/C=DE/O=Example/CN=Example Root",
      "-days 3650 -addext 'basicConstraints=critical,CA:TRUE,pathlen:2' "
      "-addext 'subjectAltName=DNS:root.example.com,IP:10.1.2.3,email:ca@example.com'");
  auto cert = Certificate::from_pem(test::read_text(path));
  REQUIRE(cert);
  CHECK(cert->subject() == "CN=Example Root,O=Example,C=DE");
  CHECK(cert->issuer() == cert->subject());
  CHECK(cert->issuer_der() == cert->subject_der());
  CHECK(cert->common_name() == "Example Root");
  CHECK(cert->is_ca());
  CHECK(cert->path_length() == 2);
  CHECK(cert->is_self_signed());
  CHECK(cert->verify_signed_by(*cert));
  CHECK(cert->signature_digest() == "sha256");
  CHECK(cert->public_key().name == "ec-p256");
  // openssl's default subjectKeyIdentifier is RFC 5280 method (1), as is key_identifier().
  CHECK(cert->subject_key_identifier() == key_identifier(cert->public_key_der()).value());
  CHECK(cert->authority_key_identifier() == cert->subject_key_identifier());

  const std::string serial = must_run("openssl x509 -in " + quote(path) + " -noout -serial");
  CHECK(serial == "serial=" + cert->serial().to_hex() + "\n");
  const std::string fingerprint =
      must_run("openssl x509 -in " + quote(path) + " -noout -fingerprint -sha256");
  CHECK(fingerprint ==
        "sha256 Fingerprint=" + base::to_hex_upper(cert->sha256_fingerprint(), ':') + "\n");
  CHECK(base::to_unix_seconds(cert->not_after()) == python_not_after(path));

  std::vector<std::string> sans;
  for (const auto& san : cert->subject_alt_names()) sans.push_back(san.to_string());
  CHECK(sans ==
        std::vector<std::string>{"DNS:root.example.com", "IP:10.1.2.3", "email:ca@example.com"});
}

TEST_CASE("a notAfter past 2049 is read from its GeneralizedTime") {
  test::TempDir dir;
  const std::string path = openssl_self_signed(dir, "long", "/CN=long", "-days 30000");
  const std::string text = must_run("openssl asn1parse -in " + quote(path));
  REQUIRE(text.find("GENERALIZEDTIME") != std::string::npos);
  auto cert = Certificate::from_pem(test::read_text(path));
  REQUIRE(cert);
  const std::int64_t expected = python_not_after(path);
  CHECK(expected > 2524608000);  // after 2050-01-01
  CHECK(base::to_unix_seconds(cert->not_after()) == expected);
  CHECK(cert->not_before() < cert->not_after());
}

TEST_CASE("Ed25519 certificates report no separate digest; others are refused when broken") {
  test::TempDir dir;
  const std::string key = (dir / "ed.key").string();
  const std::string path = (dir / "ed.pem").string();
  must_run("openssl req -x509 -newkey ed25519 -nodes -keyout " + quote(key) + " -out " +
           quote(path) + " -subj /CN=ed 2>&1");
  auto cert = Certificate::from_pem(test::read_text(path));
  REQUIRE(cert);
  CHECK(cert->signature_digest() == "none");
  CHECK(cert->public_key().name == "ed25519");
  CHECK(cert->is_self_signed());

  base::Bytes trailing = cert->der();
  trailing.push_back(0x00);
  auto refused = Certificate::from_der(trailing);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message() == "trailing data after the certificate");
  CHECK_FALSE(Certificate::from_der(base::ByteView(cert->der()).first(100)));
  CHECK_FALSE(Certificate::from_pem("no certificate here"));

  // A certificate from another issuer does not verify against this one.
  auto other = Certificate::from_pem(test::read_text(openssl_self_signed(dir, "o", "/CN=ed")));
  REQUIRE(other);
  auto mismatch = cert->verify_signed_by(*other);
  REQUIRE_FALSE(mismatch);
  CHECK(mismatch.error().message().find("does not verify") != std::string::npos);
  auto names = cert->verify_signed_by(
      Certificate::from_pem(test::read_text(openssl_self_signed(dir, "p", "/CN=someone else")))
          .value());
  REQUIRE_FALSE(names);
  CHECK(names.error().message().find("is not the subject") != std::string::npos);
}
