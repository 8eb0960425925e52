// signet audit list | verify | checkpoint | export | pubkey | rotate-key: the hash-chained audit
// log and its signed checkpoints (ca/audit.h, ca/audit_checkpoint.h).
#include <algorithm>
#include <iostream>
#include <memory>

#include "appliance/cli/commands.h"
#include "appliance/cli/output.h"
#include "appliance/core/audit_export.h"
#include "appliance/core/audit_keys.h"
#include "ca/audit.h"
#include "hsm/key_provider.h"

namespace signet::appliance {
namespace {

using base::Error;
using base::ErrorCode;
using base::Result;

nlohmann::json event_json(const ca::AuditEvent& e) {
  nlohmann::json j = {{"sequence", e.sequence},
                      {"time", format_time(e.time)},
                      {"actor", e.actor},
                      {"action", e.action},
                      {"object", e.object},
                      {"hash", base::to_hex(e.hash)},
                      {"previous_hash", base::to_hex(e.previous_hash)}};
  auto detail = nlohmann::json::parse(e.detail, nullptr, false);
  j["detail"] = detail.is_discarded() ? nlohmann::json(e.detail) : detail;
  return j;
}

struct ListOptions {
  std::string action, actor, object;
  std::uint64_t after = 0;
  std::size_t limit = 100;
};

bool matches(const ListOptions& o, const ca::AuditEvent& e) {
  return e.action.rfind(o.action, 0) == 0 && (o.actor.empty() || e.actor == o.actor) &&
         (o.object.empty() || e.object == o.object);
}

Result<void> list(ApplianceContext& ctx, const ListOptions& o) {
  if (o.limit < 1 || o.limit > 10000) {
    return Error(ErrorCode::kInvalidArgument, "--limit must be between 1 and 10000");
  }
  SIGNET_ASSIGN_OR_RETURN(auto* audit, ctx.audit());
  // The log has no index on these fields: read it in pages from --after and filter.
  std::vector<ca::AuditEvent> found;
  std::uint64_t cursor = o.after;
  bool more = false;
  while (!more) {
    SIGNET_ASSIGN_OR_RETURN(auto page, audit->list_audit(cursor, 1000));
    if (page.empty()) break;
    for (auto& e : page) {
      cursor = e.sequence;
      if (!matches(o, e)) continue;
      if (found.size() == o.limit) {
        more = true;
        break;
      }
      found.push_back(std::move(e));
    }
  }
  const std::uint64_t next = more && !found.empty() ? found.back().sequence : 0;
  if (ctx.json()) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& e : found) items.push_back(event_json(e));
    print_json({{"items", items}, {"next_after", next ? nlohmann::json(next) : nullptr}});
    return base::ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : found) {
    rows.push_back(
        {std::to_string(e.sequence), format_time(e.time), e.actor, e.action, e.object, e.detail});
  }
  print_table({"SEQ", "TIME", "ACTOR", "ACTION", "OBJECT", "DETAIL"}, rows);
  if (next) std::cout << "(more: --after " << next << ")\n";
  return base::ok();
}

// Prints the report (human or --json) and fails naming the first problem.
Result<void> show_report(bool json, const ca::AuditChainReport& report) {
  if (json) print_json(audit_report_json(report));
  if (!report.ok()) return audit_report_error(report);
  if (!json) std::cout << audit_report_text(report) << "\n";
  return base::ok();
}

struct VerifyOptions {
  std::string offline;               // an export file
  std::vector<std::string> pubkeys;  // the audit public keys (PEM or DER), current and retired
};

