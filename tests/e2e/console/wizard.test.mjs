// The console's request flows in a real browser (see browser.mjs): the request wizard from a
// pasted CSR (made by openssl), a CSR the appliance refuses (its message shown inline), a
// corrupted CSR, a key pair generated on the SoftHSM token, a local key with the PFX dialog
// (the password it shows opens the downloaded file with openssl), rekey from the detail page,
// a failed order resubmitted after its cause is fixed, and the alerts page. Screenshots go to
// SIGNET_CONSOLE_SCREENSHOTS (ctest: build/tests/e2e/console/screenshots).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";

import { launch } from "./browser.mjs";
import { ADMIN_PASSWORD, Appliance, makeCsr, run } from "./signetd.mjs";

const SCREENSHOTS = process.env.SIGNET_CONSOLE_SCREENSHOTS || path.resolve("screenshots");
const hex = (fingerprint) => fingerprint.replaceAll(":", "").toLowerCase();

let app, admin, work, browser, page;

// The browser reports refused requests as failed loads: those this test provokes are expected.
const expectedErrors = (text) => /^Failed to load resource: the server responded with a status of (400|401|403|422)/.test(text);

async function shot(name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

// A CSR with an RSA key of `bits` (openssl, as a requester would make it).
function rsaCsr(cn, bits) {
  const out = path.join(work, `${cn}.csr`);
  run("openssl", ["req", "-new", "-nodes", "-newkey", `rsa:${bits}`, "-keyout", path.join(work, `${cn}.key`),
                  "-out", out, "-subj", `/CN=${cn}`, "-addext", `subjectAltName=DNS:${cn}`]);
  return fs.readFileSync(out, "utf8");
}

// The same CSR with the last byte of its signature changed: well-formed, but it does not verify.
function corrupted(pem) {
  const body = pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
  const der = Buffer.from(body, "base64");
  der[der.length - 1] ^= 0x01;
  const lines = der.toString("base64").match(/.{1,64}/g).join("\n");
  return `-----BEGIN CERTIFICATE REQUEST-----\n${lines}\n-----END CERTIFICATE REQUEST-----\n`;
}

async function startWizard(profile) {
  await page.goto(`${app.url}/request`);
  await page.locator(`input[data-profile="${profile}"]`).check();
  await page.click("#wizard-next");
  await page.locator("#csr-text").waitFor({ state: "attached" });
}

async function chooseSource(kind) {
  await page.locator(`#key-source-${kind}`).check();
}

async function fillSubject(cn, sans = []) {
  await page.click("#wizard-next");
  await page.locator("#subject-cn").waitFor();
  await page.fill("#subject-cn", cn);
  await page.fill("#subject-sans", sans.join("\n"));
  await page.click("#wizard-next");
  await page.locator("#request-submit").waitFor();
}

async function submitAndOpenResult() {
  await page.click("#request-submit");
  await page.locator("#request-result").waitFor();
}

// Opens `file` with openssl pkcs12 and the password given through a 0600 file (never argv).
function opensPfx(file, password) {
  const passFile = path.join(work, "pfx-pass");
  fs.writeFileSync(passFile, password, { mode: 0o600 });
  try {
    const result = spawnSync("openssl", ["pkcs12", "-in", file, "-passin", `file:${passFile}`, "-noout"],
                             { encoding: "utf8", timeout: 60_000 });
    return result.status === 0;
  } finally {
    fs.rmSync(passFile, { force: true });
  }
}

before(async () => {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  app = new Appliance().prepare();
  await app.start();
  work = path.join(app.dir, "work");
  fs.mkdirSync(work);
  admin = await app.login();
  const profile = (name, description, suffixes) => app.json("POST", "/api/v1/profiles", {
    session: admin,
    body: { name, ca: "issuing", description,
            key_algorithms: { allowed: ["ec-p256", "ec-p384", "rsa-2048"], mode: "hard" },
            validity: { default_days: 90, max_days: 397, mode: "hard" },
            sans: { dns_suffixes: suffixes, allow_ip: false, allow_email: false, allow_uri: false,
                    max_count: 10, mode: "hard" } },
  }, 201);
  await profile("web", "TLS servers under example.test", ["example.test"]);
  await profile("strict", "Only names under allowed.example", ["allowed.example"]);
  browser = await launch(app, work, expectedErrors);
  page = browser.page;
  await browser.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: app.url });
});

after(async () => {
  if (browser) await browser.context.close();
  if (app) {
    const outcome = await app.close();
    assert.equal(outcome && outcome.code, 0, "signetd stopped cleanly on SIGTERM");
  }
});

