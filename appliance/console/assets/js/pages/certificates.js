// The certificate inventory: GET /api/v1/certificates with its filters (status, source, CA,
// RA profile, expiring within N days, text search), sort and keyset pages (next_cursor). The
// filters and the sort live in the page's URL (bookmarkable; nothing secret); the cursors of
// the pages walked through so far live in memory, for "Previous".
import * as api from "../api.js";
import { daysText, errorBox, fingerprintId, formatDate, h, statusBadge, urgency } from "../dom.js";

const FILTERS = ["q", "status", "source", "ca", "profile", "expiring_within_days"];
const SORTS = { cn: "Common name", notAfter: "Expires", notBefore: "Issued", serial: "Serial" };
const PAGE_SIZES = [25, 50, 100];

function select(id, label, options, value) {
  return h("div", { class: "field" }, h("label", { for: id }, label),
           h("select", { id, name: id.replace(/^filter-/, "") },
             options.map(([optionValue, text]) =>
               h("option", { value: optionValue, selected: optionValue === value }, text))));
}

async function loadChoices() {
  const [cas, profiles] = await Promise.allSettled([api.get("/api/v1/cas"), api.get("/api/v1/profiles")]);
  return {
    cas: cas.status === "fulfilled" ? cas.value.items.map((ca) => ca.name) : [],
    profiles: profiles.status === "fulfilled"
                  ? profiles.value.items.map((p) => (p.ca ? `${p.ca}/${p.name}` : p.name)) : [],
  };
}

function filterForm(query, choices, navigate) {
  const value = (name) => query.get(name) || "";
  const search = h("input", { id: "filter-q", name: "q", type: "search", value: value("q"),
                              placeholder: "www.exa… or *.example.com", spellcheck: "false" });
  const within = h("input", { id: "filter-expiring_within_days", name: "expiring_within_days",
                              type: "number", min: "0", max: "36500", inputmode: "numeric",
                              value: value("expiring_within_days"), placeholder: "any" });
  const form = h("form", { class: "filters", role: "search", "aria-label": "Filter certificates" },
                 h("div", { class: "field field-wide" }, h("label", { for: "filter-q" }, "Search name or SAN"), search),
                 select("filter-status", "Status", [["", "Any status"], ["active", "Active"],
                        ["expired", "Expired"], ["revoked", "Revoked"]], value("status")),
                 select("filter-source", "Source", [["", "Any source"], ["managed", "Managed"],
                        ["discovered", "Discovered"]], value("source")),
                 select("filter-ca", "CA", [["", "Any CA"], ...choices.cas.map((n) => [n, n])], value("ca")),
                 select("filter-profile", "RA profile",
                        [["", "Any profile"], ...choices.profiles.map((n) => [n, n])], value("profile")),
                 h("div", { class: "field field-narrow" },
                   h("label", { for: "filter-expiring_within_days" }, "Expiring in (days)"), within),
                 h("div", { class: "filter-actions" },
                   h("button", { type: "submit", class: "button button-primary" }, "Apply"),
                   h("button", { type: "button", class: "button button-quiet", id: "filter-reset" }, "Reset")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const name of FILTERS) {
      const text = form.elements[name].value.trim();
      if (text) next.set(name, text);
    }
    for (const name of ["sort", "order", "limit"]) if (query.get(name)) next.set(name, query.get(name));
    navigate(`/certificates${next.toString() ? "?" + next : ""}`);
  });
  form.querySelector("#filter-reset").addEventListener("click", () => navigate("/certificates"));
  return form;
}

function sortHeader(label, field, query, navigate) {
  const sort = query.get("sort") || "notAfter";
  const descending = query.get("order") === "desc";
  const active = sort === field;
  const button = h("button", { type: "button", class: "sort" }, label,
                   h("span", { class: "sort-mark", "aria-hidden": "true" },
                     active ? (descending ? " ▼" : " ▲") : ""));
  button.addEventListener("click", () => {
    const next = new URLSearchParams(query);
    next.set("sort", field);
    next.set("order", active && !descending ? "desc" : "asc");
    navigate(`/certificates?${next}`);
  });
  return h("th", { scope: "col", "aria-sort": active ? (descending ? "descending" : "ascending") : "none" },
           button);
}

