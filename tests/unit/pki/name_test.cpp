#include <catch2/catch.hpp>

#include "pki/certificate.h"
#include "pki/name.h"
#include "tests/unit/pki/pki_test_helpers.h"

using namespace signet;
using namespace signet::pki;
using signet::pki::testing::openssl_rfc2253_subject;
using signet::pki::testing::openssl_self_signed;

namespace signet::pki {
// So that Catch prints attribute lists in failure messages.
inline std::ostream& operator<<(std::ostream& out, const NameAttribute& attribute) {
  return out << attribute.type << "=" << attribute.value;
}
}  // namespace signet::pki

namespace {

std::string error_of(std::string_view text) {
  auto result = parse_distinguished_name(text);
  REQUIRE_FALSE(result);
  return result.error().message();
}

}  // namespace

TEST_CASE("RFC 4514 and slash forms of a DN give the same DER as openssl req") {
  auto rfc = parse_distinguished_name("CN=www.example.com,O=Example,C=DE");
  auto slash = parse_distinguished_name("/C=DE/O=Example/CN=www.example.com");
  REQUIRE(rfc);
  REQUIRE(slash);
  CHECK(*rfc == *slash);

  // openssl req encodes C as PrintableString and the rest as UTF8String (utf8only mask).
  test::TempDir dir;
  auto cert = Certificate::from_pem(
      test::read_text(openssl_self_signed(dir, "ca", "/C=DE/O=Example/CN=www.example.com")));
  REQUIRE(cert);
  CHECK(cert->subject_der() == *rfc);
}

TEST_CASE("RFC 4514 parsing tolerates spaces after separators and keywords in any case") {
  auto spaced = parse_distinguished_name("cn = www.example.com, o=Example , c=DE");
  auto plain = parse_distinguished_name("CN=www.example.com,O=Example,C=DE");
  REQUIRE(spaced);
  REQUIRE(plain);
  CHECK(*spaced == *plain);
  auto long_names = parse_distinguished_name(
      "commonName=www.example.com,organizationName=Example,countryName=DE");
  REQUIRE(long_names);
  CHECK(*long_names == *plain);
}

TEST_CASE("formatting a DN prints exactly what openssl x509 -nameopt RFC2253 prints") {
  test::TempDir dir;
  struct Case {
    const char* subject;
    const char* extra;
  };
  const Case cases[] = {
      {"/C=DE/ST=Bayern/L=M\xc3\xbcnchen/O=Example, Inc./OU=Ops+Dev/CN=www.example.com", ""},
      {"/DC=com/DC=example/UID=jdoe/CN=John \"JD\" Doe/emailAddress=jdoe@example.com", ""},
      {"/C=DE/O=Example/CN=a+serialNumber=1234", "-multivalue-rdn"},
      {"/CN= leading and trailing space /title=Dr/GN=Ada/SN=Lovelace/initials=AL", ""},
      {"/street=Main St. 1/pseudonym=x;y<z>/dnQualifier=q1/CN=#hash", ""},
      {"/1.2.3.4=custom/CN=oid", ""},
  };
  int index = 0;
  for (const auto& c : cases) {
    const std::string path =
        openssl_self_signed(dir, "cert" + std::to_string(index++), c.subject, c.extra);
    auto cert = Certificate::from_pem(test::read_text(path));
    REQUIRE(cert);
    const std::string expected = openssl_rfc2253_subject(path);
    auto formatted = format_distinguished_name(cert->subject_der());
    REQUIRE(formatted);
    INFO(c.subject);
    CHECK(*formatted == expected);
    CHECK(cert->subject() == expected);
    // And what we print parses back to the same DER (openssl req used the same string types).
    auto reparsed = parse_distinguished_name(expected);
    REQUIRE(reparsed);
    CHECK(*reparsed == cert->subject_der());
  }
}

