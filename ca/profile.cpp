// RA profiles: defaults, validation and the JSON form. Applying a profile to a request is in
// profile_rules.cpp.
#include "ca/profile.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "ca/internal/profile_names.h"
#include "ca/policy.h"

namespace signet::ca {

using base::Error;
using base::ErrorCode;
using nlohmann::json;

std::string_view to_string(RuleMode mode) { return mode == RuleMode::kHardFail ? "hard" : "soft"; }

base::Result<RuleMode> parse_rule_mode(std::string_view text) {
  if (text == "hard" || text == "hard-fail") return RuleMode::kHardFail;
  if (text == "soft" || text == "soft-fail") return RuleMode::kSoftFail;
  return Error(ErrorCode::kInvalidArgument,
               "unknown rule mode '" + std::string(text) + "' (expected hard or soft)");
}

Profile default_profile(std::string ca_name) {
  Profile profile;
  profile.ca_name = std::move(ca_name);
  profile.name = "default";
  profile.description = "TLS server and client certificates (created with the CA)";
  profile.validity = {365, 825, RuleMode::kHardFail};
  profile.key_usage = {"digitalSignature", "keyEncipherment"};
  profile.extended_key_usage = {"serverAuth", "clientAuth"};
  profile.subject.mode = RuleMode::kHardFail;
  profile.sans.allow_ip = true;
  profile.sans.allow_email = true;
  profile.sans.allow_uri = true;
  profile.sans.max_count = 100;
  return profile;
}

base::Result<void> validate_profile(const Profile& profile) {
  std::vector<std::string> problems;
  if (auto valid = validate_ca_name(profile.ca_name); !valid) {
    problems.push_back("the CA: " + valid.error().message());
  }
  if (auto valid = validate_ca_name(profile.name); !valid) {
    std::string message = valid.error().message();
    // validate_ca_name speaks of "CA name"; this is a profile name.
    if (auto at = message.find("CA name"); at != std::string::npos) {
      message.replace(at, 7, "profile name");
    }
    problems.push_back(message);
  }
  const auto& v = profile.validity;
  if (v.default_days < 1 || v.default_days > internal::kMaxProfileDays) {
    problems.push_back("validity.default_days must be between 1 and 36500, not " +
                       std::to_string(v.default_days));
  }
  if (v.max_days < 1 || v.max_days > internal::kMaxProfileDays) {
    problems.push_back("validity.max_days must be between 1 and 36500, not " +
                       std::to_string(v.max_days));
  }
  if (v.default_days > v.max_days) {
    problems.push_back("validity.default_days (" + std::to_string(v.default_days) +
                       ") is longer than validity.max_days (" + std::to_string(v.max_days) + ")");
  }
  for (const auto& name : profile.key_usage) {
    if (!internal::key_usage_bit(name)) {
      problems.push_back("key_usage '" + name + "' is not a key usage (" +
                         internal::key_usage_names() + ")");
    }
  }
  for (const auto& name : profile.extended_key_usage) {
    if (!internal::extended_key_usage_oid(name)) {
      problems.push_back("extended_key_usage '" + name +
                         "' is neither a known name (serverAuth, clientAuth, codeSigning, "
                         "emailProtection, timeStamping, OCSPSigning) nor a dotted OID");
    }
  }
  auto check_types = [&](const std::vector<std::string>& types, const std::string& where) {
    for (const auto& type : types) {
      if (!internal::is_name_attribute_type(type)) {
        problems.push_back(where + " names '" + type + "', which is not a subject attribute type");
      }
    }
  };
  check_types(profile.subject.required, "subject.required");
  check_types(profile.subject.allowed, "subject.allowed");
  for (const auto& [type, value] : profile.subject.fixed) {
    if (!internal::is_name_attribute_type(type)) {
      problems.push_back("subject.fixed names '" + type +
                         "', which is not a subject attribute type");
    }
    if (value.empty()) problems.push_back("subject.fixed." + type + " is empty");
  }
  if (profile.sans.max_count < 1 || profile.sans.max_count > 1000) {
    problems.push_back("sans.max_count must be between 1 and 1000, not " +
                       std::to_string(profile.sans.max_count));
  }
  for (const auto& suffix : profile.sans.dns_suffixes) {
    if (suffix.empty() || suffix.front() == '.' || suffix.find('*') != std::string::npos ||
        suffix.find(' ') != std::string::npos) {
      problems.push_back("sans.dns_suffixes entry '" + suffix +
                         "' must be a domain name such as example.com");
    }
  }
  if (profile.description.size() > 1024) {
    problems.push_back("the description is longer than 1024 characters");
  }
  if (problems.empty()) return base::ok();
  std::string message = "profile '" + profile.qualified_name() + "' is not valid: ";
  for (std::size_t i = 0; i < problems.size(); ++i) {
    if (i > 0) message += "; ";
    message += problems[i];
  }
  return Error(ErrorCode::kInvalidArgument, std::move(message));
}

// ---- JSON ----

namespace {

json mode_json(RuleMode mode) { return std::string(to_string(mode)); }

// A strict reader: every key must be known, every value of the expected type. Errors name
// the key path ("sans.max_count").
class Reader {
 public:
  explicit Reader(std::vector<std::string>& problems) : problems_(problems) {}

