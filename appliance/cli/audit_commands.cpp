// signet audit list | verify: the hash-chained audit log (ca/audit.h).
#include <iostream>
#include <memory>

#include "appliance/cli/commands.h"
#include "appliance/cli/output.h"
#include "ca/audit.h"

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

Result<void> verify(ApplianceContext& ctx) {
  SIGNET_ASSIGN_OR_RETURN(auto* audit, ctx.audit());
  SIGNET_ASSIGN_OR_RETURN(auto report, ca::verify_audit_chain(*audit));
  if (ctx.json()) {
    nlohmann::json j = {{"ok", report.ok()},
                        {"entries", report.entries},
                        {"first_sequence", report.first_sequence},
                        {"last_sequence", report.last_sequence},
                        {"head", base::to_hex(report.head)}};
    j["first_bad_sequence"] =
        report.first_bad_sequence ? nlohmann::json(*report.first_bad_sequence) : nullptr;
    if (!report.ok()) j["problem"] = report.problem;
    print_json(j);
  }
  if (!report.ok()) {
    return Error(ErrorCode::kVerificationFailed, "the audit log's hash chain is broken at entry " +
                                                     std::to_string(*report.first_bad_sequence) +
                                                     ": " + report.problem);
  }
  if (!ctx.json()) {
    std::cout << "The audit log's hash chain is intact: " << report.entries << " entries";
    if (report.entries > 0) {
      std::cout << " (" << report.first_sequence << " to " << report.last_sequence << "), head "
                << base::to_hex(report.head);
    }
    std::cout << ".\n";
  }
  return base::ok();
}

}  // namespace

void register_audit_commands(CLI::App& app, Action& selected) {
  auto* audit = app.add_subcommand("audit", "the hash-chained audit log: list, verify");
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
    cmd->callback([&selected, o] { selected = [o](ApplianceContext& ctx) { return list(ctx, *o); }; });
  }
  {
    auto* cmd = audit->add_subcommand(
        "verify",
        "check every link of the hash chain; fails naming the first entry that was altered, "
        "removed or reordered");
    cmd->callback([&selected] { selected = [](ApplianceContext& ctx) { return verify(ctx); }; });
  }
}

}  // namespace signet::appliance
