"""`signet config import` and `signet audit rotate-key` while signetd runs (issue 6): the CLI
finds the daemon that owns the state directory and works through POST /api/v1/config/import and
POST /api/v1/audit/key-rotations (administrators only, audited) instead of refusing; a replayed
bundle is refused by the daemon as it is locally; openssl checks that the retired audit public
key the CLI wrote is the one that signed the checkpoint before the rotation."""
import base64
import json
import os
import subprocess
import unittest

from signetd_fixture import Appliance


def checkpoint_message(sequence, head_hex, signed_at_unix):
    return (b"signet-audit-checkpoint-v1" + sequence.to_bytes(8, "big") +
            bytes.fromhex(head_hex) + signed_at_unix.to_bytes(8, "big"))


class OperationsWhileRunningTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance(create_cas=False)
        app = cls.app
        cls.admin_pub = os.path.join(app.dir, "admin.pub")
        app.cli("token", "generate-key", "--label", "config-admin", "--public-key-out",
                cls.admin_pub)
        cls.base = cls.write_file("base.toml", cls.config_text(64))
        app.cli("config", "apply", cls.base)
        cls.next_text = cls.config_text(32)
        cls.next = cls.write_file("next.toml", cls.next_text)
        app.cli("audit", "checkpoint")
        cls.old_pub = os.path.join(app.dir, "old-audit.pem")
        app.cli("audit", "pubkey", "--out", cls.old_pub)
        app.start()
        cls.admin_file = app.secret_file("admin.token", app.make_token("administrator"))
        cls.officer_file = app.secret_file("officer.token", app.make_token("ra-officer"))

    @classmethod
    def tearDownClass(cls):
        cls.app.close()

    @classmethod
    def config_text(cls, max_connections):
        return ("[limits]\nmax_connections = %d\n\n[config]\nadmin_trust_anchors = [%s]\n"
                % (max_connections, json.dumps(cls.admin_pub)))

    @classmethod
    def write_file(cls, name, text):
        path = os.path.join(cls.app.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def signet(self, *args, token_file=None, check=True):
        env = self.app.cli_env(SIGNET_API_TOKEN_FILE=token_file or self.admin_file)
        return self.app.cli(*args, check=check, env=env)

    def export(self, name):
        # Export signs on the token and reads no store: it runs here beside signetd.
        out = os.path.join(self.app.dir, name)
        self.signet("config", "export", "--sign", "--key", "config-admin", "--file", self.next,
                    "--out", out)
        return out

    def versions(self):
        return json.loads(self.signet("--json", "config", "versions").stdout)

    def audit(self, action):
        r = self.app.request("GET", "/api/v1/audit?action=%s&limit=1000" % action,
                             session=self.app.admin_session())
        self.assertEqual(r.status, 200, r)
        return [e for e in r.json()["items"] if e["action"] == action]

    def test_config_import_goes_through_the_running_daemon(self):
        bundle = self.export("running.bundle")
        before = self.versions()
        r = self.signet("--json", "config", "import", bundle)
        imported = json.loads(r.stdout)
        self.assertEqual(imported["action"], "import")
        after = self.versions()
        self.assertEqual(len(after), len(before) + 1)
        self.assertEqual(after[-1]["version"], imported["version"])
        with open(os.path.join(self.app.state, "config", "signetd.toml")) as f:
            self.assertEqual(f.read(), self.next_text)
        # Audited by signetd, naming the administrator's API token as the actor.
        event = self.audit("config.imported")[-1]
        self.assertEqual(event["object"], "config:v%d" % imported["version"])
        self.assertTrue(event["actor"].startswith("token:"), event)
        detail = event["detail"]
        self.assertEqual(detail["bundle_sequence"], imported["bundle_sequence"])

        # The same bundle again: the daemon refuses it, applies nothing, and audits why.
        refused_before = len(self.audit("config.import_refused"))
        r = self.signet("config", "import", bundle, check=False)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("was imported already", r.stderr.decode())
        self.assertIn("nothing was applied", r.stderr.decode())
        self.assertEqual(self.versions(), after)
        refusals = self.audit("config.import_refused")
        self.assertEqual(len(refusals), refused_before + 1)
        self.assertIn("replayed", refusals[-1]["detail"]["reason"])
        self.assertIsNone(self.app.process.poll())

    def test_import_and_rotation_are_for_administrators_only(self):
        bundle = self.export("officer.bundle")
        for args in (("config", "import", bundle), ("audit", "rotate-key")):
            r = self.signet(*args, token_file=self.officer_file, check=False)
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn("ra-officer", r.stderr.decode())
        r = self.app.request("POST", "/api/v1/config/import", {"bundle": "{}"},
                             token=self.app.make_token("auditor"))
        self.assertEqual(r.status, 403, r)

    def test_audit_rotate_key_goes_through_the_running_daemon(self):
        retired_pub = os.path.join(self.app.dir, "retired.pem")
        r = self.signet("--json", "audit", "rotate-key", "--retired-pubkey-out", retired_pub)
        rotation = json.loads(r.stdout)
        self.assertTrue(rotation["retired_label"].startswith("signet-audit-retired-"))
        with open(retired_pub) as f, open(self.old_pub) as g:
            self.assertEqual(f.read(), g.read())
        event = self.audit("audit.key_rotated")[-1]
        self.assertTrue(event["actor"].startswith("token:"), event)
        self.assertEqual(event["detail"]["retired_label"], rotation["retired_label"])

        # The daemon signs with the new key from now on: its pubkey is the new one, a checkpoint
        # made now verifies with it (openssl), and the whole log verifies online.
        r = self.app.request("GET", "/api/v1/audit/pubkey", session=self.app.admin_session())
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["public_key_pem"], rotation["public_key_pem"])
        made = json.loads(self.signet("--json", "audit", "checkpoint").stdout)
        self.assertEqual(made["key"], rotation["key"])
        self.assert_openssl_verifies(made, rotation["public_key_pem"])
        report = json.loads(self.signet("--json", "audit", "verify").stdout)
        self.assertTrue(report["ok"], report)
        self.assertIsNone(self.app.process.poll())

    def assert_openssl_verifies(self, checkpoint, public_key_pem):
        signed_at = checkpoint["signed_at_unix"]
        message = self.write_file("checkpoint.bin", "")
        with open(message, "wb") as f:
            f.write(checkpoint_message(checkpoint["sequence"], checkpoint["head"], signed_at))
        signature = message + ".sig"
        with open(signature, "wb") as f:
            f.write(base64.b64decode(checkpoint["signature"]))
        pub = self.write_file("current-audit.pem", public_key_pem)
        r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", pub, "-signature",
                            signature, message], capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
