#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <optional>

#include "base/openssl.h"
#include "pki/crl.h"
#include "pki/digest.h"
#include "pki/internal/der_writer.h"
#include "pki/internal/openssl_util.h"
#include "tests/unit/pki/pki_test_helpers.h"
#include "tests/unit/pki/test_issuer.h"

using namespace signet;
using namespace signet::pki;
using signet::pki::testing::kPython;
using signet::pki::testing::make_test_ca;
using signet::pki::testing::must_run;
using signet::pki::testing::quote;
using signet::pki::testing::TestCa;
using signet::pki::testing::utc;

namespace {

CrlIssuer crl_issuer(const TestCa& ca) {
  CrlIssuer issuer;
  issuer.key_algorithm = ca.fields.key_algorithm;
  issuer.digest = ca.fields.digest;
  issuer.issuer_name_der = ca.fields.issuer_name_der;
  issuer.authority_key_identifier = ca.fields.authority_key_identifier;
  return issuer;
}

CrlHeader crl_header(std::uint64_t number) {
  CrlHeader header;
  header.this_update = testing::now_seconds() - std::chrono::minutes(5);
  header.next_update = header.this_update + std::chrono::hours(24);
  header.number = number;
  return header;
}

// An entry whose serial stays owned by the caller's storage.
struct OwnedEntry {
  base::Bytes serial;
  base::TimePoint revoked_at{};
  int reason = 0;
  std::optional<base::TimePoint> invalidity_date;
  CrlEntry entry() const { return {serial, revoked_at, reason, invalidity_date}; }
};

base::Bytes sign_crl(CrlEncoder& encoder, const base::Signer& signer) {
  auto tbs = encoder.tbs();
  REQUIRE(tbs);
  auto signature = signer.sign(*tbs);
  REQUIRE(signature);
  auto der = encoder.finish(*signature);
  REQUIRE(der);
  return std::move(*der);
}

base::Bytes encode_crl(const TestCa& ca, const CrlHeader& header,
                       const std::vector<OwnedEntry>& entries) {
  auto encoder = CrlEncoder::begin(crl_issuer(ca), header, entries.size());
  REQUIRE(encoder);
  for (const auto& entry : entries) REQUIRE(encoder->add(entry.entry()));
  CHECK(encoder->entries() == entries.size());
  return sign_crl(*encoder, *ca.signer);
}

base::X509CrlPtr openssl_crl(const base::Bytes& der) {
  const unsigned char* p = der.data();
  base::X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
  REQUIRE(crl);
  CHECK(p == der.data() + der.size());
  return crl;
}

std::string hex_time(const char* text) { return base::to_hex(base::as_bytes(text)); }

}  // namespace

