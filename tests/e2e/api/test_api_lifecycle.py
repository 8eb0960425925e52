"""Every REST API operation over real HTTPS, once with an API token and once with a session:
CAs, RA profiles, issuance from every key source, the inventory, downloads, renew / rekey /
reissue / revoke, import, orders, alerts, tokens, audit, health and metrics, the OpenAPI
document and the error shape. What the API hands out is checked by independent parsers
(openssl verify / pkcs12 / req / crl). Revocation and relying parties: test_api_revocation."""
import base64
import json
import os
import re
import time
import unittest
import urllib.parse

from api_case import ApiCase, hexid, run
from signetd_fixture import Appliance, make_csr


class LifecycleTest(ApiCase):
    # ---- CAs ----
    def test_intermediate_ca_created_configured_renewed_and_revoked_through_the_api(self):
        for label, auth in self.auths():
            with self.subTest(auth=label):
                name = "api-sub-" + label
                r = self.call(auth, "POST", "/api/v1/cas",
                              {"name": name, "type": "intermediate", "parent": "root",
                               "subject": "CN=API Sub " + label, "key_algorithm": "ec-p256",
                               "path_length": 0}, expect=201)
                self.assertEqual(r.json()["state"], "active")
                self.assertEqual(r.json()["parent"], "root")
                self.assertEqual(r.json()["default_profile"], name + "/default")
                listed = [c["name"] for c in self.call(auth, "GET", "/api/v1/cas",
                                                       expect=200).json()["items"]]
                self.assertIn(name, listed)
                self.assertNotIn("signet-appliance", listed)
                shown = self.call(auth, "GET", "/api/v1/cas/" + name, expect=200).json()
                self.assertEqual(shown["subject"], "CN=API Sub " + label)
                # Its certificate verifies to the root; its chain ends at the root.
                sub_pem = self.call(auth, "GET", "/api/v1/cas/%s/certificate" % name,
                                    expect=200).body.decode()
                self.verify(sub_pem, trust=self.root_file)
                chain = self.call(auth, "GET", "/api/v1/cas/%s/certificate?chain=true" % name,
                                  expect=200).body.decode()
                self.assertEqual(chain.count("BEGIN CERTIFICATE"), 2)
                der = self.call(auth, "GET", "/api/v1/cas/%s/certificate?format=der" % name,
                                expect=200)
                self.assertEqual(der.header("Content-Type"), "application/pkix-cert")
                self.assertIn(b"API Sub", der.body)
                # Settings, then a certificate from its default profile with that validity.
                r = self.call(auth, "PATCH", "/api/v1/cas/%s/settings" % name,
                              {"default_validity_days": 30}, expect=200)
                self.assertEqual(r.json()["default_validity_days"], 30)
                leaf = self.issue_csr(auth, "leaf.%s.example.com" % label, ca=name)
                self.assertIn(leaf["days_until_expiry"], (29, 30))
                trust = self.write("trust-%s.pem" % name, self.root_pem + sub_pem)
                self.verify(leaf["pem"], trust=trust)
                # Renewal: a new CA certificate with the same key.
                r = self.call(auth, "POST", "/api/v1/cas/%s/renew" % name, {}, expect=200)
                self.assertEqual(r.json()["previous_certificates"], 1)
                renewed_pem = self.call(auth, "GET", "/api/v1/cas/%s/certificate" % name,
                                        expect=200).body.decode()
                self.assertNotEqual(renewed_pem, sub_pem)
                self.assertEqual(self.spki(renewed_pem), self.spki(sub_pem))
                # A delegated OCSP responder, then a new one on demand.
                r = self.call(auth, "PATCH", "/api/v1/cas/%s/settings" % name,
                              {"ocsp_signing": "delegated"}, expect=200)
                signer = self.call(auth, "GET", "/api/v1/cas/%s/ocsp-signer" % name,
                                   expect=200).json()
                self.assertEqual(signer["signing"], "delegated")
                self.assertIn("certificate_pem", signer)
                again = self.call(auth, "POST", "/api/v1/cas/%s/ocsp-signer" % name,
                                  expect=200).json()
                self.assertNotEqual(again["certificate_pem"], signer["certificate_pem"])
                self.assertNotEqual(again["key_uri"], signer["key_uri"])
                # Revocation through the parent: the CA's serial is on the root's CRL.
                r = self.call(auth, "POST", "/api/v1/cas/%s/revoke" % name,
                              {"reason": "cessationOfOperation"}, expect=200)
                serial = r.json()["serial"]
                # The CA shows as revoked, with when and why.
                shown = self.call(auth, "GET", "/api/v1/cas/" + name, expect=200).json()
                self.assertEqual(shown["state"], "revoked")
                self.assertEqual(shown["certificate_revocation"]["reason"], "cessationOfOperation")
                self.assertEqual(shown["revocation_reason"], "cessationOfOperation")
                listed = {c["name"]: c for c in self.call(auth, "GET", "/api/v1/cas",
                                                          expect=200).json()["items"]}
                self.assertEqual(listed[name]["state"], "revoked")
                self.assertEqual(listed["root"]["state"], "active")
                crl = self.call(auth, "GET", "/api/v1/cas/root/crls/latest", expect=200)
                text = run("openssl", "crl", "-inform", "DER", "-noout", "-text",
                           input=crl.body).stdout.decode()
                self.assertIn(serial, text.replace(":", "").upper())
                csr = make_csr(self.work, "late.%s.example.com" % label)
                refused = self.call(auth, "POST", "/api/v1/certificates",
                                    {"ca": name, "key_source": {"kind": "csr", "csr": csr}})
                self.assertEqual(refused.status, 422, refused)
                self.assertIn("revoked", refused.json()["error"]["message"])

    def test_intermediate_ca_signed_by_an_external_root(self):
        auth = {"token": self.token}
        r = self.call(auth, "POST", "/api/v1/cas",
                      {"name": "ext-sub", "type": "intermediate", "external": True,
                       "subject": "CN=External Sub", "key_algorithm": "ec-p256"}, expect=201)
        csr_pem = r.json()["csr_pem"]
        fetched = self.call(auth, "GET", "/api/v1/cas/ext-sub/csr", expect=200)
        self.assertEqual(fetched.body.decode(), csr_pem)
        run("openssl", "req", "-verify", "-noout", "-in", self.write("ext.csr", csr_pem))
        # An external root made by openssl signs it.
        key = os.path.join(self.work, "ext-root.key")
        root = os.path.join(self.work, "ext-root.pem")
        run("openssl", "req", "-x509", "-new", "-nodes", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-keyout", key, "-out", root, "-subj", "/CN=Outside Root",
            "-days", "30", "-addext", "basicConstraints=critical,CA:true",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        ext = self.write("ext.cnf", "[v]\nbasicConstraints=critical,CA:true,pathlen:0\n"
                                    "keyUsage=critical,keyCertSign,cRLSign\n"
                                    "subjectKeyIdentifier=hash\n"
                                    "authorityKeyIdentifier=keyid\n")
        cert = os.path.join(self.work, "ext-sub.pem")
        run("openssl", "x509", "-req", "-in", os.path.join(self.work, "ext.csr"), "-CA", root,
            "-CAkey", key, "-CAcreateserial", "-days", "20", "-extfile", ext, "-extensions", "v",
            "-out", cert)
        with open(cert) as f, open(root) as g:
            bundle = f.read() + g.read()
        r = self.call(auth, "POST", "/api/v1/cas/ext-sub/certificate", {"pem": bundle},
                      expect=200)
        self.assertEqual(r.json()["state"], "active")
        leaf = self.issue_csr(auth, "leaf.ext.example.com", ca="ext-sub")
        self.verify(leaf["pem"], trust=self.write("ext-trust.pem", bundle))

    # ---- RA profiles ----
    def test_ra_profile_create_update_and_disable(self):
        for label, auth in self.auths():
            with self.subTest(auth=label):
                name = "web-" + label
                r = self.call(auth, "POST", "/api/v1/profiles",
                              {"name": name, "ca": "issuing", "description": "web servers",
                               "sans": {"dns_suffixes": ["example.com"], "mode": "hard"},
                               "validity": {"default_days": 90, "max_days": 90}}, expect=201)
                self.assertEqual(r.json()["version"], 1)
                path = "/api/v1/profiles/issuing/" + name
                self.assertEqual(self.call(auth, "GET", path, expect=200).json()["description"],
                                 "web servers")
                listed = self.call(auth, "GET", "/api/v1/profiles?ca=issuing", expect=200).json()
                self.assertIn(name, [p["name"] for p in listed["items"]])
                leaf = self.issue_csr(auth, "a.%s.example.com" % label,
                                      profile="issuing/" + name)
                self.assertEqual(leaf["profile"], "issuing/" + name)
                self.assertIn(leaf["days_until_expiry"], (89, 90))
                # A merge patch changes one rule and makes version 2; a stale version is a 409.
                r = self.call(auth, "PATCH", path,
                              {"version": 1, "sans": {"dns_suffixes": ["example.org"]}},
                              expect=200)
                self.assertEqual(r.json()["version"], 2)
                self.assertEqual(r.json()["sans"]["dns_suffixes"], ["example.org"])
                self.assertEqual(r.json()["validity"]["default_days"], 90)
                stale = self.call(auth, "PATCH", path, {"version": 1, "description": "x"})
                self.assertEqual(stale.status, 409, stale)
                self.assertEqual(stale.json()["error"]["code"], "conflict")
                # The whole profile replaced (PUT) makes version 3.
                whole = self.call(auth, "GET", path, expect=200).json()
                whole["description"] = "replaced"
                whole["sans"]["dns_suffixes"] = ["example.com", "example.org"]
                r = self.call(auth, "PUT", path, whole, expect=200)
                self.assertEqual(r.json()["version"], 3)
                self.assertEqual(r.json()["description"], "replaced")
                # Disabled: every request refused, naming the profile.
                r = self.call(auth, "POST", path + "/disable", expect=200)
                self.assertFalse(r.json()["enabled"])
                csr = make_csr(self.work, "b.%s.example.com" % label,
                               sans=["DNS:b.%s.example.com" % label])
                refused = self.call(auth, "POST", "/api/v1/certificates",
                                    {"profile": "issuing/" + name,
                                     "key_source": {"kind": "csr", "csr": csr}})
                self.assertEqual(refused.status, 422, refused)
                self.assertIn("disabled", refused.json()["error"]["message"])
                r = self.call(auth, "PATCH", path, {"version": 4, "enabled": True}, expect=200)
                self.assertTrue(r.json()["enabled"])
                self.issue_csr(auth, "c.%s.example.com" % label, profile="issuing/" + name)

    # ---- certificates ----
    def test_certificate_lifecycle_with_an_api_token(self):
        self.certificate_lifecycle("token", {"token": self.token})

    def test_certificate_lifecycle_with_a_session(self):
        self.certificate_lifecycle("session", {"session": self.session})

    def certificate_lifecycle(self, label, auth):
        # Issue from a CSR made by openssl; it verifies to root + issuing.
        cn = "csr.%s.example.com" % label
        leaf = self.issue_csr(auth, cn, sans=["DNS:" + cn, "IP:192.0.2.7"])
        self.assertEqual(leaf["status"], "active")
        self.assertEqual(leaf["source"], "managed")
        self.assertEqual(leaf["order"]["status"], "complete")
        self.assertIn("DNS:" + cn, leaf["subject_alt_names"])
        self.verify(leaf["pem"])
        self.assertIn("BEGIN CERTIFICATE", leaf["chain_pem"])
        serial, fingerprint = leaf["serial"], hexid(leaf["fingerprint_sha256"])

        # Detail by serial and by fingerprint.
        by_serial = self.call(auth, "GET", "/api/v1/certificates/" + serial, expect=200).json()
        by_fp = self.call(auth, "GET", "/api/v1/certificates/" + fingerprint, expect=200).json()
        self.assertEqual(by_serial["id"], leaf["id"])
        self.assertEqual(by_fp["id"], leaf["id"])
        self.assertEqual(by_serial["common_name"], cn)

        # Downloads: PEM, DER, chain; all parsed and verified by openssl.
        pem = self.call(auth, "GET", "/api/v1/certificates/%s/pem" % serial, expect=200)
        self.assertEqual(pem.body.decode(), leaf["pem"])
        self.assertIn("attachment", pem.header("Content-Disposition"))
        self.verify(pem.body.decode())
        der = self.call(auth, "GET", "/api/v1/certificates/%s/der" % serial, expect=200)
        self.assertEqual(der.header("Content-Type"), "application/pkix-cert")
        from_der = run("openssl", "x509", "-inform", "DER", input=der.body).stdout.decode()
        self.assertEqual(from_der, leaf["pem"])
        chain = self.call(auth, "GET", "/api/v1/certificates/%s/chain" % serial,
                          expect=200).body.decode()
        self.assertTrue(chain.startswith(leaf["pem"]))
        self.assertGreaterEqual(chain.count("BEGIN CERTIFICATE"), 2)
        self.verify(leaf["pem"], trust=self.root_file,
                    untrusted=self.write("chain-%s.pem" % label, chain))

        # A key generated on the token.
        r = self.call(auth, "POST", "/api/v1/certificates",
                      {"ca": "issuing", "subject": "CN=tok.%s.example.com" % label,
                       "key_source": {"kind": "key_on_token", "algorithm": "ec-p256"}},
                      expect=201).json()
        self.assertTrue(r["key_location"].startswith("pkcs11:"), r)
        self.assertIn("on token", r["key_storage"])
        self.verify(r["pem"])
        keys = self.call(auth, "GET", "/api/v1/tokens/signet/keys", expect=200).json()["items"]
        self.assertIn(r["key_location"], [k["uri"] for k in keys])
        on_token = r

        # A local key: the PKCS#12 opens with the one-time password and holds key + certificate.
        r = self.call(auth, "POST", "/api/v1/certificates",
                      {"ca": "issuing", "subject": "CN=local.%s.example.com" % label,
                       "subject_alt_names": ["DNS:local.%s.example.com" % label],
                       "key_source": {"kind": "local_key", "algorithm": "ec-p256"}},
                      expect=201).json()
        self.check_pfx(r["pfx_base64"], r["pfx_password"], r["pem"], label)
        again = self.call(auth, "POST", "/api/v1/certificates/%s/pfx" % r["serial"], {},
                          expect=200).json()
        self.assertNotEqual(again["pfx_password"], r["pfx_password"])
        self.check_pfx(again["pfx_base64"], again["pfx_password"], r["pem"], label + "-again")

        # Renew: same key, new serial, linked to its predecessor.
        renewed = self.call(auth, "POST", "/api/v1/certificates/%s/renew" % serial, {},
                            expect=201).json()
        self.assertNotEqual(renewed["serial"], serial)
        self.assertEqual(self.spki(renewed["pem"]), self.spki(leaf["pem"]))
        self.assertEqual(renewed["predecessor_id"], leaf["id"])
        self.verify(renewed["pem"])
        # Rekey from a new CSR: a new key.
        csr = make_csr(self.work, "rekey-" + cn, sans=["DNS:" + cn])
        rekeyed = self.call(auth, "POST", "/api/v1/certificates/%s/rekey" % renewed["serial"],
                            {"key_source": {"kind": "csr", "csr": csr}}, expect=201).json()
        self.assertNotEqual(self.spki(rekeyed["pem"]), self.spki(leaf["pem"]))
        self.assertEqual(rekeyed["common_name"], cn)
        # Reissue with a key on the token, revoking the previous certificate (superseded).
        reissued = self.call(auth, "POST",
                             "/api/v1/certificates/%s/reissue" % rekeyed["serial"],
                             {"key_source": {"kind": "key_on_token"}, "revoke_previous": True},
                             expect=201).json()
        self.assertTrue(reissued["key_location"].startswith("pkcs11:"))
        previous = self.call(auth, "GET", "/api/v1/certificates/" + rekeyed["serial"],
                             expect=200).json()
        self.assertEqual(previous["status"], "revoked")
        self.assertEqual(previous["revocation_reason"], "superseded")
        # Revoke.
        r = self.call(auth, "POST", "/api/v1/certificates/%s/revoke" % on_token["serial"],
                      {"reason": "keyCompromise"}, expect=200).json()
        self.assertEqual(r["status"], "revoked")
        self.assertEqual(r["revocation_reason"], "keyCompromise")
        again = self.call(auth, "POST", "/api/v1/certificates/%s/revoke" % on_token["serial"],
                          {"reason": "keyCompromise"})
        self.assertEqual(again.status, 409, again)

        # Lists with filters.
        revoked = self.list_all(auth, "status=revoked&ca=issuing")
        self.assertIn(on_token["id"], revoked)
        self.assertNotIn(reissued["id"], revoked)
        found = self.list_all(auth, "q=" + urllib.parse.quote(cn))
        self.assertTrue({leaf["id"], renewed["id"], rekeyed["id"], reissued["id"]} <= set(found))
        self.assertNotIn(on_token["id"], found)
        soon = self.list_all(auth, "expiring_within_days=1&q=" + urllib.parse.quote(cn))
        self.assertEqual(soon, [])
        managed = self.list_all(auth, "source=managed&profile=issuing/default&status=active")
        self.assertIn(reissued["id"], managed)
        self.assertNotIn(on_token["id"], managed)

        # Orders: list by kind, show, and every order of this test's requests is complete.
        orders = self.call(auth, "GET", "/api/v1/orders?kind=rekey", expect=200).json()
        self.assertIn(rekeyed["order_id"], [o["id"] for o in orders["items"]])
        order = self.call(auth, "GET", "/api/v1/orders/%d" % reissued["order_id"],
                          expect=200).json()
        self.assertEqual(order["kind"], "reissue")
        self.assertEqual(order["status"], "complete")
        self.assertEqual(order["certificate_id"], reissued["id"])

    def check_pfx(self, pfx_base64, password, cert_pem, label):
        pfx = self.write("local-%s.pfx" % label, base64.b64decode(pfx_base64))
        # The password goes through a file, never argv.
        pass_file = self.app.secret_file("pfx-pass-%s" % label, password)
        out = run("openssl", "pkcs12", "-in", pfx, "-passin", "file:" + pass_file, "-nodes")
        text = out.stdout.decode()
        self.assertIn("PRIVATE KEY", text)
        key = self.write("local-%s.key" % label, text[text.index("-----BEGIN PRIVATE KEY"):])
        self.assertEqual(self.spki(key, is_key=True), self.spki(cert_pem))
        wrong = self.app.secret_file("pfx-wrong-%s" % label, password + "x")
        self.assertNotEqual(run("openssl", "pkcs12", "-in", pfx, "-passin", "file:" + wrong,
                                "-nodes", check=False).returncode, 0)

    def test_keyset_pages_follow_the_sort_order_without_gaps(self):
        auth = {"token": self.token}
        issued = [self.issue_csr(auth, "page%d.keyset.example.com" % i)["id"] for i in range(5)]
        for order in ("asc", "desc"):
            ids = self.list_all(auth, "q=page&sort=cn&order=" + order, limit=2)
            expected = issued if order == "asc" else list(reversed(issued))
            self.assertEqual([i for i in ids if i in issued], expected)
        one_page = self.call(auth, "GET", "/api/v1/certificates?q=page&sort=cn&limit=1000",
                             expect=200).json()
        self.assertIsNone(one_page["next_cursor"])

    def test_existing_certificates_are_imported_as_discovered(self):
        key = os.path.join(self.work, "outside.key")
        cert = os.path.join(self.work, "outside.pem")
        run("openssl", "req", "-x509", "-new", "-nodes", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-keyout", key, "-out", cert, "-subj",
            "/CN=outside.example.com", "-days", "10")
        with open(cert) as f:
            pem = f.read()
        for label, auth in self.auths():
            with self.subTest(auth=label):
                r = self.call(auth, "POST", "/api/v1/certificates/import", {"pem": pem},
                              expect=200).json()
                if label == "token":
                    self.assertEqual(r["imported_count"], 1, r)
                    self.assertEqual(r["imported"][0]["source"], "discovered")
                else:  # the same certificate again: known by its fingerprint
                    self.assertEqual(r["imported_count"], 0, r)
                    self.assertEqual(r["duplicates"], 1, r)
                found = self.list_all(auth, "source=discovered&q=outside.example.com")
                self.assertEqual(len(found), 1)
                r = self.call(auth, "POST", "/api/v1/certificates/import",
                              {"pem": "-----BEGIN CERTIFICATE-----\nAAAA\n"
                                      "-----END CERTIFICATE-----\n"})
                self.assertEqual(r.status, 400, r)
                self.assertIn("nothing was imported", r.json()["error"]["message"])

    # ---- orders and alerts ----
    def test_failed_order_alert_acknowledge_and_resubmit(self):
        for label, auth in self.auths():
            with self.subTest(auth=label):
                name = "strict-" + label
                self.call(auth, "POST", "/api/v1/profiles",
                          {"name": name, "ca": "issuing",
                           "sans": {"dns_suffixes": ["example.com"], "mode": "hard"}},
                          expect=201)
                cn = "host.%s.example.net" % label
                csr = make_csr(self.work, cn, sans=["DNS:" + cn])
                refused = self.call(auth, "POST", "/api/v1/certificates",
                                    {"profile": "issuing/" + name,
                                     "key_source": {"kind": "csr", "csr": csr}})
                self.assertEqual(refused.status, 422, refused)
                self.assertIn(cn, refused.json()["error"]["message"])
                failed = self.call(auth, "GET", "/api/v1/orders?status=failed&kind=issue",
                                   expect=200).json()["items"]
                order = next(o for o in failed if o["common_name"] == cn)
                self.assertEqual(order["profile"], "issuing/" + name)
                shown = self.call(auth, "GET", "/api/v1/orders/%d" % order["id"],
                                  expect=200).json()
                self.assertEqual(shown["status"], "failed")
                self.assertIn("outside the allowed domains", shown["error"]["message"])
                # The failure raised an alert; acknowledging it takes it off the open list.
                alerts = self.call(auth, "GET", "/api/v1/alerts", expect=200).json()["items"]
                alert = next(a for a in alerts if a["object"] == "order:%d" % order["id"])
                self.assertEqual(alert["kind"], "order.failed")
                r = self.call(auth, "POST", "/api/v1/alerts/%d/acknowledge" % alert["id"],
                              expect=200)
                self.assertTrue(r.json()["acknowledged"])
                still_open = self.call(auth, "GET", "/api/v1/alerts", expect=200).json()["items"]
                self.assertNotIn(alert["id"], [a["id"] for a in still_open])
                every = self.call(auth, "GET", "/api/v1/alerts?include_acknowledged=true",
                                  expect=200).json()["items"]
                self.assertIn(alert["id"], [a["id"] for a in every])
                # Resubmitted unchanged it fails again; after the rule is widened it succeeds.
                again = self.call(auth, "POST", "/api/v1/orders/%d/resubmit" % order["id"])
                self.assertEqual(again.status, 422, again)
                profile = self.call(auth, "GET", "/api/v1/profiles/issuing/" + name,
                                    expect=200).json()
                self.call(auth, "PATCH", "/api/v1/profiles/issuing/" + name,
                          {"version": profile["version"],
                           "sans": {"dns_suffixes": ["example.com", "example.net"]}},
                          expect=200)
                done = self.call(auth, "POST", "/api/v1/orders/%d/resubmit" % order["id"],
                                 expect=201).json()
                self.assertEqual(done["common_name"], cn)
                self.assertEqual(done["order"]["resubmitted_from"], order["id"])
                self.verify(done["pem"])
        # Orders page backwards with next_before.
        auth = {"token": self.token}
        page = self.call(auth, "GET", "/api/v1/orders?limit=1", expect=200).json()
        self.assertEqual(len(page["items"]), 1)
        older = self.call(auth, "GET", "/api/v1/orders?limit=1&before=%d" % page["next_before"],
                          expect=200).json()
        self.assertLess(older["items"][0]["id"], page["items"][0]["id"])

    def test_expiry_scan_raises_alerts(self):
        # The documented window is the one accepted: its largest value scans.
        spec = self.app.request("GET", "/api/openapi.json").json()
        schema = spec["paths"]["/api/v1/alerts/scan"]["post"]["requestBody"]["content"][
            "application/json"]["schema"]["properties"]["days"]
        for label, auth in self.auths():
            with self.subTest(auth=label):
                self.issue_csr(auth, "expiring.%s.example.com" % label)
                r = self.call(auth, "POST", "/api/v1/alerts/scan", {"days": schema["maximum"]},
                              expect=200)
                self.assertGreaterEqual(r.json()["expiring"], 1)
                alerts = self.call(auth, "GET", "/api/v1/alerts?limit=1000",
                                   expect=200).json()["items"]
                self.assertIn("certificate.expiring", [a["kind"] for a in alerts])
                # The appliance's own TLS certificate (internal CA) is within the window too,
                # but it is the appliance's to renew: no alert names it.
                internal = [a for a in alerts
                            if a["object"].startswith("certificate:signet-appliance/")]
                self.assertEqual(internal, [])

    # ---- tokens ----
    def test_tokens_and_their_keys(self):
        for label, auth in self.auths():
            with self.subTest(auth=label):
                tokens = self.call(auth, "GET", "/api/v1/tokens", expect=200).json()["items"]
                token = next(t for t in tokens if t["label"] == "signet")
                self.assertEqual(token["state"], "ready")
                by_label = self.call(auth, "GET", "/api/v1/tokens/signet/keys",
                                     expect=200).json()["items"]
                by_serial = self.call(auth, "GET", "/api/v1/tokens/%s/keys" % token["serial"],
                                      expect=200).json()["items"]
                self.assertEqual(sorted(k["uri"] for k in by_label),
                                 sorted(k["uri"] for k in by_serial))
                issuing = self.call(auth, "GET", "/api/v1/cas/issuing", expect=200).json()
                self.assertIn(issuing["key_uri"], [k["uri"] for k in by_label])
                ca_key = next(k for k in by_label if k["uri"] == issuing["key_uri"])
                self.assertTrue(ca_key["sensitive"])
                self.assertFalse(ca_key["extractable"])
                orphans = self.call(auth, "GET", "/api/v1/tokens/signet/keys?orphans=true",
                                    expect=200).json()["items"]
                self.assertNotIn(issuing["key_uri"], [k["uri"] for k in orphans])

    # ---- audit, health, metrics ----
    def test_audit_list_verify_and_export(self):
        for label, auth in self.auths():
            with self.subTest(auth=label):
                leaf = self.issue_csr(auth, "audited.%s.example.com" % label)
                page = self.call(auth, "GET", "/api/v1/audit?action=certificate.&limit=1000",
                                 expect=200).json()
                self.assertTrue(all(e["action"].startswith("certificate.")
                                    for e in page["items"]))
                self.assertTrue(any(leaf["serial"] in json.dumps(e) for e in page["items"]))
                first = self.call(auth, "GET", "/api/v1/audit?limit=2", expect=200).json()
                self.assertEqual(len(first["items"]), 2)
                self.assertIsNotNone(first["next_after"])
                second = self.call(auth, "GET",
                                   "/api/v1/audit?limit=2&after=%d" % first["next_after"],
                                   expect=200).json()
                self.assertEqual(second["items"][0]["previous_hash"], first["items"][1]["hash"])
                verified = self.call(auth, "GET", "/api/v1/audit/verify", expect=200).json()
                self.assertTrue(verified["ok"], verified)
                self.assertGreater(verified["entries"], 2)
                export = self.call(auth, "GET", "/api/v1/audit/export", expect=200)
                self.assertEqual(export.header("Content-Type"), "application/x-ndjson")
                lines = [json.loads(line) for line in export.body.decode().splitlines()]
                events = [line for line in lines if line["type"] == "event"]
                self.assertGreaterEqual(len(events), verified["entries"])
                for before, after in zip(events, events[1:]):
                    self.assertEqual(after["previous_hash"], before["hash"])
                    self.assertEqual(after["sequence"], before["sequence"] + 1)

    def test_health_and_metrics(self):
        r = self.app.request("GET", "/healthz")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "ok")
        self.assertTrue(r.json()["checks"]["token"]["ok"])
        self.assertTrue(r.json()["checks"]["store"]["ok"])
        self.issue_csr({"token": self.token}, "metered.example.com")
        for label, auth in self.auths():
            with self.subTest(auth=label):
                r = self.call(auth, "GET", "/metrics", expect=200)
                self.assertTrue(r.header("Content-Type").startswith("text/plain"))
                text = r.body.decode()
                self.assertIn('signet_http_requests_total{route="POST /api/v1/certificates",'
                              'code="201"}', text)
                issued = re.search(r"^signet_issuances_total (\d+)", text, re.M)
                self.assertIsNotNone(issued, text)
                self.assertGreater(int(issued.group(1)), 0)
        self.assertEqual(self.app.request("GET", "/metrics").status, 401)

    # ---- the API's own description and its errors ----
    def test_every_documented_route_is_served(self):
        doc = self.app.request("GET", "/api/openapi.json")
        self.assertEqual(doc.status, 200)
        spec = doc.json()
        self.assertTrue(spec["openapi"].startswith("3.0."), spec["openapi"])
        self.assertIn("Error", spec["components"]["schemas"])
        probed = 0
        for pattern, operations in spec["paths"].items():
            path = re.sub(r"\{[^}]+\}", "nonexistent", pattern)
            for method, operation in operations.items():
                if method in ("get", "post", "put", "patch", "delete"):
                    with self.subTest(route=method.upper() + " " + pattern):
                        self.assertIn("x-signet-permission", operation)
                        body = None if method in ("get", "delete") else {}
                        r = self.app.request(method.upper(), path, body, token=self.token)
                        unrouted = r.status == 404 and "no such route" in r.body.decode()
                        self.assertFalse(unrouted, r)
                        self.assertNotEqual(r.status, 405, r)
                        self.assertLess(r.status, 500, r)
                        probed += 1
        self.assertGreater(probed, 50)
        # A path outside the table is the router's own 404.
        r = self.app.request("GET", "/api/v1/nothing-here", token=self.token)
        self.assertEqual(r.status, 404)
        self.assertIn("no such route", r.json()["error"]["message"])

    def assert_error(self, r, status, code, *words):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.header("Content-Type"), "application/json")
        body = r.json()
        self.assertEqual(set(body), {"error"})
        # "order_id" names the failed order a refused request left (issue, renew, rekey...).
        self.assertIn(set(body["error"]), ({"code", "message"}, {"code", "message", "order_id"}))
        self.assertEqual(body["error"]["code"], code)
        for word in words:
            self.assertIn(word, body["error"]["message"])

    def test_errors_have_one_shape_and_name_the_problem(self):
        for label, auth in self.auths():
            with self.subTest(auth=label):
                r = self.call(auth, "POST", "/api/v1/certificates",
                              {"ca": "issuing", "key_source": {"kind": "csr", "csr":
                               "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"
                               "-----END CERTIFICATE REQUEST-----\n"}})
                self.assert_error(r, 400, "invalid_argument", "certificate request")
                failed = self.call(auth, "GET", "/api/v1/orders/%d" % r.json()["error"]["order_id"])
                self.assertEqual(failed.json()["status"], "failed")
                csr = make_csr(self.work, "shape.example.com")
                r = self.call(auth, "POST", "/api/v1/certificates",
                              {"ca": "issuing", "colour": "blue",
                               "key_source": {"kind": "csr", "csr": csr}})
                self.assert_error(r, 400, "invalid_argument", "colour")
                r = self.call(auth, "GET", "/api/v1/certificates/" + "ab" * 16)
                self.assert_error(r, 404, "not_found", "ab" * 16)
                r = self.call(auth, "GET", "/api/v1/certificates/" + "cd" * 32 + "/pem")
                self.assert_error(r, 404, "not_found")
                r = self.call(auth, "GET", "/api/v1/cas/no-such-ca")
                self.assert_error(r, 404, "not_found", "no-such-ca")
                r = self.call(auth, "GET", "/api/v1/certificates?limit=0")
                self.assert_error(r, 400, "invalid_argument", "limit")
                r = self.call(auth, "POST", "/api/v1/certificates", raw_body=b"{not json",
                              content_type="application/json")
                self.assert_error(r, 400, "invalid_argument", "JSON")
        r = self.app.request("GET", "/api/v1/certificates")
        self.assert_error(r, 401, "unauthenticated")



