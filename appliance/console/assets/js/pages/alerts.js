// Alerts (/alerts): failed orders and expiring certificates, newest first (GET /api/v1/alerts,
// acknowledged ones too with ?all=1); roles that operate acknowledge them
// (POST /api/v1/alerts/{id}/acknowledge).
import * as api from "../api.js";
import { formatTime, h } from "../dom.js";

// "order:12" -> a link to the order; "certificate:..." stays text.
function objectLink(object) {
  const order = /^order:(\d+)$/.exec(object || "");
  return order ? h("a", { href: `/orders/${order[1]}` }, `order #${order[1]}`) : object;
}

export async function render({ main, query, session, navigate, current }) {
  const all = query.get("all") === "1";
  const toggle = h("a", { href: all ? "/alerts" : "/alerts?all=1", class: "button", id: "alerts-toggle" },
                   all ? "Show open alerts only" : "Show acknowledged alerts too");
  main.append(h("div", { class: "page-header" },
                h("div", null, h("h1", null, "Alerts"),
                  h("p", { class: "muted" }, "Failed orders and expiring certificates that need an operator.")),
                h("div", { class: "actions" }, toggle)));
  const list = await api.get(api.withQuery("/api/v1/alerts", { include_acknowledged: all ? "true" : "", limit: 200 }));
  if (!current()) return;
  if (!list.items.length) {
    main.append(h("div", { class: "empty", id: "alerts-empty" }, h("h2", null, all ? "No alerts" : "No open alerts"),
                  h("p", null, "Failed orders and certificates close to expiry raise alerts here.")));
    return;
  }
  const rows = list.items.map((alert) => {
    const cell = h("td", null);
    if (alert.acknowledged) {
      cell.append(h("span", { class: "muted small" }, `acknowledged by ${alert.acknowledged_by || "?"}`,
                    alert.acknowledged_at ? ` ${formatTime(alert.acknowledged_at)}` : ""));
    } else if (session.mayOperate()) {
      const button = h("button", { type: "button", class: "button", "data-alert": alert.id }, "Acknowledge");
      button.addEventListener("click", async () => {
        button.disabled = true;
        try {
          await api.post(`/api/v1/alerts/${alert.id}/acknowledge`, {});
          navigate(all ? "/alerts?all=1" : "/alerts", { replace: true });
        } catch (failure) {
          button.disabled = false;
          cell.append(h("p", { class: "field-error", role: "alert" }, failure.message));
        }
      });
      cell.append(button);
    }
    return h("tr", { "data-alert-row": alert.id },
             h("td", null, formatTime(alert.raised_at)),
             h("td", null, alert.kind),
             h("td", null, alert.message, h("div", { class: "muted small" }, objectLink(alert.object))),
             cell);
  });
  main.append(h("div", { class: "table-wrap" },
                h("table", { class: "data", id: "alerts-table" },
                  h("caption", { class: "visually-hidden" }, "Alerts"),
                  h("thead", null, h("tr", null, ["Raised", "Kind", "Alert", ""].map((t) => h("th", { scope: "col" }, t)))),
                  h("tbody", null, rows))));
}
