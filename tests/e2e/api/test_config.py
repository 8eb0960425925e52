"""The appliance configuration file (docs/CONFIGURATION.md) through the real programs:
`signet config validate | show`, and signetd reading a TOML --config, refusing an invalid one
with every error, and acting on what it says (token and PIN, TLS floor, first administrator).
"""
import json
import os
import subprocess
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

    def test_signetd_takes_token_pin_tls_floor_and_first_administrator_from_the_file(self):
        app = Appliance(create_cas=False)
        try:
            pin_file = app.env.pop("SIGNET_PIN_FILE")
            app.env.pop("SIGNET_TOKEN")
            app.env.pop("SIGNET_ADMIN_PASSWORD_FILE")
            app.config = {
                "tls": {"min_version": "1.3"},
                "bootstrap.operators": {"admin_name": "chief",
                                        "admin_password_file": app.admin_password_file},
                "pkcs11": {"default_token": "signet"},
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
        finally:
            app.close()


if __name__ == "__main__":
    unittest.main()
