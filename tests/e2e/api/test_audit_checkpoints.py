"""Signed audit checkpoints through the real programs (docs/OPERATIONS.md, "Audit log"):
`signet audit checkpoint | export | pubkey | verify [--offline]` on a SoftHSM token and an LMDB
store; the export checked by an independent implementation (the hash chain recomputed here in
Python, the checkpoint signature verified by `openssl dgst` over the documented message);
signetd signing checkpoints on demand through the API and at SIGTERM."""
import base64
import hashlib
import json
import os
import struct
import subprocess
import unittest

from signetd_fixture import Appliance


def entry_hash(e, previous):
    """ca/audit.h's chain hash, written again from its documentation."""
    def lp(text):
        data = text.encode()
        return struct.pack(">I", len(data)) + data
    data = (b"signet-audit-v1" + struct.pack(">Q", e["sequence"]) +
            struct.pack(">q", e["time_ns"]) + lp(e["actor"]) + lp(e["action"]) +
            lp(e["object"]) + lp(e["detail"]) + previous)
    return hashlib.sha256(data).digest()


def read_export(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def write_export(path, lines):
    with open(path, "w") as f:
        for line in lines:
            f.write(json.dumps(line) + "\n")


class AuditCheckpointCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance(create_cas=False)
        cls.app.cli("ca", "create-root", "--name", "root", "--subject", "CN=Audit Root",
                    "--key", "ec-p256")
        cls.checkpoint = json.loads(cls.app.cli("--json", "audit", "checkpoint").stdout)
        cls.pubkey = os.path.join(cls.app.dir, "audit.pem")
        cls.app.cli("audit", "pubkey", "--out", cls.pubkey)
        cls.export = os.path.join(cls.app.dir, "audit.jsonl")
        cls.app.cli("audit", "export", cls.export)

    @classmethod
    def tearDownClass(cls):
        cls.app.close()

    def offline(self, export, pubkey=None):
        return self.app.cli("--json", "audit", "verify", "--offline", export, "--pubkey",
                            pubkey or self.pubkey, check=False)

    def test_verify_checks_the_checkpoint_and_reports_the_tail(self):
        r = self.app.cli("--json", "audit", "verify")
        report = json.loads(r.stdout)
        self.assertTrue(report["ok"], report)
        self.assertEqual(report["checkpoints"], 1)
        self.assertEqual(report["last_checkpoint"], self.checkpoint["sequence"])
        self.assertEqual(report["unprotected_entries"], 1)  # the checkpoint's own event
        human = self.app.cli("audit", "verify").stdout.decode()
        self.assertIn("1 entries after the last checkpoint at sequence %d" %
                      self.checkpoint["sequence"], human)

    def test_the_export_recomputes_in_python_and_openssl_verifies_the_signature(self):
        lines = read_export(self.export)
        events = [l for l in lines if l["type"] == "event"]
        checkpoints = [l for l in lines if l["type"] == "checkpoint"]
        self.assertEqual(len(checkpoints), 1)
        previous = bytes(32)
        heads = {}
        for e in events:
            self.assertEqual(bytes.fromhex(e["previous_hash"]), previous)
            previous = entry_hash(e, previous)
            self.assertEqual(previous.hex(), e["hash"])
            heads[e["sequence"]] = previous
        c = checkpoints[0]
        self.assertEqual(heads[c["sequence"]].hex(), c["head"])
        message = (b"signet-audit-checkpoint-v1" + struct.pack(">Q", c["sequence"]) +
                   bytes.fromhex(c["head"]) + struct.pack(">Q", c["signed_at_unix"]))
        msg = os.path.join(self.app.dir, "msg.bin")
        sig = os.path.join(self.app.dir, "sig.der")
        with open(msg, "wb") as f:
            f.write(message)
        with open(sig, "wb") as f:
            f.write(base64.b64decode(c["signature"]))
        r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", self.pubkey, "-signature",
                            sig, msg], capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(b"Verified OK", r.stdout)

    def test_offline_verification_passes_with_the_audit_key(self):
        r = self.offline(self.export)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        report = json.loads(r.stdout)
        self.assertTrue(report["ok"], report)
        self.assertEqual(report["checkpoints"], 1)
        self.assertIn("after the last checkpoint at sequence", report["tail"])

    def test_offline_verification_fails_with_another_key(self):
        key = os.path.join(self.app.dir, "other.key")
        other = os.path.join(self.app.dir, "other.pem")
        subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout",
                        "-out", key], check=True, capture_output=True, timeout=60)
        subprocess.run(["openssl", "ec", "-in", key, "-pubout", "-out", other], check=True,
                       capture_output=True, timeout=60)
        r = self.offline(self.export, other)
        self.assertNotEqual(r.returncode, 0)
        report = json.loads(r.stdout)
        self.assertFalse(report["ok"])
        self.assertTrue(report["problem"].startswith("forged checkpoint"), report)
        self.assertIn("does not verify", r.stderr.decode())

    def test_an_altered_export_is_named(self):
        lines = read_export(self.export)
        lines[0]["actor"] = "someone-else"
        altered = os.path.join(self.app.dir, "altered.jsonl")
        write_export(altered, lines)
        report = json.loads(self.offline(altered).stdout)
        self.assertFalse(report["ok"])
        self.assertEqual(report["first_bad_sequence"], lines[0]["sequence"])
        self.assertTrue(report["problem"].startswith("altered"), report)

    def test_a_recomputed_export_is_caught_by_the_checkpoint(self):
        lines = read_export(self.export)
        lines[0]["detail"] = '{"forged":true}'
        previous = bytes(32)
        for line in lines:
            if line["type"] != "event":
                continue
            line["previous_hash"] = previous.hex()
            previous = entry_hash(line, previous)
            line["hash"] = previous.hex()
        recomputed = os.path.join(self.app.dir, "recomputed.jsonl")
        write_export(recomputed, lines)
        report = json.loads(self.offline(recomputed).stdout)
        self.assertFalse(report["ok"])
        self.assertEqual(report["caught_by_checkpoint"], self.checkpoint["sequence"])
        self.assertIn("is not the one the checkpoint at sequence", report["problem"])

    def test_a_truncated_export_is_named(self):
        lines = read_export(self.export)
        c = [l for l in lines if l["type"] == "checkpoint"][0]
        kept = [l for l in lines if l["type"] == "checkpoint" or l["sequence"] < c["sequence"]]
        truncated = os.path.join(self.app.dir, "truncated.jsonl")
        write_export(truncated, kept)
        report = json.loads(self.offline(truncated).stdout)
        self.assertFalse(report["ok"])
        self.assertTrue(report["problem"].startswith("truncated"), report)
        self.assertEqual(report["first_bad_sequence"], c["sequence"])


