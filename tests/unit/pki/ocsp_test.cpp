#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <random>

#include "base/openssl.h"
#include "pki/ocsp.h"
#include "pki/tbs_certificate.h"
#include "tests/unit/pki/pki_test_helpers.h"
#include "tests/unit/pki/test_issuer.h"

using namespace signet;
using namespace signet::pki;
using signet::pki::testing::kPython;
using signet::pki::testing::make_test_ca;
using signet::pki::testing::make_test_leaf;
using signet::pki::testing::must_run;
using signet::pki::testing::now_seconds;
using signet::pki::testing::quote;
using signet::pki::testing::TestCa;
using signet::pki::testing::TestLeaf;

namespace {

using base::OcspBasicPtr;
using base::OcspCertIdPtr;
using base::OcspRequestPtr;
using base::OcspResponsePtr;
struct X509StackFree {  // frees the stack, not the certificates it points to
  void operator()(STACK_OF(X509) * stack) const noexcept { sk_X509_free(stack); }
};

const char* const kOcspSigning = "1.3.6.1.5.5.7.3.9";

base::X509Ptr to_x509(const base::Bytes& der) {
  const unsigned char* p = der.data();
  base::X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  REQUIRE(cert);
  return cert;
}

OcspCertIdPtr cert_id(const EVP_MD* md, const TestLeaf& leaf, const TestCa& ca) {
  auto subject = to_x509(leaf.cert_der);
  auto issuer = to_x509(ca.cert_der);
  OcspCertIdPtr id(OCSP_cert_to_id(md, subject.get(), issuer.get()));
  REQUIRE(id);
  return id;
}

// A CertID with a chosen serial (OCSP_cert_id_new does not check it).
OcspCertIdPtr cert_id_with_serial(const TestCa& ca, const ASN1_INTEGER* serial) {
  auto issuer = to_x509(ca.cert_der);
  OcspCertIdPtr id(OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(issuer.get()),
                                    X509_get0_pubkey_bitstr(issuer.get()), serial));
  REQUIRE(id);
  return id;
}

void add_id(OCSP_REQUEST* request, const OCSP_CERTID* id) {
  OCSP_CERTID* copy = OCSP_CERTID_dup(id);
  REQUIRE(copy);
  REQUIRE(OCSP_request_add0_id(request, copy) != nullptr);
}

// A nonce extension whose extnValue is exactly `extn_value`.
void add_raw_nonce(OCSP_REQUEST* request, const base::Bytes& extn_value) {
  base::Asn1OctetStringPtr value(ASN1_OCTET_STRING_new());
  REQUIRE(ASN1_OCTET_STRING_set(value.get(), extn_value.data(),
                                static_cast<int>(extn_value.size())) == 1);
  base::X509ExtensionPtr extension(
      X509_EXTENSION_create_by_NID(nullptr, NID_id_pkix_OCSP_Nonce, 0, value.get()));
  REQUIRE(extension);
  REQUIRE(OCSP_REQUEST_add_ext(request, extension.get(), -1) == 1);
}

base::Bytes der_of(OCSP_REQUEST* request) {
  unsigned char* der = nullptr;
  const int length = i2d_OCSP_REQUEST(request, &der);
  REQUIRE(length > 0);
  base::Bytes out(der, der + length);
  OPENSSL_free(der);
  return out;
}

base::Bytes der_of(const OCSP_CERTID* id) {
  unsigned char* der = nullptr;
  const int length = i2d_OCSP_CERTID(const_cast<OCSP_CERTID*>(id), &der);
  REQUIRE(length > 0);
  base::Bytes out(der, der + length);
  OPENSSL_free(der);
  return out;
}

std::string error_of(base::ByteView request) {
  auto parsed = parse_ocsp_request(request);
  REQUIRE_FALSE(parsed);
  return parsed.error().describe();
}

struct Fixture {
  TestCa ca = make_test_ca(base::KeyAlgorithm::kEcP256, "CN=Signet OCSP Test CA,O=Example");
  TestLeaf good = make_test_leaf(ca, "1001", "CN=good.example.com");
  TestLeaf revoked = make_test_leaf(ca, "80FFFFFFFFFFFFFFFFFFFFFFFFFFFF02", "CN=revoked");
  TestLeaf unknown = make_test_leaf(ca, "1003", "CN=unknown");
};

