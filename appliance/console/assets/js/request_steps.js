// The steps of the request wizard (pages/request.js), one builder each. A step returns
// {form, focus, check}: `check()` validates what the operator entered into `state` and
// returns null or {message, field}. Nothing here talks to the API.
import { csrProblem } from "./csr.js";
import { h } from "./dom.js";

export const ALL_ALGORITHMS = ["ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096", "ed25519"];
export const SOURCES = {
  csr: "Paste or upload a CSR",
  token_key: "An existing key on a token",
  key_on_token: "Generate the key pair on a token",
  local_key: "Local key, delivered as a PFX",
};

export const qualified = (p) => (p.ca ? `${p.ca}/${p.name}` : p.name);

export function algorithmsOf(profile) {
  const allowed = profile && profile.key_algorithms ? profile.key_algorithms.allowed : [];
  return allowed && allowed.length ? allowed : ALL_ALGORITHMS;
}

function field(id, label, control, help) {
  return h("div", { class: "field" }, h("label", { for: id }, label), control,
           help ? h("p", { id: `${id}-help`, class: "muted small" }, help) : null);
}

function choice(name, value, checked, title, details, disabled = false, extra = {}) {
  const id = `${name}-${value}`.replace(/[^A-Za-z0-9_-]/g, "-");
  const input = h("input", { type: "radio", name, value, id, checked, disabled, ...extra });
  return { input, element: h("label", { class: `choice${disabled ? " choice-disabled" : ""}`, for: id }, input,
                              h("span", { class: "choice-text" }, h("strong", null, title),
                                details.filter(Boolean).map((d) => h("span", { class: "muted small" }, d)))) };
}

export function profileStep(state, profiles) {
  const choices = profiles.map((p) => {
    const validity = p.validity ? `${p.validity.default_days} days by default, at most ${p.validity.max_days}` : null;
    const suffixes = p.sans && p.sans.dns_suffixes.length ? `DNS names under ${p.sans.dns_suffixes.join(", ")}` : null;
    return choice("profile", qualified(p), state.profile === p, qualified(p),
                  [p.description, `Keys: ${algorithmsOf(p).join(", ")} · ${validity}`, suffixes,
                   p.enabled ? null : "Disabled: it refuses every request."],
                  !p.enabled, { "data-profile": qualified(p) });
  });
  const form = h("form", { class: "wizard-step", novalidate: true },
                 h("fieldset", null, h("legend", null, "RA profile"),
                   choices.length ? h("div", { class: "choices" }, choices.map((c) => c.element))
                                  : h("p", { class: "empty" }, "No RA profile exists yet. An administrator creates them (signet profile create).")));
  const check = () => {
    const picked = choices.find((c) => c.input.checked);
    if (!picked) return { message: "Choose the RA profile to request the certificate through.", field: choices[0] && choices[0].input };
    state.profile = profiles.find((p) => qualified(p) === picked.input.value);
    if (!algorithmsOf(state.profile).includes(state.algorithm)) state.algorithm = algorithmsOf(state.profile)[0];
    return null;
  };
  const focus = (choices.find((c) => c.input.checked) || choices.find((c) => !c.input.disabled) || {}).input;
  return { form, focus, check };
}

