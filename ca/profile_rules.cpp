// Applying an RA profile to a request: every rule, every finding, and what the certificate
// will carry.
#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "ca/internal/profile_names.h"
#include "ca/policy.h"
#include "ca/profile.h"
#include "pki/general_name.h"
#include "pki/name.h"
#include "pki/public_key.h"
#include "pki/tbs_certificate.h"

namespace signet::ca {

using base::Error;
using base::ErrorCode;

namespace internal {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

constexpr std::array<std::pair<std::string_view, std::uint16_t>, 8> kKeyUsages = {{
    {"digitalSignature", pki::kDigitalSignature},
    {"nonRepudiation", pki::kNonRepudiation},
    {"contentCommitment", pki::kNonRepudiation},
    {"keyEncipherment", pki::kKeyEncipherment},
    {"dataEncipherment", pki::kDataEncipherment},
    {"keyAgreement", pki::kKeyAgreement},
    {"keyCertSign", pki::kKeyCertSign},
    {"cRLSign", pki::kCrlSign},
}};

constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kExtendedKeyUsages = {{
    {"serverAuth", "1.3.6.1.5.5.7.3.1"},
    {"clientAuth", "1.3.6.1.5.5.7.3.2"},
    {"codeSigning", "1.3.6.1.5.5.7.3.3"},
    {"emailProtection", "1.3.6.1.5.5.7.3.4"},
    {"timeStamping", "1.3.6.1.5.5.7.3.8"},
    {"OCSPSigning", "1.3.6.1.5.5.7.3.9"},
}};

// What pki::parse_distinguished_name and pki::encode_name know, by OpenSSL short name.
constexpr std::array<std::string_view, 23> kNameTypes = {"CN",
                                                         "C",
                                                         "O",
                                                         "OU",
                                                         "L",
                                                         "ST",
                                                         "street",
                                                         "DC",
                                                         "UID",
                                                         "serialNumber",
                                                         "emailAddress",
                                                         "title",
                                                         "GN",
                                                         "SN",
                                                         "initials",
                                                         "pseudonym",
                                                         "dnQualifier",
                                                         "postalCode",
                                                         "businessCategory",
                                                         "organizationIdentifier",
                                                         "jurisdictionC",
                                                         "jurisdictionST",
                                                         "jurisdictionL"};

bool is_dotted_oid(std::string_view text) {
  if (text.empty() || text.front() == '.' || text.back() == '.') return false;
  int dots = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '.') {
      if (text[i - 1] == '.') return false;
      ++dots;
    } else if (!std::isdigit(static_cast<unsigned char>(text[i]))) {
      return false;
    }
  }
  return dots >= 1;
}

}  // namespace

std::optional<std::uint16_t> key_usage_bit(std::string_view name) {
  for (const auto& [known, bit] : kKeyUsages) {
    if (iequals(known, name)) return bit;
  }
  return std::nullopt;
}

std::string key_usage_names() {
  std::string out;
  for (const auto& [name, bit] : kKeyUsages) out += (out.empty() ? "" : ", ") + std::string(name);
  return out;
}

std::optional<std::string> extended_key_usage_oid(std::string_view name) {
  for (const auto& [known, oid] : kExtendedKeyUsages) {
    if (iequals(known, name)) return std::string(oid);
  }
  if (is_dotted_oid(name)) return std::string(name);
  return std::nullopt;
}

bool is_name_attribute_type(std::string_view type) {
  return std::any_of(kNameTypes.begin(), kNameTypes.end(),
                     [&](std::string_view known) { return iequals(known, type); });
}

}  // namespace internal

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// Where a fixed attribute that the request lacks goes: X.509 order, most significant first.
int attribute_rank(std::string_view type) {
  constexpr std::array<std::string_view, 10> order = {
      "DC", "C", "ST", "L", "street", "O", "OU", "serialNumber", "CN", "emailAddress"};
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (iequals(order[i], type)) return static_cast<int>(i);
  }
  return 7;  // other attributes sit between OU and CN
}

class Findings {
 public:
  Findings(ProfileDecision& decision) : decision_(decision) {}
  void add(std::string rule, std::string message, RuleMode mode) {
    PolicyFinding finding{std::move(rule), std::move(message), mode};
    (mode == RuleMode::kHardFail ? decision_.hard_failures : decision_.soft_failures)
        .push_back(std::move(finding));
  }

 private:
  ProfileDecision& decision_;
};

void check_key(const Profile& profile, const pki::PublicKeyInfo& key, ProfileDecision& decision,
               Findings& findings) {
  decision.key_algorithm = key.name;
  // What Signet never certifies is refused whatever the profile says.
  PolicyReport baseline;
  check_subject_key(key, baseline);
  for (const auto& violation : baseline.violations()) {
    findings.add("key", violation, RuleMode::kHardFail);
  }
  const auto& allowed = profile.key_algorithms.allowed;
  if (!baseline.ok() || allowed.empty()) return;
  if (!key.algorithm ||
      std::find(allowed.begin(), allowed.end(), *key.algorithm) == allowed.end()) {
    std::vector<std::string> names;
    for (auto algorithm : allowed) names.emplace_back(base::to_string(algorithm));
    findings.add("key_algorithms",
                 key.name + " is not allowed by profile " + profile.qualified_name() +
                     " (allowed: " + join(names) + ")",
                 profile.key_algorithms.mode);
  }
}

