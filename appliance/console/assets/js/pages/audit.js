// The audit log (/audit), for administrators and auditors: the integrity panel (the chain's
// verification, checkpoints, the downloads an offline check needs), then the events newest
// first (GET /api/v1/audit?order=desc, pages by `before`), filtered by text, actor, action (or
// its start, "certificate."), object and a time range in UTC. The filters live in the page's
// URL (nothing secret); Export downloads the log through GET /api/v1/audit/export (every event
// and signed checkpoint, what `signet audit verify --offline` checks) or, filtered, the
// matching events.
import * as api from "../api.js";
import { renderIntegrity } from "../audit_integrity.js";
import { errorBox, h } from "../dom.js";

const FILTERS = ["q", "actor", "action", "object", "since", "until"];
const PAGE_SIZE = 50;  // ?limit= (1-500) in the URL asks for another
const ACTIONS = ["certificate.", "certificate.issued", "certificate.revoked", "certificate.policy_hard_fail",
                 "certificate.policy_soft_fail", "profile.", "profile.created", "profile.updated", "profile.disabled",
                 "profile.enabled", "crl.generated", "ca.", "order.failed", "alert.", "operator.", "operator.login",
                 "operator.login_failed", "api_token.", "audit.checkpointed"];

// "2026-12-06T08:15" (a datetime-local field, read as UTC) <-> "2026-12-06T08:15:00Z".
const toApiTime = (local) => (local ? `${local.length === 16 ? `${local}:00` : local}Z` : "");
const toLocalField = (iso) => (iso ? iso.replace(/Z$/, "").slice(0, 16) : "");
// An audit entry's time to the second: "2026-12-06 08:46:12".
const entryTime = (iso) => (iso ? iso.replace("T", " ").replace(/Z$/, "") : "—");

// An action with line-break opportunities after its dots and underscores (the text stays exact).
function breakable(action) {
  const code = h("code");
  for (const part of action.split(/(?<=[._])/)) code.append(part, h("wbr"));
  return code;
}

// An actor or object as a link to the events about it (the other filters kept).
function filterLink(name, value) {
  if (!value) return "—";
  const next = new URLSearchParams(location.search);
  next.set(name, value);
  next.delete("limit");
  return h("a", { href: `/audit?${next}`, class: "filter-link", title: `Only the events with ${name} ${value}` }, value);
}

