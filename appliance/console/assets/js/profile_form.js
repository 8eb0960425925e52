// The RA profile form, for a new profile and for a new version of one: every rule with its
// hard-/soft-fail mode, what issued certificates carry, checks made in the page before sending
// (each problem shown under its field), and the API's own problems ("validity.max_days must
// be ...; sans.max_count ...") put under the fields they name.
import { h } from "./dom.js";
import { ALGORITHMS, EXTENDED_KEY_USAGES, KEY_USAGES } from "./profile_rules.js";

const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const OID = /^[0-2](\.\d+)+$/;
const MAX_DAYS = 36500;

// The API's words for a field -> the element that shows it; most specific first.
const FIELD_OF_PROBLEM = [
  ["validity.default_days", "validity-default_days"],
  ["validity.max_days", "validity-max_days"],
  ["validity", "validity-default_days"],
  ["extended_key_usage", "eku-other"],
  ["key_usage", "ku-group"],
  ["key_algorithms", "alg-group"],
  ["subject.required", "subject-required"],
  ["subject.allowed", "subject-allowed"],
  ["subject.fixed", "subject-fixed"],
  ["sans.max_count", "sans-max_count"],
  ["sans.dns_suffixes", "sans-dns_suffixes"],
  ["description", "profile-description"],
  ["profile name", "profile-name"],
  ["\"name\"", "profile-name"],
  ["the CA", "profile-ca"],
];

const list = (text) => text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
const lines = (text) => text.split("\n").map((s) => s.trim()).filter(Boolean);

// A labelled control with its error line; `control` gets aria-describedby.
function field(id, label, control, help) {
  const error = h("p", { class: "field-error", id: `${id}-error`, role: "alert", hidden: true });
  const described = [help ? `${id}-help` : null, `${id}-error`].filter(Boolean).join(" ");
  control.setAttribute("aria-describedby", described);
  return h("div", { class: "field" }, h("label", { for: id }, label), control,
           help ? h("p", { class: "muted small help", id: `${id}-help` }, help) : null, error);
}

function input(id, value, attrs = {}) {
  return h("input", { id, name: id, type: "text", value: value ?? "", spellcheck: "false", ...attrs });
}

function checkboxes(prefix, names, checked, legend, help) {
  const error = h("p", { class: "field-error", id: `${prefix}-group-error`, role: "alert", hidden: true });
  return h("fieldset", { class: "checks-group", id: `${prefix}-group`, "aria-describedby": `${prefix}-group-error` },
    h("legend", null, legend),
    help ? h("p", { class: "muted small help" }, help) : null,
    h("div", { class: "check-list" }, names.map((name) =>
      h("label", { class: "check", for: `${prefix}-${name}` },
        h("input", { type: "checkbox", id: `${prefix}-${name}`, value: name, checked: checked.includes(name) }), name))),
    error);
}

function modeSelect(rule, mode) {
  const select = h("select", { id: `mode-${rule}`, name: `mode-${rule}` },
                   h("option", { value: "hard", selected: mode !== "soft" }, "Hard-fail: refuse the request"),
                   h("option", { value: "soft", selected: mode === "soft" }, "Soft-fail: issue with a warning"));
  return field(`mode-${rule}`, "When a request breaks this rule", select);
}

function ruleCard(title, rule, mode, ...content) {
  return h("fieldset", { class: "card rule-card", id: `rule-${rule || "contents"}` },
           h("legend", { class: "rule-legend" }, title), content, rule ? modeSelect(rule, mode) : null);
}

