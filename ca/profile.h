// RA profiles: the rules every certificate is issued, renewed, rekeyed or revoked under.
//
// A profile is bound to one CA and named within it ("issuing/web-servers"); every CA gets a
// profile named "default" when it is created. A profile holds what the issued certificate
// carries (validity, key usage, extended key usage, subject template) and the rules a request
// must satisfy (key algorithms, subject fields, SANs, validity). Each rule is hard-fail (the
// request is refused) or soft-fail (the request proceeds and the order records a warning).
// Profiles are immutable values with a version: an update stores version + 1, and a
// certificate records the version it was issued under, so changing a profile never alters
// what was already issued.
//
// Operators write profiles as JSON (`signet profile create --file`); the same JSON is what the
// REST API will take. Plain values and functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/keys.h"
#include "base/result.h"

namespace signet::ca {

enum class RuleMode { kHardFail, kSoftFail };
std::string_view to_string(RuleMode mode);  // "hard", "soft"
base::Result<RuleMode> parse_rule_mode(std::string_view text);

// Which subject keys a request may carry, by the names of base::KeyAlgorithm ("ec-p256",
// "rsa-3072"...). Empty: every algorithm Signet accepts (ca/policy.h check_subject_key).
struct KeyAlgorithmRule {
  std::vector<base::KeyAlgorithm> allowed;
  RuleMode mode = RuleMode::kHardFail;
};

struct ValidityRule {
  int default_days = 365;  // when the request names none
  int max_days = 825;      // a longer request breaks the rule
  RuleMode mode = RuleMode::kHardFail;
};

// The subject template: attribute types by their OpenSSL short names ("CN", "O", "OU", "C",
// "L", "ST", "emailAddress", "serialNumber", "DC", "UID"...).
struct SubjectRule {
  std::vector<std::string> required;         // each must be present (non-empty)
  std::vector<std::string> allowed;          // empty: any; otherwise others break the rule
  std::map<std::string, std::string> fixed;  // set to this value, whatever was asked
  RuleMode mode = RuleMode::kHardFail;
};

struct SanRule {
  // DNS names (SANs, and a CN that is a DNS name) must equal one of these or end in
  // "." + one of them. Empty: any DNS name.
  std::vector<std::string> dns_suffixes;
  bool allow_ip = false;
  bool allow_email = false;  // e-mail addresses
  bool allow_uri = false;
  std::size_t max_count = 100;
  RuleMode mode = RuleMode::kHardFail;
  // User principal names (UPN:user@realm, a Windows logon identity) are allowed only when
  // their realm equals one of these or ends in "." + one of them. Empty: no UPN at all. Kept
  // apart from allow_email because a UPN in a certificate a domain trusts is a logon.
  std::vector<std::string> upn_realms;
};

struct Profile {
  std::string ca_name;
  std::string name;  // 1-64 of [A-Za-z0-9._-], as CA names
  std::string description;
  bool enabled = true;
  std::uint64_t version = 0;  // 0 before it is stored; 1, 2, ... as stored
  KeyAlgorithmRule key_algorithms;
  ValidityRule validity;
  // What issued certificates carry. Key usage names as RFC 5280 spells them
  // ("digitalSignature", "keyEncipherment", ...); extended key usage by name ("serverAuth",
  // "clientAuth", "codeSigning", "emailProtection", "timeStamping", "OCSPSigning") or dotted
  // OID. keyEncipherment is left out for keys that cannot encipher (EC, Ed25519).
  std::vector<std::string> key_usage;
  std::vector<std::string> extended_key_usage;
  SubjectRule subject;
  SanRule sans;
  base::TimePoint created_at{};
  base::TimePoint updated_at{};
  std::string updated_by;

  std::string qualified_name() const { return ca_name + "/" + name; }  // "issuing/web"
};

// The profile every new CA gets: TLS server and client certificates, 365 days (max 825),
// any accepted key, CN or a SAN required, DNS/IP/e-mail/URI SANs allowed, all hard-fail.
Profile default_profile(std::string ca_name);

// Checks a profile's own consistency (names, key usage names, days in 1..36500,
// default <= max, max_count >= 1...). Every problem in one kInvalidArgument.
base::Result<void> validate_profile(const Profile& profile);

// JSON as operators write it:
//   {"name": "web", "ca": "issuing", "description": "...", "enabled": true,
//    "key_algorithms": {"allowed": ["ec-p256", "rsa-2048"], "mode": "hard"},
//    "validity": {"default_days": 90, "max_days": 397, "mode": "hard"},
//    "key_usage": ["digitalSignature", "keyEncipherment"], "extended_key_usage": ["serverAuth"],
//    "subject": {"required": ["CN"], "allowed": ["CN", "O"], "fixed": {"O": "Example"},
//                "mode": "soft"},
//    "sans": {"dns_suffixes": ["example.com"], "allow_ip": false, "allow_email": false,
//             "allow_uri": false, "max_count": 10, "mode": "hard"}}
// Every key is optional except "name" (and "ca" unless given by the caller); unknown keys and
// wrong types are errors naming the key path. The stored form adds version and timestamps.
std::string profile_to_json(const Profile& profile, bool pretty = true);
base::Result<Profile> profile_from_json(std::string_view text);

// What a request asks for, as the profile sees it.
struct ProfileRequest {
  base::Bytes public_key_der;                  // SubjectPublicKeyInfo
  base::Bytes subject_der;                     // DER Name as requested
  std::vector<std::string> subject_alt_names;  // "DNS:x", "IP:192.0.2.1", "email:a@b", "URI:u"
  std::optional<int> validity_days;
};

struct PolicyFinding {
  std::string rule;  // "key_algorithms", "validity", "subject", "sans", "enabled"
  std::string message;
  RuleMode mode = RuleMode::kHardFail;
};

// The outcome of applying a profile to a request: the findings, and what the certificate
// will carry when it proceeds.
struct ProfileDecision {
  std::vector<PolicyFinding> hard_failures;
  std::vector<PolicyFinding> soft_failures;
  bool refused() const { return !hard_failures.empty(); }
  // kPolicyViolation: "request refused by profile 'issuing/web': rule: message; ..."
  base::Error to_error(const Profile& profile) const;

  base::Bytes subject_der;  // the request's subject with the template's fixed values applied
  std::vector<std::string> subject_alt_names;  // as requested (a DNS CN is added when none)
  int validity_days = 0;
  std::uint16_t key_usage = 0;                  // pki::KeyUsageBit flags
  std::vector<std::string> extended_key_usage;  // dotted OIDs
  std::string key_algorithm;                    // "ec-p256"... of the request's key
};

// Applies every rule and collects every finding (not just the first). A disabled profile is
// a hard failure. Errors only for a request that cannot be read at all (a malformed key or
// subject).
base::Result<ProfileDecision> apply_profile(const Profile& profile, const ProfileRequest& request);

}  // namespace signet::ca
