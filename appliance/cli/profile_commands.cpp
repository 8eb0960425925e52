// signet profile create | list | show | update | disable: RA profiles, the rules every
// certificate is issued under. A profile is written as JSON (--file, the form of
// ca::profile_from_json and of `profile show --json`) or with flags for the common rules.
#include <algorithm>
#include <iostream>
#include <memory>

#include "appliance/cli/commands.h"
#include "appliance/cli/output.h"

namespace signet::appliance {
namespace {

using base::Error;
using base::ErrorCode;
using base::Result;

// The rule flags; each applies only when given (CLI::Option::count()).
struct RuleFlags {
  std::string description;
  std::vector<std::string> key_algorithms, key_usage, eku, subject_required, subject_allowed,
      subject_fixed, dns_suffixes, upn_realms;
  std::string key_mode, validity_mode, subject_mode, san_mode;
  int default_days = 0, max_days = 0;
  std::size_t max_sans = 0;
  bool allow_ip = false, allow_email = false, allow_uri = false, enabled = true;
  std::vector<CLI::Option*> options;  // every flag above, to tell whether any was given
  // Set by add_rule_flags.
  CLI::Option *o_description = nullptr, *o_key_algorithms = nullptr, *o_key_usage = nullptr,
              *o_eku = nullptr, *o_subject_required = nullptr, *o_subject_allowed = nullptr,
              *o_subject_fixed = nullptr, *o_dns_suffixes = nullptr, *o_key_mode = nullptr,
              *o_validity_mode = nullptr, *o_subject_mode = nullptr, *o_san_mode = nullptr,
              *o_default_days = nullptr, *o_max_days = nullptr, *o_max_sans = nullptr,
              *o_allow_ip = nullptr, *o_allow_email = nullptr, *o_allow_uri = nullptr,
              *o_upn_realms = nullptr, *o_enabled = nullptr;

