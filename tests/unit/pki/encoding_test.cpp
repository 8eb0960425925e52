#include <catch2/catch.hpp>

#include <openssl/asn1.h>
#include <openssl/objects.h>

#include "base/openssl.h"
#include "pki/digest.h"
#include "pki/internal/der_writer.h"
#include "pki/pem.h"
#include "pki/public_key.h"
#include "tests/support/software_signer.h"
#include "tests/unit/pki/pki_test_helpers.h"

using namespace signet;
using namespace signet::pki;
using signet::pki::testing::must_run;
using signet::pki::testing::quote;

TEST_CASE("PEM encodes 64-character lines and decodes tolerantly") {
  base::Bytes der(100);
  for (std::size_t i = 0; i < der.size(); ++i) der[i] = static_cast<std::uint8_t>(i);
  const std::string pem = pem_encode("TEST", der);
  CHECK(pem.rfind("-----BEGIN TEST-----\n", 0) == 0);
  CHECK(pem.substr(21, 65).back() == '\n');
  CHECK(pem.find('\n', 21) == 21 + 64);
  CHECK(pem.ends_with("-----END TEST-----\n"));
  CHECK(looks_like_pem(base::as_bytes(pem)));
  CHECK_FALSE(looks_like_pem(der));

  std::string crlf;
  for (char c : pem) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  const std::string text =
      "before\r\n" + crlf + "between\n" + pem_encode("OTHER", base::Bytes{1, 2}) + pem;
  auto blocks = pem_decode_all(text, "TEST");
  REQUIRE(blocks);
  REQUIRE(blocks->size() == 2);
  CHECK((*blocks)[0] == der);
  CHECK((*blocks)[1] == der);

  auto none = pem_decode_all(text, "CERTIFICATE");
  REQUIRE_FALSE(none);
  CHECK(none.error().message() == "no PEM block labelled 'CERTIFICATE'");
  auto bad = pem_decode_all("-----BEGIN TEST-----\n!!!!\n-----END TEST-----\n", "TEST");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message().find("not valid base64") != std::string::npos);
}

