#include <catch2/catch.hpp>

#include <chrono>

#include "pki/certificate.h"
#include "pki/digest.h"
#include "pki/name.h"
#include "pki/pem.h"
#include "pki/tbs_certificate.h"
#include "tests/support/software_signer.h"
#include "tests/unit/pki/pki_test_helpers.h"

using namespace signet;
using namespace signet::pki;
using signet::pki::testing::kPython;
using signet::pki::testing::must_run;
using signet::pki::testing::quote;

namespace {

using std::chrono::sys_days;

base::TimePoint utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0) {
  return sys_days{std::chrono::year{y} / m / d} + std::chrono::hours(hh) +
         std::chrono::minutes(mm) + std::chrono::seconds(ss);
}

base::TimePoint now_seconds() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

struct Issuer {
  std::shared_ptr<test::SoftwareSigner> signer;
  IssuerFields fields;
  base::Bytes cert_der;
};

base::Bytes sign_and_assemble(const TbsTemplate& tbs_template, const base::Bytes& tbs,
                              const base::Signer& signer) {
  auto signature = signer.sign(tbs);
  REQUIRE(signature);
  return assemble_signed(tbs, tbs_template.signature_algorithm_der(), *signature);
}

// A self-signed root made through TbsTemplate itself.
Issuer make_root(base::KeyAlgorithm algorithm, bool with_urls) {
  Issuer issuer;
  issuer.signer = test::SoftwareSigner::generate(algorithm).value();
  const base::Bytes name =
      parse_distinguished_name("CN=Signet Test Root " + std::string(base::to_string(algorithm)) +
                               ",O=Example,C=DE")
          .value();
  const base::Bytes ski = key_identifier(issuer.signer->public_key_der()).value();
  issuer.fields.key_algorithm = algorithm;
  issuer.fields.digest = base::default_digest(algorithm);
  issuer.fields.issuer_name_der = name;
  issuer.fields.authority_key_identifier = ski;
  if (with_urls) {
    issuer.fields.crl_url = "http://crl.example.com/root.crl";
    issuer.fields.ocsp_url = "http://ocsp.example.com/";
    issuer.fields.ca_issuers_url = "http://pki.example.com/root.cer";
  }
  IssuerFields self = issuer.fields;
  self.crl_url.clear();
  self.ocsp_url.clear();
  self.ca_issuers_url.clear();
  auto tbs_template = TbsTemplate::create(self);
  REQUIRE(tbs_template);
  SubjectFields root;
  root.serial = SerialNumber::from_hex("01").value();
  root.subject_name_der = name;
  root.not_before = now_seconds() - std::chrono::hours(24);
  root.not_after = utc(2060, 1, 1);
  root.public_key_der = issuer.signer->public_key_der();
  root.is_ca = true;
  root.key_usage = kKeyCertSign | kCrlSign;
  root.subject_key_identifier = ski;
  auto tbs = tbs_template->encode(root);
  REQUIRE(tbs);
  auto openssl_tbs = encode_tbs_with_openssl(self, root);
  INFO((openssl_tbs ? "" : openssl_tbs.error().message()));
  REQUIRE(openssl_tbs);
  CHECK(*tbs == *openssl_tbs);
  issuer.cert_der = sign_and_assemble(*tbs_template, *tbs, *issuer.signer);
  return issuer;
}

std::string python_report(const std::string& cert, const std::string& issuer) {
  static const char* kScript = R"PY(
import sys, calendar
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa, padding
c = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
i = x509.load_pem_x509_certificate(open(sys.argv[2], "rb").read())
k = i.public_key()
if isinstance(k, rsa.RSAPublicKey):
    k.verify(c.signature, c.tbs_certificate_bytes, padding.PKCS1v15(), c.signature_hash_algorithm)
elif isinstance(k, ec.EllipticCurvePublicKey):
    k.verify(c.signature, c.tbs_certificate_bytes, ec.ECDSA(c.signature_hash_algorithm))
else:
    k.verify(c.signature, c.tbs_certificate_bytes)
print("signature ok")
print("serial %X" % c.serial_number)
print("not_after %d" % calendar.timegm(c.not_valid_after.utctimetuple()))
for e in c.extensions:
    print("ext %s %s" % (e.oid._name, e.critical))
bc = c.extensions.get_extension_for_class(x509.BasicConstraints).value
print("ca %s %s" % (bc.ca, bc.path_length))
)PY";
  return must_run(std::string(kPython) + " -c " + quote(kScript) + " " + quote(cert) + " " +
                  quote(issuer));
}