TEST_CASE("escapes in RFC 4514 values are decoded") {
  auto der = parse_distinguished_name(R"(CN=a\,b\+c\\d\"e\;f\<g\>h\=i,O=x)");
  REQUIRE(der);
  auto cn = common_name_of(*der);
  REQUIRE(cn);
  CHECK(*cn == R"(a,b+c\d"e;f<g>h=i)");

  auto utf8 = parse_distinguished_name(R"(CN=M\C3\BCller)");
  REQUIRE(utf8);
  CHECK(common_name_of(*utf8).value() == "M\xc3\xbcller");
  auto direct = parse_distinguished_name("CN=M\xc3\xbcller");
  REQUIRE(direct);
  CHECK(*direct == *utf8);

  auto escaped_space = parse_distinguished_name(R"(CN=\ padded\ )");
  REQUIRE(escaped_space);
  CHECK(common_name_of(*escaped_space).value() == " padded ");
}

TEST_CASE("slash form escapes with a backslash and joins AVAs with '+'") {
  auto der = parse_distinguished_name(R"(/O=A\/B/CN=x\+y)");
  REQUIRE(der);
  CHECK(common_name_of(*der).value() == "x+y");
  CHECK(format_distinguished_name(*der).value() == R"(CN=x\+y,O=A/B)");

  auto multi = parse_distinguished_name("/O=Example/CN=a+UID=b");
  auto multi_rfc = parse_distinguished_name("CN=a+UID=b,O=Example");
  REQUIRE(multi);
  REQUIRE(multi_rfc);
  CHECK(*multi == *multi_rfc);
  // One RDN with two AVAs: the SET holds both (OpenSSL prints them joined by '+').
  const std::string formatted = format_distinguished_name(*multi).value();
  CHECK((formatted == "UID=b+CN=a,O=Example" || formatted == "CN=a+UID=b,O=Example"));
}

TEST_CASE("string types follow RFC 5280: PrintableString C, IA5String email and DC") {
  auto der = parse_distinguished_name("/C=DE/DC=example/emailAddress=a@example.com/CN=x");
  REQUIRE(der);
  const std::string hex = base::to_hex(*der);
  CHECK(hex.find("060355040613024445") != std::string::npos);  // C PrintableString "DE"
  CHECK(hex.find("0a0992268993f22c640119"
                 "16076578616d706c65") != std::string::npos);  // DC
  CHECK(hex.find("2a864886f70d010901"
                 "160d") != std::string::npos);  // emailAddress IA5
  CHECK(hex.find("0603550403"
                 "0c0178") != std::string::npos);  // CN UTF8String "x"
}

TEST_CASE("dotted OIDs name attribute types") {
  auto by_oid = parse_distinguished_name("2.5.4.3=www,2.5.4.6=DE");
  auto by_name = parse_distinguished_name("CN=www,C=DE");
  REQUIRE(by_oid);
  REQUIRE(by_name);
  CHECK(*by_oid == *by_name);

  auto custom = parse_distinguished_name("1.2.3.4=hello,CN=x");
  REQUIRE(custom);
  const std::string formatted = format_distinguished_name(*custom).value();
  CHECK(formatted == "1.2.3.4=#0C0568656C6C6F,CN=x");
  auto reparsed = parse_distinguished_name(formatted);
  REQUIRE(reparsed);
  CHECK(*reparsed == *custom);
}

