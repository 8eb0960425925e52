// The console's administration pages in a real browser (see browser.mjs): RA profiles (create
// with a hard-fail rule and see a CSR that breaks it refused through the API and the wizard,
// problems shown under their fields, edit the rule to soft-fail, disable and enable), CAs and
// CRLs (the hierarchy, the CA certificate and CRL downloads parsed by openssl, Generate CRL now)
// and the audit log (the events just made, filters, the chain verified, a checkpoint, the export
// checked offline by `signet audit verify --offline`), and an auditor who sees no write button.
// Screenshots go to SIGNET_CONSOLE_SCREENSHOTS (ctest: build/tests/e2e/console/screenshots).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";

import { launch } from "./browser.mjs";
import { ADMIN_PASSWORD, Appliance, makeCsr, run } from "./signetd.mjs";

const SCREENSHOTS = process.env.SIGNET_CONSOLE_SCREENSHOTS || path.resolve("screenshots");
const AUDITOR_PASSWORD = "auditor password for the admin pages test";
const OFFICER_PASSWORD = "ra officer password for the admin pages test";
const PROFILE = "issuing/p384-only";

let app, admin, work, browser, page, csrP256;

// Refusals this test provokes on purpose show up as failed loads in the browser's console.
const expectedErrors = (text) => /^Failed to load resource: the server responded with a status of (400|401|409|422)/.test(text);

// What a 1366x768 rack console shows first, and (`full`) the whole page too. Every page fits
// the width: nothing to scroll sideways.
async function shot(name, { full = false } = {}) {
  await page.evaluate(() => window.scrollTo(0, 0));
  const [scroll, width] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(scroll <= width, `${name}: the page is ${scroll} px wide in a ${width} px window`);
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
  if (full) await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-full.png`), fullPage: true });
}

async function loginAs(name, password) {
  await page.goto(`${app.url}/login`);
  await page.fill("#login-name", name);
  await page.fill("#login-password", password);
  await page.click("#login-submit");
  await page.waitForURL(/\/dashboard$/);
}

async function download(selector) {
  const [file] = await Promise.all([page.waitForEvent("download"), page.click(selector)]);
  const target = path.join(work, file.suggestedFilename());
  await file.saveAs(target);
  return target;
}

const issueThroughApi = (profile, csr) => app.request("POST", "/api/v1/certificates", {
  session: admin, body: { profile, key_source: { kind: "csr", csr } } });
const apiProfile = () => app.json("GET", `/api/v1/profiles/${PROFILE}`, { session: admin });
const text = async (selector) => (await page.textContent(selector)).trim();

before(async () => {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  app = new Appliance().prepare();
  await app.start();
  work = path.join(app.dir, "work");
  fs.mkdirSync(work);
  admin = await app.login();
  await app.json("POST", "/api/v1/operators",
                 { session: admin, body: { name: "audrey", role: "auditor", password: AUDITOR_PASSWORD } }, 201);
  await app.json("POST", "/api/v1/operators",
                 { session: admin, body: { name: "rita", role: "ra-officer", password: OFFICER_PASSWORD } }, 201);
  csrP256 = makeCsr(work, "p256.example.test", ["DNS:p256.example.test"]);
  browser = await launch(app, work, expectedErrors);
  page = browser.page;
});

after(async () => {
  if (browser) await browser.context.close();
  if (app) {
    const outcome = await app.close();
    assert.equal(outcome && outcome.code, 0, "signetd stopped cleanly on SIGTERM");
  }
});

test("an administrator's navigation offers RA profiles, CAs and CRLs and the audit log", async () => {
  await loginAs("admin", ADMIN_PASSWORD);
  for (const label of ["RA profiles", "CAs and CRLs", "Audit log"]) {
    assert.equal(await page.locator("nav.sidenav a", { hasText: label }).count(), 1, label);
  }
  await page.click("nav >> text=RA profiles");
  await page.locator("#profiles-table").waitFor();
  // Every CA got its default profile.
  assert.equal(await page.locator('[data-profile-row="issuing/default"]').count(), 1);
  assert.equal(await page.locator('[data-profile-row="root/default"]').count(), 1);
  await shot("profiles-list");
});

test("a new profile: problems shown under their fields, then created with a hard-fail key rule", async () => {
  await page.click("#profile-new");
  await page.locator("#profile-form").waitFor();
  await page.fill("#profile-name", "p384-only");
  await page.selectOption("#profile-ca", "issuing");
  await page.fill("#profile-description", "Only P-384 keys");
  for (const algorithm of ["ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096", "ed25519"]) {
    await page.setChecked(`#alg-${algorithm}`, algorithm === "ec-p384");
  }
  // Checked in the page: a default longer than the maximum.
  await page.fill("#validity-default_days", "500");
  await page.fill("#validity-max_days", "397");
  await page.click("#profile-save");
  await page.locator("#validity-default_days-error").waitFor();
  assert.match(await text("#validity-default_days-error"), /longer than the maximum/);
  assert.equal(await page.evaluate(() => document.activeElement.id), "validity-default_days",
               "focus moves to the first field to correct");
  await page.fill("#validity-default_days", "90");
  // Checked by the appliance: its message goes under the field it names.
  await page.fill("#subject-required", "CN, NOPE");
  await page.click("#profile-save");
  await page.locator("#subject-required-error").waitFor();
  assert.match(await text("#subject-required-error"), /NOPE.*not a subject attribute type/);
  assert.equal(await page.locator("#subject-required").getAttribute("aria-invalid"), "true");
  assert.match(await text("#profile-errors"), /refused the profile/);
  await shot("profile-new-errors", { full: true });
  await page.fill("#subject-required", "CN");
  await page.click("#profile-save");
  await page.waitForURL(/\/profiles\/issuing\/p384-only$/);
  assert.match(await text(".notice-success"), /created \(version 1\)/);
  const stored = await apiProfile();
  assert.deepEqual(stored.key_algorithms, { allowed: ["ec-p384"], mode: "hard" });
  assert.deepEqual(stored.validity, { default_days: 90, max_days: 397, mode: "hard" });
  assert.deepEqual(stored.subject.required, ["CN"]);
  assert.equal(stored.description, "Only P-384 keys");
});

