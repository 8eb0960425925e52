// The store as ca::CrlLog: CRL numbers handed out durably and never twice (across reopens and
// a process that dies holding one), stored CRLs with their audit event, refusals, pruning per
// kind, the newest of a kind, listings without DER, a CRL of tens of MB, and a full disk that
// leaves nothing half-written. The contract cases run against the in-memory store too.
#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <sys/stat.h>

#include "ca/audit.h"
#include "tests/integration/store/store_fixtures.h"
#include "tests/support/memory_store.h"

using namespace signet;
using namespace signet::store;
using namespace signet::store::testing;
using base::ErrorCode;

namespace {

ca::CrlRecord make_crl(const std::string& ca, std::uint64_t number,
                       ca::CrlKind kind = ca::CrlKind::kFull, std::size_t der_size = 300) {
  ca::CrlRecord crl;
  crl.ca_name = ca;
  crl.number = number;
  crl.kind = kind;
  crl.base_number = kind == ca::CrlKind::kDelta ? number - 1 : 0;
  crl.this_update = day(static_cast<int>(number)) + std::chrono::milliseconds(250);
  crl.next_update = day(static_cast<int>(number) + 1);
  crl.revocation_sequence = number * 10;
  crl.entries = number * 3;
  crl.der.resize(der_size);
  for (std::size_t i = 0; i < der_size; ++i) {
    crl.der[i] = static_cast<std::uint8_t>((i * 31 + number) & 0xff);
  }
  return crl;
}

std::vector<std::uint64_t> numbers_of(const std::vector<ca::CrlRecord>& crls) {
  std::vector<std::uint64_t> out;
  for (const auto& crl : crls) out.push_back(crl.number);
  return out;
}

template <typename Store>
std::uint64_t reserve(Store& store, const std::string& ca) {
  auto number = store.reserve_crl_number(ca);
  if (!number) FAIL(number.error().describe());
  return *number;
}

template <typename Store>
void require_stored(Store& store, const ca::CrlRecord& crl, std::size_t keep = 10) {
  auto stored =
      store.store_crl(crl,
                      audit_event(crl.this_update, "scheduler", "crl.published",
                                  "crl:" + crl.ca_name + "/" + std::to_string(crl.number)),
                      keep);
  if (!stored) FAIL(stored.error().describe());
}

void require_same_crl(const ca::CrlRecord& a, const ca::CrlRecord& b, bool with_der) {
  CHECK(a.ca_name == b.ca_name);
  CHECK(a.number == b.number);
  CHECK(a.kind == b.kind);
  CHECK(a.base_number == b.base_number);
  CHECK(a.this_update == b.this_update);
  CHECK(a.next_update == b.next_update);
  CHECK(a.revocation_sequence == b.revocation_sequence);
  CHECK(a.entries == b.entries);
  CHECK(a.der_size == b.der.size());
  if (with_der) {
    CHECK(a.der == b.der);
  } else {
    CHECK(a.der.empty());
  }
}

// The CrlLog contract, the same for every store.
template <typename Store>
void check_crl_contract(Store& store) {
  // Numbers: 1, 2, 3... per CA.
  CHECK(reserve(store, "root") == 1);
  CHECK(reserve(store, "root") == 2);
  CHECK(reserve(store, "issuing") == 1);
  CHECK(reserve(store, "root") == 3);

  auto none = store.latest_crl("root", ca::CrlKind::kFull);
  REQUIRE(none);
  CHECK_FALSE(none->has_value());

  const auto first = make_crl("root", 1);
  require_stored(store, first);
  auto found = store.find_crl("root", 1);
  REQUIRE(found);
  REQUIRE(found->has_value());
  require_same_crl(**found, first, true);
  auto audit = store.list_audit(0, 100);
  REQUIRE(audit);
  REQUIRE(audit->size() == 1);
  CHECK(audit->back().action == "crl.published");
  CHECK(audit->back().object == "crl:root/1");

  SECTION("refusals: duplicates, unreserved numbers, number 0 and keep 0 write nothing") {
    auto duplicate = store.store_crl(first, audit_event(day(1), "a", "b", "c"), 10);
    REQUIRE_FALSE(duplicate);
    CHECK(duplicate.error().code() == ErrorCode::kAlreadyExists);
    auto unreserved = store.store_crl(make_crl("root", 4), std::nullopt, 10);
    REQUIRE_FALSE(unreserved);
    CHECK(unreserved.error().code() == ErrorCode::kInvalidArgument);
    CHECK_THAT(unreserved.error().message(), Catch::Contains("never reserved"));
    auto other_ca = store.store_crl(make_crl("issuing", 2), std::nullopt, 10);
    REQUIRE_FALSE(other_ca);
    CHECK(other_ca.error().code() == ErrorCode::kInvalidArgument);
    auto never = store.store_crl(make_crl("nobody", 1), std::nullopt, 10);
    REQUIRE_FALSE(never);
    CHECK(never.error().code() == ErrorCode::kInvalidArgument);
    auto zero = store.store_crl(make_crl("root", 0), std::nullopt, 10);
    REQUIRE_FALSE(zero);
    CHECK(zero.error().code() == ErrorCode::kInvalidArgument);
    auto keep_none = store.store_crl(make_crl("root", 2), std::nullopt, 0);
    REQUIRE_FALSE(keep_none);
    CHECK(keep_none.error().code() == ErrorCode::kInvalidArgument);
    auto after = store.list_audit(0, 100);
    REQUIRE(after);
    CHECK(after->size() == 1);
    auto listed = store.list_crls("root", 100);
    REQUIRE(listed);
    CHECK(numbers_of(*listed) == std::vector<std::uint64_t>{1});
    // A refused number stays usable.
    require_stored(store, make_crl("root", 2));
  }

  SECTION("pruning keeps the newest of each kind; latest and listings by kind") {
    // Numbers are shared by full and delta CRLs: 1 full (stored), 2 delta, 3 full, then more.
    require_stored(store, make_crl("root", 2, ca::CrlKind::kDelta), 2);
    require_stored(store, make_crl("root", 3), 2);
    for (std::uint64_t n = 4; n <= 9; ++n) {
      CHECK(reserve(store, "root") == n);
      require_stored(store, make_crl("root", n, n % 2 ? ca::CrlKind::kFull : ca::CrlKind::kDelta),
                     2);
    }
    // Full: 1 3 5 7 9 -> 7 9. Delta: 2 4 6 8 -> 6 8.
    auto listed = store.list_crls("root", 100);
    REQUIRE(listed);
    CHECK(numbers_of(*listed) == std::vector<std::uint64_t>{9, 8, 7, 6});
    for (const auto& crl : *listed) {
      require_same_crl(crl, make_crl("root", crl.number, crl.kind), false);
    }
    auto limited = store.list_crls("root", 3);
    REQUIRE(limited);
    CHECK(numbers_of(*limited) == std::vector<std::uint64_t>{9, 8, 7});
    auto pruned = store.find_crl("root", 5);
    REQUIRE(pruned);
    CHECK_FALSE(pruned->has_value());

    auto full = store.latest_crl("root", ca::CrlKind::kFull);
    REQUIRE(full);
    REQUIRE(full->has_value());
    require_same_crl(**full, make_crl("root", 9), true);
    auto delta = store.latest_crl("root", ca::CrlKind::kDelta);
    REQUIRE(delta);
    REQUIRE(delta->has_value());
    require_same_crl(**delta, make_crl("root", 8, ca::CrlKind::kDelta), true);

    // keep 1: only the newest full one stays; the deltas are untouched.
    CHECK(reserve(store, "root") == 10);
    require_stored(store, make_crl("root", 10), 1);
    listed = store.list_crls("root", 100);
    REQUIRE(listed);
    CHECK(numbers_of(*listed) == std::vector<std::uint64_t>{10, 8, 6});

    // Another CA's CRLs are its own.
    CHECK(reserve(store, "issuing") == 2);
    require_stored(store, make_crl("issuing", 2), 1);
    auto issuing = store.list_crls("issuing", 100);
    REQUIRE(issuing);
    CHECK(numbers_of(*issuing) == std::vector<std::uint64_t>{2});
    listed = store.list_crls("root", 100);
    REQUIRE(listed);
    CHECK(listed->size() == 3);
    auto audit_after = store.list_audit(0, 100);
    REQUIRE(audit_after);
    CHECK(audit_after->size() == 11);
  }
}

}  // namespace

