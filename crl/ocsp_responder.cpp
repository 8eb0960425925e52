#include "crl/ocsp_responder.h"

#include <chrono>
#include <utility>

#include "pki/certificate.h"
#include "pki/tbs_certificate.h"

namespace signet::crl {

using base::Error;
using base::ErrorCode;
using base::Result;
using pki::OcspResponseStatus;

// One certificate of one CA, as CertIDs name it: its name and key hashes per hash algorithm.
struct OcspResponder::Issuer {
  ca::CaRecord ca;  // the record when loaded (settings, key)
  std::vector<pki::OcspIssuerHashes> hashes;

  bool matches(const pki::OcspCertId& id) const {
    for (const auto& h : hashes) {
      if (h.hash == id.hash && h.name_hash == id.issuer_name_hash &&
          h.key_hash == id.issuer_key_hash) {
        return true;
      }
    }
    return false;
  }
};

// A bounded least-recently-used map from CertID (with its CA) to the signed response.
struct OcspResponder::Cache {
  struct Entry {
    std::string key;
    base::Bytes response;
    std::uint64_t status_tag = 0;  // what the response says (see status_tag())
    base::TimePoint refresh_after{};
  };
  explicit Cache(std::size_t capacity) : capacity(capacity) {}

  std::optional<base::Bytes> find(const std::string& key, std::uint64_t status_tag,
                                  base::TimePoint now) {
    std::lock_guard lock(mutex);
    auto it = index.find(key);
    if (it == index.end()) return std::nullopt;
    if (it->second->status_tag != status_tag || now >= it->second->refresh_after) {
      entries.erase(it->second);  // the status changed, or the response is getting old
      index.erase(it);
      return std::nullopt;
    }
    entries.splice(entries.begin(), entries, it->second);
    return it->second->response;
  }

  void put(std::string key, base::Bytes response, std::uint64_t status_tag,
           base::TimePoint refresh_after) {
    std::lock_guard lock(mutex);
    if (auto it = index.find(key); it != index.end()) {
      entries.erase(it->second);
      index.erase(it);
    }
    entries.push_front({std::move(key), std::move(response), status_tag, refresh_after});
    index.emplace(entries.front().key, entries.begin());
    while (entries.size() > capacity) {
      index.erase(entries.back().key);
      entries.pop_back();
    }
  }

  std::size_t size() const {
    std::lock_guard lock(mutex);
    return entries.size();
  }