TEST_CASE("a CRL with entries is read and verified by OpenSSL, GnuTLS and python") {
  const std::pair<base::KeyAlgorithm, const char*> algorithms[] = {
      {base::KeyAlgorithm::kEcP256, "ecdsa-with-SHA256"},
      {base::KeyAlgorithm::kEcP384, "ecdsa-with-SHA384"},
      {base::KeyAlgorithm::kRsa2048, "sha256WithRSAEncryption"},
      {base::KeyAlgorithm::kEd25519, "ED25519"},
  };
  const base::TimePoint revoked = utc(2024, 2, 29, 13, 14, 15);
  const std::vector<OwnedEntry> entries = {
      {base::from_hex("01").value(), revoked, 0, std::nullopt},  // unspecified: no extension
      {base::from_hex("80ffffffffffffffffffffffffffff01").value(), revoked, 1, std::nullopt},
      {base::from_hex("7f0102030405060708090a0b0c0d0e0f10111213").value(), revoked, 2,
       utc(2024, 2, 1)},
      {base::from_hex("ff0102030405060708090a0b0c0d0e0f10111213").value(), revoked, 0,
       utc(2023, 12, 31, 23, 59, 59)},  // invalidity date alone
      {base::from_hex("0a0b").value(), utc(1999, 1, 1), 6, std::nullopt},
      {base::from_hex("0c").value(), revoked, 10, std::nullopt},
  };
  for (const auto& [algorithm, signature_name] : algorithms) {
    SECTION(std::string(base::to_string(algorithm))) {
      const TestCa ca = make_test_ca(algorithm, "CN=Signet CRL Test CA,O=Example,C=DE");
      const CrlHeader header = crl_header(42);
      const base::Bytes der = encode_crl(ca, header, entries);

      // Our OpenSSL-backed inspection.
      auto info = inspect_crl(der);
      REQUIRE(info);
      CHECK(info->issuer == "CN=Signet CRL Test CA,O=Example,C=DE");
      CHECK(info->number == 42);
      CHECK_FALSE(info->delta_base);
      CHECK(info->entries == entries.size());
      CHECK(info->this_update == header.this_update);
      CHECK(info->next_update == header.next_update);
      CHECK(info->signature_algorithm == signature_name);
      CHECK(info->freshest_crl_url.empty());
      CHECK(crl_signature_verifies(der, ca.signer->public_key_der()).value());
      const TestCa other = make_test_ca(algorithm, "CN=Other");
      CHECK_FALSE(crl_signature_verifies(der, other.signer->public_key_der()).value());

      // OpenSSL's API, entry by entry.
      auto crl = openssl_crl(der);
      CHECK(X509_CRL_get_version(crl.get()) == X509_CRL_VERSION_2);
      base::Asn1IntegerPtr number(static_cast<ASN1_INTEGER*>(
          X509_CRL_get_ext_d2i(crl.get(), NID_crl_number, nullptr, nullptr)));
      REQUIRE(number);
      CHECK(ASN1_INTEGER_get(number.get()) == 42);
      const STACK_OF(X509_REVOKED)* revoked_list = X509_CRL_get_REVOKED(crl.get());
      REQUIRE(sk_X509_REVOKED_num(revoked_list) == static_cast<int>(entries.size()));
      for (int i = 0; i < sk_X509_REVOKED_num(revoked_list); ++i) {
        const auto& expected = entries[static_cast<std::size_t>(i)];
        INFO("entry " << i);
        X509_REVOKED* entry = sk_X509_REVOKED_value(revoked_list, i);
        const ASN1_INTEGER* serial = X509_REVOKED_get0_serialNumber(entry);
        CHECK(ASN1_STRING_type(serial) == V_ASN1_INTEGER);
        CHECK(base::to_hex(base::ByteView(ASN1_STRING_get0_data(serial),
                                          static_cast<std::size_t>(ASN1_STRING_length(serial)))) ==
              base::to_hex(expected.serial));
        CHECK(internal::to_time_point(X509_REVOKED_get0_revocationDate(entry)).value() ==
              expected.revoked_at);
        int critical = 0;
        base::Asn1IntegerPtr reason(static_cast<ASN1_INTEGER*>(
            X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, &critical, nullptr)));
        if (expected.reason == 0) {
          CHECK_FALSE(reason);
          CHECK(critical == -1);  // absent
        } else {
          REQUIRE(reason);
          CHECK(ASN1_ENUMERATED_get(reason.get()) == expected.reason);
        }
        base::Asn1TimePtr invalidity(static_cast<ASN1_GENERALIZEDTIME*>(
            X509_REVOKED_get_ext_d2i(entry, NID_invalidity_date, nullptr, nullptr)));
        CHECK(static_cast<bool>(invalidity) == expected.invalidity_date.has_value());
        if (invalidity) {
          CHECK(ASN1_STRING_type(invalidity.get()) == V_ASN1_GENERALIZEDTIME);
          CHECK(internal::to_time_point(invalidity.get()).value() == *expected.invalidity_date);
        }
      }

      // The command lines: openssl crl -verify, GnuTLS certtool, python3-cryptography.
      test::TempDir dir;
      const std::string ca_path = (dir / "ca.pem").string();
      const std::string crl_path = (dir / "crl.der").string();
      const std::string crl_pem = (dir / "crl.pem").string();
      test::write_text(ca_path, ca.pem());
      test::write_file(crl_path, der);
      test::write_text(crl_pem, pem_encode("X509 CRL", der));
      const std::string verified = must_run("openssl crl -inform DER -in " + quote(crl_path) +
                                            " -CAfile " + quote(ca_path) + " -noout -verify");
      CHECK(verified.find("verify OK") != std::string::npos);
      const std::string text =
          must_run("openssl crl -inform DER -in " + quote(crl_path) + " -noout -text");
      CHECK(text.find("Version 2 (0x1)") != std::string::npos);
      CHECK(text.find("Serial Number: 80FFFFFFFFFFFFFFFFFFFFFFFFFFFF01") != std::string::npos);
      CHECK(text.find("Serial Number: FF0102030405060708090A0B0C0D0E0F10111213") !=
            std::string::npos);
      CHECK(text.find("Key Compromise") != std::string::npos);
      CHECK(text.find("CA Compromise") != std::string::npos);
      CHECK(text.find("Certificate Hold") != std::string::npos);
      CHECK(text.find("AA Compromise") != std::string::npos);
      CHECK(text.find("Invalidity Date") != std::string::npos);
      CHECK(text.find("X509v3 CRL Number") != std::string::npos);
      CHECK(text.find("X509v3 Authority Key Identifier") != std::string::npos);

      const std::string gnutls =
          must_run("certtool --crl-info --inder --infile " + quote(crl_path) + " 2>&1");
      CHECK(gnutls.find("Version: 2") != std::string::npos);
      CHECK(gnutls.find("Revoked certificates (6)") != std::string::npos);
      CHECK(gnutls.find("80ffffffffffffffffffffffffffff01") != std::string::npos);
      CHECK(gnutls.find("CRL Number") != std::string::npos);
      const std::string gnutls_verify =
          must_run("certtool --verify-crl --load-ca-certificate " + quote(ca_path) + " --infile " +
                   quote(crl_pem) + " 2>&1");
      CHECK(gnutls_verify.find("Verified") != std::string::npos);

      static const char* kScript = R"PY(
import sys
from cryptography import x509
crl = x509.load_der_x509_crl(open(sys.argv[1], "rb").read())
ca = x509.load_pem_x509_certificate(open(sys.argv[2], "rb").read())
try:
    print("signature", crl.is_signature_valid(ca.public_key()))
except TypeError:  # python3-cryptography 38 does not check Ed25519 CRL signatures
    print("signature not checked")
print("entries", len(crl))
for r in crl:
    reason = [e.value.reason.name for e in r.extensions if isinstance(e.value, x509.CRLReason)]
    print("entry %X %s" % (r.serial_number, reason[0] if reason else "-"))
print("number", crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number)
)PY";
      const std::string python = must_run(std::string(kPython) + " -c " + quote(kScript) + " " +
                                          quote(crl_path) + " " + quote(ca_path));
      CHECK(python.find(algorithm == base::KeyAlgorithm::kEd25519
                            ? "signature not checked"
                            : "signature True") != std::string::npos);
      CHECK(python.find("entries 6") != std::string::npos);
      CHECK(python.find("entry 1 -") != std::string::npos);
      CHECK(python.find("entry 80FFFFFFFFFFFFFFFFFFFFFFFFFFFF01 key_compromise") !=
            std::string::npos);
      CHECK(python.find("entry A0B certificate_hold") != std::string::npos);
      CHECK(python.find("number 42") != std::string::npos);
    }
  }
}

