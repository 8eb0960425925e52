// The dashboard: certificates by status and by how soon they expire, failed orders, token
// health (reachable, logged in), open alerts, the CAs with their latest CRL (number, age, next
// update), the appliance's health (GET /healthz) and, for roles that may read the audit log,
// the most recent audit events. Counts come from the inventory's
// filtered lists, read up to COUNT_LIMIT entries each ("500+" beyond): the API has no count
// route, and the dashboard must stay light on an appliance with a million certificates.
import * as api from "../api.js";
import { daysText, formatTime, h, urgency } from "../dom.js";
import * as session from "../session.js";
import { spanText } from "./cas.js";

const COUNT_LIMIT = 500;

async function count(params) {
  const page = await api.get(api.withQuery("/api/v1/certificates", { ...params, limit: COUNT_LIMIT }));
  return page.next_cursor ? `${COUNT_LIMIT}+` : String(page.items.length);
}

function tile(label, value, href, kind, id) {
  return h("a", { href, class: `tile tile-${kind}`, id },
           h("span", { class: "tile-value" }, value), h("span", { class: "tile-label" }, label));
}

function settled(result, fallback = "—") {
  return result.status === "fulfilled" ? result.value : fallback;
}

async function failedOrders() {
  const page = await api.get(api.withQuery("/api/v1/orders", { status: "failed", limit: COUNT_LIMIT }));
  return page.items.length >= COUNT_LIMIT ? `${COUNT_LIMIT}+` : String(page.items.length);
}

// Token health: the module's initialised tokens are the reachable ones; of those, how many
// signetd is logged in to; and the slots free for another token (no initialised token in them).
function tokenTile(tokens) {
  if (tokens.status === "rejected") return tile("Tokens", "—", "/tokens", "critical", "tile-tokens");
  const items = tokens.value.items;
  const loggedIn = items.filter((t) => t.logged_in).length;
  const free = (tokens.value.modules || []).flatMap((m) => m.slots || []).filter((s) => !s.token_serial).length;
  const kind = !items.length || loggedIn < items.length ? "critical" : "ok";
  const label = items.length ? `Tokens logged in · ${free} free slot${free === 1 ? "" : "s"}` : "No token reachable";
  const shown = tile(label, `${loggedIn} / ${items.length}`, "/tokens", kind, "tile-tokens");
  shown.title = `${loggedIn} logged in of ${items.length} reachable; ${free} free slots`;
  return shown;
}

async function health() {
  // /healthz answers 503 with the same body when something fails.
  const response = await fetch("/healthz", { credentials: "same-origin", cache: "no-store" });
  return response.json();
}

async function latestCrl(ca) {
  const crls = await api.get(`/api/v1/cas/${encodeURIComponent(ca)}/crls?limit=1`);
  return crls.items[0] || null;
}

