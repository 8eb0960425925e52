// What the console knows about RA profile rules (ca/profile.h): the names a profile may use,
// and one line of text per rule for lists and read-only views. A profile is the JSON that
// GET /api/v1/profiles/{ca}/{name} returns and PUT takes.
import { h } from "./dom.js";

export const ALGORITHMS = ["ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096", "ed25519"];
export const KEY_USAGES = ["digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment",
                           "keyAgreement", "keyCertSign", "cRLSign"];
export const EXTENDED_KEY_USAGES = ["serverAuth", "clientAuth", "codeSigning", "emailProtection",
                                    "timeStamping", "OCSPSigning"];
// The rules a request is checked against, each hard-fail (refuse) or soft-fail (warn).
export const RULES = [
  { key: "key_algorithms", label: "Key algorithms" },
  { key: "validity", label: "Validity" },
  { key: "subject", label: "Subject" },
  { key: "sans", label: "Subject alternative names" },
];

export const qualified = (profile) => `${profile.ca}/${profile.name}`;
export const profilePath = (profile) =>
  `/profiles/${encodeURIComponent(profile.ca)}/${encodeURIComponent(profile.name)}`;
export const apiPath = (profile) =>
  `/api/v1/profiles/${encodeURIComponent(profile.ca)}/${encodeURIComponent(profile.name)}`;

export function modeBadge(mode) {
  const soft = mode === "soft";
  return h("span", { class: `badge badge-mode-${soft ? "soft" : "hard"}`,
                     title: soft ? "soft-fail: a request that breaks this rule proceeds with a warning"
                                 : "hard-fail: a request that breaks this rule is refused" },
           soft ? "soft-fail" : "hard-fail");
}

export function enabledBadge(profile) {
  return h("span", { class: `badge ${profile.enabled ? "badge-active" : "badge-disabled"}` },
           profile.enabled ? "enabled" : "disabled");
}

export function algorithmsText(profile) {
  const allowed = profile.key_algorithms.allowed;
  return allowed.length ? allowed.join(", ") : "any accepted key";
}

export function validityText(profile) {
  const v = profile.validity;
  return `${v.default_days} days (at most ${v.max_days})`;
}

export function subjectText(profile) {
  const s = profile.subject;
  const parts = [];
  parts.push(s.required.length ? `${s.required.join(", ")} required` : "nothing required");
  if (s.allowed.length) parts.push(`only ${s.allowed.join(", ")}`);
  const fixed = Object.entries(s.fixed || {});
  if (fixed.length) parts.push(`sets ${fixed.map(([type, value]) => `${type}=${value}`).join(", ")}`);
  return parts.join("; ");
}

export function sansText(profile) {
  const s = profile.sans;
  const upn = (s.upn_realms || []).length ? `UPN in ${s.upn_realms.join(", ")}` : null;
  const kinds = ["DNS", s.allow_ip && "IP", s.allow_email && "e-mail", s.allow_uri && "URI", upn].filter(Boolean);
  const dns = s.dns_suffixes.length ? `DNS under ${s.dns_suffixes.join(", ")}` : "any DNS name";
  return `${dns}; ${kinds.join(", ")}; at most ${s.max_count}`;
}

export function usageText(profile) {
  const parts = [...profile.key_usage, ...profile.extended_key_usage];
  return parts.length ? parts.join(", ") : "none";
}

// [{key, label, text, mode}] for the four rules that have a mode.
export function ruleLines(profile) {
  const texts = { key_algorithms: algorithmsText(profile), validity: validityText(profile),
                  subject: subjectText(profile), sans: sansText(profile) };
  return RULES.map((rule) => ({ ...rule, text: texts[rule.key], mode: profile[rule.key].mode }));
}
