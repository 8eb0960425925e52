// The card enrollment wizard (/cards/enroll): RA profile -> the holder's identity (name,
// organization, e-mail and UPN SANs) -> the card (waits, by polling GET /api/v1/cards/readers,
// until a card is inserted) and the key algorithms both the profile and the card allow
// (GET /api/v1/cards/algorithms) -> the card's PIN, checked at once (POST
// /api/v1/cards/pin/verify: a wrong PIN says how many tries are left, a locked card says so) ->
// the enrollment job (POST /api/v1/cards/enrollments, then GET /api/v1/cards/jobs/{id} every
// second: waiting for the card, generating the key on the card, issuing, writing; Cancel sends
// DELETE) -> the result with the certificate, or the failure (a card removed during the job
// fails it cleanly and says so). A card whose type needs the PIV management key to change it
// (ykcs11: needs_management_key in the readers' reply) gets a management-key field beside the
// PIN, and a PIV card (key_slots) a choice of key slot. The PIN and the management key live in
// their form fields until they are sent, then the fields are cleared; they are never stored or
// shown.
import * as api from "../api.js";
import { errorBox, fingerprintId, h } from "../dom.js";
import { profileStep, qualified } from "../request_steps.js";
import { pinFlags } from "./cards.js";

const STEPS = ["RA profile", "Holder", "Card and key", "PIN", "Enrollment"];
const STATE_TEXT = {
  waiting_for_card: "Waiting for the card…",
  opening: "Opening the card…",
  generating: "Generating the key pair on the card (this can take minutes)…",
  issuing: "Issuing the certificate…",
  writing: "Writing the certificate onto the card…",
  done: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
};

// What a refused card PIN means for the holder, with the PIN counters the API sent back.
function pinProblem(failure) {
  const token = (failure.details && failure.details.token) || {};
  if (failure.code === "pin_locked" || token.user_pin_locked) {
    return "The card's PIN is locked after too many wrong attempts. Unblock it with the PUK " +
           "(signet card pin unblock on the appliance), then enroll again.";
  }
  if (failure.code === "pin_incorrect") {
    if (token.user_pin_final_try) return "Wrong PIN. One try is left: a further wrong PIN locks the card.";
    if (token.user_pin_count_low) return "Wrong PIN. Few tries are left before the card locks.";
    return "Wrong PIN. The card counts failed attempts and locks after too many.";
  }
  return failure.message;
}

function field(id, label, control, help) {
  return h("div", { class: "field" }, h("label", { for: id }, label), control,
           help ? h("p", { class: "muted small", id: `${id}-help` }, help) : null);
}

function holderStep(state) {
  const cn = h("input", { id: "holder-cn", type: "text", value: state.cn || "", autocomplete: "off" });
  const org = h("input", { id: "holder-o", type: "text", value: state.org || "", autocomplete: "off" });
  const email = h("input", { id: "holder-email", type: "text", value: state.email || "", autocomplete: "off", spellcheck: "false" });
  const upn = h("input", { id: "holder-upn", type: "text", value: state.upn || "", autocomplete: "off", spellcheck: "false" });
  const form = h("form", { class: "wizard-step", novalidate: true },
    h("fieldset", null, h("legend", null, "The card holder"),
      field("holder-cn", "Name (CN)", cn), field("holder-o", "Organization (O)", org, "Optional."),
      field("holder-email", "E-mail address (SAN)", email, "Optional; as the RA profile allows."),
      field("holder-upn", "User principal name (SAN)", upn, "Optional, e.g. ada@corp.example for Windows smart-card logon.")));
  return { form, focus: cn, check: () => {
    state.cn = cn.value.trim();
    state.org = org.value.trim();
    state.email = email.value.trim();
    state.upn = upn.value.trim();
    if (!state.cn) return { message: "Enter the holder's name.", field: cn };
    if (state.email && !/^[^@\s]+@[^@\s]+$/.test(state.email)) return { message: "The e-mail address is not one.", field: email };
    if (state.upn && !/^[^@\s]+@[^@\s]+$/.test(state.upn)) return { message: "A UPN looks like user@realm.", field: upn };
    return null;
  } };
}

