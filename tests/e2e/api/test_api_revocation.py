"""Revocation over real HTTPS and plain HTTP: CRLs through the REST API (list, latest, by
number, generate full and delta, the scheduler's refresh), and what relying parties fetch from
the URLs in the certificates signetd issues: the CRL at the CDP, OCSP by POST and by GET
(RFC 6960 A.1), the CA certificate at caIssuers; parsed by openssl and curl."""
import base64
import os
import re
import unittest
import urllib.parse

from api_case import ApiCase, run


class RevocationTest(ApiCase):
    def test_crl_list_latest_generate_and_fetch_by_number(self):
        for label, auth in self.auths():
            with self.subTest(auth=label):
                r = self.call(auth, "POST", "/api/v1/cas/issuing/crls", {}, expect=201).json()
                number = r["number"]
                self.assertEqual(r["kind"], "full")
                listed = self.call(auth, "GET", "/api/v1/cas/issuing/crls?limit=5",
                                   expect=200).json()["items"]
                self.assertEqual(listed[0]["number"], number)
                latest = self.call(auth, "GET", "/api/v1/cas/issuing/crls/latest", expect=200)
                self.assertEqual(latest.header("Content-Type"), "application/pkix-crl")
                self.crl_text(latest.body)
                by_number = self.call(auth, "GET", "/api/v1/cas/issuing/crls/%d" % number,
                                      expect=200)
                self.assertEqual(by_number.body, latest.body)
                pem = self.call(auth, "GET", "/api/v1/cas/issuing/crls/latest?format=pem",
                                expect=200).body.decode()
                run("openssl", "crl", "-noout", "-in", self.write("latest.crl.pem", pem))
                detail = self.call(auth, "GET",
                                   "/api/v1/cas/issuing/crls/%d?format=json" % number,
                                   expect=200).json()
                self.assertEqual(detail["issuer"], "CN=E2E Issuing")
                run("openssl", "crl", "-inform", "DER", "-noout", "-CAfile", self.trust,
                    input=latest.body)
                dry = self.call(auth, "POST", "/api/v1/crls/refresh", {"dry_run": True},
                                expect=200).json()
                self.assertIn("due", dry)
                done = self.call(auth, "POST", "/api/v1/crls/refresh", {"ca": "issuing"},
                                 expect=200).json()
                self.assertEqual(done["failed"], 0)

    def test_delta_crls_over_the_api_and_at_their_url(self):
        auth = {"token": self.token}
        self.call(auth, "POST", "/api/v1/cas",
                  {"name": "delta-ca", "type": "intermediate", "parent": "root",
                   "subject": "CN=Delta CA", "key_algorithm": "ec-p256"}, expect=201)
        self.call(auth, "PATCH", "/api/v1/cas/delta-ca/settings",
                  {"base_url": self.base_url, "delta_crls": True}, expect=200)
        full = self.call(auth, "POST", "/api/v1/cas/delta-ca/crls", {"kind": "full"},
                         expect=201).json()
        leaf = self.issue_csr(auth, "delta.example.com", ca="delta-ca")
        self.call(auth, "POST", "/api/v1/certificates/%s/revoke" % leaf["serial"],
                  {"reason": "affiliationChanged"}, expect=200)
        delta = self.call(auth, "POST", "/api/v1/cas/delta-ca/crls", {"kind": "delta"},
                          expect=201).json()
        self.assertEqual(delta["kind"], "delta")
        self.assertEqual(delta["base_number"], full["number"])
        latest = self.call(auth, "GET", "/api/v1/cas/delta-ca/crls/latest?kind=delta",
                           expect=200)
        text = self.crl_text(latest.body)
        self.assertIn("Delta CRL Indicator", text)
        self.assertIn(leaf["serial"], text.replace(":", "").upper())
        # Relying parties find it at the URL of the full CRL's Freshest CRL extension.
        full_crl = self.call(auth, "GET", "/api/v1/cas/delta-ca/crls/latest", expect=200)
        self.assertIn(self.base_url + "/crl/delta-ca-delta.crl", self.crl_text(full_crl.body))
        r = self.app.http_request("GET", "/crl/delta-ca-delta.crl")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Content-Type"), "application/pkix-crl")
        self.assertIn("Delta CRL Indicator", self.crl_text(r.body))

    def test_relying_parties_follow_the_certificate_urls(self):
        auth = {"token": self.token}
        revoked = self.issue_csr(auth, "revoked.rp.example.com")
        good = self.issue_csr(auth, "good.rp.example.com")
        self.call(auth, "POST", "/api/v1/certificates/%s/revoke" % revoked["serial"],
                  {"reason": "keyCompromise"}, expect=200)
        revoked_file = self.write("rp-revoked.pem", revoked["pem"])
        good_file = self.write("rp-good.pem", good["pem"])
        text = run("openssl", "x509", "-in", good_file, "-noout", "-text").stdout.decode()
        cdp = re.search(r"URI:(http://\S+\.crl)", text).group(1)
        ocsp = re.search(r"OCSP - URI:(http://\S+)", text).group(1)
        issuers = re.search(r"CA Issuers - URI:(http://\S+)", text).group(1)
        self.assertEqual(cdp, self.base_url + "/crl/issuing.crl")
        self.assertEqual(ocsp, self.base_url + "/ocsp/issuing")
        self.assertEqual(issuers, self.base_url + "/ca/issuing.crt")

        # The CRL at the CDP (revocation regenerates it): DER, the revoked serial on it.
        crl_file = os.path.join(self.work, "cdp.crl")
        out = run("curl", "-sS", "--max-time", "60", "-D", "-", "-o", crl_file, cdp)
        self.assertIn("content-type: application/pkix-crl", out.stdout.decode().lower())
        with open(crl_file, "rb") as f:
            crl = self.crl_text(f.read())
        self.assertIn(revoked["serial"], crl.replace(":", "").upper())
        self.assertNotIn(good["serial"], crl.replace(":", "").upper())

        # OCSP over POST with openssl ocsp: revoked and good.
        def ocsp_status(cert_file):
            out = run("openssl", "ocsp", "-issuer", self.issuing_file, "-cert", cert_file,
                      "-url", ocsp, "-CAfile", self.trust, "-timeout", "60")
            text = out.stdout.decode() + out.stderr.decode()
            self.assertIn("Response verify OK", text)
            return text
        self.assertIn(revoked_file + ": revoked", ocsp_status(revoked_file))
        self.assertIn(good_file + ": good", ocsp_status(good_file))

        # OCSP over GET (RFC 6960 A.1): the DER request, base64, URL-encoded, in the path.
        for cert_file, expected in ((revoked_file, "revoked"), (good_file, "good")):
            req = os.path.join(self.work, "ocsp-get.req")
            run("openssl", "ocsp", "-issuer", self.issuing_file, "-cert", cert_file, "-no_nonce",
                "-reqout", req)
            with open(req, "rb") as f:
                encoded = urllib.parse.quote(base64.b64encode(f.read()).decode(), safe="")
            r = self.app.http_request("GET", "/ocsp/issuing/" + encoded)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.header("Content-Type"), "application/ocsp-response")
            resp = self.write("ocsp-get.resp", r.body)
            out = run("openssl", "ocsp", "-respin", resp, "-issuer", self.issuing_file, "-cert",
                      cert_file, "-CAfile", self.trust, "-no_nonce")
            self.assertIn("%s: %s" % (cert_file, expected), out.stdout.decode())
            self.assertIn("Response verify OK", out.stdout.decode() + out.stderr.decode())

        # caIssuers: the CA certificate, DER.
        out = run("curl", "-sS", "--max-time", "60", "-D", "-", "-o",
                  os.path.join(self.work, "issuers.der"), issuers)
        self.assertIn("content-type: application/pkix-cert", out.stdout.decode().lower())
        with open(os.path.join(self.work, "issuers.der"), "rb") as f:
            as_pem = run("openssl", "x509", "-inform", "DER", input=f.read()).stdout.decode()
        self.assertEqual(as_pem, self.issuing_pem)

        # The plain-HTTP listener serves relying parties only: no API there.
        self.assertEqual(self.app.http_request("GET", "/api/v1/certificates").status, 404)
        self.assertEqual(self.app.http_request("GET", "/api/openapi.json").status, 404)
        self.assertEqual(self.app.http_request("GET", "/crl/no-such-ca.crl").status, 404)


if __name__ == "__main__":
    unittest.main()