export function keyStep(state, tokens, mode) {
  const sources = Object.entries(SOURCES).map(([value, title]) =>
    choice("key-source", value, state.source === value, title, [{
      csr: "The key stays where the CSR was made. The CSR brings its own subject and names.",
      token_key: "A key pair already on an HSM token that no CA or certificate uses yet.",
      key_on_token: "A new key pair on an HSM token; the private key never leaves it.",
      local_key: "A new software key, kept wrapped by the appliance's token; you download it once as a password-protected PFX.",
    }[value]]));
  // CSR
  const csrText = h("textarea", { id: "csr-text", rows: "8", spellcheck: "false", class: "mono",
                                  placeholder: "-----BEGIN CERTIFICATE REQUEST-----", "aria-describedby": "csr-problem" });
  csrText.value = state.csr || "";
  const csrFile = h("input", { id: "csr-file", type: "file", accept: ".csr,.pem,.req,.txt" });
  const csrProblemBox = h("p", { id: "csr-problem", class: "field-error", role: "alert", hidden: true });
  const showCsrProblem = () => {
    const problem = csrText.value.trim() ? csrProblem(csrText.value) : null;
    csrProblemBox.textContent = problem || "";
    csrProblemBox.hidden = !problem;
    csrText.setAttribute("aria-invalid", problem ? "true" : "false");
  };
  csrText.addEventListener("input", showCsrProblem);
  csrFile.addEventListener("change", async () => {
    const file = csrFile.files[0];
    if (!file) return;
    csrText.value = file.size > 65536 ? "" : await file.text();
    if (file.size > 65536) {
      csrProblemBox.textContent = `${file.name} is too large for a CSR.`;
      csrProblemBox.hidden = false;
      return;
    }
    showCsrProblem();
  });
  // Token and algorithm
  const usable = tokens.filter((t) => t.state === "ready");
  const token = h("select", { id: "token" }, usable.map((t) =>
    h("option", { value: t.label, selected: t.label === state.token }, `${t.label} (serial ${t.serial})`)));
  const algorithms = algorithmsOf(state.profile);
  const algorithm = h("select", { id: "algorithm", "aria-describedby": "algorithm-help" }, algorithms.map((a) =>
    h("option", { value: a, selected: a === state.algorithm }, a)));
  const pfxProfile = h("select", { id: "pfx-profile" },
                       h("option", { value: "modern", selected: state.pfxProfile !== "compat" }, "modern (AES-256, PBKDF2, SHA-256 MAC)"),
                       h("option", { value: "compat", selected: state.pfxProfile === "compat" }, "compat (3DES, SHA-1 MAC: old Windows and Java)"));
  // Existing keys: those on logged-in tokens that nothing references (tokens[].keys, loaded by
  // the page).
  const withKeys = tokens.filter((t) => t.keys && t.keys.length);
  const existingKey = h("select", { id: "existing-key" }, withKeys.map((t) =>
    h("optgroup", { label: `${t.label} (serial ${t.serial})` }, t.keys.map((k) =>
      h("option", { value: k.uri, selected: k.uri === state.keyUri, "data-token": t.label },
        `${k.label || "(no label)"} · ${k.algorithm || k.key_type} · id ${k.id}`)))));
  const algorithmField = field("algorithm", "Key algorithm", algorithm,
                               state.profile ? `Allowed by ${qualified(state.profile)}.` : null);
  const panels = {
    csr: h("div", { class: "source-panel", id: "panel-csr" },
           field("csr-text", "Certificate signing request (PEM)", csrText), csrProblemBox,
           field("csr-file", "…or upload a CSR file", csrFile)),
    token_key: h("div", { class: "source-panel", id: "panel-token_key" },
                 withKeys.length ? field("existing-key", "Key", existingKey,
                                         "Unused key pairs on tokens signetd is logged in to. The key must be one the profile allows.")
                                 : h("p", { class: "notice notice-warning", id: "no-existing-key" },
                                     "No unused key pair on a logged-in token. Generate one on a token instead, or log in to the token on the Tokens page.")),
    key_on_token: h("div", { class: "source-panel", id: "panel-key_on_token" },
                    usable.length ? field("token", "Token", token, "Tokens whose user PIN is ready.")
                                  : h("p", { class: "notice notice-warning" }, "No token is ready."),
                    algorithmField),
    local_key: h("div", { class: "source-panel", id: "panel-local_key" },
                 field("pfx-profile", "PFX encryption", pfxProfile)),
  };
  const days = h("input", { id: "validity-days", type: "number", min: "1", max: "36500", inputmode: "numeric",
                            value: state.validityDays || "", placeholder: "the RA profile's" });
  const revoke = h("input", { id: "revoke-previous", type: "checkbox", checked: state.revokePrevious });
  const update = () => {
    const selected = sources.find((s) => s.input.checked);
    for (const [value, panel] of Object.entries(panels)) panel.hidden = !selected || selected.input.value !== value;
    // The algorithm applies to both generated kinds: it moves to the panel shown.
    if (selected && selected.input.value === "local_key") panels.local_key.prepend(algorithmField);
    else panels.key_on_token.append(algorithmField);
  };
  for (const s of sources) s.input.addEventListener("change", update);
  const form = h("form", { class: "wizard-step", novalidate: true },
                 h("fieldset", null, h("legend", null, "Key source"),
                   h("div", { class: "choices" }, sources.map((s) => s.element))),
                 Object.values(panels),
                 field("validity-days", "Validity in days (optional)", days,
                       state.profile ? `Empty: ${state.profile.validity.default_days} days (the profile's); at most ${state.profile.validity.max_days}.`
                                     : "Empty: the RA profile's."),
                 mode !== "issue" ? h("div", { class: "field field-check" }, revoke,
                                      h("label", { for: "revoke-previous" }, "Revoke the current certificate (superseded) once the new one is issued")) : null);
  update();
  const check = () => {
    const selected = sources.find((s) => s.input.checked);
    if (!selected) return { message: "Choose where the key comes from.", field: sources[0].input };
    state.source = selected.input.value;
    if (state.source === "csr") {
      const problem = csrProblem(csrText.value);
      if (problem) return { message: problem, field: csrText };
      state.csr = csrText.value.trim() + "\n";
    } else if (state.source === "key_on_token" && !usable.length) {
      return { message: "No token is ready to generate the key.", field: selected.input };
    } else if (state.source === "token_key") {
      if (!withKeys.length) return { message: "No unused key pair is on a logged-in token.", field: selected.input };
      state.keyUri = existingKey.value;
      const option = existingKey.selectedOptions[0];
      state.keyLabel = option ? option.textContent : existingKey.value;
    }
    state.token = token.value;
    state.algorithm = algorithm.value;
    state.pfxProfile = pfxProfile.value;
    state.revokePrevious = revoke.checked;
    state.validityDays = "";
    if (days.value.trim()) {
      const n = Number(days.value);
      const max = state.profile ? state.profile.validity.max_days : 36500;
      if (!Number.isInteger(n) || n < 1 || n > max) {
        return { message: `The validity must be a whole number of days from 1 to ${max}.`, field: days };
      }
      state.validityDays = n;
    }
    return null;
  };
  return { form, focus: (sources.find((s) => s.input.checked) || sources[0]).input, check };
}

