// crl::CrlService over the in-memory store with software keys: what a full and a delta CRL
// carry, checked with OpenSSL's parser and its command line (an independent implementation).
#include <openssl/x509v3.h>

#include <catch2/catch.hpp>

#include "pki/crl.h"
#include "pki/digest.h"
#include "tests/unit/crl/crl_test_helpers.h"

using namespace signet;
using namespace std::chrono_literals;
using ca::RevocationReason;
using test::RevocationHarness;

namespace {

std::string attime(const RevocationHarness& h) {
  return std::to_string(base::to_unix_seconds(h.clock.now()));
}

void write_pem(const std::filesystem::path& path, const char* label,
               const std::vector<base::Bytes>& ders) {
  std::string pem;
  for (const auto& der : ders) pem += pki::pem_encode(label, der);
  test::write_text(path, pem);
}

// The reason code of the entry for `serial`; -1 when the entry has none, -2 when absent.
int entry_reason(X509_CRL* crl, const pki::SerialNumber& serial) {
  auto* revoked = X509_CRL_get_REVOKED(crl);
  for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
    auto* entry = sk_X509_REVOKED_value(revoked, i);
    const ASN1_INTEGER* number = X509_REVOKED_get0_serialNumber(entry);
    base::Bytes magnitude(number->data, number->data + number->length);
    if (magnitude != serial.magnitude()) continue;
    int critical = 0;
    std::unique_ptr<ASN1_ENUMERATED, base::OpenSslDeleter<ASN1_ENUMERATED_free>> reason(
        static_cast<ASN1_ENUMERATED*>(
            X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, &critical, nullptr)));
    return reason ? static_cast<int>(ASN1_ENUMERATED_get(reason.get())) : -1;
  }
  return -2;
}

bool has_invalidity_date(X509_CRL* crl, const pki::SerialNumber& serial) {
  auto* revoked = X509_CRL_get_REVOKED(crl);
  for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
    auto* entry = sk_X509_REVOKED_value(revoked, i);
    const ASN1_INTEGER* number = X509_REVOKED_get0_serialNumber(entry);
    if (base::Bytes(number->data, number->data + number->length) != serial.magnitude()) continue;
    return X509_REVOKED_get_ext_by_NID(entry, NID_invalidity_date, -1) >= 0;
  }
  return false;
}

}  // namespace