TEST_CASE("digests match known answers and key identifiers hash the key bits only") {
  CHECK(base::to_hex(sha256(base::as_bytes("abc"))) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(base::to_hex(sha1(base::as_bytes("abc"))) == "a9993e364706816aba3e25717850c26c9cd0d89d");
  CHECK(base::to_hex(digest(base::DigestAlgorithm::kSha384, base::as_bytes("abc")).value())
            .starts_with("cb00753f45a35e8b"));
  CHECK(digest(base::DigestAlgorithm::kSha512, base::as_bytes("abc")).value().size() == 64);
  CHECK_FALSE(digest(base::DigestAlgorithm::kNone, base::as_bytes("abc")));

  // Cross-check with openssl: SHA-1 over the BIT STRING contents of the SPKI.
  auto signer = test::SoftwareSigner::generate(base::KeyAlgorithm::kEcP256).value();
  test::TempDir dir;
  test::write_file(dir / "spki.der", signer->public_key_der());
  // For P-256 the key bits are the last 65 octets (the uncompressed point).
  const std::string hex =
      must_run("tail -c 65 " + quote((dir / "spki.der").string()) + " | openssl dgst -sha1 -r");
  CHECK(hex.substr(0, 40) == base::to_hex(key_identifier(signer->public_key_der()).value()));
  CHECK_FALSE(key_identifier(base::Bytes{0x30, 0x00}));
}

TEST_CASE("DigestInfo prefixes are the RFC 8017 values") {
  CHECK(base::to_hex(digest_info_prefix(base::DigestAlgorithm::kSha256)) ==
        "3031300d060960864801650304020105000420");
  CHECK(base::to_hex(digest_info_prefix(base::DigestAlgorithm::kSha384)) ==
        "3041300d060960864801650304020205000430");
  CHECK(base::to_hex(digest_info_prefix(base::DigestAlgorithm::kSha512)) ==
        "3051300d060960864801650304020305000440");
  CHECK(digest_info_prefix(base::DigestAlgorithm::kNone).empty());
}

TEST_CASE("public keys are named by type and size or curve") {
  test::TempDir dir;
  struct Case {
    const char* genpkey;
    const char* name;
    PublicKeyInfo::Type type;
    const char* curve;
    bool signet;
  };
  const Case cases[] = {
      {"-algorithm EC -pkeyopt ec_paramgen_curve:P-521", "ec-p521", PublicKeyInfo::Type::kEc,
       "P-521", false},
      {"-algorithm EC -pkeyopt ec_paramgen_curve:brainpoolP256r1", "ec-brainpoolp256r1",
       PublicKeyInfo::Type::kEc, "brainpoolP256r1", false},
      {"-algorithm ED448", "ed448", PublicKeyInfo::Type::kEd448, "", false},
      {"-algorithm RSA -pkeyopt rsa_keygen_bits:3072", "rsa-3072", PublicKeyInfo::Type::kRsa, "",
       true},
      {"-algorithm X25519", "x25519", PublicKeyInfo::Type::kOther, "", false},
  };
  for (const auto& c : cases) {
    INFO(c.genpkey);
    const std::string key = (dir / "key.pem").string();
    const std::string pub = (dir / "pub.der").string();
    must_run(std::string("openssl genpkey ") + c.genpkey + " -out " + quote(key) +
             " && openssl pkey -in " + quote(key) + " -pubout -outform DER -out " + quote(pub));
    auto info = inspect_public_key(test::read_file(pub));
    REQUIRE(info);
    CHECK(info->name == c.name);
    CHECK(info->type == c.type);
    CHECK(info->curve == c.curve);
    CHECK(info->algorithm.has_value() == c.signet);
  }
  for (auto algorithm : {base::KeyAlgorithm::kEcP256, base::KeyAlgorithm::kEcP384,
                         base::KeyAlgorithm::kRsa2048, base::KeyAlgorithm::kEd25519}) {
    auto signer = test::SoftwareSigner::generate(algorithm).value();
    auto info = inspect_public_key(signer->public_key_der());
    REQUIRE(info);
    CHECK(info->algorithm == algorithm);
    CHECK(info->name == base::to_string(algorithm));
  }
  CHECK_FALSE(inspect_public_key(base::as_bytes("not a key")));
}

TEST_CASE("the DER writer's lengths and OIDs agree with OpenSSL's encoder") {
  for (std::size_t size : {0u, 1u, 127u, 128u, 255u, 256u, 65535u, 65536u, 70000u}) {
    INFO(size);
    base::Bytes content(size, 0x5a);
    internal::DerWriter nested(8);
    const auto marker = nested.open(internal::kTagOctetString);
    nested.write_raw(content);
    nested.close(marker);

    base::Asn1OctetStringPtr octets(ASN1_OCTET_STRING_new());
    REQUIRE(ASN1_OCTET_STRING_set(octets.get(), content.data(), static_cast<int>(size)) == 1);
    unsigned char* der = nullptr;
    const int length = i2d_ASN1_OCTET_STRING(octets.get(), &der);
    REQUIRE(length > 0);
    const base::Bytes expected(der, der + length);
    OPENSSL_free(der);
    CHECK(nested.bytes() == expected);

    internal::DerWriter flat(8);
    flat.write_tlv(internal::kTagOctetString, content);
    CHECK(flat.bytes() == expected);
  }
  for (const char* oid : {"1.3.6.1.5.5.7.3.1", "2.5.29.17", "2.999.3", "1.2.840.113549.1.1.11",
                          "0.9.2342.19200300.100.1.25", "1.3.6.1.4.1.311.60.2.1.3"}) {
    INFO(oid);
    base::Asn1ObjectPtr object(OBJ_txt2obj(oid, 1));
    REQUIRE(object);
    const unsigned char* data = OBJ_get0_data(object.get());
    CHECK(internal::encode_oid(oid).value() == base::Bytes(data, data + OBJ_length(object.get())));
  }
  for (const char* bad : {"", "1", "3.1", "1.40", "1..2", "1.2.", "1.02", "a.b"}) {
    INFO(bad);
    CHECK_FALSE(internal::encode_oid(bad));
  }
  internal::DerWriter integers(16);
  integers.write_small_integer(0);
  integers.write_small_integer(127);
  integers.write_small_integer(128);
  integers.write_small_integer(256);
  CHECK(base::to_hex(integers.bytes()) ==
        "020100"
        "02017f"
        "02020080"
        "02020100");
}

TEST_CASE("the software key provider finds keys by reference and by URI") {
  test::SoftwareKeyProvider provider;
  base::KeyGenerationRequest request;
  request.algorithm = base::KeyAlgorithm::kEcP384;
  request.label = "issuing ca";
  auto signer = provider.generate_key(request);
  REQUIRE(signer);
  CHECK((*signer)->key_ref().token_serial == "software");
  CHECK((*signer)->digest() == base::DigestAlgorithm::kSha384);
  CHECK(provider.find_key((*signer)->key_ref()).value() == *signer);
  CHECK(provider.find_key_by_uri((*signer)->key_ref().to_uri()).value() == *signer);
  CHECK(provider.find_key_by_uri("pkcs11:object=issuing%20ca;type=private").value() == *signer);
  CHECK_FALSE(provider.find_key_by_uri("pkcs11:object=issuing%20ca;pin-value=1234"));
  CHECK_FALSE(provider.find_key_by_uri("pkcs11:object=nope"));
  REQUIRE(provider.destroy_key((*signer)->key_ref()));
  CHECK(provider.find_key((*signer)->key_ref()).error().code() == base::ErrorCode::kNotFound);
  CHECK(provider.size() == 0);
}
