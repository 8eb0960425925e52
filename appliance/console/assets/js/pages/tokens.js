// The Tokens page (/tokens): the PKCS#11 module with its slots, each token (label, serial,
// model, PIN and login state, memory) and the private keys on it (labels, types, sizes or
// curves, CKA_ID, pkcs11: URIs; never anything secret), from GET /api/v1/tokens and
// GET /api/v1/tokens/{serial}/keys. Administrators log signetd in to a token with its user PIN
// in a dialog (POST /api/v1/tokens/{serial}/login): the PIN goes in the request body only,
// is cleared from the form at once and never shown again.
import * as api from "../api.js";
import { openDialog } from "../dialog.js";
import { errorBox, h } from "../dom.js";

function bytes(n) {
  if (n === null || n === undefined) return null;
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KiB`;
  return `${n} B`;
}

// "12 KiB free of 64 KiB", "free: not reported".
function memory(free, total) {
  if (free === null || free === undefined) return "not reported";
  return total === null || total === undefined ? `${bytes(free)} free` : `${bytes(free)} free of ${bytes(total)}`;
}

function flag(on, text, kind = "info") {
  return on ? h("span", { class: `badge badge-flag badge-${kind}` }, text) : null;
}

function loginState(token) {
  const id = `login-state-${token.serial}`;
  if (!token.login_required) return h("span", { class: "badge badge-flag badge-active", id }, "no login needed");
  return token.logged_in ? h("span", { class: "badge badge-flag badge-active", id }, "logged in")
                         : h("span", { class: "badge badge-flag badge-expired", id }, "not logged in");
}

// What a refused login means for the operator, with the PIN state the API sent back.
export function pinProblem(failure) {
  const token = (failure.details && failure.details.token) || {};
  if (failure.code === "pin_locked" || token.user_pin_locked) {
    return "The user PIN is locked after too many wrong attempts. The security officer must unblock it " +
           "(signet token commands on the appliance); no PIN was sent.";
  }
  if (failure.code === "pin_incorrect") {
    if (token.user_pin_final_try) return "Wrong PIN. One try is left: a further wrong PIN locks the token.";
    if (token.user_pin_count_low) return "Wrong PIN. Few tries are left before the token locks.";
    return "Wrong PIN. The token counts failed attempts and locks after too many.";
  }
  return failure.message;
}

function openLoginDialog(token, opener, done) {
  const pin = h("input", { id: "token-pin", type: "password", autocomplete: "off", spellcheck: "false",
                           inputmode: "text", "aria-describedby": "token-pin-help" });
  openDialog({
    id: "token-login",
    title: `Log in to token ${token.label}`,
    confirmText: "Log in",
    busyText: "Logging in…",
    opener,
    focus: pin,
    content: [
      h("p", null, `signetd logs in to ${token.label} (serial ${token.serial}) with the user PIN, so that it can sign ` +
                   "with the keys on it until it restarts."),
      token.user_pin_final_try ? h("p", { class: "notice notice-warning" }, "The token reports one try left.") : null,
      h("div", { class: "field" }, h("label", { for: "token-pin" }, "User PIN"), pin,
        h("p", { id: "token-pin-help", class: "muted small" }, "Sent once to the appliance; never stored or shown.")),
    ],
    confirm: async (showError) => {
      if (!pin.value) {
        showError("Enter the token's user PIN.");
        pin.focus();
        return false;
      }
      const typed = pin.value;
      pin.value = "";
      try {
        await api.post(`/api/v1/tokens/${encodeURIComponent(token.serial)}/login`, { pin: typed });
      } catch (failure) {
        if (failure.status === 401) return true;
        showError(pinProblem(failure));
        pin.focus();
        return false;
      }
      done();
      return true;
    },
  });
}

function protection(k) {
  if (k.sensitive === undefined) return "—";
  return [k.sensitive ? "sensitive" : "not sensitive",
          k.never_extractable ? "never extractable" : k.extractable ? "extractable" : "not extractable",
          k.local ? "made on the token" : "imported"].join(", ");
}

function keysTable(keys) {
  if (!keys.length) return h("p", { class: "empty" }, "No private keys on this token.");
  return h("div", { class: "table-scroll" }, h("table", { class: "data compact keys" },
    h("thead", null, h("tr", null, ["Label and CKA_ID", "Algorithm", "Protection", "PKCS#11 URI"].map((c) =>
      h("th", { scope: "col" }, c)))),
    h("tbody", null, keys.map((k) => h("tr", { "data-key": k.label },
      h("th", { scope: "row" }, k.label || h("span", { class: "muted" }, "(no label)"),
        h("div", { class: "muted small key-id" }, "CKA_ID ", h("code", null, k.id))),
      h("td", { class: "nowrap" }, k.algorithm || k.key_type),
      h("td", { class: "small" }, protection(k)),
      h("td", null, h("code", { class: "uri" }, k.uri)))))));
}

async function tokenCard(token, context, reload) {
  const mayKeys = context.session.mayOperate();
  const loginButton = context.principal.role === "administrator" && token.login_required && !token.logged_in &&
                      !token.protected_authentication_path
    ? h("button", { type: "button", class: "button button-primary", id: `login-${token.serial}` }, "Log in with PIN…")
    : null;
  if (loginButton) {
    loginButton.addEventListener("click", () => openLoginDialog(token, loginButton, () => {
      context.setFlash("success", `signetd is logged in to ${token.label}.`);
      reload();
    }));
  }
  let keys;
  let keyCount = "—";
  if (!mayKeys) {
    keys = h("p", { class: "muted" }, "Administrators and RA officers see the keys.");
  } else if (token.login_required && !token.logged_in) {
    keyCount = "listed once logged in";
    keys = h("p", { class: "muted", id: `keys-hidden-${token.serial}` },
             "Private keys are listed once signetd is logged in to this token.");
  } else {
    try {
      const list = await api.get(`/api/v1/tokens/${encodeURIComponent(token.serial)}/keys`);
      keys = keysTable(list.items);
      keyCount = `${list.items.length} private key${list.items.length === 1 ? "" : "s"}`;
    } catch (failure) {
      keys = h("p", { role: "alert", class: "field-error" }, `The keys could not be listed: ${failure.message}`);
    }
  }
  return h("section", { class: "card token", id: `token-${token.serial}`, "aria-labelledby": `token-title-${token.serial}` },
    h("div", { class: "card-header" },
      h("div", null,
        h("h2", { id: `token-title-${token.serial}` }, token.label || "(no label)"),
        h("p", { class: "headline" }, loginState(token),
          h("span", { class: "muted" }, `${token.state}`),
          flag(token.user_pin_count_low, "PIN tries low", "warning"),
          flag(token.user_pin_final_try, "PIN final try", "revoked"),
          flag(token.user_pin_locked, "PIN locked", "revoked"),
          flag(token.write_protected, "write-protected"),
          flag(token.protected_authentication_path, "PIN pad"))),
      loginButton),
    h("dl", { class: "facts facts-wide" },
      h("dt", null, "Serial"), h("dd", null, h("code", null, token.serial)),
      h("dt", null, "Model"), h("dd", null, `${token.model} · ${token.manufacturer}`),
      h("dt", null, "Slot"), h("dd", null, String(token.slot)),
      h("dt", null, "Keys"), h("dd", { id: `key-count-${token.serial}` }, keyCount),
      h("dt", null, "Private memory"), h("dd", null, memory(token.free_private_memory, token.total_private_memory)),
      h("dt", null, "Public memory"), h("dd", null, memory(token.free_public_memory, token.total_public_memory))),
    h("h3", null, "Keys"),
    keys);
}

function slotsTable(module, tokens) {
  const bySerial = new Map(tokens.map((t) => [t.serial, t]));
  return h("section", { class: "card", "aria-labelledby": `module-title` },
    h("h2", { id: "module-title" }, "PKCS#11 module"),
    h("p", null, h("code", { id: "module-path" }, module.path)),
    h("div", { class: "table-scroll" }, h("table", { class: "data compact", id: "slots" },
      h("thead", null, h("tr", null, ["Slot", "Description", "Token", "Kind"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", null, module.slots.map((slot) => {
        const token = slot.token_serial ? bySerial.get(slot.token_serial) : null;
        return h("tr", null,
          h("th", { scope: "row" }, String(slot.slot)),
          h("td", null, slot.description, h("div", { class: "muted small" }, slot.manufacturer)),
          h("td", null, token ? h("a", { href: `#token-${token.serial}` }, token.label)
                        : slot.token_present ? h("span", { class: "muted" }, "not initialised") : h("span", { class: "muted" }, "empty")),
          h("td", null, [slot.hardware ? "hardware" : "software", slot.removable ? "removable" : null].filter(Boolean).join(", ")));
      })))));
}

export async function render(context) {
  const { main, current } = context;
  main.append(h("div", { class: "page-header" },
                h("div", null, h("h1", null, "Tokens"),
                  h("p", { class: "muted" }, "PKCS#11 modules, slots, tokens and the keys on them. Nothing secret is shown."))));
  const list = await api.get("/api/v1/tokens");
  if (!current()) return;
  const reload = () => context.navigate("/tokens", { replace: true });
  if (!list.items.length) {
    main.append(h("p", { class: "empty" }, "The module shows no initialised token. Initialise one with signet token init."));
  }
  // Tokens that wait for a PIN come first: they are what needs the operator.
  const waiting = (t) => (t.login_required && !t.logged_in ? 0 : 1);
  const ordered = [...list.items].sort((a, b) => waiting(a) - waiting(b));
  const cards = await Promise.all(ordered.map((t) => tokenCard(t, context, reload)));
  if (!current()) return;
  main.append(h("div", { class: "stack" }, cards, (list.modules || []).map((m) => slotsTable(m, list.items))));
  if (!list.items.length && !(list.modules || []).length) main.append(errorBox("No PKCS#11 module is loaded."));
}
