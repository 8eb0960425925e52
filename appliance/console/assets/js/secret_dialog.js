// A dialog that shows a secret once (an operator's initial or reset password, a new API token),
// like the PFX dialog: a read-only field with a copy button and a warning that it cannot be
// shown again. The secret lives in the field only while the dialog is open; closing clears it.
// Also the browser-side password generator for a password reset.
import { openDialog } from "./dialog.js";
import { h } from "./dom.js";

export function showSecretDialog({ id, title, label, secret, intro, opener, onClose }) {
  const field = h("input", { id: `${id}-secret`, type: "text", readonly: true, value: secret, class: "secret",
                             spellcheck: "false", autocomplete: "off", "aria-describedby": `${id}-warning` });
  const copied = h("span", { id: `${id}-copied`, class: "muted small", role: "status" });
  const copy = h("button", { type: "button", class: "button", id: `${id}-copy` }, "Copy");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(field.value);
      copied.textContent = "Copied to the clipboard.";
    } catch {
      field.select();
      copied.textContent = "Selected: press Ctrl+C to copy.";
    }
  });
  const dialog = openDialog({
    id,
    title,
    confirmText: "Done",
    busyText: "Closing…",
    opener,
    focus: copy,
    content: [
      intro ? h("p", null, intro) : null,
      h("p", { class: "notice notice-warning", id: `${id}-warning` },
        h("strong", null, "Shown only now. "), "Copy it before you close this dialog: it cannot be shown again."),
      h("div", { class: "field" }, h("label", { for: `${id}-secret` }, label),
        h("div", { class: "inline-field" }, field, copy), copied),
    ],
    confirm: async () => true,
  });
  // Only "Done" remains: there is nothing to cancel.
  dialog.querySelector(`#${id}-cancel`).hidden = true;
  dialog.addEventListener("close", () => {
    field.value = "";
    if (onClose) onClose();
  });
  return dialog;
}

// A 20-character password from the browser's CSPRNG over an alphabet without look-alikes
// (about 116 bits), as the appliance generates them.
export function generatePassword(length = 20) {
  const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  const limit = 256 - (256 % alphabet.length);  // no modulo bias
  const out = [];
  const byte = new Uint8Array(1);
  while (out.length < length) {
    crypto.getRandomValues(byte);
    if (byte[0] < limit) out.push(alphabet[byte[0] % alphabet.length]);
  }
  return out.join("");
}
