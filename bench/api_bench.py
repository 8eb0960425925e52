#!/usr/bin/env python3
"""API issuance load benchmark (issue 5): certificates issued from CSRs over signetd's HTTPS
REST API, signed on a SoftHSM token and committed durably to LMDB, under wrk load (keep-alive),
against two references measured in the same run:

  - the in-process rate: build/bench/signet-bench's full issuance (parse + verify the CSR,
    policy, TBS, CA signature on the token, durable LMDB commit), with the same thread count;
  - `cfssl serve` from Debian's golang-cfssl: software P-256 CA key, no database, plain HTTP,
    POST /api/v1/cfssl/sign with the same CSRs.

Rounds alternate signet and cfssl so that both see the same machine; the medians are reported,
with signet/cfssl and signet/in-process ratios, the server CPU per request and the share of the
machine the load generator used. Every response that is not a success is counted; the run
fails (exit 2) when any was seen.

Needs: wrk, cfssl, openssl, a built tree (signet, signetd, signet-bench). Everything runs in a
scratch directory under $TMPDIR on 127.0.0.1, removed at exit. Not run by ctest: its numbers
depend on the machine.

    bench/api_bench.py [--build build] [--seconds 10] [--rounds 3] [--connections 64]
                       [--threads 2] [--csr-pool 64] [--json]
"""
import argparse
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import ssl

HERE = os.path.dirname(os.path.abspath(__file__))
LUA = os.path.join(HERE, "api_bench.lua")
START_TIMEOUT = 120


def run(args, env=None, input=None, timeout=600):
    result = subprocess.run(args, env=env, input=input, capture_output=True, timeout=timeout)
    if result.returncode != 0:
        raise SystemExit("api_bench: %s failed (%d): %s" %
                         (" ".join(args[:3]), result.returncode, result.stderr.decode()[-2000:]))
    return result.stdout.decode()


