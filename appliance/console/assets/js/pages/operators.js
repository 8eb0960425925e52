// The Operators page (/operators, administrators only): operators with their roles and status
// (create with a generated password shown once, change the role, reset the password, disable
// or enable, unlock after failed logins, bind a client certificate from a CSR) and API tokens
// (create with the secret shown once, revoke). Only the public REST API: /api/v1/operators,
// /api/v1/api-tokens.
import * as api from "../api.js";
import { openDialog } from "../dialog.js";
import { errorBox, formatTime, h } from "../dom.js";
import { generatePassword, showSecretDialog } from "../secret_dialog.js";

const ROLES = ["administrator", "ra-officer", "auditor"];

function roleSelect(id, selected) {
  return h("select", { id }, ROLES.map((r) => h("option", { value: r, selected: r === selected }, r)));
}

function field(id, label, control, help) {
  return h("div", { class: "field" }, h("label", { for: id }, label), control,
           help ? h("p", { class: "muted small", id: `${id}-help` }, help) : null);
}

function status(op) {
  if (op.disabled) return h("span", { class: "badge badge-revoked" }, "disabled");
  if (op.locked) return h("span", { class: "badge badge-expired", title: `until ${formatTime(op.locked_until)}` }, "locked");
  return h("span", { class: "badge badge-active" }, "enabled");
}

function createOperatorDialog(opener, reload) {
  const name = h("input", { id: "new-operator-name", type: "text", autocomplete: "off", spellcheck: "false",
                            maxlength: "64", "aria-describedby": "new-operator-name-help" });
  const role = roleSelect("new-operator-role", "ra-officer");
  let made = null;
  const dialog = openDialog({
    id: "create-operator", title: "Create an operator", confirmText: "Create", busyText: "Creating…", opener, focus: name,
    content: [field("new-operator-name", "Name", name, "1 to 64 characters: letters, digits, . _ @ -"),
              field("new-operator-role", "Role", role),
              h("p", { class: "muted small" }, "The appliance generates the initial password and shows it once.")],
    confirm: async (showError) => {
      if (!name.value.trim()) {
        showError("Enter the operator's name.");
        name.focus();
        return false;
      }
      made = await api.post("/api/v1/operators", { name: name.value.trim(), role: role.value });
      return true;
    },
  });
  // The password dialog opens once this one has closed (and given focus back).
  dialog.addEventListener("close", () => {
    if (!made) return;
    showSecretDialog({ id: "operator-password", title: `Operator ${made.name} created`, label: "Initial password",
                       secret: made.password, opener, onClose: () => reload(`Operator ${made.name} created.`),
                       intro: `Give ${made.name} (${made.role}) this password over a safe channel.` });
    made.password = null;
  });
}

function roleDialog(op, opener, reload) {
  const role = roleSelect("change-role", op.role);
  openDialog({
    id: "role", title: `Role of ${op.name}`, confirmText: "Change role", opener, focus: role,
    content: [field("change-role", "Role", role), h("p", { class: "muted small" }, "A new role ends the operator's sessions.")],
    confirm: async (showError) => {
      if (role.value === op.role) {
        showError(`${op.name} already has the role ${op.role}.`);
        return false;
      }
      await api.patch(`/api/v1/operators/${encodeURIComponent(op.name)}`, { role: role.value });
      reload(`${op.name} is now ${role.value}.`);
      return true;
    },
  });
}

function resetDialog(op, opener, reload) {
  let password = null;
  const dialog = openDialog({
    id: "reset", title: `Reset the password of ${op.name}`, confirmText: "Reset password", confirmClass: "button-danger", opener,
    content: [h("p", null, `A new random password replaces the current one and ${op.name}'s sessions end. `,
                "It is shown once, for you to hand over.")],
    confirm: async () => {
      const fresh = generatePassword();
      await api.patch(`/api/v1/operators/${encodeURIComponent(op.name)}`, { password: fresh, unlock: true });
      password = fresh;
      return true;
    },
  });
  dialog.addEventListener("close", () => {
    if (!password) return;
    showSecretDialog({ id: "operator-password", title: `New password for ${op.name}`, label: "New password",
                       secret: password, opener, onClose: () => reload(`The password of ${op.name} was reset.`) });
    password = null;
  });
}

