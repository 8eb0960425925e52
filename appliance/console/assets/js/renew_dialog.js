// The Renew dialog: a new certificate with the same subject, SANs, RA profile and key, and a
// new validity period (the profile's, or the days given), through
// POST /api/v1/certificates/{id}/renew.
import * as api from "./api.js";
import { openDialog } from "./dialog.js";
import { fingerprintId, h } from "./dom.js";

// `onRenewed(result)` runs with the new certificate; `opener` gets focus back.
export function openRenewDialog(cert, onRenewed, opener) {
  const days = h("input", { id: "renew-days", name: "validity_days", type: "number", min: "1", max: "36500",
                            inputmode: "numeric", placeholder: "the RA profile's", "aria-describedby": "renew-days-help" });
  openDialog({
    id: "renew",
    title: "Renew certificate",
    confirmText: "Renew",
    busyText: "Renewing…",
    opener,
    focus: days,
    content: [
      h("p", null, "Issue a new certificate for ", h("strong", null, cert.common_name || cert.serial),
        " with the same subject, names, RA profile and key. The current certificate stays valid until it expires or is revoked."),
      h("div", { class: "field" },
        h("label", { for: "renew-days" }, "Validity in days (optional)"),
        days,
        h("p", { id: "renew-days-help", class: "muted small" }, "Empty: the RA profile's validity, capped at the CA's own.")),
    ],
    confirm: async (showError) => {
      const body = {};
      if (days.value.trim()) {
        const n = Number(days.value);
        if (!Number.isInteger(n) || n < 1 || n > 36500) {
          showError("The validity must be a whole number of days between 1 and 36500.");
          return false;
        }
        body.validity_days = n;
      }
      const result = await api.post(`/api/v1/certificates/${fingerprintId(cert.fingerprint_sha256)}/renew`, body);
      onRenewed(result);
      return true;
    },
  });
}
