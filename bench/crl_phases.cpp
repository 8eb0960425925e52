#include "bench/crl_phases.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <optional>
#include <thread>

#include "base/clock.h"
#include "crl/crl_service.h"
#include "crl/scheduler.h"
#include "pki/certificate.h"
#include "pki/crl.h"
#include "pki/digest.h"
#include "pki/signature.h"

namespace signet::bench {

using base::Error;
using base::ErrorCode;
using base::Result;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

crl::CrlStores stores_of(store::LmdbStore& store) { return {store, store, store, store}; }

Result<ca::CaRecord> find_ca(store::LmdbStore& store, const std::string& name) {
  SIGNET_ASSIGN_OR_RETURN(auto ca, store.find_ca(name));
  if (!ca) return Error(ErrorCode::kNotFound, "the store has no CA '" + name + "'");
  return std::move(*ca);
}

class CountingVisitor final : public ca::RevokedVisitor {
 public:
  Result<void> visit(const ca::RevokedEntry&) override {
    ++count;
    return base::ok();
  }
  std::uint64_t count = 0;
};

// What crl/crl_service.cpp's visitor does, minus the expiry filter (nothing in the fixture
// has expired): every entry straight into the encoder.
class EncodingVisitor final : public ca::RevokedVisitor {
 public:
  EncodingVisitor(const pki::CrlIssuer& issuer, const pki::CrlHeader& header)
      : issuer_(issuer), header_(header) {}
  void begin(std::uint64_t at_most) override {
    auto encoder = pki::CrlEncoder::begin(issuer_, header_, at_most);
    if (encoder) encoder_.emplace(std::move(*encoder));
  }
  Result<void> visit(const ca::RevokedEntry& entry) override {
    if (!encoder_) return Error(ErrorCode::kInternal, "the CRL encoder did not start");
    return encoder_->add({entry.serial, entry.revoked_at, entry.reason, entry.invalidity_date});
  }
  std::optional<pki::CrlEncoder>& encoder() { return encoder_; }

 private:
  const pki::CrlIssuer& issuer_;
  const pki::CrlHeader& header_;
  std::optional<pki::CrlEncoder> encoder_;
};

// Samples this process's memory every millisecond on its own thread, keeping the highest
// anonymous and file-backed resident sizes seen (VmHWM gives the peak of their sum, but not
// which of the two it was).
class MemoryWatch {
 public:
  struct Peaks {
    long anon_kb = 0;
    long file_kb = 0;
  };
  MemoryWatch() : thread_([this] { watch(); }) {}
  ~MemoryWatch() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // The peaks since the previous take() (or the start), sampled once more now.
  Peaks take() {
    record(sample_memory());
    return {anon_.exchange(0), file_.exchange(0)};
  }

