// Revocation services from the command line: CRLs regenerated on revocation, exported and
// checked with openssl and certtool, delta CRLs, a revoked intermediate on its parent's CRL,
// and `signet ocsp respond` answering requests made by `openssl ocsp`.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/e2e/cli/cli_checks.h"

using namespace signet::test;

namespace {

std::string p256() { return "ec -pkeyopt ec_paramgen_curve:P-256"; }

nlohmann::json issue(const CliFixture& f, const std::string& name) {
  auto csr = f.make_csr(name, p256(), "/CN=" + name + ".test", "DNS:" + name + ".test");
  return json_of(
      f.signet("--json cert issue --ca issuing --csr " + csr + " --out " + f.path(name + ".pem")));
}

std::string serial_of(const nlohmann::json& j) { return j["serial"].get<std::string>(); }

// `openssl verify -crl_check_all` of a leaf against root + issuing with the given CRL files.
CommandResult verify_with_crls(const CliFixture& f, const std::string& leaf,
                               const std::string& crls, const std::string& extra = "") {
  return run_command("openssl verify -crl_check_all " + extra + " -CAfile " + f.path("root.pem") +
                     " -untrusted " + f.path("issuing.pem") + " -CRLfile " + crls + " " + leaf);
}

}  // namespace

TEST_CASE("revoking regenerates the CRL, which openssl and certtool accept") {
  CliFixture f;
  make_cas(f);
  require_ok(f.signet("ca set issuing --base-url http://pki.test"));
  auto good = issue(f, "good");
  auto bad = issue(f, "bad");
  // The certificates carry the CDP and AIA URLs.
  auto text = run_command("openssl x509 -in " + f.path("good.pem") + " -noout -text");
  CHECK(text.output.find("URI:http://pki.test/crl/issuing.crl") != std::string::npos);
  CHECK(text.output.find("OCSP - URI:http://pki.test/ocsp/issuing") != std::string::npos);
  CHECK(text.output.find("CA Issuers - URI:http://pki.test/ca/issuing.crt") != std::string::npos);

  auto first = json_of(f.signet("--json crl generate --ca issuing"));
  CHECK(first["number"] == 1);
  CHECK(first["entries"] == 0);
  require_ok(f.signet("crl generate --ca root"));

  auto revoked = f.signet("cert revoke " + serial_of(bad) + " --reason keyCompromise");
  INFO(revoked.output);
  require_ok(revoked);
  CHECK(revoked.output.find("now lists 1 revoked") != std::string::npos);
  auto shown = json_of(f.signet("--json crl show --ca issuing"));
  CHECK(shown["number"] == 2);
  CHECK(shown["entries"] == 1);
  CHECK(shown["signature_algorithm"] == "ecdsa-with-SHA256");

  require_ok(f.signet("crl export --ca issuing --out " + f.path("issuing.crl.pem")));
  require_ok(f.signet("crl export --ca issuing --format der --out " + f.path("issuing.crl")));
  require_ok(f.signet("crl export --ca root --out " + f.path("root.crl.pem")));
  auto der = run_command("openssl crl -inform DER -in " + f.path("issuing.crl") + " -CAfile " +
                         f.path("issuing.pem") + " -noout -verify -crlnumber");
  INFO(der.output);
  CHECK(der.output.find("verify OK") != std::string::npos);
  CHECK(der.output.find("crlNumber=0x02") != std::string::npos);
  run_command("cat " + f.path("issuing.crl.pem") + " " + f.path("root.crl.pem") + " > " +
              f.path("crls.pem"));
  auto bad_check = verify_with_crls(f, f.path("bad.pem"), f.path("crls.pem"));
  INFO(bad_check.output);
  CHECK(bad_check.exit_code != 0);
  CHECK(bad_check.output.find("certificate revoked") != std::string::npos);
  require_ok(verify_with_crls(f, f.path("good.pem"), f.path("crls.pem")));
  auto gnutls = run_command("certtool --crl-info --infile " + f.path("issuing.crl.pem"));
  INFO(gnutls.output);
  CHECK(gnutls.exit_code == 0);
  CHECK(gnutls.output.find("Revoked certificates (1)") != std::string::npos);

  auto history = json_of(f.signet("--json crl list --ca issuing"));
  REQUIRE(history["items"].size() == 2);
  CHECK(history["items"][0]["number"] == 2);
  auto older = f.signet("crl export --ca issuing --number 1 --out " + f.path("old.crl.pem"));
  require_ok(older);
  require_refused(f.signet("crl export --ca issuing --number 9"), "no CRL number 9");
  require_refused(f.signet("crl generate --ca nosuch"), "nosuch");
  auto audit = json_of(f.signet("--json audit list --action crl.generated"));
  CHECK(audit["items"].size() == 3);
}