void check_validity(const Profile& profile, const std::optional<int>& requested,
                    ProfileDecision& decision, Findings& findings) {
  const int days = requested.value_or(profile.validity.default_days);
  decision.validity_days = days;
  if (days < 1 || days > internal::kMaxProfileDays) {
    findings.add("validity",
                 "a validity of " + std::to_string(days) + " days is out of range (1 to 36500)",
                 RuleMode::kHardFail);
    return;
  }
  if (days > profile.validity.max_days) {
    findings.add("validity",
                 "a validity of " + std::to_string(days) +
                     " days exceeds the profile's maximum of " +
                     std::to_string(profile.validity.max_days),
                 profile.validity.mode);
  }
}

base::Result<void> apply_subject(const Profile& profile, base::ByteView subject_der,
                                 ProfileDecision& decision, Findings& findings) {
  SIGNET_ASSIGN_OR_RETURN(auto attributes, pki::name_attributes(subject_der));
  const auto& rule = profile.subject;
  bool changed = false;
  for (const auto& [type, value] : rule.fixed) {
    bool present = false;
    for (auto& attribute : attributes) {
      if (!iequals(attribute.type, type)) continue;
      present = true;
      if (attribute.value != value) {
        findings.add("subject",
                     type + "=" + attribute.value + " was requested, but the profile sets " + type +
                         "=" + value,
                     rule.mode);
        attribute.value = value;
        changed = true;
      }
    }
    if (!present) {
      auto at = std::find_if(attributes.begin(), attributes.end(),
                             [rank = attribute_rank(type)](const pki::NameAttribute& a) {
                               return attribute_rank(a.type) > rank;
                             });
      attributes.insert(at, pki::NameAttribute{type, value});
      changed = true;
    }
  }
  for (const auto& type : rule.required) {
    const bool present = std::any_of(attributes.begin(), attributes.end(), [&](const auto& a) {
      return iequals(a.type, type) && !a.value.empty();
    });
    if (!present)
      findings.add("subject", "the required subject field " + type + " is missing", rule.mode);
  }
  if (!rule.allowed.empty()) {
    for (const auto& attribute : attributes) {
      const bool ok = std::any_of(rule.allowed.begin(), rule.allowed.end(),
                                  [&](const auto& t) { return iequals(t, attribute.type); }) ||
                      std::any_of(rule.fixed.begin(), rule.fixed.end(),
                                  [&](const auto& f) { return iequals(f.first, attribute.type); });
      if (!ok) {
        findings.add("subject",
                     "the subject field " + attribute.type +
                         " is not allowed (allowed: " + join(rule.allowed) + ")",
                     rule.mode);
      }
    }
  }
  if (changed) {
    SIGNET_ASSIGN_OR_RETURN(decision.subject_der, pki::encode_name(attributes));
  } else {
    decision.subject_der.assign(subject_der.begin(), subject_der.end());
  }
  return base::ok();
}

bool dns_name_allowed(const std::string& name, const std::vector<std::string>& suffixes) {
  if (suffixes.empty()) return true;
  std::string host = name;
  if (host.starts_with("*.")) host = host.substr(2);
  return std::any_of(suffixes.begin(), suffixes.end(), [&](const std::string& suffix) {
    return host == suffix || (host.size() > suffix.size() && host.ends_with(suffix) &&
                              host[host.size() - suffix.size() - 1] == '.');
  });
}

