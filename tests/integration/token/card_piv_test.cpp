// PIV cards as `signet card ...` meets them, with the fault module in ykcs11 mode
// (ykcs11_emulation.h) in front of the SoftHSM token "card-1": key generation and certificate
// writes only under an SO login with the management key, signing only under the PIN, one key
// per slot (generating into a slot replaces its key). Also: the reader in the inventory's key
// location, and resubmitting a failed card enrollment.
#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/integration/token/enroll_fixture.h"

using namespace signet;
using nlohmann::json;
using test::CommandResult;
using test::PcscStack;
using namespace signet::test::enroll;

namespace {

// A YubiKey's factory management key (3DES, 24 bytes), in the hex ykcs11 takes as the SO PIN.
constexpr const char* kManagementKey = "010203040506070801020304050607080102030405060708";

std::string ykcs11_mode() {
  return std::string("ykcs11 ") + kManagementKey + " " + kCardPin + "\n";
}

class PivFixture : public EnrollFixture {
 public:
  PivFixture() : EnrollFixture("ykcs11") {
    key_file_ = path("management.key");
    write_secret(key_file_, kManagementKey);
    faults.set(ykcs11_mode());
    stack.insert_card();
  }
  const std::string& key_file() const { return key_file_; }

  json run_json(const std::string& arguments) const {
    int code = 0;
    std::string progress;
    auto j = signet_json(
        arguments + " --card-pin-file " + pin_file() + " --management-key-file " + key_file_, code,
        progress);
    INFO(arguments);
    INFO(progress);
    REQUIRE(code == 0);
    REQUIRE(j.is_object());
    return j;
  }
  json cert_show(const std::string& serial) const {
    int code = 0;
    std::string progress;
    auto j = signet_json("cert show " + serial, code, progress);
    REQUIRE(code == 0);
    return j;
  }

 private:
  std::string key_file_;
};

}  // namespace

TEST_CASE("a ykcs11 card generates and stores under the management key and signs under the PIN") {
  PivFixture f;
  const json j = f.run_json(
      "card enroll --profile holder --key ec-p256 --subject \"CN=Ada Lovelace,O=Example\" "
      "--san email:ada@example.com");
  CHECK(j["type"] == "ykcs11");
  const std::string serial = j["certificate"]["serial"];
  CHECK(key_id_hex(j["key_uri"]) == "01");  // slot 9a
  auto verified = f.openssl_verify(j["pem"]);
  INFO(verified.output);
  CHECK(verified.exit_code == 0);
  CHECK(f.card_certificate("01") == f.inventory_certificate(serial));
  const std::string objects = f.card_objects();
  INFO(objects);
  CHECK(count(objects, "Private Key Object") == 1);
  CHECK(count(objects, "Certificate Object") == 1);  // one per slot, no chain on a PIV card
  CHECK(objects.find("X.509 Certificate for PIV Authentication") != std::string::npos);

  // The inventory's key location names the card and the reader it was enrolled in.
  const json shown = f.cert_show(serial);
  CHECK(shown["key_reader"] == PcscStack::kReader);
  CHECK(shown["key_storage"].get<std::string>().find(PcscStack::kReader) != std::string::npos);
  auto text = f.signet("cert show " + serial);
  CHECK(text.output.find("Card reader") != std::string::npos);
  // card show links the card's objects to the inventory, with the reader of the enrollment.
  int code = 0;
  std::string progress;
  const json view = f.signet_json("card show --card-pin-file " + f.pin_file(), code, progress);
  INFO(progress);
  REQUIRE(code == 0);
  int with_reader = 0;
  for (const auto& o : view["objects"]) {
    if (!o["certificate"].is_null() && o["certificate"]["enrolled_in_reader"] == PcscStack::kReader)
      ++with_reader;
  }
  CHECK(with_reader == 2);  // the key and its certificate
}

