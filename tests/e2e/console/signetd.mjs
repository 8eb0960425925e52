// A real signetd for the console tests, the Node twin of tests/e2e/api/signetd_fixture.py: a
// SoftHSM token and an LMDB store in a temporary state directory (made with the `signet` CLI,
// as an operator would), signetd on ephemeral 127.0.0.1 ports, and an HTTPS client that
// trusts the appliance CA signetd publishes. Every wait is bounded.
//
// Environment (set by CTest): SIGNET_BIN, SIGNETD_BIN.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import https from "node:https";
import os from "node:os";
import path from "node:path";

const SIGNET = process.env.SIGNET_BIN || "signet";
const SIGNETD = process.env.SIGNETD_BIN || "signetd";
export const ADMIN_PASSWORD = "correct horse battery staple";
// Under the sanitizers everything is several times slower: liveness bounds only.
const START_TIMEOUT_MS = 180_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { timeout: 600_000, encoding: "utf8", ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed (${result.status}): ${result.stderr}`);
  }
  return result.stdout;
}

export class Appliance {
  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "signet-console-e2e-"));
    this.state = path.join(this.dir, "state");
    this.env = { ...process.env, SIGNET_STATE: this.state, SIGNET_TOKEN: "signet" };
    delete this.env.SOFTHSM2_CONF;
    delete this.env.SIGNET_API_TOKEN_FILE;
    this.process = null;
  }

  cli(...args) {
    return run(SIGNET, args, { env: this.env });
  }

  // Token, CAs and the first administrator's password file.
  prepare() {
    this.cli("token", "init", "--label", "signet");
    this.env.SIGNET_PIN_FILE = path.join(this.state, "pins", "signet.user.pin");
    this.cli("ca", "create-root", "--name", "root", "--subject", "CN=E2E Root", "--key", "ec-p256");
    this.cli("ca", "create-intermediate", "--name", "issuing", "--parent", "root", "--subject",
             "CN=E2E Issuing", "--key", "ec-p256", "--path-length", "0");
    const passwordFile = path.join(this.dir, "admin-password");
    fs.writeFileSync(passwordFile, ADMIN_PASSWORD + "\n", { mode: 0o600 });
    this.env.SIGNET_ADMIN_PASSWORD_FILE = passwordFile;
    return this;
  }

  // `extraArgs`: more signetd arguments (e.g. ["--config", file]); the listen flags win over a
  // configuration file's.
  async start(extraArgs = []) {
    this.logPath = path.join(this.dir, "signetd.log");
    const log = fs.openSync(this.logPath, "a");
    const lock = path.join(this.state, "signetd.lock");
    // Ephemeral ports on loopback; everything else as the factory defaults have it.
    const args = ["--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", ...extraArgs];
    this.process = spawn(SIGNETD, args, { env: this.env, stdio: ["ignore", log, log] });
    fs.closeSync(log);
    let exited = null;
    this.exit = new Promise((resolve) => this.process.on("exit", (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    }));
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (exited) throw new Error(`signetd exited (${JSON.stringify(exited)}): ${this.readLog()}`);
      let info = null;
      try {
        info = JSON.parse(fs.readFileSync(lock, "utf8") || "null");
      } catch {
        info = null;
      }
      if (info && info.https_url) {
        this.url = info.https_url;
        this.port = Number(new URL(info.https_url).port);
        this.caFile = path.join(this.state, "appliance-ca.pem");
        this.caPem = fs.readFileSync(this.caFile, "utf8");
        return this;
      }
      await sleep(100);
    }
    throw new Error(`signetd did not start within ${START_TIMEOUT_MS} ms: ${this.readLog()}`);
  }

  async stop() {
    if (!this.process) return null;
    const proc = this.process;
    this.process = null;
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 120_000);
    const outcome = await this.exit;
    clearTimeout(timer);
    return outcome;
  }

  async close() {
    try {
      return await this.stop();
    } finally {
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
  }

  readLog() {
    try {
      return fs.readFileSync(this.logPath, "utf8").slice(-4000);
    } catch {
      return "";
    }
  }

  // An HTTPS request that trusts only the appliance CA. Resolves to {status, headers, body}.
  request(method, urlPath, { body, session, headers = {} } = {}) {
    const hdrs = { ...headers };
    let data;
    if (body !== undefined) {
      data = Buffer.from(JSON.stringify(body));
      hdrs["Content-Type"] = "application/json";
      hdrs["Content-Length"] = String(data.length);
    }
    if (session) {
      hdrs.Cookie = `signet_session=${session.cookie}`;
      if (method !== "GET" && method !== "HEAD") hdrs["X-CSRF-Token"] = session.csrf;
    }
    return new Promise((resolve, reject) => {
      const req = https.request({ host: "127.0.0.1", port: this.port, method, path: urlPath,
                                  headers: hdrs, ca: this.caPem,
                                  timeout: 120_000 }, (res) => {
        const chunks = [];
        res.on("data", (chunk) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers,
                                      body: Buffer.concat(chunks) }));
      });
      req.on("timeout", () => req.destroy(new Error(`${method} ${urlPath} timed out`)));
      req.on("error", reject);
      if (data) req.write(data);
      req.end();
    });
  }

  async json(method, urlPath, options = {}, expect = 200) {
    const response = await this.request(method, urlPath, options);
    if (response.status !== expect) {
      throw new Error(`${method} ${urlPath}: ${response.status} ${response.body.toString()}`);
    }
    return JSON.parse(response.body.toString());
  }

  async login(name = "admin", password = ADMIN_PASSWORD) {
    const response = await this.request("POST", "/api/v1/session", { body: { name, password } });
    if (response.status !== 201) throw new Error(`login of ${name} failed: ${response.status}`);
    const cookie = response.headers["set-cookie"][0].split(";")[0].split("=").slice(1).join("=");
    return { cookie, csrf: JSON.parse(response.body.toString()).csrf_token };
  }
}

// A CSR made by openssl (an independent implementation) with a new P-256 key.
export function makeCsr(dir, cn, sans = []) {
  const args = ["req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-keyout", path.join(dir, `${cn}.key`), "-out", path.join(dir, `${cn}.csr`),
                "-subj", `/CN=${cn}`];
  if (sans.length) args.push("-addext", `subjectAltName=${sans.join(",")}`);
  run("openssl", args);
  return fs.readFileSync(path.join(dir, `${cn}.csr`), "utf8");
}
