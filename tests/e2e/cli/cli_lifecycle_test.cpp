// Renew, rekey, reissue and revoke; CA renewal and rollover; import, search, sort and pages;
// keys left behind. Every certificate checked with openssl.
#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>
#include <vector>

#include "tests/e2e/cli/cli_checks.h"

using namespace signet::test;

namespace {

std::string p256() { return "ec -pkeyopt ec_paramgen_curve:P-256"; }

nlohmann::json issue_csr(const CliFixture& f, const std::string& name, const std::string& cn,
                         const std::string& extra = "") {
  auto csr = f.make_csr(name, p256(), "/CN=" + cn, "DNS:" + cn);
  return json_of(f.signet("--json cert issue --ca issuing --csr " + csr + " --out " +
                          f.path(name + ".pem") + " " + extra));
}

std::string serial_of(const nlohmann::json& j) { return j["serial"].get<std::string>(); }

}  // namespace

TEST_CASE("renew keeps the key, rekey changes it, and both link to their predecessor") {
  CliFixture f;
  make_cas(f);
  auto first = issue_csr(f, "app", "app.example.test");

  auto renewed = json_of(f.signet("--json cert renew " + serial_of(first) + " --days 30 --out " +
                                  f.path("renewed.pem")));
  CHECK(renewed["order"]["kind"] == "renew");
  CHECK(renewed["common_name"] == "app.example.test");
  CHECK(renewed["subject_alt_names"] == first["subject_alt_names"]);
  CHECK(renewed["days_until_expiry"].get<int>() <= 30);
  CHECK(serial_of(renewed) != serial_of(first));
  require_ok(openssl_verify(f, f.path("renewed.pem"), f.path("issuing.pem")));
  CHECK(public_key_of(f.path("renewed.pem")) == public_key_of(f.path("app.pem")));
  auto old_view = json_of(f.signet("--json cert show " + serial_of(first)));
  CHECK(old_view["successor_id"] == renewed["id"]);
  CHECK(old_view["successor"].get<std::string>().find(serial_of(renewed)) == 0);
  auto new_view = json_of(f.signet("--json cert show " + serial_of(renewed)));
  CHECK(new_view["predecessor_id"] == first["id"]);
  // A certificate is replaced once.
  require_refused(f.signet("cert renew " + serial_of(first)), "already");

  // Rekey with a new CSR, revoking the renewed certificate as superseded in the same order.
  auto csr = f.make_csr("rekey", p256(), "/CN=app.example.test");
  auto rekeyed = json_of(f.signet("--json cert rekey " + serial_of(renewed) + " --csr " + csr +
                                  " --revoke-previous --out " + f.path("rekeyed.pem")));
  CHECK(rekeyed["order"]["kind"] == "rekey");
  require_ok(openssl_verify(f, f.path("rekeyed.pem"), f.path("issuing.pem")));
  CHECK(public_key_of(f.path("rekeyed.pem")) != public_key_of(f.path("renewed.pem")));
  auto superseded = json_of(f.signet("--json cert show " + serial_of(renewed)));
  CHECK(superseded["status"] == "revoked");
  CHECK(superseded["revocation_reason"] == "superseded");
  CHECK(superseded["successor_id"] == rekeyed["id"]);

  // Rekey with the same key is refused: make a CSR with the rekeyed certificate's key.
  require_ok(run_command("openssl req -new -key " + f.path("rekey.key") +
                         " -subj /CN=app.example.test -out " + f.path("same.csr")));
  auto same = f.signet("cert rekey " + serial_of(rekeyed) + " --csr " + f.path("same.csr"));
  require_refused(same, "a rekey needs a different key");

  // reissue is rekey under the public CAs' name, here with a key generated on the token.
  auto reissued = json_of(f.signet("--json cert reissue " + serial_of(rekeyed) +
                                   " --key-on-token --key ec-p256 --out " + f.path("re.pem")));
  CHECK(reissued["order"]["kind"] == "reissue");
  CHECK(reissued["order"]["key_source"] == "key-on-token");
  require_ok(openssl_verify(f, f.path("re.pem"), f.path("issuing.pem")));
  auto audit = json_of(f.signet("--json audit list --action certificate.re"));
  std::set<std::string> actions;
  for (const auto& e : audit["items"]) actions.insert(e["action"].get<std::string>());
  CHECK(actions.count("certificate.renewed") == 1);
  CHECK(actions.count("certificate.rekeyed") == 1);
  CHECK(actions.count("certificate.reissued") == 1);
}