void check_sans(const Profile& profile, const ProfileRequest& request,
                const std::string& common_name, ProfileDecision& decision, Findings& findings) {
  const auto& rule = profile.sans;
  std::vector<pki::GeneralName> names;
  for (const auto& text : request.subject_alt_names) {
    auto name = pki::parse_general_name(text);
    if (!name) {
      findings.add("sans", name.error().message(), RuleMode::kHardFail);
      continue;
    }
    if (std::find(names.begin(), names.end(), *name) == names.end()) names.push_back(*name);
  }
  // RFC 6125 §6.4.4: clients ignore the CN for host names, so a request without SANs whose CN
  // is a DNS name gets it as its SAN.
  std::optional<pki::GeneralName> cn_as_dns;
  if (common_name.find('.') != std::string::npos && common_name.find('@') == std::string::npos) {
    if (auto name = pki::parse_general_name("DNS:" + common_name)) cn_as_dns = *name;
  }
  if (names.empty() && cn_as_dns) names.push_back(*cn_as_dns);
  if (names.size() > rule.max_count) {
    findings.add("sans",
                 std::to_string(names.size()) +
                     " subject alternative names exceed the profile's "
                     "maximum of " +
                     std::to_string(rule.max_count),
                 rule.mode);
  }
  auto check_dns = [&](const std::string& value, const char* what) {
    if (!dns_name_allowed(value, rule.dns_suffixes)) {
      findings.add("sans",
                   std::string(what) + " " + value + " is outside the allowed domains (" +
                       join(rule.dns_suffixes) + ")",
                   rule.mode);
    }
  };
  for (const auto& name : names) {
    switch (name.type) {
      case pki::GeneralName::Type::kDns:
        check_dns(name.value, "the DNS name");
        break;
      case pki::GeneralName::Type::kIp:
        if (!rule.allow_ip) {
          findings.add("sans", "IP address " + name.value + " is not allowed by the profile",
                       rule.mode);
        }
        break;
      case pki::GeneralName::Type::kEmail:
        if (!rule.allow_email) {
          findings.add("sans", "e-mail address " + name.value + " is not allowed by the profile",
                       rule.mode);
        }
        break;
      // A UPN is a logon identity: only the realms the profile names (sans.upn_realms).
      case pki::GeneralName::Type::kUpn: {
        const auto at = name.value.rfind('@');
        std::string realm = at == std::string::npos ? "" : name.value.substr(at + 1);
        std::transform(realm.begin(), realm.end(), realm.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (rule.upn_realms.empty()) {
          findings.add("sans",
                       "user principal name " + name.value +
                           " is not allowed by the profile (sans.upn_realms is empty)",
                       rule.mode);
        } else if (!dns_name_allowed(realm, rule.upn_realms)) {
          findings.add("sans",
                       "user principal name " + name.value + " is outside the allowed realms (" +
                           join(rule.upn_realms) + ")",
                       rule.mode);
        }
        break;
      }
      case pki::GeneralName::Type::kUri:
        if (!rule.allow_uri) {
          findings.add("sans", "URI " + name.value + " is not allowed by the profile", rule.mode);
        }
        break;
    }
  }
  if (cn_as_dns && std::find(names.begin(), names.end(), *cn_as_dns) == names.end()) {
    check_dns(cn_as_dns->value, "the common name");
  }
  for (const auto& name : names) decision.subject_alt_names.push_back(name.to_string());
}

void choose_usages(const Profile& profile, const pki::PublicKeyInfo& key,
                   ProfileDecision& decision) {
  const bool rsa = key.type == pki::PublicKeyInfo::Type::kRsa;
  for (const auto& name : profile.key_usage) {
    auto bit = internal::key_usage_bit(name);
    if (!bit) continue;
    // RFC 8813 / RFC 5480 §3: EC and EdDSA keys do not encipher.
    if (!rsa && (*bit == pki::kKeyEncipherment || *bit == pki::kDataEncipherment)) continue;
    if (key.type == pki::PublicKeyInfo::Type::kEd25519 && *bit == pki::kKeyAgreement) continue;
    decision.key_usage |= *bit;
  }
  if (profile.key_usage.empty()) {
    decision.key_usage = rsa ? (pki::kDigitalSignature | pki::kKeyEncipherment)
                             : std::uint16_t{pki::kDigitalSignature};
  }
  for (const auto& name : profile.extended_key_usage) {
    if (auto oid = internal::extended_key_usage_oid(name)) {
      if (std::find(decision.extended_key_usage.begin(), decision.extended_key_usage.end(), *oid) ==
          decision.extended_key_usage.end()) {
        decision.extended_key_usage.push_back(*oid);
      }
    }
  }
}

}  // namespace

base::Error ProfileDecision::to_error(const Profile& profile) const {
  std::string message = "request refused by profile '" + profile.qualified_name() + "': ";
  for (std::size_t i = 0; i < hard_failures.size(); ++i) {
    if (i > 0) message += "; ";
    message += hard_failures[i].rule + ": " + hard_failures[i].message;
  }
  return Error(ErrorCode::kPolicyViolation, std::move(message));
}

base::Result<ProfileDecision> apply_profile(const Profile& profile, const ProfileRequest& request) {
  ProfileDecision decision;
  Findings findings(decision);
  auto key = pki::inspect_public_key(request.public_key_der);
  if (!key) return std::move(key).error().with_context("reading the request's public key");
  if (!profile.enabled) {
    findings.add("enabled", "profile " + profile.qualified_name() + " is disabled",
                 RuleMode::kHardFail);
  }
  check_key(profile, *key, decision, findings);
  check_validity(profile, request.validity_days, decision, findings);
  SIGNET_TRY(apply_subject(profile, request.subject_der, decision, findings));
  SIGNET_ASSIGN_OR_RETURN(const std::string common_name, pki::common_name_of(decision.subject_der));
  check_sans(profile, request, common_name, decision, findings);
  if (pki::is_empty_name(decision.subject_der) && decision.subject_alt_names.empty()) {
    findings.add("subject", "the request has neither a subject nor a subject alternative name",
                 RuleMode::kHardFail);
  }
  choose_usages(profile, *key, decision);
  return decision;
}

}  // namespace signet::ca