// One SingleResponse per CertID of the request: good, revoked (keyCompromise), unknown.
OcspResponseData response_data(const base::Bytes& responder_spki, const OcspRequestInfo& request,
                               base::TimePoint now) {
  OcspResponseData data;
  data.responder_key_hash = ocsp_responder_key_hash(responder_spki).value();
  data.produced_at = now;
  const OcspCertStatus statuses[] = {OcspCertStatus::kGood, OcspCertStatus::kRevoked,
                                     OcspCertStatus::kUnknown};
  for (std::size_t i = 0; i < request.cert_ids.size(); ++i) {
    OcspSingleResponse single;
    single.cert_id_der = request.cert_ids[i].der;
    single.status = statuses[i % 3];
    if (single.status == OcspCertStatus::kRevoked) {
      single.revoked_at = now - std::chrono::hours(48);
      single.reason = 1;  // keyCompromise
    }
    single.this_update = now - std::chrono::minutes(1);
    single.next_update = now + std::chrono::hours(12);
    data.responses.push_back(single);
  }
  data.nonce_extension_value = request.nonce_extension_value;
  return data;
}

base::Bytes sign_response(const OcspResponseData& data, const base::Signer& signer,
                          const std::vector<base::Bytes>& certs) {
  auto tbs = encode_ocsp_response_data(data);
  REQUIRE(tbs);
  auto signature = signer.sign(*tbs);
  REQUIRE(signature);
  auto algorithm = signature_algorithm_der(signer.algorithm(), signer.digest());
  REQUIRE(algorithm);
  return encode_ocsp_response(*tbs, *algorithm, *signature, certs);
}

OcspBasicPtr basic_of(const base::Bytes& response_der) {
  const unsigned char* p = response_der.data();
  OcspResponsePtr response(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(response_der.size())));
  REQUIRE(response);
  CHECK(p == response_der.data() + response_der.size());
  REQUIRE(OCSP_response_status(response.get()) == OCSP_RESPONSE_STATUS_SUCCESSFUL);
  OcspBasicPtr basic(OCSP_response_get1_basic(response.get()));
  REQUIRE(basic);
  return basic;
}

}  // namespace

TEST_CASE("parse_ocsp_request reads requests made by OpenSSL and checks every CertID") {
  const Fixture f;
  OcspRequestPtr request(OCSP_REQUEST_new());
  const EVP_MD* digests[] = {EVP_sha1(), EVP_sha256(), EVP_sha384(), EVP_sha512()};
  const OcspHash hashes[] = {OcspHash::kSha1, OcspHash::kSha256, OcspHash::kSha384,
                             OcspHash::kSha512};
  std::vector<OcspCertIdPtr> ids;
  for (const EVP_MD* md : digests) {
    ids.push_back(cert_id(md, f.revoked, f.ca));
    add_id(request.get(), ids.back().get());
  }
  REQUIRE(OCSP_request_add1_nonce(request.get(), nullptr, -1) == 1);  // 16 octets, wrapped
  auto parsed = parse_ocsp_request(der_of(request.get()));
  REQUIRE(parsed);
  REQUIRE(parsed->cert_ids.size() == 4);
  for (std::size_t i = 0; i < 4; ++i) {
    const OcspCertId& id = parsed->cert_ids[i];
    INFO(to_string(hashes[i]));
    CHECK(id.hash == hashes[i]);
    CHECK(base::to_hex(id.serial) == "80ffffffffffffffffffffffffffff02");
    CHECK(id.der == der_of(ids[i].get()));
    auto expected =
        ocsp_issuer_hashes(hashes[i], f.ca.fields.issuer_name_der, f.ca.signer->public_key_der());
    REQUIRE(expected);
    CHECK(id.issuer_name_hash == expected->name_hash);
    CHECK(id.issuer_key_hash == expected->key_hash);
  }
  REQUIRE(parsed->nonce_extension_value);
  CHECK(parsed->nonce_extension_value->size() == 18);
  CHECK((*parsed->nonce_extension_value)[0] == 0x04);
  CHECK((*parsed->nonce_extension_value)[1] == 0x10);

  // What `openssl ocsp` itself sends.
  test::TempDir dir;
  test::write_text(dir / "ca.pem", f.ca.pem());
  test::write_text(dir / "good.pem", f.good.pem());
  must_run("openssl ocsp -issuer " + quote((dir / "ca.pem").string()) + " -cert " +
           quote((dir / "good.pem").string()) + " -reqout " + quote((dir / "req.der").string()));
  auto from_cli = parse_ocsp_request(test::read_file(dir / "req.der"));
  REQUIRE(from_cli);
  REQUIRE(from_cli->cert_ids.size() == 1);
  CHECK(from_cli->cert_ids[0].hash == OcspHash::kSha1);
  CHECK(base::to_hex(from_cli->cert_ids[0].serial) == "1001");
  CHECK(from_cli->cert_ids[0].der == der_of(cert_id(EVP_sha1(), f.good, f.ca).get()));
  REQUIRE(from_cli->nonce_extension_value);
  CHECK(from_cli->nonce_extension_value->size() == 18);

  // Without a nonce.
  OcspRequestPtr plain(OCSP_REQUEST_new());
  add_id(plain.get(), ids[0].get());
  auto no_nonce = parse_ocsp_request(der_of(plain.get()));
  REQUIRE(no_nonce);
  CHECK_FALSE(no_nonce->nonce_extension_value);
}

