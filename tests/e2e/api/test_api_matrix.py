"""The authorization matrix over real HTTPS: every route of the OpenAPI document (paths x
methods) asked by every kind of principal gets exactly the intended answer.

  allowed                         -> neither 401 nor the role check's 403 ("forbidden")
  anonymous, unknown token,
  expired session (non-public)    -> 401 "unauthenticated"
  authenticated, role not allowed -> 403 "forbidden"

Path parameters are 'nonexistent' and bodies '{}', so that allowed requests fail harmlessly in
validation (400/404/422). The permission of every route is also written down here (EXPECTED):
a new route or a changed permission fails this test until the matrix is updated on purpose."""
import http.client
import json
import re
import ssl
import time
import unittest

from signetd_fixture import ADMIN_PASSWORD, Appliance, make_csr

# Every route and the permission it needs. Roles: administrator has all; ra-officer has read
# and operate; auditor has read and audit (appliance/api/principal.h).
EXPECTED = {
    ("GET", "/api/openapi.json"): "public",
    ("GET", "/healthz"): "public",
    ("GET", "/metrics"): "read",
    ("POST", "/api/v1/session"): "public",
    ("GET", "/api/v1/session"): "read",
    ("DELETE", "/api/v1/session"): "read",
    ("POST", "/api/v1/session/password"): "read",
    ("GET", "/api/v1/session/certificate"): "read",
    ("GET", "/api/v1/session/methods"): "public",
    ("GET", "/api/v1/alerts"): "read",
    ("POST", "/api/v1/alerts/scan"): "operate",
    ("POST", "/api/v1/alerts/{id}/acknowledge"): "operate",
    ("GET", "/api/v1/api-tokens"): "administer",
    ("POST", "/api/v1/api-tokens"): "administer",
    ("DELETE", "/api/v1/api-tokens/{id}"): "administer",
    ("GET", "/api/v1/audit"): "audit",
    ("GET", "/api/v1/audit/checkpoints"): "audit",
    ("POST", "/api/v1/audit/checkpoints"): "audit",
    ("GET", "/api/v1/audit/pubkey"): "audit",
    ("GET", "/api/v1/audit/export"): "audit",
    ("GET", "/api/v1/audit/verify"): "audit",
    ("POST", "/api/v1/audit/key-rotations"): "administer",
    ("GET", "/api/v1/cas"): "read",
    ("POST", "/api/v1/cas"): "administer",
    ("GET", "/api/v1/cas/{ca}"): "read",
    ("GET", "/api/v1/cas/{ca}/certificate"): "read",
    ("POST", "/api/v1/cas/{ca}/certificate"): "administer",
    ("GET", "/api/v1/cas/{ca}/crls"): "read",
    ("POST", "/api/v1/cas/{ca}/crls"): "operate",
    ("GET", "/api/v1/cas/{ca}/crls/latest"): "read",
    ("GET", "/api/v1/cas/{ca}/crls/{number}"): "read",
    ("GET", "/api/v1/cas/{ca}/csr"): "read",
    ("GET", "/api/v1/cas/{ca}/ocsp-signer"): "read",
    ("POST", "/api/v1/cas/{ca}/ocsp-signer"): "administer",
    ("POST", "/api/v1/cas/{ca}/renew"): "administer",
    ("POST", "/api/v1/cas/{ca}/revoke"): "administer",
    ("PATCH", "/api/v1/cas/{ca}/settings"): "administer",
    ("GET", "/api/v1/certificates"): "read",
    ("POST", "/api/v1/certificates"): "operate",
    ("POST", "/api/v1/certificates/import"): "operate",
    ("GET", "/api/v1/certificates/{id}"): "read",
    ("GET", "/api/v1/certificates/{id}/chain"): "read",
    ("GET", "/api/v1/certificates/{id}/der"): "read",
    ("GET", "/api/v1/certificates/{id}/pem"): "read",
    ("POST", "/api/v1/certificates/{id}/pfx"): "operate",
    ("POST", "/api/v1/certificates/{id}/reissue"): "operate",
    ("POST", "/api/v1/certificates/{id}/rekey"): "operate",
    ("POST", "/api/v1/certificates/{id}/renew"): "operate",
    ("POST", "/api/v1/certificates/{id}/revoke"): "operate",
    ("POST", "/api/v1/crls/refresh"): "operate",
    ("POST", "/api/v1/config/reload"): "administer",
    ("POST", "/api/v1/config/import"): "administer",
    ("GET", "/api/v1/operators"): "administer",
    ("POST", "/api/v1/operators"): "administer",
    ("GET", "/api/v1/operators/{name}"): "administer",
    ("PATCH", "/api/v1/operators/{name}"): "administer",
    ("DELETE", "/api/v1/operators/{name}"): "administer",
    ("POST", "/api/v1/operators/{name}/certificate"): "administer",
    ("DELETE", "/api/v1/operators/{name}/certificate"): "administer",
    ("GET", "/api/v1/orders"): "read",
    ("GET", "/api/v1/orders/{id}"): "read",
    ("POST", "/api/v1/orders/{id}/resubmit"): "operate",
    ("GET", "/api/v1/profiles"): "read",
    ("POST", "/api/v1/profiles"): "administer",
    ("GET", "/api/v1/profiles/{ca}/{name}"): "read",
    ("PUT", "/api/v1/profiles/{ca}/{name}"): "administer",
    ("PATCH", "/api/v1/profiles/{ca}/{name}"): "administer",
    ("POST", "/api/v1/profiles/{ca}/{name}/disable"): "administer",
    ("POST", "/api/v1/profiles/{ca}/{name}/enable"): "administer",
    ("GET", "/api/v1/tokens"): "read",
    ("GET", "/api/v1/tokens/{token}/keys"): "operate",
    ("POST", "/api/v1/tokens/{token}/login"): "administer",
    ("GET", "/api/v1/cards/readers"): "read",
    ("GET", "/api/v1/cards/certificates"): "read",
    ("GET", "/api/v1/cards/algorithms"): "operate",
    ("POST", "/api/v1/cards/pin/verify"): "operate",
    ("POST", "/api/v1/cards/pin/change"): "operate",
    ("POST", "/api/v1/cards/pin/unblock"): "operate",
    ("POST", "/api/v1/cards/enrollments"): "operate",
    ("POST", "/api/v1/cards/renewals"): "operate",
    ("POST", "/api/v1/cards/rekeys"): "operate",
    ("POST", "/api/v1/cards/resubmissions"): "operate",
    ("GET", "/api/v1/cards/jobs"): "operate",
    ("GET", "/api/v1/cards/jobs/{id}"): "operate",
    ("DELETE", "/api/v1/cards/jobs/{id}"): "operate",
}

