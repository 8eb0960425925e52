// Issuance from each key source through an RA profile: a CSR, an existing key on a token, a
// key generated on the token, and a local software key delivered once as PKCS#12. Checked by
// openssl, pkcs11-tool and the token's own attributes.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cctype>
#include <nlohmann/json.hpp>

#include "tests/e2e/cli/cli_checks.h"

using namespace signet::test;

namespace {

// The one-time password from the line "PFX password (shown once): ..." on stderr.
std::string shown_password(const std::string& output) {
  const std::string marker = "PFX password (shown once): ";
  const auto at = output.find(marker);
  REQUIRE(at != std::string::npos);
  const auto start = at + marker.size();
  return output.substr(start, output.find('\n', start) - start);
}

int file_mode(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return static_cast<int>(st.st_mode & 0777);
}

// `openssl pkcs12 -info` with the password read from a file (never on a command line).
CommandResult pkcs12_info(const std::string& pfx, const std::string& password_file) {
  return run_command("openssl pkcs12 -info -noout -in " + pfx + " -passin file:" + password_file);
}

// The public key of the private key inside a PFX, as PEM.
std::string pfx_public_key(const std::string& pfx, const std::string& password_file) {
  auto result = run_command("openssl pkcs12 -in " + pfx + " -passin file:" + password_file +
                            " -nocerts -nodes | openssl pkey -pubout");
  INFO(result.output);
  REQUIRE(result.exit_code == 0);
  return result.output.substr(result.output.find("-----BEGIN PUBLIC KEY-----"));
}

}  // namespace

TEST_CASE("a CSR issues through the CA's default profile and records a complete order") {
  CliFixture f;
  make_cas(f);
  auto csr = f.make_csr("web", "ec -pkeyopt ec_paramgen_curve:P-256", "/CN=web.example.test",
                        "DNS:web.example.test");
  auto issued = json_of(
      f.signet("--json cert issue --ca issuing --csr " + csr + " --out " + f.path("web.pem")));
  CHECK(issued["profile"] == "issuing/default");
  CHECK(issued["source"] == "managed");
  CHECK(issued["order"]["status"] == "complete");
  CHECK(issued["order"]["key_source"] == "csr");
  CHECK(issued["warnings"].empty());
  require_ok(openssl_verify(f, f.path("web.pem"), f.path("issuing.pem")));

  const auto order_id = issued["order_id"].get<std::uint64_t>();
  auto order = json_of(f.signet("--json order show " + std::to_string(order_id)));
  CHECK(order["kind"] == "issue");
  CHECK(order["status"] == "complete");
  CHECK(order["common_name"] == "web.example.test");
  CHECK(order["certificate_id"] == issued["id"]);
  CHECK(order["requested_by"].get<std::string>().rfind("cli:", 0) == 0);
  // The same through --profile, naming it CA/NAME; and the human summary names the order.
  auto human = f.signet("cert issue --profile issuing/default --csr " + csr + " --out " +
                        f.path("web2.pem"));
  require_ok(human);
  CHECK(human.output.find("(order ") != std::string::npos);
  CHECK(human.output.find("Profile:") != std::string::npos);
  // Without --out the PEM is stdout's alone (the summary goes to stderr).
  auto piped = f.shell(signet_binary() + " cert issue --ca issuing --csr " + csr +
                       " 2>/dev/null > " + f.path("piped.pem"));
  require_ok(piped);
  require_ok(openssl_verify(f, f.path("piped.pem"), f.path("issuing.pem")));
}

