// LmdbStore::list_certificates against the in-memory store as an oracle: every filter, every
// sort in both directions, paged through with small pages (no duplicates, nothing missed),
// prefix and *.suffix search; and cursors that belong to another sort are refused.
#include <catch2/catch.hpp>

#include <random>
#include <set>

#include "tests/integration/store/store_fixtures.h"
#include "tests/support/memory_store.h"

using namespace signet;
using namespace signet::store;
using namespace signet::store::testing;
using base::ErrorCode;

namespace {

const char* const kWords[] = {"alpha", "Bravo", "charlie", "delta", "echo", "foxtrot", "golf"};
const char* const kDomains[] = {"example.com", "b.example.com", "example.org", "corp.example.com"};

// A varied population: two CAs and discovered certificates, three profiles, spread validity,
// DNS, IP and e-mail SANs, some revoked.
std::vector<ca::CertificateRecord> population(std::size_t n) {
  std::mt19937 rng(20261123);
  std::vector<ca::CertificateRecord> out;
  for (std::size_t i = 1; i <= n; ++i) {
    auto r = make_record(i % 7 == 0 ? "" : (i % 3 ? "issuing" : "root"), i,
                         day(static_cast<int>(rng() % 400)) + std::chrono::seconds(rng() % 50));
    if (r.ca_name.empty()) r.source = ca::CertificateSource::kDiscovered;
    r.not_before = day(-static_cast<int>(rng() % 300));
    r.profile = i % 5 == 0 ? "" : (i % 2 ? "web" : "vpn");
    const std::string word = kWords[rng() % 7];
    const std::string domain = kDomains[rng() % 4];
    r.common_name = (rng() % 6 == 0) ? word + " " + std::to_string(i)
                                     : word + std::to_string(i % 13) + "." + domain;
    r.subject_alt_names = {"DNS:" + word + ".svc" + std::to_string(i % 4) + "." + domain,
                           "IP:192.0.2." + std::to_string(i % 200)};
    if (i % 11 == 0) r.subject_alt_names.push_back("email:" + word + "@example.net");
    // Serials of different lengths, so that numeric order differs from byte order.
    base::Bytes serial(1 + rng() % 15, 0);
    for (auto& b : serial) b = static_cast<std::uint8_t>(rng());
    serial[0] |= 0x01;
    serial.push_back(static_cast<std::uint8_t>(i >> 8));  // unique whatever the random part
    serial.push_back(static_cast<std::uint8_t>(i));
    r.serial = *pki::SerialNumber::from_bytes(serial);
    out.push_back(std::move(r));
  }
  return out;
}

template <typename Store>
std::vector<std::uint64_t> all_pages(Store& store, ca::CertificateQuery query,
                                     std::size_t* pages = nullptr) {
  std::vector<std::uint64_t> ids;
  std::size_t count = 0;
  for (int guard = 0; guard < 10000; ++guard) {
    auto page = store.list_certificates(query);
    if (!page) FAIL(page.error().describe());
    ++count;
    for (const auto& r : page->items) ids.push_back(r.id);
    if (page->next_cursor.empty()) break;
    query.cursor = page->next_cursor;
  }
  if (pages) *pages = count;
  return ids;
}

struct Filter {
  const char* name;
  std::function<void(ca::CertificateQuery&)> apply;
};

}  // namespace

TEST_CASE("listing answers every filter and sort like the reference, page by page") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  test::MemoryStore reference;
  const auto records = population(300);
  std::vector<std::future<base::Result<std::uint64_t>>> pending;
  for (const auto& r : records) pending.push_back(store->put_certificate_async(r, std::nullopt));
  for (auto& f : pending) REQUIRE(f.get());
  for (const auto& r : records) REQUIRE(reference.put_certificate(r, std::nullopt));
  for (std::uint64_t id = 3; id <= 300; id += 8) {  // every CA, and discovered ones
    ca::RevocationCommit revoke{id, {day(5), 1, std::nullopt, 0}, {}, std::nullopt};
    REQUIRE(store->revoke_certificate(revoke));
    REQUIRE(reference.revoke_certificate(revoke));
  }
  require_consistent(*store);

  const std::vector<Filter> filters = {
      {"none", [](auto&) {}},
      {"ca", [](auto& q) { q.ca_name = "root"; }},
      {"discovered CA", [](auto& q) { q.ca_name = ""; }},
      {"profile", [](auto& q) { q.profile = "vpn"; }},
      {"revoked", [](auto& q) { q.status = ca::CertificateStatus::kRevoked; }},
      {"expired", [](auto& q) { q.status = ca::CertificateStatus::kExpired; }},
      {"active", [](auto& q) { q.status = ca::CertificateStatus::kActive; }},
      {"discovered", [](auto& q) { q.source = ca::CertificateSource::kDiscovered; }},
      {"managed", [](auto& q) { q.source = ca::CertificateSource::kManaged; }},
      {"expiring", [](auto& q) { q.not_after_before = day(200); }},
      {"search prefix", [](auto& q) { q.search = "ECHO"; }},
      {"search SAN prefix", [](auto& q) { q.search = "golf.svc1."; }},
      {"search IP", [](auto& q) { q.search = "192.0.2.1"; }},
      {"search suffix", [](auto& q) { q.search = "*.example.com"; }},
      {"search deep suffix", [](auto& q) { q.search = "*.B.example.com"; }},
      {"search nothing", [](auto& q) { q.search = "zzz"; }},
      {"ca + active + expiring",
       [](auto& q) {
         q.ca_name = "issuing";
         q.status = ca::CertificateStatus::kActive;
         q.not_after_before = day(300);
       }},
      {"profile + suffix",
       [](auto& q) {
         q.profile = "web";
         q.search = "*.example.org";
       }},
      {"ca + revoked",
       [](auto& q) {
         q.ca_name = "issuing";
         q.status = ca::CertificateStatus::kRevoked;
       }},
  };
  for (const auto sort : {ca::CertificateSort::kNotAfter, ca::CertificateSort::kNotBefore,
                          ca::CertificateSort::kCommonName, ca::CertificateSort::kSerial}) {
    for (const bool descending : {false, true}) {
      for (const auto& filter : filters) {
        INFO(filter.name << ", sort " << to_string(sort) << (descending ? " desc" : " asc"));
        ca::CertificateQuery query;
        query.sort = sort;
        query.descending = descending;
        query.now = day(150);
        query.limit = 13;
        filter.apply(query);
        std::size_t pages = 0;
        const auto got = all_pages(*store, query, &pages);
        const auto want = all_pages(reference, query);
        CHECK(got == want);
        if (std::string_view(filter.name) == "none") CHECK(got.size() == 300);
        if (std::string_view(filter.name) != "search nothing") CHECK_FALSE(want.empty());
        CHECK(std::set<std::uint64_t>(got.begin(), got.end()).size() == got.size());
        if (got.size() > 13) CHECK(pages >= got.size() / 13);
      }
    }
  }
}