function cardStep(state, context) {
  const status = h("div", { id: "card-status", role: "status", class: "notice notice-info" }, "Looking for a card…");
  const algorithms = h("div", { id: "card-algorithms" });
  const form = h("form", { class: "wizard-step", novalidate: true },
    h("fieldset", null, h("legend", null, "Insert the holder's card"), status, algorithms));
  let stopped = false;
  let shownFor = null;
  async function poll() {
    while (!stopped && context.current()) {
      try {
        const readers = (await api.get("/api/v1/cards/readers")).items;
        const withCard = readers.filter((r) => r.card_present && r.card);
        if (!withCard.length) {
          state.reader = null;
          shownFor = null;
          status.className = "notice notice-info";
          status.replaceChildren("Insert the card into a reader (", readers.map((r) => r.name).join(", ") || "none attached", ").");
          algorithms.replaceChildren();
        } else {
          const reader = withCard.find((r) => r.name === state.reader) || withCard[0];
          state.reader = reader.name;
          state.card = reader.card;
          status.className = "notice notice-success";
          status.replaceChildren(h("strong", null, `Card in ${reader.name}: `),
                                 `${reader.card.token.label} (serial ${reader.card.token.serial}) `,
                                 h("span", null, pinFlags(reader.card.token)));
          const key = `${reader.name}/${reader.card.token.serial}`;
          if (shownFor !== key) {
            shownFor = key;
            const offered = await api.get(api.withQuery("/api/v1/cards/algorithms", { profile: qualified(state.profile), reader: reader.name }));
            if (!offered.algorithms.includes(state.algorithm)) state.algorithm = offered.algorithms[0];
            algorithms.replaceChildren(h("p", null, "Key algorithms both the RA profile and the card allow:"),
              h("div", { class: "choices" }, offered.algorithms.map((a) => h("label", { class: "choice", for: `card-alg-${a}` },
                h("input", { type: "radio", name: "card-algorithm", id: `card-alg-${a}`, value: a, checked: a === state.algorithm,
                             onchange: () => { state.algorithm = a; } }),
                h("span", { class: "choice-text" }, h("strong", null, a))))));
          }
        }
      } catch (failure) {
        if (failure.status === 401) return;
        shownFor = null;
        status.className = "notice notice-error";
        status.replaceChildren(failure.message);
      }
      await new Promise((resolve) => setTimeout(resolve, 1500));
    }
  }
  poll();
  return { form, stop: () => { stopped = true; }, check: () => {
    if (!state.reader) return { message: "Insert the card first." };
    if (!state.algorithm) return { message: "Choose a key algorithm." };
    return null;
  } };
}

function pinStep(state) {
  const pin = h("input", { id: "card-pin", type: "password", autocomplete: "off", spellcheck: "false", "aria-describedby": "card-pin-help" });
  const needsKey = Boolean(state.card.needs_management_key);
  const managementKey = needsKey ? h("input", { id: "card-management-key", type: "password", autocomplete: "off", spellcheck: "false", "aria-describedby": "card-management-key-help" }) : null;
  const slots = state.card.key_slots || [];
  if (!slots.includes(state.slot)) state.slot = slots[0] || null;
  const slot = slots.length ? h("select", { id: "card-slot", onchange: (event) => { state.slot = event.target.value; } },
    slots.map((name) => h("option", { value: name, selected: name === state.slot }, name))) : null;
  const form = h("form", { class: "wizard-step", novalidate: true },
    h("fieldset", null, h("legend", null, "The card's PIN"),
      h("p", null, `Card ${state.card.token.label} in ${state.reader}. `, pinFlags(state.card.token)),
      state.card.token.user_pin_final_try ? h("p", { class: "notice notice-warning" }, "The card reports one try left.") : null,
      field("card-pin", "Card PIN", pin, "The holder types it; sent once to the appliance, never stored or shown."),
      needsKey ? field("card-management-key", "PIV management key (hex)", managementKey,
                       `Cards of type ${state.card.type} generate keys and store certificates only under the card's management key (32, 48 or 64 hex digits); sent once, never stored or shown.`) : null,
      slot ? field("card-slot", "Key slot", slot, "The PIV slot the key pair is generated in (9a: PIV Authentication).") : null,
      h("p", { class: "muted small" }, `The key pair (${state.algorithm}) is generated on the card, the certificate issued by ${qualified(state.profile)} and written onto the card.`)));
  return { form, focus: pin, pin, managementKey, check: () => {
    if (!pin.value) return { message: "Enter the card's PIN.", field: pin };
    if (managementKey && !/^([0-9a-fA-F]{32}|[0-9a-fA-F]{48}|[0-9a-fA-F]{64})$/.test(managementKey.value)) {
      return { message: "Enter the card's PIV management key: 32, 48 or 64 hex digits.", field: managementKey };
    }
    return null;
  } };
}

