#!/usr/bin/env python3
"""Instructions per API issuance, counted by valgrind's callgrind: a figure that does not move
with the machine's other load (on a shared 2-core machine req/s and even CPU-seconds do).

signetd runs under callgrind twice, serving N1 and then N2 issuances from CSRs (EC P-256, the
CA key on SoftHSM, durable LMDB commits) over HTTPS from 4 keep-alive clients; start-up, login
and shutdown cost the same in both runs, so (I(N2) - I(N1)) / (N2 - N1) is what one issuance
costs in user space, in every signetd thread (the writer's included; the kernel's work is not
counted). With --top K the K most expensive functions of the larger run are listed, inclusive,
per issuance.

    bench/api_instructions.py [--build build] [--requests 200,600] [--top 25]

Needs valgrind (apt-get install valgrind). Not run by ctest.
"""
import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import api_bench  # noqa: E402  (the scratch state, CSRs and signetd launcher)

CLIENTS = 4


def issue(signetd, bodies, count):
    host, port = signetd.url[len("https://"):].rsplit(":", 1)
    failures = []

    def client(n):
        connection = http.client.HTTPSConnection(host, int(port), context=signetd.tls,
                                                 timeout=600)
        for i in range(n):
            connection.request("POST", "/api/v1/certificates", body=bodies[i % len(bodies)],
                               headers={"Content-Type": "application/json",
                                        "Authorization": signetd.authorization})
            response = connection.getresponse()
            body = response.read()
            if response.status != 201:
                failures.append("%d %s" % (response.status, body[:200]))
                return
        connection.close()

    threads = [threading.Thread(target=client, args=(count // CLIENTS,)) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit("api_instructions: an issuance failed: " + failures[0])
    return (count // CLIENTS) * CLIENTS


def counted_run(build, count, out_file):
    scratch = api_bench.Scratch()
    signetd = None
    try:
        csrs = api_bench.make_csrs(scratch, 8)
        bodies = [json.dumps({"ca": "issuing", "key_source": {"kind": "csr", "csr": csr}})
                  for csr in csrs]
        os.environ["SIGNETD_WRAPPER"] = ("valgrind --tool=callgrind --callgrind-out-file=" +
                                         out_file)
        api_bench.START_TIMEOUT = 600
        # Valgrind does not implement seccomp(2): the filter is left off for the count.
        signetd = api_bench.Signetd(scratch, build, {"hardening": {"seccomp": False}})
        issued = issue(signetd, bodies, count)
    finally:
        if signetd is not None:
            signetd.close()
        scratch.close()
    return issued


def total_instructions(out_file):
    with open(out_file) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                return int(line.split()[1])
    raise SystemExit("api_instructions: no totals in " + out_file)


def top_functions(out_file, per, top):
    output = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=99",
                             out_file], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in output.splitlines():
        match = re.match(r"^\s*([\d,]+)\s+\([\s\d.]+%\)\s+(.*)$", line)
        if not match or "PROGRAM TOTALS" in line:
            continue
        name = re.sub(r"\s*\[[^\]]*\]$", "", match.group(2))
        name = name.split(":", 1)[1] if ":" in name.split("(")[0] else name
        # Thread, executor and std::function frames only wrap the work below them.
        if name.startswith(("boost::", "std::", "start_thread", "0x", "(below main)")) or \
                any(name[:110] == seen for _, seen in rows):
            continue
        rows.append((int(match.group(1).replace(",", "")) / per, name[:110]))
    return rows[:top]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=os.path.join(os.path.dirname(api_bench.HERE),
                                                        "build"))
    parser.add_argument("--requests", default="200,600")
    parser.add_argument("--top", type=int, default=0)
    args = parser.parse_args()
    small, large = (int(n) for n in args.requests.split(","))
    if large <= small:
        raise SystemExit("api_instructions: --requests N1,N2 needs N2 > N1")
    work = api_bench.Scratch()
    try:
        files = [work.path("callgrind.%d.out" % n) for n in (small, large)]
        issued = [counted_run(args.build, n, f) for n, f in zip((small, large), files)]
        totals = [total_instructions(f) for f in files]
        per = (totals[1] - totals[0]) / (issued[1] - issued[0])
        print("instructions per API issuance (callgrind, user space, all signetd threads): "
              "%.0f" % per)
        print("  runs: %d issuances -> %d, %d issuances -> %d instructions" %
              (issued[0], totals[0], issued[1], totals[1]))
        if args.top:
            print("\nmost expensive functions of the %d-issuance run, inclusive, per issuance "
                  "(start-up included):" % issued[1])
            for cost, name in top_functions(files[1], issued[1], args.top):
                print("%12.0f  %s" % (cost, name))
    finally:
        work.close()


if __name__ == "__main__":
    main()
