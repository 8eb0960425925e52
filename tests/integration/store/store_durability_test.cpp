// LmdbStore under load and under failure: group commit, killed processes, a full disk, map
// growth, backup and restore.
#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "ca/audit.h"
#include "tests/integration/store/store_fixtures.h"

using namespace signet;
using namespace signet::store;
using namespace signet::store::testing;
using base::ErrorCode;

namespace {

// What a child reports per acknowledged record.
struct Ack {
  std::uint64_t n = 0;   // the record's make_record number
  std::uint64_t id = 0;  // the id the store assigned
};

// Checks that record `n` was stored whole under `id`.
void require_intact(LmdbStore& store, const std::string& ca, const Ack& ack) {
  auto found = store.find_certificate(ca, serial_of(ack.n));
  REQUIRE(found);
  REQUIRE(found->has_value());
  CHECK((*found)->id == ack.id);
  auto expected = make_record(ca, ack.n);
  require_same(**found, expected);
}

}  // namespace

TEST_CASE("concurrent issuances share commits and get distinct sequential ids") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  constexpr int kThreads = 8;
  constexpr int kPerThread = 500;
  std::vector<std::vector<std::uint64_t>> ids(kThreads);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::future<base::Result<std::uint64_t>>> pending;
      pending.reserve(kPerThread);
      for (int i = 0; i < kPerThread; ++i) {
        const auto n = static_cast<std::uint64_t>(t * kPerThread + i + 1);
        pending.push_back(store->put_certificate_async(make_record("root", n), std::nullopt));
      }
      for (auto& f : pending) {
        auto id = f.get();
        if (id) {
          ids[t].push_back(*id);
        } else {
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  REQUIRE(failures == 0);

  std::set<std::uint64_t> all;
  for (const auto& v : ids) all.insert(v.begin(), v.end());
  constexpr std::uint64_t kTotal = kThreads * kPerThread;
  REQUIRE(all.size() == kTotal);
  CHECK(*all.begin() == 1);
  CHECK(*all.rbegin() == kTotal);  // distinct and 1..N: sequential
  CHECK(store->records_committed() == kTotal);
  INFO("commits: " << store->commits() << ", largest batch: " << store->largest_batch());
  CHECK(store->commits() * 10 <= kTotal);

  for (std::uint64_t n = 1; n <= kTotal; ++n) {
    auto found = store->find_certificate_by_fingerprint(
        pki::sha256(base::as_bytes("root/" + std::to_string(n))));
    REQUIRE(found);
    REQUIRE(found->has_value());
  }
  require_consistent(*store);
}

TEST_CASE("a duplicate inside one batch fails alone") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  REQUIRE(store->put_certificate(make_record("root", 1), std::nullopt));

  // A second process holds LMDB's write lock, so that everything we queue meanwhile lands in
  // one transaction once it lets go.
  Pipe locked, release;
  const auto store_dir = store->path();
  const pid_t child = fork_child([&] {
    auto env = lmdb::Environment::open(store_dir, {});
    if (!env) return 10;
    auto txn = lmdb::Transaction::begin_write(**env);
    if (!txn) return 11;
    char c = 'L';
    if (!locked.send(&c, 1)) return 12;
    if (!release.receive(&c, 1)) return 13;
    return 0;  // aborts and releases the lock on the way out
  });
  char c = 0;
  REQUIRE(locked.receive(&c, 1));

  const auto commits_before = store->commits();
  std::vector<std::future<base::Result<std::uint64_t>>> pending;
  for (std::uint64_t n = 2; n <= 41; ++n) {
    pending.push_back(store->put_certificate_async(make_record("root", n), std::nullopt));
    if (n == 20) {  // the same serial and fingerprint as record 20, in the same batch
      pending.push_back(store->put_certificate_async(make_record("root", 20), std::nullopt));
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the writer take them all
  REQUIRE(release.send(&c, 1));
  REQUIRE(wait_child(child) == 0);

  int failed = 0;
  std::set<std::uint64_t> ids;
  for (std::size_t i = 0; i < pending.size(); ++i) {
    auto result = pending[i].get();
    if (i == 19) {  // the duplicate
      REQUIRE_FALSE(result);
      CHECK(result.error().code() == ErrorCode::kAlreadyExists);
      ++failed;
    } else {
      REQUIRE(result);
      ids.insert(*result);
    }
  }
  CHECK(failed == 1);
  CHECK(ids.size() == 40);
  CHECK(*ids.begin() == 2);
  CHECK(*ids.rbegin() == 41);
  CHECK(store->commits() - commits_before <= 2);
  require_consistent(*store);
}

TEST_CASE("a process killed while committing leaves whole records and a clean store") {
  test::TempDir dir;
  { auto store = open_store(dir.path()); }  // created before the child, like the appliance
  Pipe acks;
  const auto state = dir.path();
  const pid_t child = fork_child([&] {
    acks.close_read();
    auto store = LmdbStore::open(state);
    if (!store) return 10;
    // Keeps 16 issuances in flight; reports each only after its future completed.
    std::deque<std::pair<std::uint64_t, std::future<base::Result<std::uint64_t>>>> in_flight;
    for (std::uint64_t n = 1;; ++n) {
      in_flight.emplace_back(n,
                             (*store)->put_certificate_async(make_record("root", n), std::nullopt));
      if (in_flight.size() < 16) continue;
      auto [done_n, future] = std::move(in_flight.front());
      in_flight.pop_front();
      auto id = future.get();
      if (!id) return 11;
      Ack ack{done_n, *id};
      if (!acks.send(&ack, sizeof ack)) return 12;
    }
  });
  acks.close_write();

  std::vector<Ack> acknowledged;
  Ack ack;
  while (acknowledged.size() < 600 && acks.receive(&ack, sizeof ack)) acknowledged.push_back(ack);
  REQUIRE(acknowledged.size() == 600);
  ::kill(child, SIGKILL);
  while (acks.receive(&ack, sizeof ack)) acknowledged.push_back(ack);  // sent before it died
  CHECK(wait_child(child) == 128 + SIGKILL);

  auto store = open_store(dir.path());
  for (const auto& a : acknowledged) require_intact(*store, "root", a);
  auto report = store->check_integrity();
  REQUIRE(report);
  for (const auto& p : report->problems) UNSCOPED_INFO(p);
  REQUIRE(report->ok());
  CHECK(report->certificates >= acknowledged.size());
  // Ids stay sequential: the next one follows whatever committed last.
  auto next = store->put_certificate(make_record("root", 1'000'000), std::nullopt);
  REQUIRE(next);
  CHECK(*next == report->certificates + 1);
}

TEST_CASE("the reader slot of a process killed inside a read transaction is cleared at open") {
  test::TempDir dir;
  { auto store = open_store(dir.path()); }
  const auto store_dir = dir.path() / "store";
  // The lock file (and its reader table) is reset whenever no process has the store open, so
  // a stale slot only survives while some other process keeps it open: the bystander.
  auto hold_open = [&](bool with_reader, Pipe& ready) {
    return fork_child([&, with_reader] {
      auto env = lmdb::Environment::open(store_dir, {});
      if (!env) return 10;
      std::optional<lmdb::Transaction> txn;
      if (with_reader) {
        auto begun = lmdb::Transaction::begin_read(**env);
        if (!begun) return 11;
        txn.emplace(std::move(*begun));
      }
      char c = 'R';
      if (!ready.send(&c, 1)) return 12;
      ::pause();  // until killed
      return 0;
    });
  };
  Pipe bystander_ready, reader_ready;
  const pid_t bystander = hold_open(false, bystander_ready);
  char c = 0;
  REQUIRE(bystander_ready.receive(&c, 1));
  const pid_t reader = hold_open(true, reader_ready);
  REQUIRE(reader_ready.receive(&c, 1));
  ::kill(reader, SIGKILL);
  REQUIRE(wait_child(reader) == 128 + SIGKILL);

  // An independent look at the reader table (lmdb-utils): the dead reader is still there...
  const std::string pid_text = " " + std::to_string(reader) + " ";
  auto before = test::run_command("mdb_stat -r '" + store_dir.string() + "'");
  INFO(before.output);
  REQUIRE_THAT(before.output, Catch::Contains("Reader Table Status"));
  CHECK_THAT(before.output, Catch::Contains(pid_text));

  {
    // ...until the store opens, checks the readers and clears it.
    auto store = open_store(dir.path());
    CHECK(store->stale_readers_cleared() == 1);
    auto after = test::run_command("mdb_stat -r '" + store_dir.string() + "'");
    INFO(after.output);
    REQUIRE_THAT(after.output, Catch::Contains("Reader Table Status"));
    CHECK_THAT(after.output, !Catch::Contains(pid_text));
    REQUIRE(store->put_certificate(make_record("root", 1), std::nullopt));
  }
  ::kill(bystander, SIGKILL);
  wait_child(bystander);
}

TEST_CASE("a full disk fails the write with kStorageFull and leaves acknowledged records whole") {
  test::TempDir dir;
  { auto store = open_store(dir.path()); }
  const auto state = dir.path();
  const auto data_file = dir.path() / "store" / "data.mdb";
  Pipe report;
  const pid_t child = fork_child([&] {
    report.close_read();
    auto store = LmdbStore::open(state);
    if (!store) return 10;
    // From here the file may grow by 256 KiB at most; writes past that fail with EFBIG
    // instead of killing us with SIGXFSZ.
    ::signal(SIGXFSZ, SIG_IGN);
    struct stat st {};
    if (::stat(data_file.c_str(), &st) != 0) return 11;
    const rlim_t limit = static_cast<rlim_t>(st.st_size) + (256 << 10);
    struct rlimit rl {
      limit, limit
    };
    if (::setrlimit(RLIMIT_FSIZE, &rl) != 0) return 12;
    for (std::uint64_t n = 1; n < 100'000; ++n) {
      auto id = (*store)->put_certificate(make_record("root", n), std::nullopt);
      if (!id) {
        Ack end{0, static_cast<std::uint64_t>(id.error().code())};
        report.send(&end, sizeof end);
        const auto& message = id.error().message();
        const std::uint64_t size = std::min<std::size_t>(message.size(), 400);
        report.send(&size, sizeof size);
        report.send(message.data(), size);
        return 0;
      }
      Ack ack{n, *id};
      if (!report.send(&ack, sizeof ack)) return 13;
    }
    return 14;  // never filled up
  });
  report.close_write();

  std::vector<Ack> acknowledged;
  Ack ack;
  std::optional<ErrorCode> failure;
  std::string message;
  while (report.receive(&ack, sizeof ack)) {
    if (ack.n == 0) {
      failure = static_cast<ErrorCode>(ack.id);
      std::uint64_t size = 0;
      REQUIRE(report.receive(&size, sizeof size));
      message.resize(size);
      REQUIRE(report.receive(message.data(), size));
      break;
    }
    acknowledged.push_back(ack);
  }
  REQUIRE(wait_child(child) == 0);
  REQUIRE(failure.has_value());
  INFO(message);
  CHECK(*failure == ErrorCode::kStorageFull);
  CHECK_THAT(message, Catch::Contains("disk is full"));
  REQUIRE(acknowledged.size() > 20);

  auto store = open_store(dir.path());
  for (const auto& a : acknowledged) require_intact(*store, "root", a);
  auto integrity = store->check_integrity();
  REQUIRE(integrity);
  REQUIRE(integrity->ok());
  CHECK(integrity->certificates == acknowledged.size());  // nothing half-written, nothing extra
  REQUIRE(store->put_certificate(make_record("root", 1'000'000), std::nullopt));
}

TEST_CASE("the map grows when it fills up, while readers keep reading") {
  test::TempDir dir;
  LmdbStoreOptions options;
  options.initial_map_size = 256 << 10;
  auto store = open_store(dir.path(), options);
  REQUIRE(store->put_certificate(make_record("root", 1), std::nullopt));

  std::atomic<bool> stop{false};
  std::atomic<int> read_errors{0};
  std::thread reader([&] {
    const auto fingerprint = pki::sha256(base::as_bytes(std::string("root/1")));
    while (!stop) {
      auto found = store->find_certificate_by_fingerprint(fingerprint);
      if (!found || !found->has_value()) ++read_errors;
    }
  });
  std::vector<std::future<base::Result<std::uint64_t>>> pending;
  // Replays after a full map must assign the same ids, revocation sequences and audit hashes:
  // every commit carries an event, every fifth renews the one before (every tenth revoking
  // it), and the log's hash chain must verify at the end.
  for (std::uint64_t n = 2; n <= 3000; ++n) {
    ca::CertificateCommit commit;
    commit.record = make_record("root", n);
    if (n % 5 == 0) commit.record.predecessor_id = n - 1;
    if (n % 10 == 0) commit.revoke_predecessor = ca::Revocation{day(1), 4, std::nullopt, 0};
    commit.events = {audit_event(day(1), "test", "certificate.issued", "c:" + std::to_string(n))};
    pending.push_back(store->commit_certificate_async(std::move(commit)));
  }
  int failures = 0;
  for (auto& f : pending) {
    auto id = f.get();
    if (!id) {
      UNSCOPED_INFO(id.error().describe());
      ++failures;
    }
  }
  stop = true;
  reader.join();
  CHECK(failures == 0);
  CHECK(read_errors == 0);
  CHECK(store->map_resizes() > 0);
  CHECK(store->map_size() > options.initial_map_size);
  require_consistent(*store);
  auto chain = ca::verify_audit_chain(*store);
  REQUIRE(chain);
  CHECK(chain->ok());
  CHECK(chain->entries == 2999);
  auto revocations = store->list_revocations("root", 0, 1000);
  REQUIRE(revocations);
  CHECK(revocations->size() == 300);
  for (std::size_t i = 0; i < revocations->size(); ++i) {
    CHECK((*revocations)[i].revocation->sequence == i + 1);
    CHECK((*revocations)[i].successor_id == (*revocations)[i].id + 1);
  }

  store.reset();
  store = open_store(dir.path(), options);  // a small initial size does not shrink the store
  auto found = store->find_certificate("root", serial_of(3000));
  REQUIRE(found);
  CHECK(found->has_value());
  REQUIRE(store->put_certificate(make_record("root", 3001), std::nullopt));
}

TEST_CASE("a backup taken while writing restores everything acknowledged before it") {
  test::TempDir dir;
  const auto state = dir / "state";
  const auto backup = dir / "backup";
  auto store = open_store(state);

  std::mutex mutex;
  std::vector<Ack> acknowledged;  // guarded by mutex
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (std::uint64_t n = 1; !stop; ++n) {
      auto id = store->put_certificate(make_record("root", n), std::nullopt);
      if (!id) break;
      std::lock_guard lock(mutex);
      acknowledged.push_back({n, *id});
    }
  });
  std::vector<Ack> before_backup;
  while (true) {
    {
      std::lock_guard lock(mutex);
      if (acknowledged.size() >= 200) {
        before_backup = acknowledged;
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto done = store->backup_to(backup);
  stop = true;
  writer.join();
  REQUIRE(done);

  SECTION("restore into a fresh state directory") {
    const auto restored = dir / "restored";
    REQUIRE(LmdbStore::restore(backup, restored));
    auto copy = open_store(restored);
    for (const auto& a : before_backup) require_intact(*copy, "root", a);
    require_consistent(*copy);
    REQUIRE(copy->put_certificate(make_record("root", 1'000'000), std::nullopt));
  }

  SECTION("a non-empty backup directory is refused") {
    auto again = store->backup_to(backup);
    REQUIRE_FALSE(again);
    CHECK(again.error().code() == ErrorCode::kAlreadyExists);
    CHECK_THAT(again.error().message(), Catch::Contains(backup.string()));
  }

  SECTION("restoring over an existing store is refused") {
    store.reset();
    auto refused = LmdbStore::restore(backup, state);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code() == ErrorCode::kAlreadyExists);
    CHECK_THAT(refused.error().message(), Catch::Contains("already has a store"));
    auto still = open_store(state);  // untouched
    require_consistent(*still);
  }

  SECTION("restoring from a directory without a backup is refused") {
    auto missing = LmdbStore::restore(dir / "nothing", dir / "fresh");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code() == ErrorCode::kNotFound);
  }
}