struct Case {
  std::string label;
  base::KeyAlgorithm issuer_algorithm;
  std::string subject;  // "" for an empty Name
  std::vector<std::string> sans;
  base::TimePoint not_after;
  std::string serial_hex;
  bool is_ca = false;
  std::optional<int> path_length;
  std::uint16_t key_usage = 0;
  std::vector<std::string> eku;
  bool with_urls = true;
  bool ocsp_no_check = false;
};

}  // namespace

TEST_CASE("TbsTemplate encodes the same bytes as OpenSSL, and the result verifies everywhere") {
  const std::vector<Case> cases = {
      {"EC P-256 issuer, server leaf",
       base::KeyAlgorithm::kEcP256,
       "CN=www.example.com,O=Example",
       {"DNS:www.example.com", "IP:192.0.2.1", "IP:2001:db8::1"},
       utc(2049, 12, 31, 23, 59, 59),
       "0123456789ABCDEF0123456789ABCDEF",
       false,
       std::nullopt,
       kDigitalSignature,
       {kOidServerAuth},
       true},
      {"RSA issuer, notAfter 2050 (GeneralizedTime), high-bit serial",
       base::KeyAlgorithm::kRsa2048,
       "CN=client,O=Example",
       {"email:ops@example.com", "URI:https://example.com/"},
       utc(2050, 1, 1),
       "80FFFFFFFFFFFFFFFFFFFFFFFFFFFF01",
       false,
       std::nullopt,
       kDigitalSignature | kKeyEncipherment,
       {kOidServerAuth, kOidClientAuth},
       true},
      {"Ed25519 issuer, empty subject with SANs: critical SAN",
       base::KeyAlgorithm::kEd25519,
       "",
       {"DNS:*.example.com", "DNS:example.com"},
       utc(2030, 6, 15, 12),
       "7F00",
       false,
       std::nullopt,
       kDigitalSignature,
       {},
       false},
      {"P-384 issuer, intermediate CA with pathLen 0, no CDP/AIA",
       base::KeyAlgorithm::kEcP384,
       "CN=Signet Issuing CA,O=Example,C=DE",
       {},
       utc(2055, 3, 1),
       "00C0FFEE",
       true,
       0,
       kKeyCertSign | kCrlSign | kDigitalSignature,
       {},
       false},
      {"RSA issuer, CA without pathLen and a multi-valued RDN",
       base::KeyAlgorithm::kRsa2048,
       "CN=Sub+UID=42,O=Example",
       {},
       utc(2040, 1, 1),
       "42",
       true,
       std::nullopt,
       kKeyCertSign | kCrlSign,
       {},
       true},
      {"EC issuer, no extensions but basicConstraints and SKI/AKI",
       base::KeyAlgorithm::kEcP256,
       "CN=bare",
       {},
       utc(2035, 1, 1),
       "01",
       false,
       std::nullopt,
       0,
       {},
       false},
      {"delegated OCSP responder: OCSPSigning and id-pkix-ocsp-nocheck",
       base::KeyAlgorithm::kEcP384,
       "CN=Signet OCSP Responder,O=Example",
       {},
       utc(2030, 1, 1),
       "0A0B0C",
       false,
       std::nullopt,
       kDigitalSignature,
       {"1.3.6.1.5.5.7.3.9"},
       true,
       true},
      {"all nine keyUsage bits",
       base::KeyAlgorithm::kEcP256,
       "CN=bits",
       {"DNS:bits.example"},
       utc(2035, 1, 1),
       "02",
       false,
       std::nullopt,
       0x1ff & ~(kKeyCertSign | kCrlSign),
       {},
       true},
  };
  test::TempDir dir;
  for (const auto& c : cases) {
    SECTION(c.label) {
      const Issuer root = make_root(c.issuer_algorithm, c.with_urls);
      auto leaf_key = test::SoftwareSigner::generate(base::KeyAlgorithm::kEcP256);
      REQUIRE(leaf_key);

      SubjectFields subject;
      subject.serial = SerialNumber::from_hex(c.serial_hex).value();
      subject.subject_name_der =
          c.subject.empty() ? base::Bytes{0x30, 0x00} : parse_distinguished_name(c.subject).value();
      subject.not_before = now_seconds() - std::chrono::hours(1);
      subject.not_after = c.not_after;
      subject.public_key_der = (*leaf_key)->public_key_der();
      subject.is_ca = c.is_ca;
      subject.path_length = c.path_length;
      subject.key_usage = c.key_usage;
      subject.extended_key_usage = c.eku;
      for (const auto& san : c.sans)
        subject.subject_alt_names.push_back(parse_general_name(san).value());
      subject.subject_key_identifier = key_identifier(subject.public_key_der).value();
      subject.ocsp_no_check = c.ocsp_no_check;

      auto tbs_template = TbsTemplate::create(root.fields);
      REQUIRE(tbs_template);
      auto tbs = tbs_template->encode(subject);
      REQUIRE(tbs);
      auto openssl_tbs = encode_tbs_with_openssl(root.fields, subject);
      REQUIRE(openssl_tbs);
      CHECK(base::to_hex(*tbs) == base::to_hex(*openssl_tbs));

      const base::Bytes leaf = sign_and_assemble(*tbs_template, *tbs, *root.signer);
      const std::string root_path = (dir / "root.pem").string();
      const std::string leaf_path = (dir / "leaf.pem").string();
      test::write_text(root_path, pem_encode("CERTIFICATE", root.cert_der));
      test::write_text(leaf_path, pem_encode("CERTIFICATE", leaf));

      // OpenSSL's strict chain verification.
      const std::string verify = must_run("openssl verify -x509_strict -CAfile " +
                                          quote(root_path) + " " + quote(leaf_path) + " 2>&1");
      CHECK(verify.find(leaf_path + ": OK") != std::string::npos);

      // python3-cryptography: parses, verifies the signature, reads the extensions.
      const std::string report = python_report(leaf_path, root_path);
      CHECK(report.find("signature ok") != std::string::npos);
      std::string serial_hex = subject.serial.to_hex();
      serial_hex.erase(0, serial_hex.find_first_not_of('0'));  // python prints "%X" of an int
      CHECK(report.find("serial " + serial_hex + "\n") != std::string::npos);
      CHECK(report.find("not_after " + std::to_string(base::to_unix_seconds(c.not_after))) !=
            std::string::npos);
      CHECK(report.find("ext basicConstraints True") != std::string::npos);
      if (!c.sans.empty()) {
        CHECK(report.find(std::string("ext subjectAltName ") +
                          (c.subject.empty() ? "True" : "False")) != std::string::npos);
      }
      CHECK(report.find(std::string("ca ") + (c.is_ca ? "True" : "False") + " " +
                        (c.path_length ? std::to_string(*c.path_length) : "None")) !=
            std::string::npos);
      CHECK((report.find("cRLDistributionPoints") != std::string::npos) == c.with_urls);
      CHECK((report.find("authorityInfoAccess") != std::string::npos) == c.with_urls);
      CHECK((report.find("ext OCSPNoCheck False") != std::string::npos) == c.ocsp_no_check);

      // GnuTLS parses it too.
      const std::string gnutls = must_run("certtool -i --infile " + quote(leaf_path) + " 2>&1");
      if (!c.sans.empty() && c.subject.empty()) {
        CHECK(gnutls.find("Subject Alternative Name (critical)") != std::string::npos);
      }
      // GnuTLS names no OCSP no-check; it shows the OID and the NULL value.
      CHECK((gnutls.find("1.3.6.1.5.5.7.48.1.5 (not critical)") != std::string::npos) ==
            c.ocsp_no_check);

      // And our own parser reads back what we wrote.
      auto parsed = Certificate::from_der(leaf);
      REQUIRE(parsed);
      auto root_cert = Certificate::from_der(root.cert_der);
      REQUIRE(root_cert);
      CHECK(parsed->verify_signed_by(*root_cert));
      CHECK(root_cert->is_self_signed());
      CHECK_FALSE(parsed->is_self_signed());
      CHECK(parsed->serial() == subject.serial);
      CHECK(parsed->not_after() == c.not_after);
      CHECK(parsed->not_before() == subject.not_before);
      CHECK(parsed->subject_alt_names() == subject.subject_alt_names);
      CHECK(parsed->is_ca() == c.is_ca);
      CHECK(parsed->path_length() == c.path_length);
      CHECK(parsed->authority_key_identifier() == root.fields.authority_key_identifier);
      CHECK(parsed->subject_key_identifier() == subject.subject_key_identifier);
      CHECK(parsed->signature_digest() ==
            std::string(base::to_string(base::default_digest(c.issuer_algorithm))));
    }
  }
}

