// `signet card enroll | renew | rekey | show | pin` as a token holder and an operator run them:
// pcscd with the virtual reader and card (pcsc_stack.h) says whether the card is there; the
// card's ATR is mapped to the fault module (fault_fixture.h) in front of a SoftHSM token
// "card-1" in the state directory's SoftHSM store, beside the appliance's own token "signet"
// that holds the CA keys. Every issued certificate is checked with `openssl verify`, the card's
// objects with pkcs11-tool (OpenSC), an independent PKCS#11 client.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/integration/token/enroll_fixture.h"

using namespace signet;
using nlohmann::json;
using test::CommandResult;
using test::FaultInjection;
using test::PcscStack;
using namespace signet::test::enroll;

TEST_CASE("card enroll generates the key on the card and writes the issued certificate there") {
  EnrollFixture f;
  f.stack.insert_card();
  const json j = f.enroll_json("--key ec-p256 --san UPN:ada@corp.example");
  CHECK(j["reader"] == PcscStack::kReader);
  CHECK(j["token"]["label"] == "card-1");
  CHECK(j["order"]["status"] == "complete");
  CHECK(j["order"]["key_source"] == "key-on-token");
  const std::string uri = j["key_uri"];
  CHECK(uri.find("serial=" + j["token"]["serial"].get<std::string>()) != std::string::npos);

  // An independent verifier accepts the certificate under the CA chain.
  auto verified = f.openssl_verify(j["pem"]);
  INFO(verified.output);
  CHECK(verified.exit_code == 0);
  // The SANs as OpenSSL reads them: the e-mail address and the UPN (an otherName).
  auto sans =
      test::run_command("openssl x509 -noout -ext subjectAltName -in " + f.path("leaf.pem"));
  INFO(sans.output);
  CHECK(sans.output.find("email:ada@example.com") != std::string::npos);
  CHECK(sans.output.find("othername: UPN::ada@corp.example") != std::string::npos);

  // The card holds the certificate the inventory holds, beside the key, and the CA chain.
  const std::string serial = j["certificate"]["serial"];
  const std::string id = key_id_hex(uri);
  CHECK(f.card_certificate(id) == f.inventory_certificate(serial));
  const std::string objects = f.card_objects();
  INFO(objects);
  CHECK(count(objects, "Private Key Object") == 1);
  CHECK(count(objects, "Certificate Object") == 3);  // leaf, issuing CA, root CA
  CHECK(objects.find("CA Card Issuing") != std::string::npos);
  // The private key was born on the card and cannot leave it.
  const auto key_block = objects.substr(objects.find("Private Key Object"));
  CHECK(key_block.find("never extractable") != std::string::npos);
  CHECK(key_block.find("always sensitive") != std::string::npos);
  CHECK(key_block.find("local") != std::string::npos);

  // The inventory names the card as the key's location; the audit log has the enrollment.
  int code = 0;
  std::string progress;
  auto shown = f.signet_json("cert show " + serial, code, progress);
  REQUIRE(code == 0);
  CHECK(shown.dump().find(j["token"]["serial"].get<std::string>()) != std::string::npos);
  auto audit = f.signet("audit list");
  CHECK(audit.output.find("card.enrolled") != std::string::npos);

  // card show links the key and its certificate to the inventory.
  auto view = f.signet_json("card show --card-pin-file " + f.pin_file(), code, progress);
  INFO(progress);
  REQUIRE(code == 0);
  int linked = 0;
  for (const auto& o : view["objects"]) {
    if (!o["certificate"].is_null() && o["certificate"]["serial"] == serial) ++linked;
  }
  CHECK(linked == 2);  // the private key and the certificate object
}

TEST_CASE("card enroll offers only what both the profile and the card allow") {
  EnrollFixture f;
  f.stack.insert_card();
  auto refused = f.enroll("--key ed25519");  // SoftHSM makes Ed25519 keys; the profile refuses
  INFO(refused.output);
  CHECK(refused.exit_code == 1);
  CHECK(refused.output.find("ed25519 is not offered") != std::string::npos);
  CHECK(refused.output.find("ec-p256, ec-p384, rsa-2048") != std::string::npos);
  CHECK(f.card_objects().find("Private Key Object") == std::string::npos);
}

TEST_CASE("card enroll without a card in the reader says so") {
  EnrollFixture f;
  auto result = f.enroll();
  INFO(result.output);
  CHECK(result.exit_code == 1);
  CHECK(result.output.find("no reader holds a card") != std::string::npos);
}

