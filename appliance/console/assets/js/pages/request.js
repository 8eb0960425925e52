// The request wizard (/request): RA profile, key source (a pasted or uploaded CSR, an existing
// unused key pair on a token, a key pair generated on a token, or a local key delivered as a
// PFX), subject and names (not with a
// CSR), review, submit through POST /api/v1/certificates, then the order and its certificate.
// With ?rekey=<fingerprint> or ?reissue=<fingerprint> it replaces that certificate's key
// (POST /api/v1/certificates/{id}/rekey or /reissue): its profile and subject are kept, so
// only the key and review steps remain.
import * as api from "../api.js";
import { errorBox, fingerprintId, h } from "../dom.js";
import { showPfxDialog } from "../pfx_dialog.js";
import { SOURCES, keyStep, profileStep, qualified, subjectOf, subjectStep } from "../request_steps.js";

const TITLES = { issue: "Request a certificate", rekey: "Rekey a certificate", reissue: "Reissue a certificate" };
const STEP_NAMES = { profile: "RA profile", key: "Key source", subject: "Subject", review: "Review" };

function stepsOf(state) {
  if (state.mode !== "issue") return ["key", "review"];
  return state.source === "csr" ? ["profile", "key", "review"] : ["profile", "key", "subject", "review"];
}

function requestBody(state) {
  const key = { kind: state.source };
  if (state.source === "csr") key.csr = state.csr;
  if (state.source === "token_key") key.key_uri = state.keyUri;
  if (state.source === "key_on_token") Object.assign(key, { token: state.token, algorithm: state.algorithm });
  if (state.source === "local_key") Object.assign(key, { algorithm: state.algorithm, pfx_profile: state.pfxProfile });
  const body = { key_source: key };
  if (state.validityDays) body.validity_days = state.validityDays;
  if (state.mode !== "issue") {
    body.revoke_previous = state.revokePrevious;
    return body;
  }
  body.profile = qualified(state.profile);
  if (state.source !== "csr") {
    const { subject, sans } = subjectOf(state);
    if (subject) body.subject = subject;
    if (sans.length) body.subject_alt_names = sans;
  }
  return body;
}

function facts(rows) {
  return h("dl", { class: "facts", id: "review-facts" },
           rows.filter(([, v]) => v !== null && v !== undefined && v !== "")
               .map(([k, v, id]) => [h("dt", null, k), h("dd", id ? { id } : null, v)]));
}

function review(state) {
  const { subject, sans } = subjectOf(state);
  const keyText = state.source === "csr" ? "the CSR's key"
                  : state.source === "token_key" ? `existing key ${state.keyLabel}`
                  : state.source === "key_on_token" ? `${state.algorithm}, generated on token ${state.token}`
                  : `${state.algorithm}, local, as a PFX (${state.pfxProfile})`;
  return facts([
    ["Action", TITLES[state.mode], "review-action"],
    state.target ? ["Certificate", `${state.target.common_name || state.target.serial} (serial ${state.target.serial})`] : null,
    ["RA profile", state.profile ? qualified(state.profile) : state.target && state.target.profile, "review-profile"],
    ["Key source", SOURCES[state.source], "review-source"],
    ["Key", keyText, "review-key"],
    state.mode === "issue" && state.source !== "csr" ? ["Subject", subject || "(empty: names only)", "review-subject"] : null,
    state.mode === "issue" && state.source !== "csr" ? ["SANs", sans.join(", ") || "none", "review-sans"] : null,
    state.mode === "issue" && state.source === "csr" ? ["Subject and SANs", "as the CSR says (checked against the profile)"] : null,
    state.mode !== "issue" ? ["Subject and SANs", "the current certificate's"] : null,
    ["Validity", state.validityDays ? `${state.validityDays} days` : "the RA profile's", "review-validity"],
    state.mode !== "issue" ? ["Current certificate", state.revokePrevious ? "revoked (superseded) once replaced" : "stays valid"] : null,
  ].filter(Boolean));
}

function resultView(context, state, result) {
  const order = result.order || {};
  const link = `/certificates/${fingerprintId(result.fingerprint_sha256)}`;
  const pfxNote = h("p", { class: "muted", id: "pfx-note" });
  const section = h("section", { class: "card result", id: "request-result", "aria-labelledby": "result-title" },
    h("h2", { id: "result-title" }, order.status === "complete" ? "Certificate issued" : `Order ${order.status}`),
    h("dl", { class: "facts" },
      h("dt", null, "Order"), h("dd", null, h("a", { href: `/orders/${result.order_id}`, id: "result-order" }, `#${result.order_id}`),
                                ` · ${order.kind} · ${order.status}`),
      h("dt", null, "Certificate"), h("dd", null, h("a", { href: link, id: "result-certificate" }, result.common_name || result.serial)),
      h("dt", null, "Serial"), h("dd", null, h("code", null, result.serial)),
      h("dt", null, "Key"), h("dd", null, result.key_algorithm),
      h("dt", null, "Valid to"), h("dd", null, `${result.not_after.slice(0, 10)} (${result.days_until_expiry} days)`)),
    result.warnings && result.warnings.length
      ? h("div", { class: "notice notice-warning", id: "result-warnings" }, h("strong", null, "The profile warned: "),
          result.warnings.join("; ")) : null,
    pfxNote,
    h("div", { class: "actions" }, h("a", { href: link, class: "button button-primary" }, "Open the certificate"),
      h("a", { href: "/request", class: "button" }, "Request another")));
  context.main.replaceChildren(h("h1", { id: "request-title" }, TITLES[state.mode]), section);
  if (result.pfx_base64) {
    pfxNote.textContent = "The PFX and its password were shown once. For a new PFX (with a new password), " +
                          "use Download PFX on the certificate's page.";
    const dialog = showPfxDialog(result, result.common_name || result.serial, section.querySelector("a.button"));
    result.pfx_base64 = result.pfx_password = null;
    return dialog;
  }
  return null;
}

