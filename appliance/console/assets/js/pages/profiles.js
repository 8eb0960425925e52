// RA profiles (/profiles): every profile with its CA, status, allowed key algorithms, validity
// and a summary of its rules with their hard-/soft-fail mode (GET /api/v1/profiles, ?ca= to
// narrow). Administrators create, edit, disable and enable them; the other roles read.
import * as api from "../api.js";
import { errorBox, h } from "../dom.js";
import { algorithmsText, apiPath, enabledBadge, modeBadge, profilePath, qualified, ruleLines, usageText,
         validityText } from "../profile_rules.js";

function rules(profile) {
  return h("ul", { class: "rules" }, ruleLines(profile)
    .filter((rule) => rule.key === "subject" || rule.key === "sans")
    .map((rule) => h("li", null, h("span", { class: "rule-name" }, `${rule.label}: `), rule.text, " ", modeBadge(rule.mode))),
    h("li", { class: "muted" }, `Issues with ${usageText(profile)}`));
}

// Disable or enable from the list; `done(updated)` redraws.
function toggleButton(profile, done) {
  const label = profile.enabled ? "Disable" : "Enable";
  const button = h("button", { type: "button", class: "button button-small", "data-toggle": qualified(profile),
                               "aria-label": `${label} ${qualified(profile)}` }, label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      done(await api.post(`${apiPath(profile)}/${profile.enabled ? "disable" : "enable"}`, {}), null);
    } catch (failure) {
      button.disabled = false;
      done(null, failure);
    }
  });
  return button;
}

function row(profile, mayAdminister, redraw) {
  const actions = mayAdminister ? h("td", { class: "row-actions" }) : null;
  if (actions) {
    actions.append(h("a", { href: profilePath(profile), class: "button button-small", "aria-label": `Edit ${qualified(profile)}` }, "Edit"),
                   toggleButton(profile, redraw));
  }
  return h("tr", { "data-profile-row": qualified(profile), class: profile.enabled ? null : "row-disabled" },
    h("td", null, h("a", { href: profilePath(profile), class: "cn" }, profile.name),
      profile.description ? h("div", { class: "muted small" }, profile.description) : null),
    h("td", null, profile.ca),
    h("td", { "data-status": "" }, enabledBadge(profile), h("div", { class: "muted small" }, `version ${profile.version}`)),
    h("td", null, algorithmsText(profile), h("div", null, modeBadge(profile.key_algorithms.mode))),
    h("td", null, validityText(profile), h("div", null, modeBadge(profile.validity.mode))),
    h("td", null, rules(profile)),
    actions);
}

export async function render({ main, query, session, navigate, current }) {
  const mayAdminister = session.mayAdminister();
  main.append(h("div", { class: "page-header" },
                h("div", null, h("h1", null, "RA profiles"),
                  h("p", { class: "muted" }, "The rules every certificate is requested under: each is hard-fail (refused) or soft-fail (issued with a warning).")),
                mayAdminister ? h("div", { class: "actions" },
                                  h("a", { href: "/profiles/new", class: "button button-primary", id: "profile-new" }, "New RA profile"))
                              : null));
  const [list, cas] = await Promise.all([
    api.get(api.withQuery("/api/v1/profiles", { ca: query.get("ca") })),
    api.get("/api/v1/cas").catch(() => ({ items: [] })),
  ]);
  if (!current()) return;
  const caFilter = h("select", { id: "filter-ca", name: "ca" },
                     h("option", { value: "" }, "Any CA"),
                     cas.items.map((ca) => h("option", { value: ca.name, selected: ca.name === query.get("ca") }, ca.name)));
  const form = h("form", { class: "filters filters-short", "aria-label": "Filter RA profiles" },
                 h("div", { class: "field" }, h("label", { for: "filter-ca" }, "CA"), caFilter),
                 h("div", { class: "filter-actions" }, h("button", { type: "submit", class: "button button-primary" }, "Apply")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    navigate(caFilter.value ? `/profiles?ca=${encodeURIComponent(caFilter.value)}` : "/profiles");
  });
  const status = h("div", { id: "profiles-status", "aria-live": "polite" });
  main.append(form, status);
  if (!mayAdminister) {
    main.append(h("p", { class: "notice notice-info", id: "profiles-read-only" },
                  `Your role (${session.principal().role}) reads RA profiles; administrators change them.`));
  }
  if (!list.items.length) {
    main.append(h("div", { class: "empty table-region", id: "profiles-empty" },
                  h("h2", null, query.get("ca") ? "This CA has no RA profile" : "No RA profiles yet"),
                  h("p", null, mayAdminister ? "Create one with New RA profile; every CA also gets a default profile when it is made."
                                             : "An administrator creates them.")));
    return;
  }
  const tbody = h("tbody");
  const redraw = (updated, failure) => {
    if (failure) {
      status.replaceChildren(errorBox(failure.message, "The profile was not changed"));
      return;
    }
    const index = list.items.findIndex((p) => qualified(p) === qualified(updated));
    list.items[index] = updated;
    status.replaceChildren(h("div", { class: "notice notice-success", role: "status" },
                             `${qualified(updated)} is ${updated.enabled ? "enabled" : "disabled"} (version ${updated.version}).`));
    fill();
    const again = tbody.querySelector(`[data-toggle="${CSS.escape(qualified(updated))}"]`);
    if (again) again.focus();
  };
  const fill = () => tbody.replaceChildren(...list.items.map((p) => row(p, mayAdminister, redraw)));
  fill();
  main.append(h("section", { class: "table-region", "aria-label": "RA profile list" },
    h("div", { class: "table-wrap" },
      h("table", { class: "data", id: "profiles-table" },
        h("caption", { class: "visually-hidden" }, "RA profiles"),
        h("thead", null, h("tr", null, ["Profile", "CA", "Status", "Key algorithms", "Validity", "Rules",
                                         mayAdminister ? "Actions" : null].filter(Boolean)
                                           .map((t) => h("th", { scope: "col" }, t)))),
        tbody))));
}
