// signetd's TLS renewal schedule (appliance/daemon/tls_renewal_loop.h) when putting a renewed
// certificate in service fails after the rekey committed: over a real SoftHSM token and LMDB
// store, the served identity is a stand-in whose next swap fails (the seam ServedTlsIdentity).
// The next round must serve the certificate that the failed round committed (the successor the
// store recorded, whose key stayed on the token) instead of refusing the served certificate as
// "already replaced" until a restart.
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "appliance/api/api.h"
#include "appliance/api/auth.h"
#include "appliance/api/metrics.h"
#include "appliance/daemon/appliance_identity.h"
#include "appliance/daemon/tls_renewal_loop.h"
#include "hsm/key_provider.h"
#include "tests/support/softhsm_token.h"
#include "tests/support/test_support.h"

using namespace signet;
using namespace signet::appliance;

namespace {

// The listener's credentials, in memory; fails the next swap when told to.
class FlakyServedIdentity final : public ServedTlsIdentity {
 public:
  explicit FlakyServedIdentity(TlsIdentity first) : current_(std::move(first)) {}

  base::Result<void> swap(const TlsIdentity& identity) override {
    std::lock_guard lock(mutex_);
    attempted_.push_back(identity.certificate.id);
    if (fail_next_) {
      fail_next_ = false;
      changed_.notify_all();
      return base::Error(base::ErrorCode::kCryptoError, "injected: the swap failed");
    }
    current_ = identity;
    served_.push_back(identity.certificate.id);
    changed_.notify_all();
    return base::ok();
  }

  TlsIdentity current() const override {
    std::lock_guard lock(mutex_);
    return current_;
  }

  void fail_next_swap() {
    std::lock_guard lock(mutex_);
    fail_next_ = true;
  }

  // Waits (bounded) until `count` swaps succeeded; returns whether they did.
  bool wait_for_served(std::size_t count, std::chrono::seconds bound) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, bound, [&] { return served_.size() >= count; });
  }

  std::vector<std::uint64_t> attempted() const {
    std::lock_guard lock(mutex_);
    return attempted_;
  }
  std::vector<std::uint64_t> served() const {
    std::lock_guard lock(mutex_);
    return served_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  TlsIdentity current_;
  bool fail_next_ = false;
  std::vector<std::uint64_t> attempted_;  // certificate ids, in order
  std::vector<std::uint64_t> served_;
};

// The lines the loop logs, kept.
class LogLines {
 public:
  void add(const std::string& line) {
    std::lock_guard lock(mutex_);
    lines_.push_back(line);
  }
  std::size_t count(const std::string& text) const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& line : lines_) n += line.find(text) != std::string::npos ? 1 : 0;
    return n;
  }
  std::string all() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& line : lines_) out += line + "\n";
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

// What signetd builds before its renewal schedule, over a fresh state and token.
class RenewalFixture {
 public:
  RenewalFixture() {
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
    authenticator_ = std::make_unique<Authenticator>(**context_->operators(), **context_->audit(),
                                                     context_->clock(), context_->rng());
    api_ = std::make_unique<ApiServices>(*context_, *authenticator_, metrics_);
  }
  ~RenewalFixture() {
    // Everything that holds the PKCS#11 module goes before the token store.
    api_.reset();
    authenticator_.reset();
    context_.reset();
  }

  ApplianceContext& context() { return *context_; }
  ApiServices& api() { return *api_; }

 private:
  test::SoftHsmToken token_{"signet"};
  test::TempDir dir_;
  Metrics metrics_;
  std::unique_ptr<ApplianceContext> context_;
  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<ApiServices> api_;
};

}  // namespace

TEST_CASE("a renewal whose swap failed after the rekey committed is served by the next round") {
  RenewalFixture fixture;
  // Every check finds the certificate due (renew_before above the lifetime: the loop is not
  // the configuration, which refuses that).
  const std::chrono::seconds lifetime(120);
  auto first = ensure_tls_identity(fixture.context(), {}, lifetime, std::chrono::seconds(60));
  INFO((first ? "" : first.error().describe()));
  REQUIRE(first);
  FlakyServedIdentity served(*first);
  served.fail_next_swap();
  LogLines log;
  {
    TlsRenewalPolicy policy;
    policy.certificate_lifetime = lifetime;
    policy.renew_before = std::chrono::seconds(600);
    policy.check_interval = std::chrono::seconds(1);
    policy.key_grace = std::chrono::seconds(0);
    TlsRenewalLoop loop(fixture.api(), served, policy,
                        [&log](const std::string& line) { log.add(line); });
    // Liveness bound only: a round runs every second.
    REQUIRE(served.wait_for_served(2, std::chrono::seconds(120)));
  }
  INFO(log.all());
  const auto attempted = served.attempted();
  const auto ok = served.served();
  REQUIRE(attempted.size() >= 3);
  // The failed swap was of the certificate the first round committed: the store records it as
  // the successor of the one signetd served, and the next round served exactly that one.
  auto original = fixture.api().inventory().find_certificate_by_id(first->certificate.id);
  REQUIRE(original);
  REQUIRE(*original);
  CHECK((*original)->successor_id == attempted[0]);
  CHECK(attempted[1] == attempted[0]);
  CHECK(ok[0] == attempted[0]);
  // The line moved on from there: the second renewal rekeyed the adopted certificate.
  auto adopted = fixture.api().inventory().find_certificate_by_id(ok[0]);
  REQUIRE(adopted);
  REQUIRE(*adopted);
  CHECK((*adopted)->successor_id == ok[1]);

  // One failure, logged and alerted; no round refused the served certificate as replaced.
  CHECK(log.count("renewing signetd's TLS certificate failed") == 1);
  CHECK(log.count("injected: the swap failed") == 1);
  CHECK(log.count("already replaced") == 0);
  CHECK(log.count("made by an earlier round") == 1);
  auto alerts = fixture.api().alerts().list_alerts(true, 100);
  REQUIRE(alerts);
  bool alerted = false;
  for (const auto& alert : *alerts) alerted = alerted || alert.kind == "tls.renewal_failed";
  CHECK(alerted);

  // The certificate served now has its key on the token.
  auto* keys = *fixture.context().keys();
  const auto now_served = served.current();
  REQUIRE(now_served.certificate.key_location);
  CHECK(keys->find_key(*now_served.certificate.key_location));
  CHECK(now_served.certificate.not_after - now_served.certificate.not_before <=
        lifetime + std::chrono::seconds(60));  // the lifetime, plus the 60 s backdating
}
