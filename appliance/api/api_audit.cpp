// /api/v1/audit: the hash-chained audit log, as `signet audit` reads it: a filtered page of
// events, the verification of the chain and its signed checkpoints, an export as JSON lines,
// the checkpoints (list, sign one now) and the audit public key.
#include "appliance/api/api.h"
#include "appliance/api/internal/request_support.h"
#include "appliance/core/audit_export.h"
#include "appliance/core/audit_keys.h"
#include "appliance/core/views.h"
#include "ca/audit.h"

namespace signet::appliance {
namespace {

using base::Result;
using nlohmann::json;
using namespace api_internal;

constexpr const char* kTag = "audit";

// As `signet audit list --json` describes an event.
json event_json(const ca::AuditEvent& e) {
  json j = {{"sequence", e.sequence},
            {"time", format_time(e.time)},
            {"actor", e.actor},
            {"action", e.action},
            {"object", e.object},
            {"hash", base::to_hex(e.hash)},
            {"previous_hash", base::to_hex(e.previous_hash)}};
  auto detail = json::parse(e.detail, nullptr, false);
  j["detail"] = detail.is_discarded() ? json(e.detail) : detail;
  return j;
}

struct Filter {
  std::string action, actor, object;
  bool matches(const ca::AuditEvent& e) const {
    return e.action.rfind(action, 0) == 0 && (actor.empty() || e.actor == actor) &&
           (object.empty() || e.object == object);
  }
};

Filter filter_of(const http::Request& request) {
  return {query_string(request, "action").value_or(""), query_string(request, "actor").value_or(""),
          query_string(request, "object").value_or("")};
}

std::vector<QueryParameterDoc> filter_query(const char* limit_help) {
  return {{"after", "events after this sequence number", "integer"},
          {"limit", limit_help, "integer"},
          {"action", "actions starting with this ('certificate.' or 'certificate.revoked')"},
          {"actor", "events by this actor ('operator:alice')"},
          {"object", "events about this object ('ca:root')"}};
}

// Reads the log from `after` in pages (it has no index on the filtered fields) and hands every
// matching event to `take`, until `take` returns false or the log ends. Returns whether it
// stopped early (more events may match).
Result<bool> scan(ca::AuditSink& audit, std::uint64_t after, const Filter& filter,
                  const std::function<bool(ca::AuditEvent&)>& take) {
  std::uint64_t cursor = after;
  while (true) {
    SIGNET_ASSIGN_OR_RETURN(auto page, audit.list_audit(cursor, 1000));
    if (page.empty()) return false;
    for (auto& e : page) {
      cursor = e.sequence;
      if (filter.matches(e) && !take(e)) return true;
    }
  }
}

void add_list(Router& router, ApiServices& api) {
  RouteDoc doc{kTag, "audit events, oldest first, a page at a time",
               filter_query("at most this many (1-10000, default 100)")};
  add_route(router, "GET", "/api/v1/audit", Permission::kAudit, std::move(doc),
            [&api](ApiCall& call, const json&) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto after,
                                      query_integer(call.request, "after", 0,
                                                    std::numeric_limits<std::int64_t>::max()));
              SIGNET_ASSIGN_OR_RETURN(auto limit, query_integer(call.request, "limit", 1, 10000));
              const auto max = static_cast<std::size_t>(limit.value_or(100));
              json items = json::array();
              std::uint64_t last = 0;
              SIGNET_ASSIGN_OR_RETURN(
                  auto more, scan(api.audit(), static_cast<std::uint64_t>(after.value_or(0)),
                                  filter_of(call.request), [&](ca::AuditEvent& e) {
                                    if (items.size() == max) return false;
                                    last = e.sequence;
                                    items.push_back(event_json(e));
                                    return true;
                                  }));
              return json_response(
                  {{"items", items}, {"next_after", more && last != 0 ? json(last) : nullptr}});
            });
}

void add_verify(Router& router, ApiServices& api) {
  add_route(router, "GET", "/api/v1/audit/verify", Permission::kAudit,
            RouteDoc{kTag,
                     "check every link of the hash chain and every signed checkpoint with the "
                     "audit keys on the token, the current one and those a rotation retired "
                     "(ok: false names the first entry that was altered, "
                     "removed or reordered, a forged checkpoint or a truncated log; tail: the "
                     "entries after the last checkpoint)"},
            [&api](ApiCall&, const json&) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto trusted, trusted_audit_keys(api.context()));
              SIGNET_ASSIGN_OR_RETURN(auto report, ca::verify_audit_log_with_keys(
                                                       api.audit(), api.checkpoints(), trusted));
              return json_response(audit_report_json(report));
            });
}

bool filtered(const http::Request& request) {
  for (const char* name : {"after", "limit", "action", "actor", "object"}) {
    if (query_string(request, name)) return true;
  }
  return false;
}

