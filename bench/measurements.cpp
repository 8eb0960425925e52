#include "bench/measurements.h"

#include <algorithm>
#include <deque>
#include <future>
#include <nlohmann/json.hpp>

#include "ca/certificate_record.h"
#include "ca/policy.h"
#include "pki/certificate.h"
#include "pki/csr.h"
#include "pki/digest.h"
#include "pki/tbs_certificate.h"

namespace signet::bench {

using base::Result;

namespace {

// Keeps `window` results of submit(i) outstanding; see measure_issuance. `submit` returns a
// std::future of a base::Result.
template <typename Submit>
Tally run_window(std::size_t window, const Interval& interval, Submit&& submit) {
  std::deque<decltype(submit(std::uint64_t{0}))> in_flight;
  Tally tally;
  auto settle_oldest = [&] {
    auto result = in_flight.front().get();
    in_flight.pop_front();
    if (!result) {
      tally.fail(result.error());
    } else if (interval.contains(Steady::now())) {
      ++tally.completed;
    }
  };
  std::uint64_t next = 0;
  while (Steady::now() < interval.end) {
    if (in_flight.size() < window) {
      in_flight.push_back(submit(next++));
    } else {
      settle_oldest();
    }
  }
  while (!in_flight.empty()) settle_oldest();  // finish late: durable, but not counted
  return tally;
}

std::size_t per_thread_window(int in_flight, int threads) {
  return static_cast<std::size_t>(std::max(1, in_flight / std::max(1, threads)));
}

StoreRun run_against_store(store::LmdbStore& store, int threads, const RunConfig& config,
                           const Worker& worker) {
  StoreRun out;
  std::uint64_t commits_at_start = 0;
  std::uint64_t records_at_start = 0;
  out.run = run_timed(
      threads, config.warmup, config.measure, worker,
      [&] {
        commits_at_start = store.commits();
        records_at_start = store.records_committed();
      },
      [&] {
        out.commits = store.commits() - commits_at_start;
        out.records = store.records_committed() - records_at_start;
      });
  return out;
}

// The audit event detail as Authority::issue_from_csr_async builds it.
std::string audit_detail(const ca::CertificateRecord& record) {
  nlohmann::json detail = {{"ca", record.ca_name},
                           {"serial", record.serial.to_hex()},
                           {"subject", record.subject},
                           {"fingerprint_sha256", base::to_hex(record.fingerprint_sha256)}};
  return detail.dump();
}

// The issuer-constant fields as ca/ca_lifecycle.cpp's issuer_fields_for() derives them.
pki::IssuerFields issuer_fields(const ca::CaRecord& ca, const pki::Certificate& certificate,
                                const base::Signer& signer) {
  pki::IssuerFields fields;
  fields.key_algorithm = signer.algorithm();
  fields.digest = signer.digest();
  fields.issuer_name_der = certificate.subject_der();
  fields.authority_key_identifier = certificate.subject_key_identifier();
  if (!ca.settings.base_url.empty()) {
    fields.crl_url = ca.settings.base_url + "/crl/" + ca.name + ".crl";
    fields.ocsp_url = ca.settings.base_url + "/ocsp/" + ca.name;
    fields.ca_issuers_url = ca.settings.base_url + "/ca/" + ca.name + ".crt";
  }
  return fields;
}

}  // namespace

RunResult measure_signing(const base::Signer& signer, int threads, const RunConfig& config) {
  const base::Bytes message(400, 0x30);
  return run_timed(threads, config.warmup, config.measure, [&](int thread, const Interval& iv) {
    return loop_until_end(thread, threads, iv, [&](std::uint64_t) { return signer.sign(message); });
  });
}

RunResult measure_csr_verification(const std::vector<base::Bytes>& csrs, int threads,
                                   const RunConfig& config) {
  return run_timed(threads, config.warmup, config.measure, [&](int thread, const Interval& iv) {
    return loop_until_end(thread, threads, iv, [&](std::uint64_t i) -> Result<void> {
      SIGNET_ASSIGN_OR_RETURN(auto csr, pki::Csr::parse(csrs[i % csrs.size()]));
      return csr.verify_signature();
    });
  });
}

StoreRun measure_issuance(ca::Authority& authority, const std::string& ca_name,
                          const std::vector<base::Bytes>& csrs, store::LmdbStore& store,
                          int threads, const RunConfig& config) {
  std::vector<ca::IssueFromCsrRequest> requests;
  for (const auto& csr : csrs) requests.push_back({ca_name, csr, std::nullopt});
  const std::size_t window = per_thread_window(config.in_flight, threads);
  return run_against_store(store, threads, config, [&](int thread, const Interval& iv) {
    return run_window(window, iv, [&](std::uint64_t i) {
      const auto slot =
          i * static_cast<std::uint64_t>(threads) + static_cast<std::uint64_t>(thread);
      return authority.issue_from_csr_async(requests[slot % requests.size()]);
    });
  });
}

StoreRun measure_store_commits(store::LmdbStore& store, const ca::CertificateRecord& sample,
                               int threads, const RunConfig& config) {
  const std::size_t window = per_thread_window(config.in_flight, threads);
  return run_against_store(store, threads, config, [&](int, const Interval& iv) {
    base::SystemRng rng;
    return run_window(window, iv, [&](std::uint64_t) {
      ca::CertificateRecord record = sample;
      // Fresh serial and fingerprint (random, so that runs never collide with each other).
      if (auto serial = pki::SerialNumber::random(rng)) record.serial = std::move(*serial);
      record.fingerprint_sha256 = pki::sha256(record.serial.magnitude());
      ca::AuditEvent event;
      event.time = std::chrono::system_clock::now();
      event.actor = "bench";
      event.action = "certificate.issued";
      event.object = "certificate:" + record.ca_name + "/" + record.serial.to_hex();
      event.detail = audit_detail(record);
      return store.put_certificate_async(std::move(record), std::move(event));
    });
  });
}

std::vector<Stage> measure_stages(const ca::CaRecord& ca, const base::Signer& signer,
                                  const std::vector<base::Bytes>& csrs, base::Rng& rng,
                                  Steady::duration duration) {
  std::vector<Stage> stages;
  auto add = [&](std::string name, StageTime time) {
    stages.push_back({std::move(name), std::move(time)});
  };
  auto fail = [&](const base::Error& error) {
    add("set-up", StageTime{0, 0, error.describe()});
    return stages;
  };
  auto at = [&](std::uint64_t i) -> const base::Bytes& { return csrs[i % csrs.size()]; };

  std::vector<pki::Csr> parsed;
  for (const auto& der : csrs) {
    auto csr = pki::Csr::parse(der);
    if (!csr) return fail(csr.error());
    parsed.push_back(std::move(*csr));
  }
  auto ca_certificate = pki::Certificate::from_der(ca.certificate_der);
  if (!ca_certificate) return fail(ca_certificate.error());
  auto tbs_template = pki::TbsTemplate::create(issuer_fields(ca, *ca_certificate, signer));
  if (!tbs_template) return fail(tbs_template.error());

  add("Csr::parse", time_stage(duration, [&](std::uint64_t i) { return pki::Csr::parse(at(i)); }));
  add("Csr::verify_signature", time_stage(duration, [&](std::uint64_t i) {
        return parsed[i % parsed.size()].verify_signature();
      }));
  add("policy: SANs + subject key", time_stage(duration, [&](std::uint64_t i) -> Result<void> {
        const auto& csr = parsed[i % parsed.size()];
        ca::PolicyReport report;
        ca::check_subject_key(csr.public_key(), report);
        SIGNET_TRY(csr.requested_subject_alt_names());
        if (!report.ok()) return report.to_error("bench request");
        return base::ok();
      }));
  add("SerialNumber::random",
      time_stage(duration, [&](std::uint64_t) { return pki::SerialNumber::random(rng); }));
  add("pki::key_identifier", time_stage(duration, [&](std::uint64_t i) {
        return pki::key_identifier(parsed[i % parsed.size()].public_key_der());
      }));

  // One issuance's fields, built once, as sign_end_entity builds them.
  const auto& csr = parsed.front();
  pki::SubjectFields fields;
  if (auto serial = pki::SerialNumber::random(rng)) fields.serial = std::move(*serial);
  const auto now =
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  fields.subject_name_der = csr.subject_der();
  fields.not_before = now - std::chrono::seconds(60);
  fields.not_after = now + std::chrono::days(ca.settings.default_validity_days);
  fields.public_key_der = csr.public_key_der();
  fields.key_usage = pki::kDigitalSignature;
  fields.extended_key_usage = {pki::kOidServerAuth, pki::kOidClientAuth};
  if (auto sans = csr.requested_subject_alt_names()) fields.subject_alt_names = *sans;
  if (auto ski = pki::key_identifier(fields.public_key_der)) fields.subject_key_identifier = *ski;

  add("TbsTemplate::encode",
      time_stage(duration, [&](std::uint64_t) { return tbs_template->encode(fields); }));
  auto tbs = tbs_template->encode(fields);
  if (!tbs) return fail(tbs.error());
  add("CA Signer::sign (the token)",
      time_stage(duration, [&](std::uint64_t) { return signer.sign(*tbs); }));
  auto signature = signer.sign(*tbs);
  if (!signature) return fail(signature.error());
  add("assemble_signed + Certificate::from_der", time_stage(duration, [&](std::uint64_t) {
        return pki::Certificate::from_der(
            pki::assemble_signed(*tbs, tbs_template->signature_algorithm_der(), *signature));
      }));
  auto certificate = pki::Certificate::from_der(
      pki::assemble_signed(*tbs, tbs_template->signature_algorithm_der(), *signature));
  if (!certificate) return fail(certificate.error());
  add("describe_certificate", time_stage(duration, [&](std::uint64_t) -> Result<std::size_t> {
        return ca::describe_certificate(*certificate, now).der.size();
      }));
  ca::CertificateRecord record = ca::describe_certificate(*certificate, now);
  record.ca_name = ca.name;
  add("audit detail JSON", time_stage(duration, [&](std::uint64_t) -> Result<std::size_t> {
        return audit_detail(record).size();
      }));
  add("CertificateRecord copy", time_stage(duration, [&](std::uint64_t) -> Result<std::size_t> {
        ca::CertificateRecord copy = record;
        return copy.der.size();
      }));
  return stages;
}

}  // namespace signet::bench