function detailCell(detail) {
  if (detail === null || detail === undefined || detail === "") return h("td", { class: "muted" }, "—");
  const text = typeof detail === "string" ? detail
    : Object.entries(detail).map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`).join(" · ");
  if (text.length <= 140) return h("td", { class: "detail" }, text);
  return h("td", { class: "detail" }, h("details", null, h("summary", null, `${text.slice(0, 120)}…`),
                                         h("pre", { class: "parameters" }, JSON.stringify(detail, null, 2))));
}

function filterForm(query, navigate) {
  const text = (id, label, attrs = {}) => h("div", { class: "field" }, h("label", { for: `audit-${id}` }, label),
    h("input", { id: `audit-${id}`, name: id, type: "text", value: query.get(id) || "", spellcheck: "false", ...attrs }));
  const time = (id, label) => h("div", { class: "field" }, h("label", { for: `audit-${id}` }, label),
    h("input", { id: `audit-${id}`, name: id, type: "datetime-local", value: toLocalField(query.get(id)) }));
  const form = h("form", { class: "filters filters-audit", role: "search", "aria-label": "Filter audit events" },
    text("q", "Text", { type: "search", placeholder: "any text" }),
    text("actor", "Actor", { placeholder: "operator:alice" }),
    text("action", "Action or its start", { list: "audit-actions", placeholder: "certificate." }),
    h("datalist", { id: "audit-actions" }, ACTIONS.map((a) => h("option", { value: a }))),
    text("object", "Object", { placeholder: "ca:root" }),
    time("since", "From (UTC)"),
    time("until", "Until (UTC)"),
    h("div", { class: "filter-actions" },
      h("button", { type: "submit", class: "button button-primary" }, "Apply"),
      h("button", { type: "button", class: "button button-quiet", id: "audit-reset" }, "Reset")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const name of FILTERS) {
      const raw = form.elements[name].value.trim();
      const value = name === "since" || name === "until" ? toApiTime(raw) : raw;
      if (value) next.set(name, value);
    }
    navigate(`/audit${next.toString() ? "?" + next : ""}`);
  });
  form.querySelector("#audit-reset").addEventListener("click", () => navigate("/audit"));
  return form;
}

function exportLink(params) {
  const filtered = FILTERS.some((name) => params[name]);
  return h("a", { href: api.withQuery("/api/v1/audit/export", params), class: "button", download: "", id: "audit-export",
                  title: filtered ? "The events that match the filters, as JSON lines"
                                  : "Every event and signed checkpoint, as JSON lines (signet audit verify --offline checks it)" },
           filtered ? "Export matching events" : "Export (JSON lines)");
}

export async function render({ main, query, session, navigate, current }) {
  const params = {};
  for (const name of FILTERS) params[name] = query.get(name) || "";
  main.append(h("div", { class: "page-header" },
    h("div", null, h("h1", null, "Audit log"),
      h("p", { class: "muted" }, "Every state change, hash-chained and pinned by signed checkpoints.")),
    h("div", { class: "actions" }, exportLink(params))));
  if (!session.mayAudit()) {
    main.append(errorBox("Administrators and auditors read the audit log.", "Not allowed"));
    return;
  }
  const integrity = h("section", { class: "card integrity", id: "audit-integrity", "aria-labelledby": "integrity-title" });
  const region = h("section", { class: "table-region", "aria-label": "Audit events", "aria-live": "polite" });
  main.append(integrity, filterForm(query, navigate), region);

  const asked = Number(query.get("limit"));
  const limit = Number.isInteger(asked) && asked >= 1 && asked <= 500 ? asked : PAGE_SIZE;
  const befores = [""];
  let page = 0;
  async function show() {
    let result;
    try {
      result = await api.get(api.withQuery("/api/v1/audit", { ...params, order: "desc", limit, before: befores[page] }));
    } catch (failure) {
      if (current()) region.replaceChildren(errorBox(failure.message, "The audit events could not be listed"));
      return;
    }
    if (!current()) return;
    const filtered = FILTERS.some((name) => params[name]);
    if (!result.items.length && page === 0) {
      region.replaceChildren(h("div", { class: "empty", id: "audit-empty" },
        h("h2", null, filtered ? "No event matches these filters" : "No audit events yet"),
        h("p", null, filtered ? "Change or reset the filters to see more." : "Every state change is recorded here.")));
      return;
    }
    const rows = result.items.map((e) => h("tr", { "data-sequence": e.sequence },
      h("td", { class: "numeric" }, String(e.sequence)),
      h("td", { class: "numeric" }, entryTime(e.time)),
      h("td", null, filterLink("actor", e.actor)),
      h("td", { class: "action" }, breakable(e.action)),
      h("td", { class: "object" }, filterLink("object", e.object)),
      detailCell(e.detail)));
    const newer = h("button", { type: "button", class: "button", disabled: page === 0, id: "audit-newer" }, "← Newer");
    const older = h("button", { type: "button", class: "button", disabled: !result.next_before, id: "audit-older" }, "Older →");
    newer.addEventListener("click", () => { page -= 1; show(); });
    older.addEventListener("click", () => { befores[page + 1] = result.next_before; page += 1; show(); });
    region.replaceChildren(
      h("div", { class: "table-wrap" },
        h("table", { class: "data compact", id: "audit-table" },
          h("caption", { class: "visually-hidden" }, "Audit events, newest first"),
          h("thead", null, h("tr", null, ["#", "Time (UTC)", "Actor", "Action", "Object", "Detail"].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", null, rows))),
      h("div", { class: "pager" }, h("span", { class: "muted", id: "audit-page" }, `Page ${page + 1} · ${result.items.length} events, newest first`),
        h("span", { class: "spacer" }), newer, older));
  }
  await Promise.all([renderIntegrity(integrity, { onSigned: () => { if (page === 0) show(); } }), show()]);
}
