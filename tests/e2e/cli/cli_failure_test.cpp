// Every bad input gets one clear sentence and a non-zero exit, and nothing is half-stored.
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/e2e/cli/cli_fixture.h"

using signet::test::CliFixture;
using signet::test::CommandResult;
using signet::test::run_command;

namespace {

// Fails with the message naming `needle`, and the message is a single "signet: error:" line.
void require_refused(const CommandResult& result, const std::string& needle) {
  INFO(result.output);
  CHECK(result.exit_code != 0);
  CHECK(result.output.find("signet: error: ") != std::string::npos);
  CHECK(result.output.find(needle) != std::string::npos);
}

std::size_t certificate_count(const CliFixture& f) {
  auto listed = f.signet("--json cert list --limit 1000");
  INFO(listed.output);
  REQUIRE(listed.exit_code == 0);
  return nlohmann::json::parse(listed.output)["items"].size();
}

}  // namespace

TEST_CASE("malformed, truncated and forged CSRs are refused with what is wrong") {
  CliFixture f;
  f.create_root_and_issuing();
  const auto before = certificate_count(f);
  auto good = f.make_csr("good", "ec -pkeyopt ec_paramgen_curve:P-256", "/CN=good.example.test");

  signet::test::write_text(f.path("garbage.csr"), "this is not a certificate request\n");
  require_refused(f.signet("cert issue --ca issuing --csr " + f.path("garbage.csr")), "request");

  REQUIRE(run_command("openssl req -in " + good + " -outform der -out " + f.path("good.der"))
              .exit_code == 0);
  REQUIRE(
      run_command("head -c 60 " + f.path("good.der") + " > " + f.path("truncated.der")).exit_code ==
      0);
  require_refused(f.signet("cert issue --ca issuing --csr " + f.path("truncated.der")), "request");

  // Flip the last byte of the signature: the request no longer proves possession of its key.
  REQUIRE(signet::test::python(
              "import sys; d = bytearray(open(sys.argv[1], \"rb\").read()); d[-1] ^= 1; "
              "open(sys.argv[2], \"wb\").write(d)",
              f.path("good.der") + " " + f.path("forged.der"))
              .exit_code == 0);
  require_refused(f.signet("cert issue --ca issuing --csr " + f.path("forged.der")),
                  "signature does not verify");
  require_refused(f.signet("cert issue --ca issuing --csr " + f.path("missing.csr")),
                  "missing.csr");
  CHECK(certificate_count(f) == before);
}

TEST_CASE("forbidden key sizes and curves are refused, every violation named") {
  CliFixture f;
  f.create_root_and_issuing();
  auto small = f.make_csr("small", "rsa:1024", "/CN=small.example.test");
  require_refused(f.signet("cert issue --ca issuing --csr " + small), "1024 bits is too small");
  auto k1 = f.make_csr("k1", "ec -pkeyopt ec_paramgen_curve:secp256k1", "/CN=k1.example.test");
  require_refused(f.signet("cert issue --ca issuing --csr " + k1), "secp256k1");
  // Two violations at once are both reported.
  auto both = f.make_csr("both", "rsa:1024", "/CN=both.example.test");
  auto result = f.signet("cert issue --ca issuing --csr " + both + " --validity-days 99999");
  require_refused(result, "too small");
  CHECK(result.output.find("out of range") != std::string::npos);
}