TEST_CASE("OCSP nonces of 1 to 32 octets are accepted, wrapped or raw; others are refused") {
  const Fixture f;
  const auto id = cert_id(EVP_sha1(), f.good, f.ca);
  auto request_with = [&](const std::function<void(OCSP_REQUEST*)>& add_nonce) {
    OcspRequestPtr request(OCSP_REQUEST_new());
    add_id(request.get(), id.get());
    add_nonce(request.get());
    return der_of(request.get());
  };
  auto wrapped = [&](int length) {
    return request_with([length](OCSP_REQUEST* r) {
      std::vector<unsigned char> nonce(static_cast<std::size_t>(length), 0x5a);
      REQUIRE(OCSP_request_add1_nonce(r, nonce.data(), length) == 1);
    });
  };
  auto raw = [&](const base::Bytes& value) {
    return request_with([&value](OCSP_REQUEST* r) { add_raw_nonce(r, value); });
  };
  CHECK(parse_ocsp_request(wrapped(1)));
  auto longest = parse_ocsp_request(wrapped(32));
  REQUIRE(longest);
  CHECK(longest->nonce_extension_value->size() == 34);
  CHECK(error_of(wrapped(33)).find("nonce has 33 octets") != std::string::npos);
  CHECK(error_of(raw({0x04, 0x00})).find("nonce is empty") != std::string::npos);
  CHECK(error_of(raw({})).find("nonce is empty") != std::string::npos);
  // Raw nonce octets (not an OCTET STRING) are echoed as they are.
  const base::Bytes raw32(32, 0xab);
  auto raw_ok = parse_ocsp_request(raw(raw32));
  REQUIRE(raw_ok);
  CHECK(*raw_ok->nonce_extension_value == raw32);
  CHECK(error_of(raw(base::Bytes(33, 0xab))).find("nonce has 33 octets") != std::string::npos);
  CHECK(error_of(request_with([](OCSP_REQUEST* r) {
          add_raw_nonce(r, {0x04, 0x01, 0x01});
          add_raw_nonce(r, {0x04, 0x01, 0x02});
        })).find("two nonce extensions") != std::string::npos);
}