function resultView(job) {
  const r = job.result;
  const c = r.certificate;
  const download = h("a", { class: "button", id: "card-cert-download", download: `${c.common_name || c.serial}.crt`,
                            href: URL.createObjectURL(new Blob([r.pem], { type: "application/x-pem-file" })) }, "Download certificate (PEM)");
  return h("section", { class: "card result", id: "card-result", "aria-labelledby": "card-result-title" },
    h("h2", { id: "card-result-title" }, "Certificate issued and written onto the card"),
    h("dl", { class: "facts" },
      h("dt", null, "Certificate"), h("dd", null, h("a", { href: `/certificates/${fingerprintId(c.fingerprint_sha256)}`, id: "card-result-certificate" }, c.common_name || c.serial)),
      h("dt", null, "Serial"), h("dd", null, h("code", { id: "card-result-serial" }, c.serial)),
      h("dt", null, "Order"), h("dd", null, h("a", { href: `/orders/${job.order_id}`, id: "card-result-order" }, `#${job.order_id}`)),
      h("dt", null, "Key on card"), h("dd", null, h("code", { class: "uri" }, r.key_uri)),
      h("dt", null, "Written"), h("dd", null, r.objects_written.join(", ") || "—")),
    r.warnings.concat(r.order_warnings || []).map((w) => h("p", { class: "notice notice-warning" }, w)),
    h("pre", { class: "pem", id: "card-result-pem" }, r.pem), download);
}

function progressView(context, job, onCancel) {
  const final = job.final;
  const lines = h("ol", { class: "progress-lines", id: "card-progress" }, job.progress.map((p) => h("li", null, h("span", { class: "muted small" }, p.step), " ", p.message)));
  const cancel = final ? null : h("button", { type: "button", class: "button", id: "card-cancel", onclick: onCancel }, "Cancel");
  let outcome = null;
  if (job.state === "failed" || job.state === "cancelled") {
    const removed = /removed/.test(job.error.message);
    const title = job.state === "cancelled" ? "The enrollment was cancelled" : removed ? "The card was removed: the enrollment failed" : "The enrollment failed";
    outcome = errorBox(job.error.code === "pin_incorrect" || job.error.code === "pin_locked" ? pinProblem({ code: job.error.code, details: job.error, message: job.error.message }) : job.error.message, title);
    outcome.id = "card-failure";
    outcome.append(h("p", null, "Nothing was kept on the card. ",
      job.order_id ? h("a", { href: `/orders/${job.order_id}`, id: "card-failed-order" }, `See order #${job.order_id}`) : null));
  }
  return h("section", { class: "wizard-step", id: "card-job", "data-state": job.state, "aria-live": "polite" },
    h("h2", null, `Card job #${job.id}: `, h("span", { id: "card-job-state" }, STATE_TEXT[job.state] || job.state)),
    job.order_id ? h("p", null, "Order ", h("a", { href: `/orders/${job.order_id}` }, `#${job.order_id}`)) : null,
    lines, outcome, job.state === "done" ? resultView(job) : null,
    h("div", { class: "wizard-actions" }, cancel, final ? h("a", { href: "/cards", class: "button", id: "card-back" }, "Back to smart cards") : null));
}

