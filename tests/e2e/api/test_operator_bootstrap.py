"""Operator accounts declared in signetd's configuration ([[bootstrap.operators.accounts]],
docs/CONFIGURATION.md): created when missing at start and on reload, with their role, their
initial password (from a 0600 file) or a bound client certificate, and then able to log in;
never overwritten (an administrator's change is reported as drift and audited); still there
after a restart. Also checks that signetd's own lifecycle and its token login are audited
(signetd.started, signetd.stopped, token.logged_in)."""
import os
import ssl
import unittest

from signetd_fixture import Appliance, make_csr

OLGA_PASSWORD = "olga's long passphrase"
AUDREY_PASSWORD = "audrey's long passphrase"
CARL_PASSWORD = "carl's long passphrase"


def account(name, role, password_file=None, certificate_file=None, disabled=None):
    text = '\n[[bootstrap.operators.accounts]]\nname = "%s"\nrole = "%s"\n' % (name, role)
    if password_file:
        text += 'password_file = "%s"\n' % password_file
    if certificate_file:
        text += 'certificate_file = "%s"\n' % certificate_file
    if disabled is not None:
        text += "disabled = %s\n" % ("true" if disabled else "false")
    return text


class OperatorBootstrap(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance(create_cas=False)
        cls.olga_file = cls.app.secret_file("olga.password", OLGA_PASSWORD)
        cls.audrey_file = cls.app.secret_file("audrey.password", AUDREY_PASSWORD)
        cls.carl_file = cls.app.secret_file("carl.password", CARL_PASSWORD)
        cls.declared = (account("olga", "ra-officer", cls.olga_file) +
                        account("audrey", "auditor", cls.audrey_file) +
                        account("eve", "auditor", cls.olga_file, disabled=True))
        cls.app.extra_toml = cls.declared
        cls.app.start()
        cls.config_path = os.path.join(cls.app.dir, "signetd.toml")

    @classmethod
    def tearDownClass(cls):
        cls.app.close()

    def write_config(self, extra_toml):
        with open(self.config_path) as f:
            text = f.read()
        text = text[:text.index("\n[[bootstrap.operators.accounts]]")] + extra_toml
        tmp = self.config_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.config_path)

    def operator(self, name):
        r = self.app.request("GET", "/api/v1/operators/" + name, session=self.app.admin_session())
        self.assertEqual(r.status, 200, r)
        return r.json()

    def audit(self, action, object_=None):
        r = self.app.request("GET", "/api/v1/audit?action=%s&limit=1000" % action,
                             session=self.app.admin_session())
        self.assertEqual(r.status, 200, r)
        return [e for e in r.json()["items"]
                if e["action"] == action and (object_ is None or e["object"] == object_)]

    def password_login(self, name, password):
        return self.app.request("POST", "/api/v1/session", {"name": name, "password": password})

    def test_1_declared_accounts_exist_and_log_in_after_start(self):
        self.assertEqual(self.operator("olga")["role"], "ra-officer")
        self.assertEqual(self.operator("audrey")["role"], "auditor")
        self.assertTrue(self.operator("eve")["disabled"])
        r = self.password_login("olga", OLGA_PASSWORD)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["operator"], "olga")
        self.assertEqual(self.password_login("audrey", AUDREY_PASSWORD).status, 201)
        self.assertEqual(self.password_login("eve", OLGA_PASSWORD).status, 401)
        created = self.audit("operator.created", "operator:olga")
        self.assertEqual(len(created), 1, created)
        self.assertEqual(created[0]["actor"], "signetd:config")
        self.assertIs(created[0]["detail"]["declared"], True)
        # signetd's lifecycle and its own token login are in the log too.
        self.assertTrue(self.audit("signetd.started"))
        logged_in = self.audit("token.logged_in")
        self.assertTrue(logged_in)
        self.assertEqual(logged_in[0]["detail"]["token_label"], "signet")
        self.assertEqual(logged_in[0]["detail"]["operation"], "login")

    def test_2_reload_creates_new_accounts_and_reports_drift_without_overwriting(self):
        admin = self.app.admin_session()
        # An administrator changes a declared operator: the file does not undo it.
        r = self.app.request("PATCH", "/api/v1/operators/olga", {"role": "auditor"},
                             session=admin)
        self.assertEqual(r.status, 200, r)
        # A client certificate from the appliance CA, to declare for a new operator.
        r = self.app.request("POST", "/api/v1/operators", {"name": "tmp", "role": "auditor"},
                             session=admin)
        self.assertEqual(r.status, 201, r)
        work = os.path.join(self.app.dir, "dora")
        os.makedirs(work)
        csr = make_csr(work, "dora")
        r = self.app.request("POST", "/api/v1/operators/tmp/certificate", {"csr": csr},
                             session=admin)
        self.assertEqual(r.status, 201, r)
        dora_pem = os.path.join(work, "dora.pem")
        with open(dora_pem, "w") as f:
            f.write(r.json()["pem"])
        r = self.app.request("DELETE", "/api/v1/operators/tmp", session=admin)
        self.assertEqual(r.status, 200, r)

        self.write_config(self.declared + account("carl", "administrator", self.carl_file) +
                          account("dora", "ra-officer", certificate_file=dora_pem))
        r = self.app.request("POST", "/api/v1/config/reload", {}, session=admin)
        self.assertEqual(r.status, 200, r)
        notes = r.json()["notes"]
        self.assertIn("created operator carl (administrator)", notes)
        self.assertIn("created operator dora (ra-officer)", notes)
        drift = [n for n in notes if n.startswith("drift: operator olga")]
        self.assertEqual(len(drift), 1, notes)
        self.assertIn("role (file ra-officer, stored auditor)", drift[0])
        self.assertEqual(self.operator("olga")["role"], "auditor")  # not overwritten
        self.assertTrue(self.audit("config.operator_drift", "operator:olga"))

        r = self.password_login("carl", CARL_PASSWORD)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["role"], "administrator")
        context = ssl.create_default_context(cafile=self.app.ca_file)
        context.load_cert_chain(dora_pem, os.path.join(work, "dora.key"))
        r = self.app.request("POST", "/api/v1/session", {"method": "certificate"},
                             context=context)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["operator"], "dora")
        self.assertFalse(self.operator("dora")["has_password"])

        # A second reload finds everything in place: nothing created twice.
        r = self.app.request("POST", "/api/v1/config/reload", {}, session=admin)
        self.assertEqual(r.status, 200, r)
        self.assertFalse([n for n in r.json()["notes"] if n.startswith("created operator")])
        self.assertEqual(len(self.audit("operator.created", "operator:carl")), 1)

    def test_3_accounts_survive_a_restart_and_the_stop_is_audited(self):
        self.assertEqual(self.app.stop(), 0)
        self.app.start()
        self.app.__dict__.pop("_admin", None)  # sessions do not survive a restart
        self.assertEqual(self.password_login("carl", CARL_PASSWORD).status, 201)
        self.assertEqual(self.password_login("audrey", AUDREY_PASSWORD).status, 201)
        self.assertEqual(len(self.audit("operator.created", "operator:olga")), 1)
        stopped = self.audit("signetd.stopped")
        self.assertEqual(len(stopped), 1, stopped)
        self.assertEqual(stopped[0]["detail"]["signal"], "SIGTERM")
        self.assertEqual(len(self.audit("signetd.started")), 2)


if __name__ == "__main__":
    unittest.main()
