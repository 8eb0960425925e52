// `signet card list` and `signet card watch` as an operator runs them, against pcscd with the
// virtual reader and card (pcsc_stack.h); the card's ATR is mapped (SIGNET_ATR_MAP) to the
// fault module in front of a SoftHSM token whose slot is named after the virtual reader.
#include <catch2/catch.hpp>

#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/integration/token/pcsc_stack.h"
#include "tests/support/fault_pkcs11/fault_fixture.h"
#include "tests/support/softhsm_token.h"

using namespace signet;
using nlohmann::json;
using test::FaultInjection;
using test::PcscStack;
using test::SoftHsmToken;

namespace {

std::string signet_binary() {
  const char* dir = std::getenv("SIGNET_BINARY_DIR");
  return std::string(dir ? dir : ".") + "/appliance/signet";
}

// The card stack, a SoftHSM token standing in for the card, and an ATR map pointing at it.
struct CardCliFixture {
  PcscStack stack;
  FaultInjection faults;
  SoftHsmToken softhsm{"card-1"};
  std::string map_path;

  CardCliFixture() {
    faults.set("slot_description Virtual PCD 00 00\n");
    map_path = (stack.dir() / "atr-map.json").string();
    const json rule = {{"name", "virtual card"},
                       {"atr", "3B:95:13:81:01:80:73:FF:01:00:0B"},
                       {"module", faults.module_path()}};
    test::write_text(map_path, json{{"cards", json::array({rule})}}.dump());
    // signet inherits these (with SOFTHSM2_CONF and the fault module's settings).
    ::setenv("SIGNET_STATE", (stack.dir() / "state").c_str(), 1);
    ::setenv("SIGNET_ATR_MAP", map_path.c_str(), 1);
  }
  ~CardCliFixture() {
    ::unsetenv("SIGNET_STATE");
    ::unsetenv("SIGNET_ATR_MAP");
  }
  CardCliFixture(const CardCliFixture&) = delete;
  CardCliFixture& operator=(const CardCliFixture&) = delete;

  test::CommandResult signet(const std::string& arguments) const {
    return test::run_command(signet_binary() + " " + arguments);
  }
};

const json* entry_for(const json& list, const std::string& reader) {
  for (const auto& item : list) {
    if (item["reader"] == reader) return &item;
  }
  return nullptr;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<json> json_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<json> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto parsed = json::parse(line, nullptr, false);
    if (!parsed.is_discarded()) out.push_back(parsed);
  }
  return out;
}

}  // namespace

TEST_CASE("signet card list shows readers, the card's ATR, module and token") {
  CardCliFixture f;
  auto empty = f.signet("--json card list");
  INFO(empty.output);
  REQUIRE(empty.exit_code == 0);
  auto list = json::parse(empty.output);
  const json* reader = entry_for(list, PcscStack::kReader);
  REQUIRE(reader != nullptr);
  CHECK((*reader)["card_present"] == false);
  CHECK((*reader)["atr"].is_null());
  CHECK((*reader)["token"].is_null());
  CHECK(entry_for(list, PcscStack::kSecondReader) != nullptr);

  f.stack.insert_card();
  auto with_card = f.signet("--json card list");
  INFO(with_card.output);
  REQUIRE(with_card.exit_code == 0);
  list = json::parse(with_card.output);
  reader = entry_for(list, PcscStack::kReader);
  REQUIRE(reader != nullptr);
  CHECK((*reader)["card_present"] == true);
  CHECK((*reader)["atr"] == PcscStack::kVirtualCardAtr);
  CHECK((*reader)["module"]["name"] == "virtual card");
  CHECK((*reader)["module"]["path"] == f.faults.module_path());
  CHECK((*reader)["token"]["label"] == "card-1");
  CHECK((*reader)["token"]["serial"] == f.softhsm.serial());
  CHECK((*reader)["token"]["model"] == "SoftHSM v2");
  CHECK((*reader)["problem"].is_null());

  auto text = f.signet("card list");
  INFO(text.output);
  REQUIRE(text.exit_code == 0);
  CHECK(text.output.find("READER") != std::string::npos);
  CHECK(text.output.find(PcscStack::kVirtualCardAtr) != std::string::npos);
  CHECK(text.output.find("'card-1' serial " + f.softhsm.serial()) != std::string::npos);
}

TEST_CASE("signet card list without pcscd says so") {
  CardCliFixture f;
  f.stack.stop_pcscd();
  auto result = f.signet("card list");
  INFO(result.output);
  CHECK(result.exit_code == 1);
  CHECK(result.output.find("signet: error: pcscd is not running") != std::string::npos);
}

