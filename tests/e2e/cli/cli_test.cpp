// The operator's paths through `signet`, checked by independent implementations.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/e2e/cli/cli_fixture.h"

using signet::test::CliFixture;
using signet::test::CommandResult;
using signet::test::python;
using signet::test::read_text;
using signet::test::run_command;

namespace {

void require_ok(const CommandResult& result) {
  INFO(result.output);
  REQUIRE(result.exit_code == 0);
}

nlohmann::json json_of(const CommandResult& result) {
  require_ok(result);
  // Diagnostics on stderr are merged into output; the JSON document starts at '{' or '['.
  auto start = result.output.find_first_of("{[");
  REQUIRE(start != std::string::npos);
  return nlohmann::json::parse(result.output.substr(start));
}

// python3-cryptography reads the certificate and prints facts we assert on.
constexpr const char* kDescribeCertificate = R"PY(
import sys
from cryptography import x509
from cryptography.x509.oid import ExtensionOID
c = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
print("serial_bits", c.serial_number.bit_length())
print("version", c.version.name)
bc = c.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS)
print("ca", bc.value.ca, "critical", bc.critical)
ku = c.extensions.get_extension_for_oid(ExtensionOID.KEY_USAGE)
print("ku_critical", ku.critical, "digital_signature", ku.value.digital_signature)
try:
    eku = c.extensions.get_extension_for_oid(ExtensionOID.EXTENDED_KEY_USAGE)
    print("eku", ",".join(sorted(o.dotted_string for o in eku.value)))
except x509.ExtensionNotFound:
    print("eku none")
try:
    san = c.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    print("san", ",".join(str(n.value) for n in san.value), "critical", san.critical)
except x509.ExtensionNotFound:
    print("san none")
ski = c.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_KEY_IDENTIFIER).value.digest.hex()
aki = c.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_KEY_IDENTIFIER).value.key_identifier.hex()
print("ski", ski)
print("aki", aki)
for ext in c.extensions:
    if ext.oid == ExtensionOID.CRL_DISTRIBUTION_POINTS:
        print("cdp", ext.value[0].full_name[0].value)
    if ext.oid == ExtensionOID.AUTHORITY_INFORMATION_ACCESS:
        for d in ext.value:
            print("aia", d.access_method.dotted_string, d.access_location.value)
)PY";

std::string describe(const std::string& pem_path) {
  auto result = python(kDescribeCertificate, pem_path);
  INFO(result.output);
  REQUIRE(result.exit_code == 0);
  return result.output;
}

}  // namespace

TEST_CASE("a root, an intermediate and leaves of every key type verify strictly") {
  CliFixture f;
  f.create_root_and_issuing();
  require_ok(f.signet("ca export root --out " + f.path("root.pem")));
  require_ok(f.signet("ca export issuing --out " + f.path("issuing.pem")));

  struct Case {
    std::string name, key, expected_algorithm;
  };
  for (const Case& c : {Case{"rsa", "rsa:2048", "rsa-2048"},
                        Case{"p256", "ec -pkeyopt ec_paramgen_curve:P-256", "ec-p256"},
                        Case{"p384", "ec -pkeyopt ec_paramgen_curve:P-384", "ec-p384"},
                        Case{"ed", "ed25519", "ed25519"}}) {
    SECTION(c.name) {
      auto csr = f.make_csr(c.name, c.key, "/CN=" + c.name + ".example.test/O=Tests",
                            "DNS:" + c.name + ".example.test,IP:192.0.2.7");
      auto issued = json_of(f.signet("--json cert issue --ca issuing --csr " + csr + " --out " +
                                     f.path(c.name + ".pem")));
      CHECK(issued["key_algorithm"] == c.expected_algorithm);
      CHECK(issued["status"] == "active");
      CHECK(issued["source"] == "managed");
      CHECK(issued["ca"] == "issuing");
      CHECK(issued["digest"] == "sha256");  // the issuing CA's key is P-256

      auto verify =
          run_command("openssl verify -x509_strict -CAfile " + f.path("root.pem") + " -untrusted " +
                      f.path("issuing.pem") + " " + f.path(c.name + ".pem"));
      INFO(verify.output);
      CHECK(verify.exit_code == 0);
      auto gnutls = run_command("certtool -i --infile " + f.path(c.name + ".pem"));
      INFO(gnutls.output);
      CHECK(gnutls.exit_code == 0);
      CHECK(gnutls.output.find(c.name + ".example.test") != std::string::npos);

      auto facts = describe(f.path(c.name + ".pem"));
      INFO(facts);
      CHECK(facts.find("version v3") != std::string::npos);
      CHECK(facts.find("ca False critical True") != std::string::npos);
      CHECK(facts.find("ku_critical True digital_signature True") != std::string::npos);
      CHECK(facts.find("eku 1.3.6.1.5.5.7.3.1,1.3.6.1.5.5.7.3.2") != std::string::npos);
      CHECK(facts.find("san " + c.name + ".example.test,192.0.2.7 critical False") !=
            std::string::npos);
      // 128 random bits: the top bits are zero once in a while, never more than a few.
      auto bits = std::stoi(facts.substr(facts.find("serial_bits ") + 12));
      CHECK(bits > 100);
      CHECK(bits <= 128);
    }
  }
}