  bool any() const {
    for (const auto* o : options) {
      if (o->count() > 0) return true;
    }
    return false;
  }
};

void add_rule_flags(CLI::App* cmd, RuleFlags& f) {
  auto add = [&](CLI::Option* o) {
    f.options.push_back(o);
    return o;
  };
  const auto modes = CLI::IsMember({"hard", "soft"});
  f.o_description = add(cmd->add_option("--description", f.description, "what the profile is for"));
  f.o_key_algorithms = add(cmd->add_option("--key-algorithms", f.key_algorithms,
                                           "allowed subject keys, comma-separated (ec-p256, "
                                           "ec-p384, rsa-2048, rsa-3072, rsa-4096, ed25519)")
                               ->delimiter(','));
  f.o_key_mode = add(cmd->add_option("--key-mode", f.key_mode, "hard or soft")->check(modes));
  f.o_default_days =
      add(cmd->add_option("--default-days", f.default_days, "validity when a request names none"));
  f.o_max_days = add(cmd->add_option("--max-days", f.max_days, "longest validity allowed"));
  f.o_validity_mode =
      add(cmd->add_option("--validity-mode", f.validity_mode, "hard or soft")->check(modes));
  f.o_key_usage = add(cmd->add_option("--key-usage", f.key_usage,
                                      "key usage, comma-separated (digitalSignature, "
                                      "keyEncipherment, ...)")
                          ->delimiter(','));
  f.o_eku = add(cmd->add_option("--eku", f.eku,
                                "extended key usage, comma-separated (serverAuth, clientAuth, "
                                "codeSigning, emailProtection, ... or dotted OIDs)")
                    ->delimiter(','));
  f.o_subject_required = add(cmd->add_option("--subject-required", f.subject_required,
                                             "subject attributes that must be present (CN,O,...)")
                                 ->delimiter(','));
  f.o_subject_allowed = add(cmd->add_option("--subject-allowed", f.subject_allowed,
                                            "the only subject attributes allowed (CN,O,...)")
                                ->delimiter(','));
  f.o_subject_fixed =
      add(cmd->add_option("--subject-fixed", f.subject_fixed,
                          "TYPE=VALUE set whatever was asked, repeatable (O=Example)")
              ->allow_extra_args(false));
  f.o_subject_mode =
      add(cmd->add_option("--subject-mode", f.subject_mode, "hard or soft")->check(modes));
  f.o_dns_suffixes = add(cmd->add_option("--dns-suffixes", f.dns_suffixes,
                                         "DNS names must equal or end in one of these, "
                                         "comma-separated (example.com)")
                             ->delimiter(','));
  f.o_allow_ip = add(cmd->add_option("--allow-ip", f.allow_ip, "IP address SANs: true or false"));
  f.o_allow_email =
      add(cmd->add_option("--allow-email", f.allow_email, "e-mail SANs: true or false"));
  f.o_allow_uri = add(cmd->add_option("--allow-uri", f.allow_uri, "URI SANs: true or false"));
  f.o_upn_realms = add(cmd->add_option("--upn-realms", f.upn_realms,
                                       "realms a UPN SAN may name (equal or a subdomain), "
                                       "comma-separated; none: no UPN")
                           ->delimiter(','));
  f.o_max_sans = add(cmd->add_option("--max-sans", f.max_sans, "most SANs a request may carry"));
  f.o_san_mode = add(cmd->add_option("--san-mode", f.san_mode, "hard or soft")->check(modes));
  f.o_enabled =
      add(cmd->add_option("--enabled", f.enabled, "true or false (a disabled profile refuses)"));
}

Result<void> apply_rule_flags(const RuleFlags& f, ca::Profile& p) {
  auto given = [](const CLI::Option* o) { return o->count() > 0; };
  if (given(f.o_description)) p.description = f.description;
  if (given(f.o_key_algorithms)) {
    p.key_algorithms.allowed.clear();
    for (const auto& name : f.key_algorithms) {
      SIGNET_ASSIGN_OR_RETURN(auto algorithm, base::parse_key_algorithm(name));
      p.key_algorithms.allowed.push_back(algorithm);
    }
  }
  if (given(f.o_key_mode)) {
    SIGNET_ASSIGN_OR_RETURN(p.key_algorithms.mode, ca::parse_rule_mode(f.key_mode));
  }
  if (given(f.o_default_days)) p.validity.default_days = f.default_days;
  if (given(f.o_max_days)) p.validity.max_days = f.max_days;
  if (given(f.o_validity_mode)) {
    SIGNET_ASSIGN_OR_RETURN(p.validity.mode, ca::parse_rule_mode(f.validity_mode));
  }
  if (given(f.o_key_usage)) p.key_usage = f.key_usage;
  if (given(f.o_eku)) p.extended_key_usage = f.eku;
  if (given(f.o_subject_required)) p.subject.required = f.subject_required;
  if (given(f.o_subject_allowed)) p.subject.allowed = f.subject_allowed;
  if (given(f.o_subject_fixed)) {
    p.subject.fixed.clear();
    for (const auto& item : f.subject_fixed) {
      const auto eq = item.find('=');
      if (eq == std::string::npos || eq == 0) {
        return Error(ErrorCode::kInvalidArgument,
                     "--subject-fixed '" + item + "' is not TYPE=VALUE (e.g. O=Example)");
      }
      p.subject.fixed[item.substr(0, eq)] = item.substr(eq + 1);
    }
  }
  if (given(f.o_subject_mode)) {
    SIGNET_ASSIGN_OR_RETURN(p.subject.mode, ca::parse_rule_mode(f.subject_mode));
  }
  if (given(f.o_dns_suffixes)) p.sans.dns_suffixes = f.dns_suffixes;
  if (given(f.o_allow_ip)) p.sans.allow_ip = f.allow_ip;
  if (given(f.o_allow_email)) p.sans.allow_email = f.allow_email;
  if (given(f.o_allow_uri)) p.sans.allow_uri = f.allow_uri;
  if (given(f.o_upn_realms)) {
    p.sans.upn_realms.clear();
    for (auto realm : f.upn_realms) {
      std::transform(realm.begin(), realm.end(), realm.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      p.sans.upn_realms.push_back(realm);
    }
  }
  if (given(f.o_max_sans)) p.sans.max_count = f.max_sans;
  if (given(f.o_san_mode)) {
    SIGNET_ASSIGN_OR_RETURN(p.sans.mode, ca::parse_rule_mode(f.san_mode));
  }
  if (given(f.o_enabled)) p.enabled = f.enabled;
  return base::ok();
}

Result<ca::Profile> read_profile_file(const std::string& path) {
  SIGNET_ASSIGN_OR_RETURN(auto data, read_input_file(path));
  auto profile = ca::profile_from_json(base::as_chars(data));
  if (!profile)
    return std::move(profile).error().with_context("reading the profile '" + path + "'");
  return profile;
}

nlohmann::json profile_json(const ca::Profile& p) {
  return nlohmann::json::parse(ca::profile_to_json(p, false));
}

void show_profile(ApplianceContext& ctx, const ca::Profile& p, const std::string& verb) {
  if (ctx.json()) {
    print_json(profile_json(p));
    return;
  }
  if (!verb.empty()) std::cout << verb << " profile '" << p.qualified_name() << "'.\n";
  std::cout << "Profile " << p.qualified_name() << " (version " << p.version << ", "
            << (p.enabled ? "enabled" : "disabled") << ")\n"
            << ca::profile_to_json(p, true) << "\n";
}

// "ca/name" or "name" (with --ca, that CA's profile of that name).
ca::ProfileSelector selector_of(const std::string& profile, const std::string& ca_name) {
  return {profile, ca_name};
}

struct CreateOptions {
  std::string file, ca, name;
  RuleFlags flags;
};

Result<void> create(ApplianceContext& ctx, const CreateOptions& o) {
  ca::Profile profile;
  if (!o.file.empty()) {
    if (o.flags.any()) {
      return Error(ErrorCode::kInvalidArgument,
                   "give the rules either in --file or as flags, not both");
    }
    SIGNET_ASSIGN_OR_RETURN(profile, read_profile_file(o.file));
    if (profile.ca_name.empty()) profile.ca_name = o.ca;
    if (!o.ca.empty() && profile.ca_name != o.ca) {
      return Error(ErrorCode::kInvalidArgument, "the file's profile belongs to CA '" +
                                                    profile.ca_name + "', not '" + o.ca + "'");
    }
    if (!o.name.empty() && profile.name != o.name) {
      return Error(ErrorCode::kInvalidArgument,
                   "the file's profile is named '" + profile.name + "', not '" + o.name + "'");
    }
    if (profile.ca_name.empty()) {
      return Error(ErrorCode::kInvalidArgument,
                   "the profile names no CA: add \"ca\" to the file or give --ca");
    }
  } else {
    if (o.ca.empty() || o.name.empty()) {
      return Error(ErrorCode::kInvalidArgument,
                   "give --file FILE, or --ca N and --name P with rule flags");
    }
    // Flags change the rules of the default profile; what they leave alone stays as there.
    profile = ca::default_profile(o.ca);
    profile.name = o.name;
    profile.description.clear();
    SIGNET_TRY(apply_rule_flags(o.flags, profile));
  }
  profile.version = 0;
  SIGNET_ASSIGN_OR_RETURN(auto* service, ctx.service());
  SIGNET_ASSIGN_OR_RETURN(auto created, service->create_profile(std::move(profile)));
  show_profile(ctx, created, "Created");
  return base::ok();
}

struct UpdateOptions {
  std::string profile, ca, file;
  RuleFlags flags;
};

Result<void> update(ApplianceContext& ctx, const UpdateOptions& o) {
  if (o.file.empty() && !o.flags.any()) {
    return Error(ErrorCode::kInvalidArgument, "nothing to change: give --file FILE or rule flags");
  }
  if (!o.file.empty() && o.flags.any()) {
    return Error(ErrorCode::kInvalidArgument,
                 "give the rules either in --file or as flags, not both");
  }
  SIGNET_ASSIGN_OR_RETURN(auto* service, ctx.service());
  SIGNET_ASSIGN_OR_RETURN(auto current, service->resolve_profile(selector_of(o.profile, o.ca)));
  ca::Profile updated = current;
  if (!o.file.empty()) {
    SIGNET_ASSIGN_OR_RETURN(updated, read_profile_file(o.file));
    if (updated.ca_name.empty()) updated.ca_name = current.ca_name;
    if (updated.ca_name != current.ca_name || updated.name != current.name) {
      return Error(ErrorCode::kInvalidArgument,
                   "the file describes profile '" + updated.qualified_name() + "', not '" +
                       current.qualified_name() + "' (a profile's CA and name do not change)");
    }
    updated.created_at = current.created_at;
  } else {
    SIGNET_TRY(apply_rule_flags(o.flags, updated));
  }
  updated.version = current.version;  // the stored version, checked at commit
  SIGNET_ASSIGN_OR_RETURN(auto stored, service->update_profile(std::move(updated)));
  show_profile(ctx, stored, "Updated");
  return base::ok();
}

}  // namespace

void register_profile_commands(CLI::App& app, Action& selected) {
  auto* profile = app.add_subcommand(
      "profile",
      "RA profiles (the rules of issuance, per CA): create, list, show, update, disable");
  profile->require_subcommand(1);
  {
    auto o = std::make_shared<CreateOptions>();
    auto* cmd = profile->add_subcommand(
        "create",
        "create a profile from a JSON file (--file) or from flags (--ca, --name and rule flags, "
        "which change the rules of the default profile)");
    cmd->add_option("--file", o->file, "profile JSON, as 'profile show --json' prints it");
    cmd->add_option("--ca", o->ca, "the CA the profile issues from");
    cmd->add_option("--name", o->name, "profile name (letters, digits, '.', '_', '-')");
    add_rule_flags(cmd, o->flags);
    cmd->callback(
        [&selected, o] { selected = [o](ApplianceContext& ctx) { return create(ctx, *o); }; });
  }
  {
    auto ca_name = std::make_shared<std::string>();
    auto* cmd = profile->add_subcommand("list", "list the profiles (of one CA with --ca)");
    cmd->add_option("--ca", *ca_name, "only this CA's profiles");
    cmd->callback([&selected, ca_name] {
      selected = [ca_name](ApplianceContext& ctx) -> Result<void> {
        SIGNET_ASSIGN_OR_RETURN(auto* profiles, ctx.profiles());
        SIGNET_ASSIGN_OR_RETURN(auto list, profiles->list_profiles(*ca_name));
        if (ctx.json()) {
          nlohmann::json items = nlohmann::json::array();
          for (const auto& p : list) items.push_back(profile_json(p));
          print_json(items);
          return base::ok();
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& p : list) {
          std::string keys;
          for (auto a : p.key_algorithms.allowed) {
            keys += (keys.empty() ? "" : ",") + std::string(base::to_string(a));
          }
          rows.push_back(
              {p.qualified_name(), std::to_string(p.version), p.enabled ? "enabled" : "disabled",
               keys.empty() ? "any" : keys,
               std::to_string(p.validity.default_days) + "/" + std::to_string(p.validity.max_days),
               p.description});
        }
        print_table({"PROFILE", "VERSION", "STATE", "KEYS", "DAYS (DEFAULT/MAX)", "DESCRIPTION"},
                    rows);
        return base::ok();
      };
    });
  }
  {
    struct ShowOptions {
      std::string profile, ca;
    };
    auto o = std::make_shared<ShowOptions>();
    auto* cmd = profile->add_subcommand("show", "show a profile (as JSON, the form --file takes)");
    cmd->add_option("profile", o->profile, "NAME or CA/NAME")->required();
    cmd->add_option("--ca", o->ca, "the CA, for a name several CAs use");
    cmd->callback([&selected, o] {
      selected = [o](ApplianceContext& ctx) -> Result<void> {
        SIGNET_ASSIGN_OR_RETURN(auto* service, ctx.service());
        SIGNET_ASSIGN_OR_RETURN(auto p, service->resolve_profile(selector_of(o->profile, o->ca)));
        show_profile(ctx, p, "");
        return base::ok();
      };
    });
  }
  {
    auto o = std::make_shared<UpdateOptions>();
    auto* cmd = profile->add_subcommand(
        "update",
        "store a new version of a profile from --file or rule flags; certificates already "
        "issued keep the version they were issued under");
    cmd->add_option("profile", o->profile, "NAME or CA/NAME")->required();
    cmd->add_option("--ca", o->ca, "the CA, for a name several CAs use");
    cmd->add_option("--file", o->file, "the whole profile as JSON");
    add_rule_flags(cmd, o->flags);
    cmd->callback(
        [&selected, o] { selected = [o](ApplianceContext& ctx) { return update(ctx, *o); }; });
  }
  {
    struct DisableOptions {
      std::string profile, ca;
    };
    auto o = std::make_shared<DisableOptions>();
    auto* cmd = profile->add_subcommand(
        "disable", "disable a profile: it refuses every request until enabled again");
    cmd->add_option("profile", o->profile, "NAME or CA/NAME")->required();
    cmd->add_option("--ca", o->ca, "the CA, for a name several CAs use");
    cmd->callback([&selected, o] {
      selected = [o](ApplianceContext& ctx) -> Result<void> {
        SIGNET_ASSIGN_OR_RETURN(auto* service, ctx.service());
        SIGNET_ASSIGN_OR_RETURN(auto p, service->resolve_profile(selector_of(o->profile, o->ca)));
        SIGNET_ASSIGN_OR_RETURN(auto disabled, service->disable_profile(p.ca_name, p.name));
        show_profile(ctx, disabled, "Disabled");
        return base::ok();
      };
    });
  }
}

}  // namespace signet::appliance
