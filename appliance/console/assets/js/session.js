// Who is logged in, as GET /api/v1/session says: {operator, role, csrf_token, expires}. Kept in
// memory only (never in storage or a URL); a reload asks the API again.
import * as api from "./api.js";

let current = null;
let known = false;  // whether the API was asked since the page loaded

export function principal() {
  return current;
}

export function isKnown() {
  return known;
}

export function set(info) {
  known = true;
  current = info ? { operator: info.operator, role: info.role, expires: info.expires || null } : null;
  api.setCsrfToken(info ? info.csrf_token : null);
}

// Asks the API who this browser is; null when no session.
export async function refresh() {
  try {
    set(await api.get("/api/v1/session", { anonymous: true }));
  } catch (error) {
    if (error.status !== 401) throw error;
    set(null);
  }
  return current;
}

export async function login(name, password) {
  set(await api.post("/api/v1/session", { method: "password", name, password }, { anonymous: true }));
  return current;
}

// Logs in with the client certificate the browser presented in the TLS handshake.
export async function loginCertificate() {
  set(await api.post("/api/v1/session", { method: "certificate" }, { anonymous: true }));
  return current;
}

// What the login page may offer: {password, certificate: {presented, accepted, subject}}.
export async function methods() {
  return api.get("/api/v1/session/methods", { anonymous: true });
}

export async function logout() {
  try {
    await api.call("DELETE", "/api/v1/session", undefined, { anonymous: true });
  } finally {
    set(null);
  }
}

// What the role may do (appliance/api/principal.h): every role reads; administrators and RA
// officers operate on certificates (and generate CRLs); administrators alone change RA profiles;
// administrators and auditors read the audit log.
export function mayOperate() {
  return current !== null && (current.role === "administrator" || current.role === "ra-officer");
}

export function mayAdminister() {
  return current !== null && current.role === "administrator";
}

export function mayAudit() {
  return current !== null && (current.role === "administrator" || current.role === "auditor");
}