class ScheduledExpiryScanTest(unittest.TestCase):
    """signetd scans for expiring certificates on its own (first at start, then every
    expiry_scan_interval_seconds), for the operators' CAs only."""

    def test_signetd_raises_expiry_alerts_without_being_asked(self):
        app = Appliance(config={"ca": {"expiry_alert_days": 30}})
        try:
            work = os.path.join(app.dir, "work")
            os.makedirs(work)
            make_csr(work, "soon.example.com")
            app.cli("cert", "issue", "--ca", "issuing", "--csr",
                    os.path.join(work, "soon.example.com.csr"), "--days", "7",
                    "--out", os.path.join(work, "soon.pem"))
            make_csr(work, "later.example.com")
            app.cli("cert", "issue", "--ca", "issuing", "--csr",
                    os.path.join(work, "later.example.com.csr"), "--days", "90",
                    "--out", os.path.join(work, "later.pem"))
            app.start()
            token = app.make_token("auditor", name="expiry watcher")
            deadline = time.monotonic() + 60
            expiring = []
            while time.monotonic() < deadline and not expiring:
                alerts = app.request("GET", "/api/v1/alerts?limit=1000", token=token).json()
                expiring = [a for a in alerts["items"] if a["kind"] == "certificate.expiring"]
                if not expiring:
                    time.sleep(0.5)
            self.assertEqual(len(expiring), 1, expiring)
            self.assertIn("soon.example.com", expiring[0]["message"])
            audit = app.request("GET", "/api/v1/audit?action=alert.raised", token=token)
            self.assertEqual(audit.status, 200, audit)
            actors = {e.get("actor") for e in audit.json()["items"]}
            self.assertIn("signetd:scheduler", actors)
        finally:
            app.close()


if __name__ == "__main__":
    unittest.main()
