// The Smart cards page (/cards): the appliance's PC/SC readers and the card in each (ATR, the
// ATR map's rule, module and token type, the card's token and its PIN counters), live by polling
// GET /api/v1/cards/readers every two seconds while the page is shown; a card's certificates from
// the inventory (GET /api/v1/cards/certificates?token=SERIAL); the recent card jobs
// (GET /api/v1/cards/jobs) for administrators and RA officers, who also start the enrollment
// wizard (/cards/enroll) from here.
import * as api from "../api.js";
import { errorBox, formatTime, h, fingerprintId, statusBadge, daysText, urgency } from "../dom.js";

const POLL_MS = 2000;

function flag(on, text, kind) {
  return on ? h("span", { class: `badge badge-flag badge-${kind}` }, text) : null;
}

export function pinFlags(token) {
  const any = token.user_pin_count_low || token.user_pin_final_try || token.user_pin_locked;
  return [flag(token.user_pin_count_low, "PIN tries low", "warning"),
          flag(token.user_pin_final_try, "PIN final try", "revoked"),
          flag(token.user_pin_locked, "PIN locked", "revoked"),
          any ? null : h("span", { class: "badge badge-flag badge-active" }, "PIN ok")];
}

function certificatesTable(items) {
  if (!items.length) return h("p", { class: "empty" }, "The inventory has no certificate whose key is on this card.");
  return h("div", { class: "table-scroll" }, h("table", { class: "data compact card-certificates" },
    h("thead", null, h("tr", null, ["Certificate", "CA", "Status", "Expires"].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", null, items.map((c) => h("tr", { "data-serial": c.serial },
      h("th", { scope: "row" }, h("a", { href: `/certificates/${fingerprintId(c.fingerprint_sha256)}` }, c.common_name || c.serial)),
      h("td", null, c.ca),
      h("td", null, statusBadge(c.status)),
      h("td", { class: urgency(c.days_until_expiry, c.status) }, daysText(c.days_until_expiry, c.status)))))));
}

function readerCard(reader, certificates) {
  const id = reader.name.replace(/[^A-Za-z0-9]+/g, "-").toLowerCase();
  const card = reader.card;
  const state = !reader.card_present ? h("span", { class: "badge badge-flag badge-expired" }, "no card")
                : h("span", { class: "badge badge-flag badge-active" }, "card present");
  const facts = [["ATR", reader.atr ? h("code", null, reader.atr) : "—"]];
  if (card) {
    facts.push(["Token", `${card.token.label} (serial ${card.token.serial})`],
               ["Model", [card.token.manufacturer, card.token.model].filter(Boolean).join(" ") || "—"],
               ["Module", h("code", null, card.module)],
               ["ATR rule / type", `${card.rule} · ${card.type}`],
               ["PIN", h("span", null, pinFlags(card.token))]);
  }
  if (reader.job) facts.push(["Job", h("span", null, `card job #${reader.job} is running`)]);
  return h("section", { class: "card reader", id: `reader-${id}`, "data-reader": reader.name, "aria-labelledby": `reader-title-${id}` },
    h("div", { class: "card-header" },
      h("div", null, h("h2", { id: `reader-title-${id}` }, reader.name), h("p", { class: "headline" }, state))),
    reader.error ? h("p", { class: "field-error", role: "alert" }, `The card could not be read: ${reader.error}`) : null,
    reader.card_present ? h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", null, k), h("dd", null, v)])) : null,
    card ? h("h3", null, "Certificates on this card") : null,
    card ? (certificates || h("p", { class: "muted" }, "Loading…")) : null);
}

function jobsTable(items) {
  if (!items.length) return h("p", { class: "empty" }, "No card jobs since signetd started.");
  return h("div", { class: "table-scroll" }, h("table", { class: "data compact card-jobs" },
    h("thead", null, h("tr", null, ["Job", "Kind", "Holder", "Reader", "State", "Order", "Started"].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", null, items.map((j) => h("tr", { "data-job": j.id },
      h("th", { scope: "row" }, `#${j.id}`),
      h("td", null, j.kind),
      h("td", null, j.subject || (j.certificate_id ? `certificate ${j.certificate_id}` : "—")),
      h("td", null, j.reader || "—"),
      h("td", null, h("span", { class: `badge badge-job-${j.state}` }, j.state.replaceAll("_", " ")),
        j.error ? h("div", { class: "muted small" }, j.error.message) : null),
      h("td", null, j.order_id ? h("a", { href: `/orders/${j.order_id}` }, `#${j.order_id}`) : "—"),
      h("td", { class: "nowrap" }, formatTime(j.created)))))));
}

export async function render(context) {
  const { main, session, current } = context;
  main.append(h("h1", null, "Smart cards"));
  const mayOperate = session.mayOperate();
  const actions = h("p", { class: "page-actions" },
    mayOperate ? h("a", { href: "/cards/enroll", class: "button button-primary", id: "enroll-card" }, "Enroll a card holder…") : null);
  const live = h("p", { class: "muted small", id: "readers-updated", role: "status" });
  const list = h("div", { class: "readers", id: "readers" });
  const jobs = h("div", { id: "card-jobs" });
  main.append(h("p", { class: "muted" }, "The readers attached to this appliance and the cards in them, updated every two seconds."),
              actions, live, list);
  if (mayOperate) main.append(h("h2", null, "Recent card jobs"), jobs);
  const certificateCache = new Map();  // token serial -> rendered table

  async function certificatesOf(serial) {
    if (!certificateCache.has(serial)) {
      try {
        const found = await api.get(api.withQuery("/api/v1/cards/certificates", { token: serial }));
        certificateCache.set(serial, certificatesTable(found.items));
      } catch (failure) {
        certificateCache.set(serial, h("p", { class: "field-error" }, failure.message));
      }
    }
    return certificateCache.get(serial);
  }

  async function refresh() {
    let readers;
    try {
      readers = (await api.get("/api/v1/cards/readers")).items;
    } catch (failure) {
      if (!current()) return false;
      list.replaceChildren(errorBox(failure.message, /smart-card support is off/.test(failure.message) ? "Smart cards are not enabled" : "The readers could not be listed"));
      return !/smart-card support is off/.test(failure.message);
    }
    const sections = [];
    for (const reader of readers) {
      const serial = reader.card && reader.card.token.serial;
      sections.push(readerCard(reader, serial ? await certificatesOf(serial) : null));
    }
    if (!current()) return false;
    list.replaceChildren(...(sections.length ? sections : [h("p", { class: "empty" }, "No reader is attached.")]));
    if (mayOperate) {
      try {
        jobs.replaceChildren(jobsTable((await api.get("/api/v1/cards/jobs")).items.slice(0, 10)));
      } catch (failure) {
        jobs.replaceChildren(h("p", { class: "field-error" }, failure.message));
      }
    }
    live.textContent = `Updated ${new Date().toISOString().slice(11, 19)} UTC`;
    return true;
  }

  if (!(await refresh())) return;
  const timer = setInterval(async () => {
    if (!current()) {
      clearInterval(timer);
      return;
    }
    certificateCache.clear();
    if (!(await refresh())) clearInterval(timer);
  }, POLL_MS);
}