TEST_CASE("bad DNs are refused with errors naming the problem") {
  CHECK(error_of("XX=1,CN=a") == "unknown attribute type 'XX' in 'XX=1,CN=a'");
  CHECK(error_of("C=DEU,CN=a").find("two-letter country code, not 'DEU'") != std::string::npos);
  CHECK(error_of("/C=1X/CN=a").find("two-letter") != std::string::npos);
  CHECK(error_of("CN=,O=x").find("empty value for 'CN'") != std::string::npos);
  CHECK(error_of("CN=a,,O=x").find("empty relative distinguished name") != std::string::npos);
  CHECK(error_of(R"(CN=a\qb)").find(R"(bad escape '\q')") != std::string::npos);
  CHECK(error_of(R"(CN=a\4)").find("bad escape") != std::string::npos);
  CHECK(error_of("CN=a;b").find("unescaped ';'") != std::string::npos);
  CHECK(error_of("justtext").find("'justtext' is not TYPE=value") != std::string::npos);
  CHECK(error_of("").find("empty distinguished name") != std::string::npos);
  CHECK(error_of("/").find("empty distinguished name") != std::string::npos);
  CHECK(error_of("=x").find("missing attribute type") != std::string::npos);
  CHECK(error_of("CN=\xff\xfe").find("not valid UTF-8") != std::string::npos);
  CHECK(error_of("emailAddress=m\xc3\xbc@x").find("must be ASCII") != std::string::npos);
  CHECK(error_of("serialNumber=a_b").find("PrintableString") != std::string::npos);
  CHECK(error_of("CN=" + std::string(65, 'a')).find("longer than 64") != std::string::npos);
  CHECK(error_of("1.2.x=a").find("unknown attribute type '1.2.x'") != std::string::npos);
}

TEST_CASE("empty names and common names") {
  const base::Bytes empty{0x30, 0x00};
  CHECK(is_empty_name(empty));
  auto der = parse_distinguished_name("CN=first+CN=second,O=x");
  REQUIRE(der);
  CHECK_FALSE(is_empty_name(*der));
  auto no_cn = parse_distinguished_name("O=x");
  REQUIRE(no_cn);
  CHECK(common_name_of(*no_cn).value() == "");
  CHECK(format_distinguished_name(empty).value() == "");
  CHECK_FALSE(format_distinguished_name(base::Bytes{0x04, 0x00}));
  base::Bytes trailing = *no_cn;
  trailing.push_back(0);
  CHECK_FALSE(format_distinguished_name(trailing));
}

TEST_CASE("name_attributes lists a Name in X.509 order, flattening multi-valued RDNs") {
  auto der =
      parse_distinguished_name("CN=J\\C3\\BCrgen M\\C3\\BCller+UID=jm42,O=Beispiel GmbH,C=DE");
  REQUIRE(der);
  auto attributes = name_attributes(*der);
  REQUIRE(attributes);
  // Within the multi-valued RDN, DER orders the SET by encoding: the shorter UID first.
  const std::vector<NameAttribute> expected = {
      {"C", "DE"}, {"O", "Beispiel GmbH"}, {"UID", "jm42"}, {"CN", "Jürgen Müller"}};
  CHECK(*attributes == expected);

  // encode_name puts each attribute in its own RDN, so the DER differs from the multi-valued
  // original but lists the same attributes, and openssl reads the UTF-8 back.
  auto encoded = encode_name(*attributes);
  REQUIRE(encoded);
  CHECK(*encoded != *der);
  auto again = name_attributes(*encoded);
  REQUIRE(again);
  CHECK(*again == expected);
  auto text = format_distinguished_name(*encoded);
  REQUIRE(text);
  CHECK(*text == "CN=J\\C3\\BCrgen M\\C3\\BCller,UID=jm42,O=Beispiel GmbH,C=DE");
}