TEST_CASE("a full CRL lists the CA's revoked certificates, signed by the CA key") {
  RevocationHarness h;
  auto good = h.issue("good.test");
  auto a = h.issue("a.test");
  auto b = h.issue("b.test");
  auto c = h.issue("c.test");
  auto other_ca = h.issue("root-leaf.test", 30, "root");
  h.revoke(a, RevocationReason::kUnspecified);
  h.revoke(b, RevocationReason::kKeyCompromise, h.clock.now() - 48h);
  h.revoke(c, RevocationReason::kSuperseded);
  h.revoke(other_ca, RevocationReason::kCessationOfOperation);

  auto crl = h.full();
  CHECK(crl.number == 1);
  CHECK(crl.kind == ca::CrlKind::kFull);
  CHECK(crl.entries == 3);
  CHECK(crl.der_size == crl.der.size());
  CHECK(crl.next_update - crl.this_update == 24h);

  auto info = pki::inspect_crl(crl.der);
  REQUIRE(info);
  CHECK(info->number == 1);
  CHECK(info->entries == 3);
  CHECK_FALSE(info->delta_base);
  CHECK(info->issuer == "CN=Test Issuing,O=Tests,C=DE");
  CHECK(info->signature_algorithm == "ecdsa-with-SHA256");
  CHECK(info->freshest_crl_url.empty());  // no deltas configured

  auto parsed = test::openssl_crl(crl.der);
  CHECK(X509_CRL_get_version(parsed.get()) == 1);     // v2
  CHECK(entry_reason(parsed.get(), a.serial) == -1);  // unspecified: no reasonCode (§5.3.1)
  CHECK(entry_reason(parsed.get(), b.serial) == 1);
  CHECK(entry_reason(parsed.get(), c.serial) == 4);
  CHECK(entry_reason(parsed.get(), good.serial) == -2);
  CHECK(entry_reason(parsed.get(), other_ca.serial) == -2);  // another CA's
  CHECK(has_invalidity_date(parsed.get(), b.serial));
  CHECK_FALSE(has_invalidity_date(parsed.get(), a.serial));
  // AKI = the CA's SKI.
  auto issuing = test::parse(h.ca("issuing").certificate_der);
  std::unique_ptr<AUTHORITY_KEYID, base::OpenSslDeleter<AUTHORITY_KEYID_free>> aki(
      static_cast<AUTHORITY_KEYID*>(
          X509_CRL_get_ext_d2i(parsed.get(), NID_authority_key_identifier, nullptr, nullptr)));
  REQUIRE(aki);
  REQUIRE(aki->keyid);
  CHECK(base::Bytes(aki->keyid->data, aki->keyid->data + aki->keyid->length) ==
        issuing.subject_key_identifier());
  auto verifies = pki::crl_signature_verifies(crl.der, issuing.public_key_der());
  REQUIRE(verifies);
  CHECK(*verifies);

  // The same with OpenSSL's command line, and `openssl verify -crl_check` on the leaves.
  test::TempDir dir;
  write_pem(dir / "crl.pem", "X509 CRL", {crl.der});
  write_pem(dir / "issuing.pem", "CERTIFICATE", {h.ca("issuing").certificate_der});
  write_pem(dir / "chain.pem", "CERTIFICATE",
            {h.ca("issuing").certificate_der, h.ca("root").certificate_der});
  write_pem(dir / "good.pem", "CERTIFICATE", {good.der});
  write_pem(dir / "b.pem", "CERTIFICATE", {b.der});
  auto checked = test::run_command("openssl crl -in " + (dir / "crl.pem").string() + " -CAfile " +
                                   (dir / "issuing.pem").string() + " -noout -verify");
  INFO(checked.output);
  CHECK(checked.exit_code == 0);
  CHECK(checked.output.find("verify OK") != std::string::npos);
  const std::string verify = "openssl verify -attime " + attime(h) + " -crl_check -CAfile " +
                             (dir / "chain.pem").string() + " -CRLfile " +
                             (dir / "crl.pem").string() + " ";
  auto passes = test::run_command(verify + (dir / "good.pem").string());
  INFO(passes.output);
  CHECK(passes.exit_code == 0);
  auto fails = test::run_command(verify + (dir / "b.pem").string());
  INFO(fails.output);
  CHECK(fails.exit_code != 0);
  CHECK(fails.output.find("certificate revoked") != std::string::npos);
}

TEST_CASE("a CRL without revocations has no revokedCertificates list") {
  RevocationHarness h;
  h.issue("good.test");
  auto crl = h.full();
  CHECK(crl.entries == 0);
  auto parsed = test::openssl_crl(crl.der);
  auto* revoked = X509_CRL_get_REVOKED(parsed.get());
  CHECK((revoked == nullptr || sk_X509_REVOKED_num(revoked) == 0));
  test::TempDir dir;
  write_pem(dir / "crl.pem", "X509 CRL", {crl.der});
  auto text = test::run_command("openssl crl -in " + (dir / "crl.pem").string() + " -noout -text");
  CHECK(text.output.find("No Revoked Certificates") != std::string::npos);
}

TEST_CASE("CRL numbers rise across full and delta CRLs and the history is kept") {
  RevocationHarness h;
  h.set("issuing", [] {
    ca::CaSettingsUpdate u;
    u.delta_crls = true;
    u.crl_history = 2;
    return u;
  }());
  auto first = h.full();
  auto delta = h.delta();
  auto second = h.full();
  auto third = h.full();
  CHECK(first.number == 1);
  CHECK(delta.number == 2);
  CHECK(delta.base_number == 1);
  CHECK(second.number == 3);
  CHECK(third.number == 4);
  auto latest = h.crls.latest("issuing", ca::CrlKind::kFull);
  REQUIRE(latest);
  CHECK(latest->number == 4);
  CHECK(latest->der == third.der);
  // Only the newest two full CRLs are kept; the delta is of another kind and stays.
  CHECK_FALSE(h.crls.find("issuing", 1));
  CHECK(h.crls.find("issuing", 2));
  CHECK(h.crls.find("issuing", 3));
  // The root's numbers are its own.
  CHECK(h.full("root").number == 1);
  // Every generation is audited.
  auto events = h.store.list_audit(0, 1000);
  REQUIRE(events);
  int generated = 0;
  for (const auto& e : *events) generated += e.action == "crl.generated" ? 1 : 0;
  CHECK(generated == 5);
}

