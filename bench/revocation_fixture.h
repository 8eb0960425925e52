// The CA that signet-crl-bench measures: one root with its key on the bench's SoftHSM token,
// and a numbered population of synthetic certificate records of that CA.
//
// Record i is a pure function of (i, the fill's epoch): its serial is the first 16 bytes of
// SHA-256("signet-crl-bench/<i>"), so any process can name a certificate of the store without
// reading it (the OCSP requests, the delta CRL's revocations, the OpenSSL comparison's
// index.txt). Indices [0, revoked) arrive in the store already revoked, [revoked, revoked +
// good) are good, and anything above was never issued (OCSP "unknown"). Every certificate is
// still valid at the epoch and for more than a week after it, so no CRL entry is left off as
// expired. The records' DER is 300 bytes of filler: the store does not parse it.
//
// The shape is saved next to the store (crl-bench.json), so that --reuse and the child
// processes that measure a full CRL find the same population. Plain functions, thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/keys.h"
#include "base/result.h"
#include "ca/authority.h"
#include "ca/records.h"
#include "pki/serial_number.h"
#include "store/lmdb_store.h"

namespace signet::bench {

struct FixtureShape {
  std::string ca_name = "crl-bench";
  base::KeyAlgorithm algorithm = base::KeyAlgorithm::kEcP256;
  std::uint64_t revoked = 1'000'000;
  std::uint64_t good = 100'000;
  base::TimePoint epoch{};  // when the store was filled (seconds)

  std::uint64_t issued() const { return revoked + good; }
};

// The serial of record `index`.
pki::SerialNumber fixture_serial(std::uint64_t index);
// What record `index` says when it is revoked (indices below shape.revoked): about 40 %
// unspecified (no reasonCode), the rest keyCompromise, affiliationChanged, superseded,
// cessationOfOperation or privilegeWithdrawn; one in ten carries an invalidity date.
ca::Revocation fixture_revocation(const FixtureShape& shape, std::uint64_t index);
// Record `index` as the store receives it (revoked when index < shape.revoked).
ca::CertificateRecord fixture_record(const FixtureShape& shape, const ca::CaRecord& ca,
                                     std::uint64_t index);

base::Result<void> save_shape(const FixtureShape& shape, const std::filesystem::path& dir);
base::Result<FixtureShape> load_shape(const std::filesystem::path& dir);

// Creates the root CA `shape.ca_name` (key generated on the token) with a base URL, so that
// its CRLs carry what they carry in service.
base::Result<ca::CaRecord> create_fixture_ca(ca::Authority& authority, const FixtureShape& shape);

struct FillResult {
  double seconds = 0;
  std::uint64_t records = 0;
  std::uint64_t commits = 0;
};
// Writes every issued record through the store's group commit, `window` in flight at a time;
// progress on stderr every 100,000.
base::Result<FillResult> fill_fixture(store::LmdbStore& store, const FixtureShape& shape,
                                      const ca::CaRecord& ca, std::size_t window);

}  // namespace signet::bench
