// The console's entry point: a client-side router over the History API, the login gate and
// the application shell (top bar, navigation, main area). Pages live in pages/*.js; each
// exports render(context) that fills context.main.
import * as api from "./api.js";
import { h } from "./dom.js";
import * as session from "./session.js";
import * as login from "./pages/login.js";
import * as dashboard from "./pages/dashboard.js";
import * as certificates from "./pages/certificates.js";
import * as certificate from "./pages/certificate.js";
import * as request from "./pages/request.js";
import * as orders from "./pages/orders.js";
import * as order from "./pages/order.js";
import * as alerts from "./pages/alerts.js";
import * as tokens from "./pages/tokens.js";
import * as operators from "./pages/operators.js";
import * as profiles from "./pages/profiles.js";
import * as profile from "./pages/profile.js";
import * as cas from "./pages/cas.js";
import * as audit from "./pages/audit.js";
import * as cards from "./pages/cards.js";
import * as cardEnroll from "./pages/card_enroll.js";

const routes = [
  { pattern: /^\/login$/, page: login, public: true },
  { pattern: /^\/$/, redirect: "/dashboard" },
  { pattern: /^\/dashboard$/, page: dashboard, nav: "dashboard" },
  { pattern: /^\/certificates$/, page: certificates, nav: "certificates" },
  { pattern: /^\/certificates\/([0-9A-Fa-f:]+)$/, page: certificate, nav: "certificates" },
  { pattern: /^\/request$/, page: request, nav: "request" },
  { pattern: /^\/orders$/, page: orders, nav: "orders" },
  { pattern: /^\/orders\/(\d+)$/, page: order, nav: "orders" },
  { pattern: /^\/alerts$/, page: alerts, nav: "alerts" },
  { pattern: /^\/tokens$/, page: tokens, nav: "tokens" },
  { pattern: /^\/cards$/, page: cards, nav: "cards" },
  { pattern: /^\/cards\/enroll$/, page: cardEnroll, nav: "cards" },
  { pattern: /^\/operators$/, page: operators, nav: "operators" },
  { pattern: /^\/profiles$/, page: profiles, nav: "profiles" },
  { pattern: /^\/profiles\/new$/, page: profile, nav: "profiles" },
  { pattern: /^\/profiles\/([A-Za-z0-9._-]+)\/([A-Za-z0-9._-]+)$/, page: profile, nav: "profiles" },
  { pattern: /^\/cas$/, page: cas, nav: "cas" },
  { pattern: /^\/audit$/, page: audit, nav: "audit" },
];

const navItems = [
  { id: "dashboard", href: "/dashboard", label: "Dashboard" },
  { id: "certificates", href: "/certificates", label: "Certificates" },
  { id: "request", href: "/request", label: "Request a certificate", operate: true },
  { id: "orders", href: "/orders", label: "Orders" },
  { id: "alerts", href: "/alerts", label: "Alerts" },
  { id: "profiles", href: "/profiles", label: "RA profiles" },
  { id: "cas", href: "/cas", label: "CAs and CRLs" },
  { id: "tokens", href: "/tokens", label: "Tokens" },
  { id: "cards", href: "/cards", label: "Smart cards" },
  { id: "audit", href: "/audit", label: "Audit log", audit: true },
  { id: "operators", href: "/operators", label: "Operators", administer: true },
];

// Whether the logged-in role sees a navigation entry (the API refuses the rest anyway).
function offered(item) {
  return (!item.operate || session.mayOperate()) && (!item.audit || session.mayAudit()) &&
         (!item.administer || session.mayAdminister());
}

const app = document.getElementById("app");
let shell = null;  // {root, main, nav: Map(id -> link)} while logged in
let flash = null;  // a message for the next page: {kind, text}
let renderCount = 0;

export function navigate(url, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  render();
}

export function setFlash(kind, text) {
  flash = { kind, text };
}

function takeFlash() {
  const taken = flash;
  flash = null;
  return taken;
}

