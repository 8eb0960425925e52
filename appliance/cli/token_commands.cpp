// signet token list | init | keys | generate-key
#include <algorithm>
#include <iostream>
#include <memory>

#include "appliance/cli/commands.h"
#include "appliance/cli/output.h"
#include "appliance/core/audit_export.h"
#include "base/secret_input.h"
#include "hsm/key_provider.h"
#include "hsm/module.h"
#include "hsm/token_init.h"

namespace signet::appliance {
namespace {

using base::Error;
using base::ErrorCode;
using base::Result;

nlohmann::json token_json(const hsm::TokenInfo& t) {
  nlohmann::json j = {{"label", t.label},
                      {"serial", t.serial},
                      {"manufacturer", t.manufacturer},
                      {"model", t.model},
                      {"slot", t.slot_id},
                      {"module", t.module_path},
                      {"initialized", t.initialized},
                      {"login_required", t.login_required},
                      {"user_pin_initialized", t.user_pin_initialized},
                      {"user_pin_count_low", t.user_pin_count_low},
                      {"user_pin_final_try", t.user_pin_final_try},
                      {"user_pin_locked", t.user_pin_locked}};
  j["free_private_memory"] =
      t.free_private_memory ? nlohmann::json(*t.free_private_memory) : nlohmann::json(nullptr);
  return j;
}

std::string token_state(const hsm::TokenInfo& t) {
  if (!t.initialized) return "not initialised";
  if (t.user_pin_locked) return "user PIN locked";
  if (t.user_pin_final_try) return "user PIN: final try";
  if (t.user_pin_count_low) return "user PIN: tries low";
  if (!t.user_pin_initialized) return "no user PIN";
  return "ready";
}

// Token labels become PIN file names here, so keep them to a safe alphabet.
Result<void> check_label(const std::string& label) {
  if (label.empty() || label.size() > 32) {
    return Error(ErrorCode::kInvalidArgument, "a token label must be 1 to 32 characters long");
  }
  for (char c : label) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      return Error(ErrorCode::kInvalidArgument,
                   "token label '" + label + "' may use only letters, digits, '.', '_' and '-'");
    }
  }
  return base::ok();
}

Result<base::SecureBuffer> random_pin(base::Rng& rng) {
  base::SecureBuffer raw(16);
  SIGNET_TRY(rng.fill(raw.mutable_view()));
  static constexpr char kDigits[] = "0123456789abcdef";
  base::SecureBuffer pin(32);
  for (std::size_t i = 0; i < raw.size(); ++i) {
    pin.mutable_view()[2 * i] = static_cast<std::uint8_t>(kDigits[raw.view()[i] >> 4]);
    pin.mutable_view()[2 * i + 1] = static_cast<std::uint8_t>(kDigits[raw.view()[i] & 0x0f]);
  }
  return pin;
}

Result<void> init_token(ApplianceContext& ctx, const std::string& label) {
  SIGNET_TRY(check_label(label));
  if (!ctx.module_is_softhsm()) {
    return Error(ErrorCode::kNotSupported,
                 "'signet token init' initialises software tokens (SoftHSM) only; initialise an "
                 "HSM partition or smart card with its vendor's tools");
  }
  SIGNET_TRY(ctx.prepare_softhsm(true));
  const auto so_path = ctx.pins_dir() / (label + ".so.pin");
  const auto user_path = ctx.pins_dir() / (label + ".user.pin");
  std::error_code error;
  if (std::filesystem::exists(so_path, error) || std::filesystem::exists(user_path, error)) {
    return Error(ErrorCode::kAlreadyExists, "PIN files for a token labelled '" + label +
                                                "' already exist in " + ctx.pins_dir().string());
  }
  std::filesystem::create_directories(ctx.pins_dir(), error);
  if (error) {
    return Error(ErrorCode::kIoError,
                 "cannot create '" + ctx.pins_dir().string() + "': " + error.message());
  }
  std::filesystem::permissions(ctx.pins_dir(), std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, error);
  SIGNET_ASSIGN_OR_RETURN(auto so_pin, random_pin(ctx.rng()));
  SIGNET_ASSIGN_OR_RETURN(auto user_pin, random_pin(ctx.rng()));
  SIGNET_ASSIGN_OR_RETURN(auto* module, ctx.module());
  SIGNET_ASSIGN_OR_RETURN(auto token, hsm::init_token(*module, label, so_pin, user_pin));
  // The token exists now: the PINs must not be lost, so write them before anything else.
  SIGNET_TRY(base::write_secret_file(so_path.string(), so_pin.view()));
  SIGNET_TRY(base::write_secret_file(user_path.string(), user_pin.view()));
  if (ctx.json()) {
    auto j = token_json(token);
    j["so_pin_file"] = so_path.string();
    j["user_pin_file"] = user_path.string();
    print_json(j);
  } else {
    std::cout << "Initialised token '" << token.label << "' (serial " << token.serial << ").\n"
              << "Security officer PIN: " << so_path.string() << "\n"
              << "User PIN:             " << user_path.string() << "\n"
              << "Use it with: --token " << token.label << " --pin-file " << user_path.string()
              << "\n";
  }
  return base::ok();
}

