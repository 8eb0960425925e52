"""The appliance configuration file (docs/CONFIGURATION.md) through the real programs:
`signet config validate | show`, and signetd reading a TOML --config, refusing an invalid one
with every error, and acting on what it says (token and PIN, TLS floor, first administrator).
"""
import json
import os
import signal
import subprocess
import time
import unittest

from signetd_fixture import SIGNETD, Appliance


def s_client(port, ca_file, *args):
    result = subprocess.run(
        ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-CAfile", ca_file, *args],
        input=b"", capture_output=True, timeout=120)
    return result.returncode, (result.stdout + result.stderr).decode(errors="replace")


BAD_CONFIG = """[listen]
https = "localhost:8443"

[limits]
max_conections = 10
io_threads = "two"

[sessions]
idle_seconds = 0
"""


class ConfigCommandTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance(create_cas=False)

    @classmethod
    def tearDownClass(cls):
        cls.app.close()

    def write(self, name, text, mode=0o600):
        path = os.path.join(self.app.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def test_validate_accepts_a_good_file(self):
        path = self.write("good.toml", (
            "[limits]\nmax_connections = 64\n\n[pkcs11]\ndefault_token = \"signet\"\n\n"
            "[[pkcs11.modules]]\nname = \"softhsm\"\npath = \"/usr/lib/softhsm/libsofthsm2.so\"\n\n"
            "[[pkcs11.tokens]]\nlabel = \"signet\"\npin_file = %s\n")
            % json.dumps(self.app.env["SIGNET_PIN_FILE"]))
        r = self.app.cli("config", "validate", path, check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout.decode(), "valid\n")

    def test_validate_reports_every_error_with_key_and_line(self):
        path = self.write("bad.toml", BAD_CONFIG)
        r = self.app.cli("config", "validate", path, check=False)
        self.assertEqual(r.returncode, 1)
        lines = r.stdout.decode().splitlines()
        self.assertEqual(len(lines), 4, lines)
        self.assertIn(path + ":2: listen.https: ", lines[0])
        self.assertIn(path + ":5: limits.max_conections: unknown key; did you mean "
                      "'limits.max_connections'?", lines[1])
        self.assertIn(path + ":6: limits.io_threads: must be an integer, not a string", lines[2])
        self.assertIn(path + ":9: sessions.idle_seconds: must be between 1 and 86400", lines[3])
        self.assertIn("has 4 errors", r.stderr.decode())

        r = self.app.cli("--json", "config", "validate", path, check=False)
        self.assertEqual(r.returncode, 1)
        issues = json.loads(r.stdout)
        self.assertEqual([(i["key"], i["line"]) for i in issues],
                         [("listen.https", 2), ("limits.max_conections", 5),
                          ("limits.io_threads", 6), ("sessions.idle_seconds", 9)])

    def test_validate_refuses_a_pin_file_others_can_read_and_a_module_that_does_not_load(self):
        pin = self.write("loose.pin", "123456\n", mode=0o644)
        not_a_module = self.write("module.so", "not a shared library\n")
        path = self.write("loose.toml", (
            "[[pkcs11.modules]]\nname = \"m\"\npath = %s\n\n"
            "[[pkcs11.tokens]]\nlabel = \"t\"\npin_file = %s\n") % (
                json.dumps(not_a_module), json.dumps(pin)))
        r = self.app.cli("config", "validate", path, check=False)
        self.assertEqual(r.returncode, 1)
        out = r.stdout.decode()
        self.assertIn(":3: pkcs11.modules[0].path: the PKCS#11 module '%s' does not load"
                      % not_a_module, out)
        self.assertIn(":7: pkcs11.tokens[0].pin_file: the file '%s' has mode 0644" % pin, out)
        self.assertNotIn("123456", out + r.stderr.decode())

    def test_show_prints_defaults_and_paths_never_secrets(self):
        r = self.app.cli("config", "show")
        self.assertIn('https = "127.0.0.1:8443"', r.stdout.decode())
        pin_file = self.app.env["SIGNET_PIN_FILE"]
        with open(pin_file) as f:
            pin = f.read().strip()
        path = self.write("show.toml", "[[pkcs11.tokens]]\nlabel = \"signet\"\npin_file = %s\n"
                          % json.dumps(pin_file))
        out = self.app.cli("config", "show", path).stdout.decode()
        self.assertIn("pin_file = %s" % json.dumps(pin_file), out)
        self.assertIn("max_connections = 512", out)
        self.assertNotIn(pin, out)
        shown = json.loads(self.app.cli("--json", "config", "show", path).stdout)
        self.assertEqual(shown["pkcs11"]["tokens"], [{"label": "signet", "pin_file": pin_file}])
        self.assertEqual(shown["limits"]["max_connections"], 512)


class ConfigVersionsTest(unittest.TestCase):
    """apply keeps every version (0600, who and when), show/diff read them, rollback makes an
    old one active again; each apply and rollback is in the audit log; signetd started
    without --config runs on the active version."""

    def test_apply_show_diff_rollback_and_audit(self):
        app = Appliance(create_cas=False)
        try:
            first = os.path.join(app.dir, "first.toml")
            with open(first, "w") as f:
                f.write("[listen]\nhttps = \"127.0.0.1:0\"\nhttp = \"127.0.0.1:0\"\n"
                        "[limits]\nio_threads = 3\n")
            second = os.path.join(app.dir, "second.toml")
            with open(second, "w") as f:
                f.write("[listen]\nhttps = \"127.0.0.1:0\"\nhttp = \"127.0.0.1:0\"\n"
                        "[limits]\nio_threads = 4\n[sessions]\nidle_seconds = 60\n")
            bad = os.path.join(app.dir, "bad.toml")
            with open(bad, "w") as f:
                f.write(BAD_CONFIG)

            self.assertIn("version 1 is active", app.cli("config", "apply", first).stdout.decode())
            app.cli("config", "apply", second)
            r = app.cli("config", "apply", bad, check=False)
            self.assertEqual(r.returncode, 1)
            self.assertIn("has 4 errors", r.stderr.decode())

            versions = json.loads(app.cli("--json", "config", "versions").stdout)
            self.assertEqual([v["version"] for v in versions], [1, 2])
            self.assertEqual(versions[0]["action"], "apply")
            self.assertEqual(versions[0]["source"], first)
            self.assertTrue(versions[0]["applied_by"].startswith("cli:"))
            config_dir = os.path.join(app.state, "config")
            for name in ("v1.toml", "v1.meta.toml", "v2.toml", "signetd.toml"):
                self.assertEqual(os.stat(os.path.join(config_dir, name)).st_mode & 0o777, 0o600)

            self.assertIn("io_threads = 3",
                          app.cli("config", "show", "--version", "1").stdout.decode())
            diff = app.cli("config", "diff", "1", "2").stdout.decode().splitlines()
            self.assertEqual(diff, ["limits.io_threads: 3 -> 4",
                                    "sessions.idle_seconds: 900 -> 60"])
            self.assertEqual(app.cli("config", "diff", "2", second).stdout.decode(),
                             "no differences\n")

            app.cli("config", "rollback", "1")
            versions = json.loads(app.cli("--json", "config", "versions").stdout)
            self.assertEqual(versions[-1]["version"], 3)
            self.assertEqual(versions[-1]["action"], "rollback to 1")
            with open(os.path.join(config_dir, "signetd.toml")) as f, open(first) as g:
                self.assertEqual(f.read(), g.read())

            events = json.loads(app.cli("--json", "audit", "list", "--action", "config.")
                                .stdout)["items"]
            self.assertEqual([(e["action"], e["object"]) for e in events],
                             [("config.applied", "config:v1"), ("config.applied", "config:v2"),
                              ("config.rolled_back", "config:v3")])
            self.assertEqual(events[2]["detail"]["rollback_to"], 1)

            # signetd without --config runs on the active version (ephemeral ports from v1);
            # while it runs, apply is refused (the daemon owns the store and its audit log).
            log = open(os.path.join(app.dir, "signetd-active.log"), "ab")
            process = subprocess.Popen([SIGNETD], env=app.env, stdout=log, stderr=log)
            try:
                lock = os.path.join(app.state, "signetd.lock")
                deadline = time.monotonic() + 180
                info = None
                while time.monotonic() < deadline and process.poll() is None:
                    try:
                        with open(lock) as f:
                            info = json.loads(f.read() or "null")
                    except (OSError, ValueError):
                        info = None
                    if info and info.get("https_url"):
                        break
                    time.sleep(0.1)
                self.assertTrue(info and info.get("https_url"), "signetd did not start")
                self.assertNotEqual(info["https_url"], "https://127.0.0.1:8443")
                r = app.cli("config", "apply", second, check=False)
                self.assertEqual(r.returncode, 1)
                self.assertIn("not available through the API", r.stderr.decode())
                self.assertEqual(app.cli("config", "diff", "1", "3").stdout.decode(),
                                 "no differences\n")
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=120)
                log.close()
            with open(os.path.join(app.dir, "signetd-active.log")) as f:
                self.assertIn("configuration from " + os.path.join(config_dir, "signetd.toml"),
                              f.read())
        finally:
            app.close()


