// /api/v1/audit: the hash-chained audit log, as `signet audit` reads it: a filtered page of
// events, the verification of the chain and its signed checkpoints, an export as JSON lines,
// the checkpoints (list, sign one now), the audit public key and its rotation.
#include <algorithm>
#include <cctype>
#include <optional>

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
constexpr std::size_t kScanPage = 1000;

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

// Which events a list or an export keeps: an action prefix, an exact actor and object, a time
// range [since, until) and a text that the actor, action, object or detail contains (ASCII
// case-insensitive).
struct Filter {
  std::string action, actor, object, text;
  std::optional<base::TimePoint> since, until;

  bool matches(const ca::AuditEvent& e) const {
    if (e.action.rfind(action, 0) != 0) return false;
    if (!actor.empty() && e.actor != actor) return false;
    if (!object.empty() && e.object != object) return false;
    if (since && e.time < *since) return false;
    if (until && e.time >= *until) return false;
    if (text.empty()) return true;
    for (const auto* field : {&e.actor, &e.action, &e.object, &e.detail}) {
      if (contains_folded(*field, text)) return true;
    }
    return false;
  }

  // `needle` is lower case already.
  static bool contains_folded(std::string_view haystack, std::string_view needle) {
    const auto it = std::search(
        haystack.begin(), haystack.end(), needle.begin(), needle.end(),
        [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
    return it != haystack.end();
  }
};

Result<std::optional<base::TimePoint>> query_time(const http::Request& request,
                                                  std::string_view name) {
  const auto text = query_string(request, name);
  if (!text) return std::optional<base::TimePoint>();
  auto parsed = parse_time(*text);
  if (!parsed) {
    return base::Error(
        base::ErrorCode::kInvalidArgument,
        "the query parameter '" + std::string(name) + "': " + parsed.error().message());
  }
  return std::optional<base::TimePoint>(*parsed);
}

Result<Filter> filter_of(const http::Request& request) {
  Filter filter{query_string(request, "action").value_or(""),
                query_string(request, "actor").value_or(""),
                query_string(request, "object").value_or(""),
                query_string(request, "q").value_or(""),
                {},
                {}};
  std::transform(filter.text.begin(), filter.text.end(), filter.text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  SIGNET_ASSIGN_OR_RETURN(filter.since, query_time(request, "since"));
  SIGNET_ASSIGN_OR_RETURN(filter.until, query_time(request, "until"));
  return filter;
}

std::vector<QueryParameterDoc> filter_query(const char* limit_help) {
  return {{"after", "events after this sequence number", "integer"},
          {"limit", limit_help, "integer"},
          {"action", "actions starting with this ('certificate.' or 'certificate.revoked')"},
          {"actor", "events by this actor ('operator:alice')"},
          {"object", "events about this object ('ca:root')"},
          {"since", "events at or after this time (RFC 3339 UTC, 2026-01-31T12:00:00Z)"},
          {"until", "events before this time (RFC 3339 UTC)"},
          {"q", "events whose actor, action, object or detail contains this text (any case)"}};
}

// Reads the log from `after` in pages (it has no index on the filtered fields) and hands every
// matching event to `take`, until `take` returns false or the log ends. Returns whether it
// stopped early (more events may match).
Result<bool> scan(ca::AuditSink& audit, std::uint64_t after, const Filter& filter,
                  const std::function<bool(ca::AuditEvent&)>& take) {
  std::uint64_t cursor = after;
  while (true) {
    SIGNET_ASSIGN_OR_RETURN(auto page, audit.list_audit(cursor, kScanPage));
    if (page.empty()) return false;
    for (auto& e : page) {
      cursor = e.sequence;
      if (filter.matches(e) && !take(e)) return true;
    }
  }
}

// The same, newest first: the events with a sequence below `before` (0: the whole log), read
// backwards a window at a time. The store numbers events 1, 2, 3... (ca/records.h), so a
// window is the range of sequences (start, end).
Result<bool> scan_backwards(ApiServices& api, std::uint64_t before, const Filter& filter,
                            const std::function<bool(ca::AuditEvent&)>& take) {
  std::uint64_t end = before;  // exclusive
  if (end == 0) {
    SIGNET_ASSIGN_OR_RETURN(auto last, api.checkpoints().last_audit_event());
    if (!last) return false;
    end = last->sequence + 1;
  }
  while (end > 1) {
    const std::uint64_t start = end > kScanPage + 1 ? end - kScanPage - 1 : 0;  // exclusive
    SIGNET_ASSIGN_OR_RETURN(auto page, api.audit().list_audit(start, end - start - 1));
    for (auto it = page.rbegin(); it != page.rend(); ++it) {
      if (it->sequence >= end) continue;
      if (filter.matches(*it) && !take(*it)) return true;
    }
    end = start + 1;
  }
  return false;
}

void add_list(Router& router, ApiServices& api) {
  auto query = filter_query("at most this many (1-10000, default 100)");
  query.push_back({"order",
                   "asc (default: oldest first, pages by after) or desc (newest first, "
                   "pages by before)"});
  query.push_back({"before", "order=desc: events before this sequence number", "integer"});
  RouteDoc doc{kTag, "audit events, a page at a time (next_after or next_before: the next page)",
               std::move(query)};
  add_route(
      router, "GET", "/api/v1/audit", Permission::kAudit, std::move(doc),
      [&api](ApiCall& call, const json&) -> Result<http::Response> {
        constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
        SIGNET_ASSIGN_OR_RETURN(auto after, query_integer(call.request, "after", 0, kMax));
        SIGNET_ASSIGN_OR_RETURN(auto before, query_integer(call.request, "before", 1, kMax));
        SIGNET_ASSIGN_OR_RETURN(auto limit, query_integer(call.request, "limit", 1, 10000));
        SIGNET_ASSIGN_OR_RETURN(auto order, query_choice(call.request, "order", {"asc", "desc"}));
        SIGNET_ASSIGN_OR_RETURN(auto filter, filter_of(call.request));
        const bool descending = order && *order == "desc";
        if (descending ? after.has_value() : before.has_value()) {
          return base::Error(base::ErrorCode::kInvalidArgument,
                             descending ? "order=desc pages by 'before', not 'after'"
                                        : "'before' pages newest first: add order=desc");
        }
        const auto max = static_cast<std::size_t>(limit.value_or(100));
        json items = json::array();
        std::uint64_t last = 0;
        auto take = [&](ca::AuditEvent& e) {
          if (items.size() == max) return false;
          last = e.sequence;
          items.push_back(event_json(e));
          return true;
        };
        bool more = false;
        if (descending) {
          SIGNET_ASSIGN_OR_RETURN(
              more,
              scan_backwards(api, static_cast<std::uint64_t>(before.value_or(0)), filter, take));
        } else {
          SIGNET_ASSIGN_OR_RETURN(
              more, scan(api.audit(), static_cast<std::uint64_t>(after.value_or(0)), filter, take));
        }
        const json next = more && last != 0 ? json(last) : json(nullptr);
        return json_response({{"items", items}, {descending ? "next_before" : "next_after", next}});
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
  for (const char* name : {"after", "limit", "action", "actor", "object", "since", "until", "q"}) {
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
        SIGNET_ASSIGN_OR_RETURN(auto filter, filter_of(call.request));
        SIGNET_TRY(scan(api.audit(), static_cast<std::uint64_t>(after.value_or(0)), filter,
                        [&](ca::AuditEvent& e) {
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
               "URI); with format=pem the PEM file alone (audit.pem, what `signet audit verify "
               "--offline --pubkey` takes); 404 before the first checkpoint made it",
               {{"format", "json (default) or pem"}}},
      [&api](ApiCall& call, const json&) -> Result<http::Response> {
        SIGNET_ASSIGN_OR_RETURN(auto format, query_choice(call.request, "format", {"json", "pem"}));
        auto key = api.checkpointer().audit_key(false);
        if (!key && key.error().code() == base::ErrorCode::kNotFound) {
          return base::Error(base::ErrorCode::kNotFound,
                             "there is no audit key on the token yet: the first checkpoint "
                             "makes it");
        }
        SIGNET_TRY(key);
        auto pem = public_key_pem((*key)->public_key_der());
        if (format && *format == "pem") {
          return file_response(std::move(pem), "application/x-pem-file", "signet-audit.pem");
        }
        return json_response({{"key", (*key)->key_ref().to_uri()},
                              {"algorithm", std::string(base::to_string((*key)->algorithm()))},
                              {"public_key_pem", std::move(pem)}});
      });
}

void add_key_rotation(Router& router, ApiServices& api) {
  // Administrators only: a rotation changes which key the appliance signs its checkpoints with.
  add_route(router, "POST", "/api/v1/audit/key-rotations", Permission::kAdminister,
            RouteDoc{kTag,
                     "rotate the audit key, as `signet audit rotate-key` does: the current key "
                     "signs a last checkpoint and is retired (kept on the token, still trusted), "
                     "a new key is generated on the token and signs a checkpoint; audited as "
                     "audit.key_rotated",
                     {},
                     object_schema({}),
                     "application/json",
                     201},
            [&api](ApiCall& call, const json&) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto rotated,
                                      rotate_audit_key(api.context(), call.principal.actor()));
              return json_response(rotated, 201);
            });
}

}  // namespace

void register_audit_routes(Router& router, ApiServices& api) {
  add_list(router, api);
  add_verify(router, api);
  add_export(router, api);
  add_checkpoints(router, api);
  add_key_rotation(router, api);
}

}  // namespace signet::appliance