TEST_CASE("a ykcs11 card refuses a flow that generates under the PIN, and a wrong key") {
  PivFixture f;
  // The same card as a generic token: generation under the user login, which ykcs11 refuses.
  f.write_map("");
  auto generic = f.enroll("--key ec-p256");
  INFO(generic.output);
  CHECK(generic.exit_code == 1);
  CHECK(generic.output.find("CKR_USER_TYPE_INVALID") != std::string::npos);

  f.write_map("ykcs11");
  const std::string wrong = f.path("wrong.key");
  EnrollFixture::write_secret(wrong, "0f0e0d0c0b0a09080f0e0d0c0b0a09080f0e0d0c0b0a0908");
  auto refused = f.enroll("--key ec-p256 --management-key-file " + wrong);
  INFO(refused.output);
  CHECK(refused.exit_code == 1);
  CHECK(refused.output.find("security officer PIN") != std::string::npos);
  CHECK(refused.output.find("incorrect") != std::string::npos);

  EnrollFixture::write_secret(wrong, "not-a-key");
  auto malformed = f.enroll("--key ec-p256 --management-key-file " + wrong);
  INFO(malformed.output);
  CHECK(malformed.exit_code == 1);
  CHECK(malformed.output.find("must be given as hex digits") != std::string::npos);
  CHECK(malformed.output.find("not-a-key") == std::string::npos);

  f.faults.clear();
  CHECK(f.card_objects().find("Private Key Object") == std::string::npos);
}

TEST_CASE("a PIV rekey replaces the key in its own slot, or moves to a free slot") {
  PivFixture f;
  const json first = f.run_json(
      "card enroll --profile holder --key ec-p256 --subject \"CN=Ada Lovelace,O=Example\"");
  const std::string first_serial = first["certificate"]["serial"];

  // Same slot, previous certificate kept valid: the outcome warns that its key is gone.
  const json second = f.run_json("card rekey " + first_serial + " --key ec-p384");
  const std::string second_serial = second["certificate"]["serial"];
  CHECK(key_id_hex(second["key_uri"]) == "01");
  CHECK(second["warnings"].dump().find("was replaced by the new key") != std::string::npos);
  CHECK(f.cert_show(first_serial)["status"] == "active");
  std::string objects = f.card_objects();
  CHECK(count(objects, "Private Key Object") == 1);
  CHECK(count(objects, "Certificate Object") == 1);
  CHECK(f.card_certificate("01") == f.inventory_certificate(second_serial));
  auto verified = f.openssl_verify(second["pem"]);
  CHECK(verified.exit_code == 0);

  // Same slot with --revoke-previous: revoked superseded, the new key stays in the slot.
  const json third = f.run_json("card rekey " + second_serial + " --revoke-previous");
  const std::string third_serial = third["certificate"]["serial"];
  CHECK(key_id_hex(third["key_uri"]) == "01");
  CHECK(f.cert_show(second_serial)["status"] == "revoked");
  objects = f.card_objects();
  CHECK(count(objects, "Private Key Object") == 1);
  CHECK(f.card_certificate("01") == f.inventory_certificate(third_serial));

  // Another slot, which must be free: 9d is taken by a second enrollment, 9c is free.
  f.run_json("card enroll --profile holder --slot 9d --subject \"CN=Ada Lovelace,O=Example\"");
  auto taken = f.signet("card rekey " + third_serial + " --slot 9d --card-pin-file " +
                        f.pin_file() + " --management-key-file " + f.key_file());
  INFO(taken.output);
  CHECK(taken.exit_code == 1);
  CHECK(taken.output.find("already holds a private key with CKA_ID 03") != std::string::npos);
  const json moved = f.run_json("card rekey " + third_serial + " --slot 9c --revoke-previous");
  CHECK(key_id_hex(moved["key_uri"]) == "02");
  objects = f.card_objects();
  INFO(objects);
  CHECK(count(objects, "Private Key Object") == 2);  // 9c and 9d; 9a's key was deleted
  CHECK(objects.find("ID:         01") == std::string::npos);
  CHECK(f.card_certificate("02") ==
        f.inventory_certificate(moved["certificate"]["serial"].get<std::string>()));
}

