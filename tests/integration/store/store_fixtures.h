// Helpers for the store's integration tests: certificate records with every field set,
// field-by-field comparison, raw access to a store's environment (to plant a schema version
// or a corrupt record), and forked children talking back over a pipe.
#pragma once

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "base/clock.h"
#include "ca/records.h"
#include "pki/digest.h"
#include "pki/serial_number.h"
#include "store/internal/lmdb.h"
#include "store/internal/schema.h"
#include "store/lmdb_store.h"
#include "tests/support/test_support.h"

namespace signet::store::testing {

inline base::TimePoint day(int n) {
  // 2030-01-01 plus n days.
  return base::from_unix_seconds(1893456000) + std::chrono::hours(24 * n);
}

inline pki::SerialNumber serial_of(std::uint64_t n) {
  base::Bytes bytes(16, 0);
  bytes[0] = 0x42;  // keeps 16 significant bytes, like our 128-bit random serials
  lmdb::put_be64(bytes.data() + 8, n);
  auto serial = pki::SerialNumber::from_bytes(bytes);
  if (!serial) std::abort();  // no Catch2 macros: worker threads call this too
  return *serial;
}

// A record with every field set; `n` makes it unique (serial, fingerprint, names).
inline ca::CertificateRecord make_record(const std::string& ca, std::uint64_t n,
                                         base::TimePoint not_after = day(365)) {
  ca::CertificateRecord r;
  r.ca_name = ca;
  r.serial = serial_of(n);
  r.fingerprint_sha256 = pki::sha256(base::as_bytes(ca + "/" + std::to_string(n)));
  r.der.assign(600, static_cast<std::uint8_t>(n));
  r.subject = "CN=host" + std::to_string(n) + ".example,O=Signet";
  r.common_name = "host" + std::to_string(n) + ".example";
  r.subject_alt_names = {"DNS:host" + std::to_string(n) + ".example",
                         "DNS:www.host" + std::to_string(n) + ".example", "IP:192.0.2.7"};
  r.issuer = "CN=" + ca;
  r.not_before = day(0);
  r.not_after = not_after;
  r.recorded_at = day(0) + std::chrono::milliseconds(1234);
  r.key_algorithm = "ec-p256";
  r.digest = "sha256";
  r.profile = "tls-server";
  return r;
}

inline ca::AuditEvent audit_event(base::TimePoint time, std::string actor, std::string action,
                                  std::string object, std::string detail = "{}") {
  ca::AuditEvent event;
  event.time = time;
  event.actor = std::move(actor);
  event.action = std::move(action);
  event.object = std::move(object);
  event.detail = std::move(detail);
  return event;
}

inline void require_same(const ca::CertificateRecord& a, const ca::CertificateRecord& b) {
  CHECK(a.ca_name == b.ca_name);
  CHECK(a.serial == b.serial);
  CHECK(a.fingerprint_sha256 == b.fingerprint_sha256);
  CHECK(a.der == b.der);
  CHECK(a.subject == b.subject);
  CHECK(a.common_name == b.common_name);
  CHECK(a.subject_alt_names == b.subject_alt_names);
  CHECK(a.issuer == b.issuer);
  CHECK(a.not_before == b.not_before);
  CHECK(a.not_after == b.not_after);
  CHECK(a.recorded_at == b.recorded_at);
  CHECK(a.key_algorithm == b.key_algorithm);
  CHECK(a.digest == b.digest);
  CHECK(a.source == b.source);
  CHECK(a.is_ca == b.is_ca);
  REQUIRE(a.revocation.has_value() == b.revocation.has_value());
  if (a.revocation) {
    CHECK(a.revocation->revoked_at == b.revocation->revoked_at);
    CHECK(a.revocation->reason == b.revocation->reason);
    CHECK(a.revocation->invalidity_date == b.revocation->invalidity_date);
  }
  REQUIRE(a.key_location.has_value() == b.key_location.has_value());
  if (a.key_location) {
    CHECK(a.key_location->token_serial == b.key_location->token_serial);
    CHECK(a.key_location->id == b.key_location->id);
    CHECK(a.key_location->token_label == b.key_location->token_label);
    CHECK(a.key_location->object_label == b.key_location->object_label);
  }
  CHECK(a.profile == b.profile);
}

inline std::unique_ptr<LmdbStore> open_store(const std::filesystem::path& state,
                                             const LmdbStoreOptions& options = {}) {
  auto store = LmdbStore::open(state, options);
  if (!store) FAIL("opening the store: " << store.error().describe());
  return std::move(*store);
}

inline void require_consistent(LmdbStore& store) {
  auto report = store.check_integrity();
  REQUIRE(report);
  for (const auto& problem : report->problems) UNSCOPED_INFO(problem);
  REQUIRE(report->ok());
}

// Runs `fn` in one raw write transaction on the store's environment (the store must be closed
// in this process), and commits.
inline void with_raw_store(const std::filesystem::path& state,
                           const std::function<void(lmdb::Transaction&, schema::Tables&)>& fn) {
  auto env = lmdb::Environment::open(state / "store", {});
  REQUIRE(env);
  auto txn = lmdb::Transaction::begin_write(**env);
  REQUIRE(txn);
  auto tables = schema::open_tables(*txn, false);
  REQUIRE(tables);
  fn(*txn, *tables);
  REQUIRE(txn->commit());
}

// A pipe whose ends close themselves.
class Pipe {
 public:
  Pipe() { REQUIRE(::pipe(fds_) == 0); }
  ~Pipe() {
    close_read();
    close_write();
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  int read_end() const { return fds_[0]; }
  int write_end() const { return fds_[1]; }
  void close_read() { close_fd(fds_[0]); }
  void close_write() { close_fd(fds_[1]); }

  // Writes all of `size` bytes (children use this; atomic below PIPE_BUF).
  bool send(const void* data, std::size_t size) {
    return ::write(fds_[1], data, size) == static_cast<ssize_t>(size);
  }
  // Reads exactly `size` bytes; false at end of file.
  bool receive(void* data, std::size_t size) {
    auto* out = static_cast<char*>(data);
    std::size_t got = 0;
    while (got < size) {
      const ssize_t n = ::read(fds_[0], out + got, size - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      got += static_cast<std::size_t>(n);
    }
    return true;
  }

 private:
  static void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  int fds_[2] = {-1, -1};
};

// Forks; the child runs `body` and leaves with _exit (never returning into Catch2).
inline pid_t fork_child(const std::function<int()>& body) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) ::_exit(body());
  return pid;
}

// Waits for the child; returns its exit code, or 128 + signal.
inline int wait_child(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace signet::store::testing