TEST_CASE("an existing key on the token signs its request and is recorded as the key location") {
  CliFixture f;
  make_cas(f);
  require_ok(pkcs11_tool(f, "--keypairgen --key-type EC:prime256v1 --id 77 --label existing"));
  auto issued =
      json_of(f.signet("--json cert issue --ca issuing --key-uri "
                       "\"pkcs11:token=signet;object=existing;type=private\" "
                       "--subject \"CN=tk.example.test,O=Tests\" --san DNS:tk.example.test --out " +
                       f.path("tk.pem")));
  CHECK(issued["order"]["key_source"] == "token-key");
  CHECK(issued["key_algorithm"] == "ec-p256");
  CHECK(issued["key_location"].get<std::string>().find("id=%77") != std::string::npos);
  require_ok(openssl_verify(f, f.path("tk.pem"), f.path("issuing.pem")));
  // The certificate carries the token key: a signature made by pkcs11-tool (raw ECDSA over
  // the SHA-256 of the data, as SoftHSM offers no ECDSA-SHA256) verifies with it.
  write_text(f.path("data.txt"), "signed on the token\n");
  require_ok(run_command("openssl dgst -sha256 -binary -out " + f.path("data.hash") + " " +
                         f.path("data.txt")));
  require_ok(pkcs11_tool(f, "--sign --mechanism ECDSA --id 77 --signature-format openssl -i " +
                                f.path("data.hash") + " -o " + f.path("data.sig")));
  write_text(f.path("tk.pub"), public_key_of(f.path("tk.pem")));
  auto verified = run_command("openssl dgst -sha256 -verify " + f.path("tk.pub") + " -signature " +
                              f.path("data.sig") + " " + f.path("data.txt"));
  INFO(verified.output);
  CHECK(verified.exit_code == 0);
  // A URI that names no key, or carries a PIN, is refused before anything is issued.
  require_refused(f.signet("cert issue --ca issuing --key-uri \"pkcs11:token=signet;object=nokey\" "
                           "--subject CN=x.example.test"),
                  "nokey");
  // The appliance's own keys are never certified: a CA's signing key, or a reserved label.
  auto issuing = json_of(f.signet("--json ca show issuing"));
  require_refused(
      f.signet("cert issue --ca issuing --key-uri \"" + issuing["key_uri"].get<std::string>() +
               "\" --subject CN=ca-key.example.test"),
      "signing key of CA 'issuing'");
  require_ok(
      pkcs11_tool(f, "--keypairgen --key-type EC:prime256v1 --id 78 --label signet-audit-x"));
  require_refused(f.signet("cert issue --ca issuing --key-uri "
                           "\"pkcs11:token=signet;object=signet-audit-x;type=private\" "
                           "--subject CN=reserved.example.test"),
                  "one of the appliance's own keys");
  // A CSR carries its own subject: --subject with --csr is a mistake, said so.
  auto csr = f.make_csr("c", "ec -pkeyopt ec_paramgen_curve:P-256", "/CN=c.example.test");
  require_refused(f.signet("cert issue --ca issuing --csr " + csr + " --subject CN=other"),
                  "--subject");
  require_refused(f.signet("cert issue --ca issuing --csr " + csr + " --key-on-token"),
                  "only one key source");
  require_refused(f.signet("cert issue --ca issuing --subject CN=x"), "key source");
}

TEST_CASE("a key generated on the token is sensitive, never extractable, and in the inventory") {
  CliFixture f;
  make_cas(f);
  auto issued =
      json_of(f.signet("--json cert issue --ca issuing --key-on-token --key ec-p384 "
                       "--subject CN=kot.example.test --out " +
                       f.path("kot.pem")));
  CHECK(issued["order"]["key_source"] == "key-on-token");
  CHECK(issued["key_algorithm"] == "ec-p384");
  const auto uri = issued["key_location"].get<std::string>();
  std::string lower_uri = uri;
  for (auto& c : lower_uri) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  CHECK(uri.find("pkcs11:") == 0);
  CHECK(uri.find("token=signet") != std::string::npos);
  require_ok(openssl_verify(f, f.path("kot.pem"), f.path("issuing.pem")));

  // The token's own attributes, read by signet and by OpenSC's pkcs11-tool.
  auto keys = json_of(f.signet("--json token keys"));
  bool found = false;
  for (const auto& key : keys) {
    const auto id = key["id"].get<std::string>();
    std::string encoded;
    for (std::size_t i = 0; i < id.size(); i += 2) encoded += "%" + id.substr(i, 2);
    if (lower_uri.find("id=" + encoded + ";") == std::string::npos) continue;
    found = true;
    CHECK(key["sensitive"] == true);
    CHECK(key["extractable"] == false);
    CHECK(key["never_extractable"] == true);
    CHECK(key["local"] == true);
    CHECK(key["algorithm"] == "ec-p384");
  }
  CHECK(found);
  auto objects = pkcs11_tool(f, "--list-objects --type privkey");
  INFO(objects.output);
  REQUIRE(objects.exit_code == 0);
  std::size_t private_keys = 0;
  for (auto at = objects.output.find("Access:"); at != std::string::npos;
       at = objects.output.find("Access:", at + 1)) {
    auto line = objects.output.substr(at, objects.output.find('\n', at) - at);
    CHECK(line.find("sensitive, always sensitive, never extractable, local") != std::string::npos);
    ++private_keys;
  }
  CHECK(private_keys == 3);  // root, issuing and the new leaf key
  // Such a key never leaves the token, so there is no PFX of it.
  require_refused(f.signet("cert export " + issued["serial"].get<std::string>() +
                           " --format pfx --out " + f.path("no.pfx")),
                  "PFX export refused");
  CHECK(run_command("test -e " + f.path("no.pfx")).exit_code != 0);
}

