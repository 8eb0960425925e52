// Revocation services over the real parts: CA keys on a SoftHSM token, records and CRLs in
// LMDB, CRLs and OCSP responses read by OpenSSL and GnuTLS, and processes that die between a
// revocation and its CRL or between reserving a CRL number and storing the CRL.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>

#include "crl/crl_service.h"
#include "crl/ocsp_responder.h"
#include "crl/ocsp_signers.h"
#include "crl/scheduler.h"
#include "pki/crl.h"
#include "pki/ocsp.h"
#include "pki/pem.h"
#include "tests/integration/ca/service_fixture.h"
#include "tests/integration/store/store_fixtures.h"

using namespace signet;
using store::testing::fork_child;
using store::testing::wait_child;

namespace {

struct Revocations : test::Appliance {
  crl::CrlStores stores() { return {*store, *store, *store, *store}; }
  std::unique_ptr<crl::CrlService> crls;
  std::unique_ptr<crl::OcspSigners> signers;

  Revocations() { make_revocation_services(); }
  void make_revocation_services() {
    crls = std::make_unique<crl::CrlService>(stores(), *keys, clock, "test");
    signers = std::make_unique<crl::OcspSigners>(*authority, stores(), *keys, clock, "test");
  }
  // Closes the store and everything over it (a child process then opens its own), and
  // opens them again, as a restarted appliance would.
  void close_all() {
    signers.reset();
    crls.reset();
    service.reset();
    authority.reset();
    store.reset();
  }
  void open_all() {
    open_store();
    make_services();
    make_revocation_services();
  }
  ca::CertificateRecord revoke(std::uint64_t id, ca::RevocationReason reason) {
    auto revoked = service->revoke({id, reason, std::nullopt});
    INFO((revoked ? "" : revoked.error().describe()));
    REQUIRE(revoked);
    return revoked->certificate;
  }
  std::string pem_file(const std::string& name, const char* label, const base::Bytes& der) {
    const auto path = state.path() / name;
    test::write_text(path, pki::pem_encode(label, der));
    return path.string();
  }
};

}  // namespace

TEST_CASE("a CRL signed on the token is read by OpenSSL and GnuTLS and revokes the leaf") {
  Revocations r;
  auto good = r.issue(test::key_on_token("CN=good.test"));
  auto bad = r.issue(test::key_on_token("CN=bad.test"));
  r.revoke(bad.certificate.id, ca::RevocationReason::kKeyCompromise);
  auto crl = r.crls->generate_full("issuing");
  INFO((crl ? "" : crl.error().describe()));
  REQUIRE(crl);
  CHECK(crl->entries == 1);

  auto issuing = r.authority->find_ca("issuing");
  auto root = r.authority->find_ca("root");
  REQUIRE(issuing);
  REQUIRE(root);
  const auto crl_pem = r.pem_file("crl.pem", "X509 CRL", crl->der);
  const auto issuing_pem = r.pem_file("issuing.pem", "CERTIFICATE", issuing->certificate_der);
  const auto chain = r.pem_file("chain.pem", "CERTIFICATE", issuing->certificate_der);
  test::write_text(chain, pki::pem_encode("CERTIFICATE", issuing->certificate_der) +
                              pki::pem_encode("CERTIFICATE", root->certificate_der));
  auto verified = test::run_command("openssl crl -in " + crl_pem + " -CAfile " + issuing_pem +
                                    " -noout -verify");
  INFO(verified.output);
  CHECK(verified.output.find("verify OK") != std::string::npos);
  const auto check = [&](const base::Bytes& leaf) {
    return test::run_command("openssl verify -crl_check -CAfile " + chain + " -CRLfile " + crl_pem +
                             " " + r.pem_file("leaf.pem", "CERTIFICATE", leaf));
  };
  auto passes = check(good.certificate.der);
  INFO(passes.output);
  CHECK(passes.exit_code == 0);
  auto fails = check(bad.certificate.der);
  INFO(fails.output);
  CHECK(fails.exit_code != 0);
  CHECK(fails.output.find("certificate revoked") != std::string::npos);

  auto gnutls = test::run_command("certtool --crl-info --infile " + crl_pem);
  INFO(gnutls.output);
  CHECK(gnutls.exit_code == 0);
  CHECK(gnutls.output.find("Revoked certificates (1)") != std::string::npos);
  std::string serial = bad.certificate.serial.to_hex();
  for (auto& c : serial) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  CHECK(gnutls.output.find(serial) != std::string::npos);
  auto gnutls_verify = test::run_command("certtool --verify-crl --load-ca-certificate " +
                                         issuing_pem + " --infile " + crl_pem);
  INFO(gnutls_verify.output);
  CHECK(gnutls_verify.exit_code == 0);
}

TEST_CASE("a revocation whose process died before the CRL is on the next CRL") {
  Revocations r;
  auto leaf = r.issue(test::key_on_token("CN=leaf.test"));
  REQUIRE(r.crls->generate_full("issuing"));
  const auto store_dir = r.state.path();
  const auto id = leaf.certificate.id;
  r.close_all();
  // Another process revokes (the store only: no token needed) and is killed before any CRL.
  const pid_t child = fork_child([&] {
    auto opened = store::LmdbStore::open(store_dir);
    if (!opened) return 10;
    ca::RevocationCommit commit;
    commit.certificate_id = id;
    commit.revocation.revoked_at =
        base::from_unix_seconds(base::to_unix_seconds(base::SystemClock().now()));
    commit.revocation.reason = 1;
    if (!(*opened)->revoke_certificate(commit)) return 11;
    ::raise(SIGKILL);
    return 12;
  });
  CHECK(wait_child(child) == 128 + SIGKILL);
  r.open_all();
  crl::RevocationScheduler scheduler(*r.crls, r.signers.get(), r.stores(), r.clock);
  auto done = scheduler.run_due("issuing");
  REQUIRE(done);
  REQUIRE(done->size() == 1);
  REQUIRE(done->front().crl);
  CHECK(done->front().crl->entries == 1);
  auto latest = r.crls->latest("issuing", ca::CrlKind::kFull);
  REQUIRE(latest);
  auto info = pki::inspect_crl(latest->der);
  REQUIRE(info);
  CHECK(info->entries == 1);
}

