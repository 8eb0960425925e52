// The web console in a real browser: signetd (fresh SoftHSM token and store, ephemeral
// 127.0.0.1 ports) driven through Debian's Chromium, headless, by playwright-core. Chromium
// trusts the appliance CA through a fresh NSS database (certutil), as an operator's browser
// would, so no certificate error is ignored. Screenshots of the main pages go to
// SIGNET_CONSOLE_SCREENSHOTS (ctest: build/tests/e2e/console/screenshots).
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";

import { launch } from "./browser.mjs";
import { ADMIN_PASSWORD, Appliance, makeCsr } from "./signetd.mjs";

const SCREENSHOTS = process.env.SIGNET_CONSOLE_SCREENSHOTS || path.resolve("screenshots");
const AUDITOR_PASSWORD = "auditor password for the console test";
const CN = "www.console-e2e.example";
const REVOKE_CN = "revoke-me.console-e2e.example";

let app, admin, work, context, page, issued, toRevoke;
let problems = [];  // console errors, page errors and CSP violations

const hex = (fingerprint) => fingerprint.replaceAll(":", "").toLowerCase();

async function issue(cn, sans) {
  const csr = makeCsr(work, cn, sans);
  return app.json("POST", "/api/v1/certificates",
                  { session: admin, body: { ca: "issuing", key_source: { kind: "csr", csr } } }, 201);
}

async function shot(name) {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: false });
}

before(async () => {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  app = new Appliance().prepare();
  await app.start();
  work = path.join(app.dir, "work");
  fs.mkdirSync(work);
  admin = await app.login();
  await app.json("POST", "/api/v1/operators",
                 { session: admin, body: { name: "audrey", role: "auditor", password: AUDITOR_PASSWORD } }, 201);
  issued = await issue(CN, [`DNS:${CN}`, "DNS:console-e2e.example", "IP:192.0.2.7"]);
  toRevoke = await issue(REVOKE_CN, [`DNS:${REVOKE_CN}`]);
  // The console asks "who am I" on load and tries a wrong password on purpose: the browser
  // reports those 401 answers as failed loads.
  const browser = await launch(app, work, (text) =>
    /^Failed to load resource: the server responded with a status of 401/.test(text));
  ({ context, page, problems } = browser);
});

after(async () => {
  if (context) await context.close();
  if (app) {
    const outcome = await app.close();
    assert.equal(outcome && outcome.code, 0, "signetd stopped cleanly on SIGTERM");
  }
});

test("the console is served with a strict Content-Security-Policy and security headers", async () => {
  const response = await page.goto(`${app.url}/`);
  assert.equal(response.status(), 200);
  const headers = response.headers();
  const csp = headers["content-security-policy"];
  assert.ok(csp, "a Content-Security-Policy header");
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(headers["x-frame-options"], "DENY");
  assert.equal(headers["x-content-type-options"], "nosniff");
  assert.equal(headers["referrer-policy"], "no-referrer");
  assert.equal(headers["cache-control"], "no-store");
  const script = await app.request("GET", "/console/js/main.js");
  assert.equal(script.status, 200);
  assert.match(script.headers["content-type"], /^text\/javascript/);
  assert.equal(script.headers["content-security-policy"], csp);
  assert.equal(script.headers["cache-control"], "no-cache");
  const again = await app.request("GET", "/console/js/main.js", { headers: { "If-None-Match": script.headers.etag } });
  assert.equal(again.status, 304, "an unchanged asset is revalidated by its ETag");
  assert.equal((await app.request("GET", "/console/../api/v1/session")).status, 404);
  assert.equal((await app.request("POST", "/certificates")).status, 405);
  // A client-side route loads the same page; an unknown path is still the API's 404.
  assert.equal((await app.request("GET", "/certificates/00ff")).status, 200);
  assert.equal((await app.request("GET", "/nowhere")).status, 404);
});

test("a wrong password shows an error and keeps the login page", async () => {
  await page.waitForURL(/\/login$/);
  // Keyboard only: the operator field has focus, Tab leads to the password, then the button.
  await page.locator("#login-name").and(page.locator(":focus")).waitFor();
  await page.keyboard.type("admin");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.id), "login-password");
  await page.keyboard.type("not the password");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.id), "login-submit");
  await page.keyboard.press("Enter");
  const error = page.locator("#login-error");
  await error.waitFor({ state: "visible" });
  assert.match(await error.textContent(), /wrong/);
  assert.equal(await page.inputValue("#login-password"), "", "the password field is cleared");
  assert.ok(page.url().endsWith("/login"));
  await shot("login-error");
});