// Builds the form's sections for `profile` (a profile as the API gives it). `cas`: the CA names
// to choose from when `creating`.
export function profileSections(profile, { creating, cas }) {
  const p = profile;
  const general = h("fieldset", { class: "card rule-card", id: "rule-general" },
    h("legend", { class: "rule-legend" }, "Profile"),
    creating ? h("div", { class: "field-row" },
      field("profile-name", "Name", input("profile-name", p.name, { required: true, autocomplete: "off" }),
            "Letters, digits, '.', '_' and '-'; it cannot change later."),
      field("profile-ca", "CA", h("select", { id: "profile-ca", name: "profile-ca" },
                                  cas.map((name) => h("option", { value: name, selected: name === p.ca }, name))),
            "The CA that issues under it.")) : null,
    field("profile-description", "Description", input("profile-description", p.description, { maxlength: "1024" })));
  const keys = ruleCard("Key algorithms", "key_algorithms", p.key_algorithms.mode,
    checkboxes("alg", ALGORITHMS, p.key_algorithms.allowed, "Allowed subject keys",
               "None ticked: every key Signet accepts."));
  const validity = ruleCard("Validity", "validity", p.validity.mode,
    h("div", { class: "field-row" },
      field("validity-default_days", "Default (days)", input("validity-default_days", p.validity.default_days,
                                                             { type: "number", min: "1", max: String(MAX_DAYS), inputmode: "numeric" }),
            "When a request names none."),
      field("validity-max_days", "Maximum (days)", input("validity-max_days", p.validity.max_days,
                                                         { type: "number", min: "1", max: String(MAX_DAYS), inputmode: "numeric" }),
            "A longer request breaks the rule.")));
  const fixed = Object.entries(p.subject.fixed || {}).map(([type, value]) => `${type}=${value}`).join("\n");
  const subject = ruleCard("Subject", "subject", p.subject.mode,
    h("div", { class: "field-row" },
      field("subject-required", "Required attributes", input("subject-required", p.subject.required.join(", ")),
            "Comma separated: CN, O, OU, C..."),
      field("subject-allowed", "Allowed attributes", input("subject-allowed", p.subject.allowed.join(", ")),
            "Empty: any.")),
    field("subject-fixed", "Fixed values", h("textarea", { id: "subject-fixed", rows: "2", class: "mono", spellcheck: "false" }, fixed),
          "One TYPE=VALUE a line (O=Example): set whatever was asked."));
  const sans = ruleCard("Subject alternative names", "sans", p.sans.mode,
    field("sans-dns_suffixes", "DNS suffixes", h("textarea", { id: "sans-dns_suffixes", rows: "2", class: "mono", spellcheck: "false" },
                                                 p.sans.dns_suffixes.join("\n")),
          "One a line: names must equal or end in one of them. Empty: any DNS name."),
    h("div", { class: "check-list" },
      [["allow_ip", "IP addresses"], ["allow_email", "E-mail addresses"], ["allow_uri", "URIs"]].map(([key, label]) =>
        h("label", { class: "check", for: `sans-${key}` },
          h("input", { type: "checkbox", id: `sans-${key}`, checked: p.sans[key] }), label))),
    field("sans-upn_realms", "UPN realms", h("textarea", { id: "sans-upn_realms", rows: "1", class: "mono", spellcheck: "false" },
                                             (p.sans.upn_realms || []).join("\n")),
          "One a line: user principal names (logon identities) must be in one of these realms. Empty: no UPN."),
    field("sans-max_count", "At most (SANs)", input("sans-max_count", p.sans.max_count,
                                                    { type: "number", min: "1", max: "1000", inputmode: "numeric" })));
  const customEku = p.extended_key_usage.filter((name) => !EXTENDED_KEY_USAGES.includes(name));
  const usage = ruleCard("What issued certificates carry", null, null,
    checkboxes("ku", KEY_USAGES, p.key_usage, "Key usage",
               "keyEncipherment is left out for keys that cannot encipher (EC, Ed25519)."),
    checkboxes("eku", EXTENDED_KEY_USAGES, p.extended_key_usage, "Extended key usage"),
    field("eku-other", "Other extended key usages", input("eku-other", customEku.join(", ")), "Dotted OIDs, comma separated."));
  return [general, h("div", { class: "rule-grid" }, keys, validity, subject, sans), usage];
}

function ticked(form, prefix, names) {
  return names.filter((name) => form.querySelector(`#${prefix}-${name}`).checked);
}