// An export verified with the public key alone: no store, no token.
Result<void> verify_offline(bool json, const VerifyOptions& o) {
  if (o.pubkeys.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "--offline needs --pubkey FILE: the audit public key to check the checkpoints "
                 "with ('signet audit pubkey' writes it)");
  }
  std::vector<base::Bytes> trusted;
  for (const auto& file : o.pubkeys) {
    SIGNET_ASSIGN_OR_RETURN(auto key_file, read_input_file(file));
    auto spki = parse_public_key(base::as_chars(key_file));
    if (!spki) return std::move(spki).error().with_context("the public key in " + file);
    trusted.push_back(std::move(*spki));
  }
  SIGNET_ASSIGN_OR_RETURN(auto text, read_input_file(o.offline));
  SIGNET_ASSIGN_OR_RETURN(auto report,
                          verify_audit_export(base::as_chars(text), std::move(trusted)));
  return show_report(json, report);
}

Result<void> verify(ApplianceContext& ctx, const VerifyOptions& o) {
  if (!o.offline.empty()) return verify_offline(ctx.json(), o);
  if (!o.pubkeys.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "--pubkey goes with --offline FILE; online the audit key on the token is the "
                 "trusted key");
  }
  SIGNET_ASSIGN_OR_RETURN(auto* audit, ctx.audit());
  SIGNET_ASSIGN_OR_RETURN(auto* checkpoints, ctx.checkpoints());
  SIGNET_ASSIGN_OR_RETURN(auto trusted, trusted_audit_keys(ctx));
  SIGNET_ASSIGN_OR_RETURN(auto report,
                          ca::verify_audit_log_with_keys(*audit, *checkpoints, trusted));
  return show_report(ctx.json(), report);
}

Result<void> checkpoint(ApplianceContext& ctx) {
  SIGNET_ASSIGN_OR_RETURN(auto* checkpointer, ctx.checkpointer());
  SIGNET_ASSIGN_OR_RETURN(auto made, checkpointer->checkpoint(ctx.actor(), false));
  const auto& c = *made;
  if (ctx.json()) {
    print_json(checkpoint_json(c));
  } else {
    std::cout << "Signed checkpoint at sequence " << c.sequence << " (head " << base::to_hex(c.head)
              << ") with " << c.key.to_uri() << ".\n";
  }
  return base::ok();
}

Result<void> export_log(ApplianceContext& ctx, const std::string& file) {
  SIGNET_ASSIGN_OR_RETURN(auto* audit, ctx.audit());
  SIGNET_ASSIGN_OR_RETURN(auto* checkpoints, ctx.checkpoints());
  SIGNET_ASSIGN_OR_RETURN(auto lines, audit_export(*audit, *checkpoints));
  SIGNET_TRY(write_output(file, base::as_bytes(lines)));
  if (file.empty() || file == "-") return base::ok();
  const auto count = static_cast<std::size_t>(std::count(lines.begin(), lines.end(), '\n'));
  if (ctx.json()) {
    print_json({{"file", file}, {"lines", count}});
  } else {
    std::cout << "Wrote " << count << " lines to " << file << ".\n";
  }
  return base::ok();
}

struct RotateOptions {
  std::string retired_out;  // the retired key's public key (PEM), for offline verification
};

// A new audit key; the old one stays on the token, retired, and both are trusted from then on.
Result<void> rotate_key(ApplianceContext& ctx, const RotateOptions& o) {
  SIGNET_ASSIGN_OR_RETURN(auto rotated, rotate_audit_key(ctx, ctx.actor()));
  return show_audit_key_rotation(ctx.json(), rotated, o.retired_out);
}

Result<void> pubkey(ApplianceContext& ctx, const std::string& out) {
  SIGNET_ASSIGN_OR_RETURN(auto* checkpointer, ctx.checkpointer());
  auto key = checkpointer->audit_key(false);
  if (!key && key.error().code() == ErrorCode::kNotFound) {
    return Error(ErrorCode::kNotFound,
                 "there is no audit key on the token yet: 'signet audit checkpoint' makes it");
  }
  SIGNET_TRY(key);
  const auto pem = public_key_pem((*key)->public_key_der());
  if (ctx.json()) {
    if (!out.empty()) SIGNET_TRY(write_output(out, base::as_bytes(pem)));
    print_json({{"key", (*key)->key_ref().to_uri()},
                {"algorithm", std::string(base::to_string((*key)->algorithm()))},
                {"public_key_pem", pem}});
    return base::ok();
  }
  return write_output(out, base::as_bytes(pem));
}

}  // namespace