TEST_CASE("a local key comes once as PKCS#12 of either profile and can be exported again") {
  CliFixture f;
  make_cas(f);

  SECTION("modern, password shown once on stderr") {
    auto issued = f.signet(
        "cert issue --ca issuing --local-key --key ec-p256 --subject "
        "CN=lk.example.test --san DNS:lk.example.test --pfx-out " +
        f.path("lk.pfx"));
    require_ok(issued);
    const auto password = shown_password(issued.output);
    CHECK(password.size() >= 20);
    write_text(f.path("lk.pw"), password + "\n", 0600);
    CHECK(file_mode(f.path("lk.pfx")) == 0600);
    auto info = pkcs12_info(f.path("lk.pfx"), f.path("lk.pw"));
    INFO(info.output);
    REQUIRE(info.exit_code == 0);
    CHECK(info.output.find("PBKDF2") != std::string::npos);
    CHECK(info.output.find("AES-256-CBC") != std::string::npos);
    CHECK(info.output.find("MAC: sha256") != std::string::npos);
    // A wrong password does not open it.
    write_text(f.path("wrong.pw"), "not-the-password\n", 0600);
    CHECK(pkcs12_info(f.path("lk.pfx"), f.path("wrong.pw")).exit_code != 0);
  }
  SECTION("compat, password to a 0600 file") {
    auto issued = json_of(f.signet(
        "--json cert issue --ca issuing --local-key --key rsa-2048 --subject CN=old.example.test "
        "--pfx-out " +
        f.path("old.pfx") + " --pfx-profile compat --password-out " + f.path("old.pw")));
    CHECK(issued["order"]["key_source"] == "local-key");
    CHECK(issued["pfx_profile"] == "compat");
    CHECK(issued.dump().find(read_text(f.path("old.pw")).substr(0, 12)) == std::string::npos);
    CHECK(file_mode(f.path("old.pw")) == 0600);
    auto info = pkcs12_info(f.path("old.pfx"), f.path("old.pw"));
    INFO(info.output);
    REQUIRE(info.exit_code == 0);
    CHECK(info.output.find("pbeWithSHA1And3-KeyTripleDES-CBC") != std::string::npos);
    CHECK(info.output.find("MAC: sha1") != std::string::npos);
    // The key in the PFX is the certificate's key, and the chain verifies.
    require_ok(f.signet("cert export " + issued["serial"].get<std::string>() + " --out " +
                        f.path("old.pem")));
    CHECK(pfx_public_key(f.path("old.pfx"), f.path("old.pw")) == public_key_of(f.path("old.pem")));
    require_ok(openssl_verify(f, f.path("old.pem"), f.path("issuing.pem")));

    // Later: the same key again, with a new password (the first one was never stored).
    const auto serial = issued["serial"].get<std::string>();
    require_ok(f.signet("cert export " + serial + " --format pfx --out " + f.path("again.pfx") +
                        " --password-out " + f.path("again.pw")));
    CHECK(read_text(f.path("again.pw")) != read_text(f.path("old.pw")));
    require_ok(pkcs12_info(f.path("again.pfx"), f.path("again.pw")));
    CHECK(pkcs12_info(f.path("again.pfx"), f.path("old.pw")).exit_code != 0);
    CHECK(pfx_public_key(f.path("again.pfx"), f.path("again.pw")) ==
          public_key_of(f.path("old.pem")));
    // PFX needs a file, and an existing password file is never overwritten.
    require_refused(f.signet("cert export " + serial + " --format pfx"), "--out");
    require_refused(f.signet("cert export " + serial + " --format pfx --out " +
                             f.path("third.pfx") + " --password-out " + f.path("again.pw")),
                    "already exists");
    // Each delivery is audited: the first with the issuance, and this one.
    auto events = json_of(f.signet("--json audit list --action certificate.download_pfx"));
    CHECK(events["items"].size() == 2);
  }
  SECTION("a CSR's certificate has no key here to export") {
    auto csr = f.make_csr("c", "ec -pkeyopt ec_paramgen_curve:P-256", "/CN=c.example.test");
    auto issued = json_of(f.signet("--json cert issue --ca issuing --csr " + csr));
    require_refused(
        f.signet("cert export " + issued["serial"].get<std::string>() + " --format pfx --out " +
                 f.path("c.pfx") + " --password-out " + f.path("c.pw")),
        "PFX export refused");
    CHECK(run_command("test -e " + f.path("c.pfx")).exit_code != 0);
    CHECK(run_command("test -e " + f.path("c.pw")).exit_code != 0);
    require_refused(f.signet("cert issue --ca issuing --local-key --subject CN=n.example.test"),
                    "--pfx-out");
  }
}