TEST_CASE("malformed OCSP requests are refused with a reason and never crash") {
  const Fixture f;
  OcspRequestPtr request(OCSP_REQUEST_new());
  const auto id = cert_id(EVP_sha256(), f.good, f.ca);
  add_id(request.get(), id.get());
  REQUIRE(OCSP_request_add1_nonce(request.get(), nullptr, -1) == 1);
  const base::Bytes valid = der_of(request.get());
  REQUIRE(parse_ocsp_request(valid));

  SECTION("truncated at every length") {
    for (std::size_t length = 0; length < valid.size(); ++length) {
      INFO("length " << length);
      CHECK_FALSE(parse_ocsp_request(base::ByteView(valid).first(length)));
    }
  }
  SECTION("trailing garbage") {
    base::Bytes trailing = valid;
    trailing.push_back(0x00);
    CHECK(error_of(trailing).find("trailing data") != std::string::npos);
    CHECK(error_of(base::Bytes{}).find("empty") != std::string::npos);
  }
  SECTION("random bytes and random mutations of a valid request") {
    std::mt19937 rng(20240301);
    std::uniform_int_distribution<int> byte(0, 255);
    for (int round = 0; round < 5000; ++round) {
      base::Bytes noise(static_cast<std::size_t>(rng() % 300));
      for (auto& b : noise) b = static_cast<std::uint8_t>(byte(rng));
      if (round % 2 == 0 && !noise.empty()) noise[0] = 0x30;  // look like a SEQUENCE
      CHECK_FALSE(parse_ocsp_request(noise));
    }
    std::size_t accepted = 0;
    for (int round = 0; round < 5000; ++round) {
      base::Bytes mutated = valid;
      const int changes = 1 + static_cast<int>(rng() % 3);
      for (int c = 0; c < changes; ++c) {
        mutated[rng() % mutated.size()] = static_cast<std::uint8_t>(byte(rng));
      }
      auto parsed = parse_ocsp_request(mutated);  // must not crash; either outcome is fine
      if (parsed) {
        ++accepted;
        for (const auto& cert_id : parsed->cert_ids) {
          CHECK(cert_id.serial.size() >= 1);
          CHECK(cert_id.serial.size() <= 20);
          CHECK(cert_id.serial[0] != 0);
        }
      }
    }
    WARN(accepted << " of 5000 mutated requests still parse");
  }
  SECTION("zero, negative and over-long serials") {
    auto with_serial = [&](const ASN1_INTEGER* serial) {
      OcspRequestPtr r(OCSP_REQUEST_new());
      add_id(r.get(), cert_id_with_serial(f.ca, serial).get());
      return der_of(r.get());
    };
    base::Asn1IntegerPtr serial(ASN1_INTEGER_new());
    REQUIRE(ASN1_INTEGER_set(serial.get(), 0) == 1);
    CHECK(error_of(with_serial(serial.get())).find("serial number is zero") != std::string::npos);
    REQUIRE(ASN1_INTEGER_set(serial.get(), -5) == 1);
    CHECK(error_of(with_serial(serial.get())).find("negative") != std::string::npos);
    const base::Bytes magnitude(21, 0x11);
    base::BignumPtr bn(BN_bin2bn(magnitude.data(), 21, nullptr));
    base::Asn1IntegerPtr long_serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
    CHECK(error_of(with_serial(long_serial.get())).find("21 octets") != std::string::npos);
    const base::Bytes twenty(20, 0xff);
    bn.reset(BN_bin2bn(twenty.data(), 20, nullptr));
    long_serial.reset(BN_to_ASN1_INTEGER(bn.get(), nullptr));
    auto parsed = parse_ocsp_request(with_serial(long_serial.get()));
    REQUIRE(parsed);
    CHECK(parsed->cert_ids[0].serial == twenty);
  }
  SECTION("no CertID, too many CertIDs") {
    OcspRequestPtr empty(OCSP_REQUEST_new());
    CHECK(error_of(der_of(empty.get())).find("names no certificate") != std::string::npos);
    OcspRequestPtr many(OCSP_REQUEST_new());
    for (std::size_t i = 0; i < kMaxOcspRequestCertIds; ++i) add_id(many.get(), id.get());
    CHECK(parse_ocsp_request(der_of(many.get())));
    add_id(many.get(), id.get());
    CHECK(error_of(der_of(many.get())).find("names 17 certificates; at most 16") !=
          std::string::npos);
  }
  SECTION("an unsupported hash and hashes of the wrong length") {
    auto md5_id = cert_id(EVP_md5(), f.good, f.ca);
    OcspRequestPtr md5(OCSP_REQUEST_new());
    add_id(md5.get(), md5_id.get());
    CHECK(error_of(der_of(md5.get())).find("hash algorithm 1.2.840.113549.2.5") !=
          std::string::npos);

    auto short_id = cert_id(EVP_sha256(), f.good, f.ca);
    ASN1_OCTET_STRING* name_hash = nullptr;
    REQUIRE(OCSP_id_get0_info(&name_hash, nullptr, nullptr, nullptr, short_id.get()) == 1);
    const base::Bytes twenty(20, 0x01);  // a SHA-1 length under SHA-256
    REQUIRE(ASN1_OCTET_STRING_set(name_hash, twenty.data(), 20) == 1);
    OcspRequestPtr wrong(OCSP_REQUEST_new());
    add_id(wrong.get(), short_id.get());
    const std::string message = error_of(der_of(wrong.get()));
    CHECK(message.find("20 and 32 octets; sha256 gives 32") != std::string::npos);
    CHECK(message.find("CertID 1") != std::string::npos);
  }
}