class DaemonConfigTest(unittest.TestCase):
    def test_signetd_refuses_an_invalid_file_listing_every_error(self):
        app = Appliance(create_cas=False)
        try:
            path = os.path.join(app.dir, "bad.toml")
            with open(path, "w") as f:
                f.write(BAD_CONFIG)
            r = subprocess.run([SIGNETD, "--config", path], env=app.env, capture_output=True,
                               timeout=120)
            self.assertEqual(r.returncode, 1)
            err = r.stderr.decode()
            self.assertIn("has 4 errors", err)
            for key in ("listen.https", "limits.max_conections", "limits.io_threads",
                        "sessions.idle_seconds"):
                self.assertIn(key, err)
            self.assertFalse(os.path.exists(os.path.join(app.state, "signetd.lock")) and
                             os.path.getsize(os.path.join(app.state, "signetd.lock")) > 0)
        finally:
            app.close()

    def test_signetd_takes_token_pin_tls_floor_admin_and_base_url_from_the_file(self):
        app = Appliance()
        try:
            pin_file = app.env.pop("SIGNET_PIN_FILE")
            app.env.pop("SIGNET_TOKEN")
            app.env.pop("SIGNET_ADMIN_PASSWORD_FILE")
            app.config = {
                "tls": {"min_version": "1.3"},
                "bootstrap.operators": {"admin_name": "chief",
                                        "admin_password_file": app.admin_password_file},
                "pkcs11": {"default_token": "signet"},
                "ca": {"publish_base_url": "http://pki.example.test"},
            }
            app.extra_toml = ("\n[[pkcs11.tokens]]\nlabel = \"signet\"\npin_file = %s\n"
                              % json.dumps(pin_file))
            app.start()
            code, out = s_client(app.https_port, app.ca_file, "-tls1_2")
            self.assertNotEqual(code, 0, out)
            code, out = s_client(app.https_port, app.ca_file, "-tls1_3")
            self.assertEqual(code, 0, out)
            session = app.login(name="chief")
            r = app.request("GET", "/api/v1/operators", session=session)
            self.assertEqual(r.status, 200, r)
            self.assertEqual([o["name"] for o in r.json()["operators"]], ["chief"])
            for ca in ("root", "issuing"):
                r = app.request("GET", "/api/v1/cas/" + ca, session=session)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json()["base_url"], "http://pki.example.test")
            r = app.request("GET", "/api/v1/audit?action=ca.updated", session=session)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(sorted(e["object"] for e in r.json()["items"]),
                             ["ca:issuing", "ca:root"])
        finally:
            app.close()


if __name__ == "__main__":
    unittest.main()
