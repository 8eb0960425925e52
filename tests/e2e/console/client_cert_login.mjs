// Run by tokens_operators.test.mjs as its own Node process: headless Chromium given a client
// certificate through playwright-core's `clientCertificates`, signing in to the console with it.
//
// Playwright presents the certificate from a TLS proxy in this process (the browser talks to
// the proxy, which answers the browser with its own certificate and ignores that one
// internally). The proxy's connection to signetd verifies signetd's certificate against the
// default trust store, so the parent starts this process with NODE_EXTRA_CA_CERTS naming the
// appliance CA: signetd's identity is still checked, by Node.
//
// argv: url certPath keyPath screenshotPath. Prints one JSON line: {operator, role, offered}.
import { chromium } from "playwright-core";

const [url, certPath, keyPath, screenshot] = process.argv.slice(2);
const CHROMIUM = process.env.SIGNET_CHROMIUM || "/usr/bin/chromium";
const TIMEOUT_MS = 60_000;

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  timeout: TIMEOUT_MS,
});
try {
  const context = await browser.newContext({
    viewport: { width: 1366, height: 768 },
    clientCertificates: [{ origin: new URL(url).origin, certPath, keyPath }],
  });
  context.setDefaultTimeout(TIMEOUT_MS);
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (error) => problems.push(error.message));
  await page.goto(`${url}/login`);
  const button = page.locator("#login-certificate");
  await button.waitFor();
  const offered = (await page.textContent("#login-certificate-subject")).trim();
  await page.screenshot({ path: screenshot });
  await button.click();
  await page.waitForURL(/\/dashboard$/);
  const operator = (await page.textContent("#operator-name")).trim();
  const role = (await page.textContent("#operator-role")).trim();
  console.log(JSON.stringify({ operator, role, offered, problems }));
  await context.close();
} finally {
  await browser.close();
}
