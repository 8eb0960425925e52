#include <catch2/catch.hpp>

#include "hsm/internal/key_generation.h"
#include "hsm/internal/pkcs11_call.h"

using namespace signet;
using base::ErrorCode;

namespace {

hsm::TokenInfo token_with(std::optional<unsigned long> free_private,
                          std::optional<unsigned long> free_public) {
  hsm::TokenInfo info;
  info.label = "ca-hsm";
  info.serial = "0042";
  info.free_private_memory = free_private;
  info.free_public_memory = free_public;
  return info;
}

}  // namespace

TEST_CASE("check_room passes tokens that report enough free memory, or none at all") {
  CHECK(hsm::internal::check_room(token_with(std::nullopt, std::nullopt)));
  CHECK(hsm::internal::check_room(token_with(1 << 20, 1 << 20)));
  CHECK(hsm::internal::check_room(
      token_with(hsm::internal::kMinimumFreeBytes, hsm::internal::kMinimumFreeBytes)));
}

TEST_CASE("check_room refuses a full token, naming it and the memory it lacks") {
  auto private_short = hsm::internal::check_room(token_with(1000, 1 << 20));
  REQUIRE_FALSE(private_short);
  CHECK(private_short.error().code() == ErrorCode::kResourceExhausted);
  const std::string& message = private_short.error().message();
  CHECK(message.find("token 'ca-hsm' (serial 0042)") != std::string::npos);
  CHECK(message.find("1000 bytes free for private objects") != std::string::npos);
  CHECK(message.find("public") == std::string::npos);

  auto public_short = hsm::internal::check_room(token_with(std::nullopt, 10));
  REQUIRE_FALSE(public_short);
  CHECK(public_short.error().code() == ErrorCode::kResourceExhausted);
  CHECK(public_short.error().message().find("10 bytes free for public objects") !=
        std::string::npos);

  auto both = hsm::internal::check_room(token_with(0, 0));
  REQUIRE_FALSE(both);
  CHECK(both.error().message().find("private objects and 0 bytes free for public") !=
        std::string::npos);
}

TEST_CASE("a failed unwrap reads as a failed integrity check, elsewhere as a token error") {
  using hsm::internal::CallSite;
  using hsm::internal::Purpose;
  using hsm::internal::translate;
  for (CK_RV rv : {CKR_WRAPPED_KEY_INVALID, CKR_WRAPPED_KEY_LEN_RANGE, CKR_ENCRYPTED_DATA_INVALID,
                   CKR_GENERAL_ERROR}) {
    INFO(hsm::internal::rv_name(rv));
    auto unwrap = translate(rv, CallSite{"C_UnwrapKey", "ca-hsm", Purpose::kUnwrap});
    CHECK(unwrap.code() == ErrorCode::kVerificationFailed);
    CHECK(unwrap.message().find("integrity") != std::string::npos);
    CHECK(unwrap.message().find(hsm::internal::rv_name(rv)) != std::string::npos);
    CHECK(translate(rv, CallSite{"C_Sign", "ca-hsm", Purpose::kGeneral}).code() ==
          ErrorCode::kTokenError);
  }
  // Not every unwrap failure is tampering.
  CHECK(translate(CKR_USER_NOT_LOGGED_IN, CallSite{"C_UnwrapKey", "t", Purpose::kUnwrap}).code() ==
        ErrorCode::kPermissionDenied);
}