TEST_CASE("an empty CRL has no revokedCertificates field at all") {
  const TestCa ca = make_test_ca(base::KeyAlgorithm::kEcP256, "CN=Empty CRL CA");
  const CrlHeader header = crl_header(1);
  const base::Bytes der = encode_crl(ca, header, {});
  // RFC 5280 §5.1.2.6: nextUpdate is followed directly by crlExtensions [0].
  std::uint8_t next_update[internal::kMaxTimeTlvSize];
  const std::size_t size =
      internal::encode_time_tlv(header.next_update, internal::TimeForm::kRfc5280, next_update);
  const std::string hex = base::to_hex(der);
  const auto at = hex.find(base::to_hex(base::ByteView(next_update, size)));
  REQUIRE(at != std::string::npos);
  CHECK(hex.substr(at + 2 * size, 2) == "a0");

  auto info = inspect_crl(der);
  REQUIRE(info);
  CHECK(info->entries == 0);
  CHECK(info->number == 1);
  CHECK(crl_signature_verifies(der, ca.signer->public_key_der()).value());
  auto crl = openssl_crl(der);
  CHECK(X509_CRL_get_REVOKED(crl.get()) == nullptr);

  test::TempDir dir;
  test::write_text(dir / "ca.pem", ca.pem());
  test::write_file(dir / "crl.der", der);
  CHECK(must_run("openssl crl -inform DER -in " + quote((dir / "crl.der").string()) + " -CAfile " +
                 quote((dir / "ca.pem").string()) + " -noout -verify -text")
            .find("No Revoked Certificates.") != std::string::npos);
  CHECK(must_run("certtool --crl-info --inder --infile " + quote((dir / "crl.der").string()))
            .find("No revoked certificates.") != std::string::npos);
}

