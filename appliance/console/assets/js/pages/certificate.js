// A certificate's detail (GET /api/v1/certificates/{fingerprint}): identity, validity, key,
// lifecycle and revocation, the downloads (PEM .crt, DER, chain: plain same-origin links that
// the session cookie authorises, nothing secret in them) and, for roles that operate, Download
// PFX (local keys), Renew, Rekey and Reissue (the request wizard preset with the certificate)
// and Revoke.
import * as api from "../api.js";
import { append, daysText, errorBox, fingerprintId, formatTime, h, statusBadge, urgency } from "../dom.js";
import { exportPfx, hasLocalKey } from "../pfx_dialog.js";
import { openRenewDialog } from "../renew_dialog.js";
import { openRevokeDialog } from "../revoke_dialog.js";

function item(label, value, id) {
  const shown = value === null || value === undefined || value === "" ? h("span", { class: "muted" }, "—") : value;
  return [h("dt", null, label), h("dd", id ? { id } : null, shown)];
}

// The fingerprint with line-break opportunities after its colons (<wbr>: the text stays exact).
function fingerprintCode(fingerprint) {
  const code = h("code", { class: "fingerprint" });
  fingerprint.split(":").forEach((pair, i) => {
    if (i > 0) code.append(":", h("wbr"));
    code.append(pair);
  });
  return code;
}

function card(title, ...items) {
  return h("section", { class: "card" }, h("h2", null, title), h("dl", { class: "facts" }, items));
}

function linkTo(text, ca) {
  // "serialhex (ca)" as the API words a predecessor or successor.
  const match = /^([0-9a-f]+) \(([^)]*)\)$/i.exec(text || "");
  if (!match) return text;
  const target = `/certificates/${match[1]}${match[2] ? `?ca=${encodeURIComponent(match[2])}` : ""}`;
  return h("a", { href: target }, `${match[1]} (${match[2] || ca})`);
}

function downloads(id, query) {
  const base = `/api/v1/certificates/${id}`;
  const link = (suffix, label, elementId) =>
    h("a", { href: `${base}/${suffix}${query}`, class: "button", download: "", id: elementId }, label);
  return [link("pem", "Download PEM (.crt)", "download-pem"), link("der", "DER", "download-der"),
          link("chain", "Chain (PEM)", "download-chain")];
}

