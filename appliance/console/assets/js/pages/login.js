// The login page: operator name and password, sent once to POST /api/v1/session (never kept,
// never in a URL); errors are shown in the form. When the browser presented a client
// certificate of the appliance CA (GET /api/v1/session/methods says so), a "Sign in with
// client certificate" button logs in with it instead.
import { h } from "../dom.js";

export async function render({ main, flash, navigate, session }) {
  if (session.principal() || (!session.isKnown() && (await session.refresh()))) {
    navigate("/dashboard", { replace: true });
    return;
  }
  const name = h("input", { id: "login-name", name: "username", type: "text", autocomplete: "username",
                            required: true, spellcheck: "false" });
  const password = h("input", { id: "login-password", name: "password", type: "password",
                                autocomplete: "current-password", required: true });
  const error = h("div", { id: "login-error", class: "notice notice-error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "button button-primary", id: "login-submit" }, "Log in");
  const form = h("form", { class: "login-form", novalidate: true, "aria-labelledby": "login-title" },
                 h("div", { class: "login-brand" },
                   h("img", { src: "/console/favicon.svg", alt: "", width: "40", height: "40" }),
                   h("div", null, h("h1", { id: "login-title" }, "Signet"),
                     h("p", { class: "muted" }, `PKI appliance · ${location.host}`))),
                 flash ? h("div", { class: `notice notice-${flash.kind}`, role: "status", id: "login-flash" },
                           flash.text) : null,
                 error,
                 h("div", { class: "field" }, h("label", { for: "login-name" }, "Operator"), name),
                 h("div", { class: "field" }, h("label", { for: "login-password" }, "Password"), password),
                 submit,
                 h("p", { class: "muted small" },
                   "Sessions end after a period without activity and when you log out."));
  const methods = await session.methods().catch(() => null);
  const certificate = methods && methods.certificate;
  if (certificate && certificate.presented) {
    const certButton = h("button", { type: "button", class: "button button-primary button-wide", id: "login-certificate",
                                     disabled: !certificate.accepted, "aria-describedby": "login-certificate-subject" },
                         "Sign in with client certificate");
    certButton.addEventListener("click", async () => {
      error.hidden = true;
      certButton.disabled = true;
      try {
        await session.loginCertificate();
        navigate("/dashboard", { replace: true });
      } catch (failure) {
        error.replaceChildren(failure.message);
        error.hidden = false;
        certButton.disabled = false;
      }
    });
    form.insertBefore(h("div", { class: "login-certificate" }, certButton,
                        h("p", { class: "muted small", id: "login-certificate-subject" },
                          certificate.accepted ? `Certificate ${certificate.subject || ""}`
                                               : `The certificate ${certificate.subject || ""} is not bound to an enabled operator.`),
                        h("p", { class: "divider" }, h("span", null, "or with a password"))),
                      form.querySelector(".field"));
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    if (!name.value.trim() || !password.value) {
      error.replaceChildren("Enter the operator name and the password.");
      error.hidden = false;
      (name.value.trim() ? password : name).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = "Logging in…";
    try {
      await session.login(name.value.trim(), password.value);
      password.value = "";
      navigate("/dashboard", { replace: true });
    } catch (failure) {
      password.value = "";
      error.replaceChildren(failure.status === 401
                                ? "The operator name or the password is wrong."
                                : failure.message);
      error.hidden = false;
      password.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = "Log in";
    }
  });
  main.append(h("div", { class: "login-page" }, form));
  const certButton = form.querySelector("#login-certificate");
  if (certButton && !certButton.disabled) certButton.focus();
  else (name.value ? password : name).focus();
}