TEST_CASE("delta CRLs from the command line, combined by openssl -use_deltas") {
  CliFixture f;
  make_cas(f);
  require_refused(f.signet("ca set issuing --delta-crls on"), "base URL");
  require_ok(f.signet("ca set issuing --base-url http://pki.test --delta-crls on"));
  auto due = json_of(f.signet("--json crl refresh --dry-run"));
  CHECK(due["due"].size() == 3);  // issuing full + delta, root full
  require_ok(f.signet("crl refresh"));
  auto nothing = json_of(f.signet("--json crl refresh --dry-run"));
  CHECK(nothing["due"].empty());

  auto leaf = issue(f, "leaf");
  require_ok(f.signet("cert revoke " + serial_of(leaf) + " --reason superseded"));
  auto delta = json_of(f.signet("--json crl show --ca issuing --delta"));
  CHECK(delta["kind"] == "delta");
  CHECK(delta["entries"] == 1);
  CHECK(delta["base_number"] == 1);
  auto full = json_of(f.signet("--json crl show --ca issuing"));
  CHECK(full["number"] == 1);  // a revocation makes a delta, not a new full CRL
  CHECK(full["freshest_crl_url"] == "http://pki.test/crl/issuing-delta.crl");

  require_ok(f.signet("crl export --ca issuing --out " + f.path("full.pem")));
  require_ok(f.signet("crl export --ca issuing --delta --out " + f.path("delta.pem")));
  require_ok(f.signet("crl export --ca root --out " + f.path("root.crl.pem")));
  run_command("cat " + f.path("full.pem") + " " + f.path("delta.pem") + " " +
              f.path("root.crl.pem") + " > " + f.path("all.pem"));
  auto with_delta = verify_with_crls(f, f.path("leaf.pem"), f.path("all.pem"), "-use_deltas");
  INFO(with_delta.output);
  CHECK(with_delta.exit_code != 0);
  CHECK(with_delta.output.find("certificate revoked") != std::string::npos);
  auto text = run_command("openssl crl -in " + f.path("delta.pem") + " -noout -text");
  CHECK(text.output.find("Delta CRL Indicator: critical") != std::string::npos);
}

TEST_CASE("ca revoke puts an intermediate on its parent's CRL") {
  CliFixture f;
  make_cas(f);
  require_refused(f.signet("ca revoke root --reason keyCompromise"), "root");
  require_ok(f.signet("crl generate --ca root"));
  auto revoked = json_of(f.signet("--json ca revoke issuing --reason cACompromise"));
  CHECK(revoked["status"] == "revoked");
  auto crl = json_of(f.signet("--json crl show --ca root"));
  CHECK(crl["entries"] == 1);
  CHECK(crl["number"] == 2);
  auto csr = f.make_csr("after", p256(), "/CN=after.test");
  require_refused(f.signet("cert issue --ca issuing --csr " + csr), "revoked");
  require_refused(f.signet("ca revoke issuing --reason keyCompromise"), "already revoked");
}