  void check_keys(const json& object, const std::string& path,
                  std::initializer_list<std::string_view> known) {
    for (const auto& [key, value] : object.items()) {
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        std::string names;
        for (auto k : known) names += (names.empty() ? "" : ", ") + std::string(k);
        problems_.push_back("unknown key '" + join(path, key) + "' (known here: " + names + ")");
      }
    }
  }

  void read(const json& object, const std::string& path, std::string_view key, std::string& out) {
    if (const json* value = find(object, key)) {
      if (value->is_string()) {
        out = value->get<std::string>();
      } else {
        wrong_type(path, key, "a string");
      }
    }
  }
  void read(const json& object, const std::string& path, std::string_view key, bool& out) {
    if (const json* value = find(object, key)) {
      if (value->is_boolean()) {
        out = value->get<bool>();
      } else {
        wrong_type(path, key, "true or false");
      }
    }
  }
  template <typename Int>
  void read_int(const json& object, const std::string& path, std::string_view key, Int& out) {
    if (const json* value = find(object, key)) {
      if (value->is_number_integer() && value->get<long long>() >= 0 &&
          value->get<long long>() <= 1'000'000) {
        out = static_cast<Int>(value->get<long long>());
      } else {
        wrong_type(path, key, "a whole number between 0 and 1000000");
      }
    }
  }
  void read(const json& object, const std::string& path, std::string_view key,
            std::vector<std::string>& out) {
    if (const json* value = find(object, key)) {
      if (!value->is_array()) return wrong_type(path, key, "a list of strings");
      out.clear();
      for (const auto& item : *value) {
        if (!item.is_string()) return wrong_type(path, key, "a list of strings");
        out.push_back(item.get<std::string>());
      }
    }
  }
  void read(const json& object, const std::string& path, std::string_view key, RuleMode& out) {
    std::string text;
    if (!find(object, key)) return;
    read(object, path, key, text);
    if (text.empty()) return;
    if (auto mode = parse_rule_mode(text)) {
      out = *mode;
    } else {
      problems_.push_back(join(path, key) + ": " + mode.error().message());
    }
  }
  // A nested object, or null when absent or not an object (reported).
  const json* object(const json& parent, const std::string& path, std::string_view key) {
    const json* value = find(parent, key);
    if (value && !value->is_object()) {
      wrong_type(path, key, "an object");
      return nullptr;
    }
    return value;
  }
  static std::string join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
  }

 private:
  static const json* find(const json& object, std::string_view key) {
    auto it = object.find(std::string(key));
    return it == object.end() ? nullptr : &*it;
  }
  void wrong_type(const std::string& path, std::string_view key, std::string_view expected) {
    problems_.push_back("'" + join(path, key) + "' must be " + std::string(expected));
  }
  std::vector<std::string>& problems_;
};

}  // namespace

std::string profile_to_json(const Profile& profile, bool pretty) {
  json algorithms = json::array();
  for (auto algorithm : profile.key_algorithms.allowed) {
    algorithms.push_back(std::string(base::to_string(algorithm)));
  }
  json fixed = json::object();
  for (const auto& [type, value] : profile.subject.fixed) fixed[type] = value;
  json out = {
      {"name", profile.name},
      {"ca", profile.ca_name},
      {"description", profile.description},
      {"enabled", profile.enabled},
      {"version", profile.version},
      {"key_algorithms",
       {{"allowed", algorithms}, {"mode", mode_json(profile.key_algorithms.mode)}}},
      {"validity",
       {{"default_days", profile.validity.default_days},
        {"max_days", profile.validity.max_days},
        {"mode", mode_json(profile.validity.mode)}}},
      {"key_usage", profile.key_usage},
      {"extended_key_usage", profile.extended_key_usage},
      {"subject",
       {{"required", profile.subject.required},
        {"allowed", profile.subject.allowed},
        {"fixed", fixed},
        {"mode", mode_json(profile.subject.mode)}}},
      {"sans",
       {{"dns_suffixes", profile.sans.dns_suffixes},
        {"allow_ip", profile.sans.allow_ip},
        {"allow_email", profile.sans.allow_email},
        {"upn_realms", profile.sans.upn_realms},
        {"allow_uri", profile.sans.allow_uri},
        {"max_count", profile.sans.max_count},
        {"mode", mode_json(profile.sans.mode)}}},
  };
  return out.dump(pretty ? 2 : -1);
}