// Reads the form into the profile JSON the API takes and checks it. Returns {profile, problems:
// [{id, message}]}.
export function readProfile(form, base, { creating }) {
  const value = (id) => form.querySelector(`#${id}`).value;
  const problems = [];
  const profile = structuredClone(base);
  delete profile.version;
  if (creating) {
    profile.name = value("profile-name").trim();
    profile.ca = value("profile-ca");
    if (!NAME.test(profile.name)) {
      problems.push({ id: "profile-name", message: "Give a name of 1 to 64 letters, digits, '.', '_' or '-'." });
    }
  }
  profile.description = value("profile-description").trim();
  profile.key_algorithms = { allowed: ticked(form, "alg", ALGORITHMS), mode: value("mode-key_algorithms") };
  const days = (id) => {
    const text = value(id).trim();
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < 1 || n > MAX_DAYS) {
      problems.push({ id, message: `A whole number of days from 1 to ${MAX_DAYS}.` });
    }
    return n;
  };
  profile.validity = { default_days: days("validity-default_days"), max_days: days("validity-max_days"),
                       mode: value("mode-validity") };
  if (problems.every((p) => !p.id.startsWith("validity")) && profile.validity.default_days > profile.validity.max_days) {
    problems.push({ id: "validity-default_days", message: "The default cannot be longer than the maximum." });
  }
  const fixed = {};
  for (const line of lines(value("subject-fixed"))) {
    const match = /^([A-Za-z][A-Za-z0-9]*)\s*=\s*(.+)$/.exec(line);
    if (match) fixed[match[1]] = match[2].trim();
    else problems.push({ id: "subject-fixed", message: `"${line}" is not TYPE=VALUE (O=Example).` });
  }
  profile.subject = { required: list(value("subject-required")), allowed: list(value("subject-allowed")),
                      fixed, mode: value("mode-subject") };
  const maxCount = value("sans-max_count").trim();
  if (!/^\d+$/.test(maxCount) || Number(maxCount) < 1 || Number(maxCount) > 1000) {
    problems.push({ id: "sans-max_count", message: "A whole number from 1 to 1000." });
  }
  profile.sans = { dns_suffixes: lines(value("sans-dns_suffixes")),
                   allow_ip: form.querySelector("#sans-allow_ip").checked,
                   allow_email: form.querySelector("#sans-allow_email").checked,
                   allow_uri: form.querySelector("#sans-allow_uri").checked,
                   upn_realms: lines(value("sans-upn_realms")).map((realm) => realm.toLowerCase()),
                   max_count: Number(maxCount), mode: value("mode-sans") };
  const other = list(value("eku-other"));
  for (const oid of other) {
    if (!OID.test(oid)) problems.push({ id: "eku-other", message: `"${oid}" is not a dotted OID (1.3.6.1.5.5.7.3.8).` });
  }
  profile.key_usage = ticked(form, "ku", KEY_USAGES);
  profile.extended_key_usage = [...ticked(form, "eku", EXTENDED_KEY_USAGES), ...other];
  return { profile, problems };
}

// The API's message split into problems, each put with the field it names (or none).
export function problemsOfApiMessage(message) {
  const at = message.lastIndexOf("is not valid: ");
  const parts = at >= 0 ? message.slice(at + 14).split("; ") : [message];
  return parts.map((text) => {
    const found = FIELD_OF_PROBLEM.find(([words]) => text.includes(words));
    return { id: found ? found[1] : null, message: text };
  });
}

export function clearProblems(form) {
  for (const error of form.querySelectorAll(".field-error")) error.hidden = true;
  for (const invalid of form.querySelectorAll("[aria-invalid]")) invalid.removeAttribute("aria-invalid");
}

// Shows each problem under its field; returns the problems that name no field.
export function showProblems(form, problems) {
  const unplaced = [];
  let first = null;
  for (const problem of problems) {
    const error = problem.id && form.querySelector(`#${problem.id}-error`);
    if (!error) {
      unplaced.push(problem);
      continue;
    }
    error.textContent = error.hidden ? problem.message : `${error.textContent} ${problem.message}`;
    error.hidden = false;
    const control = form.querySelector(`#${problem.id}`);
    const target = control.matches("fieldset") ? control.querySelector("input") : control;
    control.setAttribute("aria-invalid", "true");
    first = first || target;
  }
  if (first) first.focus();
  return unplaced;
}
