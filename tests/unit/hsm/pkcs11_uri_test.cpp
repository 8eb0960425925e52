#include <catch2/catch.hpp>

#include "hsm/internal/pkcs11_call.h"
#include "hsm/internal/public_key.h"
#include "hsm/pkcs11_uri.h"

using signet::base::Bytes;
using signet::base::ErrorCode;
using signet::base::KeyAlgorithm;
using signet::hsm::Pkcs11Uri;

TEST_CASE("a PKCS#11 URI yields its token, object, type and percent-decoded id") {
  auto uri = Pkcs11Uri::parse("pkcs11:token=signet%20ca;object=root-ca;type=private;id=%01%02%ff");
  REQUIRE(uri);
  CHECK(uri->token == "signet ca");
  CHECK(uri->object == "root-ca");
  CHECK(uri->type == Pkcs11Uri::ObjectType::kPrivate);
  CHECK(uri->id == Bytes{0x01, 0x02, 0xff});
  CHECK_FALSE(uri->serial);
}

TEST_CASE("a PKCS#11 URI carries serial, model, manufacturer and module-path") {
  auto uri = Pkcs11Uri::parse(
      "pkcs11:serial=1a2b;model=SoftHSM%20v2;manufacturer=SoftHSM%20project;slot-id=7"
      "?module-path=/usr/lib/softhsm/libsofthsm2.so");
  REQUIRE(uri);
  CHECK(uri->serial == "1a2b");
  CHECK(uri->model == "SoftHSM v2");
  CHECK(uri->manufacturer == "SoftHSM project");
  CHECK(uri->slot_id == 7u);
  CHECK(uri->module_path == "/usr/lib/softhsm/libsofthsm2.so");
}

TEST_CASE("a PKCS#11 URI with a PIN is refused without repeating the PIN") {
  for (const char* text :
       {"pkcs11:object=k?pin-value=s3cr3t-pin", "pkcs11:object=k;pin-value=s3cr3t-pin",
        "pkcs11:object=k?pin-source=file:/tmp/s3cr3t-pin"}) {
    auto uri = Pkcs11Uri::parse(text);
    REQUIRE_FALSE(uri);
    CHECK(uri.error().code() == ErrorCode::kInvalidArgument);
    CHECK(uri.error().message().find("may not carry a PIN") != std::string::npos);
    CHECK(uri.error().message().find("--pin-file") != std::string::npos);
    CHECK(uri.error().message().find("s3cr3t") == std::string::npos);
  }
}

TEST_CASE("malformed PKCS#11 URIs are refused with the reason") {
  auto not_pkcs11 = Pkcs11Uri::parse("file:///etc/passwd");
  REQUIRE_FALSE(not_pkcs11);
  CHECK(not_pkcs11.error().message().find("pkcs11:") != std::string::npos);

  auto repeated = Pkcs11Uri::parse("pkcs11:object=a;object=b");
  REQUIRE_FALSE(repeated);
  CHECK(repeated.error().message().find("repeats the attribute 'object'") != std::string::npos);

  auto unknown = Pkcs11Uri::parse("pkcs11:colour=blue");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message().find("colour") != std::string::npos);

  CHECK_FALSE(Pkcs11Uri::parse("pkcs11:id=%0"));
  CHECK_FALSE(Pkcs11Uri::parse("pkcs11:id=%zz"));
  CHECK_FALSE(Pkcs11Uri::parse("pkcs11:type=banana"));
  CHECK(Pkcs11Uri::parse("pkcs11:x-vendor=anything;object=k"));
}

TEST_CASE("a URI matches tokens by every token attribute it names") {
  signet::hsm::TokenInfo token;
  token.label = "signet";
  token.serial = "abc";
  token.model = "SoftHSM v2";
  CHECK(Pkcs11Uri::parse("pkcs11:object=k")->matches(token));
  CHECK(Pkcs11Uri::parse("pkcs11:token=signet;serial=abc")->matches(token));
  CHECK_FALSE(Pkcs11Uri::parse("pkcs11:token=signet;serial=abd")->matches(token));
  CHECK_FALSE(Pkcs11Uri::parse("pkcs11:model=Luna")->matches(token));
}