struct KeysOptions {
  std::string token;
  bool orphans = false;
};

Result<void> list_keys(ApplianceContext& ctx, const KeysOptions& o) {
  SIGNET_ASSIGN_OR_RETURN(auto* provider, ctx.keys());
  SIGNET_ASSIGN_OR_RETURN(auto keys, provider->list_keys(o.token));
  if (o.orphans) {
    std::vector<base::KeyRef> refs;
    for (const auto& k : keys) refs.push_back(k.ref);
    SIGNET_ASSIGN_OR_RETURN(auto* service, ctx.service());
    SIGNET_ASSIGN_OR_RETURN(auto orphaned, service->orphaned_keys(refs));
    std::erase_if(keys, [&](const hsm::KeyInfo& k) {
      return std::find(orphaned.begin(), orphaned.end(), k.ref) == orphaned.end();
    });
  }
  nlohmann::json items = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  for (const auto& k : keys) {
    auto attributes = provider->read_private_key_attributes(k.ref);
    nlohmann::json j = {{"uri", k.ref.to_uri()},
                        {"label", k.ref.object_label},
                        {"id", base::to_hex(k.ref.id)},
                        {"token_serial", k.ref.token_serial},
                        {"token_label", k.ref.token_label},
                        {"key_type", k.key_type},
                        {"has_public_key", k.has_public_key}};
    j["algorithm"] = k.algorithm ? nlohmann::json(std::string(base::to_string(*k.algorithm)))
                                 : nlohmann::json(nullptr);
    std::string protection = "?";
    if (attributes) {
      j["sensitive"] = attributes->sensitive;
      j["extractable"] = attributes->extractable;
      j["never_extractable"] = attributes->never_extractable;
      j["local"] = attributes->local;
      protection = std::string(attributes->sensitive ? "sensitive" : "NOT sensitive") +
                   (attributes->extractable ? ", EXTRACTABLE" : ", not extractable") +
                   (attributes->local ? ", generated on the token" : ", imported");
    }
    items.push_back(j);
    rows.push_back({k.ref.object_label.empty() ? "-" : k.ref.object_label, base::to_hex(k.ref.id),
                    k.algorithm ? std::string(base::to_string(*k.algorithm)) : k.key_type,
                    protection, k.ref.to_uri()});
  }
  if (ctx.json()) {
    print_json(items);
  } else {
    print_table({"LABEL", "ID", "ALGORITHM", "PROTECTION", "URI"}, rows);
    if (o.orphans && rows.empty()) std::cout << "No orphaned keys: every key is referenced.\n";
  }
  return base::ok();
}

struct GenerateKeyOptions {
  std::string token;
  std::string label;
  std::string algorithm = "ec-p256";
  std::string public_key_out;
};

