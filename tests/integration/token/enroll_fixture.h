// EnrollFixture: the appliance and a card for `signet card ...` tests. pcscd with the
// virtual reader and card (pcsc_stack.h) says whether the card is there; the card's ATR is
// mapped to the fault module (fault_fixture.h) in front of a SoftHSM token "card-1" in the
// state directory's SoftHSM store, beside the appliance's own token "signet" that holds the CA
// keys. The ATR map entry's type is the constructor's `type` ("" = generic). Helpers read the
// card with pkcs11-tool (OpenSC), an independent PKCS#11 client, and verify with openssl.
// Not thread-safe; one per test case.
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/token/pcsc_stack.h"
#include "tests/support/fault_pkcs11/fault_fixture.h"

namespace signet::test::enroll {

using nlohmann::json;

inline constexpr const char* kSoftHsm = "/usr/lib/softhsm/libsofthsm2.so";
inline constexpr const char* kCardPin = "123456";
inline constexpr const char* kCardSoPin = "87654321";

inline std::string signet_binary() {
  const char* dir = std::getenv("SIGNET_BINARY_DIR");
  return std::string(dir ? dir : ".") + "/appliance/signet";
}

inline std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The appliance (state directory, token "signet", root and issuing CA, profile "holder") and
// the card (token "card-1" behind the fault module, mapped by the virtual card's ATR).
class EnrollFixture {
 public:
  PcscStack stack;
  FaultInjection faults{false};

  explicit EnrollFixture(const std::string& type = "") {
    const auto dir = stack.dir().path();
    state_ = (dir / "state").string();
    map_ = (dir / "atr-map.json").string();
    pin_ = (dir / "card.pin").string();
    ::unsetenv("SOFTHSM2_CONF");
    ::setenv("SIGNET_STATE", state_.c_str(), 1);
    ::setenv("SIGNET_TOKEN", "signet", 1);
    ::setenv("SIGNET_PIN_FILE", (state_ + "/pins/signet.user.pin").c_str(), 1);
    ::setenv("SIGNET_ATR_MAP", map_.c_str(), 1);
    require_ok(signet("token init --label signet"));
    require_ok(test::run_command("env SOFTHSM2_CONF=" + softhsm_conf() +
                                 " softhsm2-util --init-token --free --label card-1 --pin " +
                                 kCardPin + " --so-pin " + kCardSoPin));
    write_secret(pin_, kCardPin);
    write_map(type);
    require_ok(
        signet("ca create-root --name root --subject \"CN=Card Root,O=Signet Tests\" "
               "--key ec-p384"));
    require_ok(
        signet("ca create-intermediate --name issuing --parent root --subject "
               "\"CN=Card Issuing,O=Signet Tests\" --key ec-p256 --path-length 0"));
    require_ok(
        signet("profile create --ca issuing --name holder --key-algorithms "
               "ec-p256,ec-p384,rsa-2048 --allow-email true --upn-realms corp.example "
               "--key-usage digitalSignature "
               "--eku clientAuth,emailProtection"));
    require_ok(signet("ca export root --out " + path("root.pem")));
    require_ok(signet("ca export issuing --out " + path("issuing.pem")));
  }
  ~EnrollFixture() {
    for (const char* name : {"SIGNET_STATE", "SIGNET_TOKEN", "SIGNET_PIN_FILE", "SIGNET_ATR_MAP"}) {
      ::unsetenv(name);
    }
  }
  EnrollFixture(const EnrollFixture&) = delete;
  EnrollFixture& operator=(const EnrollFixture&) = delete;

  // Maps the virtual card's ATR to the fault module with card type `type` ("" = generic).
  void write_map(const std::string& type) const {
    json rule = {{"name", "virtual card"},
                 {"atr", "3B:95:13:81:01:80:73:FF:01:00:0B"},
                 {"module", faults.module_path()},
                 {"token", "card-1"}};
    if (!type.empty()) rule["type"] = type;
    test::write_text(map_, json{{"cards", json::array({rule})}}.dump());
  }

  std::string path(const std::string& name) const { return (stack.dir().path() / name).string(); }
  std::string softhsm_conf() const { return state_ + "/softhsm/softhsm2.conf"; }
  const std::string& pin_file() const { return pin_; }

