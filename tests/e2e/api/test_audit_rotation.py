"""Audit-key rotation (docs/OPERATIONS.md, "Audit log"): `signet audit rotate-key` retires the
audit key on the SoftHSM token and makes a new one; the checkpoints signed before the rotation
still verify online (the retired key stays on the token, trusted) and offline with several
`--pubkey`, while the new key alone no longer vouches for them; openssl checks that the retired
public key written out is the one that signed the old checkpoint."""
import json
import os
import unittest

from signetd_fixture import Appliance


class AuditKeyRotationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance(create_cas=False)
        app = cls.app
        app.cli("ca", "create-root", "--name", "root", "--subject", "CN=Rotation Root",
                "--key", "ec-p256")
        cls.first = json.loads(app.cli("--json", "audit", "checkpoint").stdout)
        cls.old_pub = os.path.join(app.dir, "old.pem")
        app.cli("audit", "pubkey", "--out", cls.old_pub)
        cls.retired_pub = os.path.join(app.dir, "retired.pem")
        cls.rotation = json.loads(app.cli("--json", "audit", "rotate-key", "--retired-pubkey-out",
                                          cls.retired_pub).stdout)
        app.cli("ca", "create-root", "--name", "root2", "--subject", "CN=After Rotation",
                "--key", "ec-p256")
        app.cli("audit", "checkpoint")
        cls.new_pub = os.path.join(app.dir, "new.pem")
        app.cli("audit", "pubkey", "--out", cls.new_pub)
        cls.export = os.path.join(app.dir, "audit.jsonl")
        app.cli("audit", "export", cls.export)

    @classmethod
    def tearDownClass(cls):
        cls.app.close()

    def read(self, path):
        with open(path) as f:
            return f.read()

    def test_rotation_retires_the_old_key_and_makes_a_new_one(self):
        self.assertEqual(self.read(self.retired_pub), self.read(self.old_pub))
        self.assertNotEqual(self.read(self.new_pub), self.read(self.old_pub))
        self.assertTrue(self.rotation["retired_label"].startswith("signet-audit-retired-"))
        self.assertIn("object=signet-audit;", self.rotation["key"] + ";")
        keys = json.loads(self.app.cli("--json", "token", "keys").stdout)
        labels = {k["label"] for k in keys}
        self.assertIn("signet-audit", labels)
        self.assertIn(self.rotation["retired_label"], labels)
        events = json.loads(self.app.cli("--json", "audit", "list", "--action",
                                         "audit.key_rotated").stdout)["items"]
        self.assertEqual(len(events), 1)
        self.assertEqual(events[0]["detail"]["retired_label"], self.rotation["retired_label"])

    def test_online_verification_trusts_the_retired_key(self):
        r = self.app.cli("--json", "audit", "verify", check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        report = json.loads(r.stdout)
        self.assertTrue(report["ok"], report)
        self.assertGreaterEqual(report["checkpoints"], 3)

    def test_offline_verification_takes_several_keys(self):
        r = self.app.cli("--json", "audit", "verify", "--offline", self.export,
                         "--pubkey", self.new_pub, "--pubkey", self.retired_pub, check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertTrue(json.loads(r.stdout)["ok"])

    def test_the_new_key_alone_does_not_vouch_for_old_checkpoints(self):
        r = self.app.cli("--json", "audit", "verify", "--offline", self.export,
                         "--pubkey", self.new_pub, check=False)
        self.assertNotEqual(r.returncode, 0)
        report = json.loads(r.stdout)
        self.assertTrue(report["problem"].startswith("forged checkpoint"), report)
        self.assertIn("sequence %d" % self.first["sequence"], report["problem"])
        # And the old key alone does not vouch for the new ones.
        r = self.app.cli("--json", "audit", "verify", "--offline", self.export,
                         "--pubkey", self.retired_pub, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("does not verify", json.loads(r.stdout)["problem"])


if __name__ == "__main__":
    unittest.main()
