// A modal dialog on the native <dialog> element: focus moves into it and stays there, Escape
// or Cancel closes it, and focus returns to the element that opened it. The confirm button
// runs `confirm(showError)`; it resolves true to close the dialog, false to keep it open
// (after showError(message) said why).
import { h } from "./dom.js";

export function openDialog({ id, title, content, confirmText, confirmClass = "button-primary",
                             busyText = "Working…", confirm, opener, focus }) {
  const error = h("div", { id: `${id}-error`, class: "notice notice-error", role: "alert", hidden: true });
  const ok = h("button", { type: "submit", class: `button ${confirmClass}`, id: `${id}-confirm` }, confirmText);
  const cancel = h("button", { type: "button", class: "button", id: `${id}-cancel` }, "Cancel");
  const form = h("form", { method: "dialog", class: "dialog-body", novalidate: true },
                 h("h2", { id: `${id}-title` }, title), error, content,
                 h("div", { class: "dialog-actions" }, cancel, ok));
  const dialog = h("dialog", { class: "dialog", "aria-labelledby": `${id}-title`, id: `${id}-dialog` }, form);
  cancel.addEventListener("click", () => dialog.close());
  form.addEventListener("input", () => {
    error.hidden = true;
  });
  dialog.addEventListener("close", () => {
    dialog.remove();
    if (opener && opener.isConnected) opener.focus();
  });
  const showError = (message) => {
    error.replaceChildren(message);
    error.hidden = false;
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    ok.disabled = cancel.disabled = true;
    ok.textContent = busyText;
    let close = false;
    try {
      close = await confirm(showError);
    } catch (failure) {
      showError(failure.message);
    }
    if (close) {
      dialog.close();
    } else if (dialog.isConnected) {
      ok.disabled = cancel.disabled = false;
      ok.textContent = confirmText;
    }
  });
  document.body.append(dialog);
  dialog.showModal();
  if (focus) focus.focus();
  return dialog;
}