TEST_CASE("delta CRL indicator (critical) and freshest CRL are read back") {
  const TestCa ca = make_test_ca(base::KeyAlgorithm::kEcP384, "CN=Delta CA,O=Example");
  const std::vector<OwnedEntry> entries = {
      {base::from_hex("1234").value(), utc(2024, 5, 1), 8, std::nullopt},  // removeFromCRL
      {base::from_hex("5678").value(), utc(2024, 5, 2), 3, std::nullopt},
  };
  CrlHeader delta = crl_header(12);
  delta.delta_base = 10;
  const base::Bytes delta_der = encode_crl(ca, delta, entries);
  auto delta_info = inspect_crl(delta_der);
  REQUIRE(delta_info);
  CHECK(delta_info->number == 12);
  REQUIRE(delta_info->delta_base);
  CHECK(*delta_info->delta_base == 10);
  CHECK(delta_info->freshest_crl_url.empty());
  auto crl = openssl_crl(delta_der);
  const int index = X509_CRL_get_ext_by_NID(crl.get(), NID_delta_crl, -1);
  REQUIRE(index >= 0);
  CHECK(X509_EXTENSION_get_critical(X509_CRL_get_ext(crl.get(), index)) == 1);
  CHECK(X509_EXTENSION_get_critical(X509_CRL_get_ext(
            crl.get(), X509_CRL_get_ext_by_NID(crl.get(), NID_crl_number, -1))) == 0);

  CrlHeader full = crl_header(13);
  full.freshest_crl_url = "http://crl.example.com/delta.crl";
  const base::Bytes full_der = encode_crl(ca, full, entries);
  auto full_info = inspect_crl(full_der);
  REQUIRE(full_info);
  CHECK_FALSE(full_info->delta_base);
  CHECK(full_info->freshest_crl_url == "http://crl.example.com/delta.crl");

  test::TempDir dir;
  test::write_text(dir / "ca.pem", ca.pem());
  test::write_file(dir / "delta.der", delta_der);
  test::write_file(dir / "full.der", full_der);
  const std::string delta_text =
      must_run("openssl crl -inform DER -in " + quote((dir / "delta.der").string()) + " -CAfile " +
               quote((dir / "ca.pem").string()) + " -noout -verify -text");
  CHECK(delta_text.find("verify OK") != std::string::npos);
  CHECK(delta_text.find("X509v3 Delta CRL Indicator: critical") != std::string::npos);
  CHECK(delta_text.find("Remove From CRL") != std::string::npos);
  const std::string full_text =
      must_run("openssl crl -inform DER -in " + quote((dir / "full.der").string()) + " -CAfile " +
               quote((dir / "ca.pem").string()) + " -noout -verify -text");
  CHECK(full_text.find("verify OK") != std::string::npos);
  CHECK(full_text.find("Freshest CRL") != std::string::npos);
  CHECK(full_text.find("URI:http://crl.example.com/delta.crl") != std::string::npos);
  static const char* kScript = R"PY(
import sys
from cryptography import x509
for path in sys.argv[1:]:
    crl = x509.load_der_x509_crl(open(path, "rb").read())
    for e in crl.extensions:
        print(e.oid._name, e.critical, getattr(e.value, "crl_number", ""))
    for e in crl.extensions:
        if isinstance(e.value, x509.FreshestCRL):
            print("freshest", e.value[0].full_name[0].value)
)PY";
  const std::string python =
      must_run(std::string(kPython) + " -c " + quote(kScript) + " " +
               quote((dir / "delta.der").string()) + " " + quote((dir / "full.der").string()));
  CHECK(python.find("deltaCRLIndicator True 10") != std::string::npos);
  CHECK(python.find("cRLNumber False 12") != std::string::npos);
  CHECK(python.find("freshest http://crl.example.com/delta.crl") != std::string::npos);
}

