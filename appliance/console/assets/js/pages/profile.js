// One RA profile (/profiles/<ca>/<name>) and a new one (/profiles/new). Administrators edit
// the rules and each rule's hard-/soft-fail mode (PUT /api/v1/profiles/{ca}/{name} with the
// version they read: a new version; certificates already issued keep theirs), create
// (POST /api/v1/profiles), disable and enable; the other roles see the rules read-only.
import * as api from "../api.js";
import { append, errorBox, h } from "../dom.js";
import { clearProblems, problemsOfApiMessage, profileSections, readProfile, showProblems } from "../profile_form.js";
import { apiPath, enabledBadge, modeBadge, profilePath, qualified, ruleLines, usageText } from "../profile_rules.js";

// What a new profile starts from: the rules of the default profile every CA gets
// (ca::default_profile), hard-fail throughout.
function blankProfile(ca) {
  return {
    name: "", ca, description: "", enabled: true, version: 0,
    key_algorithms: { allowed: [], mode: "hard" },
    validity: { default_days: 365, max_days: 825, mode: "hard" },
    key_usage: ["digitalSignature", "keyEncipherment"],
    extended_key_usage: ["serverAuth", "clientAuth"],
    subject: { required: [], allowed: [], fixed: {}, mode: "hard" },
    sans: { dns_suffixes: [], allow_ip: true, allow_email: true, allow_uri: true, upn_realms: [], max_count: 100, mode: "hard" },
  };
}

function breadcrumb(text) {
  return h("nav", { class: "breadcrumb", "aria-label": "Breadcrumb" },
           h("a", { href: "/profiles" }, "RA profiles"), h("span", { "aria-hidden": "true" }, " › "),
           h("span", { "aria-current": "page" }, text));
}

function readOnly(profile, role) {
  const facts = (rows) => h("dl", { class: "facts" }, rows.map(([k, v, id]) => [h("dt", null, k), h("dd", id ? { id } : null, v)]));
  return [
    h("p", { class: "notice notice-info", id: "profile-read-only" },
      `Your role (${role}) reads RA profiles; administrators change them.`),
    h("div", { class: "cards" },
      h("section", { class: "card" }, h("h2", null, "Profile"),
        facts([["CA", profile.ca], ["Status", enabledBadge(profile), "profile-status"], ["Version", String(profile.version)],
               ["Description", profile.description || "—"]])),
      h("section", { class: "card" }, h("h2", null, "Rules"),
        facts(ruleLines(profile).map((rule) => [rule.label, h("span", null, rule.text, " ", modeBadge(rule.mode)), `rule-${rule.key}-text`]))),
      h("section", { class: "card" }, h("h2", null, "What issued certificates carry"),
        facts([["Key usage", profile.key_usage.join(", ") || "none"],
               ["Extended key usage", profile.extended_key_usage.join(", ") || "none"]]))),
  ];
}

// The form for a new profile (`loaded` null) or a new version of `loaded`.
function editor(context, loaded, cas) {
  const creating = !loaded;
  const base = loaded || blankProfile(context.query.get("ca") || cas[0] || "");
  const summary = h("div", { class: "notice notice-error", id: "profile-errors", role: "alert", tabindex: "-1", hidden: true });
  const save = h("button", { type: "submit", class: "button button-primary", id: "profile-save" },
                 creating ? "Create profile" : "Save as a new version");
  const form = h("form", { class: "profile-form", id: "profile-form", novalidate: true, "aria-label": "RA profile" },
                 summary, profileSections(base, { creating, cas }),
                 h("div", { class: "form-actions" },
                   h("a", { href: creating ? "/profiles" : profilePath(loaded), class: "button", id: "profile-cancel" }, "Cancel"),
                   save));
  // Every problem in the summary too; those with a field link to it (and the field says it).
  const fail = (problems, title) => {
    const unplaced = showProblems(form, problems);
    const item = (problem) => {
      if (!problem.id) return h("li", null, problem.message);
      const link = h("a", { href: `#${problem.id}` }, problem.message);
      link.addEventListener("click", (event) => {
        event.preventDefault();
        const control = form.querySelector(`#${problem.id}`);
        (control.matches("fieldset") ? control.querySelector("input") : control).focus();
      });
      return h("li", null, link);
    };
    summary.replaceChildren();
    append(summary, [h("strong", null, title),
                     h("p", null, problems.length === 1 ? "One thing to correct:" : `${problems.length} things to correct:`),
                     h("ul", { class: "problems" }, problems.map(item))]);
    summary.hidden = false;
    if (unplaced.length === problems.length) summary.focus();
  };
  form.addEventListener("input", () => {
    summary.hidden = true;
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearProblems(form);
    summary.hidden = true;
    const { profile, problems } = readProfile(form, base, { creating });
    if (problems.length) {
      fail(problems, "The profile was not saved");
      return;
    }
    save.disabled = true;
    try {
      const stored = creating
        ? await api.post("/api/v1/profiles", profile)
        : await api.call("PUT", apiPath(loaded), { ...profile, version: loaded.version });
      context.setFlash("success", creating ? `RA profile ${qualified(stored)} created (version ${stored.version}).`
                                           : `Saved: ${qualified(stored)} is now version ${stored.version}.`);
      context.navigate(profilePath(stored), { replace: !creating });
    } catch (failure) {
      save.disabled = false;
      if (failure.status === 409 && !creating) {
        fail([{ id: null, message: `${failure.message}. Reload the page to see the current version, then make your change again.` }],
             "Someone changed this profile since you opened it");
      } else if (failure.status === 400 || failure.status === 409 || failure.status === 404) {
        fail(problemsOfApiMessage(failure.message), "The appliance refused the profile");
      } else {
        fail([{ id: null, message: failure.message }], "The profile was not saved");
      }
    }
  });
  return form;
}

