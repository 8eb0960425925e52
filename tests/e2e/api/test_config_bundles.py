"""Signed configuration bundles through the real programs: `signet token generate-key` makes an
administrator key on the SoftHSM token, `signet config export --sign` signs a bundle with it,
openssl verifies that bundle independently, and `signet config import` takes a good bundle as a
new version but refuses, applying nothing, a bundle with a wrong signature, an unknown signer,
tampered content, a truncated file, an invalid configuration, and a bundle replayed or older
than the last one imported (replay protection by the signed sequence number;
docs/CONFIGURATION.md).
"""
import base64
import hashlib
import json
import os
import subprocess
import unittest

from signetd_fixture import Appliance


def run(*args):
    return subprocess.run(list(args), capture_output=True, timeout=120)


class ConfigBundleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance(create_cas=False)
        cls.admin_pub = os.path.join(cls.app.dir, "admin.pub")
        cls.intruder_pub = os.path.join(cls.app.dir, "intruder.pub")
        cls.app.cli("token", "generate-key", "--label", "config-admin",
                    "--public-key-out", cls.admin_pub)
        cls.app.cli("token", "generate-key", "--label", "intruder", "--algorithm", "ec-p384",
                    "--public-key-out", cls.intruder_pub)
        cls.base = cls.write_file("base.toml", cls.config_text(64))
        cls.app.cli("config", "apply", cls.base)
        cls.next_text = cls.config_text(32)
        cls.next = cls.write_file("next.toml", cls.next_text)
        cls.bundle = os.path.join(cls.app.dir, "next.bundle")
        cls.app.cli("config", "export", "--sign", "--key", "config-admin", "--file", cls.next,
                    "--out", cls.bundle)

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

    def versions(self):
        return json.loads(self.app.cli("--json", "config", "versions").stdout)

    def active_text(self):
        with open(os.path.join(self.app.state, "config", "signetd.toml")) as f:
            return f.read()

    def audit_actions(self):
        events = json.loads(self.app.cli("--json", "audit", "list", "--limit", "10000").stdout)
        return [e["action"] for e in events["items"]]

    def read_bundle(self):
        with open(self.bundle) as f:
            return json.load(f)

    def sequence_of(self, path):
        with open(path) as f:
            return json.loads(base64.b64decode(json.load(f)["payload"]))["sequence"]

    def export(self, name, *extra):
        out = os.path.join(self.app.dir, name)
        self.app.cli("config", "export", "--sign", "--key", "config-admin", "--file", self.next,
                     "--out", out, *extra)
        return out

    def last_refusal_reason(self):
        events = json.loads(self.app.cli("--json", "audit", "list", "--action",
                                         "config.import_refused", "--limit", "10000").stdout)
        return events["items"][-1]["detail"]["reason"]

    def assert_refused(self, path, phrase):
        before_versions, before_text = self.versions(), self.active_text()
        refused_before = self.audit_actions().count("config.import_refused")
        r = self.app.cli("config", "import", path, check=False)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn(phrase, r.stderr.decode())
        self.assertIn("nothing was applied", r.stderr.decode())
        self.assertEqual(self.versions(), before_versions)
        self.assertEqual(self.active_text(), before_text)
        self.assertEqual(self.audit_actions().count("config.import_refused"), refused_before + 1)

    def test_openssl_verifies_the_bundle_with_the_administrator_public_key(self):
        bundle = self.read_bundle()
        payload = base64.b64decode(bundle["payload"])
        payload_path = self.write_file("payload.bin", "")
        with open(payload_path, "wb") as f:
            f.write(payload)
        signature_path = payload_path + ".sig"
        with open(signature_path, "wb") as f:
            f.write(base64.b64decode(bundle["signature"]))
        r = run("openssl", "dgst", "-sha256", "-verify", self.admin_pub, "-signature",
                signature_path, payload_path)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(b"Verified OK", r.stdout)
        # The metadata: the text, its SHA-256 and the signer's key id (SHA-256 of the SPKI DER).
        inner = json.loads(payload)
        self.assertEqual(inner["format"], "signet-config-bundle-v2")
        self.assertIsInstance(inner["sequence"], int)
        self.assertGreaterEqual(inner["sequence"], 1)
        self.assertEqual(inner["config"], self.next_text)
        self.assertEqual(inner["config_sha256"],
                         hashlib.sha256(self.next_text.encode()).hexdigest())
        spki = run("openssl", "pkey", "-pubin", "-in", self.admin_pub, "-outform", "DER").stdout
        self.assertEqual(inner["signer_key_id"], hashlib.sha256(spki).hexdigest())
        self.assertEqual(bundle["signer_key_id"], inner["signer_key_id"])
        self.assertIn("object=config-admin", inner["signer_key_uri"])
        self.assertRegex(inner["created"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        # Altered by one byte, openssl refuses it too.
        with open(payload_path, "wb") as f:
            f.write(payload.replace(b"max_connections = 32", b"max_connections = 33"))
        r = run("openssl", "dgst", "-sha256", "-verify", self.admin_pub, "-signature",
                signature_path, payload_path)
        self.assertNotEqual(r.returncode, 0)

    def test_export_of_the_active_version_names_it(self):
        out = os.path.join(self.app.dir, "active.bundle")
        self.app.cli("config", "export", "--sign", "--key", "config-admin", "--out", out)
        with open(out) as f:
            inner = json.loads(base64.b64decode(json.load(f)["payload"]))
        latest = self.versions()[-1]["version"]
        self.assertEqual(inner["version"], latest)
        self.assertEqual(inner["source"], "version %d" % latest)

    def test_export_needs_a_key_on_the_token(self):
        r = self.app.cli("config", "export", "--sign", "--key", "no-such-key", "--file", self.next,
                         check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no-such-key", r.stderr.decode())

    def test_good_bundle_is_imported_as_a_new_version_and_audited(self):
        before = self.versions()
        r = self.app.cli("--json", "config", "import", self.bundle)
        self.assertEqual(json.loads(r.stdout)["action"], "import")
        after = self.versions()
        self.assertEqual(len(after), len(before) + 1)
        self.assertEqual(after[-1]["action"], "import")
        self.assertEqual(self.active_text(), self.next_text)
        events = json.loads(self.app.cli("--json", "audit", "list", "--action",
                                         "config.imported").stdout)["items"]
        detail = events[-1]["detail"]
        self.assertEqual(detail["config_sha256"],
                         hashlib.sha256(self.next_text.encode()).hexdigest())
        # Put the base back for the other tests (rollback is audited too).
        self.app.cli("config", "apply", self.base)

    def test_a_bundle_signed_by_an_unknown_key_is_refused(self):
        out = os.path.join(self.app.dir, "intruder.bundle")
        self.app.cli("config", "export", "--sign", "--key", "intruder", "--file", self.next,
                     "--out", out)
        self.assert_refused(out, "signed by an unknown key")

    def test_a_wrong_signature_is_refused(self):
        # The intruder's signature over the same payload, claiming the administrator's key id.
        out = os.path.join(self.app.dir, "intruder2.bundle")
        self.app.cli("config", "export", "--sign", "--key", "intruder", "--file", self.next,
                     "--out", out)
        with open(out) as f:
            forged = json.load(f)
        good = self.read_bundle()
        inner = json.loads(base64.b64decode(forged["payload"]))
        inner["signer_key_id"] = good["signer_key_id"]
        forged["signer_key_id"] = good["signer_key_id"]
        forged["payload"] = base64.b64encode(json.dumps(inner).encode()).decode()
        path = self.write_file("wrong-signature.bundle", json.dumps(forged))
        self.assert_refused(path, "signature does not verify")

    def test_tampered_content_is_refused(self):
        bundle = self.read_bundle()
        payload = base64.b64decode(bundle["payload"])
        bundle["payload"] = base64.b64encode(
            payload.replace(b"max_connections = 32", b"max_connections = 99")).decode()
        path = self.write_file("tampered.bundle", json.dumps(bundle))
        self.assert_refused(path, "signature does not verify")

    def test_a_truncated_bundle_is_refused(self):
        with open(self.bundle) as f:
            text = f.read()
        path = self.write_file("truncated.bundle", text[: len(text) // 2])
        self.assert_refused(path, "not a whole signed configuration bundle")

    def test_export_refuses_an_invalid_file(self):
        bad = self.write_file("bad.toml", "[limits]\nmax_conections = 10\n")
        out = os.path.join(self.app.dir, "bad.bundle")
        r = self.app.cli("config", "export", "--sign", "--key", "config-admin", "--file", bad,
                         "--out", out, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("unknown key", r.stderr.decode())
        self.assertFalse(os.path.exists(out))

    def test_a_signed_bundle_that_fails_validation_here_is_refused(self):
        # Export checks the text only; import also checks this machine: a PIN file others can
        # read is refused after the signature verified.
        pin = self.write_file("readable.pin", "1234\n")
        os.chmod(pin, 0o644)
        text = self.config_text(16) + ("\n[[pkcs11.tokens]]\nlabel = \"signet\"\npin_file = %s\n"
                                       % json.dumps(pin))
        source = self.write_file("readable-pin.toml", text)
        out = os.path.join(self.app.dir, "readable-pin.bundle")
        self.app.cli("config", "export", "--sign", "--key", "config-admin", "--file", source,
                     "--out", out)
        self.assert_refused(out, "group and others must have no access")

    def test_replayed_and_older_bundles_are_refused_and_a_newer_one_is_accepted(self):
        older = self.export("older.bundle")
        newer = self.export("newer.bundle")
        # Each export numbers above every bundle exported or imported here before.
        self.assertGreater(self.sequence_of(newer), self.sequence_of(older))
        r = self.app.cli("--json", "config", "import", newer)
        self.assertEqual(json.loads(r.stdout)["bundle_sequence"], self.sequence_of(newer))
        self.assertEqual(self.versions()[-1]["action"], "import")

        # The same bundle again: refused, and the error (and the audit) says why.
        self.assert_refused(newer, "was imported already")
        self.assertIn("replayed", self.last_refusal_reason())
        # An older bundle after a newer one: refused.
        self.assert_refused(older, "is older than %d" % self.sequence_of(newer))
        self.assertIn("older bundle is refused", self.last_refusal_reason())
        # A bundle numbered explicitly at or below the last one: refused too.
        explicit = self.export("explicit.bundle", "--sequence", str(self.sequence_of(newer)))
        self.assert_refused(explicit, "was imported already")

        # A newer export is accepted.
        newest = self.export("newest.bundle")
        self.assertGreater(self.sequence_of(newest), self.sequence_of(newer))
        before = len(self.versions())
        self.app.cli("config", "import", newest)
        self.assertEqual(len(self.versions()), before + 1)
        self.assertEqual(self.active_text(), self.next_text)
        # Put the base back for the other tests (a local apply is no bundle).
        self.app.cli("config", "apply", self.base)


if __name__ == "__main__":
    unittest.main()