class AuditCheckpointDaemonTest(unittest.TestCase):
    def test_signetd_signs_on_demand_and_at_sigterm(self):
        app = Appliance(create_cas=False)
        try:
            app.start()
            session = app.admin_session()
            r = app.request("GET", "/api/v1/audit/pubkey", session=session)
            self.assertEqual(r.status, 404, r)  # no checkpoint yet, so no audit key
            auditor = app.make_token("auditor", name="auditor")
            r = app.request("POST", "/api/v1/audit/checkpoints", {}, token=auditor)
            self.assertEqual(r.status, 201, r)
            first = r.json()
            listed = app.request("GET", "/api/v1/audit/checkpoints", token=auditor).json()
            self.assertEqual([c["sequence"] for c in listed["items"]], [first["sequence"]])
            pem = app.request("GET", "/api/v1/audit/pubkey", token=auditor).json()
            self.assertIn("BEGIN PUBLIC KEY", pem["public_key_pem"])
            verified = app.request("GET", "/api/v1/audit/verify", token=auditor).json()
            self.assertTrue(verified["ok"], verified)
            self.assertEqual(verified["checkpoints"], 1)

            # The CLI goes through the daemon (it owns the store); --offline stays local.
            token_file = app.secret_file("auditor.token", auditor)
            env = app.cli_env(SIGNET_API_TOKEN_FILE=token_file)
            made = json.loads(app.cli("--json", "audit", "checkpoint", env=env).stdout)
            self.assertGreater(made["sequence"], first["sequence"])
            export = os.path.join(app.dir, "remote.jsonl")
            pubkey = os.path.join(app.dir, "remote.pem")
            app.cli("audit", "export", export, env=env)
            app.cli("audit", "pubkey", "--out", pubkey, env=env)
            r = app.cli("audit", "verify", "--offline", export, "--pubkey", pubkey, env=env,
                        check=False)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            app.request("GET", "/api/v1/audit", token=auditor)  # more activity to protect
            app.make_token("auditor", name="after the last checkpoint")

            self.assertEqual(app.stop(), 0)
            log = app.read_log()
            self.assertIn("signed an audit checkpoint at shutdown", log)
            report = json.loads(app.cli("--json", "audit", "verify").stdout)
            self.assertTrue(report["ok"], report)
            self.assertEqual(report["checkpoints"], 3)
            # Only the shutdown checkpoint's own event follows it.
            self.assertEqual(report["last_checkpoint"], report["last_sequence"] - 1)
            self.assertEqual(report["unprotected_entries"], 1)
        finally:
            app.close()


if __name__ == "__main__":
    unittest.main()
