// RA profiles (hard-fail and soft-fail rules, versions, disabling), orders and their failures,
// alerts, resubmission, and the hash-chained audit log, as an operator drives them.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/e2e/cli/cli_checks.h"

using namespace signet::test;

namespace {

std::size_t count_actions(const CliFixture& f, const std::string& action) {
  auto events = json_of(f.signet("--json audit list --limit 10000 --action " + action));
  std::size_t n = 0;
  for (const auto& e : events["items"]) n += e["action"] == action ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("a hard-fail profile refuses with the rule named; a soft-fail one warns; both audited") {
  CliFixture f;
  make_cas(f);
  require_ok(
      f.signet("profile create --ca issuing --name strict --description \"EC only\" "
               "--key-algorithms ec-p256,ec-p384 --dns-suffixes example.com "
               "--default-days 90 --max-days 397"));
  auto rsa = f.make_csr("rsa", "rsa:2048", "/CN=a.example.com");
  auto refused = f.signet("cert issue --profile strict --csr " + rsa);
  require_refused(refused, "key_algorithms");
  CHECK(refused.output.find("rsa-2048") != std::string::npos);
  CHECK(refused.output.find("issuing/strict") != std::string::npos);
  CHECK(count_actions(f, "certificate.policy_hard_fail") == 1);

  // Every violation is named, not just the first.
  auto both = f.make_csr("both", "rsa:2048", "/CN=b.other.test");
  auto two = f.signet("cert issue --profile issuing/strict --csr " + both);
  require_refused(two, "key_algorithms");
  CHECK(two.output.find("sans") != std::string::npos);

  // The same rules as soft-fail, from a file: the request proceeds and says what it broke.
  write_text(f.path("lenient.json"),
             R"({"name": "lenient", "ca": "issuing", "description": "warns only",
                 "key_algorithms": {"allowed": ["ec-p256"], "mode": "soft"},
                 "sans": {"dns_suffixes": ["example.com"], "allow_ip": false, "mode": "soft"}})");
  auto created = json_of(f.signet("--json profile create --file " + f.path("lenient.json")));
  CHECK(created["version"] == 1);
  auto issued = json_of(f.signet("--json cert issue --profile lenient --csr " + both));
  CHECK(issued["warnings"].size() >= 2);
  CHECK(issued["order"]["warnings"] == issued["warnings"]);
  CHECK(issued["profile"] == "issuing/lenient");
  auto human = f.signet("cert issue --profile lenient --csr " + both + " --out " + f.path("w.pem"));
  require_ok(human);
  CHECK(human.output.find("Warning (soft-fail):") != std::string::npos);
  CHECK(count_actions(f, "certificate.policy_soft_fail") == 2);
  require_ok(openssl_verify(f, f.path("w.pem"), f.path("issuing.pem")));

  // Key-on-token with an algorithm the profile forbids is refused before a key is made.
  require_refused(f.signet("cert issue --profile strict --key-on-token --key rsa-2048 "
                           "--subject CN=k.example.com"),
                  "rsa-2048");
  CHECK(json_of(f.signet("--json token keys --orphans")).empty());
}

TEST_CASE("profiles list, show, update to new versions and disable, and never alter issued ones") {
  CliFixture f;
  make_cas(f);
  auto listed = json_of(f.signet("--json profile list"));
  std::set<std::string> names;
  for (const auto& p : listed)
    names.insert(p["ca"].get<std::string>() + "/" + p["name"].get<std::string>());
  CHECK(names.count("issuing/default") == 1);
  CHECK(names.count("root/default") == 1);

  require_ok(f.signet("profile create --ca issuing --name web --eku serverAuth --max-days 397"));
  auto csr = f.make_csr("w", "ec -pkeyopt ec_paramgen_curve:P-256", "/CN=w.example.test");
  auto v1 = json_of(f.signet("--json cert issue --profile web --csr " + csr));
  CHECK(v1["profile_version"] == 1);

  auto updated =
      json_of(f.signet("--json profile update issuing/web --max-days 30 --default-days 20"));
  CHECK(updated["version"] == 2);
  CHECK(updated["validity"]["max_days"] == 30);
  auto shown = json_of(f.signet("--json profile show web"));
  CHECK(shown["version"] == 2);
  CHECK(shown["extended_key_usage"] == nlohmann::json::array({"serverAuth"}));
  // The file form round-trips: show --json, edit, update --file.
  shown["description"] = "edited";
  write_text(f.path("web.json"), shown.dump());
  auto from_file = json_of(f.signet("--json profile update web --file " + f.path("web.json")));
  CHECK(from_file["version"] == 3);
  CHECK(from_file["description"] == "edited");
  CHECK(json_of(f.signet("--json cert show " +
                         v1["serial"].get<std::string>()))["profile_version"] == 1);
  auto v3 = json_of(f.signet("--json cert issue --profile web --csr " + csr));
  CHECK(v3["profile_version"] == 3);
  CHECK(v3["days_until_expiry"].get<int>() <= 20);
  require_refused(f.signet("cert issue --profile web --csr " + csr + " --days 60"), "validity");

  auto disabled = json_of(f.signet("--json profile disable web"));
  CHECK(disabled["enabled"] == false);
  require_refused(f.signet("cert issue --profile web --csr " + csr), "disabled");
  auto human = f.signet("profile list --ca issuing");
  require_ok(human);
  CHECK(human.output.find("disabled") != std::string::npos);
  CHECK(count_actions(f, "profile.created") >= 3);  // root, issuing default, web
  CHECK(count_actions(f, "profile.updated") == 2);
  CHECK(count_actions(f, "profile.disabled") == 1);

  require_refused(f.signet("profile show nosuch"), "nosuch");
  require_refused(f.signet("profile create --ca issuing --name web"), "already");
  require_refused(f.signet("profile create --ca nosuch --name x"), "nosuch");
  require_refused(f.signet("profile create --ca issuing --name bad --key-algorithms rsa-1024"),
                  "rsa-1024");
  require_refused(f.signet("profile update web"), "nothing to change");
  write_text(f.path("broken.json"), R"({"name": "broken", "ca": "issuing", "colour": "red"})");
  require_refused(f.signet("profile create --file " + f.path("broken.json")), "colour");
}

TEST_CASE("a failed order is listed, raises an alert, and resubmits once the cause is fixed") {
  CliFixture f;
  make_cas(f);
  require_ok(f.signet("profile create --ca issuing --name ops"));
  require_ok(f.signet("profile disable issuing/ops"));
  auto csr = f.make_csr("o", "ec -pkeyopt ec_paramgen_curve:P-256", "/CN=o.example.test");
  require_refused(f.signet("cert issue --profile ops --csr " + csr), "disabled");

  auto failed = json_of(f.signet("--json order list --status failed"));
  REQUIRE(failed.size() == 1);
  const auto order_id = failed[0]["id"].get<std::uint64_t>();
  CHECK(failed[0]["kind"] == "issue");
  CHECK(failed[0]["common_name"] == "o.example.test");
  CHECK(failed[0]["error_message"].get<std::string>().find("disabled") != std::string::npos);
  auto shown = json_of(f.signet("--json order show " + std::to_string(order_id)));
  CHECK(shown["status"] == "failed");
  CHECK(shown["parameters"].is_object());
  auto alerts = json_of(f.signet("--json alert list"));
  REQUIRE(alerts.size() == 1);
  CHECK(alerts[0]["kind"] == "order.failed");
  CHECK(alerts[0]["object"] == "order:" + std::to_string(order_id));
  CHECK(count_actions(f, "order.failed") == 1);

  // Fix the cause, resubmit: a new order that names the one it retries.
  require_ok(f.signet("profile update issuing/ops --enabled true"));
  auto resubmitted = json_of(
      f.signet("--json order resubmit " + std::to_string(order_id) + " --out " + f.path("o.pem")));
  CHECK(resubmitted["order"]["status"] == "complete");
  CHECK(resubmitted["order"]["resubmitted_from"] == order_id);
  CHECK(resubmitted["common_name"] == "o.example.test");
  require_ok(openssl_verify(f, f.path("o.pem"), f.path("issuing.pem")));
  CHECK(json_of(f.signet("--json order list --status complete --kind issue")).size() == 1);
  require_refused(f.signet("order resubmit " + std::to_string(resubmitted["order_id"].get<int>())),
                  "failed");

  const auto alert_id = alerts[0]["id"].get<std::uint64_t>();
  require_ok(f.signet("alert ack " + std::to_string(alert_id)));
  CHECK(json_of(f.signet("--json alert list")).empty());
  auto all = json_of(f.signet("--json alert list --all"));
  REQUIRE(all.size() == 1);
  CHECK(all[0]["acknowledged"] == true);
  require_refused(f.signet("alert ack 999"), "999");
  require_refused(f.signet("order show 999"), "999");
}

TEST_CASE("a token error in the middle of an order fails it, names the cause, keeps nothing") {
  CliFixture f;
  make_cas(f);
  const auto keys_before = json_of(f.signet("--json token keys")).size();
  // The token to generate on does not exist: refused after the order was created.
  require_refused(f.signet("cert issue --ca issuing --key-on-token --token nosuchtoken "
                           "--subject CN=t.example.test"),
                  "nosuchtoken");
  // The key URI names no key on the token.
  require_refused(f.signet("cert issue --ca issuing --key-uri 'pkcs11:object=missing;type=private' "
                           "--subject CN=u.example.test"),
                  "missing");
  auto failed = json_of(f.signet("--json order list --status failed"));
  REQUIRE(failed.size() == 2);
  for (const auto& order : failed) {
    CHECK_FALSE(order["error_message"].get<std::string>().empty());
  }
  CHECK(json_of(f.signet("--json alert list")).size() == 2);
  CHECK(json_of(f.signet("--json token keys")).size() == keys_before);
  auto listed = json_of(f.signet("--json cert list --ca issuing"));
  CHECK(listed["items"].empty());
  require_ok(f.signet("audit verify"));
}

TEST_CASE("expiry scans raise one alert per certificate, and the audit chain verifies") {
  CliFixture f;
  make_cas(f);
  auto soon = f.make_csr("soon", "ec -pkeyopt ec_paramgen_curve:P-256", "/CN=soon.example.test");
  auto late = f.make_csr("late", "ec -pkeyopt ec_paramgen_curve:P-256", "/CN=late.example.test");
  require_ok(
      f.signet("cert issue --ca issuing --csr " + soon + " --days 10 --out " + f.path("soon.pem")));
  require_ok(f.signet("cert issue --ca issuing --csr " + late + " --days 200 --out " +
                      f.path("late.pem")));
  auto scan = json_of(f.signet("--json alert scan --days 30"));
  CHECK(scan["raised"] == 1);
  CHECK(scan["expiring"] == 1);
  auto again = json_of(f.signet("--json alert scan --days 30"));
  CHECK(again["raised"] == 0);  // deduplicated while the first is open
  auto alerts = json_of(f.signet("--json alert list"));
  REQUIRE(alerts.size() == 1);
  CHECK(alerts[0]["kind"] == "certificate.expiring");

  auto verified = json_of(f.signet("--json audit verify"));
  CHECK(verified["ok"] == true);
  CHECK(verified["entries"].get<int>() > 5);
  auto human = f.signet("audit verify");
  require_ok(human);
  CHECK(human.output.find("intact") != std::string::npos);
  // Filters: by object and by actor, and pages with --after.
  auto ca_events = json_of(f.signet("--json audit list --object ca:root"));
  REQUIRE_FALSE(ca_events["items"].empty());
  for (const auto& e : ca_events["items"]) CHECK(e["object"] == "ca:root");
  auto page = json_of(f.signet("--json audit list --limit 2"));
  REQUIRE(page["items"].size() == 2);
  REQUIRE(page["next_after"].is_number());
  auto next = json_of(f.signet("--json audit list --limit 2 --after " +
                               std::to_string(page["next_after"].get<std::uint64_t>())));
  CHECK(next["items"][0]["sequence"].get<std::uint64_t>() ==
        page["items"][1]["sequence"].get<std::uint64_t>() + 1);
  const auto actor = page["items"][0]["actor"].get<std::string>();
  auto by_actor = json_of(f.signet("--json audit list --actor " + actor));
  REQUIRE_FALSE(by_actor["items"].empty());
  for (const auto& e : by_actor["items"]) CHECK(e["actor"] == actor);
  // Viewing a certificate is audited.
  auto listed = json_of(f.signet("--json cert list --ca issuing"));
  require_ok(f.signet("cert show " + listed["items"][0]["serial"].get<std::string>()));
  CHECK(count_actions(f, "certificate.view.accessed") == 1);
}

TEST_CASE("orders of a killed process fail at the next start and their token keys are deleted") {
  CliFixture f;
  make_cas(f);
  // Issue with keys generated on the token in a loop, and kill -9 the current signet at
  // several points in time.
  for (int round = 0; round < 4; ++round) {
    auto loop =
        f.shell("(while true; do " + signet_binary() +
                " cert issue --ca issuing --key-on-token --subject CN=k.example.test "
                ">/dev/null 2>&1; done) & loop=$!; sleep 0." +
                std::to_string(4 + round * 2) +
                "; pkill -9 -f \"[a]ppliance/signet cert issue --ca issuing --key-on\"; "
                "kill -9 $loop; wait $loop 2>/dev/null; "
                "pkill -9 -f \"[a]ppliance/signet cert issue --ca issuing --key-on\"; true");
    INFO(loop.output);
  }
  // The next command that runs orders fails those left behind.
  auto csr = f.make_csr("n", "ec -pkeyopt ec_paramgen_curve:P-256", "/CN=n.example.test");
  auto next = f.signet("cert issue --ca issuing --csr " + csr + " --out " + f.path("n.pem"));
  require_ok(next);
  auto orders = json_of(f.signet("--json order list --limit 1000"));
  std::set<std::uint64_t> failed;
  for (const auto& order : orders) {
    CHECK(order["status"] != "pending");
    CHECK(order["status"] != "processing");
    if (order["status"] == "failed") {
      failed.insert(order["id"].get<std::uint64_t>());
      CHECK(order["error_message"].get<std::string>().find("interrupted") != std::string::npos);
    }
  }
  // (Each new `cert issue` of the loop already failed the order the previous kill left.)
  CHECK(json_of(f.signet("--json alert list")).size() == failed.size());
  // Every key the orders made is gone: a kill in the instant between C_GenerateKeyPair and the
  // order recording its key leaves "signet-order-<id>", which the recovery finds by that label
  // and deletes with the order. What SoftHSM itself leaves when killed inside
  // C_GenerateKeyPair (an object whose attributes were never committed: no label, no id, no
  // public key) belongs to no order; `token keys --orphans` is how an operator finds it.
  auto orphans = json_of(f.signet("--json token keys --orphans"));
  INFO(orphans.dump());
  for (const auto& orphan : orphans) {
    CHECK(orphan["label"] == "");
    CHECK(orphan["id"] == "");
    CHECK(orphan["has_public_key"] == false);
  }
}

TEST_CASE("audit verify names the entry that was altered directly in the LMDB file") {
  CliFixture f;
  make_cas(f);
  require_ok(f.signet("audit verify"));
  // lmdb-utils' mdb_dump/mdb_load rewrite entry 3 with one byte of its actor changed
  // ("cli:r..." becomes "cli:X..."): a change no signet code path makes.
  require_ok(run_command("mdb_dump -s audit " + f.state() + "/store > " + f.path("audit.dump")));
  require_ok(
      python("import sys\n"
             "lines = open(sys.argv[1]).read().split(\"\\n\")\n"
             "start = lines.index(\"HEADER=END\") + 1\n"
             "assert lines[start + 4].strip() == \"0000000000000003\"\n"
             "value = lines[start + 5]\n"
             "at = value.index(\"636c693a\") + 8\n"
             "lines[start + 5] = value[:at] + \"58\" + value[at + 2:]\n"
             "open(sys.argv[2], \"w\").write(\"\\n\".join(lines))\n",
             f.path("audit.dump") + " " + f.path("tampered.dump")));
  require_ok(run_command("mdb_load -s audit -f " + f.path("tampered.dump") + " " + f.state() +
                         "/store 2>/dev/null"));
  auto broken = f.signet("audit verify");
  require_refused(broken, "broken at entry 3");
  CHECK(broken.output.find("altered") != std::string::npos);
}