function row(item) {
  const sans = item.subject_alt_names.filter((san) => san !== `DNS:${item.common_name}`);
  const link = h("a", { href: `/certificates/${fingerprintId(item.fingerprint_sha256)}`, class: "cn" },
                 item.common_name || item.subject || item.serial);
  return h("tr", { "data-fingerprint": item.fingerprint_sha256 },
           h("td", null, link,
             sans.length ? h("div", { class: "sans" }, sans.slice(0, 3).join(", "),
                             sans.length > 3 ? ` +${sans.length - 3} more` : "") : null),
           h("td", null, h("div", null, item.ca || "—"), h("div", { class: "muted small" }, item.issuer)),
           h("td", null, h("div", null, `${formatDate(item.not_before)} → ${formatDate(item.not_after)}`),
             h("div", { class: `small days ${urgency(item.days_until_expiry, item.status)}` },
               daysText(item.days_until_expiry, item.status))),
           h("td", null, statusBadge(item.status)),
           h("td", null, h("span", { class: "source" }, item.source)));
}

export async function render({ main, query, navigate, current, session }) {
  const heading = h("div", { class: "page-header" },
                    h("div", null, h("h1", null, "Certificates"),
                      h("p", { class: "muted" }, "Every certificate this appliance issued or discovered.")),
                    session.mayOperate() ? h("div", { class: "actions" },
                                             h("a", { href: "/request", class: "button button-primary", id: "request-new" },
                                               "Request a certificate")) : null);
  main.append(heading);
  const choices = await loadChoices();
  if (!current()) return;
  main.append(filterForm(query, choices, navigate));

  // Any page size the API accepts may come from the URL; the select offers the usual ones.
  const asked = Number(query.get("limit"));
  const limit = Number.isInteger(asked) && asked >= 1 && asked <= 1000 ? asked : 25;
  const sizes = PAGE_SIZES.includes(limit) ? PAGE_SIZES : [...PAGE_SIZES, limit].sort((a, b) => a - b);
  const params = { limit };
  for (const name of [...FILTERS, "sort", "order"]) params[name] = query.get(name);
  const filtered = FILTERS.some((name) => query.get(name));
  const cursors = [""];  // cursors[i]: the cursor that fetched page i
  let page = 0;

  const region = h("section", { class: "table-region", "aria-label": "Certificate list", "aria-live": "polite" });
  main.append(region);

  async function show() {
    region.setAttribute("aria-busy", "true");
    let result;
    try {
      result = await api.get(api.withQuery("/api/v1/certificates", { ...params, cursor: cursors[page] }));
    } catch (error) {
      if (!current()) return;
      region.replaceChildren(errorBox(error.message, "The certificates could not be listed"));
      region.removeAttribute("aria-busy");
      return;
    }
    if (!current()) return;
    region.removeAttribute("aria-busy");
    if (result.items.length === 0 && page === 0 && !result.next_cursor) {
      region.replaceChildren(h("div", { class: "empty", id: "certificates-empty" },
                               h("h2", null, filtered ? "No certificate matches these filters"
                                                      : "No certificates yet"),
                               h("p", null, filtered ? "Change or reset the filters to see more."
                                                     : "Certificates issued through the REST API, ACME or the signet CLI appear here.")));
      return;
    }
    const table = h("table", { class: "data", id: "certificates-table" },
                    h("caption", { class: "visually-hidden" }, "Certificates"),
                    h("thead", null, h("tr", null,
                      sortHeader("Common name and SANs", "cn", query, navigate),
                      h("th", { scope: "col" }, "Issuer / CA"),
                      sortHeader("Validity", "notAfter", query, navigate),
                      h("th", { scope: "col" }, "Status"),
                      h("th", { scope: "col" }, "Source"))),
                    h("tbody", null, result.items.map(row)));
    const previous = h("button", { type: "button", class: "button", disabled: page === 0, id: "page-previous" }, "← Previous");
    const next = h("button", { type: "button", class: "button", disabled: !result.next_cursor, id: "page-next" }, "Next page →");
    previous.addEventListener("click", () => { page -= 1; show(); });
    next.addEventListener("click", () => {
      cursors[page + 1] = result.next_cursor;
      page += 1;
      show();
    });
    const size = h("select", { id: "page-size" },
                   sizes.map((n) => h("option", { value: n, selected: n === limit }, `${n} a page`)));
    size.addEventListener("change", () => {
      const nextQuery = new URLSearchParams(query);
      nextQuery.set("limit", size.value);
      navigate(`/certificates?${nextQuery}`);
    });
    region.replaceChildren(h("div", { class: "table-wrap" }, table),
                           h("div", { class: "pager" },
                             h("span", { class: "muted" }, `Page ${page + 1} · ${result.items.length} shown`),
                             h("span", { class: "spacer" }),
                             h("label", { for: "page-size", class: "visually-hidden" }, "Page size"), size,
                             previous, next));
  }
  await show();
}
