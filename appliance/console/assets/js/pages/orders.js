// Orders (/orders): every issue, renew, rekey, reissue and revoke request with its outcome,
// newest first (GET /api/v1/orders, pages by `before`), filtered by status and kind.
import * as api from "../api.js";
import { errorBox, formatTime, h } from "../dom.js";

const STATUSES = ["pending", "processing", "complete", "failed"];
const KINDS = ["issue", "renew", "rekey", "reissue", "revoke"];

// 1234 -> "1.2 s"; 85000 -> "1 min 25 s".
export function durationText(ms) {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function orderBadge(status) {
  return h("span", { class: `badge badge-order-${status}` }, status);
}

function select(id, label, values, value) {
  return h("div", { class: "field" }, h("label", { for: id }, label),
           h("select", { id, name: id.replace(/^filter-/, "") },
             h("option", { value: "" }, "Any"),
             values.map((v) => h("option", { value: v, selected: v === value }, v))));
}

export async function render({ main, query, navigate, current }) {
  main.append(h("div", { class: "page-header" },
                h("div", null, h("h1", null, "Orders"),
                  h("p", { class: "muted" }, "Every request to issue, renew, rekey, reissue or revoke, and how it ended."))));
  const form = h("form", { class: "filters filters-short", "aria-label": "Filter orders" },
                 select("filter-status", "Status", STATUSES, query.get("status")),
                 select("filter-kind", "Order type", KINDS, query.get("kind")),
                 h("div", { class: "filter-actions" }, h("button", { type: "submit", class: "button button-primary" }, "Apply")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const name of ["status", "kind"]) if (form.elements[name].value) next.set(name, form.elements[name].value);
    navigate(`/orders${next.toString() ? "?" + next : ""}`);
  });
  const region = h("section", { class: "table-region", "aria-label": "Order list", "aria-live": "polite" });
  main.append(form, region);
  const befores = [""];
  let page = 0;
  async function show() {
    let result;
    try {
      result = await api.get(api.withQuery("/api/v1/orders", { status: query.get("status"), kind: query.get("kind"),
                                                              limit: 50, before: befores[page] }));
    } catch (error) {
      if (current()) region.replaceChildren(errorBox(error.message, "The orders could not be listed"));
      return;
    }
    if (!current()) return;
    if (!result.items.length && page === 0) {
      region.replaceChildren(h("div", { class: "empty", id: "orders-empty" }, h("h2", null, "No orders"),
                               h("p", null, "Requests made through the console, the API, ACME or the CLI appear here.")));
      return;
    }
    const rows = result.items.map((o) => h("tr", { "data-order": o.id },
      h("td", null, h("a", { href: `/orders/${o.id}`, class: "order-link" }, `#${o.id}`)),
      h("td", null, o.common_name || h("span", { class: "muted" }, "—"), h("div", { class: "muted small" }, o.profile)),
      h("td", null, o.kind, o.resubmitted_from ? h("div", { class: "muted small" }, `resubmits #${o.resubmitted_from}`) : null),
      h("td", null, orderBadge(o.status),
        o.status === "failed" && o.error_message ? h("div", { class: "small error-text" }, o.error_message) : null),
      h("td", null, o.requested_by),
      h("td", null, formatTime(o.created_at)),
      h("td", { class: "numeric" }, durationText(o.duration_ms))));
    const previous = h("button", { type: "button", class: "button", disabled: page === 0, id: "page-previous" }, "← Newer");
    const next = h("button", { type: "button", class: "button", disabled: !result.next_before, id: "page-next" }, "Older →");
    previous.addEventListener("click", () => { page -= 1; show(); });
    next.addEventListener("click", () => { befores[page + 1] = result.next_before; page += 1; show(); });
    region.replaceChildren(
      h("div", { class: "table-wrap" },
        h("table", { class: "data", id: "orders-table" },
          h("caption", { class: "visually-hidden" }, "Orders"),
          h("thead", null, h("tr", null, ["Order", "Common name", "Type", "Status", "Requested by", "Requested", "Duration"]
                                           .map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", null, rows))),
      h("div", { class: "pager" }, h("span", { class: "muted" }, `Page ${page + 1}`), h("span", { class: "spacer" }), previous, next));
  }
  await show();
}
