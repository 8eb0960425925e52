// The PFX dialog: a local key's PKCS#12 and its one-time password, as the API returned them
// (POST /api/v1/certificates/{id}/pfx, or an issuance with key_source local_key). The
// password is shown here once, with a copy button; the file is built in memory as a Blob and
// saved through a temporary object URL: the password never goes into a URL, storage or a log.
import * as api from "./api.js";
import { openDialog } from "./dialog.js";
import { fingerprintId, h } from "./dom.js";

function bytesOf(base64) {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; ++i) bytes[i] = text.charCodeAt(i);
  return bytes;
}

// "www.example.com" -> "www.example.com.pfx"; anything unusual becomes "_".
export function pfxFileName(name) {
  const stem = (name || "certificate").replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "") || "certificate";
  return `${stem}.pfx`;
}

function save(bytes, fileName) {
  const url = URL.createObjectURL(new Blob([bytes], { type: "application/x-pkcs12" }));
  const link = h("a", { href: url, download: fileName, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// Shows `delivery` ({pfx_base64, pfx_password, pfx_profile}) for the certificate named `name`.
export function showPfxDialog(delivery, name, opener) {
  const fileName = pfxFileName(name);
  let bytes = bytesOf(delivery.pfx_base64);
  const password = h("input", { id: "pfx-password", type: "text", readonly: true, value: delivery.pfx_password,
                                class: "secret", spellcheck: "false", autocomplete: "off",
                                "aria-describedby": "pfx-warning" });
  const copied = h("span", { id: "pfx-copied", class: "muted small", role: "status" });
  const copy = h("button", { type: "button", class: "button", id: "pfx-copy" }, "Copy");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(password.value);
      copied.textContent = "Copied to the clipboard.";
    } catch {
      password.select();
      copied.textContent = "Selected: press Ctrl+C to copy.";
    }
  });
  const saved = h("p", { id: "pfx-saved", class: "notice notice-success", role: "status", hidden: true });
  const dialog = openDialog({
    id: "pfx",
    title: "Download PFX (PKCS#12)",
    confirmText: "Download .pfx",
    busyText: "Saving…",
    opener,
    focus: copy,
    content: [
      h("p", { class: "notice notice-warning", id: "pfx-warning" },
        h("strong", null, "This password is shown only now. "),
        "Copy it before you close this dialog: it cannot be shown again. ",
        "A lost password means a new PFX with a new password."),
      h("div", { class: "field" },
        h("label", { for: "pfx-password" }, "PFX password"),
        h("div", { class: "inline-field" }, password, copy),
        copied),
      h("p", { class: "muted small" }, `File ${fileName} · encryption ${delivery.pfx_profile || "modern"}`),
      saved,
    ],
    confirm: async () => {
      save(bytes, fileName);
      saved.textContent = `Saved ${fileName}. Keep the password and the file apart.`;
      saved.hidden = false;
      dialog.querySelector("#pfx-cancel").textContent = "Close";
      return false;
    },
  });
  dialog.addEventListener("close", () => {
    password.value = "";
    bytes = null;
  });
  return dialog;
}

// Asks the API for a new PKCS#12 of `cert` (a new one-time password), then shows it.
export async function exportPfx(cert, opener) {
  const delivery = await api.post(`/api/v1/certificates/${fingerprintId(cert.fingerprint_sha256)}/pfx`, {});
  return showPfxDialog(delivery, cert.common_name || cert.serial, opener);
}

// Whether the API keeps this certificate's key wrapped for PFX export (a local key).
export function hasLocalKey(cert) {
  return cert.local_key === true;
}
