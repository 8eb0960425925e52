// signet audit list | verify | checkpoint | export | pubkey | rotate-key through signetd's REST
// API, with the flags and output of the local commands. (verify --offline reads files only and
// always runs locally: see is_offline_audit_command.)
#include <algorithm>
#include <iostream>
#include <memory>

#include "appliance/cli/output.h"
#include "appliance/cli/remote.h"

namespace signet::appliance {
namespace {

using base::Error;
using base::ErrorCode;
using base::Result;
using nlohmann::json;

struct AuditListOptions {
  std::string action, actor, object;
  std::uint64_t after = 0;
  std::size_t limit = 100;
};

Result<void> audit_list(RemoteContext& ctx, const AuditListOptions& o) {
  if (o.limit < 1 || o.limit > 10000) {
    return Error(ErrorCode::kInvalidArgument, "--limit must be between 1 and 10000");
  }
  const std::string target =
      "/api/v1/audit" + query_string({{"after", o.after ? std::to_string(o.after) : ""},
                                      {"limit", std::to_string(o.limit)},
                                      {"action", o.action},
                                      {"actor", o.actor},
                                      {"object", o.object}});
  SIGNET_ASSIGN_OR_RETURN(auto reply, ctx.api.call("GET", target));
  const json items = reply.value("items", json::array());
  const std::string next = json_text(reply, "next_after");
  if (ctx.json) {
    print_json({{"items", items}, {"next_after", reply.value("next_after", json(nullptr))}});
    return base::ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : items) {
    rows.push_back({json_text(e, "sequence"), json_text(e, "time"), json_text(e, "actor"),
                    json_text(e, "action"), json_text(e, "object"), json_text(e, "detail")});
  }
  print_table({"SEQ", "TIME", "ACTOR", "ACTION", "OBJECT", "DETAIL"}, rows);
  if (!next.empty()) std::cout << "(more: --after " << next << ")\n";
  return base::ok();
}

Result<void> audit_verify(RemoteContext& ctx) {
  SIGNET_ASSIGN_OR_RETURN(auto report, ctx.api.call("GET", "/api/v1/audit/verify"));
  const bool ok = report.value("ok", false);
  if (ctx.json) print_json(report);
  if (!ok) {
    const std::string entry = json_text(report, "first_bad_sequence");
    return Error(ErrorCode::kVerificationFailed,
                 (entry.empty() ? "the audit log does not verify: "
                                : "the audit log's hash chain is broken at entry " + entry + ": ") +
                     json_text(report, "problem"));
  }
  if (!ctx.json) {
    const auto entries = report.value("entries", std::uint64_t{0});
    std::cout << "The audit log's hash chain is intact: " << entries << " entries";
    if (entries > 0) {
      std::cout << " (" << json_text(report, "first_sequence") << " to "
                << json_text(report, "last_sequence") << "), head " << json_text(report, "head");
    }
    std::cout << ".\n";
    if (report.contains("tail")) {
      std::cout << json_text(report, "checkpoints")
                << " signed checkpoints verify with the audit public key; "
                << json_text(report, "tail") << ".\n";
    }
  }
  return base::ok();
}

Result<void> audit_checkpoint(RemoteContext& ctx) {
  const json body = json::object();
  SIGNET_ASSIGN_OR_RETURN(auto reply, ctx.api.call("POST", "/api/v1/audit/checkpoints", &body));
  if (ctx.json) {
    print_json(reply);
  } else {
    std::cout << "Signed checkpoint at sequence " << json_text(reply, "sequence") << " (head "
              << json_text(reply, "head") << ") with " << json_text(reply, "key") << ".\n";
  }
  return base::ok();
}

Result<void> audit_export(RemoteContext& ctx, const std::string& file) {
  SIGNET_ASSIGN_OR_RETURN(auto lines, ctx.api.download("/api/v1/audit/export"));
  SIGNET_TRY(write_output(file, base::as_bytes(lines)));
  if (file.empty() || file == "-") return base::ok();
  const auto count = static_cast<std::size_t>(std::count(lines.begin(), lines.end(), '\n'));
  if (ctx.json) {
    print_json({{"file", file}, {"lines", count}});
  } else {
    std::cout << "Wrote " << count << " lines to " << file << ".\n";
  }
  return base::ok();
}

Result<void> audit_pubkey(RemoteContext& ctx, const std::string& out) {
  SIGNET_ASSIGN_OR_RETURN(auto reply, ctx.api.call("GET", "/api/v1/audit/pubkey"));
  const std::string pem = json_text(reply, "public_key_pem");
  if (ctx.json) {
    if (!out.empty()) SIGNET_TRY(write_output(out, base::as_bytes(pem)));
    print_json(reply);
    return base::ok();
  }
  return write_output(out, base::as_bytes(pem));
}

Result<void> audit_rotate_key(RemoteContext& ctx, const std::string& retired_out) {
  const json body = json::object();
  SIGNET_ASSIGN_OR_RETURN(auto reply, ctx.api.call("POST", "/api/v1/audit/key-rotations", &body));
  return show_audit_key_rotation(ctx.json, reply, retired_out);
}

}  // namespace

void register_remote_audit_commands(CLI::App& app, RemoteAction& selected) {
  auto* audit = app.add_subcommand(
      "audit", "the hash-chained audit log: list, verify, checkpoint, export, pubkey, rotate-key");
  audit->require_subcommand(1);
  {
    auto o = std::make_shared<AuditListOptions>();
    auto* cmd = audit->add_subcommand("list", "list audit events, oldest first");
    cmd->add_option("--action", o->action,
                    "actions starting with this ('certificate.' or 'certificate.revoked')");
    cmd->add_option("--actor", o->actor, "events by this actor ('cli:root')");
    cmd->add_option("--object", o->object, "events about this object ('ca:root')");
    cmd->add_option("--after", o->after, "events after this sequence number");
    cmd->add_option("--limit", o->limit, "at most this many")->capture_default_str();
    cmd->callback(
        [&selected, o] { selected = [o](RemoteContext& ctx) { return audit_list(ctx, *o); }; });
  }
  {
    auto pubkey = std::make_shared<std::string>();
    auto* cmd = audit->add_subcommand(
        "verify",
        "check every link of the hash chain and every signed checkpoint; fails naming the first "
        "problem, and reports the entries after the last checkpoint");
    cmd->add_option("--pubkey", *pubkey, "the audit public key (PEM or DER) for --offline");
    cmd->callback([&selected, pubkey] {
      selected = [pubkey](RemoteContext& ctx) -> Result<void> {
        if (!pubkey->empty()) {
          return Error(ErrorCode::kInvalidArgument,
                       "--pubkey goes with --offline FILE; online the audit key on the token is "
                       "the trusted key");
        }
        return audit_verify(ctx);
      };
    });
  }
  {
    auto* cmd = audit->add_subcommand(
        "checkpoint", "sign the audit log's head now with the audit key on the token; audited");
    cmd->callback(
        [&selected] { selected = [](RemoteContext& ctx) { return audit_checkpoint(ctx); }; });
  }
  {
    auto file = std::make_shared<std::string>();
    auto* cmd = audit->add_subcommand(
        "export", "write every event and checkpoint as JSON lines, verifiable offline");
    cmd->add_option("FILE", *file, "the file to write ('-': standard output)")->required();
    cmd->callback([&selected, file] {
      selected = [file](RemoteContext& ctx) { return audit_export(ctx, *file); };
    });
  }
  {
    auto out = std::make_shared<std::string>();
    auto* cmd = audit->add_subcommand(
        "rotate-key",
        "make signetd sign a last checkpoint with the audit key, retire it (kept on the token, "
        "still trusted by 'audit verify'), generate a new audit key and sign a checkpoint with "
        "it; audited as audit.key_rotated; administrators only");
    cmd->add_option("--retired-pubkey-out", *out,
                    "write the retired key's public key (PEM) here, for verify --offline");
    cmd->callback([&selected, out] {
      selected = [out](RemoteContext& ctx) { return audit_rotate_key(ctx, *out); };
    });
  }
  {
    auto out = std::make_shared<std::string>();
    auto* cmd = audit->add_subcommand("pubkey", "the audit public key (PEM), for --offline");
    cmd->add_option("--out", *out, "write it to this file (default: standard output)");
    cmd->callback([&selected, out] {
      selected = [out](RemoteContext& ctx) { return audit_pubkey(ctx, *out); };
    });
  }
}

}  // namespace signet::appliance
