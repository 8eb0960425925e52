#include "crl/scheduler.h"

#include <algorithm>
#include <chrono>

#include "crl/ocsp_signers.h"

namespace signet::crl {

using base::Error;
using base::Result;

std::string_view to_string(DueWork::What what) {
  switch (what) {
    case DueWork::What::kFullCrl:
      return "full CRL";
    case DueWork::What::kDeltaCrl:
      return "delta CRL";
    case DueWork::What::kOcspSigner:
      return "OCSP signer";
  }
  return "?";
}

namespace {

// Counts what a scan visits.
class CountingVisitor final : public ca::RevokedVisitor {
 public:
  Result<void> visit(const ca::RevokedEntry&) override {
    ++count;
    return base::ok();
  }
  std::uint64_t count = 0;
};

std::string minutes_until(base::TimePoint when, base::TimePoint now) {
  const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(when - now).count();
  if (minutes < 0) return "nextUpdate passed " + std::to_string(-minutes) + " min ago";
  return "nextUpdate in " + std::to_string(minutes) + " min";
}

// How long before a delta CRL's nextUpdate it is regenerated: the CA's overlap, but never
// more than half the delta's validity (deltas are short-lived).
std::chrono::minutes delta_overlap(const ca::CaSettings& s) {
  return std::chrono::minutes(std::min(s.crl_overlap_minutes, s.delta_crl_validity_minutes / 2));
}

bool can_sign(const ca::CaRecord& ca) {
  return ca.state == ca::CaState::kActive && !ca.certificate_der.empty();
}

}  // namespace

RevocationScheduler::RevocationScheduler(CrlService& crls, OcspSigners* signers, CrlStores stores,
                                         const base::Clock& clock)
    : crls_(crls), signers_(signers), stores_(stores), clock_(clock) {}

Result<std::uint64_t> RevocationScheduler::revoked_since(const ca::CaRecord& ca,
                                                         std::uint64_t sequence) {
  CountingVisitor counter;
  SIGNET_TRY(stores_.inventory.scan_revoked_since(ca.name, sequence, counter));
  return counter.count;
}

Result<void> RevocationScheduler::add_due(const ca::CaRecord& ca, std::vector<DueWork>& work) {
  if (!can_sign(ca)) return base::ok();
  const auto& s = ca.settings;
  const auto now = clock_.now();
  SIGNET_ASSIGN_OR_RETURN(auto full, stores_.crls.latest_crl_info(ca.name, ca::CrlKind::kFull));
  const auto add = [&](DueWork::What what, std::string why) {
    work.push_back({ca.name, what, std::move(why)});
  };

  bool full_due = false;
  if (!full) {
    add(DueWork::What::kFullCrl, "no CRL yet");
    full_due = true;
  } else if (now >= full->next_update - std::chrono::minutes(s.crl_overlap_minutes)) {
    add(DueWork::What::kFullCrl, minutes_until(full->next_update, now));
    full_due = true;
  } else if (s.crl_on_revocation && !s.delta_crls) {
    SIGNET_ASSIGN_OR_RETURN(auto revoked, revoked_since(ca, full->revocation_sequence));
    if (revoked > 0) {
      add(DueWork::What::kFullCrl,
          std::to_string(revoked) + " revocation(s) since CRL " + std::to_string(full->number));
      full_due = true;
    }
  }

  // A delta always builds on the newest full CRL, so it follows a full CRL made in this run.
  if (s.delta_crls) {
    SIGNET_ASSIGN_OR_RETURN(auto delta, stores_.crls.latest_crl_info(ca.name, ca::CrlKind::kDelta));
    if (full_due) {
      add(DueWork::What::kDeltaCrl, "a new full CRL is being made");
    } else if (!delta || delta->base_number != full->number) {
      add(DueWork::What::kDeltaCrl, "no delta over CRL " + std::to_string(full->number));
    } else if (now >= delta->next_update - delta_overlap(s)) {
      add(DueWork::What::kDeltaCrl, minutes_until(delta->next_update, now));
    } else if (s.crl_on_revocation) {
      SIGNET_ASSIGN_OR_RETURN(auto revoked, revoked_since(ca, delta->revocation_sequence));
      if (revoked > 0) {
        add(DueWork::What::kDeltaCrl,
            std::to_string(revoked) + " revocation(s) since CRL " + std::to_string(delta->number));
      }
    }
  }

  if (signers_ != nullptr) {
    SIGNET_ASSIGN_OR_RETURN(auto why, signers_->renewal_due(ca));
    if (why) add(DueWork::What::kOcspSigner, std::move(*why));
  }
  return base::ok();
}

Result<std::vector<DueWork>> RevocationScheduler::due(std::string_view ca_name) {
  std::vector<DueWork> work;
  if (!ca_name.empty()) {
    SIGNET_ASSIGN_OR_RETURN(auto ca, stores_.cas.find_ca(ca_name));
    if (!ca) return Error(base::ErrorCode::kNotFound, "no CA named '" + std::string(ca_name) + "'");
    SIGNET_TRY(add_due(*ca, work));
    return work;
  }
  SIGNET_ASSIGN_OR_RETURN(auto cas, stores_.cas.list_cas());
  for (const auto& ca : cas) SIGNET_TRY(add_due(ca, work));
  return work;
}

Result<std::vector<WorkOutcome>> RevocationScheduler::run_due(std::string_view ca_name) {
  SIGNET_ASSIGN_OR_RETURN(auto work, due(ca_name));
  std::vector<WorkOutcome> outcomes;
  for (auto& item : work) {
    WorkOutcome outcome;
    outcome.work = item;
    // A delta whose full CRL just failed has nothing to build on.
    const bool base_failed = item.what == DueWork::What::kDeltaCrl && !outcomes.empty() &&
                             outcomes.back().work.ca_name == item.ca_name &&
                             outcomes.back().work.what == DueWork::What::kFullCrl &&
                             outcomes.back().error;
    if (base_failed) {
      outcome.error = Error(base::ErrorCode::kInternal,
                            "skipped: the full CRL it builds on could not be generated");
    } else if (item.what == DueWork::What::kOcspSigner) {
      auto renewed = signers_->renew(item.ca_name);
      if (!renewed) outcome.error = std::move(renewed).error();
    } else {
      auto crl = item.what == DueWork::What::kFullCrl ? crls_.generate_full(item.ca_name)
                                                      : crls_.generate_delta(item.ca_name);
      if (crl) {
        crl->der.clear();
        crl->der.shrink_to_fit();
        outcome.crl = std::move(*crl);
      } else {
        outcome.error = std::move(crl).error();
      }
    }
    outcomes.push_back(std::move(outcome));
  }
  return outcomes;
}

Result<std::vector<WorkOutcome>> RevocationScheduler::on_revocation(std::string_view ca_name) {
  SIGNET_ASSIGN_OR_RETURN(auto ca, stores_.cas.find_ca(ca_name));
  if (!ca || !ca->settings.crl_on_revocation) return std::vector<WorkOutcome>{};
  return run_due(ca_name);
}

Result<std::optional<base::TimePoint>> RevocationScheduler::next_wakeup() {
  SIGNET_ASSIGN_OR_RETURN(auto cas, stores_.cas.list_cas());
  std::optional<base::TimePoint> earliest;
  const auto consider = [&](base::TimePoint t) {
    if (!earliest || t < *earliest) earliest = t;
  };
  const auto now = clock_.now();
  for (const auto& ca : cas) {
    if (!can_sign(ca)) continue;
    const auto& s = ca.settings;
    SIGNET_ASSIGN_OR_RETURN(auto full, stores_.crls.latest_crl_info(ca.name, ca::CrlKind::kFull));
    if (!full) {
      consider(now);
      continue;
    }
    consider(full->next_update - std::chrono::minutes(s.crl_overlap_minutes));
    if (s.delta_crls) {
      SIGNET_ASSIGN_OR_RETURN(auto delta,
                              stores_.crls.latest_crl_info(ca.name, ca::CrlKind::kDelta));
      consider(delta ? delta->next_update - delta_overlap(s) : now);
    }
    if (signers_ != nullptr && s.ocsp_signing == ca::OcspSigning::kDelegated) {
      SIGNET_ASSIGN_OR_RETURN(auto why, signers_->renewal_due(ca));
      if (why) consider(now);
      if (ca.ocsp_signer_certificate_id != 0) {
        SIGNET_ASSIGN_OR_RETURN(
            auto record, stores_.inventory.find_certificate_by_id(ca.ocsp_signer_certificate_id));
        if (record) {
          consider(record->not_after - std::chrono::days(s.ocsp_signer_renew_before_days));
        }
      }
    }
  }
  return earliest;
}

}  // namespace signet::crl