export async function render(context) {
  const { main, query, session, current } = context;
  const mode = query.get("rekey") ? "rekey" : query.get("reissue") ? "reissue" : "issue";
  const title = h("h1", { id: "request-title" }, TITLES[mode]);
  main.append(title);
  if (!session.mayOperate()) {
    main.append(errorBox("Your role reads only: administrators and RA officers request certificates.", "Not offered to your role"));
    return;
  }
  const [profiles, tokens, target] = await Promise.all([
    api.get("/api/v1/profiles"),
    api.get("/api/v1/tokens").catch(() => ({ items: [] })),
    mode === "issue" ? null : api.get(`/api/v1/certificates/${encodeURIComponent(query.get(mode))}`),
  ]);
  if (!current()) return;
  // The unused key pairs of the tokens signetd is logged in to, for the "existing key" source.
  await Promise.all(tokens.items.filter((t) => t.logged_in).map(async (t) => {
    try {
      t.keys = (await api.get(`/api/v1/tokens/${encodeURIComponent(t.serial)}/keys?orphans=true`)).items;
    } catch {
      t.keys = [];
    }
  }));
  if (!current()) return;
  const state = { mode, target, source: "csr", algorithm: null, pfxProfile: "modern", addCn: true, revokePrevious: false,
                  token: tokens.items.length ? tokens.items[0].label : "" };
  if (target) {
    state.profile = profiles.items.find((p) => qualified(p) === target.profile) || null;
    main.append(h("p", { class: "muted" }, `A new key for ${target.common_name || target.serial}: same subject, names and RA profile (${target.profile || "none"}). `,
                  h("a", { href: `/certificates/${fingerprintId(target.fingerprint_sha256)}` }, "Back to the certificate")));
  } else {
    main.append(h("p", { class: "muted" }, "Through an RA profile, from a CSR, a key already on a token or a key generated here. Every request becomes an order."));
  }
  const stepper = h("ol", { class: "steps", "aria-label": "Steps" });
  const error = h("div", { class: "notice notice-error", role: "alert", id: "step-error", hidden: true });
  const body = h("div", { class: "wizard-body" });
  main.append(stepper, error, body);
  let index = 0;

  function show() {
    const steps = stepsOf(state);
    const name = steps[index];
    stepper.replaceChildren(...steps.map((s, i) => h("li", { class: i < index ? "done" : i === index ? "current" : "",
                                                             "aria-current": i === index ? "step" : null },
                                                     h("span", { class: "step-number" }, String(i + 1)), STEP_NAMES[s])));
    error.hidden = true;
    let step;
    if (name === "profile") step = profileStep(state, profiles.items);
    else if (name === "key") step = keyStep(state, tokens.items, mode);
    else if (name === "subject") step = subjectStep(state);
    else step = { form: h("form", { class: "wizard-step", novalidate: true }, h("h2", null, "Review"), review(state)), check: () => null };
    const back = h("button", { type: "button", class: "button", id: "wizard-back", disabled: index === 0 }, "← Back");
    const next = h("button", { type: "submit", class: "button button-primary", id: name === "review" ? "request-submit" : "wizard-next" },
                   name === "review" ? (mode === "issue" ? "Submit request" : TITLES[mode].replace(" a certificate", "")) : "Next →");
    step.form.append(h("div", { class: "wizard-actions" }, back, next));
    back.addEventListener("click", () => { index -= 1; show(); });
    step.form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const problem = step.check();
      if (problem) {
        error.replaceChildren(problem.message);
        error.hidden = false;
        if (problem.field) problem.field.focus();
        return;
      }
      if (name !== "review") {
        index += 1;
        show();
        return;
      }
      next.disabled = back.disabled = true;
      next.textContent = "Submitting…";
      try {
        const path = mode === "issue" ? "/api/v1/certificates"
                                      : `/api/v1/certificates/${fingerprintId(target.fingerprint_sha256)}/${mode}`;
        const result = await api.post(path, requestBody(state));
        if (!current()) return;
        state.csr = null;
        resultView(context, state, result);
      } catch (failure) {
        if (!current() || failure.status === 401) return;
        next.disabled = back.disabled = false;
        next.textContent = "Submit again";
        error.replaceChildren(h("strong", null, "The appliance refused the request: "), failure.message);
        error.hidden = false;
        error.focus();
        // A refusal after the order was recorded (a profile's rule) names the failed order.
        const orderId = failure.details && failure.details.order_id;
        if (orderId) {
          error.append(" ", h("a", { href: `/orders/${orderId}`, id: "failed-order" }, `See order #${orderId}`),
                       " (it can be resubmitted once the cause is fixed).");
        }
      }
    });
    body.replaceChildren(step.form);
    if (step.focus) step.focus.focus();
    else title.focus();
  }
  error.setAttribute("tabindex", "-1");
  // What the step said was wrong goes away as soon as the operator changes something.
  body.addEventListener("input", () => {
    error.hidden = true;
  });
  show();
}