TEST_CASE("validity uses UTCTime through 2049 and GeneralizedTime from 2050") {
  const Issuer root = make_root(base::KeyAlgorithm::kEcP256, false);
  auto tbs_template = TbsTemplate::create(root.fields).value();
  SubjectFields subject;
  subject.serial = SerialNumber::from_hex("05").value();
  subject.subject_name_der = parse_distinguished_name("CN=t").value();
  subject.public_key_der = root.signer->public_key_der();
  subject.not_before = utc(1999, 12, 31, 23, 59, 59);
  subject.not_after = utc(2049, 12, 31, 23, 59, 59);
  std::string hex = base::to_hex(tbs_template.encode(subject).value());
  CHECK(hex.find("170d" + base::to_hex(base::as_bytes("991231235959Z"))) != std::string::npos);
  CHECK(hex.find("170d" + base::to_hex(base::as_bytes("491231235959Z"))) != std::string::npos);

  subject.not_before = utc(1949, 12, 31, 23, 59, 59);
  subject.not_after = utc(2050, 1, 1);
  auto tbs = tbs_template.encode(subject).value();
  hex = base::to_hex(tbs);
  CHECK(hex.find("180f" + base::to_hex(base::as_bytes("19491231235959Z"))) != std::string::npos);
  CHECK(hex.find("180f" + base::to_hex(base::as_bytes("20500101000000Z"))) != std::string::npos);
  CHECK(tbs == encode_tbs_with_openssl(root.fields, subject).value());
}

