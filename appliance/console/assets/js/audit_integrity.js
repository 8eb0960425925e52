// The audit page's integrity panel: the hash chain and signed checkpoints verified by the
// appliance (GET /api/v1/audit/verify: OK, or the first entry that was altered, removed or
// reordered), the entries after the last checkpoint, the last checkpoint itself
// (GET /api/v1/audit/checkpoints), "Sign a checkpoint now" (POST /api/v1/audit/checkpoints,
// which the API allows auditors too: it changes no record) and the downloads an offline check
// needs: the export and the audit public key.
import * as api from "./api.js";
import { formatTime, h } from "./dom.js";

const facts = (rows) => h("dl", { class: "facts facts-tight" },
  rows.filter(Boolean).map(([k, v, id]) => [h("dt", null, k), h("dd", id ? { id } : null, v)]));

const short = (hex) => (hex && hex.length > 16 ? `${hex.slice(0, 16)}…` : hex || "—");

function verdict(report) {
  if (report.ok) {
    return h("div", { class: "notice notice-success verify-ok", id: "audit-verify-status", role: "status" },
      h("strong", null, "Verified: the hash chain is intact"),
      h("p", null, `${report.entries} entries (${report.first_sequence} to ${report.last_sequence}), head `,
        h("code", { title: report.head }, short(report.head)), "."),
      report.checkpoints ? h("p", null, report.checkpoints === 1 ? "The signed checkpoint verifies with the audit key."
                                                                  : `${report.checkpoints} signed checkpoints verify with the audit key.`)
                         : h("p", null, "No signed checkpoint yet: the chain alone protects the entries."));
  }
  return h("div", { class: "notice notice-error verify-broken", id: "audit-verify-status", role: "alert" },
    h("strong", null, report.first_bad_sequence ? `Broken at entry ${report.first_bad_sequence}` : "The audit log does not verify"),
    h("p", { id: "audit-verify-problem" }, report.problem),
    report.caught_by_checkpoint ? h("p", null, `Caught by the signed checkpoint at sequence ${report.caught_by_checkpoint}.`) : null);
}

// The entries no checkpoint covers yet: the gap after the last checkpoint.
function gap(report) {
  if (!report.last_checkpoint) {
    return h("span", { id: "audit-gap" }, report.entries ? `all ${report.entries} entries (no checkpoint yet)` : "none");
  }
  const n = report.unprotected_entries;
  return h("span", { id: "audit-gap", class: n > 0 ? "urgency-warning" : "urgency-ok" },
           n === 0 ? "none: the last checkpoint covers the head"
                   : `${n} entr${n === 1 ? "y" : "ies"} after sequence ${report.last_checkpoint}`);
}

async function lastCheckpoint(report) {
  if (!report.last_checkpoint) return null;
  const page = await api.get(api.withQuery("/api/v1/audit/checkpoints", { after: report.last_checkpoint - 1, limit: 1 }));
  return page.items[0] || null;
}

// Fills `panel` (a section) and keeps it current; `onSigned` runs after a new checkpoint.
export async function renderIntegrity(panel, { onSigned }) {
  const body = h("div", { class: "integrity-body", "aria-live": "polite" }, h("p", { class: "muted" }, "Verifying the audit log…"));
  const again = h("button", { type: "button", class: "button button-small", id: "audit-verify" }, "Verify again");
  const sign = h("button", { type: "button", class: "button button-small", id: "audit-checkpoint" }, "Sign a checkpoint now");
  const pubkey = h("a", { href: "/api/v1/audit/pubkey?format=pem", class: "button button-small", download: "",
                          id: "audit-pubkey", hidden: true }, "Audit public key (PEM)");
  panel.replaceChildren(h("div", { class: "card-head" }, h("h2", { id: "integrity-title" }, "Integrity"),
                          h("div", { class: "actions" }, again, sign, pubkey)), body);
  const show = async (note) => {
    again.disabled = true;
    let report;
    let checkpoint = null;
    try {
      report = await api.get("/api/v1/audit/verify");
      checkpoint = await lastCheckpoint(report);
    } catch (failure) {
      body.replaceChildren(h("div", { class: "notice notice-error", role: "alert", id: "audit-verify-status" },
                             h("strong", null, "The verification could not run"), h("p", null, failure.message)));
      again.disabled = false;
      return;
    }
    again.disabled = false;
    pubkey.hidden = !checkpoint;
    body.replaceChildren(note || "", verdict(report), facts([
      ["Last checkpoint", checkpoint ? h("span", null, `sequence ${checkpoint.sequence}, signed ${formatTime(checkpoint.signed_at)}`)
                                     : "none yet", "audit-last-checkpoint"],
      checkpoint ? ["Signed head", h("code", { title: checkpoint.head }, short(checkpoint.head))] : null,
      checkpoint ? ["Audit key", h("span", null, checkpoint.algorithm, " ", h("code", { class: "uri" }, checkpoint.key))] : null,
      ["Not yet checkpointed", gap(report)],
    ]));
  };
  again.addEventListener("click", () => show(null));
  sign.addEventListener("click", async () => {
    sign.disabled = true;
    try {
      const made = await api.post("/api/v1/audit/checkpoints", {});
      await show(h("p", { class: "notice notice-success integrity-note", role: "status" },
                    `Checkpoint signed at sequence ${made.sequence}.`));
      onSigned();
    } catch (failure) {
      body.prepend(h("p", { class: "field-error integrity-note", role: "alert" }, `No checkpoint: ${failure.message}`));
    } finally {
      sign.disabled = false;
    }
  });
  await show(null);
}
