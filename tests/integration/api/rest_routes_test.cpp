// The REST resource handlers behind the Router, without the HTTP stack: an ApplianceContext
// over a temporary state directory with a real SoftHSM token, the Authenticator, ApiServices
// and the Router with the resource routes, driven by http::Request values that carry API
// tokens. What the API hands out is read by OpenSSL (certificates, chains, CRLs, PKCS#12).
#include <catch2/catch.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "appliance/api/api.h"
#include "appliance/api/auth.h"
#include "appliance/api/metrics.h"
#include "appliance/api/router.h"
#include "base/bytes.h"
#include "tests/support/softhsm_token.h"
#include "tests/support/test_support.h"

using namespace signet;
using namespace signet::appliance;
using nlohmann::json;

namespace {

struct Reply {
  int status = 0;
  std::string content_type;
  std::string body;
  json j;  // the body when it is JSON
};

// Everything signetd builds around its routes, over a fresh state and token.
class RestFixture {
 public:
  RestFixture() {
    test::write_text(dir_ / "user.pin", test::SoftHsmToken::kUserPin, 0600);
    GlobalOptions options;
    options.state_dir = (dir_ / "state").string();
    options.module_path = token_.module_path();
    options.token = token_.label();
    options.pin_file = (dir_ / "user.pin").string();
    options.actor = "signetd";
    options.interactive = false;
    context_ = std::make_unique<ApplianceContext>(options);
    auto opened = context_->open_all();
    INFO((opened ? "" : opened.error().describe()));
    REQUIRE(opened);
    operators_ = *context_->operators();
    audit_ = *context_->audit();
    authenticator_ =
        std::make_unique<Authenticator>(*operators_, *audit_, context_->clock(), context_->rng());
    api_ = std::make_unique<ApiServices>(*context_, *authenticator_, metrics_);
    router_ = std::make_unique<Router>(*authenticator_, metrics_);
    register_certificate_routes(*router_, *api_);
    register_ca_routes(*router_, *api_);
    register_profile_routes(*router_, *api_);
    register_order_routes(*router_, *api_);
    register_crl_routes(*router_, *api_);
    register_token_routes(*router_, *api_);
    register_audit_routes(*router_, *api_);
    ca::OperatorRecord alice;
    alice.name = "alice";
    alice.role = ca::Role::kAdministrator;
    REQUIRE(operators_->create_operator(alice, std::nullopt));
    admin = make_token(ca::Role::kAdministrator, {});
  }
  ~RestFixture() {
    // Everything that holds the PKCS#11 module goes before the token store.
    router_.reset();
    api_.reset();
    authenticator_.reset();
    context_.reset();
  }

  // An API token of alice's with this role, scoped to these "ca/profile" names.
  std::string make_token(ca::Role role, std::vector<std::string> profiles) {
    auto made =
        authenticator_->make_api_token("test", "alice", role, std::move(profiles), std::nullopt);
    REQUIRE(operators_->create_api_token(made.record, std::nullopt));
    return made.token;
  }

  Reply call(const std::string& method, const std::string& target, const std::string& token,
             const std::optional<json>& body = std::nullopt) {
    http::Request request;
    request.method = method;
    request.target = target;
    const auto question = target.find('?');
    request.path = target.substr(0, question);
    if (question != std::string::npos) {
      auto query = http::parse_query(target.substr(question + 1));
      REQUIRE(query);
      request.query = *query;
    }
    request.headers.push_back({"authorization", "Bearer " + token});
    if (body) {
      request.headers.push_back({"content-type", "application/json"});
      request.body = body->dump();
    }
    request.remote_address = "127.0.0.1:40000";
    request.secure = true;
    auto response = router_->dispatch(request);
    Reply reply{response.status, response.content_type, response.body, nullptr};
    if (response.content_type == "application/json") reply.j = json::parse(response.body);
    return reply;
  }