function buildShell(principal) {
  const main = h("main", { id: "main", class: "content", tabindex: "-1" });
  const links = new Map();
  const nav = h("nav", { class: "sidenav", "aria-label": "Main" },
                h("ul", null, navItems.filter(offered).map((item) => {
                  const link = h("a", { href: item.href, class: "nav-link" }, item.label);
                  links.set(item.id, link);
                  return h("li", null, link);
                })));
  const logout = h("button", { type: "button", class: "button button-quiet", id: "logout" }, "Log out");
  logout.addEventListener("click", async () => {
    logout.disabled = true;
    try {
      await session.logout();
    } catch {
      // The session is gone from this console either way.
    }
    shell = null;
    setFlash("info", "You are logged out.");
    navigate("/login", { replace: true });
  });
  const top = h("header", { class: "topbar" },
                h("a", { href: "/dashboard", class: "brand", "aria-label": "Signet dashboard" },
                  h("img", { src: "/console/favicon.svg", alt: "", width: "28", height: "28" }),
                  h("span", { class: "brand-name" }, "Signet")),
                h("span", { class: "appliance", title: "Appliance" }, location.host),
                h("span", { class: "spacer" }),
                h("span", { class: "who" },
                  h("span", { class: "who-name", id: "operator-name" }, principal.operator),
                  h("span", { class: `role role-${principal.role}`, id: "operator-role" }, principal.role)),
                logout);
  const skip = h("a", { href: "#main", class: "skip-link" }, "Skip to content");
  skip.addEventListener("click", (event) => {
    event.preventDefault();
    main.focus();
  });
  const root = h("div", { class: "shell" }, skip, top, h("div", { class: "body" }, nav, main));
  return { root, main, links, operator: principal.operator };
}

function matchRoute(path) {
  for (const route of routes) {
    const match = route.pattern.exec(path);
    if (match) return { route, params: match.slice(1) };
  }
  return null;
}

async function render() {
  const ticket = ++renderCount;
  const path = location.pathname;
  const found = matchRoute(path);
  if (!found) {
    navigate("/dashboard", { replace: true });
    return;
  }
  if (found.route.redirect) {
    navigate(found.route.redirect, { replace: true });
    return;
  }
  let principal = session.principal();
  if (!principal && !found.route.public) {
    try {
      principal = await session.refresh();
    } catch (error) {
      app.replaceChildren(h("div", { class: "boot" }, h("p", { role: "alert" }, error.message)));
      return;
    }
    if (ticket !== renderCount) return;
    if (!principal) {
      navigate("/login", { replace: true });
      return;
    }
  }
  if (found.route.public) {
    shell = null;
    const container = h("div", { class: "public" });
    app.replaceChildren(container);
    await found.route.page.render({ main: container, flash: takeFlash(), navigate, session });
    return;
  }
  if (!shell || shell.operator !== principal.operator) {
    shell = buildShell(principal);
    app.replaceChildren(shell.root);
  }
  for (const [id, link] of shell.links) {
    if (id === found.route.nav) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const main = h("div", { class: "page" });
  shell.main.replaceChildren(main);
  const notice = takeFlash();
  if (notice) {
    main.append(h("div", { class: `notice notice-${notice.kind}`, role: "status" }, notice.text));
  }
  const context = {
    main,
    params: found.params,
    query: new URLSearchParams(location.search),
    principal,
    session,
    navigate,
    setFlash,
    current: () => ticket === renderCount,
  };
  try {
    await found.route.page.render(context);
  } catch (error) {
    if (ticket !== renderCount || error.status === 401) return;
    main.append(h("div", { class: "notice notice-error", role: "alert" },
                  h("strong", null, "This page could not be shown"), h("p", null, error.message)));
  }
  if (ticket === renderCount) {
    const heading = main.querySelector("h1");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: true });
    }
    document.title = `${heading ? heading.textContent : "Signet"} · Signet console`;
  }
}

api.onSessionExpired(() => {
  if (!session.principal()) return;
  session.set(null);
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
  shell = null;
  setFlash("warning", "Your session has expired. Log in again to continue.");
  navigate("/login", { replace: true });
});

// Same-origin links move within the console without reloading it; downloads, API links and
// modified clicks (new tab) keep the browser's own behaviour.
document.addEventListener("click", (event) => {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = event.target.closest("a[href]");
  if (!link || link.hasAttribute("download") || link.target) return;
  const url = new URL(link.href);
  if (url.origin !== location.origin || url.pathname.startsWith("/api/") ||
      url.pathname.startsWith("/console/") || link.getAttribute("href").startsWith("#")) {
    return;
  }
  event.preventDefault();
  navigate(url.pathname + url.search);
});

window.addEventListener("popstate", () => render());
render();