base::Result<Profile> profile_from_json(std::string_view text) {
  json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    return Error(ErrorCode::kInvalidArgument, "the profile is not valid JSON");
  }
  if (!document.is_object()) {
    return Error(ErrorCode::kInvalidArgument, "the profile must be a JSON object");
  }
  std::vector<std::string> problems;
  Reader r(problems);
  // Start from the defaults, so that a file names only what it changes.
  Profile profile = default_profile("");
  profile.name.clear();
  profile.description.clear();
  r.check_keys(document, "",
               {"name", "ca", "description", "enabled", "version", "key_algorithms", "validity",
                "key_usage", "extended_key_usage", "subject", "sans"});
  r.read(document, "", "name", profile.name);
  r.read(document, "", "ca", profile.ca_name);
  r.read(document, "", "description", profile.description);
  r.read(document, "", "enabled", profile.enabled);
  r.read_int(document, "", "version", profile.version);
  if (const json* algorithms = r.object(document, "", "key_algorithms")) {
    r.check_keys(*algorithms, "key_algorithms", {"allowed", "mode"});
    std::vector<std::string> names;
    r.read(*algorithms, "key_algorithms", "allowed", names);
    for (const auto& name : names) {
      if (auto algorithm = base::parse_key_algorithm(name)) {
        profile.key_algorithms.allowed.push_back(*algorithm);
      } else {
        problems.push_back("key_algorithms.allowed: " + algorithm.error().message());
      }
    }
    r.read(*algorithms, "key_algorithms", "mode", profile.key_algorithms.mode);
  }
  if (const json* validity = r.object(document, "", "validity")) {
    r.check_keys(*validity, "validity", {"default_days", "max_days", "mode"});
    r.read_int(*validity, "validity", "default_days", profile.validity.default_days);
    r.read_int(*validity, "validity", "max_days", profile.validity.max_days);
    r.read(*validity, "validity", "mode", profile.validity.mode);
  }
  r.read(document, "", "key_usage", profile.key_usage);
  r.read(document, "", "extended_key_usage", profile.extended_key_usage);
  if (const json* subject = r.object(document, "", "subject")) {
    r.check_keys(*subject, "subject", {"required", "allowed", "fixed", "mode"});
    r.read(*subject, "subject", "required", profile.subject.required);
    r.read(*subject, "subject", "allowed", profile.subject.allowed);
    if (const json* fixed = r.object(*subject, "subject", "fixed")) {
      profile.subject.fixed.clear();
      for (const auto& [type, value] : fixed->items()) {
        if (value.is_string()) {
          profile.subject.fixed[type] = value.get<std::string>();
        } else {
          problems.push_back("'subject.fixed." + type + "' must be a string");
        }
      }
    }
    r.read(*subject, "subject", "mode", profile.subject.mode);
  }
  if (const json* sans = r.object(document, "", "sans")) {
    r.check_keys(*sans, "sans",
                 {"dns_suffixes", "allow_ip", "allow_email", "upn_realms", "allow_uri", "max_count",
                  "mode"});
    r.read(*sans, "sans", "dns_suffixes", profile.sans.dns_suffixes);
    for (auto& suffix : profile.sans.dns_suffixes) {
      std::transform(suffix.begin(), suffix.end(), suffix.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    }
    r.read(*sans, "sans", "allow_ip", profile.sans.allow_ip);
    r.read(*sans, "sans", "allow_email", profile.sans.allow_email);
    r.read(*sans, "sans", "upn_realms", profile.sans.upn_realms);
    for (auto& realm : profile.sans.upn_realms) {
      std::transform(realm.begin(), realm.end(), realm.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    }
    r.read(*sans, "sans", "allow_uri", profile.sans.allow_uri);
    r.read_int(*sans, "sans", "max_count", profile.sans.max_count);
    r.read(*sans, "sans", "mode", profile.sans.mode);
  }
  if (profile.name.empty()) problems.push_back("the profile needs a \"name\"");
  if (!problems.empty()) {
    std::string message = "the profile is not valid: ";
    for (std::size_t i = 0; i < problems.size(); ++i) {
      if (i > 0) message += "; ";
      message += problems[i];
    }
    return Error(ErrorCode::kInvalidArgument, std::move(message));
  }
  return profile;
}

}  // namespace signet::ca