TEST_CASE("serials with the top bit set get a 0x00 octet; keyUsage is a minimal BIT STRING") {
  const Issuer root = make_root(base::KeyAlgorithm::kEcP256, false);
  auto tbs_template = TbsTemplate::create(root.fields).value();
  SubjectFields subject;
  subject.serial = SerialNumber::from_hex("FF01").value();
  subject.subject_name_der = parse_distinguished_name("CN=t").value();
  subject.public_key_der = root.signer->public_key_der();
  subject.not_before = utc(2024, 1, 1);
  subject.not_after = utc(2025, 1, 1);
  struct Usage {
    std::uint16_t mask;
    const char* der;
  };
  // X.690 §11.2.2: trailing zero bits removed; the first octet counts the unused bits.
  const Usage usages[] = {{kDigitalSignature, "03020780"},
                          {kKeyCertSign | kCrlSign, "03020106"},
                          {kDigitalSignature | kKeyEncipherment, "030205a0"},
                          {1u << 8, "0303070080"}};
  for (const auto& usage : usages) {
    subject.key_usage = usage.mask;
    const std::string hex = base::to_hex(tbs_template.encode(subject).value());
    CHECK(hex.find("020300ff01") != std::string::npos);
    CHECK(hex.find("0603551d0f0101ff04") != std::string::npos);  // keyUsage, critical
    CHECK(hex.find(usage.der) != std::string::npos);
    CHECK(hex == base::to_hex(encode_tbs_with_openssl(root.fields, subject).value()));
  }
}

