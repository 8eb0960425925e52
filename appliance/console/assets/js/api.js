// The console's only way to the appliance: the public REST API (/api/v1, described at
// /api/openapi.json), same-origin, with the session cookie (HttpOnly: never visible here) and
// the session's CSRF token, which lives in this module's memory only and is echoed in
// X-CSRF-Token on every request that changes state.

export class ApiError extends Error {
  // `details`: the API's whole error object ({code, message, order_id?, token?...}).
  constructor(status, code, message, details = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

let csrfToken = null;
let onExpired = null;

export function setCsrfToken(token) {
  csrfToken = token || null;
}

// `handler(error)` runs when a request of a logged-in console is answered 401: the session
// ended (idle timeout, lifetime, logout elsewhere, password change).
export function onSessionExpired(handler) {
  onExpired = handler;
}

// Calls the API; resolves to the parsed JSON body (null when there is none) or rejects with
// an ApiError carrying the API's error code and message. `options.anonymous`: a 401 is an
// answer (login, the first "who am I"), not an expired session.
export async function call(method, path, body, options = {}) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin", cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (method !== "GET" && method !== "HEAD" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiError(0, "network", "The appliance did not answer. Check the network and try again.");
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const detail = data && data.error ? data.error : {};
    const error = new ApiError(response.status, detail.code || `http_${response.status}`,
                               detail.message || `The appliance answered ${response.status}.`, detail);
    if (response.status === 401 && !options.anonymous && onExpired) onExpired(error);
    throw error;
  }
  return data;
}

export const get = (path, options) => call("GET", path, undefined, options);
export const post = (path, body, options) => call("POST", path, body, options);
export const patch = (path, body, options) => call("PATCH", path, body, options);
export const del = (path, options) => call("DELETE", path, undefined, options);

// "/api/v1/certificates" + {status: "active", q: ""} -> "...?status=active" (empty values left out).
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(name, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}