TEST_CASE("a delta CRL holds the revocations after its base and points at it") {
  RevocationHarness h;
  h.set("issuing", [] {
    ca::CaSettingsUpdate u;
    u.delta_crls = true;
    return u;
  }());
  auto before = h.issue("before.test");
  auto after = h.issue("after.test");
  auto good = h.issue("good.test");
  h.revoke(before, RevocationReason::kKeyCompromise);
  auto base_crl = h.full();
  CHECK(base_crl.entries == 1);
  auto base_info = pki::inspect_crl(base_crl.der);
  REQUIRE(base_info);
  CHECK(base_info->freshest_crl_url == "http://pki.test/crl/issuing-delta.crl");

  h.clock.advance(10min);
  h.revoke(after, RevocationReason::kAffiliationChanged);
  h.revoke(h.issue("root-leaf.test", 30, "root"), RevocationReason::kUnspecified);  // not ours
  auto delta = h.delta();
  CHECK(delta.entries == 1);
  CHECK(delta.base_number == base_crl.number);
  CHECK(delta.next_update - delta.this_update == 60min);
  auto info = pki::inspect_crl(delta.der);
  REQUIRE(info);
  CHECK(info->delta_base == std::optional<std::uint64_t>(base_crl.number));
  auto parsed = test::openssl_crl(delta.der);
  CHECK(entry_reason(parsed.get(), after.serial) == 3);
  CHECK(entry_reason(parsed.get(), before.serial) == -2);
  // The Delta CRL Indicator is critical (RFC 5280 §5.2.4).
  const int at = X509_CRL_get_ext_by_NID(parsed.get(), NID_delta_crl, -1);
  REQUIRE(at >= 0);
  CHECK(X509_EXTENSION_get_critical(X509_CRL_get_ext(parsed.get(), at)) == 1);

  // OpenSSL combines base and delta: "after" is revoked only through the delta.
  test::TempDir dir;
  auto root_crl = h.full("root");
  write_pem(dir / "crls.pem", "X509 CRL", {base_crl.der, delta.der, root_crl.der});
  write_pem(dir / "base-only.pem", "X509 CRL", {base_crl.der, root_crl.der});
  write_pem(dir / "chain.pem", "CERTIFICATE",
            {h.ca("issuing").certificate_der, h.ca("root").certificate_der});
  write_pem(dir / "after.pem", "CERTIFICATE", {after.der});
  write_pem(dir / "good.pem", "CERTIFICATE", {good.der});
  const std::string verify = "openssl verify -attime " + attime(h) +
                             " -crl_check_all -use_deltas -CAfile " + (dir / "chain.pem").string();
  auto with_delta = test::run_command(verify + " -CRLfile " + (dir / "crls.pem").string() + " " +
                                      (dir / "after.pem").string());
  INFO(with_delta.output);
  CHECK(with_delta.exit_code != 0);
  CHECK(with_delta.output.find("certificate revoked") != std::string::npos);
  auto base_only = test::run_command(verify + " -CRLfile " + (dir / "base-only.pem").string() +
                                     " " + (dir / "after.pem").string());
  INFO(base_only.output);
  CHECK(base_only.exit_code == 0);
  auto good_passes = test::run_command(verify + " -CRLfile " + (dir / "crls.pem").string() + " " +
                                       (dir / "good.pem").string());
  INFO(good_passes.output);
  CHECK(good_passes.exit_code == 0);
}

TEST_CASE("delta CRLs need the setting and a base") {
  RevocationHarness h;
  auto refused = h.crls.generate_delta("issuing");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == base::ErrorCode::kPolicyViolation);
  h.set("issuing", [] {
    ca::CaSettingsUpdate u;
    u.delta_crls = true;
    return u;
  }());
  auto no_base = h.crls.generate_delta("issuing");
  REQUIRE_FALSE(no_base);
  CHECK(no_base.error().code() == base::ErrorCode::kNotFound);
  // Deltas without a base URL would have no Freshest CRL to be found by.
  ca::CaSettingsUpdate clear;
  clear.base_url = "";
  auto refused_url = h.authority.update_settings("issuing", clear);
  REQUIRE_FALSE(refused_url);
  CHECK(refused_url.error().describe().find("base URL") != std::string::npos);
  CHECK_FALSE(h.crls.generate_full("nosuch"));
}

