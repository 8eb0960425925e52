// The Revoke dialog: the RFC 5280 reason, a randomly generated six-digit code that must be
// typed back, and a confirm button that calls POST /api/v1/certificates/{id}/revoke.
import * as api from "./api.js";
import { openDialog } from "./dialog.js";
import { fingerprintId, h, randomCode } from "./dom.js";

// RFC 5280 §5.3.1 CRLReason, as the API names them; certificateHold and removeFromCRL are not
// offered (Signet's revocations are permanent).
const REASONS = [
  ["unspecified", "Unspecified"],
  ["keyCompromise", "Key compromise"],
  ["cACompromise", "CA compromise"],
  ["affiliationChanged", "Affiliation changed"],
  ["superseded", "Superseded"],
  ["cessationOfOperation", "Cessation of operation"],
  ["privilegeWithdrawn", "Privilege withdrawn"],
  ["aACompromise", "AA compromise"],
];

// `onRevoked(result)` runs after the API confirmed the revocation; `opener` gets focus back.
export function openRevokeDialog(cert, onRevoked, opener) {
  const code = randomCode();
  const reason = h("select", { id: "revoke-reason", name: "reason", required: true },
                   REASONS.map(([value, label]) => h("option", { value }, `${label} (${value})`)));
  const typed = h("input", { id: "revoke-code", name: "code", type: "text", inputmode: "numeric",
                             autocomplete: "off", maxlength: "6", required: true,
                             "aria-describedby": "revoke-code-help" });
  openDialog({
    id: "revoke",
    title: "Revoke certificate",
    confirmText: "Revoke certificate",
    confirmClass: "button-danger",
    busyText: "Revoking…",
    opener,
    focus: reason,
    content: [
      h("p", { class: "notice notice-warning" }, "Revoking ", h("strong", null, cert.common_name || cert.serial),
        ` (serial ${cert.serial}) is permanent: relying parties refuse it once they see the next CRL or OCSP answer.`),
      h("div", { class: "field" }, h("label", { for: "revoke-reason" }, "Reason (RFC 5280)"), reason),
      h("div", { class: "field" },
        h("label", { for: "revoke-code" }, "Confirmation code"),
        h("p", { id: "revoke-code-help", class: "muted small" },
          "Type this code to confirm: ", h("span", { class: "code", id: "revoke-code-shown" }, code)),
        typed),
    ],
    confirm: async (showError) => {
      if (typed.value.trim() !== code) {
        showError("The code does not match. Type the six digits shown above.");
        setTimeout(() => typed.select(), 0);
        return false;
      }
      const result = await api.post(`/api/v1/certificates/${fingerprintId(cert.fingerprint_sha256)}/revoke`,
                                    { reason: reason.value });
      onRevoked(result);
      return true;
    },
  });
}