export async function render({ main, current }) {
  main.append(h("div", { class: "page-header" },
                h("div", null, h("h1", null, "Dashboard"),
                  h("p", { class: "muted" }, "Certificates, CAs and the appliance at a glance."))));
  const queries = [
    { status: "active" },
    { status: "active", expiring_within_days: 7 },
    { status: "active", expiring_within_days: 30 },
    { status: "active", expiring_within_days: 90 },
    { status: "expired" },
    { status: "revoked" },
  ];
  const [counts, alerts, cas, checks, failed, tokens] = await Promise.all([
    Promise.allSettled(queries.map(count)),
    Promise.allSettled([api.get("/api/v1/alerts?limit=5")]).then(([r]) => r),
    Promise.allSettled([api.get("/api/v1/cas")]).then(([r]) => r),
    Promise.allSettled([health()]).then(([r]) => r),
    Promise.allSettled([failedOrders()]).then(([r]) => r),
    Promise.allSettled([api.get("/api/v1/tokens")]).then(([r]) => r),
  ]);
  const recent = session.mayAudit()
    ? await Promise.allSettled([api.get("/api/v1/audit?order=desc&limit=6")]).then(([r]) => r)
    : null;
  if (!current()) return;
  const [active, in7, in30, in90, expired, revoked] = counts.map((r) => settled(r));
  main.append(h("section", { class: "tiles", "aria-label": "Certificates by status" },
    tile("Active", active, "/certificates?status=active", "ok", "tile-active"),
    tile("Expiring in 7 days", in7, "/certificates?status=active&expiring_within_days=7", "critical", "tile-7"),
    tile("Expiring in 30 days", in30, "/certificates?status=active&expiring_within_days=30", "warning", "tile-30"),
    tile("Expiring in 90 days", in90, "/certificates?status=active&expiring_within_days=90", "info", "tile-90"),
    tile("Expired", expired, "/certificates?status=expired", "muted", "tile-expired"),
    tile("Revoked", revoked, "/certificates?status=revoked", "muted", "tile-revoked")));
  const failedCount = settled(failed);
  main.append(h("section", { class: "tiles tiles-ops", "aria-label": "Orders and tokens" },
    tile("Failed orders", failedCount, "/orders?status=failed", failedCount === "0" ? "ok" : "critical", "tile-failed-orders"),
    tokenTile(tokens)));

  const caItems = cas.status === "fulfilled" ? cas.value.items : [];
  const crls = await Promise.allSettled(caItems.map((ca) => latestCrl(ca.name)));
  if (!current()) return;
  const caRows = caItems.map((ca, i) => {
    const crl = settled(crls[i], null);
    return h("tr", null,
             h("th", { scope: "row" }, ca.name, h("div", { class: "muted small" }, ca.subject)),
             h("td", null, ca.state),
             h("td", null, h("span", { class: `days ${urgency(ca.days_until_expiry, "active")}` },
                             daysText(ca.days_until_expiry))),
             h("td", null, crl ? `#${crl.number} · ${crlAge(crl)} old · next update ${formatTime(crl.next_update)}` : "none yet",
               crl && crl.expired ? h("span", { class: "badge badge-revoked" }, "overdue") : null));
  });
  const alertItems = alerts.status === "fulfilled" ? alerts.value.items : [];
  const checkItems = checks.status === "fulfilled" ? Object.entries(checks.value.checks || {}) : [];
  main.append(h("div", { class: "cards cards-2" },
    h("section", { class: "card", "aria-labelledby": "cas-title" },
      h("h2", { id: "cas-title" }, "Certificate authorities"),
      cas.status === "rejected" ? h("p", { role: "alert" }, cas.reason.message)
      : caRows.length ? h("table", { class: "data compact" },
                          h("thead", null, h("tr", null, h("th", { scope: "col" }, "CA"), h("th", { scope: "col" }, "State"),
                            h("th", { scope: "col" }, "Certificate"), h("th", { scope: "col" }, "Latest CRL"))),
                          h("tbody", null, caRows))
      : h("p", { class: "muted" }, "No CA yet. Create one with the signet CLI (signet ca create-root).")),
    h("div", { class: "stack" },
      h("section", { class: "card", "aria-labelledby": "health-title" },
        h("h2", { id: "health-title" }, "Appliance health"),
        checkItems.length ? h("ul", { class: "checks" }, checkItems.map(([name, check]) =>
          h("li", { class: check.ok ? "check-ok" : "check-failing" },
            h("span", { class: "check-mark", "aria-hidden": "true" }, check.ok ? "●" : "▲"),
            h("strong", null, name), ` ${check.ok ? "ok" : "failing"} — ${check.detail}`)))
        : h("p", { role: "alert" }, "The health check did not answer.")),
      h("section", { class: "card", "aria-labelledby": "alerts-title" },
        h("h2", { id: "alerts-title" }, "Open alerts"),
        alerts.status === "rejected" ? h("p", { role: "alert" }, alerts.reason.message)
        : alertItems.length ? h("ul", { class: "alerts" }, alertItems.map((a) =>
            h("li", null, h("span", { class: "muted small" }, formatTime(a.raised_at)), " ", a.message)))
        : h("p", { class: "muted" }, "No open alerts.")))));
  if (recent) main.append(recentAudit(recent));
}

function crlAge(crl) {
  return spanText(Math.max(0, Math.floor((Date.now() - Date.parse(crl.this_update)) / 1000)));
}

// The newest audit events, linked to the audit log (administrators and auditors).
function recentAudit(recent) {
  const items = recent.status === "fulfilled" ? recent.value.items : [];
  return h("section", { class: "card", id: "recent-audit", "aria-labelledby": "recent-audit-title" },
    h("div", { class: "card-head" },
      h("h2", { id: "recent-audit-title" }, "Recent audit events"),
      h("a", { href: "/audit" }, "Audit log")),
    recent.status === "rejected" ? h("p", { role: "alert" }, recent.reason.message)
    : items.length ? h("table", { class: "data compact" },
        h("thead", null, h("tr", null, h("th", { scope: "col" }, "When"), h("th", { scope: "col" }, "Actor"),
          h("th", { scope: "col" }, "Action"), h("th", { scope: "col" }, "Object"))),
        h("tbody", null, items.map((e) => h("tr", null,
          h("td", { class: "nowrap" }, formatTime(e.time)), h("td", null, e.actor),
          h("td", null, h("code", null, e.action)), h("td", { class: "object" }, e.object)))))
    : h("p", { class: "muted" }, "No audit events yet."));
}
