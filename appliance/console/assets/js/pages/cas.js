// CAs and CRLs (/cas): the CA hierarchy (each root with its intermediates nested under it),
// per CA its subject, key algorithm, key location, validity and status, the CA certificate
// downloads (PEM, DER, chain), and its latest full CRL: number, thisUpdate, nextUpdate, age and
// health (overdue highlighted), the CRL downloads, and "Generate CRL now" for the roles that
// operate (POST /api/v1/cas/{ca}/crls), which updates the CA's CRL in place.
import * as api from "../api.js";
import { append, daysText, errorBox, formatDate, formatTime, h, urgency } from "../dom.js";

// 9000 -> "2 h 30 min"; 200000 -> "2 d 7 h".
export function spanText(seconds) {
  const s = Math.abs(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  const pair = (big, bigUnit, small, smallUnit) => (small ? `${big} ${bigUnit} ${small} ${smallUnit}` : `${big} ${bigUnit}`);
  if (s < 86400) return pair(Math.floor(s / 3600), "h", Math.floor((s % 3600) / 60), "min");
  return pair(Math.floor(s / 86400), "d", Math.floor((s % 86400) / 3600), "h");
}

// Seconds from `from` to `to` (RFC 3339 times; null: now) by this browser's clock.
function secondsBetween(from, to) {
  const at = (iso) => (iso ? Date.parse(iso) : Date.now());
  return Math.floor((at(to) - at(from)) / 1000);
}

// ok, due (inside the overlap before nextUpdate, when the scheduler regenerates it), overdue.
// Overdue is the appliance's word (the API's `expired`, by its clock); how long ago, and "due",
// are reckoned with the browser's clock.
export function crlHealth(crl, ca) {
  if (!crl) return { kind: "missing", text: "no CRL yet" };
  const left = secondsBetween(null, crl.next_update);
  if (crl.expired) {
    return { kind: "overdue", text: left < 0 ? `overdue by ${spanText(left)}` : "overdue (past nextUpdate)" };
  }
  const overlap = ca.revocation ? ca.revocation.crl_overlap_minutes * 60 : 0;
  if (left <= overlap) return { kind: "due", text: "due for regeneration" };
  return { kind: "ok", text: "current" };
}

// The CAs as trees: roots (and CAs signed outside Signet) at the top, each CA's children under it.
export function hierarchy(cas) {
  const names = new Set(cas.map((ca) => ca.name));
  const children = new Map();
  const tops = [];
  for (const ca of cas) {
    if (ca.parent && names.has(ca.parent)) {
      if (!children.has(ca.parent)) children.set(ca.parent, []);
      children.get(ca.parent).push(ca);
    } else {
      tops.push(ca);
    }
  }
  const node = (ca) => ({ ca, children: (children.get(ca.name) || []).map(node) });
  return tops.map(node);
}

const facts = (rows) => h("dl", { class: "facts facts-tight" },
  rows.filter(Boolean).map(([k, v, id]) => [h("dt", null, k), h("dd", id ? { id } : null, v ?? "—")]));

function caBase(ca) {
  return `/api/v1/cas/${encodeURIComponent(ca.name)}`;
}

function certificatePart(ca) {
  const base = caBase(ca);
  if (!ca.not_after) {
    return h("div", { class: "ca-cert" },
      h("p", { class: "notice notice-warning" }, "Awaits its certificate from the external root."),
      h("div", { class: "actions actions-start" },
        h("a", { href: `${base}/csr`, class: "button button-small", download: "" }, "Download CSR")));
  }
  return h("div", { class: "ca-cert" },
    facts([
      ["Subject", ca.subject, `ca-${ca.name}-subject`],
      ["Key", ca.key_algorithm, `ca-${ca.name}-algorithm`],
      ["Key location", h("code", { class: "uri" }, ca.key_uri), `ca-${ca.name}-key`],
      ["Valid", h("span", null, `${formatDate(ca.not_before)} → ${formatDate(ca.not_after)} `,
                  h("span", { class: `days ${urgency(ca.days_until_expiry, ca.state)}` }, `(${daysText(ca.days_until_expiry, ca.state)})`)),
       `ca-${ca.name}-validity`],
      ca.revoked_at ? ["Revoked", `${formatTime(ca.revoked_at)} (${ca.revocation_reason})`] : null,
    ]),
    h("div", { class: "actions actions-start", role: "group", "aria-label": `${ca.name} certificate downloads` },
      h("a", { href: `${base}/certificate`, class: "button button-small", download: "", id: `ca-${ca.name}-pem` }, "Certificate PEM"),
      h("a", { href: `${base}/certificate?format=der`, class: "button button-small", download: "", id: `ca-${ca.name}-der` }, "DER"),
      h("a", { href: `${base}/certificate?chain=true`, class: "button button-small", download: "", id: `ca-${ca.name}-chain` }, "Chain")));
}

// The CRL block of one CA; `mayOperate` adds Generate CRL now, which redraws the block.
function crlPart(ca, crl, mayOperate, problem) {
  const part = h("div", { class: "ca-crl", id: `crl-${ca.name}`, "aria-live": "polite" });
  const draw = (current, note) => {
    const health = crlHealth(current, ca);
    part.className = `ca-crl crl-${health.kind}`;
    const base = `${caBase(ca)}/crls/latest`;
    part.replaceChildren();
    append(part, [
      h("h3", null, "Latest CRL"),
      problem && !current ? h("p", { class: "field-error" }, problem) : null,
      current ? facts([
        ["Number", h("strong", null, String(current.number)), `crl-${ca.name}-number`],
        ["thisUpdate", `${formatTime(current.this_update)} (${spanText(Math.max(0, secondsBetween(current.this_update, null)))} ago)`,
         `crl-${ca.name}-this`],
        ["nextUpdate", formatTime(current.next_update), `crl-${ca.name}-next`],
        ["Health", h("span", { class: `badge badge-crl-${health.kind}` }, health.text), `crl-${ca.name}-health`],
        ["Entries", String(current.entries)],
      ]) : h("p", { class: "muted" }, "No CRL has been generated for this CA yet."),
      note,
      h("div", { class: "actions actions-start" },
        current ? h("a", { href: base, class: "button button-small", download: "", id: `crl-${ca.name}-der` }, "CRL (DER)") : null,
        current ? h("a", { href: `${base}?format=pem`, class: "button button-small", download: "", id: `crl-${ca.name}-pem` }, "PEM") : null,
        mayOperate ? generateButton(ca, draw) : null)]);
  };
  draw(crl, null);
  return part;
}

function generateButton(ca, draw) {
  const button = h("button", { type: "button", class: "button button-small button-primary", id: `crl-${ca.name}-generate` },
                   "Generate CRL now");
  button.addEventListener("click", async () => {
    button.disabled = true;
    button.textContent = "Signing…";
    try {
      const made = await api.post(`${caBase(ca)}/crls`, { kind: "full" });
      draw(made, h("p", { class: "notice notice-success", role: "status" }, `CRL ${made.number} generated and signed.`));
      document.getElementById(`crl-${ca.name}-generate`).focus();
    } catch (failure) {
      button.disabled = false;
      button.textContent = "Generate CRL now";
      button.after(h("p", { class: "field-error", role: "alert" }, `No CRL: ${failure.message}`));
    }
  });
  return button;
}

function caCard(ca, crl, mayOperate) {
  const kind = ca.parent ? `intermediate CA under ${ca.parent}` : ca.external_parent ? "intermediate CA under an external root"
                                                                                    : "root CA";
  return h("section", { class: "card ca-card", "data-ca": ca.name, "aria-labelledby": `ca-${ca.name}-title` },
    h("div", { class: "ca-head" },
      h("h2", { id: `ca-${ca.name}-title` }, ca.name),
      h("span", { class: `badge ${ca.state === "active" ? "badge-active" : ca.state === "revoked" ? "badge-revoked" : "badge-disabled"}`,
                  id: `ca-${ca.name}-state` }, ca.state),
      h("span", { class: "muted small" }, kind)),
    h("div", { class: "ca-body" }, certificatePart(ca),
      ca.not_after ? crlPart(ca, crl.value, mayOperate, crl.problem) : null));
}

// Nested lists (not an ARIA tree: every card is open and reached with Tab like the rest).
function tree(nodes, crls, mayOperate, parent) {
  return h("ul", { class: parent ? "ca-tree ca-children" : "ca-tree", id: parent ? null : "ca-hierarchy",
                   "aria-label": parent ? `CAs under ${parent}` : "CA hierarchy" },
    nodes.map(({ ca, children }) => h("li", { "data-ca-node": ca.name },
      caCard(ca, crls.get(ca.name), mayOperate),
      children.length ? tree(children, crls, mayOperate, ca.name) : null)));
}

async function latest(ca) {
  if (!ca.not_after) return { value: null };
  try {
    return { value: await api.get(`${caBase(ca)}/crls/latest?format=json`) };
  } catch (failure) {
    if (failure.status === 404) return { value: null };
    if (failure.status === 401) throw failure;
    return { value: null, problem: failure.message };
  }
}

export async function render({ main, session, current }) {
  main.append(h("div", { class: "page-header" },
                h("div", null, h("h1", null, "CAs and CRLs"),
                  h("p", { class: "muted" }, "The CA hierarchy, each CA's certificate and key, and its latest CRL."))));
  const list = await api.get("/api/v1/cas");
  if (!current()) return;
  if (!list.items.length) {
    main.append(h("div", { class: "empty table-region", id: "cas-empty" }, h("h2", null, "No CA yet"),
                  h("p", null, "Create a root CA with the signet CLI (signet ca create-root) or POST /api/v1/cas.")));
    return;
  }
  const results = await Promise.all(list.items.map(latest));
  if (!current()) return;
  const crls = new Map(list.items.map((ca, i) => [ca.name, results[i]]));
  const overdue = list.items.filter((ca, i) => crlHealth(results[i].value, ca).kind === "overdue");
  if (overdue.length) {
    main.append(errorBox(`${overdue.map((ca) => ca.name).join(", ")}: the CRL is past its nextUpdate. Relying parties may refuse certificates until a new one is published.`,
                         "Overdue CRL"));
  }
  if (!session.mayOperate()) {
    main.append(h("p", { class: "notice notice-info", id: "cas-read-only" },
                  `Your role (${session.principal().role}) reads CAs and CRLs; administrators and RA officers generate CRLs.`));
  }
  main.append(tree(hierarchy(list.items), crls, session.mayOperate(), null));
}
