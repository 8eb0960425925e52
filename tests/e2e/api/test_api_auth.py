"""Operators, sessions, CSRF, lockout and API tokens over real HTTPS against signetd."""
import json
import os
import time
import unittest

from signetd_fixture import ADMIN_PASSWORD, Appliance


class AuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Sessions, lockout as shipped (idle expiry has a class of its own: with a short idle
        # time here, a slow Argon2 request under the sanitizers would expire the next one).
        cls.app = Appliance().start()

    @classmethod
    def tearDownClass(cls):
        cls.app.close()

    def test_initial_administrator_comes_from_the_password_file(self):
        session = self.app.login("admin", ADMIN_PASSWORD)
        who = self.app.request("GET", "/api/v1/session", session=session)
        self.assertEqual(who.status, 200, who)
        self.assertEqual(who.json()["operator"], "admin")
        self.assertEqual(who.json()["role"], "administrator")
        # The password file was given: no generated one was written.
        self.assertFalse(os.path.exists(os.path.join(self.app.state, "initial-admin-password")))

    def test_session_cookie_is_httponly_secure_samesite_strict(self):
        r = self.app.request("POST", "/api/v1/session", {"name": "admin", "password": ADMIN_PASSWORD})
        self.assertEqual(r.status, 201, r)
        cookie = r.header("Set-Cookie")
        for attribute in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/"):
            self.assertIn(attribute, cookie)
        self.assertNotIn(ADMIN_PASSWORD, r.body.decode())

    def test_wrong_password_and_unknown_operator_get_the_same_answer(self):
        wrong = self.app.request("POST", "/api/v1/session", {"name": "admin2", "password": "x" * 12})
        unknown = self.app.request("POST", "/api/v1/session",
                                   {"name": "nobody", "password": "x" * 12})
        self.assertEqual(wrong.status, 401)
        self.assertEqual(unknown.status, 401)
        self.assertEqual(wrong.json()["error"]["message"], unknown.json()["error"]["message"])

    def test_state_changing_session_requests_need_the_csrf_token(self):
        session = self.app.login()
        body = {"name": "csrf-check", "role": "auditor"}
        missing = self.app.request("POST", "/api/v1/api-tokens", body, session=session,
                                   headers={"X-CSRF-Token": ""})
        self.assertEqual(missing.status, 403, missing)
        self.assertEqual(missing.json()["error"]["code"], "csrf")
        wrong = self.app.request("POST", "/api/v1/api-tokens", body, session=session,
                                 headers={"X-CSRF-Token": "0" * 64})
        self.assertEqual(wrong.status, 403)
        right = self.app.request("POST", "/api/v1/api-tokens", body, session=session)
        self.assertEqual(right.status, 201, right)
        # Reads need no CSRF token.
        self.assertEqual(self.app.request("GET", "/api/v1/api-tokens", session=session).status, 200)

    def test_logout_ends_the_session(self):
        session = self.app.login()
        self.assertEqual(self.app.request("DELETE", "/api/v1/session", session=session).status, 200)
        r = self.app.request("GET", "/api/v1/session", session=session)
        self.assertEqual(r.status, 401)
        self.assertIn("Max-Age=0", r.header("Set-Cookie") or "")
        # An API token's refusal sets no cookie.
        r = self.app.request("GET", "/api/v1/cas", token="sgt_" + "0" * 16 + "_" + "0" * 64)
        self.assertEqual(r.status, 401)
        self.assertIsNone(r.header("Set-Cookie"))

    def test_operator_life_cycle_and_roles(self):
        admin = self.app.login()
        r = self.app.request("POST", "/api/v1/operators", {"name": "olivia", "role": "ra-officer"},
                             session=admin)
        self.assertEqual(r.status, 201, r)
        generated = r.json()["password"]
        self.assertGreaterEqual(len(generated), 20)
        listing = self.app.request("GET", "/api/v1/operators", session=admin).json()
        names = [o["name"] for o in listing["operators"]]
        self.assertIn("olivia", names)
        self.assertNotIn("password_hash", json.dumps(listing))
        self.assertNotIn(generated, json.dumps(listing))
        olivia = self.app.login("olivia", generated)
        # An RA officer may not manage operators.
        self.assertEqual(self.app.request("GET", "/api/v1/operators", session=olivia).status, 403)
        # Changing her own password ends her sessions.
        r = self.app.request("POST", "/api/v1/session/password",
                             {"current_password": generated, "new_password": "a new password 42"},
                             session=olivia)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.app.request("GET", "/api/v1/session", session=olivia).status, 401)
        olivia = self.app.login("olivia", "a new password 42")
        # Disabling her ends her session too.
        r = self.app.request("PATCH", "/api/v1/operators/olivia", {"disabled": True}, session=admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.app.request("GET", "/api/v1/session", session=olivia).status, 401)
        # Too short a password is refused with the rule named.
        r = self.app.request("POST", "/api/v1/operators",
                             {"name": "shorty", "role": "auditor", "password": "short"},
                             session=admin)
        self.assertEqual(r.status, 400)
        self.assertIn("at least", r.json()["error"]["message"])
        # Unknown fields are refused with the field named.
        r = self.app.request("POST", "/api/v1/operators",
                             {"name": "x1", "role": "auditor", "colour": "blue"}, session=admin)
        self.assertEqual(r.status, 400)
        self.assertIn("colour", r.json()["error"]["message"])
        # The last administrator cannot be removed, nor can administrators remove themselves.
        r = self.app.request("DELETE", "/api/v1/operators/admin", session=admin)
        self.assertEqual(r.status, 422, r)

    def test_lockout_after_repeated_failures(self):
        admin = self.app.login()
        password = "locksmith password 1"
        r = self.app.request("POST", "/api/v1/operators",
                             {"name": "lou", "role": "auditor", "password": password},
                             session=admin)
        self.assertEqual(r.status, 201, r)
        statuses = []
        for _ in range(5):
            r = self.app.request("POST", "/api/v1/session", {"name": "lou", "password": "wrong" * 3})
            statuses.append(r.status)
            if r.status == 429:
                # Back-off: wait as told, then go on failing.
                time.sleep(int(r.json()["error"]["message"].split("in ")[-1].split(" ")[0]) + 0.2)
        # Now locked: even the right password is refused, with a message saying so.
        r = self.app.request("POST", "/api/v1/session", {"name": "lou", "password": password})
        self.assertEqual(r.status, 429, (statuses, r))
        self.assertIn("too many failed logins", r.json()["error"]["message"])
        # An administrator unlocks.
        r = self.app.request("PATCH", "/api/v1/operators/lou", {"unlock": True}, session=admin)
        self.assertEqual(r.status, 200, r)
        self.app.login("lou", password)
        # Failed-login audit events are rate-limited: far fewer events than failures.
        events = self.app.request("GET", "/api/v1/audit?limit=1000", session=admin).json()
        failed = [e for e in events["items"]
                  if e["action"] == "operator.login_failed" and e["object"] == "operator:lou"]
        self.assertGreaterEqual(len(failed), 1)
        self.assertLess(len(failed), 5)

    def test_api_tokens_are_shown_once_stored_hashed_and_revocable(self):
        admin = self.app.login()
        r = self.app.request("POST", "/api/v1/api-tokens", {"name": "ci", "role": "auditor"},
                             session=admin)
        self.assertEqual(r.status, 201, r)
        token, token_id = r.json()["token"], r.json()["id"]
        self.assertTrue(token.startswith("sgt_" + token_id + "_"))
        listing = self.app.request("GET", "/api/v1/api-tokens", session=admin)
        self.assertNotIn(token.split("_")[-1], listing.body.decode())
        self.assertEqual(self.app.request("GET", "/api/v1/certificates", token=token).status, 200)
        # An auditor token may not revoke or issue.
        r = self.app.request("POST", "/api/v1/crls/refresh", {}, token=token)
        self.assertEqual(r.status, 403)
        # A wrong secret with the right id is refused like an unknown token.
        forged = token[:-4] + ("0000" if not token.endswith("0000") else "1111")
        self.assertEqual(self.app.request("GET", "/api/v1/certificates", token=forged).status, 401)
        self.assertEqual(self.app.request("GET", "/api/v1/certificates",
                                          token="sgt_nonsense").status, 401)
        r = self.app.request("DELETE", "/api/v1/api-tokens/" + token_id, session=admin)
        self.assertEqual(r.status, 200, r)
        r = self.app.request("GET", "/api/v1/certificates", token=token)
        self.assertEqual(r.status, 401)
        self.assertIn("revoked", r.json()["error"]["message"])

    def test_login_is_audited_and_no_secret_reaches_the_audit_log_or_the_daemon_log(self):
        admin = self.app.login()
        events = self.app.request("GET", "/api/v1/audit?limit=1000", session=admin)
        self.assertEqual(events.status, 200, events)
        text = events.body.decode()
        self.assertIn("operator.login", text)
        self.assertNotIn(ADMIN_PASSWORD, text)
        self.assertNotIn(ADMIN_PASSWORD, self.app.read_log())