TEST_CASE("card enroll reports the PIN counters before the attempt and refuses a locked card") {
  EnrollFixture f;
  f.stack.insert_card();
  f.faults.set("pin final_try\n");
  auto final_try = f.enroll();
  INFO(final_try.output);
  CHECK(final_try.exit_code == 0);
  CHECK(final_try.output.find("[pin] FINAL TRY") != std::string::npos);

  f.faults.set("pin locked\n");
  auto locked = f.enroll();
  INFO(locked.output);
  CHECK(locked.exit_code == 1);
  CHECK(locked.output.find("is locked") != std::string::npos);
  CHECK(locked.output.find("signet card pin unblock") != std::string::npos);
}

TEST_CASE("removing the card during key generation fails the order and leaves the card clean") {
  EnrollFixture f;
  f.stack.insert_card();
  const std::string before = f.card_objects();
  f.faults.set("delay C_GenerateKeyPair 4000\n");
  const std::string err = f.path("enroll.err");
  CommandResult enrolled;
  std::thread runner([&] {
    enrolled = test::run_command(signet_binary() + " card enroll --profile holder --subject " +
                                 "CN=Removed --card-pin-file " + f.pin_file() + " 2>" + err);
  });
  const bool generating = PcscStack::wait_until([&] {
    return std::filesystem::exists(err) &&
           test::read_text(err).find("[key-generation]") != std::string::npos;
  });
  if (generating) f.stack.remove_card();
  runner.join();
  const std::string progress = test::read_text(err);
  INFO(progress);
  REQUIRE(generating);
  CHECK(enrolled.exit_code == 1);
  CHECK(progress.find("removed from reader 'Virtual PCD 00 00' during key generation") !=
        std::string::npos);
  const json orders = f.orders();
  const json& order = newest_order(orders);
  CHECK(order["status"] == "failed");
  CHECK(order["error_message"].get<std::string>().find("removed") != std::string::npos);
  f.faults.clear();
  CHECK(f.card_objects() == before);
}

TEST_CASE("a card lost while the certificate is written fails the order and deletes the key") {
  EnrollFixture f;
  f.stack.insert_card();
  f.faults.set("fail C_CreateObject CKR_DEVICE_REMOVED\n");
  auto result = f.enroll();
  INFO(result.output);
  CHECK(result.exit_code == 1);
  CHECK(result.output.find("CKR_DEVICE_REMOVED") != std::string::npos);
  f.faults.clear();
  const json orders = f.orders();
  const json& order = newest_order(orders);
  CHECK(order["status"] == "failed");
  const std::string objects = f.card_objects();
  CHECK(objects.find("Private Key Object") == std::string::npos);
  CHECK(objects.find("Certificate Object") == std::string::npos);
  // Nothing was recorded: the inventory holds only the two CA certificates.
  int code = 0;
  std::string progress;
  auto list = f.signet_json("cert list", code, progress);
  REQUIRE(code == 0);
  CHECK(list.dump().find("Ada Lovelace") == std::string::npos);
}

TEST_CASE("card pin change sets a new PIN and refuses a wrong one") {
  EnrollFixture f;
  f.stack.insert_card();
  const std::string new_pin = f.path("new.pin");
  EnrollFixture::write_secret(new_pin, "246810");
  auto changed =
      f.signet("card pin change --card-pin-file " + f.pin_file() + " --new-pin-file " + new_pin);
  INFO(changed.output);
  REQUIRE(changed.exit_code == 0);
  CHECK(changed.output.find("PIN changed") != std::string::npos);
  CHECK(f.card_tool("--list-objects", "246810").exit_code == 0);
  CHECK(f.card_tool("--list-objects", kCardPin).exit_code != 0);

  // The old PIN no longer works for another change; the counters are shown first.
  auto wrong =
      f.signet("card pin change --card-pin-file " + f.pin_file() + " --new-pin-file " + new_pin);
  INFO(wrong.output);
  CHECK(wrong.exit_code == 1);
  CHECK(wrong.output.find("PIN counters") != std::string::npos);
  CHECK(wrong.output.find("incorrect") != std::string::npos);
  CHECK(f.signet("audit list").output.find("card.pin_changed") != std::string::npos);
}

