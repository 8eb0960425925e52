#include <catch2/catch.hpp>

#include "token/card_token.h"
#include "token/internal/pcsc_call.h"

using namespace signet;
using base::ErrorCode;

TEST_CASE("a slot names a reader by its full name or the name cut to 64 bytes") {
  using token::slot_names_reader;
  CHECK(slot_names_reader("Virtual PCD 00 00", "Virtual PCD 00 00"));
  CHECK_FALSE(slot_names_reader("Virtual PCD 00 0", "Virtual PCD 00 00"));
  CHECK_FALSE(slot_names_reader("Virtual PCD 00 01", "Virtual PCD 00 00"));
  CHECK_FALSE(slot_names_reader("", "Virtual PCD 00 00"));
  const std::string long_name =
      "Yubico YubiKey OTP+FIDO+CCID (0012345678) 00 00 with an unusually long interface name";
  CHECK(slot_names_reader(long_name.substr(0, 64), long_name));
  // A shorter prefix is another reader's name, not a cut one.
  CHECK_FALSE(slot_names_reader(long_name.substr(0, 40), long_name));
  // The field was blank-padded and trimmed: a cut that ends in a blank loses it.
  const std::string blank_at_cut = std::string(63, 'r') + " tail";
  CHECK(slot_names_reader(std::string(63, 'r'), blank_at_cut));
}

TEST_CASE("an empty reader has no card token") {
  token::ReaderState empty;
  empty.name = "Virtual PCD 00 01";
  token::ModuleCache modules;
  auto found = token::find_card_token(empty, token::AtrMap(), modules);
  REQUIRE_FALSE(found);
  CHECK(found.error().code() == ErrorCode::kNotFound);
  CHECK(found.error().message() == "there is no card in reader 'Virtual PCD 00 01'");
}

TEST_CASE("PC/SC failures read as sentences that name the daemon or the reader") {
  using token::internal::pcsc_error;
  auto no_service = pcsc_error(SCARD_E_NO_SERVICE, "SCardEstablishContext");
  CHECK(no_service.code() == ErrorCode::kUnavailable);
  CHECK(no_service.message().rfind("pcscd is not running", 0) == 0);
  CHECK(no_service.message().find("SCARD_E_NO_SERVICE (0x8010001D)") != std::string::npos);
  auto unknown = pcsc_error(SCARD_E_UNKNOWN_READER, "SCardGetStatusChange", "Gone Reader 00");
  CHECK(unknown.code() == ErrorCode::kNotFound);
  CHECK(unknown.message().rfind("no reader named 'Gone Reader 00'", 0) == 0);
  CHECK(token::internal::is_service_gone(SCARD_E_SERVICE_STOPPED));
  CHECK(token::internal::is_service_gone(SCARD_E_INVALID_HANDLE));
  CHECK_FALSE(token::internal::is_service_gone(SCARD_E_TIMEOUT));
  CHECK(token::internal::pcsc_code_name(0x12345) == "PC/SC error 0x00012345");
}
