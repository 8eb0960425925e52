#include "bench/revocation_fixture.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <vector>

#include "pki/digest.h"

namespace signet::bench {

using base::Error;
using base::ErrorCode;
using base::Result;

namespace {

constexpr const char* kShapeFile = "crl-bench.json";
// RFC 5280 §5.3.1 codes, by index % 10: four unspecified (no reasonCode extension), then
// keyCompromise twice, affiliationChanged, superseded, cessationOfOperation,
// privilegeWithdrawn.
constexpr int kReasons[10] = {0, 0, 0, 0, 1, 1, 3, 4, 5, 9};

using Days = std::chrono::days;
using Seconds = std::chrono::seconds;

// 32 pseudo-random bytes of record `index`: the serial is the first 16, the dates use the rest.
base::Bytes digest_of(std::uint64_t index) {
  return pki::sha256(base::as_bytes("signet-crl-bench/" + std::to_string(index)));
}

// A number in [0, bound) from two bytes of the digest at `at`.
std::int64_t pick(const base::Bytes& digest, std::size_t at, std::int64_t bound) {
  const auto value = (static_cast<std::int64_t>(digest[at]) << 8) | digest[at + 1];
  return value * bound / 65536;
}

std::string host_of(std::uint64_t index) {
  return "host-" + std::to_string(index) + ".crl-bench.example";
}

}  // namespace

pki::SerialNumber fixture_serial(std::uint64_t index) {
  const auto digest = digest_of(index);
  auto serial = pki::SerialNumber::from_bytes(base::ByteView(digest).first(16));
  // Zero is the only refusal, at odds of 2^-128; a fixed fallback keeps the function total.
  return serial ? std::move(*serial) : *pki::SerialNumber::from_bytes(digest);
}

ca::Revocation fixture_revocation(const FixtureShape& shape, std::uint64_t index) {
  const auto digest = digest_of(index);
  ca::Revocation revocation;
  revocation.revoked_at =
      shape.epoch - Days(pick(digest, 16, 350)) - Seconds(pick(digest, 18, 86400));
  revocation.reason = kReasons[index % 10];
  if (digest[20] % 10 == 0) {
    revocation.invalidity_date = revocation.revoked_at - Days(1 + pick(digest, 21, 30));
  }
  return revocation;
}

ca::CertificateRecord fixture_record(const FixtureShape& shape, const ca::CaRecord& ca,
                                     std::uint64_t index) {
  const auto digest = digest_of(index);
  ca::CertificateRecord record;
  record.ca_name = ca.name;
  record.serial = fixture_serial(index);
  record.fingerprint_sha256 = pki::sha256(digest);
  record.der.assign(300, digest[31]);
  std::copy(digest.begin(), digest.end(), record.der.begin());
  record.common_name = host_of(index);
  record.subject = "CN=" + record.common_name + ",O=Signet Bench";
  record.subject_alt_names = {"DNS:" + record.common_name};
  record.issuer = ca.subject;
  // Valid from 360-390 days before the epoch for 397-762 days: still valid a week after it.
  record.not_before = shape.epoch - Days(360 + pick(digest, 24, 30));
  record.not_after = record.not_before + Days(397 + pick(digest, 26, 366));
  record.recorded_at = record.not_before;
  record.key_algorithm = "ec-p256";
  record.digest = "sha256";
  if (index < shape.revoked) record.revocation = fixture_revocation(shape, index);
  return record;
}

Result<void> save_shape(const FixtureShape& shape, const std::filesystem::path& dir) {
  const nlohmann::json json = {{"ca", shape.ca_name},
                               {"algorithm", base::to_string(shape.algorithm)},
                               {"revoked", shape.revoked},
                               {"good", shape.good},
                               {"epoch", base::to_unix_seconds(shape.epoch)}};
  const auto path = dir / kShapeFile;
  std::ofstream out(path);
  out << json.dump(2) << "\n";
  out.close();
  if (!out) return Error(ErrorCode::kIoError, "cannot write " + path.string());
  return base::ok();
}

Result<FixtureShape> load_shape(const std::filesystem::path& dir) {
  const auto path = dir / kShapeFile;
  std::ifstream in(path);
  if (!in) {
    return Error(ErrorCode::kNotFound,
                 "cannot read " + path.string() + " (was the directory filled by --keep?)");
  }
  const auto json = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return Error(ErrorCode::kInvalidArgument, path.string() + " is not JSON");
  }
  FixtureShape shape;
  try {
    shape.ca_name = json.at("ca").get<std::string>();
    SIGNET_ASSIGN_OR_RETURN(shape.algorithm,
                            base::parse_key_algorithm(json.at("algorithm").get<std::string>()));
    shape.revoked = json.at("revoked").get<std::uint64_t>();
    shape.good = json.at("good").get<std::uint64_t>();
    shape.epoch = base::from_unix_seconds(json.at("epoch").get<std::int64_t>());
  } catch (const nlohmann::json::exception& e) {
    return Error(ErrorCode::kInvalidArgument, path.string() + ": " + e.what());
  }
  return shape;
}

Result<ca::CaRecord> create_fixture_ca(ca::Authority& authority, const FixtureShape& shape) {
  ca::NewCaRequest request;
  request.name = shape.ca_name;
  request.subject = "CN=Signet CRL Bench CA,O=Signet Bench";
  request.key_algorithm = shape.algorithm;
  SIGNET_TRY(authority.create_root(request));
  ca::CaSettingsUpdate settings;
  settings.base_url = "http://pki.bench.example";
  return authority.update_settings(shape.ca_name, settings);
}

Result<FillResult> fill_fixture(store::LmdbStore& store, const FixtureShape& shape,
                                const ca::CaRecord& ca, std::size_t window) {
  using Clock = std::chrono::steady_clock;
  FillResult result;
  const std::uint64_t commits_before = store.commits();
  const auto start = Clock::now();
  std::vector<std::future<Result<std::uint64_t>>> pending;
  pending.reserve(window);
  const std::uint64_t count = shape.issued();
  for (std::uint64_t index = 0; index < count; ++index) {
    pending.push_back(store.put_certificate_async(fixture_record(shape, ca, index), std::nullopt));
    if (pending.size() == window || index + 1 == count) {
      for (auto& future : pending) {
        auto id = future.get();
        if (!id) return std::move(id).error().with_context("writing the synthetic records");
      }
      pending.clear();
    }
    if ((index + 1) % 100'000 == 0) {
      std::fprintf(stderr, "signet-crl-bench:   %llu records\n",
                   static_cast<unsigned long long>(index + 1));
    }
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.records = count;
  result.commits = store.commits() - commits_before;
  return result;
}

}  // namespace signet::bench