class IdleSessionTest(unittest.TestCase):
    """A session left idle longer than session_idle_seconds is refused and its cookie cleared."""

    IDLE_SECONDS = 3

    @classmethod
    def setUpClass(cls):
        cls.app = Appliance(config={"sessions": {"idle_seconds": cls.IDLE_SECONDS}}).start()

    @classmethod
    def tearDownClass(cls):
        cls.app.close()

    def test_idle_session_expires(self):
        session = self.app.login()
        self.assertEqual(self.app.request("GET", "/api/v1/session", session=session).status, 200)
        time.sleep(self.IDLE_SECONDS + 1.5)
        r = self.app.request("GET", "/api/v1/session", session=session)
        self.assertEqual(r.status, 401, r)
        self.assertIn("expired", r.json()["error"]["message"])
        # The dead cookie is cleared (the browser cannot drop an HttpOnly cookie itself).
        cleared = r.header("Set-Cookie") or ""
        self.assertTrue(cleared.startswith("signet_session=;"), cleared)
        self.assertIn("Max-Age=0", cleared)


class GeneratedAdminPasswordTest(unittest.TestCase):
    def test_without_a_password_file_one_is_generated_mode_0600_and_only_its_path_logged(self):
        app = Appliance(create_cas=False)
        try:
            del app.env["SIGNET_ADMIN_PASSWORD_FILE"]
            app.start()
            path = os.path.join(app.state, "initial-admin-password")
            self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
            with open(path) as f:
                password = f.read().strip()
            self.assertIn(path, app.read_log())
            self.assertNotIn(password, app.read_log())
            app.login("admin", password)
        finally:
            app.close()


if __name__ == "__main__":
    unittest.main()