TEST_CASE("signet card list refuses a malformed ATR map") {
  CardCliFixture f;
  test::write_text(f.map_path, R"({"cards": [{"atr": "3B:ZZ", "module": "/m.so"}]})");
  auto result = f.signet("card list");
  INFO(result.output);
  CHECK(result.exit_code == 1);
  CHECK(result.output.find("'Z' is neither a hex digit") != std::string::npos);
}

TEST_CASE("signet card watch prints events as they happen and exits after --count") {
  CardCliFixture f;
  const std::string out = (f.stack.dir() / "watch.out").string();
  test::CommandResult watched;
  // timeout(1) bounds the command should the test fail to produce the events.
  std::thread runner([&] {
    watched = test::run_command("timeout 120 " + signet_binary() +
                                " --json card watch --count 4 > " + out);
  });
  // Two readers at start: the watcher is watching once they are printed.
  const bool ready = PcscStack::wait_until([&] { return json_lines(out).size() >= 2; });
  bool inserted_seen = false;
  if (ready) {
    f.stack.insert_card();
    // Generous: on a loaded machine the watcher also opens the PKCS#11 module to name the
    // card's token before it prints the event. Removing the card before that is printed would
    // leave the watcher waiting for an event that never comes.
    inserted_seen = PcscStack::wait_until([&] { return json_lines(out).size() >= 3; },
                                          std::chrono::seconds(60));
    f.stack.remove_card();
  }
  runner.join();
  INFO(watched.output);
  INFO("watch printed:\n" << read_file(out));
  CHECK(inserted_seen);
  REQUIRE(ready);
  CHECK(watched.exit_code == 0);
  auto lines = json_lines(out);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0]["event"] == "reader-added");
  CHECK(lines[0]["initial"] == true);
  CHECK(lines[1]["event"] == "reader-added");
  CHECK(lines[2]["event"] == "card-inserted");
  CHECK(lines[2]["reader"] == PcscStack::kReader);
  CHECK(lines[2]["atr"] == PcscStack::kVirtualCardAtr);
  CHECK(lines[2]["initial"] == false);
  CHECK(lines[2]["token"]["label"] == "card-1");
  CHECK(lines[2]["token"]["serial"] == f.softhsm.serial());
  CHECK(lines[3]["event"] == "card-removed");
  CHECK(lines[3]["reader"] == PcscStack::kReader);
}

TEST_CASE("signet card watch ends cleanly on SIGTERM and reports a pcscd restart") {
  CardCliFixture f;
  const std::string out = (f.stack.dir() / "watch.out").string();
  const std::string pid_file = (f.stack.dir() / "watch.pid").string();
  test::CommandResult watched;
  std::atomic<bool> done{false};
  std::thread runner([&] {
    // sh -c: its $$ is the process that execs signet (run_command's own shell is another).
    watched = test::run_command("sh -c 'echo $$ > " + pid_file + "; exec " + signet_binary() +
                                " card watch > " + out + " 2>&1'");
    done = true;
  });
  auto text = [&] { return std::filesystem::exists(out) ? test::read_text(out) : std::string(); };
  const bool ready = PcscStack::wait_until(
      [&] { return text().find("reader-added 'Virtual PCD 00 01'") != std::string::npos; });
  bool restarted = false;
  if (ready) {
    f.stack.stop_pcscd();
    f.stack.start_pcscd();
    restarted =
        PcscStack::wait_until([&] { return text().find("service-restored") != std::string::npos; });
    PcscStack::wait_until([&] {
      const auto t = text();
      return t.rfind("reader-added 'Virtual PCD 00 01'") > t.find("service-restored");
    });
  }
  // The inner shell execs signet: its pid is the watcher's.
  std::ifstream pid_in(pid_file);
  pid_t pid = 0;
  pid_in >> pid;
  // No REQUIRE before the join: a throw with the thread running would terminate the test.
  if (pid > 0) ::kill(pid, SIGTERM);
  const bool ended = pid > 0 && PcscStack::wait_until([&] { return done.load(); });
  if (!ended && pid > 0) ::kill(pid, SIGKILL);
  runner.join();
  const std::string printed = text();
  INFO(printed);
  REQUIRE(ready);
  REQUIRE(pid > 0);
  CHECK(restarted);
  CHECK(ended);
  CHECK(watched.exit_code == 0);
  CHECK(printed.find("reader-added 'Virtual PCD 00 00' (present at start)") != std::string::npos);
  CHECK(printed.find("service-lost") != std::string::npos);
}