TEST_CASE("a signed OCSP response verifies with OpenSSL's API, openssl ocsp and python") {
  const Fixture f;
  OcspRequestPtr request(OCSP_REQUEST_new());
  std::vector<OcspCertIdPtr> ids;
  ids.push_back(cert_id(EVP_sha1(), f.good, f.ca));
  ids.push_back(cert_id(EVP_sha1(), f.revoked, f.ca));
  ids.push_back(cert_id(EVP_sha256(), f.unknown, f.ca));
  for (const auto& id : ids) add_id(request.get(), id.get());
  REQUIRE(OCSP_request_add1_nonce(request.get(), nullptr, -1) == 1);
  const base::Bytes request_der = der_of(request.get());
  auto parsed = parse_ocsp_request(request_der);
  REQUIRE(parsed);
  const base::TimePoint now = now_seconds();

  // Signed by the CA itself.
  const OcspResponseData data = response_data(f.ca.signer->public_key_der(), *parsed, now);
  const base::Bytes direct = sign_response(data, *f.ca.signer, {});
  // Signed by a delegated responder whose certificate has id-pkix-ocsp-nocheck.
  const TestLeaf responder =
      make_test_leaf(f.ca, "2001", "CN=Signet OCSP Responder", {kOcspSigning}, true);
  const base::Bytes delegated =
      sign_response(response_data(responder.signer->public_key_der(), *parsed, now),
                    *responder.signer, {responder.cert_der});

  auto ca_cert = to_x509(f.ca.cert_der);
  base::X509StorePtr store(X509_STORE_new());
  REQUIRE(X509_STORE_add_cert(store.get(), ca_cert.get()) == 1);
  for (const base::Bytes* response : {&direct, &delegated}) {
    const bool is_direct = response == &direct;
    INFO((is_direct ? "signed by the CA" : "signed by a delegated responder"));
    auto info = inspect_ocsp_response(*response);
    REQUIRE(info);
    CHECK(info->status == OcspResponseStatus::kSuccessful);
    CHECK(info->responses == 3);
    CHECK(info->first_status == OcspCertStatus::kGood);
    CHECK_FALSE(info->first_reason);
    CHECK(info->has_nonce);

    auto basic = basic_of(*response);
    std::unique_ptr<STACK_OF(X509), X509StackFree> others(sk_X509_new_null());
    if (is_direct) REQUIRE(sk_X509_push(others.get(), ca_cert.get()) > 0);
    CHECK(OCSP_basic_verify(basic.get(), others.get(), store.get(), 0) == 1);
    CHECK(OCSP_check_nonce(request.get(), basic.get()) == 1);
    const int expected_status[] = {V_OCSP_CERTSTATUS_GOOD, V_OCSP_CERTSTATUS_REVOKED,
                                   V_OCSP_CERTSTATUS_UNKNOWN};
    for (std::size_t i = 0; i < ids.size(); ++i) {
      int status = -1;
      int reason = -1;
      ASN1_GENERALIZEDTIME* revoked_at = nullptr;
      ASN1_GENERALIZEDTIME* this_update = nullptr;
      ASN1_GENERALIZEDTIME* next_update = nullptr;
      REQUIRE(OCSP_resp_find_status(basic.get(), ids[i].get(), &status, &reason, &revoked_at,
                                    &this_update, &next_update) == 1);
      CHECK(status == expected_status[i]);
      CHECK(OCSP_check_validity(this_update, next_update, 300, -1) == 1);
      if (status == V_OCSP_CERTSTATUS_REVOKED) {
        CHECK(reason == OCSP_REVOKED_STATUS_KEYCOMPROMISE);
        CHECK(ASN1_STRING_type(revoked_at) == V_ASN1_GENERALIZEDTIME);
      }
    }
  }

  test::TempDir dir;
  auto path = [&dir](const char* name) { return quote((dir / name).string()); };
  test::write_text(dir / "ca.pem", f.ca.pem());
  test::write_text(dir / "good.pem", f.good.pem());
  test::write_text(dir / "revoked.pem", f.revoked.pem());
  test::write_file(dir / "req.der", request_der);
  test::write_file(dir / "direct.der", direct);
  test::write_file(dir / "delegated.der", delegated);
  // The nonce is checked against the request's.
  const std::string text =
      must_run("openssl ocsp -reqin " + path("req.der") + " -respin " + path("direct.der") +
               " -VAfile " + path("ca.pem") + " -CAfile " + path("ca.pem") + " -resp_text");
  CHECK(text.find("Response verify OK") != std::string::npos);
  CHECK(text.find("Responder Id: ") != std::string::npos);
  CHECK(text.find("Cert Status: good") != std::string::npos);
  CHECK(text.find("Cert Status: revoked") != std::string::npos);
  CHECK(text.find("Revocation Reason: keyCompromise (0x1)") != std::string::npos);
  CHECK(text.find("Cert Status: unknown") != std::string::npos);
  CHECK(text.find("OCSP Nonce") != std::string::npos);
  const std::string summary =
      must_run("openssl ocsp -respin " + path("direct.der") + " -issuer " + path("ca.pem") +
               " -cert " + path("good.pem") + " -cert " + path("revoked.pem") + " -VAfile " +
               path("ca.pem") + " -CAfile " + path("ca.pem") + " -no_nonce");
  CHECK(summary.find("Response verify OK") != std::string::npos);
  CHECK(summary.find("good.pem: good") != std::string::npos);
  CHECK(summary.find("revoked.pem: revoked") != std::string::npos);
  CHECK(summary.find("Reason: keyCompromise") != std::string::npos);
  const std::string delegated_text =
      must_run("openssl ocsp -reqin " + path("req.der") + " -respin " + path("delegated.der") +
               " -issuer " + path("ca.pem") + " -CAfile " + path("ca.pem") + " -resp_text");
  CHECK(delegated_text.find("Response verify OK") != std::string::npos);
  CHECK(delegated_text.find("OCSP No Check") != std::string::npos);

  static const char* kScript = R"PY(
import sys
from cryptography import x509
from cryptography.x509 import ocsp
from cryptography.hazmat.primitives.asymmetric import ec
r = ocsp.load_der_ocsp_response(open(sys.argv[1], "rb").read())
ca = x509.load_pem_x509_certificate(open(sys.argv[2], "rb").read())
ca.public_key().verify(r.signature, r.tbs_response_bytes, ec.ECDSA(r.signature_hash_algorithm))
print("signature ok")
print("status", r.response_status.name)
print("key hash", r.responder_key_hash.hex())
for s in r.responses:
    print("single", s.serial_number, s.certificate_status.name, s.revocation_reason)
print("nonce", r.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce.hex())
)PY";
  const std::string python = must_run(std::string(kPython) + " -c " + quote(kScript) + " " +
                                      path("direct.der") + " " + path("ca.pem"));
  CHECK(python.find("signature ok") != std::string::npos);
  CHECK(python.find("status SUCCESSFUL") != std::string::npos);
  CHECK(python.find("key hash " + base::to_hex(data.responder_key_hash)) != std::string::npos);
  CHECK(python.find("single 4097 GOOD None") != std::string::npos);
  CHECK(python.find("REVOKED ReasonFlags.key_compromise") != std::string::npos);
  CHECK(python.find("single 4099 UNKNOWN None") != std::string::npos);
  const base::Bytes& nonce = *parsed->nonce_extension_value;
  CHECK(python.find("nonce " + base::to_hex(base::ByteView(nonce).subspan(2))) !=
        std::string::npos);
}

