// What the console checks of a pasted or uploaded CSR before sending it: one PEM block
// "CERTIFICATE REQUEST" whose base64 decodes to a DER SEQUENCE. Everything else (the
// signature, the key against the RA profile, the names) the API checks on submit, and its
// message is shown as it is.

const PEM = /^-----BEGIN (NEW )?CERTIFICATE REQUEST-----\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n?-----END (NEW )?CERTIFICATE REQUEST-----$/;

// Returns null when `text` looks like a PEM CSR, else a sentence saying what is wrong.
export function csrProblem(text) {
  const trimmed = (text || "").trim();
  if (!trimmed) return "Paste a certificate signing request (PEM) or choose a file.";
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(trimmed)) {
    return "This is a private key, not a certificate signing request. Never paste a private key here.";
  }
  if (/-----BEGIN CERTIFICATE-----/.test(trimmed)) {
    return "This is a certificate, not a certificate signing request.";
  }
  const match = PEM.exec(trimmed);
  if (!match) {
    return "This is not a PEM certificate signing request: it must start with " +
           "-----BEGIN CERTIFICATE REQUEST----- and end with -----END CERTIFICATE REQUEST-----.";
  }
  let der;
  try {
    der = atob(match[2].replace(/[\r\n]/g, ""));
  } catch {
    return "The CSR's base64 text is damaged (it does not decode).";
  }
  if (der.length < 64 || der.charCodeAt(0) !== 0x30) {
    return "The CSR's content is not a DER certificate request (it is damaged or truncated).";
  }
  return null;
}
