"""signetd's transport, seen from real clients: the TLS versions it speaks and refuses, its
certificate chain, request limits and timeouts, keep-alive; the TLS key really signing on the
token (counted by the PKCS#11 spy between signetd and SoftHSM); and a SIGTERM in the middle of
a burst of issuances that loses no acknowledged certificate."""
import http.client
import json
import os
import re
import signal
import subprocess
import threading
import time
import unittest

from signetd_fixture import Appliance, make_csr, read_until_closed, wait_closed

PKCS11_SPY = "/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so"
SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so"
# Liveness bounds only (the sanitizer builds are several times slower).
CUT_OFF_TIMEOUT = 60


def s_client(port, ca_file, *args, input=b""):
    """openssl s_client against 127.0.0.1:port; returns (returncode, combined output)."""
    result = subprocess.run(
        ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-CAfile", ca_file, *args],
        input=input, capture_output=True, timeout=120)
    return result.returncode, (result.stdout + result.stderr).decode(errors="replace")


class TransportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance(config={"limits": {"max_body_bytes": 4096,
                                               "header_timeout_ms": 1000,
                                               "body_timeout_ms": 1000}}).start()
        cls.token = cls.app.make_token("administrator")

    @classmethod
    def tearDownClass(cls):
        cls.app.close()

    def still_serving(self):
        r = self.app.request("GET", "/healthz")
        self.assertEqual(r.status, 200, r)

    # ---- TLS ----
    def test_tls_1_2_and_1_3_handshakes_verify_and_serve(self):
        request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        for version, name in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
            with self.subTest(version=name):
                code, out = s_client(self.app.https_port, self.app.ca_file, version,
                                     "-verify_return_error", "-verify_ip", "127.0.0.1",
                                     "-ign_eof", input=request)
                self.assertEqual(code, 0, out)
                self.assertIn("Verify return code: 0 (ok)", out)
                self.assertRegex(out, r"Protocol *: " + re.escape(name))
                self.assertIn("HTTP/1.1 200", out)

    def test_tls_1_1_and_1_0_are_refused_by_the_server(self):
        # Positive control: the same client settings with TLS 1.2 get through.
        code, out = s_client(self.app.https_port, self.app.ca_file, "-tls1_2", "-cipher",
                             "DEFAULT@SECLEVEL=0", "-verify_return_error")
        self.assertEqual(code, 0, out)
        self.assertIn("Verify return code: 0 (ok)", out)
        for version in ("-tls1_1", "-tls1"):
            with self.subTest(version=version):
                code, out = s_client(self.app.https_port, self.app.ca_file, version, "-cipher",
                                     "DEFAULT@SECLEVEL=0")
                self.assertNotEqual(code, 0, out)
                # The server's protocol_version alert (70), not a client-side refusal.
                self.assertIn("alert protocol version", out)
                self.assertIn("Cipher is (NONE)", out)
        self.still_serving()

    def test_certificate_chain_verifies_to_the_appliance_ca_and_names_127_0_0_1(self):
        code, out = s_client(self.app.https_port, self.app.ca_file, "-showcerts",
                             "-verify_return_error")
        self.assertEqual(code, 0, out)
        certs = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n", out,
                           re.S)
        self.assertGreaterEqual(len(certs), 1, out)
        work = self.app.dir
        leaf = os.path.join(work, "tls-leaf.pem")
        rest = os.path.join(work, "tls-intermediates.pem")
        with open(leaf, "w") as f:
            f.write(certs[0])
        with open(rest, "w") as f:
            f.write("".join(certs[1:]))
        args = ["openssl", "verify", "-CAfile", self.app.ca_file, "-purpose", "sslserver",
                "-verify_ip", "127.0.0.1"]
        if len(certs) > 1:
            args += ["-untrusted", rest]
        result = subprocess.run(args + [leaf], capture_output=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        sans = subprocess.run(["openssl", "x509", "-in", leaf, "-noout", "-ext",
                               "subjectAltName"], capture_output=True, timeout=60).stdout.decode()
        self.assertIn("IP Address:127.0.0.1", sans)
        # The name is checked: asked as another IP, verification fails.
        result = subprocess.run(["openssl", "verify", "-CAfile", self.app.ca_file,
                                 "-verify_ip", "192.0.2.1"] +
                                (["-untrusted", rest] if len(certs) > 1 else []) + [leaf],
                                capture_output=True, timeout=60)
        self.assertNotEqual(result.returncode, 0)

    # ---- limits and timeouts ----
    def test_a_body_over_the_limit_gets_413(self):
        big = {"ca": "issuing", "subject": "CN=x", "padding": "x" * 5000}
        r = self.app.request("POST", "/api/v1/certificates", big, token=self.token)
        self.assertEqual(r.status, 413, r)
        self.assertEqual(r.json()["error"]["code"], "payload_too_large")
        # Just under the limit: an ordinary answer from the route (an unknown field).
        small = {"ca": "issuing", "padding": "x" * 3500}
        r = self.app.request("POST", "/api/v1/certificates", small, token=self.token)
        self.assertEqual(r.status, 400, r)
        self.assertIn("padding", r.json()["error"]["message"])
        self.still_serving()

    def test_a_request_whose_header_stalls_is_cut_off(self):
        sock = self.app.tls_socket()
        try:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            self.assertTrue(wait_closed(sock, CUT_OFF_TIMEOUT),
                            "a stalled header kept its connection")
        finally:
            sock.close()
        sock = self.app.tls_socket()
        try:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            closed, data = read_until_closed(sock, CUT_OFF_TIMEOUT)
            self.assertTrue(closed)
            self.assertTrue(data.startswith(b"HTTP/1.1 408"), data)
        finally:
            sock.close()
        self.still_serving()

    def test_a_request_whose_body_stalls_is_cut_off(self):
        sock = self.app.tls_socket()
        try:
            sock.sendall(b"POST /api/v1/certificates HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Authorization: Bearer " + self.token.encode() + b"\r\n"
                         b"Content-Type: application/json\r\nContent-Length: 200\r\n\r\n"
                         b'{"ca": "issuing", ')
            closed, data = read_until_closed(sock, CUT_OFF_TIMEOUT)
            self.assertTrue(closed, "a stalled body kept its connection")
            self.assertTrue(data.startswith(b"HTTP/1.1 408"), data)
        finally:
            sock.close()
        self.still_serving()

    def test_keep_alive_serves_several_requests_on_one_connection(self):
        conn = http.client.HTTPSConnection("127.0.0.1", self.app.https_port,
                                           context=self.app.tls, timeout=60)
        try:
            headers = {"Authorization": "Bearer " + self.token}
            conn.request("GET", "/healthz")
            first = conn.getresponse()
            self.assertEqual(first.status, 200)
            first.read()
            sock = conn.sock
            self.assertIsNotNone(sock)
            for path in ("/api/v1/cas", "/api/v1/session"):
                conn.request("GET", path, headers=headers)
                r = conn.getresponse()
                self.assertEqual(r.status, 200)
                r.read()
                self.assertIs(conn.sock, sock, "the connection was not kept alive")
        finally:
            conn.close()


class TokenSigningTest(unittest.TestCase):
    """The TLS handshake is signed by the key on the token: pkcs11-spy sits between signetd
    and SoftHSM and logs every PKCS#11 call."""

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(PKCS11_SPY):
            raise unittest.SkipTest("pkcs11-spy (opensc) is not installed")
        cls.app = Appliance(config={"ca": {"scheduler_interval_seconds": 3600}})
        cls.spy_log = os.path.join(cls.app.dir, "pkcs11-spy.log")
        conf = os.path.join(cls.app.state, "softhsm", "softhsm2.conf")
        if not os.path.exists(conf):
            raise AssertionError("no SoftHSM configuration at " + conf)
        cls.app.env.update({"SIGNET_PKCS11_MODULE": PKCS11_SPY, "PKCS11SPY": SOFTHSM,
                            "PKCS11SPY_OUTPUT": cls.spy_log, "SOFTHSM2_CONF": conf})
        cls.app.start()

    @classmethod
    def tearDownClass(cls):
        cls.app.close()

    def sign_calls(self):
        with open(self.spy_log, errors="replace") as f:
            return len(re.findall(r"\bC_Sign\s*$", f.read(), re.M))

    def wait_for_more_sign_calls(self, than, at_least):
        deadline = time.monotonic() + 30
        count = self.sign_calls()
        while count < than + at_least and time.monotonic() < deadline:
            time.sleep(0.1)
            count = self.sign_calls()
        return count

    def settled_sign_calls(self):
        """The count once no C_Sign came for a second (startup's CRL run signs too)."""
        deadline = time.monotonic() + 60
        count = self.sign_calls()
        while time.monotonic() < deadline:
            time.sleep(1.0)
            now = self.sign_calls()
            if now == count:
                return count
            count = now
        self.fail("the token kept signing without requests")

    def test_every_fresh_handshake_signs_on_the_token(self):
        # Requests through the spy work end to end.
        r = self.app.request("GET", "/healthz")
        self.assertEqual(r.status, 200, r)
        for version in ("-tls1_3", "-tls1_2"):
            with self.subTest(version=version):
                before = self.settled_sign_calls()
                handshakes = 3
                for _ in range(handshakes):
                    # A new s_client process: a full handshake, no session resumption.
                    code, out = s_client(self.app.https_port, self.app.ca_file, version,
                                         "-verify_return_error")
                    self.assertEqual(code, 0, out)
                    self.assertIn("Verify return code: 0 (ok)", out)
                after = self.wait_for_more_sign_calls(before, handshakes)
                self.assertGreaterEqual(after - before, handshakes,
                                        "C_Sign calls did not follow the handshakes")


class ShutdownTest(unittest.TestCase):
    """SIGTERM in the middle of a burst of issuances: every certificate whose 201 reached its
    client is in the store afterwards, and the audit chain verifies."""

    THREADS = 6
    SIGNAL_AFTER = 10  # acknowledged issuances before SIGTERM

    def setUp(self):
        self.app = Appliance()
        self.app.start()
        self.token = self.app.make_token("ra-officer")

    def tearDown(self):
        self.app.close()

    def test_sigterm_during_a_burst_of_issuances_loses_nothing_acknowledged(self):
        app = self.app
        csrs = [make_csr(app.dir, "burst%d.example.com" % i) for i in range(self.THREADS)]
        acknowledged, refused, lock = [], [], threading.Lock()
        stop_at = time.monotonic() + 300

        def issue(csr):
            body = {"ca": "issuing", "key_source": {"kind": "csr", "csr": csr}}
            while time.monotonic() < stop_at:
                try:
                    r = app.request("POST", "/api/v1/certificates", body, token=self.token)
                except (OSError, http.client.HTTPException):
                    return  # the daemon has gone: nothing more to acknowledge
                with lock:
                    if r.status == 201:
                        j = r.json()
                        acknowledged.append((j["serial"], j["fingerprint_sha256"]))
                    else:
                        refused.append(r.status)

        threads = [threading.Thread(target=issue, args=(csr,), daemon=True) for csr in csrs]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            with lock:
                if len(acknowledged) >= self.SIGNAL_AFTER:
                    break
            time.sleep(0.02)
        with lock:
            self.assertGreaterEqual(len(acknowledged), self.SIGNAL_AFTER,
                                    "the burst did not get going: %r" % refused)
        app.process.send_signal(signal.SIGTERM)
        try:
            code = app.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.fail("signetd did not exit within 120 s of SIGTERM")
        for t in threads:
            t.join(timeout=120)
            self.assertFalse(t.is_alive(), "a client thread hung after signetd exited")
        self.assertEqual(code, 0, app.read_log())
        self.assertIn("stopping on SIGTERM", app.read_log())
        # Answers other than 201 are refusals during shutdown, never server errors.
        self.assertTrue(all(status < 500 or status == 503 for status in refused), refused)
        app.stop()

        # The daemon is gone: the CLI works on the state directly.
        listed = app.cli("--json", "cert", "list", "--limit", "1000")
        stored = json.loads(listed.stdout)
        items = stored["items"] if isinstance(stored, dict) else stored
        stored_fingerprints = {c["fingerprint_sha256"] for c in items}
        for serial, fingerprint in acknowledged:
            self.assertIn(fingerprint, stored_fingerprints)
            shown = json.loads(app.cli("--json", "cert", "show",
                                       fingerprint.replace(":", "").lower()).stdout)
            self.assertEqual(shown["serial"], serial)
            self.assertEqual(shown["fingerprint_sha256"], fingerprint)
        verified = app.cli("audit", "verify")
        self.assertEqual(verified.returncode, 0, verified.stderr)


if __name__ == "__main__":
    unittest.main()