export async function render(context) {
  const { main, session, current } = context;
  const title = h("h1", null, "Enroll a card holder");
  main.append(title);
  if (!session.mayOperate()) {
    main.append(errorBox("Your role reads only: administrators and RA officers enroll card holders.", "Not offered to your role"));
    return;
  }
  const profiles = await api.get("/api/v1/profiles");
  if (!current()) return;
  main.append(h("p", { class: "muted" }, "The key pair is generated on the holder's smart card; the certificate is issued through an RA profile and written back onto the card."));
  const state = { profile: null, reader: null, algorithm: null };
  const stepper = h("ol", { class: "steps", "aria-label": "Steps" });
  const error = h("div", { class: "notice notice-error", role: "alert", id: "step-error", hidden: true, tabindex: "-1" });
  const body = h("div", { class: "wizard-body" });
  main.append(stepper, error, body);
  let index = 0;
  let step = null;

  function markSteps() {
    stepper.replaceChildren(...STEPS.map((s, i) => h("li", { class: i < index ? "done" : i === index ? "current" : "", "aria-current": i === index ? "step" : null },
                                                    h("span", { class: "step-number" }, String(i + 1)), s)));
  }

  async function follow(jobId) {
    let cancelling = false;
    const cancel = async () => {
      cancelling = true;
      try {
        await api.del(`/api/v1/cards/jobs/${jobId}`);
      } catch (failure) {
        error.replaceChildren(failure.message);
        error.hidden = false;
      }
    };
    for (;;) {
      if (!current()) return;
      const job = await api.get(`/api/v1/cards/jobs/${jobId}`);
      if (!current()) return;
      body.replaceChildren(progressView(context, job, cancel));
      if (cancelling) body.querySelector("#card-cancel")?.setAttribute("disabled", "");
      if (job.final) return;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  async function enroll(pinField, keyField, next) {
    const typed = pinField.value;
    pinField.value = "";
    const managementKey = keyField ? keyField.value : null;
    if (keyField) keyField.value = "";
    next.disabled = true;
    next.textContent = "Checking the PIN…";
    try {
      await api.post("/api/v1/cards/pin/verify", { reader: state.reader, pin: typed });
      const sans = [];
      if (state.email) sans.push(`email:${state.email}`);
      if (state.upn) sans.push(`UPN:${state.upn}`);
      const subject = [`CN=${state.cn}`, state.org ? `O=${state.org}` : null].filter(Boolean).join(",");
      const request = { profile: qualified(state.profile), key: state.algorithm, subject, sans, reader: state.reader, pin: typed };
      if (managementKey) request.management_key = managementKey;
      if (state.slot) request.slot = state.slot;
      const job = await api.post("/api/v1/cards/enrollments", request);
      index = 4;
      markSteps();
      await follow(job.id);
    } catch (failure) {
      if (!current() || failure.status === 401) return;
      next.disabled = false;
      next.textContent = "Enroll";
      error.replaceChildren(pinProblem(failure));
      error.hidden = false;
      pinField.focus();
    }
  }

  function show() {
    if (step && step.stop) step.stop();
    markSteps();
    error.hidden = true;
    if (index === 0) step = profileStep(state, profiles.items);
    else if (index === 1) step = holderStep(state);
    else if (index === 2) step = cardStep(state, context);
    else step = pinStep(state);
    const back = h("button", { type: "button", class: "button", id: "wizard-back", disabled: index === 0 }, "← Back");
    const next = h("button", { type: "submit", class: "button button-primary", id: index === 3 ? "card-enroll" : "wizard-next" }, index === 3 ? "Enroll" : "Next →");
    step.form.append(h("div", { class: "wizard-actions" }, back, next));
    back.addEventListener("click", () => { index -= 1; show(); });
    step.form.addEventListener("submit", (event) => {
      event.preventDefault();
      const problem = step.check();
      if (problem) {
        error.replaceChildren(problem.message);
        error.hidden = false;
        if (problem.field) problem.field.focus();
        return;
      }
      if (index === 3) {
        enroll(step.pin, step.managementKey, next);
        return;
      }
      index += 1;
      show();
    });
    body.replaceChildren(step.form);
    if (step.focus) step.focus.focus();
  }
  show();
}