TEST_CASE("unknown CAs, duplicate CA names and bad DNs or algorithms are refused") {
  CliFixture f;
  f.create_root_and_issuing();
  auto csr = f.make_csr("x", "ec -pkeyopt ec_paramgen_curve:P-256", "/CN=x.example.test");
  require_refused(f.signet("cert issue --ca nosuch --csr " + csr), "no CA named 'nosuch'");
  require_refused(f.signet("ca create-root --name root --subject CN=Again --key ec-p256"),
                  "already exists");
  require_refused(f.signet("ca create-root --name r2 --subject \"XX=1,CN=a\" --key ec-p256"), "XX");
  require_refused(f.signet("ca create-root --name r3 --subject CN=r3 --key rsa-1024"), "rsa-1024");
  require_refused(f.signet("ca create-root --name \"bad/name\" --subject CN=x --key ec-p256"),
                  "not allowed");
  require_refused(f.signet("ca show nosuch"), "nosuch");
  require_refused(f.signet("cert show 0123456789abcdef"), "no certificate");
  // The failed attempts left no CA and no key behind.
  auto cas = nlohmann::json::parse(f.signet("--json ca list").output);
  CHECK(cas.size() == 2);
}

TEST_CASE("PIN problems: wrong PIN, PIN file readable by others, no terminal") {
  CliFixture f;
  signet::test::write_text(f.path("wrong.pin"), "00000000\n", 0600);
  auto wrong = f.signet("ca create-root --name r --subject CN=r --key ec-p256",
                        {"SIGNET_PIN_FILE=" + f.path("wrong.pin")});
  require_refused(wrong, "PIN");
  CHECK(wrong.output.find("00000000") == std::string::npos);

  signet::test::write_text(f.path("open.pin"), signet::test::read_text(f.pin_file()), 0644);
  require_refused(f.signet("ca create-root --name r --subject CN=r --key ec-p256",
                           {"SIGNET_PIN_FILE=" + f.path("open.pin")}),
                  "chmod 600");
  // No PIN file and no terminal (setsid detaches from any controlling terminal).
  require_refused(f.shell("setsid -w " + signet::test::signet_binary() +
                              " ca create-root --name r --subject CN=r --key ec-p256 < /dev/null",
                          {"-u SIGNET_PIN_FILE"}),
                  "terminal");
  CHECK(nlohmann::json::parse(f.signet("--json ca list").output).empty());
}

TEST_CASE("a missing module, an unknown token and an unknown key are named") {
  CliFixture f;
  require_refused(f.signet("--module /nonexistent/libpkcs11.so ca create-root --name r --subject "
                           "CN=r --key ec-p256"),
                  "/nonexistent/libpkcs11.so");
  require_refused(f.signet("--module /nonexistent/libpkcs11.so token list"),
                  "/nonexistent/libpkcs11.so");
  require_refused(
      f.signet("--token nosuchtoken ca create-root --name r --subject CN=r --key ec-p256"),
      "nosuchtoken");
  require_refused(
      f.signet(
          "ca create-root --name r --subject CN=r --key-uri \"pkcs11:token=signet;object=nokey\""),
      "nokey");
  require_refused(f.signet("ca create-root --name r --subject CN=r --key-uri "
                           "\"pkcs11:token=signet;object=x;pin-value=1234\""),
                  "PIN");
}

TEST_CASE("an unwritable state directory is reported with its path") {
  CliFixture f(false);
  signet::test::write_text(f.path("plainfile"), "x");
  // A path below a regular file cannot be created, even by root.
  require_refused(
      f.signet("token init --label t", {"SIGNET_STATE=" + f.path("plainfile") + "/state"}),
      "plainfile");
  require_refused(f.signet("cert list", {"SIGNET_STATE=" + f.path("plainfile") + "/state"}),
                  "plainfile");
}