TEST_CASE("OCSP error responses carry only the status") {
  CHECK(base::to_hex(encode_ocsp_error(OcspResponseStatus::kMalformedRequest)) == "30030a0101");
  CHECK(base::to_hex(encode_ocsp_error(OcspResponseStatus::kUnauthorized)) == "30030a0106");
  CHECK(base::to_hex(encode_ocsp_error(OcspResponseStatus::kSuccessful)) == "30030a0102");
  for (auto status : {OcspResponseStatus::kMalformedRequest, OcspResponseStatus::kInternalError,
                      OcspResponseStatus::kTryLater, OcspResponseStatus::kSigRequired,
                      OcspResponseStatus::kUnauthorized}) {
    auto info = inspect_ocsp_response(encode_ocsp_error(status));
    REQUIRE(info);
    CHECK(info->status == status);
    CHECK(info->responses == 0);
  }
  test::TempDir dir;
  test::write_file(dir / "error.der", encode_ocsp_error(OcspResponseStatus::kTryLater));
  const auto result = test::run_command(
      "openssl ocsp -respin " + quote((dir / "error.der").string()) + " -resp_text -noverify");
  CHECK(result.output.find("trylater") != std::string::npos);
  CHECK_FALSE(inspect_ocsp_response(base::Bytes{0x30, 0x03, 0x0a, 0x01, 0x04}));  // unused value
}