TEST_CASE("card pin unblock sets a new PIN with the PUK; a locked card is refused until then") {
  EnrollFixture f;
  f.stack.insert_card();
  f.faults.set("pin locked\n");
  const std::string new_pin = f.path("new.pin");
  EnrollFixture::write_secret(new_pin, "135790");
  auto refused =
      f.signet("card pin change --card-pin-file " + f.pin_file() + " --new-pin-file " + new_pin);
  INFO(refused.output);
  CHECK(refused.exit_code == 1);
  CHECK(refused.output.find("LOCKED") != std::string::npos);
  CHECK(refused.output.find("signet card pin unblock") != std::string::npos);

  const std::string so_pin = f.path("so.pin");
  EnrollFixture::write_secret(so_pin, kCardSoPin);
  // The PUK and the new PIN on standard input, one line each.
  auto unblocked =
      test::run_command("printf '%s\\n%s\\n' " + std::string(kCardSoPin) + " 135790 | " +
                        signet_binary() + " card pin unblock --pin-stdin");
  INFO(unblocked.output);
  CHECK(unblocked.exit_code == 0);
  CHECK(unblocked.output.find("PIN unblocked") != std::string::npos);
  f.faults.clear();
  CHECK(f.card_tool("--list-objects", "135790").exit_code == 0);

  // A wrong PUK is refused.
  const std::string wrong = f.path("wrong.pin");
  EnrollFixture::write_secret(wrong, "00000000");
  auto bad = f.signet("card pin unblock --so-pin-file " + wrong + " --new-pin-file " + new_pin);
  INFO(bad.output);
  CHECK(bad.exit_code == 1);
  CHECK(bad.output.find("security officer PIN") != std::string::npos);
}

TEST_CASE("card renew keeps the card key and replaces the certificate object") {
  EnrollFixture f;
  f.stack.insert_card();
  const json first = f.enroll_json();
  const std::string old_serial = first["certificate"]["serial"];
  int code = 0;
  std::string progress;
  const json renewed = f.signet_json(
      "card renew " + old_serial + " --card-pin-file " + f.pin_file(), code, progress);
  INFO(progress);
  REQUIRE(code == 0);
  CHECK(renewed["key_uri"] == first["key_uri"]);
  CHECK(renewed["order"]["kind"] == "renew");
  const std::string new_serial = renewed["certificate"]["serial"];
  CHECK(new_serial != old_serial);
  const std::string id = key_id_hex(renewed["key_uri"]);
  CHECK(f.card_certificate(id) == f.inventory_certificate(new_serial));
  const std::string objects = f.card_objects();
  CHECK(count(objects, "Private Key Object") == 1);
  CHECK(count(objects, "Certificate Object") == 3);  // the new leaf and the chain
  auto verified = f.openssl_verify(renewed["pem"]);
  INFO(verified.output);
  CHECK(verified.exit_code == 0);
}

TEST_CASE("card rekey --revoke-previous revokes the old certificate and removes its objects") {
  EnrollFixture f;
  f.stack.insert_card();
  const json first = f.enroll_json("--key ec-p256");
  const std::string old_serial = first["certificate"]["serial"];
  const std::string old_id = key_id_hex(first["key_uri"]);
  int code = 0;
  std::string progress;
  const json rekeyed =
      f.signet_json("card rekey " + old_serial +
                        " --key ec-p384 --revoke-previous --card-pin-file " + f.pin_file(),
                    code, progress);
  INFO(progress);
  REQUIRE(code == 0);
  CHECK(rekeyed["order"]["kind"] == "rekey");
  CHECK(rekeyed["certificate"]["key_algorithm"] == "ec-p384");
  const std::string new_id = key_id_hex(rekeyed["key_uri"]);
  CHECK(new_id != old_id);

  auto old = f.signet_json("cert show " + old_serial, code, progress);
  REQUIRE(code == 0);
  CHECK(old["status"] == "revoked");
  CHECK(old.dump().find("superseded") != std::string::npos);

  const std::string objects = f.card_objects();
  INFO(objects);
  CHECK(count(objects, "Private Key Object") == 1);
  CHECK(objects.find("ID:         " + old_id) == std::string::npos);
  CHECK(objects.find("ID:         " + new_id) != std::string::npos);
  CHECK(f.card_certificate(new_id) ==
        f.inventory_certificate(rekeyed["certificate"]["serial"].get<std::string>()));
}
