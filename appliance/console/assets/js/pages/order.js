// An order's detail (/orders/<id>, GET /api/v1/orders/{id}): what was asked, by whom, its
// status and duration; the certificate it issued (linked), or its error with the original
// parameters and, for roles that operate, Resubmit (POST /api/v1/orders/{id}/resubmit).
import * as api from "../api.js";
import { append, errorBox, formatTime, h } from "../dom.js";
import { showPfxDialog } from "../pfx_dialog.js";
import { durationText, orderBadge } from "./orders.js";

function row(label, value, id) {
  const shown = value === null || value === undefined || value === "" ? h("span", { class: "muted" }, "—") : value;
  return [h("dt", null, label), h("dd", id ? { id } : null, shown)];
}

export async function render(context) {
  const { main, params, session, current } = context;
  const breadcrumb = h("nav", { class: "breadcrumb", "aria-label": "Breadcrumb" }, h("a", { href: "/orders" }, "Orders"),
                       h("span", { "aria-hidden": "true" }, " › "), h("span", { "aria-current": "page" }, `#${params[0]}`));
  let order;
  try {
    order = await api.get(`/api/v1/orders/${encodeURIComponent(params[0])}`);
  } catch (error) {
    if (!current() || error.status === 401) return;
    main.append(breadcrumb, h("h1", null, "Order not shown"), errorBox(error.message));
    return;
  }
  if (!current()) return;
  const issued = order.certificate_id ? await findCertificate(order) : null;
  if (!current()) return;
  const actions = h("div", { class: "actions" });
  const resubmitError = h("div", { class: "notice notice-error", role: "alert", id: "resubmit-error", hidden: true, tabindex: "-1" });
  if (order.status === "failed" && session.mayOperate()) {
    const resubmit = h("button", { type: "button", class: "button button-primary", id: "resubmit" }, "Resubmit");
    resubmit.addEventListener("click", async () => {
      resubmit.disabled = true;
      resubmit.textContent = "Resubmitting…";
      resubmitError.hidden = true;
      try {
        const result = await api.post(`/api/v1/orders/${order.id}/resubmit`, {});
        if (!current()) return;
        context.setFlash("success", `Order #${order.id} was resubmitted as order #${result.order_id}, which is ${result.order.status}.`);
        context.navigate(`/orders/${result.order_id}`);
        if (result.pfx_base64) showPfxDialog(result, result.common_name || result.serial, null);
      } catch (failure) {
        if (!current() || failure.status === 401) return;
        resubmit.disabled = false;
        resubmit.textContent = "Resubmit";
        resubmitError.replaceChildren(h("strong", null, "The resubmission failed too: "), failure.message);
        resubmitError.hidden = false;
        resubmitError.focus();
      }
    });
    actions.append(resubmit);
  }
  const parameters = order.parameters === undefined ? null
                     : h("pre", { class: "parameters", id: "order-parameters" },
                         typeof order.parameters === "string" ? order.parameters : JSON.stringify(order.parameters, null, 2));
  append(main, [breadcrumb,
    h("div", { class: "page-header" },
      h("div", null, h("h1", null, `Order #${order.id}`),
        h("p", { class: "headline" }, orderBadge(order.status), h("span", { class: "muted" }, `${order.kind} · ${order.common_name || "no common name"}`))),
      actions),
    resubmitError,
    order.error_message ? h("div", { class: "notice notice-error", id: "order-error" },
                            h("strong", null, `Failed (${order.error && order.error.code ? order.error.code : "error"}): `), order.error_message) : null,
    h("div", { class: "cards" },
      h("section", { class: "card" }, h("h2", null, "Order"), h("dl", { class: "facts" },
        row("Type", order.kind, "order-kind"),
        row("Status", orderBadge(order.status), "order-status"),
        row("Common name", order.common_name, "order-cn"),
        row("RA profile", order.profile ? `${order.profile} (version ${order.profile_version})` : null),
        row("Key source", order.key_source),
        row("Requested by", order.requested_by, "order-requested-by"))),
      h("section", { class: "card" }, h("h2", null, "Timing"), h("dl", { class: "facts" },
        row("Requested", formatTime(order.created_at)),
        row("Completed", order.completed_at ? formatTime(order.completed_at) : null),
        row("Duration", durationText(order.duration_ms), "order-duration"),
        row("Resubmits", order.resubmitted_from ? h("a", { href: `/orders/${order.resubmitted_from}` }, `#${order.resubmitted_from}`) : null))),
      h("section", { class: "card" }, h("h2", null, "Outcome"), h("dl", { class: "facts" },
        row("Certificate", issued ? h("a", { href: `/certificates/${issued.fingerprint_sha256.replaceAll(":", "").toLowerCase()}`, id: "order-certificate" },
                                      `${issued.common_name || issued.serial} (serial ${issued.serial})`)
                                  : order.certificate_id ? `#${order.certificate_id}` : null),
        row("Warnings", order.warnings && order.warnings.length ? order.warnings.join("; ") : null),
        row("Generated key", order.generated_key ? h("code", null, order.generated_key) : null)))),
    parameters ? h("section", { class: "card" }, h("h2", null, "Original parameters"), parameters) : null]);
}

// The order's certificate: the inventory has no lookup by record id, so the certificates with
// the order's common name are searched for the one whose order_id is this order.
async function findCertificate(order) {
  if (!order.common_name) return null;
  try {
    const list = await api.get(api.withQuery("/api/v1/certificates", { q: order.common_name, limit: 1000 }));
    return list.items.find((c) => c.order_id === order.id || c.id === order.certificate_id) || null;
  } catch {
    return null;
  }
}