bool is_offline_audit_command(const CLI::App& app) {
  const auto* audit = app.get_subcommand("audit");
  if (audit == nullptr || !audit->parsed() || !audit->got_subcommand("verify")) return false;
  return audit->get_subcommand("verify")->count("--offline") > 0;
}

void register_audit_commands(CLI::App& app, Action& selected) {
  auto* audit = app.add_subcommand(
      "audit", "the hash-chained audit log: list, verify, checkpoint, export, pubkey, rotate-key");
  audit->require_subcommand(1);
  {
    auto o = std::make_shared<ListOptions>();
    auto* cmd = audit->add_subcommand("list", "list audit events, oldest first");
    cmd->add_option("--action", o->action,
                    "actions starting with this ('certificate.' or 'certificate.revoked')");
    cmd->add_option("--actor", o->actor, "events by this actor ('cli:root')");
    cmd->add_option("--object", o->object, "events about this object ('ca:root')");
    cmd->add_option("--after", o->after, "events after this sequence number");
    cmd->add_option("--limit", o->limit, "at most this many")->capture_default_str();
    cmd->callback(
        [&selected, o] { selected = [o](ApplianceContext& ctx) { return list(ctx, *o); }; });
  }
  {
    auto o = std::make_shared<VerifyOptions>();
    auto* cmd = audit->add_subcommand(
        "verify",
        "check every link of the hash chain and every signed checkpoint; fails naming the first "
        "entry that was altered, removed or reordered, a forged checkpoint or a truncated log, "
        "and reports the entries after the last checkpoint");
    cmd->add_option("--offline", o->offline,
                    "verify an export (signet audit export) instead of the store, with --pubkey");
    cmd->add_option("--pubkey", o->pubkeys,
                    "an audit public key (PEM or DER) for --offline; repeat it for the keys an "
                    "audit-key rotation retired: a checkpoint verifies with any of them");
    cmd->callback(
        [&selected, o] { selected = [o](ApplianceContext& ctx) { return verify(ctx, *o); }; });
  }
  {
    auto* cmd = audit->add_subcommand(
        "checkpoint",
        "sign the audit log's head now with the audit key on the token (made on first use); "
        "audited");
    cmd->callback(
        [&selected] { selected = [](ApplianceContext& ctx) { return checkpoint(ctx); }; });
  }
  {
    auto file = std::make_shared<std::string>();
    auto* cmd = audit->add_subcommand(
        "export", "write every event and checkpoint as JSON lines, verifiable offline");
    cmd->add_option("FILE", *file, "the file to write ('-': standard output)")->required();
    cmd->callback([&selected, file] {
      selected = [file](ApplianceContext& ctx) { return export_log(ctx, *file); };
    });
  }
  {
    auto o = std::make_shared<RotateOptions>();
    auto* rotate = audit->add_subcommand(
        "rotate-key",
        "sign a last checkpoint with the audit key, retire it (kept on the token as "
        "signet-audit-retired-<time>, still trusted by 'audit verify'), generate a new audit "
        "key and sign a checkpoint with it; audited as audit.key_rotated");
    rotate->add_option("--retired-pubkey-out", o->retired_out,
                       "write the retired key's public key (PEM) here, for verify --offline");
    rotate->callback(
        [&selected, o] { selected = [o](ApplianceContext& ctx) { return rotate_key(ctx, *o); }; });
  }
  {
    auto out = std::make_shared<std::string>();
    auto* cmd = audit->add_subcommand("pubkey", "the audit public key (PEM), for --offline");
    cmd->add_option("--out", *out, "write it to this file (default: standard output)");
    cmd->callback([&selected, out] {
      selected = [out](ApplianceContext& ctx) { return pubkey(ctx, *out); };
    });
  }
}

}  // namespace signet::appliance