test("log in; the navigation offers the request wizard, orders and alerts", async () => {
  await page.goto(`${app.url}/login`);
  await page.fill("#login-name", "admin");
  await page.fill("#login-password", ADMIN_PASSWORD);
  await page.click("#login-submit");
  await page.waitForURL(/\/dashboard$/);
  for (const label of ["Request a certificate", "Orders", "Alerts"]) {
    assert.equal(await page.locator("nav.sidenav a", { hasText: label }).count(), 1, label);
  }
});

test("a pasted CSR is checked on paste, issued, and listed in the inventory with its fields", async () => {
  const cn = "www.example.test";
  const csr = makeCsr(work, cn, [`DNS:${cn}`, "DNS:shop.example.test"]);
  await page.goto(`${app.url}/certificates`);
  await page.click("#request-new");
  await page.waitForURL(/\/request$/);
  await page.locator('input[data-profile="issuing/web"]').waitFor();
  await page.click("#wizard-next");
  assert.match(await page.textContent("#step-error"), /Choose the RA profile/);
  await page.locator('input[data-profile="issuing/web"]').check();
  await shot("request-profile");
  await page.click("#wizard-next");
  await chooseSource("csr");
  // Not a CSR: said at once, under the field; Next refuses it too.
  await page.fill("#csr-text", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----");
  await page.locator("#csr-problem").waitFor({ state: "visible" });
  assert.match(await page.textContent("#csr-problem"), /certificate, not a certificate signing request/);
  await page.click("#wizard-next");
  assert.match(await page.textContent("#step-error"), /not a certificate signing request/);
  await page.fill("#csr-text", csr);
  await page.locator("#csr-problem").waitFor({ state: "hidden" });
  await shot("request-csr");
  await page.click("#wizard-next");
  await page.locator("#request-submit").waitFor();
  assert.equal((await page.textContent("#review-profile")).trim(), "issuing/web");
  await shot("request-review");
  await submitAndOpenResult();
  await shot("request-result");
  const link = page.locator("#result-certificate");
  assert.equal((await link.textContent()).trim(), cn);
  const orderId = Number((await page.textContent("#result-order")).replace("#", ""));
  const order = await app.json("GET", `/api/v1/orders/${orderId}`, { session: admin });
  assert.equal(order.status, "complete");
  assert.equal(order.key_source, "csr");
  await page.goto(`${app.url}/certificates?q=${cn}`);
  const list = await app.json("GET", `/api/v1/certificates?q=${cn}`, { session: admin });
  assert.equal(list.items.length, 1);
  const cert = list.items[0];
  assert.equal(cert.profile, "issuing/web");
  const row = page.locator(`tr[data-fingerprint="${cert.fingerprint_sha256}"]`);
  await row.waitFor();
  const text = await row.textContent();
  for (const expected of [cn, "shop.example.test", "issuing", "active", "managed", `${cert.days_until_expiry} days left`]) {
    assert.ok(text.includes(expected), `the row shows ${expected}: ${text}`);
  }
  const days = (Date.parse(cert.not_after) - Date.parse(cert.not_before)) / 86_400_000;
  assert.ok(Math.abs(days - 90) < 1, `the profile's default validity: ${days} days`);
});

test("a CSR the profile refuses and a corrupted CSR: the appliance's message, inline", async () => {
  for (const [csr, pattern] of [[rsaCsr("weak.example.test", 1024), /1024 bits/],
                                [corrupted(makeCsr(work, "bad.example.test", ["DNS:bad.example.test"])), /signature/i]]) {
    const direct = await app.request("POST", "/api/v1/certificates", {
      session: admin, body: { profile: "issuing/web", key_source: { kind: "csr", csr } } });
    assert.ok(direct.status >= 400 && direct.status < 500, `the API refuses it: ${direct.status}`);
    const message = JSON.parse(direct.body.toString()).error.message;
    assert.match(message, pattern);
    await startWizard("issuing/web");
    await chooseSource("csr");
    await page.fill("#csr-text", csr);
    await page.click("#wizard-next");
    await page.click("#request-submit");
    const error = page.locator("#step-error");
    await error.filter({ hasText: "refused" }).waitFor();
    const shown = await error.textContent();
    // The same message, but for the order number each attempt gets.
    const same = (text) => text.replace(/order \d+/g, "order N");
    assert.ok(same(shown).includes(same(message)), `${shown} vs ${message}`);
    assert.match(shown, pattern);
    assert.equal(await page.locator("#request-submit").isEnabled(), true, "the request can be fixed and sent again");
  }
  await shot("request-csr-refused");
});

test("key pair generated on the token through the wizard", async () => {
  await startWizard("issuing/web");
  await chooseSource("key_on_token");
  const tokens = await page.locator("#token option").allTextContents();
  assert.ok(tokens.some((t) => t.startsWith("signet ")), `the appliance's token is offered: ${tokens}`);
  assert.deepEqual(await page.locator("#algorithm option").allTextContents(), ["ec-p256", "ec-p384", "rsa-2048"],
                   "only the profile's algorithms");
  await page.selectOption("#algorithm", "ec-p384");
  await shot("request-key-on-token");
  await fillSubject("token.example.test", ["api.example.test"]);
  assert.match(await page.textContent("#review-key"), /ec-p384, generated on token signet/);
  assert.equal((await page.textContent("#review-sans")).trim(), "DNS:token.example.test, DNS:api.example.test");
  await submitAndOpenResult();
  await page.click("#result-certificate");
  await page.locator("#cert-key-location").waitFor();
  assert.match(await page.textContent("#cert-key-location"), /^pkcs11:.*token=signet/);
  assert.equal((await page.textContent("#cert-algorithm")).trim(), "ec-p384");
  assert.match(await page.textContent("#cert-sans"), /api\.example\.test/);
  assert.equal(await page.locator("#download-pfx").count(), 0, "a token key has no PFX");
});

test("rekey from the detail page: a new key, linked to its predecessor", async () => {
  const old = (await page.textContent("#cert-fingerprint")).trim();
  await page.click("#rekey");
  await page.waitForURL(/\/request\?rekey=/);
  await chooseSource("key_on_token");
  await page.selectOption("#algorithm", "ec-p256");
  await page.check("#revoke-previous");
  await page.click("#wizard-next");
  await page.locator("#request-submit").waitFor();
  await shot("rekey-review");
  await submitAndOpenResult();
  await page.click("#result-certificate");
  await page.locator("#cert-predecessor a").waitFor();
  const fingerprint = (await page.textContent("#cert-fingerprint")).trim();
  const renewed = await app.json("GET", `/api/v1/certificates/${hex(fingerprint)}`, { session: admin });
  const previous = await app.json("GET", `/api/v1/certificates/${hex(old)}`, { session: admin });
  assert.equal(renewed.predecessor_id, previous.id);
  assert.equal(renewed.key_algorithm, "ec-p256");
  assert.equal(renewed.common_name, "token.example.test");
  assert.notEqual(renewed.key_location, previous.key_location, "a different key");
  assert.equal(previous.status, "revoked");
  assert.equal(await page.locator("#reissue").count(), 1, "Reissue is offered too");
});

test("a local key: the PFX dialog's password opens the downloaded file, and only once", async () => {
  await startWizard("issuing/web");
  await chooseSource("local_key");
  await fillSubject("pfx.example.test");
  await page.click("#request-submit");
  const dialog = page.locator("#pfx-dialog");
  await dialog.waitFor({ state: "visible" });
  assert.match(await page.textContent("#pfx-warning"), /cannot be shown again/);
  const password = await page.inputValue("#pfx-password");
  assert.ok(password.length >= 16, "a long random password");
  assert.ok(!page.url().includes(password), "not in the URL");
  await page.click("#pfx-copy");
  await page.locator("#pfx-copied", { hasText: "Copied" }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), password);
  await shot("pfx-dialog");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#pfx-confirm")]);
  assert.equal(download.suggestedFilename(), "pfx.example.test.pfx");
  assert.ok(download.url().startsWith("blob:"), "built in the page, not fetched with the password");
  const file = path.join(work, "first.pfx");
  await download.saveAs(file);
  assert.ok(opensPfx(file, password), "the shown password opens the PFX");
  assert.ok(!opensPfx(file, password + "x"), "another password does not");
  await page.locator("#pfx-saved").waitFor({ state: "visible" });
  await page.click("#pfx-cancel");
  await dialog.waitFor({ state: "detached" });
  assert.equal(await page.locator("#pfx-password").count(), 0, "the password is gone from the page");
  assert.match(await page.textContent("#pfx-note"), /shown once/);
  // From the detail page: a new PFX with a new password.
  await page.click("#result-certificate");
  await page.click("#download-pfx");
  await dialog.waitFor({ state: "visible" });
  const second = await page.inputValue("#pfx-password");
  assert.notEqual(second, password);
  const [again] = await Promise.all([page.waitForEvent("download"), page.click("#pfx-confirm")]);
  const file2 = path.join(work, "second.pfx");
  await again.saveAs(file2);
  assert.ok(opensPfx(file2, second));
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
  assert.equal(await page.evaluate(() => document.activeElement.id), "download-pfx", "focus returns to the button");
});