function certificateDialog(op, opener, reload) {
  const csr = h("textarea", { id: "operator-csr", rows: "8", class: "mono", spellcheck: "false",
                              placeholder: "-----BEGIN CERTIFICATE REQUEST-----", "aria-describedby": "operator-csr-help" });
  openDialog({
    id: "operator-certificate", title: `Client certificate for ${op.name}`, confirmText: "Issue and bind", opener, focus: csr,
    content: [field("operator-csr", "The operator's CSR (PEM)", csr,
                    "The appliance CA's operator profile issues it; it replaces any certificate bound before. docs/CONSOLE.md says how to make the CSR and load the certificate into a browser.")],
    confirm: async (showError) => {
      if (!csr.value.includes("BEGIN CERTIFICATE REQUEST")) {
        showError("Paste a PEM certificate signing request.");
        return false;
      }
      const issued = await api.post(`/api/v1/operators/${encodeURIComponent(op.name)}/certificate`, { csr: csr.value });
      const url = URL.createObjectURL(new Blob([issued.pem + issued.chain_pem], { type: "application/x-pem-file" }));
      const link = h("a", { href: url, download: `${op.name}-client.pem`, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      reload(`Issued and bound a client certificate for ${op.name} (serial ${issued.serial}); ${op.name}-client.pem was saved.`);
      return true;
    },
  });
}

function operatorRow(op, context, reload) {
  const self = op.name === context.principal.operator;
  const path = `/api/v1/operators/${encodeURIComponent(op.name)}`;
  const button = (label, id, onClick, cls = "") => {
    const b = h("button", { type: "button", class: `button button-small ${cls}`, id, "aria-label": `${label} ${op.name}` }, label);
    b.addEventListener("click", () => onClick(b));
    return b;
  };
  const actions = [];
  if (!self) {
    actions.push(button("Role…", `role-${op.name}`, (b) => roleDialog(op, b, reload)));
    actions.push(button(op.disabled ? "Enable" : "Disable", `toggle-${op.name}`, async (b) => {
      b.disabled = true;
      try {
        await api.patch(path, { disabled: !op.disabled });
        reload(`${op.name} is ${op.disabled ? "enabled" : "disabled"}.`);
      } catch (failure) {
        b.disabled = false;
        reload(null, failure.message);
      }
    }));
  }
  if (op.locked) {
    actions.push(button("Unlock", `unlock-${op.name}`, async (b) => {
      b.disabled = true;
      try {
        await api.patch(path, { unlock: true });
        reload(`${op.name} is unlocked.`);
      } catch (failure) {
        reload(null, failure.message);
      }
    }));
  }
  // Not for oneself: a reset ends one's own session before the new password could be read.
  if (!self) actions.push(button("Reset password…", `reset-${op.name}`, (b) => resetDialog(op, b, reload)));
  actions.push(button("Certificate…", `certificate-${op.name}`, (b) => certificateDialog(op, b, reload)));
  return h("tr", { "data-operator": op.name },
    h("th", { scope: "row" }, op.name, self ? h("span", { class: "muted small" }, " (you)") : null),
    h("td", null, h("span", { class: `role role-${op.role}` }, op.role)),
    h("td", null, status(op)),
    h("td", null, op.last_login ? formatTime(op.last_login) : h("span", { class: "muted" }, "never")),
    h("td", { class: "small" }, op.certificate_fingerprint_sha256 ? h("code", { title: op.certificate_fingerprint_sha256 },
                                                                      `${op.certificate_fingerprint_sha256.slice(0, 23)}…`)
                                                                  : h("span", { class: "muted" }, "none")),
    h("td", null, h("div", { class: "row-actions" }, actions)));
}

function createTokenDialog(opener, reload) {
  const name = h("input", { id: "new-token-name", type: "text", autocomplete: "off", maxlength: "200",
                            placeholder: "certbot on web01" });
  const role = roleSelect("new-token-role", "ra-officer");
  const days = h("input", { id: "new-token-days", type: "number", min: "1", max: "3650", inputmode: "numeric", value: "90" });
  let made = null;
  const dialog = openDialog({
    id: "create-token", title: "Create an API token", confirmText: "Create token", busyText: "Creating…", opener, focus: name,
    content: [field("new-token-name", "What it is for", name), field("new-token-role", "Role", role),
              field("new-token-days", "Expires after (days, empty: never)", days)],
    confirm: async (showError) => {
      if (!name.value.trim()) {
        showError("Say what the token is for.");
        name.focus();
        return false;
      }
      const body = { name: name.value.trim(), role: role.value };
      if (days.value.trim()) {
        const n = Number(days.value);
        if (!Number.isInteger(n) || n < 1 || n > 3650) {
          showError("The expiry must be a whole number of days from 1 to 3650.");
          days.focus();
          return false;
        }
        body.expires_in_days = n;
      }
      made = await api.post("/api/v1/api-tokens", body);
      return true;
    },
  });
  dialog.addEventListener("close", () => {
    if (!made) return;
    showSecretDialog({ id: "api-token", title: `API token ${made.name}`, label: "Token (Authorization: Bearer …)",
                       secret: made.token, opener, onClose: () => reload(`API token ${made.name} created.`),
                       intro: `Role ${made.role}${made.expires ? `, expires ${formatTime(made.expires)}` : ", no expiry"}.` });
    made.token = null;
  });
}

function revokeTokenDialog(token, opener, reload) {
  openDialog({
    id: "revoke-token", title: `Revoke API token ${token.name}`, confirmText: "Revoke token", confirmClass: "button-danger", opener,
    content: [h("p", null, "Clients that use it are refused at once (401). This cannot be undone.")],
    confirm: async () => {
      await api.del(`/api/v1/api-tokens/${encodeURIComponent(token.id)}`);
      reload(`API token ${token.name} is revoked.`);
      return true;
    },
  });
}

function tokenRow(t, reload) {
  const revoke = t.revoked ? null
    : h("button", { type: "button", class: "button button-small", id: `revoke-token-${t.id}`, "aria-label": `Revoke ${t.name}` }, "Revoke…");
  if (revoke) revoke.addEventListener("click", () => revokeTokenDialog(t, revoke, reload));
  return h("tr", { "data-token": t.id },
    h("th", { scope: "row" }, t.name, h("div", { class: "muted small" }, h("code", null, t.id))),
    h("td", null, h("span", { class: `role role-${t.role}` }, t.role)),
    h("td", null, t.owner),
    h("td", null, formatTime(t.created)),
    h("td", null, t.last_used ? formatTime(t.last_used) : h("span", { class: "muted" }, "not since start")),
    h("td", null, t.revoked ? h("span", { class: "badge badge-revoked" }, "revoked")
                  : t.expires ? `expires ${formatTime(t.expires)}` : "no expiry"),
    h("td", null, revoke));
}

function table(id, columns, rows, empty) {
  if (!rows.length) return h("p", { class: "empty", id: `${id}-empty` }, empty);
  return h("div", { class: "table-scroll" }, h("table", { class: "data compact", id },
    h("thead", null, h("tr", null, columns.map((c) => h("th", { scope: "col" }, c)))), h("tbody", null, rows)));
}

export async function render(context) {
  const { main, current } = context;
  const heading = h("div", { class: "page-header" },
                    h("div", null, h("h1", null, "Operators"),
                      h("p", { class: "muted" }, "Who may use the appliance, with which role; and the API tokens of automation.")));
  main.append(heading);
  if (context.principal.role !== "administrator") {
    main.append(errorBox("Only administrators manage operators and API tokens.", "Not offered to your role"));
    return;
  }
  const [operators, tokens] = await Promise.all([api.get("/api/v1/operators"), api.get("/api/v1/api-tokens")]);
  if (!current()) return;
  const notice = h("div", { id: "operators-notice", role: "status" });
  const reload = (message, problem) => {
    if (message) context.setFlash("success", message);
    if (problem) context.setFlash("error", problem);
    context.navigate("/operators", { replace: true });
  };
  const create = h("button", { type: "button", class: "button button-primary", id: "create-operator" }, "Create operator…");
  create.addEventListener("click", () => createOperatorDialog(create, reload));
  heading.append(h("div", { class: "actions" }, create));
  const createToken = h("button", { type: "button", class: "button", id: "create-token" }, "Create API token…");
  createToken.addEventListener("click", () => createTokenDialog(createToken, reload));
  main.append(notice, h("div", { class: "stack" },
    h("section", { class: "card", "aria-labelledby": "operators-title" },
      h("h2", { id: "operators-title" }, "Operators"),
      table("operators", ["Name", "Role", "Status", "Last login", "Client certificate", "Actions"],
            operators.operators.map((op) => operatorRow(op, context, reload)), "No operators.")),
    h("section", { class: "card", "aria-labelledby": "api-tokens-title" },
      h("div", { class: "card-header" }, h("h2", { id: "api-tokens-title" }, "API tokens"), createToken),
      table("api-tokens", ["Name", "Role", "Owner", "Created", "Last used", "Status", ""],
            tokens.api_tokens.map((t) => tokenRow(t, reload)), "No API tokens yet. Automation (ACME clients, scripts) authenticates with one."))));
}