TEST_CASE("revocation is permanent, records reason and invalidity date, and is not repeated") {
  CliFixture f;
  make_cas(f);
  auto leaf = issue_csr(f, "gone", "gone.example.test");
  auto revoked =
      json_of(f.signet("--json cert revoke " + serial_of(leaf) +
                       " --reason keyCompromise --invalidity-date 2024-01-02T03:04:05Z"));
  CHECK(revoked["status"] == "revoked");
  CHECK(revoked["order"]["kind"] == "revoke");
  auto shown = json_of(f.signet("--json cert show " + serial_of(leaf)));
  CHECK(shown["status"] == "revoked");
  CHECK(shown["revocation_reason"] == "keyCompromise");
  CHECK(shown["invalidity_date"] == "2024-01-02T03:04:05Z");
  const auto revoked_at = shown["revoked_at"];

  auto again = f.signet("cert revoke " + serial_of(leaf) + " --reason superseded");
  require_refused(again, "already");
  auto unchanged = json_of(f.signet("--json cert show " + serial_of(leaf)));
  CHECK(unchanged["revocation_reason"] == "keyCompromise");
  CHECK(unchanged["revoked_at"] == revoked_at);

  auto other = issue_csr(f, "other", "other.example.test");
  require_refused(f.signet("cert revoke " + serial_of(other) + " --reason certificateHold"),
                  "certificateHold");
  require_refused(f.signet("cert revoke " + serial_of(other) + " --reason bogus"), "bogus");
  require_refused(f.signet("cert revoke " + serial_of(other) +
                           " --reason unspecified --invalidity-date 2200-01-01T00:00:00Z"),
                  "future");
  require_refused(f.signet("cert revoke " + serial_of(other) +
                           " --reason unspecified --invalidity-date 2999-01-01T00:00:00Z"),
                  "2262");
  require_refused(f.signet("cert revoke " + serial_of(other) +
                           " --reason unspecified --invalidity-date yesterday"),
                  "RFC 3339");
  CHECK(json_of(f.signet("--json cert show " + serial_of(other)))["status"] == "active");
  // A revoked certificate is not renewed.
  require_refused(f.signet("cert renew " + serial_of(leaf)), "revoked");
  auto events = json_of(f.signet("--json audit list --action certificate.revoke"));
  std::set<std::string> actions;
  for (const auto& e : events["items"]) actions.insert(e["action"].get<std::string>());
  CHECK(actions.count("certificate.revoke.requested") == 1);
  CHECK(actions.count("certificate.revoked") == 1);
  CHECK(json_of(f.signet("--json cert list --status revoked"))["items"].size() == 1);
}

TEST_CASE("after a CA renewal and a key rollover, old and new leaves export verifiable chains") {
  CliFixture f;
  make_cas(f);
  auto before = issue_csr(f, "before", "before.example.test");

  auto renewed = json_of(f.signet("--json ca renew issuing"));
  CHECK(renewed["previous_certificates"] == 1);
  auto middle = issue_csr(f, "middle", "middle.example.test");

  auto rolled = json_of(f.signet("--json ca renew issuing --new-key ec-p384 --days 400"));
  CHECK(rolled["previous_certificates"] == 2);
  CHECK(rolled["key_algorithm"] == "ec-p384");
  auto after = issue_csr(f, "after", "after.example.test");
  CHECK(after["digest"] == "sha384");

  for (const auto& [name, leaf] : std::vector<std::pair<std::string, nlohmann::json>>{
           {"before", before}, {"middle", middle}, {"after", after}}) {
    const auto chain = f.path(name + "-chain.pem");
    require_ok(f.signet("cert export " + serial_of(leaf) + " --chain --out " + chain));
    auto verify = openssl_verify(f, chain, chain);
    INFO(name << ": " << verify.output);
    CHECK(verify.exit_code == 0);
  }
  // The old leaf's chain holds the CA certificate of the old key, not the current one.
  require_ok(f.signet("ca export issuing --out " + f.path("issuing-now.pem")));
  auto old_chain = read_text(f.path("before-chain.pem"));
  auto current = read_text(f.path("issuing-now.pem"));
  CHECK(old_chain.find(current) == std::string::npos);
  require_refused(f.signet("ca renew nosuch"), "nosuch");
  require_refused(f.signet("ca renew issuing --token signet"), "--new-key");
}