  // The call, required to answer `status`.
  json expect(int status, const std::string& method, const std::string& target,
              const std::optional<json>& body = std::nullopt) {
    auto reply = call(method, target, admin, body);
    INFO(method << " " << target << " -> " << reply.status << " " << reply.body);
    REQUIRE(reply.status == status);
    return reply.j;
  }

  // Root "root" and intermediate "issuing" under it, and the profile issuing/web.
  void create_cas() {
    expect(201, "POST", "/api/v1/cas",
           json{{"name", "root"},
                {"type", "root"},
                {"subject", "CN=Test Root,O=Signet Tests"},
                {"key_algorithm", "ec-p256"}});
    auto issuing = expect(201, "POST", "/api/v1/cas",
                          json{{"name", "issuing"},
                               {"type", "intermediate"},
                               {"parent", "root"},
                               {"subject", "CN=Test Issuing,O=Signet Tests"},
                               {"key_algorithm", "ec-p256"},
                               {"path_length", 0}});
    CHECK(issuing["parent"] == "root");
    CHECK(issuing["default_profile"] == "issuing/default");
    expect(201, "POST", "/api/v1/profiles",
           json{{"name", "web"},
                {"ca", "issuing"},
                {"validity", {{"default_days", 90}, {"max_days", 397}}},
                {"sans", {{"dns_suffixes", {"example.test"}}}}});
  }

  // A CSR made by openssl for `cn` (with a DNS SAN of it); its key stays in the temp dir.
  std::string make_csr(const std::string& name, const std::string& cn) {
    const auto key = path(name + ".key"), csr = path(name + ".csr");
    auto made = test::run_command(
        "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + key +
        " -subj /CN=" + cn + " -addext subjectAltName=DNS:" + cn + " -out " + csr);
    INFO(made.output);
    REQUIRE(made.exit_code == 0);
    return test::read_text(csr);
  }

  json issue_csr(const std::string& name, const std::string& cn,
                 const std::string& profile = "issuing/web") {
    return expect(
        201, "POST", "/api/v1/certificates",
        json{{"profile", profile}, {"key_source", {{"kind", "csr"}, {"csr", make_csr(name, cn)}}}});
  }

