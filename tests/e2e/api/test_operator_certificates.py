"""Renewal of operators' client certificates from the appliance CA (docs/OPERATIONS.md,
"Operator certificates"): an administrator issues one for an operator from the operator's CSR
(POST /api/v1/operators/{name}/certificate, 365 days), the operator logs in with it over mTLS,
the renewal schedule renews it before it expires (here: operator_renew_before_days 400, so at
once; a check every 2 s), the operator fetches the renewal (which moves the binding to it), and then
logs in with the renewal while the old certificate no longer does. Every step is audited; the
certificates verify against the appliance CA with openssl as client certificates."""
import os
import ssl
import subprocess
import time
import unittest

from signetd_fixture import Appliance, make_csr

WAIT = 180  # liveness bound only


class OperatorCertificates(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance(config={"tls": {"operator_renew_before_days": 400,
                                            "renew_check_interval_seconds": 2}},
                            create_cas=False)
        cls.app.start()

    @classmethod
    def tearDownClass(cls):
        cls.app.close()

    def write(self, name, text):
        path = os.path.join(self.app.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def mtls(self, cert_path, key_path):
        context = ssl.create_default_context(cafile=self.app.ca_file)
        context.load_cert_chain(cert_path, key_path)
        return context

    def certificate_login(self, context):
        return self.app.request("POST", "/api/v1/session", {"method": "certificate"},
                                context=context)

    def verify_client_certificate(self, pem_path):
        r = subprocess.run(["openssl", "verify", "-purpose", "sslclient", "-CAfile",
                            self.app.ca_file, pem_path], capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def audit(self, action):
        r = self.app.request("GET", "/api/v1/audit?action=%s&limit=1000" % action,
                             session=self.app.admin_session())
        self.assertEqual(r.status, 200, r)
        return [e for e in r.json()["items"]
                if e["action"] == action and e["object"] == "operator:alice"]

    def test_issue_login_renew_fetch_and_login_with_the_renewal(self):
        admin = self.app.admin_session()
        r = self.app.request("POST", "/api/v1/operators", {"name": "alice", "role": "ra-officer"},
                             session=admin)
        self.assertEqual(r.status, 201, r)
        work = os.path.join(self.app.dir, "alice")
        os.makedirs(work)
        csr = make_csr(work, "alice")
        key_path = os.path.join(work, "alice.key")

        r = self.app.request("POST", "/api/v1/operators/alice/certificate", {"csr": csr},
                             session=admin)
        self.assertEqual(r.status, 201, r)
        first = r.json()
        first_path = self.write("alice-1.pem", first["pem"])
        self.verify_client_certificate(first_path)
        self.assertEqual(len(self.audit("operator.certificate_bound")), 1)

        r = self.certificate_login(self.mtls(first_path, key_path))
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["operator"], "alice")

        # The schedule renews it (same key); the bound certificate keeps logging in meanwhile.
        deadline = time.monotonic() + WAIT
        while not self.audit("operator.certificate_renewed") and time.monotonic() < deadline:
            time.sleep(0.5)
        self.assertTrue(self.audit("operator.certificate_renewed"), self.app.read_log())
        r = self.certificate_login(self.mtls(first_path, key_path))
        self.assertEqual(r.status, 201, r)
        cookie = r.header("Set-Cookie").split(";")[0].split("=", 1)[1]

        # The operator fetches the renewal: the binding moves to it.
        r = self.app.request("GET", "/api/v1/session/certificate",
                             headers={"Cookie": "signet_session=" + cookie})
        self.assertEqual(r.status, 200, r)
        fetched = r.json()
        self.assertTrue(fetched["renewed"])
        self.assertNotEqual(fetched["serial"], first["serial"])
        renewed_path = self.write("alice-2.pem", fetched["pem"])
        self.verify_client_certificate(renewed_path)
        self.assertEqual(len(self.audit("operator.certificate_rebound")), 1)

        r = self.certificate_login(self.mtls(renewed_path, key_path))
        self.assertEqual(r.status, 201, r)
        r = self.certificate_login(self.mtls(first_path, key_path))
        self.assertEqual(r.status, 401, r)

    def test_an_api_token_cannot_fetch_an_operator_certificate(self):
        token = self.app.make_token("auditor", name="no-certificate")
        r = self.app.request("GET", "/api/v1/session/certificate", token=token)
        self.assertEqual(r.status, 403, r)


if __name__ == "__main__":
    unittest.main()