 private:
  void record(const MemorySample& memory) {
    long seen = anon_;
    while (memory.anon_kb > seen && !anon_.compare_exchange_weak(seen, memory.anon_kb)) {
    }
    seen = file_;
    while (memory.file_kb > seen && !file_.compare_exchange_weak(seen, memory.file_kb)) {
    }
  }
  void watch() {
    while (!stop_) {
      record(sample_memory());
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  std::atomic<bool> stop_{false};
  std::atomic<long> anon_{0};
  std::atomic<long> file_{0};
  std::thread thread_;  // last: starts after the fields it writes
};

// The stages' JSON, one entry per step, with the memory during and after it.
class StageLog {
 public:
  template <typename Step>
  auto time(const std::string& name, Step&& step) {
    watch_.take();
    const auto start = Clock::now();
    auto result = step();
    const double seconds = seconds_since(start);
    const auto peaks = watch_.take();
    const auto memory = sample_memory();
    stages_.push_back({{"name", name},
                       {"seconds", seconds},
                       {"peak_anon_kb", peaks.anon_kb},
                       {"anon_kb", memory.anon_kb},
                       {"file_kb", memory.file_kb}});
    return result;
  }
  nlohmann::json json() const { return stages_; }

 private:
  MemoryWatch watch_;
  nlohmann::json stages_ = nlohmann::json::array();
};

}  // namespace

MemorySample sample_memory() {
  MemorySample sample;
  std::ifstream status("/proc/self/status");
  std::string key;
  long value = 0;
  std::string unit;
  while (status >> key) {
    if (key == "VmHWM:" || key == "RssAnon:" || key == "RssFile:") {
      status >> value >> unit;
      (key == "VmHWM:"     ? sample.peak_kb
       : key == "RssAnon:" ? sample.anon_kb
                           : sample.file_kb) = value;
    } else {
      status.ignore(1 << 20, '\n');
    }
  }
  return sample;
}

Result<nlohmann::json> measure_full_crl(BenchEnvironment& env, const FixtureShape& shape) {
  base::SystemClock clock;
  crl::CrlService service(stores_of(*env.store), *env.token_keys, clock, "bench");
  const long baseline = sample_memory().peak_kb;
  MemoryWatch watch;
  const auto start = Clock::now();
  SIGNET_ASSIGN_OR_RETURN(auto crl, service.generate_full(shape.ca_name));
  const double seconds = seconds_since(start);
  const auto peaks = watch.take();
  return nlohmann::json{{"seconds", seconds},
                        {"entries", crl.entries},
                        {"der_bytes", crl.der_size},
                        {"number", crl.number},
                        {"baseline_kb", baseline},
                        {"peak_kb", sample_memory().peak_kb},
                        {"peak_anon_kb", peaks.anon_kb},
                        {"peak_file_kb", peaks.file_kb}};
}

Result<nlohmann::json> measure_crl_stages(BenchEnvironment& env, const FixtureShape& shape) {
  store::LmdbStore& store = *env.store;
  SIGNET_ASSIGN_OR_RETURN(auto ca, find_ca(store, shape.ca_name));
  SIGNET_ASSIGN_OR_RETURN(auto certificate, pki::Certificate::from_der(ca.certificate_der));
  SIGNET_ASSIGN_OR_RETURN(auto signer, env.token_keys->find_key(ca.key));
  pki::CrlIssuer issuer;
  issuer.key_algorithm = signer->algorithm();
  issuer.digest = signer->digest();
  issuer.issuer_name_der = certificate.subject_der();
  issuer.authority_key_identifier = certificate.subject_key_identifier();
  if (issuer.authority_key_identifier.empty()) {
    SIGNET_ASSIGN_OR_RETURN(issuer.authority_key_identifier,
                            pki::key_identifier(certificate.public_key_der()));
  }
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(base::SystemClock().now());
  pki::CrlHeader header;
  header.this_update = now;
  header.next_update = now + std::chrono::hours(ca.settings.crl_validity_hours);

  StageLog log;
  SIGNET_ASSIGN_OR_RETURN(header.number, log.time("reserve_crl_number", [&] {
    return store.reserve_crl_number(ca.name);
  }));
  CountingVisitor counter;
  SIGNET_TRY(log.time("scan_revoked, counting only",
                      [&] { return store.scan_revoked(ca.name, counter); }));
  EncodingVisitor visitor(issuer, header);
  SIGNET_ASSIGN_OR_RETURN(auto scan, log.time("scan_revoked into CrlEncoder::add", [&] {
    return store.scan_revoked(ca.name, visitor);
  }));
  if (!visitor.encoder()) return Error(ErrorCode::kInternal, "the CRL encoder did not start");
  pki::CrlEncoder& encoder = *visitor.encoder();
  SIGNET_ASSIGN_OR_RETURN(base::ByteView tbs,
                          log.time("CrlEncoder::tbs", [&] { return encoder.tbs(); }));
  SIGNET_ASSIGN_OR_RETURN(auto signature, log.time("Signer::sign (SHA of the TBS + token)",
                                                   [&] { return signer->sign(tbs); }));
  SIGNET_TRY(log.time("verify_signature", [&] {
    return pki::verify_signature(certificate.public_key_der(), issuer.digest, tbs, signature);
  }));
  ca::CrlRecord record;
  record.ca_name = ca.name;
  record.number = header.number;
  record.this_update = header.this_update;
  record.next_update = header.next_update;
  record.revocation_sequence = scan.revocation_sequence;
  record.entries = encoder.entries();
  SIGNET_ASSIGN_OR_RETURN(
      record.der, log.time("CrlEncoder::finish", [&] { return encoder.finish(signature); }));
  record.der_size = record.der.size();
  auto event = ca::make_audit_event(base::SystemClock().now(), "bench", "crl.generated",
                                    "crl:" + ca.name + "/" + std::to_string(record.number), "{}");
  const auto keep = static_cast<std::size_t>(std::max(1, ca.settings.crl_history));
  SIGNET_TRY(log.time("store_crl", [&] { return store.store_crl(record, event, keep); }));
  return nlohmann::json{{"stages", log.json()},
                        {"entries", record.entries},
                        {"der_bytes", record.der_size},
                        {"peak_kb", sample_memory().peak_kb}};
}

namespace {

// Revokes the first `count` good certificates of the fixture that are not revoked yet.
Result<int> revoke_good(store::LmdbStore& store, const FixtureShape& shape, int count) {
  int revoked = 0;
  for (std::uint64_t index = shape.revoked; index < shape.issued() && revoked < count; ++index) {
    SIGNET_ASSIGN_OR_RETURN(auto record,
                            store.find_certificate(shape.ca_name, fixture_serial(index)));
    if (!record || record->revocation) continue;
    ca::RevocationCommit commit;
    commit.certificate_id = record->id;
    commit.revocation.revoked_at =
        std::chrono::time_point_cast<std::chrono::seconds>(base::SystemClock().now());
    commit.revocation.reason = static_cast<int>(ca::RevocationReason::kKeyCompromise);
    commit.events.push_back(
        ca::make_audit_event(commit.revocation.revoked_at, "bench", "certificate.revoked",
                             "certificate:" + shape.ca_name + "/" + record->serial.to_hex(), "{}"));
    SIGNET_TRY(store.revoke_certificate(std::move(commit)));
    ++revoked;
  }
  return revoked;
}

}  // namespace

Result<DeltaReport> measure_delta(BenchEnvironment& env, ca::Authority& authority,
                                  const FixtureShape& shape, int revocations, int runs) {
  store::LmdbStore& store = *env.store;
  base::SystemClock clock;
  crl::CrlService service(stores_of(store), *env.token_keys, clock, "bench");
  crl::RevocationScheduler scheduler(service, nullptr, stores_of(store), clock);
  ca::CaSettingsUpdate update;
  update.delta_crls = true;
  SIGNET_TRY(authority.update_settings(shape.ca_name, update));

  DeltaReport report;
  auto start = Clock::now();
  SIGNET_ASSIGN_OR_RETURN(auto full, service.generate_full(shape.ca_name));
  report.full_seconds = seconds_since(start);
  report.full_entries = full.entries;

  start = Clock::now();
  SIGNET_ASSIGN_OR_RETURN(report.revocations, revoke_good(store, shape, revocations));
  report.revoke_seconds = seconds_since(start);

  for (int run = 0; run < runs; ++run) {
    start = Clock::now();
    SIGNET_ASSIGN_OR_RETURN(auto delta, service.generate_delta(shape.ca_name));
    report.delta_ms.push_back(seconds_since(start) * 1000);
    report.delta_entries = delta.entries;
    report.delta_der_bytes = delta.der_size;
  }
  for (int run = 0; run < runs; ++run) {
    start = Clock::now();
    SIGNET_ASSIGN_OR_RETURN(auto due, scheduler.due(shape.ca_name));
    report.due_ms.push_back(seconds_since(start) * 1000);
    report.due_items = due.size();
  }
  // The parts of a delta CRL that do not depend on how many entries it holds.
  for (int run = 0; run < runs; ++run) {
    start = Clock::now();
    SIGNET_TRY(store.latest_crl(shape.ca_name, ca::CrlKind::kFull));
    report.latest_full_ms.push_back(seconds_since(start) * 1000);
    start = Clock::now();
    SIGNET_TRY(store.list_crls(shape.ca_name, 1));
    report.list_crls_ms.push_back(seconds_since(start) * 1000);
    start = Clock::now();
    SIGNET_TRY(store.reserve_crl_number(shape.ca_name));  // leaves a harmless gap
    report.reserve_ms.push_back(seconds_since(start) * 1000);
  }
  return report;
}

}  // namespace signet::bench