function toggle(context, profile) {
  const label = profile.enabled ? "Disable" : "Enable";
  const button = h("button", { type: "button", class: `button ${profile.enabled ? "button-danger-quiet" : ""}`, id: "profile-toggle" },
                   profile.enabled ? "Disable profile" : "Enable profile");
  const error = h("p", { class: "field-error", role: "alert", hidden: true, id: "profile-toggle-error" });
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const updated = await api.post(`${apiPath(profile)}/${profile.enabled ? "disable" : "enable"}`, {});
      context.setFlash("success", `${qualified(updated)} is ${updated.enabled ? "enabled: it takes requests again" : "disabled: it refuses every request"}.`);
      context.navigate(profilePath(updated), { replace: true });
    } catch (failure) {
      button.disabled = false;
      error.textContent = `${label} failed: ${failure.message}`;
      error.hidden = false;
    }
  });
  return [button, error];
}

export async function render(context) {
  const { main, params, session, current } = context;
  const creating = params.length === 0;
  const mayAdminister = session.mayAdminister();
  let loaded = null;
  let cas = [];
  try {
    [loaded, cas] = await Promise.all([
      creating ? null : api.get(`/api/v1/profiles/${encodeURIComponent(params[0])}/${encodeURIComponent(params[1])}`),
      api.get("/api/v1/cas").then((list) => list.items.filter((ca) => ca.state !== "revoked").map((ca) => ca.name)),
    ]);
  } catch (failure) {
    if (!current() || failure.status === 401) return;
    main.append(breadcrumb(creating ? "New" : params.join("/")), h("h1", null, "RA profile not shown"),
                errorBox(failure.status === 404 ? `There is no RA profile ${params.join("/")}.` : failure.message));
    return;
  }
  if (!current()) return;
  if (creating) {
    main.append(breadcrumb("New"), h("div", { class: "page-header" },
      h("div", null, h("h1", null, "New RA profile"),
        h("p", { class: "muted" }, "Each rule is hard-fail (the request is refused) or soft-fail (it is issued, and the order records a warning)."))));
    if (!mayAdminister) {
      main.append(errorBox("Only administrators create RA profiles.", "Not allowed"));
      return;
    }
    if (!cas.length) {
      main.append(errorBox("Create a CA first: a profile issues from one.", "No CA yet"));
      return;
    }
    main.append(editor(context, null, cas));
    return;
  }
  main.append(breadcrumb(qualified(loaded)), h("div", { class: "page-header" },
    h("div", null, h("h1", { id: "profile-title" }, qualified(loaded)),
      h("p", { class: "headline" }, enabledBadge(loaded),
        h("span", { class: "muted", id: "profile-version" }, `version ${loaded.version}`),
        h("span", { class: "muted" }, `issues with ${usageText(loaded)}`))),
    mayAdminister ? h("div", { class: "actions" }, toggle(context, loaded)) : null));
  if (!loaded.enabled) {
    main.append(h("p", { class: "notice notice-warning", id: "profile-disabled-note" },
                  "This profile is disabled: it refuses every request until it is enabled again."));
  }
  if (mayAdminister) {
    main.append(h("p", { class: "muted small" }, "Saving stores a new version; certificates already issued keep the version they were issued under."),
                editor(context, loaded, cas));
  } else {
    main.append(...readOnly(loaded, session.principal().role));
  }
}