TEST_CASE("CKA_EC_POINT is read whether DER-wrapped or raw") {
  Bytes point(65, 0x11);
  point[0] = 0x04;
  Bytes wrapped = {0x04, 0x41};
  wrapped.insert(wrapped.end(), point.begin(), point.end());
  CHECK(*signet::hsm::internal::unwrap_ec_point(wrapped, KeyAlgorithm::kEcP256) == point);
  CHECK(*signet::hsm::internal::unwrap_ec_point(point, KeyAlgorithm::kEcP256) == point);
  // A raw point whose X starts with 0x3f looks like a DER OCTET STRING of 63 bytes.
  Bytes tricky = point;
  tricky[1] = 0x3f;
  CHECK(*signet::hsm::internal::unwrap_ec_point(tricky, KeyAlgorithm::kEcP256) == tricky);
  Bytes ed(32, 0x22);
  Bytes ed_wrapped = {0x04, 0x20};
  ed_wrapped.insert(ed_wrapped.end(), ed.begin(), ed.end());
  CHECK(*signet::hsm::internal::unwrap_ec_point(ed_wrapped, KeyAlgorithm::kEd25519) == ed);
  CHECK_FALSE(signet::hsm::internal::unwrap_ec_point(Bytes(10, 0x04), KeyAlgorithm::kEcP256));
}

TEST_CASE("PKCS#11 errors name the function, the token and the CKR code") {
  using signet::hsm::internal::CallSite;
  using signet::hsm::internal::Purpose;
  using signet::hsm::internal::translate;
  auto pin = translate(CKR_PIN_INCORRECT, CallSite{"C_Login", "signet", Purpose::kLogin});
  CHECK(pin.code() == ErrorCode::kPinIncorrect);
  CHECK(pin.message().find("the PIN for token 'signet' is incorrect") != std::string::npos);
  CHECK(pin.message().find("CKR_PIN_INCORRECT") != std::string::npos);
  CHECK(translate(CKR_PIN_LOCKED, CallSite{"C_Login", "t", Purpose::kLogin}).code() ==
        ErrorCode::kPinLocked);
  CHECK(
      translate(CKR_TOKEN_NOT_PRESENT, CallSite{"C_OpenSession", "t", Purpose::kGeneral}).code() ==
      ErrorCode::kNotFound);
  CHECK(
      translate(CKR_MECHANISM_INVALID, CallSite{"C_GenerateKeyPair", "t", Purpose::kKeyGeneration})
          .code() == ErrorCode::kNotSupported);
  auto full = translate(CKR_DEVICE_MEMORY, CallSite{"C_GenerateKeyPair", "t", Purpose::kGeneral});
  CHECK(full.code() == ErrorCode::kTokenError);
  CHECK(full.message().find("full") != std::string::npos);
  auto other = translate(CKR_DEVICE_ERROR, CallSite{"C_Sign", "t", Purpose::kGeneral});
  CHECK(other.code() == ErrorCode::kTokenError);
  CHECK(other.message() == "C_Sign failed on token 't': CKR_DEVICE_ERROR (0x30)");
}

TEST_CASE("a locked PIN's message says how to get past the lock") {
  using signet::hsm::internal::CallSite;
  using signet::hsm::internal::Purpose;
  using signet::hsm::internal::translate;
  auto user = translate(CKR_PIN_LOCKED, CallSite{"C_Login", "card", Purpose::kLogin});
  CHECK(user.message().find("the PIN for token 'card' is locked after too many wrong attempts; "
                            "unblock it by logging in with the security officer PIN") == 0);
  CHECK(user.message().find("C_InitPIN") != std::string::npos);
  auto so = translate(CKR_PIN_LOCKED, CallSite{"C_Login", "card", Purpose::kSoLogin});
  CHECK(so.code() == ErrorCode::kPinLocked);
  CHECK(so.message().find("the security officer PIN for token 'card' is locked") == 0);
  CHECK(so.message().find("only re-initialising the token") != std::string::npos);
}