TEST_CASE("CRL numbers, stored CRLs, refusals and pruning (LMDB store)") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  check_crl_contract(*store);
  require_consistent(*store);
  auto chain = ca::verify_audit_chain(*store);
  REQUIRE(chain);
  CHECK(chain->ok());
}

TEST_CASE("CRL numbers, stored CRLs, refusals and pruning (in-memory store)") {
  test::MemoryStore store;
  check_crl_contract(store);
}

TEST_CASE("CRL numbers keep increasing across reopens and are never handed out twice") {
  test::TempDir dir;
  {
    auto store = open_store(dir.path());
    CHECK(reserve(*store, "root") == 1);
    CHECK(reserve(*store, "root") == 2);
    require_stored(*store, make_crl("root", 2));
  }
  {
    auto store = open_store(dir.path());
    CHECK(reserve(*store, "root") == 3);
    auto latest = store->latest_crl("root", ca::CrlKind::kFull);
    REQUIRE(latest);
    REQUIRE(latest->has_value());
    CHECK((*latest)->number == 2);
  }

  // A child reserves a number and dies before storing its CRL.
  const auto state = dir.path();
  Pipe reported;
  const pid_t child = fork_child([&] {
    reported.close_read();
    auto store = LmdbStore::open(state);
    if (!store) return 10;
    auto number = (*store)->reserve_crl_number("root");
    if (!number) return 11;
    const std::uint64_t n = *number;
    if (!reported.send(&n, sizeof n)) return 12;
    ::kill(::getpid(), SIGKILL);  // no destructor, no store_crl
    return 13;
  });
  reported.close_write();
  std::uint64_t child_number = 0;
  REQUIRE(reported.receive(&child_number, sizeof child_number));
  CHECK(wait_child(child) == 128 + SIGKILL);
  CHECK(child_number == 4);

  auto store = open_store(dir.path());
  CHECK(reserve(*store, "root") == 5);
  // The dead child's number was reserved, so its CRL may still be stored (a gap otherwise).
  require_stored(*store, make_crl("root", 5));
  require_consistent(*store);

  // Many threads reserving at once get distinct numbers.
  std::vector<std::future<std::uint64_t>> pending;
  for (int i = 0; i < 8; ++i) {
    pending.push_back(std::async(std::launch::async, [&] {
      std::uint64_t last = 0;
      for (int j = 0; j < 25; ++j) {
        auto n = store->reserve_crl_number("root");
        if (!n || *n <= last) return std::uint64_t{0};
        last = *n;
      }
      return last;
    }));
  }
  for (auto& f : pending) CHECK(f.get() != 0);
  CHECK(reserve(*store, "root") == 6 + 8 * 25);
}