  static void require_ok(const CommandResult& result) {
    INFO(result.output);
    REQUIRE(result.exit_code == 0);
  }
  static void write_secret(const std::string& file, const std::string& secret) {
    std::filesystem::remove(file);
    test::write_text(file, secret + "\n", 0600);
  }

  CommandResult signet(const std::string& arguments) const {
    return test::run_command(signet_binary() + " " + arguments);
  }
  // `signet --json ARGS` with the progress (stderr) kept apart in `progress`.
  json signet_json(const std::string& arguments, int& exit_code, std::string& progress) const {
    const std::string err = path("stderr.txt");
    auto result = test::run_command(signet_binary() + " --json " + arguments + " 2>" + err);
    exit_code = result.exit_code;
    progress = std::filesystem::exists(err) ? test::read_text(err) : "";
    return json::parse(result.output, nullptr, false);
  }
  CommandResult enroll(const std::string& extra = "") const {
    return signet(
        "card enroll --profile holder --subject \"CN=Ada Lovelace,O=Example\" --san "
        "email:ada@example.com --card-pin-file " +
        pin_ + " " + extra);
  }
  json enroll_json(const std::string& extra = "") const {
    int code = 0;
    std::string progress;
    auto j = signet_json(
        "card enroll --profile holder --subject \"CN=Ada Lovelace,O=Example\" "
        "--san email:ada@example.com --card-pin-file " +
            pin_ + " " + extra,
        code, progress);
    INFO(progress);
    REQUIRE(code == 0);
    REQUIRE(j.is_object());
    return j;
  }
  // pkcs11-tool against the card's token (logged in, to see private objects).
  CommandResult card_tool(const std::string& arguments, const std::string& pin = kCardPin) const {
    return test::run_command("env SOFTHSM2_CONF=" + softhsm_conf() + " pkcs11-tool --module " +
                             kSoftHsm + " --token-label card-1 --login --pin " + pin + " " +
                             arguments);
  }
  std::string card_objects() const {
    auto listed = card_tool("--list-objects");
    INFO(listed.output);
    REQUIRE(listed.exit_code == 0);
    return listed.output;
  }
  // The certificate with CKA_ID `id_hex` as the card holds it.
  base::Bytes card_certificate(const std::string& id_hex) const {
    const std::string out = path("card-cert.der");
    std::filesystem::remove(out);
    auto read = card_tool("--read-object --type cert --id " + id_hex + " -o " + out);
    INFO(read.output);
    REQUIRE(read.exit_code == 0);
    return test::read_file(out);
  }
  base::Bytes inventory_certificate(const std::string& serial) const {
    const std::string out = path("inventory-cert.der");
    std::filesystem::remove(out);
    require_ok(signet("cert export " + serial + " --format der --out " + out));
    return test::read_file(out);
  }
  CommandResult openssl_verify(const std::string& pem) const {
    const std::string file = path("leaf.pem");
    test::write_text(file, pem);
    return test::run_command("openssl verify -CAfile " + path("root.pem") + " -untrusted " +
                             path("issuing.pem") + " -purpose smimesign " + file);
  }
  json orders() const {
    int code = 0;
    std::string progress;
    auto j = signet_json("order list", code, progress);
    REQUIRE(code == 0);
    return j;
  }

 private:
  std::string state_, map_, pin_;
};

// "pkcs11:...;id=%01%02...;..." -> "0102...".
inline std::string key_id_hex(const std::string& uri) {
  const auto start = uri.find("id=");
  REQUIRE(start != std::string::npos);
  std::string hex;
  for (auto i = start + 3; i < uri.size() && uri[i] != ';' && uri[i] != '?'; ++i) {
    if (uri[i] != '%') hex += static_cast<char>(std::tolower(uri[i]));
  }
  return hex;
}

inline const json& newest_order(const json& list) {
  REQUIRE(list.is_array());
  REQUIRE(!list.empty());
  const json* newest = &list.front();
  for (const auto& o : list) {
    if (o["id"].get<std::uint64_t>() > (*newest)["id"].get<std::uint64_t>()) newest = &o;
  }
  return *newest;
}

}  // namespace signet::test::enroll
