// The console's Smart cards page and card enrollment wizard in headless Chromium against a real
// signetd with card support on ([cards]) and the real PC/SC stack (pcsc.mjs: pcscd, the virtual
// reader and card). The card's ATR is mapped to the fault-injecting PKCS#11 module in front of a
// SoftHSM token "card-1". The issued certificate is checked with `openssl verify` and read back
// from the card with OpenSC's pkcs11-tool. Screenshots at 1366×768 and 1024 wide go to
// SIGNET_CONSOLE_SCREENSHOTS.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";

import { launch } from "./browser.mjs";
import { ADMIN_PASSWORD, Appliance, run } from "./signetd.mjs";
import { PcscStack, READER } from "./pcsc.mjs";

const SCREENSHOTS = process.env.SIGNET_CONSOLE_SCREENSHOTS || path.resolve("screenshots");
const SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so";
const CARD_PIN = "123456";
// The wrong PIN is answered 403 on purpose.
const expectedErrors = (text) => /^Failed to load resource: the server responded with a status of 403/.test(text);

let stack, app, admin, work, browser, page, control, softhsmConf;

function faults(directives) {
  fs.writeFileSync(`${control}.tmp`, directives);
  fs.renameSync(`${control}.tmp`, control);
}

async function cardPresent() {
  const readers = await app.json("GET", "/api/v1/cards/readers", { session: admin });
  return readers.items.some((r) => r.name === READER && r.card_present);
}

async function shot(name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

function cardTool(...args) {
  return run("pkcs11-tool", ["--module", SOFTHSM, "--token-label", "card-1", "--login", "--pin", CARD_PIN, ...args],
             { env: { ...process.env, SOFTHSM2_CONF: softhsmConf } });
}

// The wizard up to the PIN step: profile, holder, card and key.
async function wizardToPin(cn) {
  await page.goto(`${app.url}/cards/enroll`);
  await page.locator("input[data-profile=\"issuing/holder\"]").check();
  await page.click("#wizard-next");
  await page.fill("#holder-cn", cn);
  await page.fill("#holder-o", "Example");
  await page.fill("#holder-email", "ada@example.com");
  await page.click("#wizard-next");
  await page.locator("#card-status.notice-success").waitFor();
  await page.locator("#card-alg-ec-p256").check();
  await page.click("#wizard-next");
  await page.locator("#card-pin").waitFor();
}

before(async () => {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  stack = await new PcscStack().start();
  app = new Appliance();
  control = path.join(app.dir, "fault-control");
  fs.writeFileSync(control, "");
  app.env.SIGNET_FAULT_CONTROL = control;
  app.env.SIGNET_FAULT_REAL_MODULE = SOFTHSM;
  app.prepare();
  app.cli("profile", "create", "--ca", "issuing", "--name", "holder", "--key-algorithms", "ec-p256,ec-p384",
          "--allow-email", "true", "--key-usage", "digitalSignature", "--eku", "clientAuth,emailProtection");
  softhsmConf = path.join(app.state, "softhsm", "softhsm2.conf");
  run("softhsm2-util", ["--init-token", "--free", "--label", "card-1", "--pin", CARD_PIN, "--so-pin", "87654321"],
      { env: { ...process.env, SOFTHSM2_CONF: softhsmConf } });
  const map = path.join(app.dir, "atr-map.json");
  fs.writeFileSync(map, JSON.stringify({ cards: [{ name: "virtual card", atr: "3B:95:13:81:01:80:73:FF:01:00:0B",
                                                   module: process.env.SIGNET_FAULT_PKCS11, token: "card-1" }] }));
  const config = path.join(app.dir, "signetd.toml");
  fs.writeFileSync(config, `[cards]\nenabled = true\natr_map = ${JSON.stringify(map)}\ncard_wait_seconds = 60\n`);
  await app.start(["--config", config]);
  admin = await app.login();
  stack.cardPresent = cardPresent;
  await stack.insertCard();
  work = fs.mkdtempSync(path.join(app.dir, "work-"));
  browser = await launch(app, work, expectedErrors);
  page = browser.page;
  await page.goto(`${app.url}/login`);
  await page.fill("#login-name", "admin");
  await page.fill("#login-password", ADMIN_PASSWORD);
  await page.click("#login-submit");
  await page.waitForURL(/\/dashboard$/);
});

after(async () => {
  try {
    if (browser) await browser.context.close();
    if (app) await app.close();
  } finally {
    if (stack) await stack.stop();
  }
});

test("the Smart cards page shows the reader, the card's token and PIN state, live", async () => {
  await page.click("a.nav-link[href='/cards']");
  await page.waitForURL(/\/cards$/);
  const reader = page.locator(`section.reader[data-reader='${READER}']`);
  await reader.getByText("card-1 (serial").waitFor();
  assert.match(await reader.textContent(), /card present/);
  assert.match(await reader.textContent(), /PIN ok/);
  assert.match(await reader.textContent(), /3B951381018073FF01000B/);
  await shot("cards-1366");
  // The PIN counters the card reports appear without a reload (the page polls).
  faults("pin final_try\n");
  await reader.getByText("PIN final try").waitFor();
  faults("");
  await reader.getByText("PIN ok").waitFor();
  await page.setViewportSize({ width: 1024, height: 768 });
  await shot("cards-1024");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, "the page scrolls sideways at 1024 px");
  await page.setViewportSize({ width: 1366, height: 768 });
  // A removal shows at once too.
  await stack.removeCard();
  await reader.getByText("no card").waitFor();
  await stack.insertCard();
  await reader.getByText("card present").waitFor();
});