test("the right password lands in the shell with the operator and role", async () => {
  await page.fill("#login-password", ADMIN_PASSWORD);
  await page.press("#login-password", "Enter");
  await page.waitForURL(/\/dashboard$/);
  assert.equal(await page.textContent("#operator-name"), "admin");
  assert.equal(await page.textContent("#operator-role"), "administrator");
  // The dashboard counts what the inventory lists (the issuing CA's own certificate too).
  const active = await app.json("GET", "/api/v1/certificates?status=active&limit=1000", { session: admin });
  assert.ok(active.items.some((c) => c.fingerprint_sha256 === issued.fingerprint_sha256));
  await page.locator("#tile-active .tile-value").filter({ hasText: String(active.items.length) }).waitFor();
  assert.equal(await page.locator("h1").textContent(), "Dashboard");
  assert.ok(!page.url().includes(ADMIN_PASSWORD.split(" ")[0]), "no secret in the URL");
  // The newest audit events are the API's, newest first (this login among them).
  const newest = await app.json("GET", "/api/v1/audit?order=desc&limit=6", { session: admin });
  const rows = page.locator("#recent-audit tbody tr");
  await rows.first().waitFor();
  assert.ok(await rows.count() >= 1 && await rows.count() <= 6);
  const actions = await page.locator("#recent-audit tbody tr td:nth-child(3)").allTextContents();
  assert.ok(newest.items.some((e) => e.action === actions[0]), `${actions[0]} is among the newest`);
  await shot("dashboard");
});

test("a certificate issued through the API appears in the inventory with its fields", async () => {
  await page.click("nav >> text=Certificates");
  await page.waitForURL(/\/certificates$/);
  const row = page.locator(`tr[data-fingerprint="${issued.fingerprint_sha256}"]`);
  await row.waitFor();
  const text = await row.textContent();
  assert.ok(text.includes(CN), `the row names ${CN}: ${text}`);
  assert.ok(text.includes("console-e2e.example"), "the row shows the SANs");
  assert.ok(text.includes("active"), "the row shows the status");
  assert.ok(text.includes(`${issued.days_until_expiry} days left`), `the row shows the days: ${text}`);
  assert.ok(text.includes("issuing"), "the row shows the CA");
  await shot("certificates");
  // A text search narrows the list; a status filter with no match shows the empty state.
  await page.fill("#filter-q", "revoke-me");
  await page.click("form.filters button[type=submit]");
  await page.waitForURL(/q=revoke-me/);
  await page.locator(`tr[data-fingerprint="${toRevoke.fingerprint_sha256}"]`).waitFor();
  assert.equal(await page.locator("#certificates-table tbody tr").count(), 1);
  await page.selectOption("#filter-status", "revoked");
  await page.click("form.filters button[type=submit]");
  await page.locator("#certificates-empty").waitFor();
  await page.click("#filter-reset");
  await row.waitFor();
});

test("the inventory sorts by common name and walks keyset pages both ways", async () => {
  const all = await app.json("GET", "/api/v1/certificates?sort=cn&limit=1000", { session: admin });
  const names = all.items.map((c) => c.common_name);
  assert.ok(names.length >= 4, `at least four certificates: ${names}`);
  await page.goto(`${app.url}/certificates?limit=2`);
  await page.click("th >> text=Common name and SANs");
  await page.waitForURL(/sort=cn/);
  await page.locator("th[aria-sort=ascending]").waitFor();
  const table = page.locator("#certificates-table a.cn");
  await table.first().waitFor();
  const first = await table.allTextContents();
  // A page holds at most `limit` entries (fewer where the API leaves out the appliance's
  // own certificates); walking Next to the end lists everything once, in order.
  const walked = [...first];
  let pageNumber = 1;
  while (!(await page.isDisabled("#page-next"))) {
    await page.click("#page-next");
    pageNumber += 1;
    await page.locator(".pager", { hasText: `Page ${pageNumber} ` }).waitFor();
    const rows = await table.allTextContents();
    assert.ok(rows.length <= 2);
    walked.push(...rows);
  }
  assert.ok(pageNumber >= 2, "more than one page");
  assert.deepEqual(walked, names);
  while (pageNumber > 1) {
    await page.click("#page-previous");
    pageNumber -= 1;
    await page.locator(".pager", { hasText: `Page ${pageNumber} ` }).waitFor();
  }
  assert.ok(await page.isDisabled("#page-previous"), "no page before the first");
  assert.deepEqual(await table.allTextContents(), first);
});

test("the detail page shows the fingerprint and other fields the API gives", async () => {
  await page.goto(`${app.url}/certificates`);
  await page.click(`tr[data-fingerprint="${issued.fingerprint_sha256}"] a.cn`);
  await page.waitForURL(new RegExp(`/certificates/${hex(issued.fingerprint_sha256)}$`));
  const api = await app.json("GET", `/api/v1/certificates/${hex(issued.fingerprint_sha256)}`, { session: admin });
  await page.locator("#cert-fingerprint").waitFor();
  assert.equal((await page.textContent("#cert-fingerprint")).trim(), api.fingerprint_sha256);
  assert.equal((await page.textContent("#cert-cn")).trim(), CN);
  assert.equal((await page.textContent("#cert-serial")).trim(), api.serial);
  assert.equal((await page.textContent("#cert-algorithm")).trim(), api.key_algorithm);
  assert.equal((await page.textContent("#cert-days-left")).trim(), String(api.days_until_expiry));
  assert.match(await page.textContent("#cert-sans"), /IP:192\.0\.2\.7/);
  assert.equal(await page.locator("#revoke").count(), 1, "an administrator is offered Revoke");
  await shot("certificate-detail");
});