ROLE_ALLOWS = {
    "administrator": {"public", "read", "audit", "operate", "administer"},
    "ra-officer": {"public", "read", "operate"},
    "auditor": {"public", "read", "audit"},
}

# A route whose handler refuses some principals after the role check let them through: an API
# token cannot change a password (there is none behind it) nor fetch an operator's client
# certificate. Not the role check's "forbidden".
HANDLER_REFUSES_TOKENS = {("POST", "/api/v1/session/password"): "permission_denied",
                          ("GET", "/api/v1/session/certificate"): "permission_denied"}

SESSION_IDLE_SECONDS = 2
# A well-formed token (sgt_<16 hex id>_<64 hex secret>) that signetd never issued.
UNKNOWN_TOKEN = "sgt_" + "0123456789abcdef" + "_" + "ab" * 32


class Client:
    """One kept-alive HTTPS connection with fixed credentials (reconnects when closed)."""

    def __init__(self, app, headers):
        self.app = app
        self.headers = headers
        self.conn = None

    def request(self, method, path, body=None):
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPSConnection("127.0.0.1", self.app.https_port,
                                                        context=self.app.tls, timeout=120)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                r = self.conn.getresponse()
                payload = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.close()
                return r.status, payload
            except (http.client.RemoteDisconnected, ConnectionError, ssl.SSLError,
                    http.client.CannotSendRequest, http.client.BadStatusLine):
                self.close()
                if attempt == 1:
                    raise

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def error_code(payload):
    try:
        return json.loads(payload)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


class MatrixTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance(config={"sessions": {"idle_seconds": SESSION_IDLE_SECONDS}}).start()
        app = cls.app
        # Each token is made under a fresh login: the short idle time must not bite here.
        cls.tokens = {role: app.make_token(role, session=app.login(), name="matrix " + role)
                      for role in ("administrator", "ra-officer", "auditor")}
        admin = {"token": cls.tokens["administrator"]}
        for profile in ("scoped", "other"):
            r = app.request("POST", "/api/v1/profiles", {"name": profile, "ca": "issuing"},
                            **admin)
            if r.status != 201:
                raise AssertionError("profile %s: %r" % (profile, r))
        cls.scoped_token = app.make_token("ra-officer", profiles=["issuing/scoped"],
                                          session=app.login(), name="matrix scoped")
        spec = app.request("GET", "/api/openapi.json")
        if spec.status != 200:
            raise AssertionError("no OpenAPI document: %r" % spec)
        cls.spec = spec.json()

    @classmethod
    def tearDownClass(cls):
        cls.app.close()

    def documented(self):
        routes = {}
        for pattern, operations in self.spec["paths"].items():
            for method, operation in operations.items():
                routes[(method.upper(), pattern)] = operation
        return routes

    def test_the_document_lists_exactly_the_expected_routes_and_permissions(self):
        self.assertTrue(self.spec["openapi"].startswith("3.0."))
        routes = self.documented()
        self.assertEqual(set(routes) - set(EXPECTED), set(),
                         "routes not in this test's matrix: add them with their permission")
        self.assertEqual(set(EXPECTED) - set(routes), set(), "expected routes missing")
        for key, operation in routes.items():
            with self.subTest(route=key):
                self.assertEqual(operation["x-signet-permission"], EXPECTED[key])
                # Public operations say so in OpenAPI terms too (no security requirement).
                if EXPECTED[key] == "public":
                    self.assertEqual(operation.get("security"), [])
                else:
                    self.assertNotIn("security", operation)

    def principals(self):
        """(name, role or None, Client); role None: must be refused as unauthenticated."""
        app = self.app
        expired = app.login()
        cookie = {"Cookie": "signet_session=" + expired.cookie, "X-CSRF-Token": expired.csrf}
        probe = Client(app, cookie)
        self.assertEqual(probe.request("GET", "/api/v1/session")[0], 200)
        probe.close()
        time.sleep(SESSION_IDLE_SECONDS + 1.5)
        status, payload = probe.request("GET", "/api/v1/session")
        probe.close()
        self.assertEqual(status, 401, payload)

        def bearer(token):
            return {"Authorization": "Bearer " + token}
        return [
            ("anonymous", None, Client(app, {})),
            ("administrator token", "administrator",
             Client(app, bearer(self.tokens["administrator"]))),
            ("ra-officer token", "ra-officer", Client(app, bearer(self.tokens["ra-officer"]))),
            ("auditor token", "auditor", Client(app, bearer(self.tokens["auditor"]))),
            ("ra-officer token scoped to another profile", "ra-officer",
             Client(app, bearer(self.scoped_token))),
            ("unknown token", None, Client(app, bearer(UNKNOWN_TOKEN))),
            ("expired session", None, Client(app, cookie)),
        ]

    def test_every_route_answers_every_principal_as_intended(self):
        routes = sorted(self.documented())
        checked = 0
        for name, role, client in self.principals():
            for method, pattern in routes:
                permission = EXPECTED.get((method, pattern))
                if permission is None:
                    continue  # reported by the document test
                path = re.sub(r"\{[^}]+\}", "nonexistent", pattern)
                body = {} if method in ("POST", "PUT", "PATCH") else None
                status, payload = client.request(method, path, body)
                code = error_code(payload)
                detail = "%s: %s %s -> %d %r" % (name, method, pattern, status, payload[:200])
                checked += 1
                with self.subTest(principal=name, route=method + " " + pattern):
                    # Whatever the answer, it is a route's answer, not the router's "no route".
                    self.assertNotEqual(code, "method_not_allowed", detail)
                    if status == 404:
                        self.assertNotIn(b"no such route", payload, detail)
                    if permission == "public":
                        self.assertNotIn(status, (401, 403), detail)
                    elif role is None:
                        self.assertEqual(status, 401, detail)
                        self.assertEqual(code, "unauthenticated", detail)
                    elif permission in ROLE_ALLOWS[role]:
                        refused_by_handler = HANDLER_REFUSES_TOKENS.get((method, pattern))
                        if refused_by_handler and status == 403:
                            self.assertEqual(code, refused_by_handler, detail)
                        else:
                            self.assertNotIn(status, (401, 403), detail)
                        self.assertLess(status, 500, detail)
                    else:
                        self.assertEqual(status, 403, detail)
                        self.assertEqual(code, "forbidden", detail)
                        message = json.loads(payload)["error"]["message"]
                        self.assertIn(role, message)
                        self.assertIn(pattern, message)
            client.close()
        self.assertEqual(checked, 7 * len(EXPECTED))
        # The credentials of this test survived its own probes (DELETE /api/v1/session...).
        for token in self.tokens.values():
            r = self.app.request("GET", "/api/v1/session", token=token)
            self.assertEqual(r.status, 200, r)

    def test_a_stale_session_cookie_does_not_stand_in_the_way_of_logging_in(self):
        # A browser keeps sending an expired (HttpOnly) session cookie: logging in must work.
        stale = self.app.login()
        time.sleep(SESSION_IDLE_SECONDS + 1.5)
        self.assertEqual(self.app.request("GET", "/api/v1/session", session=stale).status, 401)
        r = self.app.request("POST", "/api/v1/session",
                             {"name": "admin", "password": ADMIN_PASSWORD},
                             headers={"Cookie": "signet_session=" + stale.cookie})
        self.assertEqual(r.status, 201, r)
        self.assertIn("signet_session=", r.header("Set-Cookie"))

    def test_a_scoped_token_issues_only_through_its_profiles(self):
        app = self.app
        scoped = {"token": self.scoped_token}
        work = app.dir
        csr = make_csr(work, "scoped.example.com", sans=["DNS:scoped.example.com"])
        mine = app.request("POST", "/api/v1/certificates",
                           {"profile": "issuing/scoped", "key_source": {"kind": "csr", "csr": csr}},
                           **scoped)
        self.assertEqual(mine.status, 201, mine)
        self.assertEqual(mine.json()["profile"], "issuing/scoped")
        for body, named in (({"profile": "issuing/other"}, "issuing/other"),
                            ({"profile": "other", "ca": "issuing"}, "issuing/other"),
                            ({"ca": "issuing"}, "issuing/default")):
            with self.subTest(request=body):
                request = dict(body, key_source={"kind": "csr", "csr": csr})
                r = app.request("POST", "/api/v1/certificates", request, **scoped)
                self.assertEqual(r.status, 403, r)
                self.assertEqual(r.json()["error"]["code"], "forbidden")
                self.assertIn(named, r.json()["error"]["message"])
        # Its own certificates it may renew; another profile's it may not touch.
        renewed = app.request("POST", "/api/v1/certificates/%s/renew" % mine.json()["serial"],
                              {}, **scoped)
        self.assertEqual(renewed.status, 201, renewed)
        admin = {"token": self.tokens["administrator"]}
        theirs = app.request("POST", "/api/v1/certificates",
                             {"profile": "issuing/other", "key_source": {"kind": "csr",
                                                                          "csr": csr}}, **admin)
        self.assertEqual(theirs.status, 201, theirs)
        for action, body in (("revoke", {"reason": "superseded"}), ("renew", {})):
            with self.subTest(action=action):
                r = app.request("POST", "/api/v1/certificates/%s/%s" %
                                (theirs.json()["serial"], action), body, **scoped)
                self.assertEqual(r.status, 403, r)
                self.assertEqual(r.json()["error"]["code"], "forbidden")
                self.assertIn("issuing/other", r.json()["error"]["message"])
        # Reading is not scoped.
        r = app.request("GET", "/api/v1/certificates/" + theirs.json()["serial"], **scoped)
        self.assertEqual(r.status, 200, r)
        # An unscoped RA officer may use any profile.
        r = app.request("POST", "/api/v1/certificates/%s/renew" % theirs.json()["serial"], {},
                        token=self.tokens["ra-officer"])
        self.assertEqual(r.status, 201, r)


if __name__ == "__main__":
    unittest.main()