test("a CSR with a P-256 key is refused by the hard-fail rule, through the API and the wizard", async () => {
  const direct = await issueThroughApi(PROFILE, csrP256);
  assert.equal(direct.status, 422);
  const message = JSON.parse(direct.body.toString()).error.message;
  assert.match(message, /not allowed by profile issuing\/p384-only/);
  await page.goto(`${app.url}/request`);
  await page.locator(`input[data-profile="${PROFILE}"]`).check();
  await page.click("#wizard-next");
  await page.locator("#key-source-csr").check();
  await page.fill("#csr-text", csrP256);
  await page.click("#wizard-next");
  await page.click("#request-submit");
  const error = page.locator("#step-error");
  await error.filter({ hasText: "refused" }).waitFor();
  assert.match(await error.textContent(), /not allowed by profile issuing\/p384-only/);
});

test("editing the key rule to soft-fail: a new version, and the same CSR is issued with a warning", async () => {
  await page.goto(`${app.url}/profiles/${PROFILE}`);
  await page.locator("#profile-form").waitFor();
  assert.equal(await text("#profile-version"), "version 1");
  await page.selectOption("#mode-key_algorithms", "soft");
  await shot("profile-edit", { full: true });
  await page.click("#profile-save");
  await page.locator("#profile-version", { hasText: "version 2" }).waitFor();
  assert.match(await text(".notice-success"), /now version 2/);
  const stored = await apiProfile();
  assert.equal(stored.version, 2);
  assert.equal(stored.key_algorithms.mode, "soft");
  const issued = await issueThroughApi(PROFILE, csrP256);
  assert.equal(issued.status, 201, issued.body.toString());
  const body = JSON.parse(issued.body.toString());
  assert.ok(body.warnings.some((w) => /not allowed by profile issuing\/p384-only/.test(w)), JSON.stringify(body.warnings));
  await page.goto(`${app.url}/profiles`);
  const row = page.locator(`[data-profile-row="${PROFILE}"]`);
  assert.match(await row.textContent(), /soft-fail/);
});