TEST_CASE("a CRL number reserved by a killed process is never handed out again") {
  Revocations r;
  REQUIRE(r.crls->generate_full("issuing"));  // number 1
  const auto store_dir = r.state.path();
  r.close_all();
  const pid_t child = fork_child([&] {
    auto opened = store::LmdbStore::open(store_dir);
    if (!opened) return 10;
    auto number = (*opened)->reserve_crl_number("issuing");
    if (!number || *number != 2) return 11;
    ::raise(SIGKILL);  // signed, perhaps published, never stored
    return 12;
  });
  CHECK(wait_child(child) == 128 + SIGKILL);
  r.open_all();
  auto next = r.crls->generate_full("issuing");
  REQUIRE(next);
  CHECK(next->number == 3);
}

TEST_CASE("OCSP over the token: CA-signed and delegated responses verify with openssl ocsp") {
  Revocations r;
  auto good = r.issue(test::key_on_token("CN=good.test"));
  auto bad = r.issue(test::key_on_token("CN=bad.test"));
  r.revoke(bad.certificate.id, ca::RevocationReason::kAffiliationChanged);
  auto issuing = r.authority->find_ca("issuing");
  auto root = r.authority->find_ca("root");
  REQUIRE(issuing);
  REQUIRE(root);
  const auto issuing_pem = r.pem_file("issuing.pem", "CERTIFICATE", issuing->certificate_der);
  const auto root_pem = r.pem_file("root.pem", "CERTIFICATE", root->certificate_der);
  const auto good_pem = r.pem_file("good.pem", "CERTIFICATE", good.certificate.der);
  const auto bad_pem = r.pem_file("bad.pem", "CERTIFICATE", bad.certificate.der);

  // openssl ocsp makes the request; the responder answers it; openssl ocsp checks the answer
  // (signature, chain, status) and, separately, that the request's nonce came back.
  const auto ask = [&](crl::OcspResponder& responder, const std::string& leaf,
                       const std::string& extra) {
    const auto request = (r.state.path() / "req.der").string();
    const auto response = (r.state.path() / "resp.der").string();
    auto made = test::run_command("openssl ocsp " + extra + " -issuer " + issuing_pem + " -cert " +
                                  leaf + " -reqout " + request);
    INFO(made.output);
    REQUIRE(made.exit_code == 0);
    test::write_file(response, responder.respond(test::read_file(request)));
    auto checked = test::run_command("openssl ocsp -no_nonce " + extra + " -issuer " + issuing_pem +
                                     " -cert " + leaf + " -respin " + response + " -CAfile " +
                                     root_pem + " -verify_other " + issuing_pem);
    const auto nonce = [](const std::string& text) {
      const auto at = text.find("OCSP Nonce:");
      return at == std::string::npos ? std::string() : text.substr(at, 60);
    };
    const auto asked =
        nonce(test::run_command("openssl ocsp -reqin " + request + " -req_text").output);
    const auto answered = nonce(
        test::run_command("openssl ocsp -respin " + response + " -resp_text -noverify").output);
    CHECK(asked == answered);  // both empty with -no_nonce
    return checked;
  };

  crl::OcspResponder responder(*r.store, *r.store, *r.signers, r.clock);
  auto g = ask(responder, good_pem, "");
  INFO(g.output);
  CHECK(g.output.find("Response verify OK") != std::string::npos);
  CHECK(g.output.find(": good") != std::string::npos);
  auto b = ask(responder, bad_pem, "-no_nonce");
  INFO(b.output);
  CHECK(b.output.find("Response verify OK") != std::string::npos);
  CHECK(b.output.find(": revoked") != std::string::npos);
  CHECK(b.output.find("affiliationChanged") != std::string::npos);

  ca::CaSettingsUpdate delegated;
  delegated.ocsp_signing = ca::OcspSigning::kDelegated;
  REQUIRE(r.authority->update_settings("issuing", delegated));
  auto issued = r.signers->renew("issuing");
  INFO((issued ? "" : issued.error().describe()));
  REQUIRE(issued);
  crl::OcspResponder delegated_responder(*r.store, *r.store, *r.signers, r.clock);
  auto d = ask(delegated_responder, good_pem, "-sha256");
  INFO(d.output);
  CHECK(d.output.find("Response verify OK") != std::string::npos);
  CHECK(d.output.find(": good") != std::string::npos);

  // The responder key was generated on the token, sensitive and never extractable.
  REQUIRE(issued->key_location);
  CHECK(issued->key_location->object_label == "signet-ocsp-issuing");
  auto attributes = r.keys->read_private_key_attributes(*issued->key_location);
  REQUIRE(attributes);
  CHECK(attributes->sensitive);
  CHECK(attributes->never_extractable);
  CHECK_FALSE(attributes->extractable);
}