TEST_CASE("a CRL of tens of MB is stored once and listed without reading it") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  const auto big = make_crl("root", 1, ca::CrlKind::kFull, std::size_t{48} << 20);
  REQUIRE(reserve(*store, "root") == 1);
  require_stored(*store, big);
  REQUIRE(reserve(*store, "root") == 2);
  require_stored(*store, make_crl("root", 2, ca::CrlKind::kDelta));

  auto listed = store->list_crls("root", 10);
  REQUIRE(listed);
  REQUIRE(listed->size() == 2);
  CHECK(listed->back().der.empty());
  CHECK(listed->back().der_size == big.der.size());
  auto latest = store->latest_crl("root", ca::CrlKind::kFull);
  REQUIRE(latest);
  REQUIRE(latest->has_value());
  CHECK((*latest)->der_size == big.der.size());
  CHECK((*latest)->der == big.der);
  auto report = store->check_integrity();
  REQUIRE(report);
  CHECK(report->ok());
  CHECK(report->crls == 2);

  // Replacing it (keep 1) frees its pages for the next one rather than growing the file.
  const auto size_after_first = std::filesystem::file_size(dir.path() / "store" / "data.mdb");
  for (std::uint64_t n = 3; n <= 5; ++n) {
    REQUIRE(reserve(*store, "root") == n);
    require_stored(*store, make_crl("root", n, ca::CrlKind::kFull, std::size_t{48} << 20), 1);
  }
  const auto size_after_more = std::filesystem::file_size(dir.path() / "store" / "data.mdb");
  CHECK(size_after_more <= size_after_first * 3);
  listed = store->list_crls("root", 10);
  REQUIRE(listed);
  CHECK(numbers_of(*listed) == std::vector<std::uint64_t>{5, 2});
  require_consistent(*store);
}

TEST_CASE("a full disk while storing a CRL leaves nothing of it and its number usable") {
  test::TempDir dir;
  {
    auto store = open_store(dir.path());
    REQUIRE(reserve(*store, "root") == 1);
    require_stored(*store, make_crl("root", 1));
  }
  const auto state = dir.path();
  const auto data_file = dir.path() / "store" / "data.mdb";
  Pipe report;
  const pid_t child = fork_child([&] {
    report.close_read();
    auto store = LmdbStore::open(state);
    if (!store) return 10;
    auto number = (*store)->reserve_crl_number("root");  // committed before the limit
    if (!number || *number != 2) return 11;
    ::signal(SIGXFSZ, SIG_IGN);
    struct stat st {};
    if (::stat(data_file.c_str(), &st) != 0) return 12;
    const rlim_t limit = static_cast<rlim_t>(st.st_size) + (1 << 20);
    struct rlimit rl {
      limit, limit
    };
    if (::setrlimit(RLIMIT_FSIZE, &rl) != 0) return 13;
    auto stored = (*store)->store_crl(make_crl("root", 2, ca::CrlKind::kFull, 8 << 20),
                                      audit_event(day(2), "scheduler", "crl.published", "x"), 1);
    const std::uint64_t code = stored ? 999 : static_cast<std::uint64_t>(stored.error().code());
    report.send(&code, sizeof code);
    return 0;
  });
  report.close_write();
  std::uint64_t code = 0;
  REQUIRE(report.receive(&code, sizeof code));
  REQUIRE(wait_child(child) == 0);
  CHECK(static_cast<ErrorCode>(code) == ErrorCode::kStorageFull);

  auto store = open_store(dir.path());
  auto missing = store->find_crl("root", 2);
  REQUIRE(missing);
  CHECK_FALSE(missing->has_value());
  auto audit = store->list_audit(0, 100);
  REQUIRE(audit);
  CHECK(audit->size() == 1);  // the first CRL's event only
  auto listed = store->list_crls("root", 10);
  REQUIRE(listed);
  CHECK(numbers_of(*listed) == std::vector<std::uint64_t>{1});  // not pruned either
  require_consistent(*store);
  // The number was reserved durably before the failure: it is not handed out again, and the
  // CRL can be stored under it now that there is room.
  CHECK(reserve(*store, "root") == 3);
  require_stored(*store, make_crl("root", 2, ca::CrlKind::kFull, 8 << 20), 1);
  require_consistent(*store);
}
