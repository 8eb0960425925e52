#include "ca/internal/order_parameters.h"

#include <nlohmann/json.hpp>

namespace signet::ca::internal {

using nlohmann::json;

namespace {

std::int64_t seconds_of(base::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

std::string to_json(const OrderParameters& p) {
  const IssueRequest& r = p.issue;
  json out = {{"kind", std::string(to_string(p.kind))}};
  if (!r.profile.profile.empty()) out["profile"] = r.profile.profile;
  if (!r.profile.ca_name.empty()) out["ca"] = r.profile.ca_name;
  if (p.kind != OrderKind::kRevoke) {
    out["key_source"] = std::string(to_string(r.key.kind));
    if (!r.key.csr.empty()) out["csr"] = base::to_base64(r.key.csr);
    if (!r.key.key_uri.empty()) out["key_uri"] = r.key.key_uri;
    if (!r.key.token.empty()) out["token"] = r.key.token;
    if (r.key.algorithm) out["algorithm"] = std::string(base::to_string(*r.key.algorithm));
    if (!r.subject.empty()) out["subject"] = r.subject;
    if (!r.subject_alt_names.empty()) out["sans"] = r.subject_alt_names;
    if (r.validity_days) out["validity_days"] = *r.validity_days;
    if (r.key.kind == KeySourceKind::kLocalKey) {
      out["pfx_profile"] = std::string(pki::to_string(r.pfx_profile));
    }
  }
  if (p.certificate_id != 0) out["certificate_id"] = p.certificate_id;
  if (p.revoke_previous) out["revoke_previous"] = true;
  if (p.kind == OrderKind::kRevoke) {
    out["reason"] = std::string(to_string(p.reason));
    if (p.invalidity_date) out["invalidity_date"] = seconds_of(*p.invalidity_date);
    if (p.ca_certificate) out["ca_certificate"] = true;
  }
  return out.dump();
}

Order make_order(const OrderParameters& parameters, const Profile& profile, std::string common_name,
                 std::uint64_t target, std::uint64_t resubmitted_from) {
  Order order;
  order.kind = parameters.kind;
  order.ca_name = profile.ca_name;
  order.profile = profile.name;
  order.profile_version = profile.version;
  order.key_source =
      parameters.kind == OrderKind::kRevoke ? KeySourceKind::kNone : parameters.issue.key.kind;
  order.common_name = std::move(common_name);
  order.target_certificate_id = target;
  order.parameters = to_json(parameters);
  order.resubmitted_from = resubmitted_from;
  return order;
}

base::Result<OrderParameters> order_parameters_from_json(std::string_view text) {
  auto bad = [](const std::string& why) {
    return base::Error(base::ErrorCode::kInvalidArgument,
                       "the order's stored parameters cannot be read: " + why);
  };
  json document = json::parse(text, nullptr, false);
  if (document.is_discarded() || !document.is_object()) return bad("not a JSON object");
  OrderParameters p;
  try {
    SIGNET_ASSIGN_OR_RETURN(p.kind, parse_order_kind(document.at("kind").get<std::string>()));
    IssueRequest& r = p.issue;
    r.profile.profile = document.value("profile", "");
    r.profile.ca_name = document.value("ca", "");
    if (document.contains("key_source")) {
      SIGNET_ASSIGN_OR_RETURN(r.key.kind,
                              parse_key_source_kind(document.at("key_source").get<std::string>()));
    }
    if (document.contains("csr")) {
      auto csr = base::from_base64(document.at("csr").get<std::string>());
      if (!csr) return bad("the CSR is not base64");
      r.key.csr = std::move(*csr);
    }
    r.key.key_uri = document.value("key_uri", "");
    r.key.token = document.value("token", "");
    if (document.contains("algorithm")) {
      SIGNET_ASSIGN_OR_RETURN(
          r.key.algorithm, base::parse_key_algorithm(document.at("algorithm").get<std::string>()));
    }
    r.subject = document.value("subject", "");
    if (document.contains("sans")) {
      r.subject_alt_names = document.at("sans").get<std::vector<std::string>>();
    }
    if (document.contains("validity_days"))
      r.validity_days = document.at("validity_days").get<int>();
    if (document.contains("pfx_profile")) {
      SIGNET_ASSIGN_OR_RETURN(
          r.pfx_profile, pki::parse_pfx_profile(document.at("pfx_profile").get<std::string>()));
    }
    p.certificate_id = document.value("certificate_id", std::uint64_t{0});
    p.revoke_previous = document.value("revoke_previous", false);
    p.ca_certificate = document.value("ca_certificate", false);
    if (document.contains("reason")) {
      SIGNET_ASSIGN_OR_RETURN(p.reason,
                              parse_revocation_reason(document.at("reason").get<std::string>()));
    }
    if (document.contains("invalidity_date")) {
      p.invalidity_date =
          base::TimePoint(std::chrono::seconds(document.at("invalidity_date").get<std::int64_t>()));
    }
  } catch (const json::exception& e) {
    return bad(e.what());
  }
  return p;
}

}  // namespace signet::ca::internal