TEST_CASE("CRL times use UTCTime through 2049 and GeneralizedTime from 2050") {
  const TestCa ca = make_test_ca(base::KeyAlgorithm::kEcP256, "CN=Time CA");
  CrlHeader header = crl_header(3);
  header.this_update = utc(2049, 12, 31, 23, 59, 59);
  header.next_update = utc(2050, 1, 1);
  const std::vector<OwnedEntry> entries = {
      {base::from_hex("01").value(), utc(2050, 6, 1, 12, 30, 45), 0, utc(2049, 1, 2, 3, 4, 5)},
      {base::from_hex("02").value(), utc(2049, 6, 1), 0, std::nullopt},
  };
  const base::Bytes der = encode_crl(ca, header, entries);
  const std::string hex = base::to_hex(der);
  CHECK(hex.find("170d" + hex_time("491231235959Z")) != std::string::npos);
  CHECK(hex.find("180f" + hex_time("20500101000000Z")) != std::string::npos);
  CHECK(hex.find("180f" + hex_time("20500601123045Z")) != std::string::npos);
  CHECK(hex.find("170d" + hex_time("490601000000Z")) != std::string::npos);
  // invalidityDate is always GeneralizedTime (RFC 5280 §5.3.2).
  CHECK(hex.find("0603551d180411180f" + hex_time("20490102030405Z")) != std::string::npos);
  auto info = inspect_crl(der);
  REQUIRE(info);
  CHECK(info->this_update == header.this_update);
  CHECK(info->next_update == header.next_update);
  auto crl = openssl_crl(der);
  X509_REVOKED* first = sk_X509_REVOKED_value(X509_CRL_get_REVOKED(crl.get()), 0);
  CHECK(internal::to_time_point(X509_REVOKED_get0_revocationDate(first)).value() ==
        utc(2050, 6, 1, 12, 30, 45));
  CHECK(crl_signature_verifies(der, ca.signer->public_key_der()).value());
}

