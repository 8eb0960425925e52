// Small DOM helpers. Everything is built with createElement and text nodes: the console never
// assigns HTML strings (the Content-Security-Policy's Trusted Types rule would refuse them).

// h("a", {href: "/x", class: "link", onclick: fn}, "text", child, [more]) -> HTMLElement.
// Attributes that are null, undefined or false are left out; true sets an empty attribute.
export function h(tag, attrs, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") {
      element.className = value;
    } else if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (value === true) {
      element.setAttribute(name, "");
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

export function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

// "2026-12-06T04:52:28Z" -> "2026-12-06 04:52 UTC" (the appliance's clock is UTC).
export function formatTime(iso) {
  if (!iso) return "—";
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
  return match ? `${match[1]} ${match[2]} UTC` : iso;
}

export function formatDate(iso) {
  if (!iso) return "—";
  return iso.slice(0, 10);
}

// Days until expiry as people say it: "in 89 days", "today", "3 days ago".
// A revoked certificate's notAfter no longer counts down to anything: it is only the date.
export function daysText(days, status) {
  if (days === null || days === undefined) return "—";
  if (status === "revoked") return days >= 0 ? `notAfter in ${days} days` : "past notAfter";
  if (days === 0) return "expires today";
  if (days > 0) return days === 1 ? "1 day left" : `${days} days left`;
  return days === -1 ? "expired 1 day ago" : `expired ${-days} days ago`;
}

// A CSS class for how urgent an expiry is.
export function urgency(days, status) {
  if (status === "revoked" || status === "expired" || days < 0) return "urgency-past";
  if (days <= 7) return "urgency-critical";
  if (days <= 30) return "urgency-warning";
  return "urgency-ok";
}

export function statusBadge(status) {
  return h("span", { class: `badge badge-${status}` }, status);
}

// The API shows a SHA-256 fingerprint with colons; its routes take plain hex.
export function fingerprintId(fingerprint) {
  return fingerprint.replaceAll(":", "").toLowerCase();
}

export function errorBox(message, title = "Something went wrong") {
  return h("div", { class: "notice notice-error", role: "alert" },
           h("strong", null, title), h("p", null, message));
}

// A uniformly random six-digit code ("000000".."999999") from the browser's CSPRNG.
export function randomCode() {
  const limit = 4_294_000_000;  // a multiple of 10^6: no modulo bias
  const word = new Uint32Array(1);
  do {
    crypto.getRandomValues(word);
  } while (word[0] >= limit);
  return String(word[0] % 1_000_000).padStart(6, "0");
}