TEST_CASE("a full disk refuses the issuance and loses nothing already committed") {
  CliFixture f;
  f.create_root_and_issuing();
  std::vector<std::string> csrs;
  for (int i = 0; i < 3; ++i) {
    csrs.push_back(f.make_csr("d" + std::to_string(i), "ec -pkeyopt ec_paramgen_curve:P-256",
                              "/CN=d" + std::to_string(i) + ".example.test"));
  }
  REQUIRE(f.signet("cert issue --ca issuing --csr " + csrs[0]).exit_code == 0);
  const auto before = certificate_count(f);
  // The store's data file is larger than 1 KiB already: any write that extends it fails
  // with EFBIG, as a full disk would fail with ENOSPC.
  auto full = f.shell("ulimit -f 1; trap \"\" XFSZ; for i in 1 2 3 4 5 6 7 8; do " +
                      signet::test::signet_binary() + " cert issue --ca issuing --csr " + csrs[1] +
                      " >/dev/null || exit 1; done");
  INFO(full.output);
  CHECK(full.exit_code != 0);
  CHECK(full.output.find("signet: error: ") != std::string::npos);
  CHECK(certificate_count(f) >= before);
  REQUIRE(f.signet("cert issue --ca issuing --csr " + csrs[2]).exit_code == 0);
  auto listed = nlohmann::json::parse(f.signet("--json cert list --limit 1000").output);
  for (const auto& item : listed["items"]) {
    auto shown = f.signet("cert show " + item["serial"].get<std::string>() + " --ca " +
                          item["ca"].get<std::string>());
    CHECK(shown.exit_code == 0);
  }
}

TEST_CASE("a process killed mid-issuance leaves whole certificates or none") {
  CliFixture f;
  f.create_root_and_issuing();
  auto csr = f.make_csr("k", "ec -pkeyopt ec_paramgen_curve:P-256", "/CN=k.example.test");
  // Issue in a loop and kill -9 the loop's current signet at several points in time.
  for (int round = 0; round < 4; ++round) {
    auto loop = f.shell(
        "(while true; do " + signet::test::signet_binary() + " cert issue --ca issuing --csr " +
        csr + " >/dev/null 2>&1; done) & loop=$!; sleep 0." + std::to_string(3 + round * 2) +
        "; pkill -9 -f \"[a]ppliance/signet cert issue\"; kill -9 $loop; wait $loop 2>/dev/null; "
        "pkill -9 -f \"[a]ppliance/signet cert issue\"; true");
    INFO(loop.output);
  }
  // The next start is clean: every listed certificate is whole, parses and verifies.
  auto exported = f.signet("ca export root --out " + f.path("root.pem"));
  INFO(exported.output);
  REQUIRE(exported.exit_code == 0);
  REQUIRE(f.signet("ca export issuing --out " + f.path("issuing.pem")).exit_code == 0);
  auto listed =
      nlohmann::json::parse(f.signet("--json cert list --limit 1000 --ca issuing").output);
  for (const auto& item : listed["items"]) {
    auto serial = item["serial"].get<std::string>();
    REQUIRE(f.signet("cert export " + serial + " --out " + f.path("k.pem")).exit_code == 0);
    auto verify = run_command("openssl verify -x509_strict -CAfile " + f.path("root.pem") +
                              " -untrusted " + f.path("issuing.pem") + " " + f.path("k.pem"));
    INFO(verify.output);
    CHECK(verify.exit_code == 0);
  }
  REQUIRE(f.signet("cert issue --ca issuing --csr " + csr).exit_code == 0);
}

TEST_CASE("a SoftHSM token file torn by a killed process is restored from Signet's copy") {
  CliFixture f;
  f.create_root_and_issuing();  // every command so far refreshed the verified copy
  // What SoftHSM leaves when killed while it rewrites token.object at C_Login: a short file.
  auto torn =
      f.shell("for t in " + f.state() +
              "/softhsm/tokens/*/token.object; do head -c 100 $t > $t.part && mv $t.part $t; done");
  INFO(torn.output);
  REQUIRE(torn.exit_code == 0);
  auto csr = f.make_csr("t", "ec -pkeyopt ec_paramgen_curve:P-256", "/CN=t.example.test");
  auto issued = f.signet("cert issue --ca issuing --csr " + csr);
  INFO(issued.output);
  CHECK(issued.exit_code == 0);
  CHECK(issued.output.find("restored Signet's verified copy") != std::string::npos);
  // Restored once; the next command has nothing to say.
  auto again = f.signet("token list");
  CHECK(again.exit_code == 0);
  CHECK(again.output.find("warning") == std::string::npos);
}