TEST_CASE("signature AlgorithmIdentifiers follow RFC 5758, RFC 4055 and RFC 8410") {
  using base::DigestAlgorithm;
  using base::KeyAlgorithm;
  CHECK(base::to_hex(
            signature_algorithm_der(KeyAlgorithm::kEcP256, DigestAlgorithm::kSha256).value()) ==
        "300a06082a8648ce3d040302");
  CHECK(base::to_hex(
            signature_algorithm_der(KeyAlgorithm::kEcP384, DigestAlgorithm::kSha384).value()) ==
        "300a06082a8648ce3d040303");
  CHECK(base::to_hex(
            signature_algorithm_der(KeyAlgorithm::kRsa4096, DigestAlgorithm::kSha512).value()) ==
        "300d06092a864886f70d01010d0500");
  CHECK(base::to_hex(
            signature_algorithm_der(KeyAlgorithm::kRsa2048, DigestAlgorithm::kSha256).value()) ==
        "300d06092a864886f70d01010b0500");
  CHECK(base::to_hex(
            signature_algorithm_der(KeyAlgorithm::kEd25519, DigestAlgorithm::kNone).value()) ==
        "300506032b6570");
  CHECK_FALSE(signature_algorithm_der(KeyAlgorithm::kEd25519, DigestAlgorithm::kSha256));
  CHECK_FALSE(signature_algorithm_der(KeyAlgorithm::kEcP256, DigestAlgorithm::kNone));
}

TEST_CASE("TbsTemplate refuses inconsistent inputs with a reason") {
  IssuerFields issuer;
  issuer.issuer_name_der = parse_distinguished_name("CN=issuer").value();
  issuer.crl_url = "crl.example.com/x.crl";
  auto bad_url = TbsTemplate::create(issuer);
  REQUIRE_FALSE(bad_url);
  CHECK(bad_url.error().message().find("needs a scheme") != std::string::npos);
  issuer.crl_url.clear();
  issuer.issuer_name_der = {0x30, 0x00};
  CHECK_FALSE(TbsTemplate::create(issuer));
  issuer.issuer_name_der = parse_distinguished_name("CN=issuer").value();
  auto tbs_template = TbsTemplate::create(issuer).value();

  auto key = test::SoftwareSigner::generate(base::KeyAlgorithm::kEcP256).value();
  SubjectFields subject;
  subject.serial = SerialNumber::from_hex("01").value();
  subject.subject_name_der = parse_distinguished_name("CN=s").value();
  subject.public_key_der = key->public_key_der();
  subject.not_before = utc(2024, 1, 1);
  subject.not_after = utc(2025, 1, 1);
  REQUIRE(tbs_template.encode(subject));

  auto message = [&](const SubjectFields& s) {
    auto result = tbs_template.encode(s);
    REQUIRE_FALSE(result);
    return result.error().message();
  };
  SubjectFields s = subject;
  s.path_length = 1;
  CHECK(message(s).find("path length needs a CA") != std::string::npos);
  s = subject;
  s.extended_key_usage = {"1.3.6.1.5.5.7.3.1", "server"};
  CHECK(message(s).find("'server' is not a dotted object identifier") != std::string::npos);
  s = subject;
  s.subject_name_der = {0x30, 0x00};
  CHECK(message(s).find("empty subject needs subjectAltNames") != std::string::npos);
  s = subject;
  s.not_after = utc(2023, 1, 1);
  CHECK(message(s).find("notAfter is before notBefore") != std::string::npos);
  s = subject;
  s.serial = SerialNumber();
  CHECK(message(s).find("serial number is not set") != std::string::npos);
  s = subject;
  s.public_key_der = {0x01, 0x02};
  CHECK(message(s).find("SubjectPublicKeyInfo") != std::string::npos);
}