TEST_CASE("entries of long-expired certificates are left off after the grace") {
  RevocationHarness h;
  auto short_lived = h.issue("short.test", 2);
  auto long_lived = h.issue("long.test", 90);
  h.revoke(short_lived, RevocationReason::kKeyCompromise);
  h.revoke(long_lived, RevocationReason::kKeyCompromise);
  CHECK(h.full().entries == 2);
  h.clock.advance(std::chrono::days(2 + 7) - 1h);  // expired, but within the 7-day grace
  CHECK(h.full().entries == 2);
  h.clock.advance(2h);
  CHECK(h.full().entries == 1);
  h.set("issuing", [] {
    ca::CaSettingsUpdate u;
    u.crl_expired_grace_days = -1;  // keep forever
    return u;
  }());
  CHECK(h.full().entries == 2);
}

TEST_CASE("a revoked intermediate CA is on its parent's CRL and issues nothing more") {
  RevocationHarness h;
  auto certificate = h.authority.ca_certificate_record("issuing");
  REQUIRE(certificate);
  CHECK(certificate->ca_name == "root");
  h.revoke(*certificate, RevocationReason::kCaCompromise);
  h.authority.forget_ca("issuing");
  auto crl = h.full("root");
  CHECK(crl.entries == 1);
  auto parsed = test::openssl_crl(crl.der);
  CHECK(entry_reason(parsed.get(), certificate->serial) == 2);
  auto key = test::subject_key();
  auto refused = h.authority.issue_from_csr({"issuing", test::csr_for(*key, "CN=x"), 30});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == base::ErrorCode::kPolicyViolation);
  CHECK(refused.error().describe().find("revoked") != std::string::npos);
}

namespace {

// A key provider whose signers return a signature of other bytes: a token gone wrong.
class WrongSignatureKeys final : public base::KeyProvider {
 public:
  explicit WrongSignatureKeys(base::KeyProvider& inner) : inner_(inner) {}
  base::Result<std::shared_ptr<base::Signer>> generate_key(
      const base::KeyGenerationRequest& r) override {
    return inner_.generate_key(r);
  }
  base::Result<std::shared_ptr<base::Signer>> find_key(const base::KeyRef& ref) override {
    SIGNET_ASSIGN_OR_RETURN(auto signer, inner_.find_key(ref));
    return std::shared_ptr<base::Signer>(std::make_shared<Wrong>(std::move(signer)));
  }
  base::Result<std::shared_ptr<base::Signer>> find_key_by_uri(std::string_view uri) override {
    return inner_.find_key_by_uri(uri);
  }
  base::Result<void> destroy_key(const base::KeyRef& ref) override {
    return inner_.destroy_key(ref);
  }
  base::Result<void> check_room(std::string_view token) override {
    return inner_.check_room(token);
  }
  base::Result<base::WrappedSecret> wrap_secret(std::string_view t, base::ByteView s) override {
    return inner_.wrap_secret(t, s);
  }
  base::Result<base::SecureBuffer> unwrap_secret(const base::WrappedSecret& w) override {
    return inner_.unwrap_secret(w);
  }

 private:
  struct Wrong final : base::Signer {
    explicit Wrong(std::shared_ptr<base::Signer> inner) : inner(std::move(inner)) {}
    const base::KeyRef& key_ref() const override { return inner->key_ref(); }
    base::KeyAlgorithm algorithm() const override { return inner->algorithm(); }
    const base::Bytes& public_key_der() const override { return inner->public_key_der(); }
    base::Result<base::Bytes> sign(base::ByteView) const override {
      return inner->sign(base::as_bytes("something else"));
    }
    std::shared_ptr<base::Signer> inner;
  };
  base::KeyProvider& inner_;
};

}  // namespace

TEST_CASE("a CRL whose token signature does not verify is not stored") {
  RevocationHarness h;
  h.revoke(h.issue("a.test"), RevocationReason::kKeyCompromise);
  WrongSignatureKeys wrong(h.keys);
  crl::CrlService service(h.stores, wrong, h.clock, "test:operator");
  auto refused = service.generate_full("issuing");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == base::ErrorCode::kVerificationFailed);
  CHECK(refused.error().describe().find("not stored") != std::string::npos);
  auto stored = h.store.latest_crl("issuing", ca::CrlKind::kFull);
  REQUIRE(stored);
  CHECK_FALSE(stored->has_value());
  // The number it reserved is not used again.
  CHECK(h.full().number == 2);
}