TEST_CASE("encode_name gives the same DER and string types as parse_distinguished_name") {
  const std::vector<NameAttribute> attributes = {{"C", "DE"},
                                                 {"ST", "Bayern"},
                                                 {"O", "Example"},
                                                 {"OU", "PKI"},
                                                 {"DC", "example"},
                                                 {"serialNumber", "A-1234"},
                                                 {"emailAddress", "pki@example.com"},
                                                 {"CN", "Zoë"}};
  auto encoded = encode_name(attributes);
  REQUIRE(encoded);
  auto parsed = parse_distinguished_name(
      "/C=DE/ST=Bayern/O=Example/OU=PKI/DC=example/serialNumber=A-1234/"
      "emailAddress=pki@example.com/CN=Zoë");
  REQUIRE(parsed);
  CHECK(*encoded == *parsed);

  // The string types, as an independent parser (openssl asn1parse) sees them.
  test::TempDir dir;
  test::write_file(dir / "name.der", *encoded);
  const std::string dump = signet::pki::testing::must_run("openssl asn1parse -inform DER -in " +
                                                          (dir / "name.der").string() + " 2>&1");
  INFO(dump);
  CHECK(dump.find("PRINTABLESTRING   :DE") != std::string::npos);
  CHECK(dump.find("PRINTABLESTRING   :A-1234") != std::string::npos);
  CHECK(dump.find("IA5STRING         :example") != std::string::npos);
  CHECK(dump.find("IA5STRING         :pki@example.com") != std::string::npos);
  CHECK(dump.find("UTF8STRING        :Example") != std::string::npos);
}

TEST_CASE("name_attributes names unknown types by OID and other OpenSSL types by short name") {
  // python3-cryptography writes the Name: description (2.5.4.13, which OpenSSL knows but
  // Signet's DN parser does not), a private OID, and a CN.
  test::TempDir dir;
  test::write_text(dir / "name.py", R"(
import sys
from cryptography import x509
from cryptography.x509.oid import NameOID, ObjectIdentifier
name = x509.Name([
    x509.NameAttribute(ObjectIdentifier("2.5.4.13"), "first of its kind"),
    x509.NameAttribute(ObjectIdentifier("1.3.6.1.4.1.99999.1"), "custom"),
    x509.NameAttribute(NameOID.COMMON_NAME, "odd"),
])
open(sys.argv[1], "wb").write(name.public_bytes())
)");
  signet::pki::testing::must_run(std::string(signet::pki::testing::kPython) + " " +
                                 (dir / "name.py").string() + " " + (dir / "name.der").string() +
                                 " 2>&1");
  auto attributes = name_attributes(test::read_file(dir / "name.der"));
  REQUIRE(attributes);
  const std::vector<NameAttribute> expected = {
      {"description", "first of its kind"}, {"1.3.6.1.4.1.99999.1", "custom"}, {"CN", "odd"}};
  CHECK(*attributes == expected);
  auto encoded = encode_name(*attributes);
  REQUIRE(encoded);
  CHECK(*encoded == test::read_file(dir / "name.der"));  // all UTF8String, one per RDN
  auto again = name_attributes(*encoded);
  REQUIRE(again);
  CHECK(*again == expected);
}

TEST_CASE("encode_name refuses unknown types, empty values and values of the wrong kind") {
  auto unknown = encode_name({{"CN", "x"}, {"Nickname", "y"}});
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code() == base::ErrorCode::kInvalidArgument);
  CHECK(unknown.error().message().find("Nickname") != std::string::npos);

  auto empty = encode_name({{"O", ""}});
  REQUIRE_FALSE(empty);
  CHECK(empty.error().code() == base::ErrorCode::kInvalidArgument);

  auto country = encode_name({{"C", "Germany"}});
  REQUIRE_FALSE(country);
  CHECK(country.error().code() == base::ErrorCode::kInvalidArgument);

  auto email = encode_name({{"emailAddress", "jürgen@example.com"}});
  REQUIRE_FALSE(email);
  CHECK(email.error().code() == base::ErrorCode::kInvalidArgument);

  auto bad_utf8 = encode_name({{"CN", std::string("\xc3\x28")}});
  REQUIRE_FALSE(bad_utf8);
  CHECK(bad_utf8.error().code() == base::ErrorCode::kInvalidArgument);
}

TEST_CASE("name_attributes refuses bytes that are not a Name") {
  auto bad = name_attributes(base::Bytes{0x04, 0x01, 0x00});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code() == base::ErrorCode::kInvalidArgument);
}
