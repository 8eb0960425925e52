"""`signet doctor` against a real signetd: a healthy appliance passes (exit 0, every check
named in --json), a state directory loosened to 0755, a PIN file readable by others, an old
backup and a stopped daemon are each reported as problems with exit status 1."""
import json
import os
import time
import unittest

from signetd_fixture import Appliance


class DoctorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance()
        cls.backups = os.path.join(cls.app.dir, "backups")
        os.makedirs(cls.backups)
        cls.app.cli("store", "backup", "--out", os.path.join(cls.backups, "first"))
        cls.app.start()

    @classmethod
    def tearDownClass(cls):
        cls.app.close()

    def doctor(self, *args):
        r = self.app.cli("--json", "doctor", "--backup-dir", self.backups, *args, check=False)
        report = json.loads(r.stdout.decode())
        return r.returncode, {c["check"]: c for c in report["checks"]}, report

    def test_a_healthy_appliance_passes(self):
        code, checks, report = self.doctor()
        self.assertEqual(code, 0, report)
        self.assertTrue(report["healthy"])
        self.assertEqual(checks["signetd"]["detail"], "pid %d" % self.app.info["pid"])
        for name in ("signetd", "core-dumps", "state-directory", "state-files", "pin-file",
                     "appliance-ca", "tls-certificate", "token", "backup"):
            self.assertEqual(checks[name]["verdict"], "ok", checks[name])
        self.assertRegex(checks["tls-certificate"]["detail"], r"^\d+ days left$")
        self.assertIn("/healthz 200", checks["token"]["detail"])
        # Human output: one line per check.
        r = self.app.cli("doctor", check=False)
        self.assertEqual(r.returncode, 0, r.stdout.decode() + r.stderr.decode())
        self.assertIn("ok\tcore-dumps: core file size limit 0", r.stdout.decode())

    def test_a_loosened_state_directory_is_a_problem(self):
        os.chmod(self.app.state, 0o755)
        try:
            code, checks, report = self.doctor()
        finally:
            os.chmod(self.app.state, 0o700)
        self.assertEqual(code, 1)
        self.assertFalse(report["healthy"])
        self.assertEqual(checks["state-directory"]["verdict"], "problem")
        self.assertIn("has mode 0755", checks["state-directory"]["detail"])

    def test_a_pin_file_readable_by_others_is_a_problem(self):
        pin = self.app.env["SIGNET_PIN_FILE"]
        os.chmod(pin, 0o644)
        try:
            code, checks, _ = self.doctor()
        finally:
            os.chmod(pin, 0o600)
        self.assertEqual(code, 1)
        self.assertEqual(checks["pin-file"]["verdict"], "problem")
        self.assertEqual(checks["state-files"]["verdict"], "problem")
        self.assertIn(pin, checks["state-files"]["detail"])

    def test_an_old_backup_is_a_problem(self):
        manifest = os.path.join(self.backups, "first", "MANIFEST.json")
        now = time.time()
        os.utime(manifest, (now - 10 * 86400, now - 10 * 86400))
        try:
            code, checks, _ = self.doctor()
        finally:
            os.utime(manifest, (now, now))
        self.assertEqual(code, 1)
        self.assertEqual(checks["backup"]["verdict"], "problem")
        self.assertIn("10 days old", checks["backup"]["detail"])

    def test_z_a_stopped_daemon_is_a_problem(self):
        self.assertEqual(self.app.stop(), 0)
        code, checks, _ = self.doctor()
        self.assertEqual(code, 1)
        self.assertEqual(checks["signetd"]["verdict"], "problem")
        self.assertNotIn("tls-certificate", checks)


if __name__ == "__main__":
    unittest.main()