export async function render(context) {
  const { main, params, query, principal, session, current } = context;
  const ca = query.get("ca");
  const caQuery = ca ? `?ca=${encodeURIComponent(ca)}` : "";
  let cert;
  try {
    cert = await api.get(`/api/v1/certificates/${encodeURIComponent(params[0])}${caQuery}`);
  } catch (error) {
    if (!current() || error.status === 401) return;
    main.append(h("nav", { class: "breadcrumb", "aria-label": "Breadcrumb" },
                  h("a", { href: "/certificates" }, "Certificates")),
                h("h1", null, "Certificate not shown"),
                errorBox(error.status === 404 ? "No certificate has this fingerprint or serial number."
                                              : error.message));
    return;
  }
  if (!current()) return;
  const id = fingerprintId(cert.fingerprint_sha256);
  const actions = h("div", { class: "actions", role: "group", "aria-label": "Certificate actions" },
                    downloads(id, ""));
  if (session.mayOperate() && hasLocalKey(cert)) {
    const pfx = h("button", { type: "button", class: "button", id: "download-pfx" }, "Download PFX…");
    const pfxError = h("p", { class: "field-error", role: "alert", id: "pfx-error", hidden: true });
    pfx.addEventListener("click", async () => {
      pfx.disabled = true;
      pfxError.hidden = true;
      try {
        await exportPfx(cert, pfx);
      } catch (failure) {
        pfxError.textContent = `No PFX: ${failure.message}`;
        pfxError.hidden = false;
      } finally {
        pfx.disabled = false;
      }
    });
    actions.append(pfx, pfxError);
  }
  if (session.mayOperate() && cert.status !== "revoked" && cert.ca) {
    for (const [kind, label] of [["rekey", "Rekey…"], ["reissue", "Reissue…"]]) {
      actions.append(h("a", { href: `/request?${kind}=${id}`, class: "button", id: kind }, label));
    }
    const renew = h("button", { type: "button", class: "button", id: "renew" }, "Renew…");
    renew.addEventListener("click", () => openRenewDialog(cert, (renewed) => {
      context.setFlash("success", `Renewed: this is the new certificate (serial ${renewed.serial}).`);
      context.navigate(`/certificates/${fingerprintId(renewed.fingerprint_sha256)}`);
    }, renew));
    actions.append(renew);
  }
  if (session.mayOperate() && cert.status !== "revoked") {
    const revoke = h("button", { type: "button", class: "button button-danger actions-end", id: "revoke" }, "Revoke…");
    revoke.addEventListener("click", () => openRevokeDialog(cert, async (revoked) => {
      context.setFlash("success", `Revoked (${revoked.revocation_reason}). The next CRL and OCSP answers say so.`);
      context.navigate(`/certificates/${id}`, { replace: true });
    }, revoke));
    actions.append(revoke);
  }
  const revocation = cert.revocation;
  append(main, [
    h("nav", { class: "breadcrumb", "aria-label": "Breadcrumb" },
      h("a", { href: "/certificates" }, "Certificates"), h("span", { "aria-hidden": "true" }, " › "),
      h("span", { "aria-current": "page" }, cert.common_name || cert.serial)),
    h("div", { class: "page-header page-header-stacked" },
      h("div", null,
        h("h1", { id: "cert-title" }, cert.common_name || cert.subject),
        h("p", { class: "headline" }, statusBadge(cert.status),
          h("span", { class: `days ${urgency(cert.days_until_expiry, cert.status)}`, id: "cert-days" },
            daysText(cert.days_until_expiry, cert.status)),
          h("span", { class: "muted" }, `${cert.source} · ${cert.key_algorithm} · ${cert.ca || "no CA of ours"}`))),
      actions),
    revocation ? h("div", { class: "notice notice-error", role: "status", id: "revocation-notice" },
                   h("strong", null, "Revoked"),
                   ` on ${formatTime(revocation.revoked_at)}, reason ${revocation.reason}` +
                   (revocation.invalidity_date ? `, key invalid since ${formatTime(revocation.invalidity_date)}` : "") + ".")
               : null,
    h("div", { class: "cards" },
      card("Subject",
           item("Common name", cert.common_name, "cert-cn"),
           item("Subject", cert.subject),
           item("Subject alternative names",
                cert.subject_alt_names.length ? h("ul", { class: "plain" }, cert.subject_alt_names.map((s) => h("li", null, s))) : null,
                "cert-sans")),
      card("Issuer",
           item("Issuer", cert.issuer, "cert-issuer"),
           item("CA", cert.ca, "cert-ca"),
           item("RA profile", cert.profile ? `${cert.profile} (version ${cert.profile_version})` : null, "cert-profile")),
      card("Validity",
           item("Valid from", formatTime(cert.not_before), "cert-not-before"),
           item("Valid to", formatTime(cert.not_after), "cert-not-after"),
           item("Days until expiry", String(cert.days_until_expiry), "cert-days-left"),
           item("Status", statusBadge(cert.status), "cert-status")),
      card("Key and signature",
           item("Algorithm", cert.key_algorithm, "cert-algorithm"),
           item("Digest", cert.digest, "cert-digest"),
           item("Key location", cert.key_location ? h("code", null, cert.key_location) : null, "cert-key-location"),
           item("Key storage", cert.key_storage)),
      card("Identity",
           item("Serial number", h("code", null, cert.serial), "cert-serial"),
           item("SHA-256 fingerprint", fingerprintCode(cert.fingerprint_sha256), "cert-fingerprint"),
           item("Source", cert.source, "cert-source"),
           item("Recorded", formatTime(cert.recorded_at))),
      card("Lifecycle",
           item("Order", cert.order_id ? h("a", { href: `/orders/${cert.order_id}` }, `#${cert.order_id}`) : null, "cert-order"),
           item("Predecessor", cert.predecessor ? linkTo(cert.predecessor, cert.ca) : null, "cert-predecessor"),
           item("Successor", cert.successor ? linkTo(cert.successor, cert.ca) : null, "cert-successor"),
           item("Revoked", revocation ? formatTime(revocation.revoked_at) : "no", "cert-revoked-at"),
           item("Revocation reason", revocation ? revocation.reason : null, "cert-revocation-reason"))),
  ]);
  if (principal.role === "auditor") {
    main.append(h("p", { class: "muted small" }, "Your role (auditor) reads; lifecycle actions are not offered."));
  }
}
