// signet ca list | show | export, profile list | show and token list | keys through signetd's
// REST API, with the flags and output of the local commands (audit: remote_audit_commands.cpp).
#include <iostream>
#include <memory>

#include "appliance/cli/output.h"
#include "appliance/cli/remote.h"
#include "ca/profile.h"

namespace signet::appliance {
namespace {

using base::Error;
using base::ErrorCode;
using base::Result;
using nlohmann::json;

std::string ca_target(const std::string& name, const std::string& rest = "") {
  return "/api/v1/cas/" + url_encode(name) + rest;
}

// ---- ca ----

void register_ca_list(CLI::App* ca, RemoteAction& selected) {
  auto* cmd = ca->add_subcommand("list", "list the CAs");
  cmd->callback([&selected] {
    selected = [](RemoteContext& ctx) -> Result<void> {
      SIGNET_ASSIGN_OR_RETURN(auto reply, ctx.api.call("GET", "/api/v1/cas"));
      const json items = reply.value("items", json::array());
      if (ctx.json) {
        print_json(items);
        return base::ok();
      }
      std::vector<std::vector<std::string>> rows;
      for (const auto& c : items) {
        const std::string parent = json_text(c, "parent");
        const std::string not_after = json_text(c, "not_after");
        rows.push_back(
            {json_text(c, "name"), json_text(c, "state"), json_text(c, "key_algorithm"),
             not_after.empty() ? "-" : not_after,
             c.value("external_parent", false) ? "(external)" : (parent.empty() ? "-" : parent),
             json_text(c, "subject")});
      }
      print_table({"NAME", "STATE", "KEY", "NOT AFTER", "PARENT", "SUBJECT"}, rows);
      return base::ok();
    };
  });
}

void register_ca_show(CLI::App* ca, RemoteAction& selected) {
  auto name = std::make_shared<std::string>();
  auto* cmd = ca->add_subcommand("show", "show a CA's details and settings");
  cmd->add_option("name", *name, "CA name")->required();
  cmd->callback([&selected, name] {
    selected = [name](RemoteContext& ctx) -> Result<void> {
      SIGNET_ASSIGN_OR_RETURN(auto j, ctx.api.call("GET", ca_target(*name)));
      if (ctx.json) {
        print_json(j);
      } else {
        print_ca_json(j);
      }
      return base::ok();
    };
  });
}

void register_ca_export(CLI::App* ca, RemoteAction& selected) {
  struct ExportOptions {
    std::string name, format = "pem", out;
    bool chain = false;
  };
  auto o = std::make_shared<ExportOptions>();
  auto* cmd = ca->add_subcommand("export", "write a CA's certificate (or its chain)");
  cmd->add_option("name", o->name, "CA name")->required();
  cmd->add_option("--format", o->format, "pem or der")
      ->check(CLI::IsMember({"pem", "der"}))
      ->capture_default_str();
  cmd->add_flag("--chain", o->chain, "the CA certificate followed by its issuers (PEM only)");
  cmd->add_option("--out", o->out, "output file (default: stdout)");
  cmd->callback([&selected, o] {
    selected = [o](RemoteContext& ctx) -> Result<void> {
      if (o->chain && o->format == "der") {
        return Error(ErrorCode::kInvalidArgument,
                     "a DER file holds one certificate; use --format pem with --chain");
      }
      const std::string target =
          ca_target(o->name, "/certificate") +
          query_string({{"format", o->format}, {"chain", o->chain ? "true" : ""}});
      SIGNET_ASSIGN_OR_RETURN(auto data, ctx.api.download(target));
      return write_output(o->out, base::as_bytes(data));
    };
  });
}

// ---- profile ----

Result<ca::Profile> profile_of(const json& j) {
  auto profile = ca::profile_from_json(j.dump());
  if (!profile) return std::move(profile).error().with_context("reading signetd's profile");
  return profile;
}

void register_profile_list(CLI::App* profile, RemoteAction& selected) {
  auto ca_name = std::make_shared<std::string>();
  auto* cmd = profile->add_subcommand("list", "list the profiles (of one CA with --ca)");
  cmd->add_option("--ca", *ca_name, "only this CA's profiles");
  cmd->callback([&selected, ca_name] {
    selected = [ca_name](RemoteContext& ctx) -> Result<void> {
      SIGNET_ASSIGN_OR_RETURN(
          auto reply, ctx.api.call("GET", "/api/v1/profiles" + query_string({{"ca", *ca_name}})));
      const json items = reply.value("items", json::array());
      if (ctx.json) {
        print_json(items);
        return base::ok();
      }
      std::vector<std::vector<std::string>> rows;
      for (const auto& item : items) {
        SIGNET_ASSIGN_OR_RETURN(auto p, profile_of(item));
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

// The profile `name` ("NAME" or "CA/NAME", with --ca `ca_name`), found as
// CertificateService::resolve_profile() finds it.
Result<json> find_profile(RemoteContext& ctx, std::string name, std::string ca_name) {
  if (const auto slash = name.find('/'); slash != std::string::npos) {
    if (!ca_name.empty() && ca_name != name.substr(0, slash)) {
      return Error(ErrorCode::kInvalidArgument,
                   "profile '" + name + "' does not belong to CA '" + ca_name + "'");
    }
    ca_name = name.substr(0, slash);
    name = name.substr(slash + 1);
  }
  if (!ca_name.empty()) {
    return ctx.api.call("GET", "/api/v1/profiles/" + url_encode(ca_name) + "/" + url_encode(name));
  }
  SIGNET_ASSIGN_OR_RETURN(auto reply, ctx.api.call("GET", "/api/v1/profiles"));
  std::vector<json> matches;
  for (const auto& p : reply.value("items", json::array())) {
    if (json_text(p, "name") == name) matches.push_back(p);
  }
  if (matches.empty()) {
    return Error(ErrorCode::kNotFound, "there is no RA profile named '" + name + "'");
  }
  if (matches.size() > 1) {
    std::string names;
    for (const auto& p : matches) {
      names += (names.empty() ? "" : ", ") + json_text(p, "ca") + "/" + json_text(p, "name");
    }
    return Error(ErrorCode::kInvalidArgument, "the profile name '" + name +
                                                  "' is used by several CAs (" + names +
                                                  "); name it as CA/PROFILE");
  }
  return matches.front();
}

void register_profile_show(CLI::App* profile, RemoteAction& selected) {
  struct ShowOptions {
    std::string profile, ca;
  };
  auto o = std::make_shared<ShowOptions>();
  auto* cmd = profile->add_subcommand("show", "show a profile (as JSON, the form --file takes)");
  cmd->add_option("profile", o->profile, "NAME or CA/NAME")->required();
  cmd->add_option("--ca", o->ca, "the CA, for a name several CAs use");
  cmd->callback([&selected, o] {
    selected = [o](RemoteContext& ctx) -> Result<void> {
      SIGNET_ASSIGN_OR_RETURN(auto j, find_profile(ctx, o->profile, o->ca));
      SIGNET_ASSIGN_OR_RETURN(auto p, profile_of(j));
      if (ctx.json) {
        print_json(json::parse(ca::profile_to_json(p, false)));
        return base::ok();
      }
      std::cout << "Profile " << p.qualified_name() << " (version " << p.version << ", "
                << (p.enabled ? "enabled" : "disabled") << ")\n"
                << ca::profile_to_json(p, true) << "\n";
      return base::ok();
    };
  });
}

// ---- token ----

void register_token_list(CLI::App* token, RemoteAction& selected) {
  auto all = std::make_shared<bool>(false);
  auto* cmd = token->add_subcommand("list", "list the module's tokens");
  cmd->add_flag("--all", *all, "include uninitialised slots");
  cmd->callback([&selected, all] {
    selected = [all](RemoteContext& ctx) -> Result<void> {
      SIGNET_ASSIGN_OR_RETURN(
          auto reply,
          ctx.api.call("GET", "/api/v1/tokens" + query_string({{"all", *all ? "true" : ""}})));
      const json items = reply.value("items", json::array());
      if (ctx.json) {
        print_json(items);
        return base::ok();
      }
      std::vector<std::vector<std::string>> rows;
      for (const auto& t : items) {
        const std::string label = json_text(t, "label");
        rows.push_back({label.empty() ? "-" : label, json_text(t, "serial"), json_text(t, "model"),
                        json_text(t, "manufacturer"), json_text(t, "slot"), json_text(t, "state")});
      }
      print_table({"LABEL", "SERIAL", "MODEL", "MANUFACTURER", "SLOT", "STATE"}, rows);
      return base::ok();
    };
  });
}

// A key's protection in words, as `token keys` shows it; "?" when the token did not say.
std::string protection_of(const json& k) {
  if (!k.contains("sensitive")) return "?";
  return std::string(k.value("sensitive", false) ? "sensitive" : "NOT sensitive") +
         (k.value("extractable", false) ? ", EXTRACTABLE" : ", not extractable") +
         (k.value("local", false) ? ", generated on the token" : ", imported");
}

void register_token_keys(CLI::App* token, RemoteAction& selected) {
  struct KeysOptions {
    std::string token;
    bool orphans = false;
  };
  auto o = std::make_shared<KeysOptions>();
  auto* cmd = token->add_subcommand(
      "keys",
      "list the private keys on a token with their protection; --orphans: only those no CA "
      "and no certificate references (left behind by failed or deleted work)");
  cmd->add_option("--token", o->token, "token label or serial (default: the global --token)");
  cmd->add_flag("--orphans", o->orphans, "only keys that nothing references");
  cmd->callback([&selected, o] {
    selected = [o](RemoteContext& ctx) -> Result<void> {
      const std::string token = o->token.empty() ? ctx.token : o->token;
      if (token.empty()) {
        return Error(ErrorCode::kInvalidArgument,
                     "name the token whose keys to list: --token LABEL (or SIGNET_TOKEN)");
      }
      SIGNET_ASSIGN_OR_RETURN(
          auto reply,
          ctx.api.call("GET", "/api/v1/tokens/" + url_encode(token) + "/keys" +
                                  query_string({{"orphans", o->orphans ? "true" : ""}})));
      const json items = reply.value("items", json::array());
      if (ctx.json) {
        print_json(items);
        return base::ok();
      }
      std::vector<std::vector<std::string>> rows;
      for (const auto& k : items) {
        const std::string label = json_text(k, "label");
        const std::string algorithm = json_text(k, "algorithm");
        rows.push_back({label.empty() ? "-" : label, json_text(k, "id"),
                        algorithm.empty() ? json_text(k, "key_type") : algorithm, protection_of(k),
                        json_text(k, "uri")});
      }
      print_table({"LABEL", "ID", "ALGORITHM", "PROTECTION", "URI"}, rows);
      if (o->orphans && rows.empty()) std::cout << "No orphaned keys: every key is referenced.\n";
      return base::ok();
    };
  });
}

}  // namespace

void register_remote_ca_commands(CLI::App& app, RemoteAction& selected) {
  auto* ca =
      app.add_subcommand("ca", "certificate authorities: create, import, show, configure, renew");
  ca->require_subcommand(1);
  register_ca_list(ca, selected);
  register_ca_show(ca, selected);
  register_ca_export(ca, selected);
}

void register_remote_profile_commands(CLI::App& app, RemoteAction& selected) {
  auto* profile = app.add_subcommand(
      "profile",
      "RA profiles (the rules of issuance, per CA): create, list, show, update, disable");
  profile->require_subcommand(1);
  register_profile_list(profile, selected);
  register_profile_show(profile, selected);
}

void register_remote_token_commands(CLI::App& app, RemoteAction& selected) {
  auto* token = app.add_subcommand("token", "PKCS#11 tokens: list, initialise, keys");
  token->require_subcommand(1);
  register_token_list(token, selected);
  register_token_keys(token, selected);
}

}  // namespace signet::appliance