test("the wizard enrolls a holder: a wrong PIN says the tries, then the certificate is on the card", async () => {
  await wizardToPin("Ada Lovelace");
  await shot("card-enroll-pin");
  await page.fill("#card-pin", "000000");
  await page.click("#card-enroll");
  await page.locator("#step-error").getByText("Wrong PIN").waitFor();
  assert.equal(await page.inputValue("#card-pin"), "", "the PIN field keeps the PIN");
  await page.fill("#card-pin", CARD_PIN);
  await page.click("#card-enroll");
  await page.locator("#card-job[data-state='done']").waitFor({ timeout: 300_000 });
  await shot("card-enroll-done");
  const pem = await page.textContent("#card-result-pem");
  const serial = (await page.textContent("#card-result-serial")).trim();
  const leaf = path.join(work, "card-leaf.pem");
  fs.writeFileSync(leaf, pem);
  const root = await app.request("GET", "/api/v1/cas/root/certificate", { session: admin });
  const issuing = await app.request("GET", "/api/v1/cas/issuing/certificate", { session: admin });
  fs.writeFileSync(path.join(work, "root.pem"), root.body);
  fs.writeFileSync(path.join(work, "issuing.pem"), issuing.body);
  const verified = run("openssl", ["verify", "-CAfile", path.join(work, "root.pem"), "-untrusted",
                                   path.join(work, "issuing.pem"), "-purpose", "smimesign", leaf]);
  assert.match(verified, /: OK/);
  // The inventory has it, and the card holds the same certificate.
  const record = await app.json("GET", `/api/v1/certificates/${serial.replaceAll(":", "")}`, { session: admin });
  assert.match(record.key_location, /card-1|token=/);
  const objects = cardTool("--list-objects");
  assert.match(objects, /Certificate Object/);
  const der = path.join(work, "on-card.der");
  const id = /id=([^;]+)/.exec(record.key_location)[1].replaceAll("%", "").toLowerCase();
  cardTool("--read-object", "--type", "cert", "--id", id, "-o", der);
  const onCard = run("openssl", ["x509", "-inform", "DER", "-in", der]);
  assert.equal(onCard.trim(), pem.trim());
  // The Smart cards page lists it among the card's certificates.
  await page.click("#card-back");
  await page.locator("table.card-certificates").getByText("Ada Lovelace").waitFor();
});

test("removing the card during key generation fails the enrollment and says so", async () => {
  faults("delay C_GenerateKeyPair 6000\n");
  await wizardToPin("Grace Hopper");
  await page.fill("#card-pin", CARD_PIN);
  await page.click("#card-enroll");
  await page.locator("#card-job[data-state='generating']").waitFor({ timeout: 120_000 });
  await stack.removeCard();
  await page.locator("#card-job[data-state='failed']").waitFor({ timeout: 300_000 });
  const failure = await page.textContent("#card-failure");
  assert.match(failure, /The card was removed/);
  const orderLink = await page.getAttribute("#card-failed-order", "href");
  const order = await app.json("GET", `/api/v1${orderLink}`, { session: admin });
  assert.equal(order.status, "failed");
  await shot("card-enroll-removed");
  faults("");
  await stack.insertCard();
  assert.doesNotMatch(cardTool("--list-objects"), /Grace Hopper/);
});