test("a failed order: its error and parameters, Resubmit refused, then complete once the profile allows it", async () => {
  await startWizard("issuing/strict");
  await chooseSource("key_on_token");
  await fillSubject("later.example.test");
  await page.click("#request-submit");
  await page.locator("#step-error").filter({ hasText: "refused" }).waitFor();
  await page.click("#failed-order");
  await page.locator("#order-error").waitFor();
  const failedId = Number(/\/orders\/(\d+)$/.exec(page.url())[1]);
  const failed = await app.json("GET", `/api/v1/orders/${failedId}`, { session: admin });
  assert.equal(failed.status, "failed");
  assert.equal((await page.textContent("#order-status")).trim(), "failed");
  assert.ok((await page.textContent("#order-error")).includes(failed.error_message));
  assert.match(await page.textContent("#order-parameters"), /later\.example\.test/);
  // The list shows it with its type, status, requester and error.
  await page.goto(`${app.url}/orders`);
  const row = page.locator(`tr[data-order="${failedId}"]`);
  await row.waitFor();
  const text = await row.textContent();
  for (const expected of ["later.example.test", "issue", "failed", "admin", "allowed.example"]) {
    assert.ok(text.includes(expected), `the row shows ${expected}: ${text}`);
  }
  await shot("orders");
  await page.selectOption("#filter-status", "failed");
  await page.click("form.filters button[type=submit]");
  await page.waitForURL(/status=failed/);
  await row.waitFor();
  assert.equal(await page.locator("#orders-table tbody tr").filter({ hasText: "complete" }).count(), 0);
  await row.locator("a.order-link").click();
  await page.locator("#resubmit").waitFor();
  await page.click("#resubmit");
  await page.locator("#resubmit-error").waitFor({ state: "visible" });
  assert.match(await page.textContent("#resubmit-error"), /allowed\.example/);
  await shot("order-failed");
  // Fix the cause: the profile now allows example.test too.
  const profile = await app.json("GET", "/api/v1/profiles/issuing/strict", { session: admin });
  await app.json("PATCH", "/api/v1/profiles/issuing/strict", {
    session: admin, body: { version: profile.version, sans: { dns_suffixes: ["allowed.example", "example.test"] } } });
  await page.click("#resubmit");
  await page.waitForURL((url) => url.pathname !== `/orders/${failedId}`);
  await page.locator("#order-certificate").waitFor();
  assert.equal((await page.textContent("#order-status")).trim(), "complete");
  const newId = Number(/\/orders\/(\d+)$/.exec(page.url())[1]);
  const resubmitted = await app.json("GET", `/api/v1/orders/${newId}`, { session: admin });
  assert.equal(resubmitted.status, "complete");
  assert.ok(resubmitted.resubmitted_from > 0);
  await shot("order-resubmitted");
  await page.click("#order-certificate");
  await page.locator("#cert-cn").waitFor();
  assert.equal((await page.textContent("#cert-cn")).trim(), "later.example.test");
});

test("alerts: the failed orders are listed and can be acknowledged", async () => {
  await page.goto(`${app.url}/alerts`);
  await page.locator("#alerts-table").waitFor();
  const open = await app.json("GET", "/api/v1/alerts", { session: admin });
  assert.ok(open.items.length >= 1);
  assert.equal(await page.locator("#alerts-table tbody tr").count(), open.items.length);
  await shot("alerts");
  const first = open.items[0];
  await page.click(`button[data-alert="${first.id}"]`);
  await page.locator(`tr[data-alert-row="${first.id}"]`).waitFor({ state: "detached" });
  const after = await app.json("GET", "/api/v1/alerts?include_acknowledged=true", { session: admin });
  const acknowledged = after.items.find((a) => a.id === first.id);
  assert.equal(acknowledged.acknowledged, true);
  assert.match(acknowledged.acknowledged_by, /\badmin$/);
  await page.click("#alerts-toggle");
  await page.locator(`tr[data-alert-row="${first.id}"]`, { hasText: "acknowledged by" }).waitFor();
});

test("no console errors and no CSP violations on any page", () => {
  assert.deepEqual(browser.problems, []);
});