TEST_CASE("the issuing CA's key identifier links leaf, intermediate and root") {
  CliFixture f;
  f.create_root_and_issuing();
  require_ok(f.signet("ca export issuing --out " + f.path("issuing.pem")));
  require_ok(f.signet("ca export root --out " + f.path("root.pem")));
  auto csr = f.make_csr("leaf", "ec -pkeyopt ec_paramgen_curve:P-256", "/CN=leaf.example.test");
  require_ok(f.signet("cert issue --ca issuing --csr " + csr + " --out " + f.path("leaf.pem")));
  auto leaf = describe(f.path("leaf.pem"));
  auto issuing = describe(f.path("issuing.pem"));
  auto root = describe(f.path("root.pem"));
  auto field = [](const std::string& facts, const std::string& name) {
    auto at = facts.find(name + " ");
    return facts.substr(at + name.size() + 1, facts.find('\n', at) - at - name.size() - 1);
  };
  CHECK(field(leaf, "aki") == field(issuing, "ski"));
  CHECK(field(issuing, "aki") == field(root, "ski"));
  CHECK(issuing.find("ca True critical True") != std::string::npos);
  // A CSR with only a DNS-like common name gets it as its SAN.
  CHECK(leaf.find("san leaf.example.test critical False") != std::string::npos);
  // The issuer name is the issuing CA's subject, byte for byte.
  auto issuer =
      run_command("openssl x509 -in " + f.path("leaf.pem") + " -noout -issuer -nameopt RFC2253");
  auto subject = run_command("openssl x509 -in " + f.path("issuing.pem") +
                             " -noout -subject -nameopt RFC2253");
  CHECK(issuer.output.substr(7) == subject.output.substr(8));
}

TEST_CASE("CA base URLs put CRL distribution point and AIA into issued certificates") {
  CliFixture f;
  f.create_root_and_issuing();
  auto set = json_of(f.signet(
      "--json ca set issuing --base-url http://pki.example.test/ --default-validity-days 30"));
  CHECK(set["crl_url"] == "http://pki.example.test/crl/issuing.crl");
  CHECK(set["default_validity_days"] == 30);
  auto csr = f.make_csr("web", "ec -pkeyopt ec_paramgen_curve:P-256", "/CN=web.example.test");
  auto issued = json_of(
      f.signet("--json cert issue --ca issuing --csr " + csr + " --out " + f.path("web.pem")));
  CHECK(issued["days_until_expiry"].get<int>() >= 29);
  CHECK(issued["days_until_expiry"].get<int>() <= 30);
  auto facts = describe(f.path("web.pem"));
  CHECK(facts.find("cdp http://pki.example.test/crl/issuing.crl") != std::string::npos);
  CHECK(facts.find("aia 1.3.6.1.5.5.7.48.1 http://pki.example.test/ocsp/issuing") !=
        std::string::npos);
  CHECK(facts.find("aia 1.3.6.1.5.5.7.48.2 http://pki.example.test/ca/issuing.crt") !=
        std::string::npos);
}

TEST_CASE("validity is capped at the issuing CA's notAfter") {
  CliFixture f;
  require_ok(
      f.signet("ca create-root --name short --subject CN=Short --key ec-p256 --validity-days 10"));
  auto csr = f.make_csr("long", "ec -pkeyopt ec_paramgen_curve:P-256", "/CN=long.example.test");
  auto issued =
      json_of(f.signet("--json cert issue --ca short --csr " + csr + " --validity-days 365"));
  auto ca = json_of(f.signet("--json ca show short"));
  CHECK(issued["not_after"] == ca["not_after"]);
}

