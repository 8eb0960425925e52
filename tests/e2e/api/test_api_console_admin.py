"""The REST routes the console's Tokens and Operators pages and its client-certificate login
use: token slots and login state, token login with a PIN in the body (wrong PIN, audit, no
PIN in the log), key listing by role, API tokens' last use, operator client certificates
(issue, log in over mTLS, unbind), and the failed order's id in a refused issuance's error."""
import json
import os
import ssl
import subprocess
import unittest

from signetd_fixture import Appliance, make_csr


class ConsoleAdminApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance()
        # A second token signetd's PIN file does not open: it starts logged out.
        cls.app.cli("token", "init", "--label", "spare")
        with open(os.path.join(cls.app.state, "pins", "spare.user.pin")) as f:
            cls.spare_pin = f.read().strip()
        cls.app.start()
        cls.admin = cls.app.login()
        cls.officer = cls.app.make_token("ra-officer", name="officer")
        cls.auditor = cls.app.make_token("auditor", name="auditor")
        cls.work = os.path.join(cls.app.dir, "work")
        os.makedirs(cls.work)

    @classmethod
    def tearDownClass(cls):
        cls.app.close()

    def tokens(self):
        r = self.app.request("GET", "/api/v1/tokens", session=self.admin)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def token(self, label):
        return next(t for t in self.tokens()["items"] if t["label"] == label)

    def audit_actions(self):
        r = self.app.request("GET", "/api/v1/audit?limit=100", session=self.admin)
        self.assertEqual(r.status, 200, r)
        return r.json()["items"]

    def test_tokens_list_their_login_state_and_the_module_slots(self):
        listing = self.tokens()
        self.assertTrue(self.token("signet")["logged_in"])
        module = listing["modules"][0]
        self.assertIn("softhsm2", module["path"])
        serials = {s["token_serial"] for s in module["slots"] if s["token_serial"]}
        self.assertIn(self.token("signet")["serial"], serials)
        self.assertIn(self.token("spare")["serial"], serials)

    def test_token_login_refuses_a_wrong_pin_then_takes_the_right_one(self):
        spare = self.token("spare")
        self.assertFalse(spare["logged_in"])
        path = "/api/v1/tokens/%s/login" % spare["serial"]
        # Only administrators log tokens in; the PIN travels in the body only.
        r = self.app.request("POST", path, {"pin": self.spare_pin}, token=self.officer)
        self.assertEqual(r.status, 403, r)
        r = self.app.request("POST", path, {"pin": "00000000"}, session=self.admin)
        self.assertEqual(r.status, 403, r)
        error = r.json()["error"]
        self.assertEqual(error["code"], "pin_incorrect")
        self.assertIn("user_pin_locked", error["token"])
        self.assertNotIn("00000000", r.body.decode())
        self.assertFalse(self.token("spare")["logged_in"])
        r = self.app.request("POST", path, {"pin": self.spare_pin, "extra": 1}, session=self.admin)
        self.assertEqual(r.status, 400, r)
        r = self.app.request("POST", path, {"pin": self.spare_pin}, session=self.admin)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json()["token"]["logged_in"])
        self.assertTrue(self.token("spare")["logged_in"])
        events = [e for e in self.audit_actions() if e["object"] == "token:" + spare["serial"]]
        # The console's PIN entry (token.login / token.login_failed, with the operator), and the
        # token's own record of the same C_Login calls (token.logged_in / token.login_refused,
        # with the CKR code; appliance/core/token_error_audit.h).
        self.assertEqual(sorted({e["action"] for e in events}),
                         ["token.logged_in", "token.login", "token.login_failed",
                          "token.login_refused"])
        self.assertNotIn(self.spare_pin, json.dumps(events))
        self.assertNotIn(self.spare_pin, self.app.read_log())
        # Logged in, its keys can be listed.
        r = self.app.request("GET", "/api/v1/tokens/spare/keys", session=self.admin)
        self.assertEqual(r.status, 200, r)

    def test_ra_officers_list_keys_and_auditors_do_not(self):
        r = self.app.request("GET", "/api/v1/tokens/signet/keys", token=self.officer)
        self.assertEqual(r.status, 200, r)
        labels = [k["label"] for k in r.json()["items"]]
        self.assertIn("signet-ca-root", labels)
        for key in r.json()["items"]:
            self.assertTrue(key["uri"].startswith("pkcs11:"))
            self.assertNotIn("pin", key["uri"])
        r = self.app.request("GET", "/api/v1/tokens/signet/keys", token=self.auditor)
        self.assertEqual(r.status, 403, r)

    def test_api_tokens_show_their_last_use_and_never_their_secret(self):
        made = self.app.request("POST", "/api/v1/api-tokens", {"name": "last use", "role": "auditor"},
                                session=self.admin)
        self.assertEqual(made.status, 201, made)
        secret, token_id = made.json()["token"], made.json()["id"]
        self.assertIsNone(made.json()["last_used"])
        self.assertEqual(self.app.request("GET", "/api/v1/session", token=secret).status, 200)
        r = self.app.request("GET", "/api/v1/api-tokens", session=self.admin)
        listed = next(t for t in r.json()["api_tokens"] if t["id"] == token_id)
        self.assertIsNotNone(listed["last_used"])
        self.assertNotIn(secret.split("_")[2], r.body.decode())
        r = self.app.request("DELETE", "/api/v1/api-tokens/" + token_id, session=self.admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.app.request("GET", "/api/v1/session", token=secret).status, 401)

    def test_an_operator_client_certificate_logs_in_over_mtls_until_unbound(self):
        r = self.app.request("POST", "/api/v1/operators", {"name": "carol", "role": "auditor"},
                             session=self.admin)
        self.assertEqual(r.status, 201, r)
        csr = make_csr(self.work, "carol")
        r = self.app.request("POST", "/api/v1/operators/carol/certificate", {"csr": csr},
                             token=self.officer)
        self.assertEqual(r.status, 403, "administrators only")
        r = self.app.request("POST", "/api/v1/operators/carol/certificate", {"csr": csr},
                             session=self.admin)
        self.assertEqual(r.status, 201, r)
        issued = r.json()
        cert = os.path.join(self.work, "carol.crt")
        with open(cert, "w") as f:
            f.write(issued["pem"])
        key = os.path.join(self.work, "carol.key")
        # openssl, an independent verifier: clientAuth from the appliance CA.
        verify = subprocess.run(["openssl", "verify", "-purpose", "sslclient", "-CAfile",
                                 self.app.ca_file, cert], capture_output=True, timeout=60)
        self.assertEqual(verify.returncode, 0, verify.stderr)
        mtls = ssl.create_default_context(cafile=self.app.ca_file)
        mtls.load_cert_chain(cert, key)
        methods = self.app.request("GET", "/api/v1/session/methods", context=mtls).json()
        self.assertTrue(methods["certificate"]["presented"])
        self.assertTrue(methods["certificate"]["accepted"])
        self.assertIn("carol", methods["certificate"]["subject"])
        self.assertFalse(self.app.request("GET", "/api/v1/session/methods").json()
                         ["certificate"]["presented"])
        r = self.app.request("POST", "/api/v1/session", {"method": "certificate"}, context=mtls)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["operator"], "carol")
        self.assertEqual(r.json()["authenticated_by"], "certificate")
        r = self.app.request("DELETE", "/api/v1/operators/carol/certificate", session=self.admin)
        self.assertEqual(r.status, 200, r)
        actions = [e["action"] for e in self.audit_actions() if e["object"] == "operator:carol"]
        self.assertIn("operator.certificate_bound", actions)
        self.assertIn("operator.certificate_unbound", actions)
        r = self.app.request("POST", "/api/v1/session", {"method": "certificate"}, context=mtls)
        self.assertEqual(r.status, 401, r)
        self.assertFalse(self.app.request("GET", "/api/v1/session/methods", context=mtls).json()
                         ["certificate"]["accepted"])

    def test_a_refused_issuance_names_its_failed_order_and_certificates_flag_local_keys(self):
        r = self.app.request("POST", "/api/v1/certificates", {
            "ca": "issuing", "subject": "CN=local.example.test",
            "subject_alt_names": ["DNS:local.example.test"], "key_source": {"kind": "local_key"}},
            session=self.admin)
        self.assertEqual(r.status, 201, r)
        self.assertTrue(r.json()["local_key"])
        r = self.app.request("POST", "/api/v1/certificates", {
            "ca": "issuing", "subject": "CN=bad.example.test",
            "key_source": {"kind": "key_on_token", "algorithm": "rsa-2048", "token": "nowhere"}},
            session=self.admin)
        self.assertGreaterEqual(r.status, 400, r)
        error = r.json()["error"]
        self.assertIn("order_id", error, error)
        order = self.app.request("GET", "/api/v1/orders/%d" % error["order_id"], session=self.admin)
        self.assertEqual(order.json()["status"], "failed")
        # A request refused before an order exists (no profile or CA named) names none.
        r = self.app.request("POST", "/api/v1/certificates", {"key_source": {
            "kind": "csr", "csr": "not a CSR"}}, session=self.admin)
        self.assertEqual(r.status, 400, r)
        self.assertNotIn("order_id", r.json()["error"])


if __name__ == "__main__":
    unittest.main()
