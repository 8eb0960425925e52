"""signetd re-reading its configuration while it runs (docs/CONFIGURATION.md, "Reloading"):
POST /api/v1/config/reload and SIGHUP. A file that fails validation changes nothing and says why
(and is audited); a good file changes the run-time settings (here the session lifetime a login's
cookie carries) and names the ones that wait for a restart. RA profiles the file declares are
created at start and on reload, and an operator's edit is reported as drift, never overwritten.
Under load, repeated SIGHUPs lose no certificate request and leave the store intact.
"""
import json
import os
import signal
import threading
import time
import unittest

from signetd_fixture import Appliance, make_csr, to_toml

PROFILE = """
[[bootstrap.profiles]]
name = "bootweb"
ca = "issuing"
description = "declared in signetd.toml"
extended_key_usage = ["serverAuth"]
validity = { default_days = 30, max_days = 90, mode = "hard" }
"""

SECOND_PROFILE = """
[[bootstrap.profiles]]
name = "bootclient"
ca = "issuing"
extended_key_usage = ["clientAuth"]
"""


class ConfigReloadTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance(config={"sessions": {"idle_seconds": 600, "lifetime_seconds": 3600}})
        cls.app.extra_toml = PROFILE
        cls.app.start()
        cls.config_path = os.path.join(cls.app.dir, "signetd.toml")

    @classmethod
    def tearDownClass(cls):
        cls.app.close()

    def write_config(self, sessions=None, extra_sections=None, extra_toml=PROFILE, raw=None):
        config = {"listen": {"https": "127.0.0.1:0", "http": "127.0.0.1:0"},
                  "sessions": sessions or {"idle_seconds": 600, "lifetime_seconds": 3600}}
        config.update(extra_sections or {})
        text = raw if raw is not None else to_toml(config) + extra_toml
        tmp = self.config_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.config_path)  # signetd never reads half a file

    def lifetime_of_a_new_session(self):
        r = self.app.request("POST", "/api/v1/session", {"name": "admin",
                                                         "password": "correct horse battery staple"})
        self.assertEqual(r.status, 201, r)
        cookie = r.header("Set-Cookie")
        return int(cookie.split("Max-Age=")[1].split(";")[0])

    def reload(self, expect):
        r = self.app.request("POST", "/api/v1/config/reload", {},
                             session=self.app.admin_session())
        self.assertEqual(r.status, expect, r)
        return r.json()

    def audit_actions(self, prefix):
        r = self.app.request("GET", "/api/v1/audit?action=%s&limit=1000" % prefix,
                             session=self.app.admin_session())
        self.assertEqual(r.status, 200, r)
        body = r.json()
        items = body["items"] if isinstance(body, dict) else body
        return items

    def test_1_declared_profile_was_created_at_start(self):
        r = self.app.request("GET", "/api/v1/profiles/issuing/bootweb",
                             session=self.app.admin_session())
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["validity"]["max_days"], 90)
        created = [e for e in self.audit_actions("profile.created")
                   if e["object"] == "profile:issuing/bootweb"]
        self.assertEqual(len(created), 1)
        self.assertEqual(created[0]["actor"], "signetd:config")

    def test_2_a_bad_file_changes_nothing_and_says_why(self):
        failed_before = len(self.audit_actions("config.reload_failed"))
        self.write_config(raw="[sessions]\nlifetime_seconds = 7200\nidle_secs = 5\n")
        try:
            r = self.app.request("POST", "/api/v1/config/reload", {},
                                 session=self.app.admin_session())
            self.assertEqual(r.status // 100, 4, r)
            message = r.json()["error"]["message"]
            self.assertIn("sessions.idle_secs: unknown key", message)
            self.assertIn("not reloaded", message)
            self.assertEqual(self.lifetime_of_a_new_session(), 3600)
            self.assertEqual(len(self.audit_actions("config.reload_failed")), failed_before + 1)
            # SIGHUP with the same file: logged, nothing changes, signetd stays up.
            self.app.process.send_signal(signal.SIGHUP)
            self.wait_for_log("sessions.idle_secs: unknown key")
            self.assertIsNone(self.app.process.poll())
            self.assertEqual(self.lifetime_of_a_new_session(), 3600)
        finally:
            self.write_config()

    def test_3_a_good_file_applies_run_time_settings_and_names_restart_ones(self):
        self.write_config(sessions={"idle_seconds": 600, "lifetime_seconds": 7200},
                          extra_sections={"tls": {"min_version": "1.3"}})
        try:
            report = self.reload(200)
            self.assertEqual(report["file"], self.config_path)
            self.assertIn("sessions.lifetime_seconds: 3600 -> 7200", report["applied"])
            self.assertTrue(any(line.startswith("tls.min_version")
                                for line in report["restart_required"]), report)
            self.assertEqual(self.lifetime_of_a_new_session(), 7200)
            reloaded = self.audit_actions("config.reloaded")[-1]
            self.assertIn("sessions.lifetime_seconds: 3600 -> 7200",
                          reloaded["detail"]["applied"])
        finally:
            self.write_config()
            self.reload(200)
        self.assertEqual(self.lifetime_of_a_new_session(), 3600)

    def test_4_sighup_reloads(self):
        self.write_config(sessions={"idle_seconds": 600, "lifetime_seconds": 5400})
        try:
            self.app.process.send_signal(signal.SIGHUP)
            self.wait_for_log("sessions.lifetime_seconds: 3600 -> 5400")
            self.assertEqual(self.lifetime_of_a_new_session(), 5400)
        finally:
            self.write_config()
            self.reload(200)

    def test_5_profiles_are_bootstrapped_on_reload_and_edits_are_drift(self):
        admin = self.app.admin_session()
        version = self.app.request("GET", "/api/v1/profiles/issuing/bootweb",
                                   session=admin).json()["version"]
        r = self.app.request("PATCH", "/api/v1/profiles/issuing/bootweb",
                             {"description": "edited by an operator", "version": version},
                             session=admin)
        self.assertEqual(r.status, 200, r)
        edited_version = r.json()["version"]
        self.write_config(extra_toml=PROFILE + SECOND_PROFILE)
        try:
            report = self.reload(200)
            notes = " ".join(report["notes"])
            self.assertIn("created RA profile issuing/bootclient", notes)
            self.assertIn("drift: RA profile issuing/bootweb", notes)
            self.assertIn("description", notes)
            self.assertTrue(any(line.startswith("bootstrap.profiles[1]")
                                for line in report["applied"]), report)
            r = self.app.request("GET", "/api/v1/profiles/issuing/bootweb", session=admin)
            self.assertEqual(r.json()["description"], "edited by an operator")
            self.assertEqual(r.json()["version"], edited_version)
            r = self.app.request("GET", "/api/v1/profiles/issuing/bootclient", session=admin)
            self.assertEqual(r.status, 200, r)
            drift = [e for e in self.audit_actions("config.profile_drift")
                     if e["object"] == "profile:issuing/bootweb"]
            self.assertGreaterEqual(len(drift), 1)
        finally:
            self.write_config()

    def test_6_only_administrators_may_reload(self):
        token = self.app.make_token("ra-officer")
        r = self.app.request("POST", "/api/v1/config/reload", {}, token=token)
        self.assertEqual(r.status, 403, r)

    def test_7_sighup_during_load_loses_no_request(self):
        token = self.app.make_token("ra-officer", name="load")
        csrs = [make_csr(self.app.dir, "load%d.example.com" % i) for i in range(8)]
        results = []
        lock = threading.Lock()
        started = threading.Event()  # set once the first SIGHUP went out
        stop = threading.Event()

        def issue(worker):
            started.wait(timeout=60)
            n = 0
            while not stop.is_set() or n == 0:  # at least one request inside the window
                csr = csrs[(worker + 4 * n) % len(csrs)]
                n += 1
                try:
                    r = self.app.request("POST", "/api/v1/certificates",
                                         {"ca": "issuing",
                                          "key_source": {"kind": "csr", "csr": csr}},
                                         token=token)
                    outcome = (r.status, r.json().get("serial") if r.status == 201 else r.body)
                except Exception as error:  # a dropped connection fails the test
                    outcome = (None, repr(error))
                with lock:
                    results.append(outcome)

        threads = [threading.Thread(target=issue, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        lifetimes = [3600, 7200]
        for hup in range(20):
            self.write_config(sessions={"idle_seconds": 600,
                                        "lifetime_seconds": lifetimes[hup % 2]})
            self.app.process.send_signal(signal.SIGHUP)
            started.set()
            time.sleep(0.05)
        stop.set()
        for t in threads:
            t.join(timeout=600)
        self.assertFalse(any(t.is_alive() for t in threads))
        self.write_config()
        self.reload(200)
        self.assertIsNone(self.app.process.poll(), "signetd died under SIGHUP")
        self.assertGreaterEqual(len(results), 4)
        failures = [r for r in results if r[0] != 201]
        self.assertEqual(failures, [])
        serials = {r[1] for r in results}
        self.assertEqual(len(serials), len(results))
        # Every issued certificate is in the inventory, and the audit chain verifies.
        for serial in serials:
            r = self.app.request("GET", "/api/v1/certificates/%s" % serial, token=token)
            self.assertEqual(r.status, 200, r)
        r = self.app.request("GET", "/api/v1/audit/verify", session=self.app.admin_session())
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json()["ok"], r.json())
        # signetd saw the SIGHUPs (signals may coalesce, but at least a few were reloads).
        self.assertGreaterEqual(self.app.read_log().count("SIGHUP: reloaded"), 1)

    def test_8_signet_config_reload_asks_the_running_signetd(self):
        admin = self.app.secret_file("admin.token", self.app.make_token("administrator",
                                                                        name="cli admin"))
        officer = self.app.secret_file("officer.token", self.app.make_token("ra-officer",
                                                                            name="cli officer"))
        self.write_config(sessions={"idle_seconds": 600, "lifetime_seconds": 4500})
        try:
            r = self.app.cli("--json", "config", "reload",
                             env=self.app.cli_env(SIGNET_API_TOKEN_FILE=admin))
            self.assertIn("sessions.lifetime_seconds: 3600 -> 4500", json.loads(r.stdout)["applied"])
            self.assertEqual(self.lifetime_of_a_new_session(), 4500)
            r = self.app.cli("config", "reload", check=False,
                             env=self.app.cli_env(SIGNET_API_TOKEN_FILE=officer))
            self.assertEqual(r.returncode, 1)
        finally:
            self.write_config()
            self.reload(200)

    def wait_for_log(self, text, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.app.read_log():
                return
            time.sleep(0.1)
        self.fail("signetd did not log %r: %s" % (text, self.app.read_log()))


if __name__ == "__main__":
    unittest.main()