TEST_CASE("certificates list, show and export by serial and by fingerprint") {
  CliFixture f;
  f.create_root_and_issuing();
  std::vector<std::string> serials;
  for (int i = 0; i < 3; ++i) {
    auto csr = f.make_csr("h" + std::to_string(i), "ec -pkeyopt ec_paramgen_curve:P-256",
                          "/CN=h" + std::to_string(i) + ".example.test");
    auto issued = json_of(f.signet("--json cert issue --ca issuing --csr " + csr +
                                   " --validity-days " + std::to_string(10 + i * 100)));
    serials.push_back(issued["serial"]);
  }
  auto all = json_of(f.signet("--json cert list --ca issuing"));
  REQUIRE(all["items"].size() == 3);
  CHECK(all["items"][0]["serial"] == serials[0]);  // soonest to expire first
  auto soon = json_of(f.signet("--json cert list --expiring-within 50"));
  REQUIRE(soon["items"].size() == 1);
  CHECK(soon["items"][0]["serial"] == serials[0]);
  auto active = json_of(f.signet("--json cert list --status active"));
  CHECK(active["items"].size() == 5);  // three leaves, the root and the intermediate
  CHECK(json_of(f.signet("--json cert list --status expired"))["items"].empty());
  auto page = json_of(f.signet("--json cert list --limit 2"));
  REQUIRE(page["items"].size() == 2);
  REQUIRE(page["next_cursor"].is_string());
  auto rest = json_of(
      f.signet("--json cert list --limit 2 --after " + page["next_cursor"].get<std::string>()));
  CHECK(rest["items"].size() == 2);

  auto shown = json_of(f.signet("--json cert show " + serials[1]));
  CHECK(shown["common_name"] == "h1.example.test");
  // Lower case with colons works too, and the fingerprint finds the same certificate.
  std::string lower_colon;
  for (std::size_t i = 0; i < serials[1].size(); i += 2) {
    if (i) lower_colon += ':';
    lower_colon += static_cast<char>(std::tolower(serials[1][i]));
    lower_colon += static_cast<char>(std::tolower(serials[1][i + 1]));
  }
  CHECK(json_of(f.signet("--json cert show " + lower_colon))["serial"] == serials[1]);
  auto by_fingerprint =
      json_of(f.signet("--json cert show " + shown["fingerprint_sha256"].get<std::string>()));
  CHECK(by_fingerprint["serial"] == serials[1]);
  auto human = f.signet("cert show " + serials[1]);
  require_ok(human);
  CHECK(human.output.find("SHA-256 fingerprint:") != std::string::npos);

  require_ok(f.signet("cert export " + serials[1] + " --format der --out " + f.path("h1.der")));
  auto der = run_command("openssl x509 -inform der -in " + f.path("h1.der") + " -noout -serial");
  CHECK(der.output.find("serial=" + serials[1]) != std::string::npos);
  require_ok(f.signet("cert export " + serials[1] + " --chain --out " + f.path("h1-chain.pem")));
  require_ok(f.signet("ca export root --out " + f.path("root.pem")));
  auto verify = run_command("openssl verify -x509_strict -CAfile " + f.path("root.pem") +
                            " -untrusted " + f.path("h1-chain.pem") + " " + f.path("h1-chain.pem"));
  INFO(verify.output);
  CHECK(verify.exit_code == 0);
  auto count = run_command("grep -c \"BEGIN CERTIFICATE\" " + f.path("h1-chain.pem"));
  CHECK(count.output == "3\n");
}

