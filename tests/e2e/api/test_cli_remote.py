"""The `signet` CLI while signetd runs: it notices the daemon's lock on the state directory and
works through the REST API (or through --server), with the API token from a 0600 file;
commands the API does not offer are refused naming the daemon; after signetd stops, the same
commands work on the store again. Outputs are checked with openssl and against the API."""
import json
import os
import subprocess
import unittest

from signetd_fixture import Appliance, make_csr


def token_id(token):
    # sgt_<id>_<secret>
    return token.split("_")[1]


def openssl(*args):
    return subprocess.run(["openssl", *args], check=True, capture_output=True,
                          timeout=60).stdout.decode()


def serial_of_pem(path):
    out = openssl("x509", "-in", path, "-noout", "-serial")
    return out.strip().split("=", 1)[1].upper()


class CliThroughSignetdTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance().start()
        cls.officer = cls.app.make_token("ra-officer", name="cli officer")
        cls.auditor = cls.app.make_token("auditor", name="cli auditor")
        cls.officer_file = cls.app.secret_file("officer.token", cls.officer)
        cls.auditor_file = cls.app.secret_file("auditor.token", cls.auditor)

    @classmethod
    def tearDownClass(cls):
        cls.app.close()

    def signet(self, *args, token_file=None, check=True, **env):
        env.setdefault("SIGNET_API_TOKEN_FILE", token_file or self.officer_file)
        return self.app.cli(*args, check=check, env=self.app.cli_env(**env))

    def issue_via_api(self, cn):
        csr = make_csr(self.app.dir, cn)
        r = self.app.request("POST", "/api/v1/certificates",
                             {"ca": "issuing", "key_source": {"kind": "csr", "csr": csr}},
                             token=self.officer)
        self.assertEqual(r.status, 201, r)
        return r.json()

    def test_cert_list_json_shows_certificates_issued_through_the_api(self):
        issued = self.issue_via_api("listed.example.com")
        listed = json.loads(self.signet("--json", "cert", "list", "--ca", "issuing",
                                        "--limit", "1000").stdout)
        serials = [c["serial"] for c in listed["items"]]
        self.assertIn(issued["serial"], serials)
        # The objects are the API's own views (the JSON `signet --json` prints locally).
        api = self.app.request("GET", "/api/v1/certificates?ca=issuing&limit=1000",
                               token=self.officer).json()
        self.assertEqual(listed, api)
        # The human table has the certificate too.
        table = self.signet("cert", "list", "--search", "listed.example.com").stdout.decode()
        self.assertIn(issued["serial"], table)
        self.assertIn("COMMON NAME", table)

    def test_cert_issue_goes_through_the_daemon_and_is_audited_as_the_token(self):
        make_csr(self.app.dir, "cli-issued.example.com")
        csr = os.path.join(self.app.dir, "cli-issued.example.com.csr")
        out = os.path.join(self.app.dir, "cli-issued.pem")
        r = self.signet("cert", "issue", "--csr", csr, "--ca", "issuing", "--out", out)
        serial = serial_of_pem(out)
        self.assertIn("Issued certificate %s" % serial, r.stdout.decode())
        # openssl checks the chain the daemon's CA signed.
        chain = os.path.join(self.app.dir, "issuing-chain.pem")
        self.signet("ca", "export", "issuing", "--chain", "--out", chain)
        openssl("verify", "-partial_chain", "-CAfile", chain, out)
        # The daemon's audit log names the token that asked.
        session = self.app.admin_session()
        events = self.app.request(
            "GET", "/api/v1/audit?action=certificate.issued&object=certificate:issuing/" + serial,
            session=session).json()["items"]
        self.assertEqual(len(events), 1, events)
        self.assertEqual(events[0]["actor"], "token:%s(admin)" % token_id(self.officer))

    def test_revoke_through_the_daemon_then_generate_a_crl(self):
        issued = self.issue_via_api("revoked.example.com")
        r = self.signet("--json", "cert", "revoke", issued["serial"], "--ca", "issuing",
                        "--reason", "keyCompromise")
        revoked = json.loads(r.stdout)
        self.assertEqual(revoked["status"], "revoked")
        self.assertEqual(revoked["revocation_reason"], "keyCompromise")
        shown = json.loads(self.signet("--json", "cert", "show", issued["serial"]).stdout)
        self.assertEqual(shown["status"], "revoked")
        generated = json.loads(self.signet("--json", "crl", "generate", "--ca", "issuing").stdout)
        self.assertEqual(generated["kind"], "full")
        crl = os.path.join(self.app.dir, "issuing.crl")
        self.signet("crl", "export", "--ca", "issuing", "--format", "der", "--out", crl)
        text = openssl("crl", "-inform", "DER", "-in", crl, "-noout", "-text")
        self.assertIn("Serial Number: " + issued["serial"].upper(), text)
        listed = json.loads(self.signet("--json", "crl", "list", "--ca", "issuing").stdout)
        self.assertIn(generated["number"], [c["number"] for c in listed["items"]])

    def test_commands_without_a_remote_variant_are_refused_naming_signetd(self):
        pid = self.app.process.pid
        for args in (("token", "init", "--label", "x"),
                     ("store", "backup", "--out", os.path.join(self.app.dir, "backup")),
                     ("ca", "create-root", "--name", "r2", "--subject", "CN=R2")):
            r = self.signet(*args, check=False)
            self.assertEqual(r.returncode, 1, r)
            err = r.stderr.decode()
            self.assertIn("signetd (pid %d) owns the state directory %s" % (pid, self.app.state),
                          err)
            self.assertIn("'signet %s %s' is not available through the API" % args[:2], err)
            self.assertIn("stop signetd", err)
        self.assertFalse(os.path.exists(os.path.join(self.app.dir, "backup")))

    def test_without_a_token_file_the_error_says_how_to_give_one(self):
        r = self.app.cli("cert", "list", check=False,
                         env=self.app.cli_env(SIGNET_API_TOKEN_FILE=None))
        self.assertEqual(r.returncode, 1, r)
        err = r.stderr.decode()
        self.assertIn("signetd (pid %d)" % self.app.process.pid, err)
        self.assertIn("--token-file", err)
        self.assertIn("SIGNET_API_TOKEN_FILE", err)

    def test_a_token_file_others_can_read_is_refused(self):
        path = self.app.secret_file("loose.token", self.officer)
        os.chmod(path, 0o644)
        r = self.signet("cert", "list", token_file=path, check=False)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("API token file", r.stderr.decode())

    def test_an_auditor_token_may_not_revoke(self):
        issued = self.issue_via_api("kept.example.com")
        r = self.signet("cert", "revoke", issued["serial"], "--reason", "superseded",
                        token_file=self.auditor_file, check=False)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("the role auditor may not POST /api/v1/certificates/{id}/revoke",
                      r.stderr.decode())
        still = self.app.request("GET", "/api/v1/certificates/" + issued["serial"],
                                 token=self.officer).json()
        self.assertEqual(still["status"], "active")
        # Reading is allowed to an auditor, and so is the audit log.
        self.signet("cert", "show", issued["serial"], token_file=self.auditor_file)
        verify = json.loads(self.signet("--json", "audit", "verify",
                                        token_file=self.auditor_file).stdout)
        self.assertTrue(verify["ok"])

    def test_explicit_server_url_and_ca_file(self):
        issued = self.issue_via_api("explicit.example.com")
        elsewhere = os.path.join(self.app.dir, "no-state-here")
        r = self.signet("--server", self.app.info["https_url"], "--ca-file", self.app.ca_file,
                        "--json", "cert", "show", issued["serial"], SIGNET_STATE=elsewhere)
        self.assertEqual(json.loads(r.stdout)["serial"], issued["serial"])
        self.assertFalse(os.path.exists(elsewhere))
        # The same through SIGNET_SERVER; a CA file that does not sign the server fails.
        wrong_ca = os.path.join(self.app.dir, "issuing-only.pem")
        self.signet("ca", "export", "issuing", "--out", wrong_ca)
        r = self.signet("cert", "list", "--ca-file", wrong_ca, check=False,
                        SIGNET_SERVER=self.app.info["https_url"], SIGNET_STATE=elsewhere)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("cannot reach signetd", r.stderr.decode())

    def test_issue_with_a_key_on_the_token_and_renew(self):
        r = self.signet("--json", "cert", "issue", "--key-on-token", "--key", "ec-p256",
                        "--ca", "issuing", "--subject", "CN=onToken.example.com", "--san",
                        "DNS:onToken.example.com", "--chain")
        issued = json.loads(r.stdout)
        self.assertIn("pkcs11:", issued["key_location"])
        # --chain: the leaf, the issuing CA and the root.
        self.assertEqual(issued["pem"].count("BEGIN CERTIFICATE"), 3)
        renewed = json.loads(self.signet("--json", "cert", "renew", issued["serial"],
                                         "--days", "30").stdout)
        self.assertEqual(renewed["order"]["kind"], "renew")
        self.assertEqual(renewed["subject"], issued["subject"])
        order = json.loads(self.signet("--json", "order", "show",
                                       str(renewed["order_id"])).stdout)
        self.assertEqual(order["requested_by"], "token:%s(admin)" % token_id(self.officer))