// "www.example.com" -> "DNS:www.example.com", "192.0.2.1" -> "IP:192.0.2.1", "a@b" -> "email:a@b".
export function sanOf(text) {
  const value = text.trim();
  if (/^(DNS|IP|email|URI):/i.test(value)) return value.replace(/^([a-z]+):/i, (m, t) => `${{ dns: "DNS", ip: "IP", email: "email", uri: "URI" }[t.toLowerCase()]}:`);
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(value) || /^[0-9a-f:]+:[0-9a-f:]*$/i.test(value)) return `IP:${value}`;
  if (value.includes("@")) return `email:${value}`;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return `URI:${value}`;
  return `DNS:${value}`;
}

const DN_SPECIAL = /[,+="\\<>;#]/;

export function subjectStep(state) {
  const cn = h("input", { id: "subject-cn", type: "text", value: state.cn || "", spellcheck: "false", autocomplete: "off" });
  const org = h("input", { id: "subject-o", type: "text", value: state.org || "", autocomplete: "off" });
  const sans = h("textarea", { id: "subject-sans", rows: "4", spellcheck: "false", class: "mono",
                               placeholder: "www.example.com\napi.example.com\n192.0.2.10" });
  sans.value = (state.extraSans || []).join("\n");
  const addCn = h("input", { id: "san-cn", type: "checkbox", checked: state.addCn !== false });
  const p = state.profile;
  const rules = [];
  if (p && p.subject.required.length) rules.push(`Required subject attributes: ${p.subject.required.join(", ")}.`);
  if (p && p.sans.dns_suffixes.length) rules.push(`DNS names must end in ${p.sans.dns_suffixes.join(", ")}.`);
  if (p && !p.sans.allow_ip) rules.push("No IP addresses.");
  const form = h("form", { class: "wizard-step", novalidate: true },
                 h("fieldset", null, h("legend", null, "Subject and names"),
                   rules.length ? h("p", { class: "muted small", id: "subject-rules" }, rules.join(" ")) : null,
                   field("subject-cn", "Common name (CN)", cn),
                   field("subject-o", "Organization (O, optional)", org),
                   h("div", { class: "field field-check" }, addCn,
                     h("label", { for: "san-cn" }, "Add the common name as a DNS name")),
                   field("subject-sans", "More subject alternative names (one a line)", sans,
                         "A host name, an IP address, an e-mail address or a URI; or prefix DNS:, IP:, email:, URI:.")));
  const check = () => {
    const names = sans.value.split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
    if (!cn.value.trim() && !names.length) return { message: "Give a common name or at least one subject alternative name.", field: cn };
    for (const [input, label] of [[cn, "common name"], [org, "organization"]]) {
      if (DN_SPECIAL.test(input.value)) {
        return { message: `The ${label} may not contain , + = " \\ < > ; or #.`, field: input };
      }
    }
    state.cn = cn.value.trim();
    state.org = org.value.trim();
    state.extraSans = names;
    state.addCn = addCn.checked;
    return null;
  };
  return { form, focus: cn, check };
}

// The request's subject DN and SANs from the subject step's fields.
export function subjectOf(state) {
  const parts = [];
  if (state.cn) parts.push(`CN=${state.cn}`);
  if (state.org) parts.push(`O=${state.org}`);
  const sans = [];
  if (state.cn && state.addCn) sans.push(`DNS:${state.cn}`);
  for (const name of state.extraSans || []) {
    const san = sanOf(name);
    if (!sans.includes(san)) sans.push(san);
  }
  return { subject: parts.join(","), sans };
}
