// Headless Chromium (Debian's /usr/bin/chromium) for the console tests, through
// playwright-core: a fresh profile, and a fresh NSS database under a private $HOME that trusts
// the appliance CA, as an operator's browser would (no certificate error is ignored). Console
// errors, page errors and CSP violations are collected in `problems`.
import fs from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

import { run } from "./signetd.mjs";

const CHROMIUM = process.env.SIGNET_CHROMIUM || "/usr/bin/chromium";
// Liveness bound for every browser step (ASan builds are slow); no assertion is about timing.
export const STEP_TIMEOUT_MS = 60_000;

function nssHome(app, work) {
  const home = path.join(work, "browser-home");
  const db = path.join(home, ".pki", "nssdb");
  fs.mkdirSync(db, { recursive: true });
  run("certutil", ["-N", "-d", `sql:${db}`, "--empty-password"]);
  run("certutil", ["-A", "-d", `sql:${db}`, "-n", "Signet appliance CA", "-t", "C,,", "-i", app.caFile]);
  return home;
}

// `expected(text)`: console errors the test provokes on purpose (e.g. a refused request's
// "Failed to load resource" line) return true and are not counted as problems.
export async function launch(app, work, expected = () => false) {
  const context = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(work, "profile-")), {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    env: { ...process.env, HOME: nssHome(app, work) },
    viewport: { width: 1366, height: 768 },
    acceptDownloads: true,
    timeout: STEP_TIMEOUT_MS,
  });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`);
    });
  });
  const page = context.pages()[0] || (await context.newPage());
  const problems = [];
  page.on("console", (message) => {
    if (message.type() !== "error" || expected(message.text())) return;
    problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  return { context, page, problems };
}
