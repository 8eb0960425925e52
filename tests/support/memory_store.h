// An in-memory implementation of ca/records.h for unit tests of ca/: the same contract as
// the LMDB store (serial uniqueness per CA, fingerprint uniqueness, CA revisions, audit
// sequence), without I/O. Thread-safe through one mutex.
#pragma once

#include <map>
#include <mutex>

#include "ca/records.h"

namespace signet::test {

class MemoryStore final : public ca::Inventory, public ca::CaDirectory, public ca::AuditSink {
 public:
  std::future<base::Result<std::uint64_t>> put_certificate_async(
      ca::CertificateRecord record, std::optional<ca::AuditEvent> event) override;
  base::Result<std::optional<ca::CertificateRecord>> find_certificate(
      std::string_view ca_name, const pki::SerialNumber& serial) override;
  base::Result<std::vector<ca::CertificateRecord>> find_certificates_by_serial(
      const pki::SerialNumber& serial) override;
  base::Result<std::optional<ca::CertificateRecord>> find_certificate_by_fingerprint(
      base::ByteView sha256) override;
  base::Result<std::vector<ca::CertificateRecord>> find_certificates_by_name(
      std::string_view name) override;
  base::Result<ca::CertificatePage> list_certificates(const ca::CertificateQuery& query) override;

  base::Result<void> create_ca(const ca::CaRecord& record,
                               std::optional<ca::AuditEvent> event) override;
  base::Result<void> update_ca(const ca::CaRecord& record,
                               std::optional<ca::AuditEvent> event) override;
  base::Result<std::optional<ca::CaRecord>> find_ca(std::string_view name) override;
  base::Result<std::vector<ca::CaRecord>> list_cas() override;

  base::Result<std::uint64_t> append_audit(ca::AuditEvent event) override;
  base::Result<std::vector<ca::AuditEvent>> list_audit(std::uint64_t after,
                                                       std::size_t limit) override;

  // Makes the next `count` certificate puts fail with kAlreadyExists (a serial collision).
  void inject_collisions(int count);
  std::size_t certificate_count();

 private:
  std::uint64_t append_locked(ca::AuditEvent event);

  std::mutex mutex_;  // guards everything below
  std::map<std::uint64_t, ca::CertificateRecord> certificates_;
  std::map<std::string, ca::CaRecord, std::less<>> cas_;
  std::vector<ca::AuditEvent> audit_;
  int collisions_to_inject_ = 0;
};

}  // namespace signet::test