TEST_CASE("import records bundles and directories as discovered, once per fingerprint") {
  CliFixture f;
  make_cas(f);
  // Three self-signed certificates made by openssl alone, and a bundle with one twice.
  for (const auto* name : {"x1", "x2", "x3"}) {
    require_ok(run_command("cd " + f.path("") + " && openssl req -x509 -newkey " + p256() +
                           " -nodes -keyout " + name + ".key -subj /CN=" + name +
                           ".import.test -days 30 -out " + name + ".pem"));
  }
  require_ok(run_command("cd " + f.path("") + " && cat x1.pem x2.pem x1.pem > bundle.pem"));
  auto first = json_of(f.signet("--json cert import " + f.path("bundle.pem")));
  CHECK(first["imported_count"] == 2);
  CHECK(first["duplicates"] == 1);
  CHECK(first["errors"].empty());
  CHECK(first["imported"][0]["source"] == "discovered");
  auto again = json_of(f.signet("--json cert import " + f.path("bundle.pem")));
  CHECK(again["imported_count"] == 0);
  CHECK(again["duplicates"] == 3);

  // A directory: a DER file, a certificate issued here (known already) and a stray file.
  auto leaf = issue_csr(f, "here", "here.import.test");
  require_ok(run_command("mkdir " + f.path("dir") + " && openssl x509 -in " + f.path("x3.pem") +
                         " -outform der -out " + f.path("dir/x3.der") + " && cp " +
                         f.path("here.pem") + " " + f.path("dir/here.pem") + " && echo notes > " +
                         f.path("dir/README")));
  auto dir = f.signet("--json cert import " + f.path("dir"));
  INFO(dir.output);
  CHECK(dir.exit_code != 0);  // the stray file is an error, reported with its name
  CHECK(dir.output.find("README") != std::string::npos);
  auto discovered = json_of(f.signet("--json cert list --source discovered"));
  CHECK(discovered["items"].size() == 3);
  auto managed = json_of(f.signet("--json cert list --source managed --ca issuing"));
  CHECK(managed["items"].size() == 1);
  auto human = f.signet("cert import " + f.path("x2.pem"));
  require_ok(human);
  CHECK(human.output.find("already known 1") != std::string::npos);
}

TEST_CASE("list searches names and DNS suffixes, sorts, filters and pages with a cursor") {
  CliFixture f;
  make_cas(f);
  for (const auto* cn : {"www.example.com", "a.b.example.com", "mail.example.org",
                         "zeta.example.com", "example.com"}) {
    std::string name = cn;
    std::replace(name.begin(), name.end(), '.', '_');
    issue_csr(f, name, cn);
  }
  auto suffix = json_of(f.signet("--json cert list --search '*.example.com'"));
  std::set<std::string> names;
  for (const auto& item : suffix["items"]) names.insert(item["common_name"].get<std::string>());
  CHECK(names == std::set<std::string>{"www.example.com", "a.b.example.com", "zeta.example.com"});
  auto prefix = json_of(f.signet("--json cert list --search www.exa"));
  REQUIRE(prefix["items"].size() == 1);
  CHECK(prefix["items"][0]["common_name"] == "www.example.com");

  auto by_cn = json_of(f.signet("--json cert list --ca issuing --sort cn"));
  std::vector<std::string> order;
  for (const auto& item : by_cn["items"]) order.push_back(item["common_name"].get<std::string>());
  CHECK(order == std::vector<std::string>{"a.b.example.com", "example.com", "mail.example.org",
                                          "www.example.com", "zeta.example.com"});
  auto by_cn_desc = json_of(f.signet("--json cert list --ca issuing --sort cn --desc"));
  CHECK(by_cn_desc["items"][0]["common_name"] == "zeta.example.com");
  auto by_profile = json_of(f.signet("--json cert list --profile issuing/default"));
  CHECK(by_profile["items"].size() == 5);

  // Keyset pages: every certificate once, in order.
  std::vector<std::string> paged;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    auto listed = json_of(f.signet("--json cert list --ca issuing --sort cn --limit 2" +
                                   (cursor.empty() ? std::string() : " --after " + cursor)));
    for (const auto& item : listed["items"])
      paged.push_back(item["common_name"].get<std::string>());
    if (listed["next_cursor"].is_null()) break;
    cursor = listed["next_cursor"].get<std::string>();
  }
  CHECK(paged == order);
  auto human = f.signet("cert list --ca issuing --limit 2");
  require_ok(human);
  CHECK(human.output.find("(more: --after ") != std::string::npos);
  require_refused(f.signet("cert list --limit 0"), "--limit");
}

TEST_CASE("token keys --orphans lists only keys that no CA and no certificate references") {
  CliFixture f;
  make_cas(f);
  json_of(f.signet("--json cert issue --ca issuing --key-on-token --subject CN=kept.example.test"));
  require_ok(pkcs11_tool(f, "--keypairgen --key-type EC:prime256v1 --id 5150 --label stray"));
  auto all = json_of(f.signet("--json token keys"));
  CHECK(all.size() == 4);
  auto orphans = json_of(f.signet("--json token keys --orphans"));
  REQUIRE(orphans.size() == 1);
  CHECK(orphans[0]["label"] == "stray");
  CHECK(orphans[0]["id"] == "5150");
  auto human = f.signet("token keys --orphans");
  require_ok(human);
  CHECK(human.output.find("stray") != std::string::npos);
}