void add_export(Router& router, ApiServices& api) {
  RouteDoc doc{kTag,
               "the audit log as JSON lines, oldest first: every event and, unfiltered, every "
               "signed checkpoint after the event it signs (docs/OPERATIONS.md describes the "
               "lines; `signet audit verify --offline` checks them)",
               filter_query("at most this many (default: every event)")};
  doc.response_type = "application/x-ndjson";
  add_route(
      router, "GET", "/api/v1/audit/export", Permission::kAudit, std::move(doc),
      [&api](ApiCall& call, const json&) -> Result<http::Response> {
        if (!filtered(call.request)) {
          SIGNET_ASSIGN_OR_RETURN(auto lines, audit_export(api.audit(), api.checkpoints()));
          return file_response(std::move(lines), "application/x-ndjson", "signet-audit.jsonl");
        }
        SIGNET_ASSIGN_OR_RETURN(
            auto after,
            query_integer(call.request, "after", 0, std::numeric_limits<std::int64_t>::max()));
        SIGNET_ASSIGN_OR_RETURN(
            auto limit,
            query_integer(call.request, "limit", 1, std::numeric_limits<std::int64_t>::max()));
        std::string lines;
        std::uint64_t count = 0;
        SIGNET_TRY(scan(api.audit(), static_cast<std::uint64_t>(after.value_or(0)),
                        filter_of(call.request), [&](ca::AuditEvent& e) {
                          if (limit && count == static_cast<std::uint64_t>(*limit)) {
                            return false;
                          }
                          ++count;
                          lines += export_event_json(e).dump(-1, ' ', false,
                                                             json::error_handler_t::replace);
                          lines += '\n';
                          return true;
                        }));
        return file_response(std::move(lines), "application/x-ndjson", "signet-audit.jsonl");
      });
}

void add_checkpoints(Router& router, ApiServices& api) {
  // Auditors may sign a checkpoint: it changes no record, it only pins the log's current head
  // under the audit key (and is itself audited), which is what an auditor checking the log
  // wants to be able to do.
  add_route(router, "POST", "/api/v1/audit/checkpoints", Permission::kAudit,
            RouteDoc{kTag,
                     "sign the audit log's head now with the audit key on the token (made on "
                     "first use); the checkpoint is recorded with an audit event",
                     {},
                     object_schema({}),
                     "application/json",
                     201},
            [&api](ApiCall& call, const json&) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto made,
                                      api.checkpointer().checkpoint(call.principal.actor(), false));
              return json_response(checkpoint_json(*made), 201);
            });
  add_route(
      router, "GET", "/api/v1/audit/checkpoints", Permission::kAudit,
      RouteDoc{kTag,
               "the signed checkpoints of the audit log, oldest first",
               {{"after", "checkpoints after this sequence number", "integer"},
                {"limit", "at most this many (1-10000, default 100)", "integer"}}},
      [&api](ApiCall& call, const json&) -> Result<http::Response> {
        SIGNET_ASSIGN_OR_RETURN(
            auto after,
            query_integer(call.request, "after", 0, std::numeric_limits<std::int64_t>::max()));
        SIGNET_ASSIGN_OR_RETURN(auto limit, query_integer(call.request, "limit", 1, 10000));
        SIGNET_ASSIGN_OR_RETURN(auto page, api.checkpoints().list_checkpoints(
                                               static_cast<std::uint64_t>(after.value_or(0)),
                                               static_cast<std::size_t>(limit.value_or(100))));
        json items = json::array();
        for (const auto& c : page) items.push_back(checkpoint_json(c));
        return json_response({{"items", items}});
      });
  add_route(
      router, "GET", "/api/v1/audit/pubkey", Permission::kAudit,
      RouteDoc{kTag,
               "the audit public key that checkpoints verify with (PEM, and its PKCS#11 "
               "URI); 404 before the first checkpoint made it"},
      [&api](ApiCall&, const json&) -> Result<http::Response> {
        auto key = api.checkpointer().audit_key(false);
        if (!key && key.error().code() == base::ErrorCode::kNotFound) {
          return base::Error(base::ErrorCode::kNotFound,
                             "there is no audit key on the token yet: the first checkpoint "
                             "makes it");
        }
        SIGNET_TRY(key);
        return json_response({{"key", (*key)->key_ref().to_uri()},
                              {"algorithm", std::string(base::to_string((*key)->algorithm()))},
                              {"public_key_pem", public_key_pem((*key)->public_key_der())}});
      });
}

}  // namespace

void register_audit_routes(Router& router, ApiServices& api) {
  add_list(router, api);
  add_verify(router, api);
  add_export(router, api);
  add_checkpoints(router, api);
}

}  // namespace signet::appliance