test("disable and enable from the list: the API refuses requests while disabled", async () => {
  const row = page.locator(`[data-profile-row="${PROFILE}"]`);
  await page.click(`[data-toggle="${PROFILE}"]`);
  await row.locator("[data-status]", { hasText: "disabled" }).waitFor();
  assert.equal((await apiProfile()).enabled, false);
  assert.equal(await page.evaluate(() => document.activeElement.dataset.toggle), PROFILE,
               "focus stays on the toggle for the keyboard");
  const refused = await issueThroughApi(PROFILE, csrP256);
  assert.equal(refused.status, 422);
  assert.match(JSON.parse(refused.body.toString()).error.message, /disabled/);
  await shot("profiles-disabled");
  await page.click(`[data-toggle="${PROFILE}"]`);
  await row.locator("[data-status]", { hasText: "enabled" }).waitFor();
  assert.equal((await apiProfile()).enabled, true);
  // And disabled again from its own page.
  await page.goto(`${app.url}/profiles/${PROFILE}`);
  await page.click("#profile-toggle");
  await page.locator("#profile-disabled-note").waitFor();
  assert.equal((await apiProfile()).enabled, false);
});

test("a save over someone else's newer version is refused and said so, not overwritten", async () => {
  await page.goto(`${app.url}/profiles/${PROFILE}`);
  await page.locator("#profile-form").waitFor();
  const read = await apiProfile();
  await app.json("PATCH", `/api/v1/profiles/${PROFILE}`,
                 { session: admin, body: { version: read.version, description: "changed elsewhere" } });
  await page.fill("#profile-description", "changed in the console");
  await page.click("#profile-save");
  await page.locator("#profile-errors").waitFor();
  assert.match(await text("#profile-errors"), /Someone changed this profile/);
  assert.equal((await apiProfile()).description, "changed elsewhere");
  await page.reload();
  await page.locator("#profile-form").waitFor();
  assert.equal(await page.inputValue("#profile-description"), "changed elsewhere");
});

test("CAs and CRLs: the hierarchy nests the intermediate under its root, with the API's facts", async () => {
  await page.click("nav >> text=CAs and CRLs");
  await page.locator("#ca-hierarchy").waitFor();
  assert.equal(await page.locator('#ca-hierarchy > li[data-ca-node="root"]').count(), 1);
  assert.equal(await page.locator('#ca-hierarchy > li[data-ca-node="root"] > ul > li[data-ca-node="issuing"]').count(), 1,
               "issuing is nested under root");
  assert.equal(await page.locator('#ca-hierarchy > li[data-ca-node="issuing"]').count(), 0);
  const issuing = await app.json("GET", "/api/v1/cas/issuing", { session: admin });
  assert.equal(await text("#ca-issuing-subject"), issuing.subject);
  assert.equal(await text("#ca-issuing-algorithm"), "ec-p256");
  assert.equal(await text("#ca-issuing-key"), issuing.key_uri);
  assert.match(await text("#ca-issuing-validity"), new RegExp(issuing.not_after.slice(0, 10)));
  const der = await download("#ca-issuing-der");
  const subject = run("openssl", ["x509", "-inform", "DER", "-in", der, "-noout", "-subject"]);
  assert.match(subject, /CN ?= ?E2E Issuing/);
  await shot("cas");
});

test("a CRL past its nextUpdate is shown overdue and named above the hierarchy", async () => {
  // The appliance's own answer for root's CRL (asked by the test), its times moved a day back
  // on the way to the browser: the page as it is when a CRL is two hours overdue, without the
  // test waiting a day.
  const url = (u) => u.pathname === "/api/v1/cas/root/crls/latest" && u.searchParams.get("format") === "json";
  await page.route(url, async (route) => {
    const crl = await app.json("GET", "/api/v1/cas/root/crls/latest?format=json", { session: admin });
    const back = (iso, seconds) => new Date(Date.parse(iso) - seconds * 1000).toISOString().replace(/\.\d+Z$/, "Z");
    const shift = Date.parse(crl.next_update) - Date.now() + 7200 * 1000;
    await route.fulfill({ status: 200, json: { ...crl, expired: true, this_update: back(crl.this_update, shift / 1000),
                                               next_update: back(crl.next_update, shift / 1000) } });
  });
  try {
    await page.goto(`${app.url}/cas`);
    await page.locator("#crl-root-health", { hasText: "overdue by 2 h" }).waitFor();
    assert.match(await page.getAttribute("#crl-root", "class"), /crl-overdue/);
    assert.match(await text(".notice-error"), /Overdue CRL.*root/s);
    assert.match(await text("#crl-issuing-health"), /current/);
    await shot("cas-overdue");
  } finally {
    await page.unroute(url);
  }
});

