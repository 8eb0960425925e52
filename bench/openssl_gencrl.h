// The yardstick of issue 4: `openssl ca -gencrl` over an index.txt holding the same
// population as the bench's store (bench/revocation_fixture.h), with a software CA key of the
// same algorithm made by `openssl req`. Its time and peak memory come from wait4() in a small
// relay process (bench/child_process.h, run_measured). OpenSSL's
// index format has no privilegeWithdrawn, so those entries say superseded, and invalidity
// dates are written as keyTime (keyCompromise with an invalidity date). Thread-safe.
#pragma once

#include <filesystem>
#include <string>

#include "base/result.h"
#include "bench/revocation_fixture.h"

namespace signet::bench {

struct OpensslGencrl {
  double seconds = 0;
  long maxrss_kb = 0;
  std::uintmax_t pem_bytes = 0;
  double index_seconds = 0;  // writing index.txt (not part of `seconds`)
};

// Works in `dir` (created; left for the caller to remove). `self`: this bench's executable
// (the relay).
base::Result<OpensslGencrl> time_openssl_gencrl(const FixtureShape& shape,
                                                const std::filesystem::path& dir,
                                                const std::string& self);

}  // namespace signet::bench