def process_cpu_seconds(pid):
    """utime + stime of a process and its waited-for children, from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds():
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    busy = sum(values) - values[3] - values[4]  # minus idle and iowait
    return busy / os.sysconf("SC_CLK_TCK")


class Scratch:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="signet-api-bench-")

    def path(self, *names):
        return os.path.join(self.dir, *names)

    def write_secret(self, name, text):
        path = self.path(name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        return path

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def make_csrs(scratch, count):
    """EC P-256 CSRs with a CN and a DNS SAN each, made by openssl (an independent tool)."""
    csrs = []
    for i in range(count):
        name = "host-%03d.bench.example" % i
        key = scratch.path("csr-key-%d.pem" % i)
        out = scratch.path("csr-%d.pem" % i)
        run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", key, "-out", out, "-subj", "/CN=" + name,
             "-addext", "subjectAltName=DNS:" + name])
        with open(out) as f:
            csrs.append(f.read())
    return csrs


def write_bodies(scratch, name, bodies):
    path = scratch.path(name)
    with open(path, "w") as f:
        for body in bodies:
            f.write(json.dumps(body, separators=(",", ":")) + "\n")
    return path


class Signetd:
    """A fresh state (SoftHSM token, LMDB store, root + issuing EC P-256 CAs on the token), a
    running signetd on ephemeral 127.0.0.1 ports, and an ra-officer API token."""

    def __init__(self, scratch, build, config=None):
        self.scratch = scratch
        self.signet = os.path.join(build, "appliance", "signet")
        self.signetd = os.path.join(build, "appliance", "signetd")
        state = scratch.path("state")
        self.env = dict(os.environ)
        self.env.pop("SOFTHSM2_CONF", None)
        self.env.pop("SIGNET_API_TOKEN_FILE", None)
        self.env.update({"SIGNET_STATE": state, "SIGNET_TOKEN": "signet"})
        run([self.signet, "token", "init", "--label", "signet"], env=self.env)
        self.env["SIGNET_PIN_FILE"] = os.path.join(state, "pins", "signet.user.pin")
        run([self.signet, "ca", "create-root", "--name", "root", "--subject", "CN=Bench Root",
             "--key", "ec-p256"], env=self.env)
        run([self.signet, "ca", "create-intermediate", "--name", "issuing", "--parent", "root",
             "--subject", "CN=Bench Issuing", "--key", "ec-p256", "--path-length", "0"],
            env=self.env)
        password = secrets.token_urlsafe(24)
        self.env["SIGNET_ADMIN_PASSWORD_FILE"] = scratch.write_secret("admin-password",
                                                                      password + "\n")
        self.log = open(scratch.path("signetd.log"), "ab")
        if os.environ.get("SIGNETD_LD_PRELOAD"):  # to try another malloc, say
            self.env["LD_PRELOAD"] = os.environ["SIGNETD_LD_PRELOAD"]
        # SIGNETD_WRAPPER: a command to run signetd under, e.g. "valgrind --tool=callgrind".
        wrapper = os.environ.get("SIGNETD_WRAPPER", "").split()
        args = wrapper + [self.signetd, "--listen", "127.0.0.1:0", "--http-listen",
                          "127.0.0.1:0"]
        if config:  # {section: {key: value}} of the TOML configuration
            path = scratch.path("signetd.toml")
            with open(path, "w") as f:
                for section, values in config.items():
                    f.write("[%s]\n" % section)
                    for key, value in values.items():
                        f.write("%s = %s\n" % (key, str(value).lower() if isinstance(value, bool)
                                                 else value))
            args += ["--config", path]
        self.process = subprocess.Popen(args, env=self.env, stdout=self.log, stderr=self.log)
        self.url = self._wait_for_lock(state)
        self.tls = ssl.create_default_context(cafile=os.path.join(state, "appliance-ca.pem"))
        self.authorization = "Bearer " + self._make_token(password)

    def _wait_for_lock(self, state):
        lock = os.path.join(state, "signetd.lock")
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit("api_bench: signetd exited with %d" % self.process.returncode)
            try:
                with open(lock) as f:
                    info = json.loads(f.read() or "null")
                if info and info.get("https_url"):
                    return info["https_url"]
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        raise SystemExit("api_bench: signetd did not start within %d s" % START_TIMEOUT)

    def _post(self, path, body, headers):
        request = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json", **headers})
        with urllib.request.urlopen(request, context=self.tls, timeout=60) as response:
            return response.headers, json.loads(response.read())

    def _make_token(self, password):
        headers, session = self._post("/api/v1/session", {"name": "admin", "password": password},
                                      {})
        cookie = headers["Set-Cookie"].split(";", 1)[0]
        _, token = self._post("/api/v1/api-tokens", {"name": "bench", "role": "ra-officer"},
                              {"Cookie": cookie, "X-CSRF-Token": session["csrf_token"]})
        return token["token"]

    def close(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


class Cfssl:
    """`cfssl serve` with a software EC P-256 CA (made by openssl) on an ephemeral port."""

    def __init__(self, scratch):
        key = scratch.path("cfssl-ca-key.pem")
        cert = scratch.path("cfssl-ca.pem")
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days", "30",
             "-subj", "/CN=cfssl Bench CA"])
        config = scratch.path("cfssl-config.json")
        with open(config, "w") as f:
            json.dump({"signing": {"default": {"expiry": "2160h",
                                               "usages": ["digital signature", "server auth"]}}},
                      f)
        self.port = free_port()
        self.log = open(scratch.path("cfssl.log"), "ab")
        self.process = subprocess.Popen(
            ["cfssl", "serve", "-address", "127.0.0.1", "-port", str(self.port), "-ca", cert,
             "-ca-key", key, "-config", config, "-loglevel", "4"],
            stdout=self.log, stderr=self.log)
        self.url = "http://127.0.0.1:%d" % self.port
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit("api_bench: cfssl serve exited with %d" %
                                 self.process.returncode)
            try:
                # This cfssl (Debian's 2016 snapshot) has no health endpoint; info answers once
                # the signer is loaded.
                urllib.request.urlopen(self.url + "/api/v1/cfssl/info", data=b"{}",
                                       timeout=5).read()
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("api_bench: cfssl serve did not start")

    def close(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.log.close()


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_wrk(url, path, bodies_file, authorization, expect, seconds, threads, connections,
            server_pid):
    env = dict(os.environ, BODIES=bodies_file, REQUEST_PATH=path, EXPECT=str(expect),
               AUTHORIZATION=authorization or "")
    cpu_before = process_cpu_seconds(server_pid)
    machine_before = machine_cpu_seconds()
    output = run(["wrk", "-t%d" % threads, "-c%d" % connections, "-d%ds" % seconds,
                  "--timeout", "30s", "-s", LUA, url], env=env, timeout=seconds + 120)
    server_cpu = process_cpu_seconds(server_pid) - cpu_before
    machine_cpu = machine_cpu_seconds() - machine_before
    line = next(l for l in output.splitlines() if l.startswith("API_BENCH "))
    fields = dict(item.split("=") for item in line.split()[1:])
    requests = int(fields["requests"])
    duration = int(fields["duration_us"]) / 1e6
    first = [l for l in output.splitlines() if l.startswith("API_BENCH_FIRST_UNEXPECTED")]
    return {
        "requests_per_second": requests / duration,
        "requests": requests,
        "unexpected": int(fields["unexpected"]),
        "first_unexpected": first[0].split(" ", 1)[1] if first else "",
        "p50_ms": int(fields["p50_us"]) / 1000,
        "p99_ms": int(fields["p99_us"]) / 1000,
        "server_cpu_us_per_request": 1e6 * server_cpu / max(requests, 1),
        "others_cpu_cores": max(machine_cpu - server_cpu, 0) / duration,
    }


def in_process_rate(build, seconds, threads):
    bench = os.path.join(build, "bench", "signet-bench")
    output = run([bench, "--runs", "issue", "--algorithms", "ec-p256", "--threads", str(threads),
                  "--seconds", str(seconds), "--json"], timeout=seconds * 4 + 300)
    report = json.loads(output)
    for algorithm in report.get("algorithms", []):
        for row in algorithm.get("rows", []):
            if row.get("threads") == threads:
                return row["issuance"]["rate"]
    raise SystemExit("api_bench: no in-process figure in signet-bench's output: " + output[:500])


def median_of(rows, key):
    return statistics.median(row[key] for row in rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=os.path.join(os.path.dirname(HERE), "build"))
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--csr-pool", type=int, default=64)
    parser.add_argument("--skip-in-process", action="store_true")
    parser.add_argument("--skip-cfssl", action="store_true")
    parser.add_argument("--worker-threads", type=int, help="signetd's [limits] worker_threads")
    parser.add_argument("--io-threads", type=int, help="signetd's [limits] io_threads")
    parser.add_argument("--perf", metavar="FILE",
                        help="record signetd with `perf record -g` during its first round")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    for tool in ("wrk", "cfssl", "openssl"):
        if shutil.which(tool) is None:
            raise SystemExit("api_bench: %s is not installed (apt-get install %s)" %
                             (tool, {"cfssl": "golang-cfssl"}.get(tool, tool)))

    scratch = Scratch()
    signetd = cfssl = None
    try:
        csrs = make_csrs(scratch, args.csr_pool)
        signet_bodies = write_bodies(scratch, "signet-bodies.jsonl", [
            {"ca": "issuing", "key_source": {"kind": "csr", "csr": csr}} for csr in csrs])
        cfssl_bodies = write_bodies(scratch, "cfssl-bodies.jsonl",
                                    [{"certificate_request": csr} for csr in csrs])
        limits = {k: v for k, v in (("worker_threads", args.worker_threads),
                                    ("io_threads", args.io_threads)) if v}
        signetd = Signetd(scratch, args.build, {"limits": limits} if limits else None)
        cfssl = None if args.skip_cfssl else Cfssl(scratch)
        # Warm-up: sessions in the pool, pages of the store, TLS session state.
        run_wrk(signetd.url, "/api/v1/certificates", signet_bodies, signetd.authorization, 201,
                2, args.threads, args.connections, signetd.process.pid)
        if cfssl:
            run_wrk(cfssl.url, "/api/v1/cfssl/sign", cfssl_bodies, None, 200, 2, args.threads,
                    args.connections, cfssl.process.pid)
        signet_rows, cfssl_rows = [], []
        for round_number in range(args.rounds):
            perf = None
            if args.perf and round_number == 0:
                perf = subprocess.Popen(["perf", "record", "-g", "-F", "999", "-o", args.perf,
                                         "-p", str(signetd.process.pid)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            signet_rows.append(run_wrk(signetd.url, "/api/v1/certificates", signet_bodies,
                                       signetd.authorization, 201, args.seconds, args.threads,
                                       args.connections, signetd.process.pid))
            if perf:
                perf.send_signal(signal.SIGINT)
                perf.wait(timeout=120)
            if cfssl:
                cfssl_rows.append(run_wrk(cfssl.url, "/api/v1/cfssl/sign", cfssl_bodies, None,
                                          200, args.seconds, args.threads, args.connections,
                                          cfssl.process.pid))
        signetd.close()
        if cfssl:
            cfssl.close()
        in_process = None if args.skip_in_process else in_process_rate(args.build, 3,
                                                                         args.threads)
    finally:
        for server in (signetd, cfssl):
            if server is not None:
                server.close()
        scratch.close()

    result = {"connections": args.connections, "wrk_threads": args.threads,
              "seconds": args.seconds, "rounds": args.rounds, "signet": signet_rows,
              "cfssl": cfssl_rows, "in_process_per_second": in_process}
    signet_rate = median_of(signet_rows, "requests_per_second")
    cfssl_rate = median_of(cfssl_rows, "requests_per_second") if cfssl_rows else None
    result["signet_over_cfssl"] = signet_rate / cfssl_rate if cfssl_rate else None
    result["signet_over_in_process"] = signet_rate / in_process if in_process else None
    unexpected = sum(r["unexpected"] for r in signet_rows + cfssl_rows)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print("API issuance from CSRs, EC P-256, wrk -t%d -c%d, keep-alive, %d s x %d rounds "
              "(medians)" % (args.threads, args.connections, args.seconds, args.rounds))
        print("%-44s %10s %8s %8s %14s %8s" % ("", "req/s", "p50 ms", "p99 ms",
                                                "server us/req", "others"))
        for name, rows in (("signet HTTPS API (token key, LMDB fsync)", signet_rows),
                           ("cfssl serve (software key, no DB, HTTP)", cfssl_rows)):
            if not rows:
                continue
            print("%-44s %10.0f %8.2f %8.2f %14.0f %8.2f" % (
                name, median_of(rows, "requests_per_second"), median_of(rows, "p50_ms"),
                median_of(rows, "p99_ms"), median_of(rows, "server_cpu_us_per_request"),
                median_of(rows, "others_cpu_cores")))
        if in_process:
            print("%-44s %10.0f" % ("in-process issue_from_csr_async (signet-bench)", in_process))
        print("rounds, signet req/s: %s" % ", ".join(
            "%.0f" % r["requests_per_second"] for r in signet_rows))
        if cfssl_rows:
            print("rounds, cfssl  req/s: %s" % ", ".join(
                "%.0f" % r["requests_per_second"] for r in cfssl_rows))
            print("signet / cfssl: %.2f" % result["signet_over_cfssl"])
        if in_process:
            print("signet API / in-process: %.2f" % result["signet_over_in_process"])
        print("unexpected responses: %d" % unexpected)
    for r in signet_rows + cfssl_rows:
        if r["first_unexpected"]:
            print("first unexpected response: " + r["first_unexpected"], file=sys.stderr)
            break
    return 2 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
