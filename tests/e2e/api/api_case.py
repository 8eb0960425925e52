"""Shared ground of the REST API lifecycle tests: one signetd (started by the class) whose
issuing CA puts CDP / OCSP / caIssuers URLs pointing at its plain-HTTP listener into the
certificates it issues, an administrator's API token and session, and helpers that check what
the API hands out with openssl."""
import os
import subprocess
import unittest
import urllib.parse

from signetd_fixture import Appliance, make_csr


def run(*args, input=None, check=True):
    """Runs a tool (openssl, curl) with a liveness bound; returns the CompletedProcess."""
    result = subprocess.run(list(args), input=input, capture_output=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError("%s failed (%d): %s %s" % (" ".join(args), result.returncode,
                                                       result.stdout.decode(errors="replace"),
                                                       result.stderr.decode(errors="replace")))
    return result


def hexid(fingerprint):
    """The API takes a SHA-256 fingerprint as plain hex (the JSON shows it with colons)."""
    return fingerprint.replace(":", "").lower()


class ApiCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance().start()
        cls.work = os.path.join(cls.app.dir, "work")
        os.makedirs(cls.work)
        cls.token = cls.app.make_token("administrator", name="lifecycle admin token")
        cls.session = cls.app.login()
        # Issued certificates point their CDP / AIA at the daemon's plain-HTTP listener.
        cls.base_url = "http://127.0.0.1:%d" % cls.app.http_port
        r = cls.app.request("PATCH", "/api/v1/cas/issuing/settings", {"base_url": cls.base_url},
                            token=cls.token)
        if r.status != 200 or r.json()["base_url"] != cls.base_url:
            raise AssertionError("setting base_url failed: %r" % r)
        cls.root_pem = cls.ca_pem("root")
        cls.issuing_pem = cls.ca_pem("issuing")
        cls.trust = cls.write("trust.pem", cls.root_pem + cls.issuing_pem)
        cls.root_file = cls.write("root.pem", cls.root_pem)
        cls.issuing_file = cls.write("issuing.pem", cls.issuing_pem)

    @classmethod
    def tearDownClass(cls):
        cls.app.close()

    # ---- helpers ----
    @classmethod
    def write(cls, name, data):
        path = os.path.join(cls.work, name)
        with open(path, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        return path

    @classmethod
    def ca_pem(cls, name):
        r = cls.app.request("GET", "/api/v1/cas/%s/certificate" % name, token=cls.token)
        if r.status != 200:
            raise AssertionError("CA certificate of %s: %r" % (name, r))
        return r.body.decode()

    def call(self, auth, method, path, body=None, expect=None, **kwargs):
        """A request as `auth` ({"token": ...} or {"session": ...}); checks the status."""
        r = self.app.request(method, path, body, **auth, **kwargs)
        if expect is not None:
            self.assertEqual(r.status, expect, "%s %s: %r" % (method, path, r))
        return r

    def auths(self):
        return (("token", {"token": self.token}), ("session", {"session": self.session}))

    def issue_csr(self, auth, cn, profile=None, ca="issuing", sans=None):
        csr = make_csr(self.work, cn, sans=sans if sans is not None else ["DNS:" + cn])
        body = {"key_source": {"kind": "csr", "csr": csr}}
        if profile:
            body["profile"] = profile
        else:
            body["ca"] = ca
        return self.call(auth, "POST", "/api/v1/certificates", body, expect=201).json()

    def verify(self, pem, trust=None, untrusted=None):
        leaf = self.write("verify-leaf.pem", pem)
        args = ["openssl", "verify", "-CAfile", trust or self.trust]
        if untrusted:
            args += ["-untrusted", untrusted]
        out = run(*args, leaf).stdout.decode()
        self.assertIn(": OK", out)

    def spki(self, pem_or_path, is_key=False):
        path = pem_or_path if os.path.exists(pem_or_path) else self.write("spki.pem", pem_or_path)
        if is_key:
            return run("openssl", "pkey", "-in", path, "-pubout").stdout
        return run("openssl", "x509", "-in", path, "-noout", "-pubkey").stdout

    def list_all(self, auth, query, limit=2):
        """Every certificate id the filter matches, page by page (keyset cursor)."""
        ids, cursor = [], None
        for _ in range(1000):
            path = "/api/v1/certificates?%s&limit=%d" % (query, limit)
            if cursor:
                path += "&cursor=" + urllib.parse.quote(cursor)
            page = self.call(auth, "GET", path, expect=200).json()
            self.assertLessEqual(len(page["items"]), limit)
            ids += [c["id"] for c in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        self.assertEqual(len(ids), len(set(ids)), "a page repeated a certificate")
        return ids

    def crl_text(self, der):
        return run("openssl", "crl", "-inform", "DER", "-noout", "-text",
                   input=der).stdout.decode()
