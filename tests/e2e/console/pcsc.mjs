// The real PC/SC stack for the console's smart-card test, the Node twin of
// tests/e2e/api/pcsc_stack.py: pcscd in the foreground (its own process group) with vsmartcard's
// virtual readers ("Virtual PCD 00 00", "... 00 01"), and a virtual card `vicc -t iso7816` that
// connects to it; killing vicc removes the card. pcscd's socket and vpcd's ports are fixed, so
// ctest gives the test RESOURCE_LOCK pcscd. `cardPresent` (async, set by the test) answers
// whether pcscd reports a card in the first reader. Every wait is bounded.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const READER = "Virtual PCD 00 00";
const SOCKET = "/run/pcscd/pcscd.comm";
const CRYPTODOME = "/usr/lib/python3/dist-packages/Cryptodome";
const VICC_MODULES = "/usr/lib/python3/site-packages/virtualsmartcard";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(condition, limitMs = 30_000) {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(100);
  }
  return condition();
}

export class PcscStack {
  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "signet-pcsc-"));
    fs.mkdirSync(path.join(this.dir, "python"));
    fs.symlinkSync(CRYPTODOME, path.join(this.dir, "python", "Crypto"));
    this.pcscd = null;
    this.vicc = null;
    this.cardPresent = async () => false;
  }

  spawnLogged(argv, logName, env = process.env) {
    const log = fs.openSync(path.join(this.dir, logName), "a");
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ["ignore", log, log], detached: true });
    fs.closeSync(log);
    child.ended = new Promise((resolve) => child.on("exit", resolve));
    child.done = false;
    child.on("exit", () => { child.done = true; });
    return child;
  }

  logs() {
    return ["pcscd.log", "vicc.log"].map((name) => {
      const file = path.join(this.dir, name);
      return fs.existsSync(file) ? `--- ${name}\n${fs.readFileSync(file, "utf8").slice(-3000)}` : "";
    }).join("");
  }

  static async kill(child, graceMs = 10_000) {
    if (!child || child.done) return;
    try { process.kill(-child.pid, "SIGTERM"); } catch { /* gone */ }
    const timer = setTimeout(() => { try { process.kill(-child.pid, "SIGKILL"); } catch { /* gone */ } }, graceMs);
    await child.ended;
    clearTimeout(timer);
  }

  async start() {
    if (fs.existsSync(SOCKET) && spawnSync("pgrep", ["-x", "pcscd"]).status === 0) {
      throw new Error(`another pcscd is already running on ${SOCKET}; stop it first`);
    }
    this.pcscd = this.spawnLogged(["/usr/sbin/pcscd", "--foreground", "--info"], "pcscd.log");
    // `signet card list` asks pcscd through libpcsclite, as signetd will.
    const listed = () => {
      const result = spawnSync(process.env.SIGNET_BIN || "signet", ["--json", "card", "list"],
                               { encoding: "utf8", timeout: 60_000 });
      return result.status === 0 && result.stdout.includes("Virtual PCD");
    };
    const ready = await waitUntil(() => this.pcscd.done || (fs.existsSync(SOCKET) && listed()));
    if (!ready || this.pcscd.done) {
      const logs = this.logs();
      await this.stop();
      throw new Error(`pcscd did not start with the virtual readers\n${logs}`);
    }
    return this;
  }

  async insertCard() {
    if (this.vicc) throw new Error("a virtual card is already inserted");
    const env = { ...process.env, PYTHONPATH: `${VICC_MODULES}:${path.join(this.dir, "python")}` };
    for (let attempt = 0; attempt < 5; attempt++) {
      this.vicc = this.spawnLogged(["/usr/bin/python3", "/usr/bin/vicc", "-t", "iso7816", "-v"], "vicc.log", env);
      await waitUntil(async () => this.vicc.done || (await this.cardPresent()), 20_000);
      if (await this.cardPresent()) return;
      await PcscStack.kill(this.vicc, 2000);
      this.vicc = null;
      await sleep(300);
    }
    throw new Error(`the virtual card (vicc) did not connect to vpcd\n${this.logs()}`);
  }

  async removeCard() {
    await PcscStack.kill(this.vicc, 5000);
    this.vicc = null;
    if (!(await waitUntil(async () => !(await this.cardPresent()), 20_000))) {
      throw new Error(`pcscd still reports a card after vicc was killed\n${this.logs()}`);
    }
  }

  async stop() {
    await PcscStack.kill(this.vicc, 5000);
    this.vicc = null;
    await PcscStack.kill(this.pcscd, 10_000);
    this.pcscd = null;
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
