// The local software key pathway over SoftHSM and LMDB: keys wrapped by the token's KEK,
// PKCS#12 files of both profiles opened by openssl with the password shown once.
#include <catch2/catch.hpp>

#include "tests/integration/ca/service_fixture.h"

using namespace signet;
using base::KeyAlgorithm;
using test::Appliance;
using test::key_on_token;

TEST_CASE("local keys are wrapped by the token and exported as PFX that openssl opens") {
  Appliance a;
  for (auto profile : {pki::PfxProfile::kModern, pki::PfxProfile::kCompat}) {
    const std::string name(pki::to_string(profile));
    DYNAMIC_SECTION("PFX profile " << name) {
      ca::IssueRequest request = key_on_token("CN=legacy-" + name + ".example.test");
      request.key.kind = ca::KeySourceKind::kLocalKey;
      request.key.algorithm = KeyAlgorithm::kRsa2048;
      request.pfx_profile = profile;
      auto result = a.issue(request);
      REQUIRE(result.local_key.has_value());
      REQUIRE(result.certificate.wrapped_key.has_value());
      CHECK(result.certificate.wrapped_key->kek.token_serial == a.token.serial());

      auto check_pfx = [&](const ca::LocalKeyDelivery& delivery, const std::string& file) {
        const auto pfx_path = a.state.path() / (file + ".pfx");
        const auto password_path = a.state.path() / (file + ".pass");
        test::write_file(pfx_path, delivery.pfx);
        test::write_text(password_path,
                         std::string(reinterpret_cast<const char*>(delivery.password.view().data()),
                                     delivery.password.size()),
                         0600);
        auto info = test::run_command("openssl pkcs12 -info -noout -in " + pfx_path.string() +
                                      " -passin file:" + password_path.string() + " 2>&1");
        INFO(info.output);
        REQUIRE(info.exit_code == 0);
        if (profile == pki::PfxProfile::kModern) {
          CHECK(info.output.find("PBKDF2") != std::string::npos);
          CHECK(info.output.find("AES-256-CBC") != std::string::npos);
          CHECK(info.output.find("MAC: sha256") != std::string::npos);
        } else {
          CHECK(info.output.find("pbeWithSHA1And3-KeyTripleDES-CBC") != std::string::npos);
          CHECK(info.output.find("MAC: sha1") != std::string::npos);
        }
        auto wrong = test::run_command("openssl pkcs12 -info -noout -in " + pfx_path.string() +
                                       " -passin pass:wrong 2>&1");
        CHECK(wrong.exit_code != 0);
      };
      check_pfx(*result.local_key, name + "-first");
      auto again = a.service->export_pfx(result.certificate.id, profile);
      INFO((again ? "" : again.error().describe()));
      REQUIRE(again);
      check_pfx(*again, name + "-again");
    }
  }
}