test("Generate CRL now: the number shown goes up, and the downloaded CRL is the API's and parses", async () => {
  const number = async () => {
    const shown = page.locator("#crl-issuing-number");
    return (await shown.count()) ? Number(await shown.textContent()) : 0;
  };
  const before = await number();
  await page.click("#crl-issuing-generate");
  // The scheduler may sign CRLs of its own meanwhile: the new one is whatever the API now has.
  await page.locator("#crl-issuing .notice-success").waitFor();
  const shown = await number();
  const latest = await app.json("GET", "/api/v1/cas/issuing/crls/latest?format=json", { session: admin });
  assert.ok(shown > before, `${shown} > ${before}`);
  assert.equal(shown, latest.number);
  assert.match(await text("#crl-issuing .notice-success"), new RegExp(`CRL ${shown} generated`));
  assert.match(await text("#crl-issuing-health"), /current/);
  assert.equal(await page.evaluate(() => document.activeElement.id), "crl-issuing-generate");
  const file = await download("#crl-issuing-der");
  const crlNumber = run("openssl", ["crl", "-inform", "DER", "-in", file, "-noout", "-crlnumber"]);
  assert.equal(Number.parseInt(crlNumber.split("=")[1], 16), latest.number);
  const fromApi = await app.request("GET", "/api/v1/cas/issuing/crls/latest", { session: admin });
  assert.ok(fs.readFileSync(file).equals(fromApi.body), "the download equals GET .../crls/latest");
  await shot("cas-crl-generated", { full: true });
});

test("the audit log lists what was just done, filters narrow it, and the chain verifies", async () => {
  await page.click("nav >> text=Audit log");
  await page.locator("#audit-table").waitFor();
  await page.locator("#audit-verify-status").waitFor();
  assert.match(await text("#audit-verify-status"), /Verified: the hash chain is intact/);
  const actions = await page.locator("#audit-table tbody tr td:nth-child(4)").allTextContents();
  for (const action of ["profile.disabled", "profile.enabled", "crl.generated"]) {
    assert.ok(actions.includes(action), `${action} listed`);
  }
  const sequences = (await page.locator("#audit-table tbody tr").evaluateAll(
    (rows) => rows.map((r) => Number(r.dataset.sequence))));
  assert.deepEqual(sequences, [...sequences].sort((a, b) => b - a), "newest first");
  await shot("audit", { full: true });
  // An action prefix and a text.
  await page.fill("#audit-action", "profile.");
  await page.fill("#audit-q", "p384-only");
  await page.click(".filters-audit button[type=submit]");
  await page.waitForURL(/action=profile\./);
  await page.locator("#audit-table").waitFor();
  const filtered = await page.locator("#audit-table tbody tr td:nth-child(4)").allTextContents();
  assert.deepEqual(filtered, ["profile.updated", "profile.disabled", "profile.enabled", "profile.disabled",
                              "profile.updated", "profile.created"], "this profile's history, newest first");
  const objects = await page.locator("#audit-table tbody tr td:nth-child(5)").allTextContents();
  assert.ok(objects.every((o) => o === `profile:${PROFILE}`), objects.join());
  // Pages of 10, older and back.
  await page.goto(`${app.url}/audit?limit=10`);
  await page.locator("#audit-table").waitFor();
  const first = await page.locator("#audit-table tbody tr").evaluateAll((rows) => rows.map((r) => Number(r.dataset.sequence)));
  assert.deepEqual(first, sequences.slice(0, 10));
  await page.click("#audit-older");
  await page.locator("#audit-page", { hasText: "Page 2" }).waitFor();
  const second = await page.locator("#audit-table tbody tr").evaluateAll((rows) => rows.map((r) => Number(r.dataset.sequence)));
  assert.deepEqual(second, sequences.slice(10, 20));
  await page.click("#audit-newer");
  await page.locator("#audit-page", { hasText: "Page 1" }).waitFor();
  // An object links to its own events.
  await page.locator("#audit-table a.filter-link", { hasText: `profile:${PROFILE}` }).first().click();
  await page.waitForURL(/object=profile/);
  await page.locator("#audit-table").waitFor();
  assert.equal(await page.inputValue("#audit-object"), `profile:${PROFILE}`);
  const about = await page.locator("#audit-table tbody tr td:nth-child(5)").allTextContents();
  assert.ok(about.length >= 6 && about.every((o) => o === `profile:${PROFILE}`), about.join());
  // The actor filter and a time range that holds nothing.
  await page.goto(`${app.url}/audit?actor=${encodeURIComponent("operator:nobody")}`);
  await page.locator("#audit-empty").waitFor();
  await page.goto(`${app.url}/audit?since=2200-01-01T00:00:00Z`);
  await page.locator("#audit-empty").waitFor();
  assert.equal(await page.inputValue("#audit-since"), "2200-01-01T00:00");
});