// A key pair on the token for the operator's own use (an administrator key that signs
// configuration bundles): generated there, never extractable; the public key is written out.
Result<void> generate_key(ApplianceContext& ctx, const GenerateKeyOptions& o) {
  SIGNET_ASSIGN_OR_RETURN(auto algorithm, base::parse_key_algorithm(o.algorithm));
  if (o.label.empty() || o.label.rfind("signet-", 0) == 0) {
    return Error(ErrorCode::kInvalidArgument,
                 "give the key a label of its own (labels starting 'signet-' are the "
                 "appliance's)");
  }
  SIGNET_ASSIGN_OR_RETURN(auto* audit, ctx.audit());
  SIGNET_ASSIGN_OR_RETURN(auto* provider, ctx.keys());
  SIGNET_ASSIGN_OR_RETURN(auto existing, provider->list_keys(o.token));
  for (const auto& k : existing) {
    if (k.ref.object_label == o.label) {
      return Error(ErrorCode::kAlreadyExists, "the token already holds a key labelled '" + o.label +
                                                  "' (" + k.ref.to_uri() + ")");
    }
  }
  SIGNET_ASSIGN_OR_RETURN(auto signer, provider->generate_key({o.token, algorithm, o.label}));
  const auto uri = signer->key_ref().to_uri();
  const nlohmann::json detail = {{"label", o.label},
                                 {"algorithm", std::string(base::to_string(algorithm))},
                                 {"token", signer->key_ref().token_label}};
  SIGNET_TRY(audit->append_audit(ca::make_audit_event(ctx.clock().now(), ctx.actor(),
                                                      "token.key_generated", uri, detail.dump())));
  const auto pem = public_key_pem(signer->public_key_der());
  if (!o.public_key_out.empty()) {
    SIGNET_TRY(write_output(o.public_key_out, base::as_bytes(pem)));
  }
  if (ctx.json()) {
    print_json({{"uri", uri},
                {"label", o.label},
                {"algorithm", std::string(base::to_string(algorithm))},
                {"public_key_pem", pem}});
  } else {
    std::cout << "Generated " << base::to_string(algorithm) << " key " << uri << " on the token.\n";
    if (o.public_key_out.empty()) std::cout << pem;
  }
  return base::ok();
}

}  // namespace

void register_token_commands(CLI::App& app, Action& selected) {
  auto* token =
      app.add_subcommand("token", "PKCS#11 tokens: list, initialise, keys, generate a key");
  token->require_subcommand(1);
  {
    auto all = std::make_shared<bool>(false);
    auto* cmd = token->add_subcommand("list", "list the module's tokens");
    cmd->add_flag("--all", *all, "include uninitialised slots");
    cmd->callback([&selected, all] {
      selected = [all](ApplianceContext& ctx) -> Result<void> {
        SIGNET_ASSIGN_OR_RETURN(auto* module, ctx.module());
        SIGNET_ASSIGN_OR_RETURN(auto tokens, module->tokens(*all));
        if (ctx.json()) {
          nlohmann::json items = nlohmann::json::array();
          for (const auto& t : tokens) items.push_back(token_json(t));
          print_json(items);
          return base::ok();
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& t : tokens) {
          rows.push_back({t.label.empty() ? "-" : t.label, t.serial, t.model, t.manufacturer,
                          std::to_string(t.slot_id), token_state(t)});
        }
        print_table({"LABEL", "SERIAL", "MODEL", "MANUFACTURER", "SLOT", "STATE"}, rows);
        return base::ok();
      };
    });
  }
  {
    auto label = std::make_shared<std::string>();
    auto* cmd = token->add_subcommand(
        "init",
        "initialise a software token; its SO and user PINs are generated and written "
        "to 0600 files under <state>/pins/");
    cmd->add_option("--label", *label, "token label (letters, digits, '.', '_', '-')")->required();
    cmd->callback([&selected, label] {
      selected = [label](ApplianceContext& ctx) { return init_token(ctx, *label); };
    });
  }
  {
    auto o = std::make_shared<KeysOptions>();
    auto* cmd = token->add_subcommand(
        "keys",
        "list the private keys on a token with their protection; --orphans: only those no CA "
        "and no certificate references (left behind by failed or deleted work)");
    cmd->add_option("--token", o->token, "token label or serial (default: the global --token)");
    cmd->add_flag("--orphans", o->orphans, "only keys that nothing references");
    cmd->callback(
        [&selected, o] { selected = [o](ApplianceContext& ctx) { return list_keys(ctx, *o); }; });
  }
  {
    auto o = std::make_shared<GenerateKeyOptions>();
    auto* cmd = token->add_subcommand(
        "generate-key",
        "generate a key pair on a token for an administrator's own use (e.g. signing "
        "configuration bundles: 'signet config export --sign --key LABEL'); sensitive, not "
        "extractable; prints or writes the public key (PEM); audited");
    cmd->add_option("--label", o->label, "the key's label (CKA_LABEL)")->required();
    cmd->add_option("--algorithm", o->algorithm,
                    "ec-p256 (default), ec-p384, rsa-2048, rsa-3072, rsa-4096 or ed25519");
    cmd->add_option("--token", o->token, "token label or serial (default: the global --token)");
    cmd->add_option("--public-key-out", o->public_key_out, "write the public key (PEM) here");
    cmd->callback([&selected, o] {
      selected = [o](ApplianceContext& ctx) { return generate_key(ctx, *o); };
    });
  }
}

}  // namespace signet::appliance