class CliAfterSignetdStopsTest(unittest.TestCase):
    """What the CLI prints through the daemon is what it prints on the store itself."""

    COMMANDS = (("--json", "cert", "list", "--ca", "issuing"),
                ("cert", "list", "--ca", "issuing"),
                ("--json", "ca", "show", "issuing"),
                ("ca", "show", "issuing"),
                ("--json", "profile", "list", "--ca", "issuing"),
                ("profile", "show", "issuing/default"),
                ("--json", "crl", "list", "--ca", "issuing"),
                ("crl", "list", "--ca", "issuing"),
                ("crl", "show", "--ca", "issuing"),
                ("--json", "crl", "show", "--ca", "issuing"),
                ("token", "list"),
                ("profile", "list", "--ca", "issuing"))

    def test_outputs_match_and_the_cli_works_locally_after_sigterm(self):
        app = Appliance()
        try:
            app.start()
            token = app.secret_file("officer.token", app.make_token("ra-officer"))
            csr = os.path.join(app.dir, "both.example.com.csr")
            make_csr(app.dir, "both.example.com")
            env = app.cli_env(SIGNET_API_TOKEN_FILE=token)
            issued = json.loads(app.cli("--json", "cert", "issue", "--csr", csr, "--ca",
                                        "issuing", env=env).stdout)
            app.cli("crl", "generate", "--ca", "issuing", env=env)
            remote = {args: app.cli(*args, env=env).stdout.decode() for args in self.COMMANDS}
            order = ("order", "show", str(issued["order_id"]))
            remote_order = [app.cli(*order, env=env).stdout, app.cli("--json", *order, env=env).stdout]
            remote_cas = app.cli("--json", "ca", "list", env=env).stdout
            remote_show = app.cli("cert", "show", issued["serial"], env=env).stdout.decode()
            self.assertEqual(app.stop(), 0)
            # No daemon: the store again, no token needed.
            local_env = app.cli_env(SIGNET_API_TOKEN_FILE=None)
            for args in self.COMMANDS:
                self.assertEqual(app.cli(*args, env=local_env).stdout.decode(), remote[args],
                                 " ".join(args))
            # The appliance's internal CA is the daemon's own: the API does not list it.
            local_cas = json.loads(app.cli("--json", "ca", "list", env=local_env).stdout)
            self.assertEqual([c for c in local_cas if c["name"] != "signet-appliance"],
                             json.loads(remote_cas))
            self.assertEqual([app.cli(*order, env=local_env).stdout,
                              app.cli("--json", *order, env=local_env).stdout], remote_order)
            local_show = app.cli("cert", "show", issued["serial"], env=local_env).stdout.decode()
            # Locally `cert show` is the same view (the audit of the view aside).
            self.assertEqual(local_show, remote_show)
            listed = json.loads(app.cli("--json", "cert", "list", env=local_env).stdout)
            self.assertIn(issued["serial"], [c["serial"] for c in listed["items"]])
        finally:
            app.close()


if __name__ == "__main__":
    unittest.main()