TEST_CASE("a search finds CN and SAN prefixes and DNS names under a suffix at any depth") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  auto add = [&](std::uint64_t n, std::string cn, std::vector<std::string> sans) {
    auto r = make_record("root", n);
    r.common_name = std::move(cn);
    r.subject_alt_names = std::move(sans);
    auto id = store->put_certificate(r, std::nullopt);
    REQUIRE(id);
    return *id;
  };
  const auto a = add(1, "www.example.com", {"DNS:www.example.com"});
  const auto b = add(2, "Some Person", {"DNS:a.b.Example.COM", "email:p@example.com"});
  const auto c = add(3, "example.com", {"DNS:example.com"});
  const auto d = add(4, "api.example.org", {"DNS:api.example.org", "DNS:notexample.com"});
  auto search = [&](std::string text) {
    ca::CertificateQuery q;
    q.search = std::move(text);
    q.sort = ca::CertificateSort::kCommonName;
    auto page = store->list_certificates(q);
    REQUIRE(page);
    std::vector<std::uint64_t> ids;
    for (const auto& r : page->items) ids.push_back(r.id);
    return ids;
  };
  CHECK(search("*.example.com") == std::vector<std::uint64_t>{b, a});  // not example.com
  CHECK(search("*.b.example.com") == std::vector<std::uint64_t>{b});
  CHECK(search("*.com").size() == 4);
  CHECK(search("WWW.EXA") == std::vector<std::uint64_t>{a});
  CHECK(search("a.b.") == std::vector<std::uint64_t>{b});
  CHECK(search("some") == std::vector<std::uint64_t>{b});
  CHECK(search("p@") == std::vector<std::uint64_t>{b});
  CHECK(search("example") == std::vector<std::uint64_t>{c});
  CHECK(search("api") == std::vector<std::uint64_t>{d});
}

TEST_CASE("a cursor from another sort or direction is refused") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  for (int n = 1; n <= 5; ++n)
    REQUIRE(store->put_certificate(make_record("root", n), std::nullopt));
  ca::CertificateQuery query;
  query.limit = 2;
  auto first = store->list_certificates(query);
  REQUIRE(first);
  REQUIRE_FALSE(first->next_cursor.empty());
  for (auto sort : {ca::CertificateSort::kNotBefore, ca::CertificateSort::kCommonName,
                    ca::CertificateSort::kSerial}) {
    auto other = query;
    other.sort = sort;
    other.cursor = first->next_cursor;
    auto refused = store->list_certificates(other);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code() == ErrorCode::kInvalidArgument);
    CHECK_THAT(refused.error().message(), Catch::Contains("another sort"));
  }
  auto reversed = query;
  reversed.descending = true;
  reversed.cursor = first->next_cursor;
  CHECK_FALSE(store->list_certificates(reversed));
  auto garbage = query;
  garbage.cursor = "zz";
  CHECK_FALSE(store->list_certificates(garbage));
}

TEST_CASE("a filter that matches little still pages through a large walk with cursors") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  // 12,000 certificates under one profile-less CA; 30 of them expire early. A CN sort with an
  // expiry filter walks cert_by_cn with the scan budget: several short pages, nothing lost.
  std::vector<std::future<base::Result<std::uint64_t>>> pending;
  for (int n = 1; n <= 12000; ++n) {
    auto r = make_record("root", n, n % 400 == 0 ? day(10) : day(500));
    r.profile.clear();
    pending.push_back(store->put_certificate_async(std::move(r), std::nullopt));
  }
  for (auto& f : pending) REQUIRE(f.get());
  ca::CertificateQuery query;
  query.sort = ca::CertificateSort::kCommonName;
  query.not_after_before = day(20);
  query.limit = 100;
  std::size_t pages = 0;
  const auto ids = all_pages(*store, query, &pages);
  CHECK(ids.size() == 30);
  CHECK(pages >= 2);  // the budget (10,000 entries) cut the walk at least once
  // And the notAfter sort answers it from its range alone: one page.
  query.sort = ca::CertificateSort::kNotAfter;
  const auto by_expiry = all_pages(*store, query, &pages);
  CHECK(by_expiry.size() == 30);
  CHECK(pages == 1);
}