TEST_CASE("an intermediate signed by an external root is installed and issues") {
  CliFixture f;
  // An offline root made by openssl alone.
  require_ok(run_command(
      "cd " + f.path("") +
      " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes "
      "-keyout offline.key -subj /CN=Offline-Root -days 3650 -out offline.pem "
      "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign"));
  require_ok(f.signet("ca create-intermediate --name ext --external --csr-out " +
                      f.path("ext.csr") +
                      " --subject \"CN=External Issuing,O=Signet Tests\" --key ec-p256"));
  auto awaiting = json_of(f.signet("--json ca show ext"));
  CHECK(awaiting["state"] == "awaiting-certificate");
  auto csr = f.make_csr("early", "ec -pkeyopt ec_paramgen_curve:P-256", "/CN=early.example.test");
  auto early = f.signet("cert issue --ca ext --csr " + csr);
  CHECK(early.exit_code != 0);
  CHECK(early.output.find("import-cert") != std::string::npos);

  require_ok(run_command("openssl req -verify -noout -in " + f.path("ext.csr")));
  require_ok(run_command(
      "cd " + f.path("") +
      " && printf "
      "\"basicConstraints=critical,CA:TRUE,pathlen:0\\nkeyUsage=critical,keyCertSign,"
      "cRLSign\\nsubjectKeyIdentifier=hash\\nauthorityKeyIdentifier=keyid\\n\" > ext.cnf && "
      "openssl x509 -req -in ext.csr -CA offline.pem -CAkey offline.key -CAcreateserial "
      "-days 365 -extfile ext.cnf -out ext-signed.pem && cat ext-signed.pem offline.pem > "
      "ext-bundle.pem"));
  // The wrong certificate (the root itself) is refused: it does not carry the CA's key.
  auto wrong = f.signet("ca import-cert --name ext --cert " + f.path("offline.pem"));
  CHECK(wrong.exit_code != 0);
  CHECK(wrong.output.find("not the key of CA") != std::string::npos);
  require_ok(f.signet("ca import-cert --name ext --cert " + f.path("ext-bundle.pem")));
  CHECK(json_of(f.signet("--json ca show ext"))["state"] == "active");

  require_ok(
      f.signet("cert issue --ca ext --csr " + csr + " --chain --out " + f.path("early.pem")));
  auto verify = run_command("openssl verify -x509_strict -CAfile " + f.path("offline.pem") +
                            " -untrusted " + f.path("early.pem") + " " + f.path("early.pem"));
  INFO(verify.output);
  CHECK(verify.exit_code == 0);
}

TEST_CASE("a CA adopts an existing key on a token it did not create") {
  CliFixture f(false);
  // A token made with softhsm2-util, and a key made with OpenSC's pkcs11-tool.
  require_ok(f.shell("mkdir -p " + f.state() + "/softhsm/tokens " + f.state() +
                     "/pins && chmod 700 " + f.state()));
  signet::test::write_text(f.softhsm_conf(),
                           "directories.tokendir = " + f.state() +
                               "/softhsm/tokens\nobjectstore.backend = file\nlog.level = ERROR\n");
  signet::test::write_text(f.pin_file(), "4321\n", 0600);
  require_ok(
      f.shell("softhsm2-util --init-token --free --label other --so-pin 87654321 --pin 4321"));
  require_ok(
      f.shell("pkcs11-tool --module /usr/lib/softhsm/libsofthsm2.so --token-label other --login "
              "--pin 4321 --keypairgen --key-type EC:prime256v1 --id 99 --label adopted"));
  auto tokens = json_of(f.signet("--json token list"));
  bool found = false;
  for (const auto& t : tokens) found = found || t["label"] == "other";
  CHECK(found);
  auto ca =
      json_of(f.signet("--json --token other ca create-root --name adopted --subject CN=Adopted "
                       "--key-uri \"pkcs11:token=other;object=adopted;type=private\""));
  CHECK(ca["key_algorithm"] == "ec-p256");
  CHECK(ca["key_uri"].get<std::string>().find("id=%99") != std::string::npos);
  auto csr = f.make_csr("a", "ec -pkeyopt ec_paramgen_curve:P-256", "/CN=a.example.test");
  require_ok(
      f.signet("--token other cert issue --ca adopted --csr " + csr + " --out " + f.path("a.pem")));
  require_ok(f.signet("--token other ca export adopted --out " + f.path("adopted.pem")));
  auto verify = run_command("openssl verify -x509_strict -CAfile " + f.path("adopted.pem") + " " +
                            f.path("a.pem"));
  INFO(verify.output);
  CHECK(verify.exit_code == 0);
}

TEST_CASE("CA private keys on the token are sensitive, never extractable and local") {
  CliFixture f;
  f.create_root_and_issuing();
  auto objects = f.shell(
      "pkcs11-tool --module /usr/lib/softhsm/libsofthsm2.so --token-label signet "
      "--login --pin \"$(cat " +
      f.pin_file() + ")\" --list-objects --type privkey");
  INFO(objects.output);
  REQUIRE(objects.exit_code == 0);
  CHECK(objects.output.find("signet-ca-root") != std::string::npos);
  CHECK(objects.output.find("signet-ca-issuing") != std::string::npos);
  std::size_t keys = 0;
  for (std::size_t at = objects.output.find("Access:"); at != std::string::npos;
       at = objects.output.find("Access:", at + 1)) {
    auto line = objects.output.substr(at, objects.output.find('\n', at) - at);
    CHECK(line.find("sensitive, always sensitive, never extractable, local") != std::string::npos);
    ++keys;
  }
  CHECK(keys == 2);
}