test("the PEM download holds the same bytes as the API's PEM", async () => {
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-pem")]);
  assert.match(download.suggestedFilename(), /\.crt$/);
  const file = await download.path();
  const downloaded = fs.readFileSync(file);
  const api = await app.request("GET", `/api/v1/certificates/${hex(issued.fingerprint_sha256)}/pem`, { session: admin });
  assert.equal(api.status, 200);
  assert.ok(downloaded.equals(api.body), "the downloaded PEM equals GET .../pem");
  assert.match(downloaded.toString(), /^-----BEGIN CERTIFICATE-----/);
});

test("renewing from the detail page leads to the new certificate, linked to its predecessor", async () => {
  await page.click("#renew");
  await page.locator("#renew-dialog").waitFor({ state: "visible" });
  await page.fill("#renew-days", "0");
  await page.click("#renew-confirm");
  await page.locator("#renew-error").waitFor({ state: "visible" });
  await page.fill("#renew-days", "30");
  await shot("renew-dialog");
  await page.click("#renew-confirm");
  await page.waitForURL((url) => !url.pathname.endsWith(hex(issued.fingerprint_sha256)));
  await page.locator("#cert-predecessor a").waitFor();
  const fingerprint = (await page.textContent("#cert-fingerprint")).trim();
  assert.notEqual(fingerprint, issued.fingerprint_sha256);
  const renewed = await app.json("GET", `/api/v1/certificates/${hex(fingerprint)}`, { session: admin });
  assert.equal(renewed.common_name, CN);
  assert.equal(renewed.predecessor_id, issued.id);
  assert.equal((await page.textContent("#cert-days-left")).trim(), String(renewed.days_until_expiry));
  assert.ok(renewed.days_until_expiry <= 30);
  await page.click("#cert-predecessor a");
  await page.locator("#cert-successor a").waitFor();
  assert.equal((await page.textContent("#cert-fingerprint")).trim(), issued.fingerprint_sha256);
});

test("the revoke dialog refuses a wrong code, closes on Escape, then revokes", async () => {
  await page.goto(`${app.url}/certificates/${hex(toRevoke.fingerprint_sha256)}`);
  await page.click("#revoke");
  const dialog = page.locator("#revoke-dialog");
  await dialog.waitFor({ state: "visible" });
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
  assert.equal(await page.evaluate(() => document.activeElement.id), "revoke", "focus returns to Revoke");
  await page.click("#revoke");
  await dialog.waitFor({ state: "visible" });
  const code = (await page.textContent("#revoke-code-shown")).trim();
  assert.match(code, /^\d{6}$/);
  const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, "0");
  await page.selectOption("#revoke-reason", "keyCompromise");
  await page.fill("#revoke-code", wrong);
  await page.click("#revoke-confirm");
  await page.locator("#revoke-error").waitFor({ state: "visible" });
  await shot("revoke-dialog");
  let api = await app.json("GET", `/api/v1/certificates/${hex(toRevoke.fingerprint_sha256)}`, { session: admin });
  assert.equal(api.status, "active", "a wrong code revokes nothing");
  await page.fill("#revoke-code", code);
  await page.click("#revoke-confirm");
  await page.locator("#cert-status").filter({ hasText: "revoked" }).waitFor();
  assert.match(await page.textContent("#cert-revocation-reason"), /keyCompromise/);
  assert.equal(await page.locator("#revoke").count(), 0, "a revoked certificate offers no Revoke");
  api = await app.json("GET", `/api/v1/certificates/${hex(toRevoke.fingerprint_sha256)}`, { session: admin });
  assert.equal(api.status, "revoked");
  assert.equal(api.revocation.reason, "keyCompromise");
  await shot("certificate-revoked");
});

test("logging out and in as an auditor: no Revoke, downloads still offered", async () => {
  await page.click("#logout");
  await page.waitForURL(/\/login$/);
  assert.match(await page.textContent("#login-flash"), /logged out/);
  await page.fill("#login-name", "audrey");
  await page.fill("#login-password", AUDITOR_PASSWORD);
  await page.click("#login-submit");
  await page.waitForURL(/\/dashboard$/);
  assert.equal(await page.textContent("#operator-role"), "auditor");
  await page.goto(`${app.url}/certificates/${hex(issued.fingerprint_sha256)}`);
  await page.locator("#cert-fingerprint").waitFor();
  assert.equal(await page.locator("#revoke").count(), 0, "an auditor is not offered Revoke");
  assert.equal(await page.locator("#renew").count(), 0, "an auditor is not offered Renew");
  assert.equal(await page.locator("#download-pem").count(), 1);
  await shot("auditor-detail");
});

test("an ended session sends the console back to the login page with a message", async () => {
  await context.clearCookies();
  await page.click("nav >> text=Certificates");
  await page.waitForURL(/\/login$/);
  assert.match(await page.textContent("#login-flash"), /session has expired/);
  await shot("session-expired");
});

test("no console errors and no CSP violations on any page", () => {
  assert.deepEqual(problems, []);
});