TEST_CASE("encode_ocsp_response_data refuses inconsistent input") {
  const Fixture f;
  OcspRequestPtr request(OCSP_REQUEST_new());
  add_id(request.get(), cert_id(EVP_sha1(), f.good, f.ca).get());
  add_id(request.get(), cert_id(EVP_sha1(), f.revoked, f.ca).get());
  const auto parsed = parse_ocsp_request(der_of(request.get())).value();
  const OcspResponseData valid =
      response_data(f.ca.signer->public_key_der(), parsed, now_seconds());
  REQUIRE(encode_ocsp_response_data(valid));
  auto message = [](const OcspResponseData& data) {
    auto result = encode_ocsp_response_data(data);
    REQUIRE_FALSE(result);
    return result.error().message();
  };
  OcspResponseData data = valid;
  data.responder_key_hash.pop_back();
  CHECK(message(data).find("19 octets") != std::string::npos);
  data = valid;
  data.responses.clear();
  CHECK(message(data).find("at least one") != std::string::npos);
  data = valid;
  data.responses[0].cert_id_der = {0x04, 0x00};
  CHECK(message(data).find("CertID is not DER") != std::string::npos);
  data = valid;
  data.responses[1].reason = 7;
  CHECK(message(data).find("reason 7") != std::string::npos);
  data = valid;
  data.responses[0].next_update = data.responses[0].this_update - std::chrono::seconds(1);
  CHECK(message(data).find("nextUpdate") != std::string::npos);
  data = valid;
  data.nonce_extension_value = base::Bytes{};
  CHECK_FALSE(encode_ocsp_response_data(data));

  // Shapes that matter to clients: byKey responder, GeneralizedTime, good/revoked encodings.
  const std::string hex = base::to_hex(encode_ocsp_response_data(valid).value());
  CHECK(hex.rfind("30", 0) == 0);
  CHECK(hex.find("a2160414" + base::to_hex(valid.responder_key_hash)) != std::string::npos);
  CHECK(hex.find(base::to_hex(parsed.cert_ids[0].der) + "8000180f") != std::string::npos);
  CHECK(hex.find(base::to_hex(parsed.cert_ids[1].der) + "a116180f") != std::string::npos);
  CHECK(hex.find("a0030a0101") != std::string::npos);  // revocationReason [0] keyCompromise
}