TEST_CASE("signet ocsp respond answers openssl ocsp requests, with a delegated responder too") {
  CliFixture f;
  make_cas(f);
  auto good = issue(f, "good");
  auto bad = issue(f, "bad");
  require_ok(f.signet("cert revoke " + serial_of(bad) + " --reason keyCompromise"));

  // openssl ocsp makes the request, signet answers, openssl ocsp checks the answer (signature,
  // chain, status) and, separately, that the request's nonce came back.
  const auto ask = [&](const std::string& leaf, const std::string& extra) {
    require_ok(run_command("openssl ocsp " + extra + " -issuer " + f.path("issuing.pem") +
                           " -cert " + leaf + " -reqout " + f.path("req.der")));
    auto responded =
        f.signet("ocsp respond --in " + f.path("req.der") + " --out " + f.path("resp.der"));
    INFO(responded.output);
    REQUIRE(responded.exit_code == 0);
    const auto nonce = [](const std::string& text) {
      const auto at = text.find("OCSP Nonce:");
      return at == std::string::npos ? std::string() : text.substr(at, 60);
    };
    CHECK(nonce(run_command("openssl ocsp -reqin " + f.path("req.der") + " -req_text").output) ==
          nonce(run_command("openssl ocsp -respin " + f.path("resp.der") + " -resp_text -noverify")
                    .output));
    return run_command("openssl ocsp -no_nonce " + extra + " -issuer " + f.path("issuing.pem") +
                       " -cert " + leaf + " -respin " + f.path("resp.der") + " -CAfile " +
                       f.path("root.pem") + " -verify_other " + f.path("issuing.pem"));
  };
  auto g = ask(f.path("good.pem"), "");
  INFO(g.output);
  CHECK(g.output.find("Response verify OK") != std::string::npos);
  CHECK(g.output.find(": good") != std::string::npos);
  auto b = ask(f.path("bad.pem"), "-no_nonce -sha256");
  INFO(b.output);
  CHECK(b.output.find("Response verify OK") != std::string::npos);
  CHECK(b.output.find(": revoked") != std::string::npos);
  CHECK(b.output.find("keyCompromise") != std::string::npos);
  // A serial this CA never issued.
  require_ok(run_command("openssl ocsp -issuer " + f.path("issuing.pem") +
                         " -serial 0x5157A7 -reqout " + f.path("req.der")));
  require_ok(f.signet("ocsp respond --in " + f.path("req.der") + " --out " + f.path("resp.der")));
  auto u = run_command("openssl ocsp -no_nonce -issuer " + f.path("issuing.pem") +
                       " -serial 0x5157A7 -respin " + f.path("resp.der") + " -CAfile " +
                       f.path("root.pem") + " -verify_other " + f.path("issuing.pem"));
  INFO(u.output);
  CHECK(u.output.find("Response verify OK") != std::string::npos);
  CHECK(u.output.find(": unknown") != std::string::npos);

  auto set = json_of(f.signet("--json ca set issuing --ocsp-signing delegated"));
  CHECK(set["revocation"]["ocsp_signing"] == "delegated");
  CHECK(set["revocation"]["ocsp_signer_certificate_id"].get<int>() > 0);
  auto signer = json_of(f.signet("--json ocsp signer --ca issuing"));
  CHECK(signer["signing"] == "delegated");
  CHECK(signer["key_uri"].get<std::string>().find("signet-ocsp-issuing") != std::string::npos);
  auto d = ask(f.path("good.pem"), "");
  INFO(d.output);
  CHECK(d.output.find("Response verify OK") != std::string::npos);
  auto keys = pkcs11_tool(f, "--list-objects --type privkey");
  CHECK(keys.output.find("signet-ocsp-issuing") != std::string::npos);

  // Garbage in: an error response out, and a clear message.
  run_command("head -c 100 /dev/urandom > " + f.path("junk.der"));
  auto junk = f.signet("ocsp respond --in " + f.path("junk.der") + " --out " + f.path("err.der"));
  require_refused(junk, "malformed");
  auto read = run_command("openssl ocsp -respin " + f.path("err.der") + " -resp_text -noverify");
  CHECK(read.output.find("malformedrequest") != std::string::npos);
}