test("a checkpoint, then the export and the audit key verify offline with signet", async () => {
  await page.goto(`${app.url}/audit`);
  await page.locator("#audit-verify-status").waitFor();
  await page.click("#audit-checkpoint");
  await page.locator("#audit-last-checkpoint", { hasText: "sequence" }).waitFor();
  await page.locator("#audit-pubkey").waitFor();
  assert.match(await text("#audit-gap"), /none|1 entry/);
  await shot("audit-checkpoint");
  const exported = await download("#audit-export");
  const pubkey = await download("#audit-pubkey");
  assert.match(fs.readFileSync(pubkey, "utf8"), /^-----BEGIN PUBLIC KEY-----/);
  const lines = fs.readFileSync(exported, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.ok(lines.some((l) => l.type === "checkpoint"), "the export carries the checkpoint");
  assert.ok(lines.some((l) => l.type === "event" && l.action === "profile.enabled"));
  const verify = spawnSync(process.env.SIGNET_BIN || "signet",
                           ["--json", "audit", "verify", "--offline", exported, "--pubkey", pubkey],
                           { env: app.env, encoding: "utf8", timeout: 120_000 });
  assert.equal(verify.status, 0, verify.stderr);
  const report = JSON.parse(verify.stdout);
  assert.equal(report.ok, true);
  assert.ok(report.checkpoints >= 1);
});

test("on a smaller laptop screen (1024x768) the pages still fit the width", async () => {
  await page.setViewportSize({ width: 1024, height: 768 });
  try {
    for (const [url, ready, name] of [["/profiles", "#profiles-table", "laptop-profiles"],
                                      [`/profiles/${PROFILE}`, "#profile-form", "laptop-profile"],
                                      ["/cas", "#ca-hierarchy", "laptop-cas"],
                                      ["/audit", "#audit-table", "laptop-audit"]]) {
      await page.goto(`${app.url}${url}`);
      await page.locator(ready).waitFor();
      await shot(name);
    }
  } finally {
    await page.setViewportSize({ width: 1366, height: 768 });
  }
});

test("an auditor reads every page and is offered no write button", async () => {
  await page.click("#logout");
  await page.waitForURL(/\/login$/);
  await loginAs("audrey", AUDITOR_PASSWORD);
  await page.click("nav >> text=RA profiles");
  await page.locator("#profiles-table").waitFor();
  assert.equal(await page.locator("#profile-new").count(), 0);
  assert.equal(await page.locator("[data-toggle]").count(), 0);
  assert.equal(await page.locator("#profiles-read-only").count(), 1);
  await shot("auditor-profiles");
  await page.goto(`${app.url}/profiles/${PROFILE}`);
  await page.locator("#profile-read-only").waitFor();
  assert.equal(await page.locator("#profile-form").count(), 0);
  assert.equal(await page.locator("#profile-toggle").count(), 0);
  assert.match(await text("#rule-key_algorithms-text"), /ec-p384.*soft-fail/);
  await shot("auditor-profile");
  await page.goto(`${app.url}/cas`);
  await page.locator("#ca-hierarchy").waitFor();
  assert.equal(await page.locator("#crl-issuing-generate, #crl-root-generate").count(), 0);
  assert.equal(await page.locator("#crl-issuing-der").count(), 1, "downloads stay");
  await page.click("nav >> text=Audit log");
  await page.locator("#audit-table").waitFor();
  assert.equal(await page.locator("#audit-export").count(), 1);
  await shot("auditor-audit");
});

test("an RA officer generates CRLs but changes no profile and has no audit log", async () => {
  await page.click("#logout");
  await page.waitForURL(/\/login$/);
  await loginAs("rita", OFFICER_PASSWORD);
  assert.equal(await page.locator("nav.sidenav a", { hasText: "Audit log" }).count(), 0);
  await page.click("nav >> text=RA profiles");
  await page.locator("#profiles-table").waitFor();
  assert.equal(await page.locator("#profile-new, [data-toggle]").count(), 0);
  await page.click("nav >> text=CAs and CRLs");
  await page.locator("#ca-hierarchy").waitFor();
  assert.equal(await page.locator("#crl-root-generate").count(), 1);
});

test("no console errors and no CSP violations on any page", () => {
  assert.deepEqual(browser.problems, []);
});