  const std::size_t capacity;
  mutable std::mutex mutex;
  std::list<Entry> entries;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index;
};

namespace {

constexpr pki::OcspHash kCertIdHashes[] = {pki::OcspHash::kSha1, pki::OcspHash::kSha256,
                                           pki::OcspHash::kSha384, pki::OcspHash::kSha512};

// What a response states, as one number: 0 unknown, 1 good, 2 + sequence revoked.
std::uint64_t status_tag(const std::optional<ca::SerialStatus>& status) {
  if (!status) return 0;
  if (!status->revocation) return 1;
  return 2 + status->revocation->sequence;
}

OcspResponder::Outcome failure(OcspResponseStatus status, std::string why) {
  return {pki::encode_ocsp_error(status), status, std::move(why)};
}

// The signed response stating `statuses` for the request's CertIDs.
Result<base::Bytes> sign_response(const pki::OcspRequestInfo& request,
                                  const std::vector<std::optional<ca::SerialStatus>>& statuses,
                                  const OcspSigningKey& key, base::TimePoint now,
                                  std::chrono::minutes validity) {
  pki::OcspResponseData data;
  data.responder_key_hash = key.responder_key_hash;
  data.produced_at = now;
  data.nonce_extension_value = request.nonce_extension_value;
  const base::TimePoint next_update = std::min<base::TimePoint>(now + validity, key.not_after);
  for (std::size_t i = 0; i < request.cert_ids.size(); ++i) {
    pki::OcspSingleResponse single;
    single.cert_id_der = request.cert_ids[i].der;
    single.this_update = now;
    single.next_update = next_update;
    const auto& status = statuses[i];
    if (!status) {
      single.status = pki::OcspCertStatus::kUnknown;
    } else if (status->revocation) {
      single.status = pki::OcspCertStatus::kRevoked;
      single.revoked_at = status->revocation->revoked_at;
      if (status->revocation->reason != 0) single.reason = status->revocation->reason;
    } else {
      single.status = pki::OcspCertStatus::kGood;
    }
    data.responses.push_back(std::move(single));
  }
  SIGNET_ASSIGN_OR_RETURN(auto tbs, pki::encode_ocsp_response_data(data));
  SIGNET_ASSIGN_OR_RETURN(
      auto algorithm, pki::signature_algorithm_der(key.signer->algorithm(), key.signer->digest()));
  SIGNET_ASSIGN_OR_RETURN(auto signature, key.signer->sign(tbs));
  std::vector<base::Bytes> certs;
  if (!key.certificate_der.empty()) certs.push_back(key.certificate_der);
  return pki::encode_ocsp_response(tbs, algorithm, signature, certs);
}

}  // namespace

OcspResponder::OcspResponder(ca::Inventory& inventory, ca::CaDirectory& cas, OcspSigners& signers,
                             const base::Clock& clock, OcspResponderOptions options)
    : inventory_(inventory),
      cas_(cas),
      signers_(signers),
      clock_(clock),
      options_(options),
      cache_(options.cache_entries > 0 ? std::make_unique<Cache>(options.cache_entries) : nullptr) {
}

OcspResponder::~OcspResponder() = default;

Result<void> OcspResponder::reload() {
  SIGNET_ASSIGN_OR_RETURN(auto records, cas_.list_cas());
  auto issuers = std::make_shared<Issuers>();
  for (auto& record : records) {
    if (record.state != ca::CaState::kActive || record.certificate_der.empty()) continue;
    std::vector<base::ByteView> certificates = {record.certificate_der};
    for (const auto& previous : record.previous_certificates_der) certificates.push_back(previous);
    for (const auto der : certificates) {
      SIGNET_ASSIGN_OR_RETURN(auto certificate, pki::Certificate::from_der(der));
      Issuer issuer{record, {}};
      for (auto hash : kCertIdHashes) {
        SIGNET_ASSIGN_OR_RETURN(
            auto hashes,
            pki::ocsp_issuer_hashes(hash, certificate.subject_der(), certificate.public_key_der()));
        issuer.hashes.push_back(std::move(hashes));
      }
      issuers->push_back(std::move(issuer));
    }
    signers_.forget(record.name);
  }
  std::lock_guard lock(mutex_);
  issuers_ = std::move(issuers);
  return base::ok();
}

Result<std::shared_ptr<const OcspResponder::Issuers>> OcspResponder::issuers() {
  {
    std::lock_guard lock(mutex_);
    if (issuers_) return issuers_;
  }
  SIGNET_TRY(reload());
  std::lock_guard lock(mutex_);
  return issuers_;
}

void OcspResponder::count(std::uint64_t OcspStats::*counter) {
  std::lock_guard lock(mutex_);
  ++(stats_.*counter);
}

OcspStats OcspResponder::stats() const {
  std::lock_guard lock(mutex_);
  OcspStats stats = stats_;
  stats.cached = cache_ ? cache_->size() : 0;
  return stats;
}

base::Bytes OcspResponder::respond(base::ByteView request_der) {
  return handle(request_der).response;
}

OcspResponder::Outcome OcspResponder::handle(base::ByteView request_der) {
  count(&OcspStats::requests);
  auto request = pki::parse_ocsp_request(request_der);
  if (!request) {
    count(&OcspStats::malformed);
    return failure(OcspResponseStatus::kMalformedRequest, request.error().describe());
  }
  try {
    return answer(*request);
  } catch (const std::exception& e) {  // e.g. bad_alloc: a response, not a dead responder
    count(&OcspStats::internal_errors);
    return failure(OcspResponseStatus::kInternalError, e.what());
  }
}

OcspResponder::Outcome OcspResponder::answer(const pki::OcspRequestInfo& request) {
  const auto internal = [this](const Error& error) {
    count(&OcspStats::internal_errors);
    return failure(OcspResponseStatus::kInternalError, error.describe());
  };
  auto loaded = issuers();
  if (!loaded) return internal(loaded.error());
  const Issuers& all = **loaded;

  // Every CertID must name a certificate of the same CA: one key signs the response.
  const Issuer* issuer = nullptr;
  for (const auto& id : request.cert_ids) {
    const Issuer* found = nullptr;
    for (const auto& candidate : all) {
      if (candidate.matches(id)) {
        found = &candidate;
        break;
      }
    }
    if (found == nullptr || (issuer != nullptr && found->ca.name != issuer->ca.name)) {
      count(&OcspStats::unauthorized);
      return failure(OcspResponseStatus::kUnauthorized,
                     found == nullptr ? "the request names an issuer this responder does not "
                                        "serve"
                                      : "the request names certificates of more than one CA");
    }
    issuer = found;
  }
  const ca::CaRecord& ca = issuer->ca;

  std::vector<std::optional<ca::SerialStatus>> statuses;
  for (const auto& id : request.cert_ids) {
    auto serial = pki::SerialNumber::from_bytes(id.serial);
    if (!serial) {
      count(&OcspStats::malformed);
      return failure(OcspResponseStatus::kMalformedRequest, serial.error().describe());
    }
    auto status = inventory_.serial_status(ca.name, *serial);
    if (!status) return internal(status.error());
    statuses.push_back(std::move(*status));
  }

  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(clock_.now());
  const auto validity = std::chrono::minutes(std::max(1, ca.settings.ocsp_validity_minutes));
  const bool cacheable = cache_ && !request.nonce_extension_value && request.cert_ids.size() == 1;
  std::string cache_key;
  if (cacheable) {
    const auto& der = request.cert_ids.front().der;
    cache_key.reserve(ca.name.size() + 1 + der.size());
    cache_key.append(ca.name).push_back('\0');
    cache_key.append(reinterpret_cast<const char*>(der.data()), der.size());
    if (auto hit = cache_->find(cache_key, status_tag(statuses.front()), now)) {
      count(&OcspStats::cache_hits);
      return {std::move(*hit), OcspResponseStatus::kSuccessful, {}};
    }
  }

  // A responder key that vanished (renewed by another process, which deleted the old key):
  // forget it and sign once more with whatever is current now.
  Result<base::Bytes> signed_response = Error(ErrorCode::kInternal, "not signed");
  Result<OcspSigningKey> key = Error(ErrorCode::kInternal, "no key");
  for (int attempt = 1; attempt <= 2; ++attempt) {
    key = signers_.current(ca);
    if (!key) return internal(key.error());
    signed_response = sign_response(request, statuses, *key, now, validity);
    if (signed_response) break;
    signers_.forget(ca.name);
  }
  if (!signed_response) {
    return internal(std::move(signed_response)
                        .error()
                        .with_context("signing an OCSP response of CA '" + ca.name + "'"));
  }
  base::Bytes response = std::move(*signed_response);
  count(&OcspStats::signed_responses);
  if (cacheable) {
    // Re-signed after half its validity, so a cached answer always has time left.
    const base::TimePoint next_update = std::min<base::TimePoint>(now + validity, key->not_after);
    cache_->put(std::move(cache_key), response, status_tag(statuses.front()),
                now + (next_update - now) / 2);
  }
  return {std::move(response), OcspResponseStatus::kSuccessful, {}};
}

}  // namespace signet::crl