TEST_CASE("encode_time_tlv matches the calendar on edges") {
  struct Case {
    base::TimePoint time;
    internal::TimeForm form;
    const char* text;
  };
  const Case cases[] = {
      {utc(1970, 1, 1), internal::TimeForm::kRfc5280, "700101000000Z"},
      {utc(1950, 1, 1), internal::TimeForm::kRfc5280, "500101000000Z"},
      {utc(1949, 12, 31, 23, 59, 59), internal::TimeForm::kRfc5280, "19491231235959Z"},
      {utc(2000, 2, 29, 1, 2, 3), internal::TimeForm::kRfc5280, "000229010203Z"},
      {utc(2100, 3, 1), internal::TimeForm::kRfc5280, "21000301000000Z"},
      {utc(2024, 2, 29, 23, 59, 59), internal::TimeForm::kGeneralized, "20240229235959Z"},
      {utc(1900, 1, 1), internal::TimeForm::kGeneralized, "19000101000000Z"},
      {utc(2024, 1, 1) + std::chrono::milliseconds(999), internal::TimeForm::kGeneralized,
       "20240101000000Z"},  // fractions are cut, not rounded
      {utc(1969, 12, 31, 23, 59, 59) + std::chrono::milliseconds(500), internal::TimeForm::kRfc5280,
       "691231235959Z"},
  };
  for (const auto& c : cases) {
    std::uint8_t out[internal::kMaxTimeTlvSize];
    const std::size_t size = internal::encode_time_tlv(c.time, c.form, out);
    REQUIRE(size >= 2);
    CHECK(std::string(reinterpret_cast<const char*>(out) + 2, size - 2) == c.text);
    CHECK(out[1] == size - 2);
  }
  // Every day from 1950 to 2100 agrees with std::chrono's calendar.
  for (auto day = std::chrono::sys_days{std::chrono::year{1950} / 1 / 1};
       day < std::chrono::sys_days{std::chrono::year{2100} / 1 / 1}; day += std::chrono::days(1)) {
    const std::chrono::year_month_day date{day};
    char expected[32];
    std::snprintf(expected, sizeof(expected), "%04d%02u%02u000000Z", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
    std::uint8_t out[internal::kMaxTimeTlvSize];
    const std::size_t size = internal::encode_time_tlv(day + std::chrono::seconds(0),
                                                       internal::TimeForm::kGeneralized, out);
    if (std::string(reinterpret_cast<const char*>(out) + 2, size - 2) != expected) {
      FAIL("day " << expected);
    }
  }
}

TEST_CASE("the CRL encoder refuses bad input with a reason") {
  const TestCa ca = make_test_ca(base::KeyAlgorithm::kEcP256, "CN=Refusing CA");
  auto message_of = [](const auto& result) {
    REQUIRE_FALSE(result);
    return result.error().message();
  };
  CrlHeader header = crl_header(5);
  header.number = 0;
  CHECK(message_of(CrlEncoder::begin(crl_issuer(ca), header, 0)).find("positive") !=
        std::string::npos);
  header = crl_header(5);
  header.next_update = header.this_update - std::chrono::seconds(1);
  CHECK(message_of(CrlEncoder::begin(crl_issuer(ca), header, 0)).find("nextUpdate") !=
        std::string::npos);
  header = crl_header(5);
  header.delta_base = 5;
  CHECK(message_of(CrlEncoder::begin(crl_issuer(ca), header, 0)).find("base CRL 5") !=
        std::string::npos);
  header = crl_header(5);
  header.freshest_crl_url = "not a url";
  CHECK_FALSE(CrlEncoder::begin(crl_issuer(ca), header, 0));
  CrlIssuer issuer = crl_issuer(ca);
  issuer.issuer_name_der = {0x30, 0x00};
  CHECK(message_of(CrlEncoder::begin(issuer, crl_header(5), 0)).find("non-empty") !=
        std::string::npos);
  issuer = crl_issuer(ca);
  issuer.digest = base::DigestAlgorithm::kNone;  // not for ECDSA
  CHECK_FALSE(CrlEncoder::begin(issuer, crl_header(5), 0));

  auto encoder = CrlEncoder::begin(crl_issuer(ca), crl_header(5), 4).value();
  const base::Bytes zero = {0x00, 0x00};
  const base::Bytes long_serial(21, 0x11);
  const base::Bytes serial = {0x42};
  CHECK(message_of(encoder.add({zero, utc(2024, 1, 1), 0, std::nullopt})).find("zero") !=
        std::string::npos);
  CHECK(message_of(encoder.add({{}, utc(2024, 1, 1), 0, std::nullopt})).find("zero") !=
        std::string::npos);
  CHECK(
      message_of(encoder.add({long_serial, utc(2024, 1, 1), 0, std::nullopt})).find("21 octets") !=
      std::string::npos);
  CHECK(message_of(encoder.add({serial, utc(2024, 1, 1), 7, std::nullopt})).find("reason 7") !=
        std::string::npos);
  CHECK_FALSE(encoder.add({serial, utc(2024, 1, 1), 11, std::nullopt}));
  CHECK_FALSE(encoder.add({serial, utc(2024, 1, 1), -1, std::nullopt}));
  CHECK(encoder.entries() == 0);
  // A leading zero octet is not part of the magnitude: it is dropped, not refused.
  const base::Bytes padded = {0x00, 0x80};
  REQUIRE(encoder.add({padded, utc(2024, 1, 1), 0, std::nullopt}));
  CHECK(message_of(encoder.finish(base::Bytes{1, 2, 3})).find("tbs()") != std::string::npos);
  REQUIRE(encoder.tbs());
  CHECK_FALSE(encoder.add({serial, utc(2024, 1, 1), 0, std::nullopt}));
  CHECK_FALSE(encoder.finish({}));
  const base::Bytes der = encoder.finish(ca.signer->sign(encoder.tbs().value()).value()).value();
  CHECK(base::to_hex(der).find("0202008017") != std::string::npos);  // INTEGER 0x0080
  CHECK(crl_signature_verifies(der, ca.signer->public_key_der()).value());
  CHECK_FALSE(encoder.tbs());
  CHECK_FALSE(encoder.finish(base::Bytes{1}));
  CHECK_FALSE(inspect_crl(base::Bytes{0x30, 0x00}));
  base::Bytes trailing = der;
  trailing.push_back(0);
  CHECK(message_of(inspect_crl(trailing)).find("trailing") != std::string::npos);
}

TEST_CASE("a million CRL entries encode into one well-formed, signed CertificateList") {
  const TestCa ca = make_test_ca(base::KeyAlgorithm::kEcP256, "CN=Big CRL CA,O=Example");
  constexpr std::uint64_t kEntries = 1'000'000;
  const base::TimePoint revoked = utc(2024, 3, 1);
  auto encoder = CrlEncoder::begin(crl_issuer(ca), crl_header(99), kEntries);
  REQUIRE(encoder);
  std::uint8_t serial[16] = {0x5a, 0x17, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                             0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  bool all_added = true;
  for (std::uint64_t i = 0; i < kEntries; ++i) {
    for (int b = 0; b < 8; ++b) serial[8 + b] = static_cast<std::uint8_t>(i >> (56 - 8 * b));
    CrlEntry entry;
    entry.serial = serial;
    entry.revoked_at = revoked + std::chrono::seconds(i);
    entry.reason = i % 4 == 0 ? 1 : 0;
    all_added = encoder->add(entry).has_value() && all_added;
  }
  auto tbs = encoder->tbs();
  REQUIRE(all_added);
  REQUIRE(tbs);
  const base::Bytes tbs_hash = sha256(*tbs);
  const base::Bytes signature = ca.signer->sign(*tbs).value();
  auto der = encoder->finish(signature);
  REQUIRE(der);
  // (Its speed is measured by bench/, signet-crl-bench, not asserted here.)

  // Structure: CertificateList { TBSCertList { ..., revokedCertificates (1M), [0] }, alg, sig }.
  internal::DerReader outer(*der);
  auto list = outer.expect(internal::kTagSequence, "CertificateList");
  REQUIRE(list);
  CHECK(outer.at_end());
  internal::DerReader fields(list->content);
  auto tbs_element = fields.expect(internal::kTagSequence, "TBSCertList");
  REQUIRE(tbs_element);
  CHECK(sha256(tbs_element->whole) == tbs_hash);
  internal::DerReader tbs_fields(tbs_element->content);
  for (int i = 0; i < 5; ++i) REQUIRE(tbs_fields.next());  // version ... nextUpdate
  auto revoked_list = tbs_fields.expect(internal::kTagSequence, "revokedCertificates");
  REQUIRE(revoked_list);
  internal::DerReader entries(revoked_list->content);
  std::uint64_t count = 0;
  while (!entries.at_end() && entries.next()) ++count;
  CHECK(count == kEntries);
  CHECK(tbs_fields.expect(internal::kTagContext0, "crlExtensions"));
  CHECK(tbs_fields.at_end());
  // OpenSSL verifies the signature over all of it.
  CHECK(crl_signature_verifies(*der, ca.signer->public_key_der()).value());
}