TEST_CASE("a failed rekey into the same PIV slot says whether the previous key survived") {
  PivFixture f;
  const json first = f.run_json(
      "card enroll --profile holder --key ec-p256 --subject \"CN=Ada Lovelace,O=Example\"");
  const std::string serial = first["certificate"]["serial"];
  const std::string rekey = "card rekey " + serial + " --card-pin-file " + f.pin_file() +
                            " --management-key-file " + f.key_file();

  // The card refuses generation before it starts: the previous key is still there.
  f.faults.set(ykcs11_mode() + "fail C_GenerateKeyPair CKR_DEVICE_ERROR\n");
  auto kept = f.signet(rekey);
  INFO(kept.output);
  CHECK(kept.exit_code == 1);
  CHECK(kept.output.find("are still on the card and usable") != std::string::npos);
  f.faults.set(ykcs11_mode());
  CHECK(count(f.card_objects(), "Private Key Object") == 1);
  CHECK(f.card_certificate("01") == f.inventory_certificate(serial));

  // Generation replaced the key, then writing the certificate fails: the previous key is gone.
  f.faults.set(ykcs11_mode() + "fail C_CreateObject CKR_DEVICE_ERROR\n");
  auto lost = f.signet(rekey);
  INFO(lost.output);
  CHECK(lost.exit_code == 1);
  CHECK(lost.output.find("replaced the previous key of certificate " + serial) !=
        std::string::npos);
  CHECK(lost.output.find("can no longer be used with this card") != std::string::npos);
  f.faults.set(ykcs11_mode());
  const std::string objects = f.card_objects();
  INFO(objects);
  CHECK(objects.find("Private Key Object") == std::string::npos);  // the failed order's key
  CHECK(objects.find("Certificate Object") == std::string::npos);  // the stale certificate
  CHECK(newest_order(f.orders())["status"] == "failed");
  CHECK(f.cert_show(serial)["status"] == "active");  // a failure revokes nothing
  CHECK(f.signet("audit list").output.find("card.previous_key_lost") != std::string::npos);

  // Rekeying again fills the slot.
  const json again = f.run_json("card rekey " + serial);
  CHECK(key_id_hex(again["key_uri"]) == "01");
  auto verified = f.openssl_verify(again["pem"]);
  CHECK(verified.exit_code == 0);
}

TEST_CASE("a card enrollment that failed on removal is resubmitted from its order") {
  EnrollFixture f;
  f.stack.insert_card();
  f.faults.set("delay C_GenerateKeyPair 4000\n");
  const std::string err = f.path("enroll.err");
  CommandResult enrolled;
  std::thread runner([&] {
    enrolled = test::run_command(
        signet_binary() +
        " card enroll --profile holder --key ec-p384 --subject \"CN=Ada Lovelace,O=Example\" "
        "--san email:ada@example.com --card-pin-file " +
        f.pin_file() + " 2>" + err);
  });
  const bool generating = PcscStack::wait_until([&] {
    return std::filesystem::exists(err) &&
           test::read_text(err).find("[key-generation]") != std::string::npos;
  });
  if (generating) f.stack.remove_card();
  runner.join();
  INFO(test::read_text(err));
  REQUIRE(generating);
  REQUIRE(enrolled.exit_code == 1);
  const json failed = newest_order(f.orders());
  REQUIRE(failed["status"] == "failed");
  const std::string failed_id = std::to_string(failed["id"].get<std::uint64_t>());

  // Without the card, the resubmission is refused; with it, it runs the stored request.
  f.faults.clear();
  auto absent =
      f.signet("card enroll --resubmit " + failed_id + " --card-pin-file " + f.pin_file());
  CHECK(absent.exit_code == 1);
  f.stack.insert_card();
  int code = 0;
  std::string progress;
  const json j = f.signet_json(
      "card enroll --resubmit " + failed_id + " --card-pin-file " + f.pin_file(), code, progress);
  INFO(progress);
  REQUIRE(code == 0);
  CHECK(j["order"]["status"] == "complete");
  CHECK(std::to_string(j["order"]["resubmitted_from"].get<std::uint64_t>()) == failed_id);
  CHECK(j["certificate"]["key_algorithm"] == "ec-p384");
  CHECK(j["certificate"]["subject"].get<std::string>().find("Ada Lovelace") != std::string::npos);
  auto verified = f.openssl_verify(j["pem"]);
  INFO(verified.output);
  CHECK(verified.exit_code == 0);
  CHECK(f.card_certificate(key_id_hex(j["key_uri"])) ==
        f.inventory_certificate(j["certificate"]["serial"].get<std::string>()));

  // One certificate for the holder in the inventory; the resubmission is audited.
  auto list = f.signet_json("cert list", code, progress);
  REQUIRE(code == 0);
  REQUIRE(list["items"].is_array());
  int holders = 0;
  for (const auto& c : list["items"]) {
    if (c["subject"].get<std::string>().find("Ada Lovelace") != std::string::npos) ++holders;
  }
  CHECK(holders == 1);
  CHECK(f.signet("audit list").output.find("card.resubmitted") != std::string::npos);
  // A failed order that a resubmission completed is not resubmitted again.
  auto twice = f.signet("card enroll --resubmit " + failed_id + " --card-pin-file " + f.pin_file());
  INFO(twice.output);
  CHECK(twice.exit_code == 1);
  CHECK(twice.output.find("was resubmitted already") != std::string::npos);
}
