// The console's Tokens and Operators pages, client-certificate login, the wizard's "existing
// key on a token" source and the dashboard's failed-order and token tiles, in headless
// Chromium against a real signetd: its SoftHSM token "signet" (with the CAs' keys and one
// unused key pair made by OpenSC's pkcs11-tool) and a second token "spare" that signetd has not
// logged in to. Screenshots at 1366×768 go to SIGNET_CONSOLE_SCREENSHOTS.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";

import { launch } from "./browser.mjs";
import { ADMIN_PASSWORD, Appliance, makeCsr, run } from "./signetd.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SCREENSHOTS = process.env.SIGNET_CONSOLE_SCREENSHOTS || path.resolve("screenshots");
const SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so";
// The refused requests, the wrong PIN and the revoked token are answered 4xx on purpose.
const expectedErrors = (text) =>
  /^Failed to load resource: the server responded with a status of (400|401|403|422|423)/.test(text);

let app, admin, work, browser, page, signetPin, sparePin;

async function shot(name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

async function logIn(name, password) {
  await page.goto(`${app.url}/login`);
  await page.fill("#login-name", name);
  await page.fill("#login-password", password);
  await page.click("#login-submit");
  await page.waitForURL(/\/dashboard$/);
}

async function logOut() {
  await page.click("#logout");
  await page.waitForURL(/\/login$/);
}

// The text of the secret dialog's field, then "Done".
async function takeSecret(id) {
  const field = page.locator(`#${id}-secret`);
  await field.waitFor();
  const value = await field.inputValue();
  await page.click(`#${id}-confirm`);
  await page.locator(`#${id}-dialog`).waitFor({ state: "detached" });
  return value;
}

before(async () => {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  app = new Appliance().prepare();
  app.cli("token", "init", "--label", "spare");
  signetPin = fs.readFileSync(path.join(app.state, "pins", "signet.user.pin"), "utf8").trim();
  sparePin = fs.readFileSync(path.join(app.state, "pins", "spare.user.pin"), "utf8").trim();
  // An unused key pair on the appliance's token, made by an independent tool.
  run("pkcs11-tool", ["--module", SOFTHSM, "--token-label", "signet", "--login", "--pin", signetPin,
                      "--keypairgen", "--key-type", "EC:prime256v1", "--id", "77", "--label", "existing-web"],
      { env: { ...process.env, SOFTHSM2_CONF: path.join(app.state, "softhsm", "softhsm2.conf") } });
  await app.start();
  work = path.join(app.dir, "work");
  fs.mkdirSync(work);
  admin = await app.login();
  const profile = (name, suffixes) => app.json("POST", "/api/v1/profiles", {
    session: admin,
    body: { name, ca: "issuing", description: `Names under ${suffixes.join(", ")}`,
            key_algorithms: { allowed: ["ec-p256", "ec-p384"], mode: "hard" },
            validity: { default_days: 90, max_days: 397, mode: "hard" },
            sans: { dns_suffixes: suffixes, allow_ip: false, allow_email: false, allow_uri: false,
                    max_count: 10, mode: "hard" } },
  }, 201);
  await profile("web", ["example.test"]);
  await profile("strict", ["allowed.example"]);
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

test("an administrator sees Tokens and Operators in the navigation", async () => {
  await logIn("admin", ADMIN_PASSWORD);
  for (const label of ["Tokens", "Operators"]) {
    assert.equal(await page.locator("nav.sidenav a", { hasText: label }).count(), 1, label);
  }
});

test("the Tokens page lists the token, its slot and the CA key with its URI, and nothing secret", async () => {
  await page.click("nav.sidenav a:has-text('Tokens')");
  await page.waitForURL(/\/tokens$/);
  const tokens = await app.json("GET", "/api/v1/tokens", { session: admin });
  const signet = tokens.items.find((t) => t.label === "signet");
  assert.equal(signet.logged_in, true, "signetd is logged in to its own token");
  const card = page.locator(`#token-${signet.serial}`);
  await card.waitFor();
  assert.equal((await page.textContent(`#login-state-${signet.serial}`)).trim(), "logged in");
  const keyRow = card.locator("tr", { hasText: "signet-ca-root" });
  await keyRow.waitFor();
  const uri = (await keyRow.locator("code.uri").textContent()).trim();
  assert.match(uri, /^pkcs11:/);
  assert.match(uri, /token=signet/);
  assert.match(uri, /object=signet-ca-root/);
  assert.match(await keyRow.textContent(), /ec-p256/);
  assert.match(await keyRow.textContent(), /never extractable/);
  assert.ok(await card.locator("tr", { hasText: "existing-web" }).count() === 1, "the unused key is listed too");
  assert.match(await page.textContent("#module-path"), /softhsm2/);
  assert.ok((await page.locator("#slots tbody tr").count()) >= 2, "the module's slots");
  const text = await page.textContent("body");
  assert.ok(!text.includes(signetPin) && !text.includes(sparePin), "no PIN on the page");
  assert.ok(!/pin-value|pin-source/.test(text), "no PIN in any URI");
  await shot("tokens");
});

test("a wrong PIN is refused with a clear error; the right one logs signetd in to the token", async () => {
  const tokens = await app.json("GET", "/api/v1/tokens", { session: admin });
  const spare = tokens.items.find((t) => t.label === "spare");
  assert.equal(spare.logged_in, false);
  await page.goto(`${app.url}/tokens`);
  await page.locator(`#keys-hidden-${spare.serial}`).waitFor();
  await page.click(`#login-${spare.serial}`);
  await page.locator("#token-pin").waitFor();
  await page.keyboard.press("Escape");
  await page.locator("#token-login-dialog").waitFor({ state: "detached" });
  assert.equal(await page.evaluate(() => document.activeElement.id), `login-${spare.serial}`,
               "Escape closes the dialog and focus returns to its button");
  await page.click(`#login-${spare.serial}`);
  await page.fill("#token-pin", "000000");
  await page.click("#token-login-confirm");
  const error = page.locator("#token-login-error");
  await error.filter({ hasText: "Wrong PIN" }).waitFor();
  assert.equal(await page.inputValue("#token-pin"), "", "the PIN field is cleared");
  await shot("tokens-wrong-pin");
  await page.fill("#token-pin", sparePin);
  await page.click("#token-login-confirm");
  await page.locator("#token-login-dialog").waitFor({ state: "detached" });
  await page.locator(`#login-state-${spare.serial}`, { hasText: "logged in" }).waitFor();
  assert.equal(await page.locator(`#login-${spare.serial}`).count(), 0, "no login button once logged in");
  assert.ok(!page.url().includes(sparePin), "no PIN in the URL");
  assert.ok(!app.readLog().includes(sparePin) && !app.readLog().includes("000000"), "no PIN in signetd's log");
  const audit = await app.json("GET", "/api/v1/audit?limit=50", { session: admin });
  const actions = audit.items.map((e) => e.action);
  assert.ok(actions.includes("token.login_failed") && actions.includes("token.login"), `audited: ${actions}`);
  assert.ok(!JSON.stringify(audit).includes(sparePin), "no PIN in the audit log");
});

test("create an operator: the password is shown once and the new operator logs in with it", async () => {
  await page.goto(`${app.url}/operators`);
  await page.click("#create-operator");
  await page.fill("#new-operator-name", "olivia");
  await page.selectOption("#new-operator-role", "ra-officer");
  await page.click("#create-operator-confirm");
  await page.locator("#operator-password-secret").waitFor();
  await shot("operators-password-once");
  const password = await takeSecret("operator-password");
  assert.ok(password.length >= 16, "a generated password");
  await page.locator('#operators tr[data-operator="olivia"]').waitFor();
  assert.match(await page.textContent('#operators tr[data-operator="olivia"]'), /ra-officer.*enabled/s);
  const list = await app.json("GET", "/api/v1/operators", { session: admin });
  assert.ok(!JSON.stringify(list).includes(password), "the password is not listed");
  await logOut();
  await logIn("olivia", password);
  assert.equal((await page.textContent("#operator-name")).trim(), "olivia");
  assert.equal(await page.locator("nav.sidenav a", { hasText: "Operators" }).count(), 0,
               "a non-administrator is not offered Operators");
  await page.goto(`${app.url}/operators`);
  await page.locator(".notice-error", { hasText: "Only administrators" }).waitFor();
  assert.equal(await page.locator("#operators").count(), 0);
  await logOut();
  await logIn("admin", ADMIN_PASSWORD);
});

test("change a role, disable, enable and unlock an operator", async () => {
  await page.goto(`${app.url}/operators`);
  await page.click("#role-olivia");
  await page.selectOption("#change-role", "auditor");
  await page.click("#role-confirm");
  await page.locator('#operators tr[data-operator="olivia"]', { hasText: "auditor" }).waitFor();
  await page.click("#toggle-olivia");
  await page.locator('#operators tr[data-operator="olivia"]', { hasText: "disabled" }).waitFor();
  const olivia = await app.json("GET", "/api/v1/operators/olivia", { session: admin });
  assert.equal(olivia.role, "auditor");
  assert.equal(olivia.disabled, true);
  await page.click("#toggle-olivia");
  await page.locator('#operators tr[data-operator="olivia"]', { hasText: "enabled" }).waitFor();
  // Five wrong passwords lock the operator; Unlock lifts it.
  for (let i = 0; i < 5; ++i) {
    await app.request("POST", "/api/v1/session", { body: { name: "olivia", password: "wrong password here" } });
  }
  assert.equal((await app.json("GET", "/api/v1/operators/olivia", { session: admin })).locked, true);
  await page.goto(`${app.url}/operators`);
  await page.click("#unlock-olivia");
  await page.locator('#operators tr[data-operator="olivia"]', { hasText: "enabled" }).waitFor();
  assert.equal((await app.json("GET", "/api/v1/operators/olivia", { session: admin })).locked, false);
});

test("an API token: the secret is shown once, works, shows its last use, and is refused once revoked", async () => {
  await page.goto(`${app.url}/operators`);
  await page.click("#create-token");
  await page.fill("#new-token-name", "console e2e automation");
  await page.selectOption("#new-token-role", "ra-officer");
  await page.click("#create-token-confirm");
  const secret = await takeSecret("api-token");
  assert.match(secret, /^sgt_[0-9a-f]{16}_[0-9a-f]+$/);
  const bearer = { Authorization: `Bearer ${secret}` };
  const who = await app.request("GET", "/api/v1/session", { headers: bearer });
  assert.equal(who.status, 200);
  assert.equal(JSON.parse(who.body.toString()).authenticated_by, "api_token");
  // curl, an independent client, with the token read from a header file (never argv).
  const headerFile = path.join(work, "auth-header");
  fs.writeFileSync(headerFile, `Authorization: Bearer ${secret}\n`, { mode: 0o600 });
  const curl = spawnSync("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", app.caFile,
                                  "-H", `@${headerFile}`, `${app.url}/api/v1/certificates?limit=1`],
                         { encoding: "utf8", timeout: 60_000 });
  assert.equal(curl.stdout, "200", curl.stderr);
  const id = secret.slice(4, 20);
  await page.goto(`${app.url}/operators`);
  const row = page.locator(`#api-tokens tr[data-token="${id}"]`);
  await row.waitFor();
  assert.doesNotMatch(await row.textContent(), /not since start/, "the last use is shown");
  assert.ok(!(await page.textContent("body")).includes(secret.slice(21)), "the secret is not listed");
  await shot("operators");
  await page.click(`#revoke-token-${id}`);
  await page.click("#revoke-token-confirm");
  await row.filter({ hasText: "revoked" }).waitFor();
  assert.equal((await app.request("GET", "/api/v1/session", { headers: bearer })).status, 401);
  const again = spawnSync("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", app.caFile,
                                   "-H", `@${headerFile}`, `${app.url}/api/v1/certificates?limit=1`],
                          { encoding: "utf8", timeout: 60_000 });
  assert.equal(again.stdout, "401");
});

test("the wizard issues a certificate for an existing key on the token", async () => {
  await page.goto(`${app.url}/request`);
  await page.locator('input[data-profile="issuing/web"]').check();
  await page.click("#wizard-next");
  await page.locator("#key-source-token_key").check();
  const options = await page.locator("#existing-key option").allTextContents();
  assert.ok(options.some((o) => o.startsWith("existing-web")), `the unused key is offered: ${options}`);
  assert.ok(!options.some((o) => o.startsWith("signet-ca-")), "keys of CAs are not offered");
  const value = await page.locator("#existing-key option", { hasText: "existing-web" }).getAttribute("value");
  await page.selectOption("#existing-key", value);
  await shot("request-existing-key");
  await page.click("#wizard-next");
  await page.fill("#subject-cn", "existing.example.test");
  await page.click("#wizard-next");
  assert.match(await page.textContent("#review-key"), /existing key existing-web/);
  await page.click("#request-submit");
  await page.locator("#request-result").waitFor();
  await page.click("#result-certificate");
  await page.locator("#cert-key-location").waitFor();
  const location = await page.textContent("#cert-key-location");
  assert.match(location, /object=existing-web/);
  assert.match(location, /id=%77/);
  assert.equal(await page.locator("#download-pfx").count(), 0, "a token key has no PFX");
  // The Revoke button stays on the row of the other actions at 1366 px.
  const tops = await page.$$eval(".page-header .actions > .button", (els) => els.map((e) => e.getBoundingClientRect().top));
  assert.ok(tops.length >= 5);
  assert.equal(new Set(tops).size, 1, `the actions are on one line: ${tops}`);
  await shot("certificate-detail");
});

test("the certificate API flags a local key and names a refused request's failed order", async () => {
  const local = await app.json("POST", "/api/v1/certificates", {
    session: admin, body: { profile: "issuing/web", subject: "CN=local.example.test",
                            subject_alt_names: ["DNS:local.example.test"], key_source: { kind: "local_key" } } }, 201);
  assert.equal(local.local_key, true);
  const csr = makeCsr(work, "csr.example.test", ["DNS:csr.example.test"]);
  const fromCsr = await app.json("POST", "/api/v1/certificates",
                                 { session: admin, body: { profile: "issuing/web", key_source: { kind: "csr", csr } } }, 201);
  assert.equal(fromCsr.local_key, false);
  const refused = await app.request("POST", "/api/v1/certificates", {
    session: admin, body: { profile: "issuing/strict", subject: "CN=nope.example.test",
                            subject_alt_names: ["DNS:nope.example.test"], key_source: { kind: "key_on_token" } } });
  assert.equal(refused.status, 422);
  const error = JSON.parse(refused.body.toString()).error;
  assert.ok(Number.isInteger(error.order_id), `the error names the order: ${JSON.stringify(error)}`);
  const order = await app.json("GET", `/api/v1/orders/${error.order_id}`, { session: admin });
  assert.equal(order.status, "failed");
});

test("the dashboard shows the failed order and the tokens' health", async () => {
  await page.goto(`${app.url}/dashboard`);
  const failed = page.locator("#tile-failed-orders .tile-value");
  await failed.waitFor();
  assert.ok(Number(await failed.textContent()) >= 1, "at least the refused request's order");
  assert.equal((await page.textContent("#tile-tokens .tile-value")).trim(), "2 / 2");
  // Free slots are the module's slots without an initialised token (SoftHSM keeps one spare).
  const tokens = await app.json("GET", "/api/v1/tokens", { session: admin });
  const free = tokens.modules.flatMap((m) => m.slots).filter((s) => !s.token_serial).length;
  assert.match(await page.textContent("#tile-tokens .tile-label"), new RegExp(`· ${free} free slot`));
  await shot("dashboard");
  await page.click("#tile-failed-orders");
  await page.waitForURL(/\/orders\?status=failed$/);
});

test("client certificate: issued from the operator profile, then the login page signs in with it", async () => {
  await app.json("POST", "/api/v1/operators",
                 { session: admin, body: { name: "cora", role: "ra-officer" } }, 201);
  const csr = makeCsr(work, "cora", []);
  // The administrator pastes cora's CSR into the Operators page; the browser saves the result.
  await page.goto(`${app.url}/operators`);
  await page.click("#certificate-cora");
  await page.fill("#operator-csr", csr);
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#operator-certificate-confirm")]);
  assert.equal(download.suggestedFilename(), "cora-client.pem");
  const certFile = path.join(work, "cora.crt");
  await download.saveAs(certFile);
  await page.locator('#operators tr[data-operator="cora"] code').waitFor();
  const cora = await app.json("GET", "/api/v1/operators/cora", { session: admin });
  const saved = fs.readFileSync(certFile, "utf8");
  assert.equal((saved.match(/BEGIN CERTIFICATE/g) || []).length, 2, "the certificate and the appliance CA");
  const fingerprint = run("openssl", ["x509", "-in", certFile, "-noout", "-fingerprint", "-sha256"]);
  assert.equal(fingerprint.trim().split("=")[1], cora.certificate_fingerprint_sha256, "the saved certificate is bound");
  const keyFile = path.join(work, "cora.key");
  // The API path with curl: the TLS client certificate logs in.
  const curl = spawnSync("curl", ["-sS", "--cacert", app.caFile, "--cert", certFile, "--key", keyFile,
                                  "-H", "Content-Type: application/json", "-d", '{"method":"certificate"}',
                                  `${app.url}/api/v1/session`], { encoding: "utf8", timeout: 60_000 });
  const session = JSON.parse(curl.stdout);
  assert.equal(session.operator, "cora", curl.stdout + curl.stderr);
  assert.equal(session.authenticated_by, "certificate");
  const methods = spawnSync("curl", ["-sS", "--cacert", app.caFile, "--cert", certFile, "--key", keyFile,
                                     `${app.url}/api/v1/session/methods`], { encoding: "utf8", timeout: 60_000 });
  assert.equal(JSON.parse(methods.stdout).certificate.accepted, true);
  // Without a certificate the login page offers the password only.
  await logOut();
  await page.locator("#login-name").waitFor();
  assert.equal(await page.locator("#login-certificate").count(), 0);
  // Chromium with the certificate (playwright-core's clientCertificates), in its own process.
  const child = spawnSync(process.execPath, [path.join(HERE, "client_cert_login.mjs"), app.url, certFile, keyFile,
                                             path.join(SCREENSHOTS, "login-certificate.png")],
                          { encoding: "utf8", timeout: 300_000, env: { ...process.env, NODE_EXTRA_CA_CERTS: app.caFile } });
  assert.equal(child.status, 0, child.stderr);
  const outcome = JSON.parse(child.stdout.trim().split("\n").pop());
  assert.equal(outcome.operator, "cora");
  assert.equal(outcome.role, "ra-officer");
  assert.deepEqual(outcome.problems, []);
});

test("no console errors and no CSP violations on any page", () => {
  assert.deepEqual(browser.problems, []);
});