TEST_CASE("a backup restored into a fresh directory issues and lists as before") {
  CliFixture f;
  f.create_root_and_issuing();
  auto csr = f.make_csr("before", "ec -pkeyopt ec_paramgen_curve:P-256", "/CN=before.example.test");
  auto before = json_of(f.signet("--json cert issue --ca issuing --csr " + csr));
  require_ok(f.signet("store backup --out " + f.path("backup")));
  auto non_empty = f.signet("store backup --out " + f.path("backup"));
  CHECK(non_empty.exit_code != 0);

  const std::string fresh = f.path("fresh");
  const std::vector<std::string> env = {"SIGNET_STATE=" + fresh, "-u SOFTHSM2_CONF"};
  require_ok(f.signet("store restore --from " + f.path("backup"), env));
  auto listed = json_of(f.signet("--json cert list", env));
  CHECK(listed["items"].size() == 3);
  CHECK(json_of(f.signet("--json cert show " + before["serial"].get<std::string>(),
                         env))["common_name"] == "before.example.test");
  auto csr2 = f.make_csr("after", "ec -pkeyopt ec_paramgen_curve:P-256", "/CN=after.example.test");
  auto after = f.signet("--json cert issue --ca issuing --csr " + csr2, env);
  require_ok(after);
  CHECK(json_of(f.signet("--json cert list", env))["items"].size() == 4);
  auto again = f.signet("store restore --from " + f.path("backup"), env);
  CHECK(again.exit_code != 0);

  // Both ends are audited: the backup in the original store, the restore in the restored one.
  auto backups = json_of(f.signet("--json audit list --action store.backup"));
  REQUIRE(backups["items"].size() == 1);
  CHECK(backups["items"][0]["object"] == "store");
  auto restores = json_of(f.signet("--json audit list --action store.restore", env));
  REQUIRE(restores["items"].size() == 1);
  CHECK(restores["items"][0]["detail"]["from"] == f.path("backup"));
  CHECK(backups["items"][0]["detail"]["directory"] == f.path("backup"));
  CHECK(json_of(f.signet("--json audit list --action store.backup", env))["items"].empty());
}

TEST_CASE("token list and init report tokens and keep PINs in 0600 files") {
  CliFixture f;
  auto tokens = json_of(f.signet("--json token list"));
  REQUIRE(tokens.is_array());
  bool found = false;
  for (const auto& t : tokens) found = found || t["label"] == "signet";
  CHECK(found);
  auto mode = run_command("stat -c %a " + f.pin_file() + " " + f.state() + "/pins/signet.so.pin");
  CHECK(mode.output == "600\n600\n");
  auto duplicate = f.signet("token init --label signet");
  CHECK(duplicate.exit_code != 0);
  CHECK(duplicate.output.find("signet") != std::string::npos);
}

TEST_CASE("CAs with RSA, P-384 and Ed25519 keys issue certificates that verify strictly") {
  CliFixture f;
  struct Case {
    std::string key, digest;
  };
  for (const Case& c :
       {Case{"rsa-3072", "sha256"}, Case{"ec-p384", "sha384"}, Case{"ed25519", "none"}}) {
    SECTION(c.key) {
      require_ok(
          f.signet("ca create-root --name r --subject \"CN=Root " + c.key + "\" --key " + c.key));
      require_ok(f.signet("ca create-intermediate --name i --parent r --subject \"CN=Issuing " +
                          c.key + "\" --key " + c.key));
      require_ok(f.signet("ca export r --out " + f.path("r.pem")));
      auto csr = f.make_csr("leaf", "ec -pkeyopt ec_paramgen_curve:P-256", "/CN=leaf.example.test");
      auto issued = json_of(f.signet("--json cert issue --ca i --csr " + csr + " --chain --out " +
                                     f.path("leaf.pem")));
      CHECK(issued["digest"] == c.digest);
      auto verify = run_command("openssl verify -x509_strict -CAfile " + f.path("r.pem") +
                                " -untrusted " + f.path("leaf.pem") + " " + f.path("leaf.pem"));
      INFO(verify.output);
      CHECK(verify.exit_code == 0);
      auto gnutls = run_command("certtool -i --infile " + f.path("leaf.pem"));
      CHECK(gnutls.exit_code == 0);
      auto ca = json_of(f.signet("--json ca show i"));
      CHECK(ca["key_algorithm"] == c.key);
    }
  }
}