  json openapi() const { return router_->openapi("test"); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string save(const std::string& name, const std::string& content) {
    test::write_text(dir_ / name, content);
    return path(name);
  }

  std::string admin;

 private:
  test::SoftHsmToken token_{"signet"};
  test::TempDir dir_;
  Metrics metrics_;
  std::unique_ptr<ApplianceContext> context_;
  ca::OperatorDirectory* operators_ = nullptr;
  ca::AuditSink* audit_ = nullptr;
  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<ApiServices> api_;
  std::unique_ptr<Router> router_;
};

std::string public_key_of(const std::string& pem_file) {
  auto result = test::run_command("openssl x509 -in " + pem_file + " -noout -pubkey");
  REQUIRE(result.exit_code == 0);
  return result.output;
}

void require_refused(const Reply& reply, int status, const std::string& code,
                     const std::string& words) {
  INFO(reply.status << " " << reply.body);
  REQUIRE(reply.status == status);
  CHECK(reply.j["error"]["code"] == code);
  CHECK_THAT(reply.j["error"]["message"].get<std::string>(), Catch::Contains(words));
}

}  // namespace

TEST_CASE(
    "the API issues from a CSR, pages the inventory, shows and hands out what OpenSSL "
    "verifies") {
  RestFixture f;
  f.create_cas();
  std::set<std::string> issued;
  for (const auto* cn : {"a.example.test", "b.example.test", "c.example.test"}) {
    auto j = f.issue_csr(cn, cn);
    CHECK(j["common_name"] == cn);
    CHECK(j["order"]["kind"] == "issue");
    CHECK(j["order"]["requested_by"].get<std::string>().find("(alice)") != std::string::npos);
    CHECK(j["pem"].get<std::string>().find("-----BEGIN CERTIFICATE-----") == 0);
    CHECK_FALSE(j.contains("pfx_password"));
    issued.insert(j["serial"].get<std::string>());
  }

  auto first = f.expect(200, "GET", "/api/v1/certificates?ca=issuing&limit=2&sort=cn");
  REQUIRE(first["items"].size() == 2);
  REQUIRE(first["next_cursor"].is_string());
  auto second = f.expect(200, "GET",
                         "/api/v1/certificates?ca=issuing&limit=2&sort=cn&cursor=" +
                             first["next_cursor"].get<std::string>());
  REQUIRE(second["items"].size() == 1);
  CHECK(second["next_cursor"].is_null());
  std::set<std::string> listed;
  for (const auto* page : {&first, &second}) {
    for (const auto& item : (*page)["items"]) listed.insert(item["serial"].get<std::string>());
  }
  CHECK(listed == issued);
  CHECK(second["items"][0]["common_name"] == "c.example.test");

  const std::string serial = *issued.begin();
  auto shown = f.expect(200, "GET", "/api/v1/certificates/" + serial);
  CHECK(shown["serial"] == serial);
  CHECK(shown["profile"] == "issuing/web");
  auto views = f.expect(200, "GET", "/api/v1/audit?action=certificate.view");
  REQUIRE_FALSE(views["items"].empty());
  CHECK(views["items"].back()["actor"].get<std::string>().find("(alice)") != std::string::npos);

  auto pem = f.call("GET", "/api/v1/certificates/" + serial + "/pem", f.admin);
  REQUIRE(pem.status == 200);
  CHECK(pem.content_type == "application/x-pem-file");
  auto root = f.call("GET", "/api/v1/cas/root/certificate", f.admin);
  auto issuing = f.call("GET", "/api/v1/cas/issuing/certificate", f.admin);
  REQUIRE(root.status == 200);
  REQUIRE(issuing.status == 200);
  auto verified =
      test::run_command("openssl verify -CAfile " + f.save("root.pem", root.body) + " -untrusted " +
                        f.save("issuing.pem", issuing.body) + " " + f.save("leaf.pem", pem.body));
  INFO(verified.output);
  CHECK(verified.exit_code == 0);
  auto chain = f.call("GET", "/api/v1/certificates/" + serial + "/chain", f.admin);
  REQUIRE(chain.status == 200);
  auto chain_ok =
      test::run_command("openssl verify -CAfile " + f.path("root.pem") + " -untrusted " +
                        f.save("chain.pem", chain.body) + " " + f.path("leaf.pem"));
  INFO(chain_ok.output);
  CHECK(chain_ok.exit_code == 0);
  auto der = f.call("GET", "/api/v1/certificates/" + serial + "/der", f.admin);
  REQUIRE(der.status == 200);
  CHECK(der.content_type == "application/pkix-cert");
  auto parsed = test::run_command("openssl x509 -inform DER -noout -serial -in " +
                                  f.save("leaf.der", der.body));
  INFO(parsed.output);
  CHECK(parsed.exit_code == 0);
}

TEST_CASE(
    "the API renews with the same key, rekeys on the token, and a revocation reaches the "
    "CA's CRL") {
  RestFixture f;
  f.create_cas();
  auto first = f.issue_csr("app", "app.example.test");
  const auto first_serial = first["serial"].get<std::string>();

  auto renewed = f.expect(201, "POST", "/api/v1/certificates/" + first_serial + "/renew",
                          json{{"validity_days", 30}});
  CHECK(renewed["order"]["kind"] == "renew");
  CHECK(renewed["days_until_expiry"].get<int>() <= 30);
  CHECK(public_key_of(f.save("first.pem", first["pem"])) ==
        public_key_of(f.save("renewed.pem", renewed["pem"])));
  auto old_view = f.expect(200, "GET", "/api/v1/certificates/" + first_serial);
  CHECK(old_view["successor_id"] == renewed["id"]);
  CHECK(old_view["successor"].get<std::string>().find(renewed["serial"].get<std::string>()) == 0);

  const auto renewed_serial = renewed["serial"].get<std::string>();
  auto rekeyed =
      f.expect(201, "POST", "/api/v1/certificates/" + renewed_serial + "/rekey",
               json{{"key_source", {{"kind", "key_on_token"}, {"algorithm", "ec-p256"}}}});
  CHECK(rekeyed["order"]["kind"] == "rekey");
  CHECK(rekeyed["order"]["key_source"] == "key-on-token");
  CHECK(rekeyed["key_location"].get<std::string>().find("pkcs11:") == 0);
  CHECK(public_key_of(f.save("rekeyed.pem", rekeyed["pem"])) !=
        public_key_of(f.path("renewed.pem")));

  const auto target = rekeyed["serial"].get<std::string>();
  auto revoked = f.expect(200, "POST", "/api/v1/certificates/" + target + "/revoke",
                          json{{"reason", "keyCompromise"}});
  CHECK(revoked["status"] == "revoked");
  CHECK(revoked["revocation_reason"] == "keyCompromise");
  // The CA regenerates its CRL on revocation (its default).
  auto crl = f.call("GET", "/api/v1/cas/issuing/crls/latest", f.admin);
  INFO(crl.body);
  REQUIRE(crl.status == 200);
  CHECK(crl.content_type == "application/pkix-crl");
  auto text = test::run_command("openssl crl -inform DER -noout -text -in " +
                                f.save("issuing.crl", crl.body));
  INFO(text.output);
  REQUIRE(text.exit_code == 0);
  std::string upper = target;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(text.output.find(upper) != std::string::npos);
  auto listed = f.expect(200, "GET", "/api/v1/cas/issuing/crls");
  CHECK_FALSE(listed["items"].empty());
  // A revoked certificate is not revoked twice.
  auto again = f.call("POST", "/api/v1/certificates/" + target + "/revoke", f.admin,
                      json{{"reason", "superseded"}});
  CHECK(again.status == 409);
}

TEST_CASE("a local key comes back once as PKCS#12 with its password in the response body") {
  RestFixture f;
  f.create_cas();
  auto issued = f.expect(201, "POST", "/api/v1/certificates",
                         json{{"profile", "issuing/web"},
                              {"subject", "CN=local.example.test"},
                              {"subject_alt_names", {"DNS:local.example.test"}},
                              {"key_source", {{"kind", "local_key"}, {"pfx_profile", "modern"}}}});
  REQUIRE(issued["pfx_base64"].is_string());
  REQUIRE(issued["pfx_password"].is_string());
  auto pfx = base::from_base64(issued["pfx_base64"].get<std::string>());
  REQUIRE(pfx);
  test::write_file(f.path("local.p12"), *pfx);
  const auto password = f.save("pfx.pass", issued["pfx_password"].get<std::string>());
  auto opened = test::run_command("openssl pkcs12 -in " + f.path("local.p12") +
                                  " -passin file:" + password + " -nodes -noout");
  INFO(opened.output);
  CHECK(opened.exit_code == 0);
  // A new export has a new password; the order keeps no secret.
  auto again =
      f.expect(200, "POST", "/api/v1/certificates/" + issued["serial"].get<std::string>() + "/pfx",
               json{{"pfx_profile", "compat"}});
  CHECK(again["pfx_password"] != issued["pfx_password"]);
  auto order =
      f.expect(200, "GET", "/api/v1/orders/" + std::to_string(issued["order_id"].get<int>()));
  CHECK(order.dump().find(issued["pfx_password"].get<std::string>()) == std::string::npos);
}

TEST_CASE("a failed order is resubmitted once its cause is fixed, and its alert acknowledged") {
  RestFixture f;
  f.create_cas();
  f.expect(200, "POST", "/api/v1/profiles/issuing/web/disable");
  auto refused = f.call(
      "POST", "/api/v1/certificates", f.admin,
      json{{"profile", "issuing/web"},
           {"key_source", {{"kind", "csr"}, {"csr", f.make_csr("late", "late.example.test")}}}});
  INFO(refused.body);
  CHECK(refused.status == 422);
  auto failed = f.expect(200, "GET", "/api/v1/orders?status=failed");
  REQUIRE(failed["items"].size() == 1);
  const auto order_id = std::to_string(failed["items"][0]["id"].get<int>());
  auto alerts = f.expect(200, "GET", "/api/v1/alerts");
  REQUIRE(alerts["items"].size() == 1);
  CHECK(alerts["items"][0]["object"] == "order:" + order_id);

  auto profile = f.expect(200, "GET", "/api/v1/profiles/issuing/web");
  f.expect(200, "PATCH", "/api/v1/profiles/issuing/web",
           json{{"version", profile["version"]}, {"enabled", true}});
  auto resubmitted = f.expect(201, "POST", "/api/v1/orders/" + order_id + "/resubmit");
  CHECK(resubmitted["common_name"] == "late.example.test");
  CHECK(resubmitted["order"]["resubmitted_from"].get<int>() == std::stoi(order_id));
  const auto alert_id = std::to_string(alerts["items"][0]["id"].get<int>());
  auto acknowledged = f.expect(200, "POST", "/api/v1/alerts/" + alert_id + "/acknowledge");
  CHECK(acknowledged["acknowledged"] == true);
  CHECK(f.expect(200, "GET", "/api/v1/alerts")["items"].empty());
  CHECK(f.expect(200, "GET", "/api/v1/alerts?include_acknowledged=true")["items"].size() == 1);
}

TEST_CASE("CA renewal and revocation, and the import of certificates issued elsewhere") {
  RestFixture f;
  f.create_cas();
  auto made = test::run_command(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
      "-nodes -keyout " +
      f.path("elsewhere.key") + " -subj /CN=elsewhere.example.test -days 30 -out " +
      f.path("elsewhere.pem"));
  REQUIRE(made.exit_code == 0);
  const auto pem = test::read_text(f.path("elsewhere.pem"));
  auto imported = f.expect(200, "POST", "/api/v1/certificates/import", json{{"pem", pem}});
  CHECK(imported["imported_count"] == 1);
  CHECK(f.expect(200, "POST", "/api/v1/certificates/import", json{{"pem", pem}})["duplicates"] ==
        1);
  auto discovered = f.expect(200, "GET", "/api/v1/certificates?source=discovered");
  REQUIRE(discovered["items"].size() == 1);
  CHECK(discovered["items"][0]["common_name"] == "elsewhere.example.test");

  auto renewed = f.expect(200, "POST", "/api/v1/cas/issuing/renew", json::object());
  CHECK(renewed["previous_certificates"] == 1);
  auto signer = f.expect(200, "GET", "/api/v1/cas/root/ocsp-signer");
  CHECK(signer["signing"] == "ca");

  auto revoked =
      f.expect(200, "POST", "/api/v1/cas/issuing/revoke", json{{"reason", "cACompromise"}});
  CHECK(revoked["status"] == "revoked");
  CHECK(revoked["serial"] == renewed["serial"]);
  auto crl = f.call("GET", "/api/v1/cas/root/crls/latest?format=pem", f.admin);
  REQUIRE(crl.status == 200);
  auto text = test::run_command("openssl crl -noout -text -in " + f.save("root.crl", crl.body));
  std::string upper = renewed["serial"].get<std::string>();
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  INFO(text.output);
  CHECK(text.output.find(upper) != std::string::npos);
  // The revoked CA issues nothing more.
  auto refused =
      f.call("POST", "/api/v1/certificates", f.admin,
             json{{"profile", "issuing/web"},
                  {"key_source", {{"kind", "csr"}, {"csr", f.make_csr("no", "no.example.test")}}}});
  INFO(refused.body);
  CHECK(refused.status == 422);
}

TEST_CASE("an API token scoped to one RA profile may not use another") {
  RestFixture f;
  f.create_cas();
  const auto scoped = f.make_token(ca::Role::kRaOfficer, {"issuing/web"});
  auto body = [&](const std::string& profile, const std::string& cn) {
    return json{{"profile", profile},
                {"key_source", {{"kind", "csr"}, {"csr", f.make_csr(cn, cn)}}}};
  };
  auto refused =
      f.call("POST", "/api/v1/certificates", scoped, body("issuing/default", "other.example.test"));
  require_refused(refused, 403, "forbidden", "issuing/default");
  // Naming only the CA means its default profile: refused the same way.
  auto by_ca = f.call("POST", "/api/v1/certificates", scoped,
                      json{{"ca", "issuing"},
                           {"key_source", {{"kind", "csr"}, {"csr", f.make_csr("x", "x.test")}}}});
  require_refused(by_ca, 403, "forbidden", "issuing/default");
  auto allowed = f.call("POST", "/api/v1/certificates", scoped, body("web", "ok.example.test"));
  INFO(allowed.body);
  REQUIRE(allowed.status == 201);

  // Certificates of another profile are out of its reach too.
  auto other = f.issue_csr("other", "other.example.test", "issuing/default");
  auto revoke =
      f.call("POST", "/api/v1/certificates/" + other["serial"].get<std::string>() + "/revoke",
             scoped, json{{"reason", "superseded"}});
  require_refused(revoke, 403, "forbidden", "issuing/default");
  // An RA officer reads but does not administer.
  CHECK(f.call("GET", "/api/v1/cas", scoped).status == 200);
  CHECK(f.call("POST", "/api/v1/cas", scoped, json{{"name", "x"}}).status == 403);
  CHECK(f.call("GET", "/api/v1/audit", scoped).status == 403);
}

TEST_CASE("bad requests are refused with 400 naming what was wrong") {
  RestFixture f;
  f.create_cas();
  auto malformed = f.call("POST", "/api/v1/certificates", f.admin,
                          json{{"profile", "issuing/web"},
                               {"key_source",
                                {{"kind", "csr"},
                                 {"csr",
                                  "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"
                                  "-----END CERTIFICATE REQUEST-----\n"}}}});
  INFO(malformed.body);
  REQUIRE(malformed.status == 400);
  CHECK(malformed.j["error"]["code"] == "invalid_argument");
  CHECK_THAT(malformed.j["error"]["message"].get<std::string>(),
             Catch::Contains("certificate request"));

  auto csr = f.make_csr("bad", "bad.example.test");
  require_refused(f.call("POST", "/api/v1/certificates", f.admin,
                         json{{"profile", "issuing/web"},
                              {"colour", "blue"},
                              {"key_source", {{"kind", "csr"}, {"csr", csr}}}}),
                  400, "invalid_argument", "unknown field 'colour'");
  require_refused(f.call("POST", "/api/v1/certificates", f.admin,
                         json{{"profile", "issuing/web"},
                              {"key_source", {{"kind", "csr"}, {"csr", csr}, {"shape", 1}}}}),
                  400, "invalid_argument", "key_source.shape");
  require_refused(f.call("POST", "/api/v1/certificates", f.admin,
                         json{{"profile", "issuing/web"},
                              {"validity_days", "ten"},
                              {"key_source", {{"kind", "csr"}, {"csr", csr}}}}),
                  400, "invalid_argument", "'validity_days' must be an integer");
  require_refused(f.call("POST", "/api/v1/certificates", f.admin,
                         json{{"profile", "issuing/web"},
                              {"key_source", {{"kind", "csr"}, {"key_uri", "pkcs11:x"}}}}),
                  400, "invalid_argument", "key_source.key_uri");
  require_refused(f.call("GET", "/api/v1/certificates?staus=revoked", f.admin), 400,
                  "invalid_argument", "staus");
  require_refused(f.call("GET", "/api/v1/certificates?limit=0", f.admin), 400, "invalid_argument",
                  "limit");
  auto cursor = f.call("GET", "/api/v1/certificates?cursor=garbage", f.admin);
  INFO(cursor.body);
  CHECK(cursor.status == 400);
  require_refused(
      f.call("POST", "/api/v1/certificates/zz/revoke", f.admin, json{{"reason", "keyCompromise"}}),
      400, "invalid_argument", "'zz'");
  require_refused(
      f.call("PATCH", "/api/v1/cas/issuing/settings", f.admin, json{{"crl_validity_hours", 0}}),
      400, "invalid_argument", "crl_validity_hours");
  // The appliance's own CA is not the operators' to see.
  require_refused(f.call("GET", "/api/v1/cas/signet-appliance", f.admin), 404, "not_found",
                  "signet-appliance");
}

TEST_CASE("CA settings, profile versions, tokens and the audit log over the API") {
  RestFixture f;
  f.create_cas();
  auto settings = f.expect(200, "PATCH", "/api/v1/cas/issuing/settings",
                           json{{"base_url", "http://pki.example.test"},
                                {"delta_crls", true},
                                {"default_validity_days", 60}});
  CHECK(settings["base_url"] == "http://pki.example.test");
  CHECK(settings["revocation"]["delta_crls"] == true);
  CHECK(settings["default_profile_version"].get<int>() >= 2);
  auto delta = f.expect(201, "POST", "/api/v1/cas/issuing/crls", json{{"kind", "full"}});
  CHECK(delta["kind"] == "full");
  auto profile = f.expect(200, "GET", "/api/v1/profiles/issuing/web");
  auto updated = f.expect(200, "PATCH", "/api/v1/profiles/issuing/web",
                          json{{"version", profile["version"]},
                               {"description", "web servers"},
                               {"subject", {{"fixed", {{"O", "Signet Tests"}}}}}});
  CHECK(updated["subject"]["fixed"]["O"] == "Signet Tests");
  CHECK(updated["version"] == profile["version"].get<int>() + 1);
  CHECK(updated["description"] == "web servers");
  // The version read first is no longer the stored one.
  auto stale = f.call("PATCH", "/api/v1/profiles/issuing/web", f.admin,
                      json{{"version", profile["version"]}, {"description", "late"}});
  CHECK(stale.status == 409);
  auto tokens = f.expect(200, "GET", "/api/v1/tokens");
  REQUIRE(tokens["items"].size() == 1);
  auto keys = f.expect(
      200, "GET", "/api/v1/tokens/" + tokens["items"][0]["serial"].get<std::string>() + "/keys");
  CHECK(keys["items"].size() >= 2);  // the two CA keys
  auto verify = f.expect(200, "GET", "/api/v1/audit/verify");
  CHECK(verify["ok"] == true);
  auto export_lines = f.call("GET", "/api/v1/audit/export", f.admin);
  REQUIRE(export_lines.status == 200);
  CHECK(export_lines.content_type == "application/x-ndjson");
  CHECK(export_lines.body.find("\"action\":\"ca.created\"") != std::string::npos);
}

TEST_CASE("every resource route is documented, and every request body refuses unknown fields") {
  RestFixture f;
  const auto document = f.openapi();
  std::size_t operations = 0;
  for (const auto& [path, methods] : document["paths"].items()) {
    for (const auto& [method, op] : methods.items()) {
      INFO(method << " " << path);
      ++operations;
      CHECK_FALSE(op["summary"].get<std::string>().empty());
      CHECK_FALSE(op["tags"][0].get<std::string>().empty());
      if (!op.contains("requestBody")) continue;
      const auto& schema = op["requestBody"]["content"]["application/json"]["schema"];
      CHECK(schema["type"] == "object");
      CHECK(schema["additionalProperties"] == false);
    }
  }
  CHECK(operations >= 45);
}
