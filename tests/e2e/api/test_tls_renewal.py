"""TLS certificate renewal while serving (issue 6; docs/OPERATIONS.md, "TLS certificate"):
signetd runs with [tls] certificate_lifetime_seconds = 300 and renew_before_seconds = 295, so a
certificate is due 5 s after it was made and the renewal schedule (a check every 2 s here) has
the appliance CA rekey it without a restart. Clients keep issuing requests over one kept-alive connection and over new
connections the whole time; every request must succeed, the serial new connections see must
change, the established connection must keep working with its old certificate, and the new
certificate must verify against the appliance CA with openssl. The renewals are audited and
the replaced keys leave the token."""
import http.client
import json
import os
import subprocess
import threading
import time
import unittest

from signetd_fixture import Appliance
from test_hardening import added_seccomp_filters, sanitized_build

RENEWAL_TIMEOUT = 180  # liveness bound only
# Certificates due for renewal 5 s after they were made, checked every 2 s.
SHORT_LIVED = {"certificate_lifetime_seconds": 300, "renew_before_seconds": 295,
               "renew_check_interval_seconds": 2}


def serial_of(der):
    out = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-serial"], input=der,
                         capture_output=True, check=True, timeout=60).stdout.decode()
    return out.strip().split("=", 1)[1].upper()


class Traffic:
    """Requests in a loop from two threads: one over a single kept-alive connection, one over
    a new connection each time (recording the served certificate's serial)."""

    def __init__(self, app):
        self.app = app
        self.errors = []
        self.requests = 0
        self.new_connection_serials = []
        self.kept_alive_serial = None
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.keep_alive),
                        threading.Thread(target=self.new_connections)]

    def start(self):
        # The kept-alive connection's handshake comes first: every new connection is later.
        self.conn = http.client.HTTPSConnection("127.0.0.1", self.app.https_port,
                                                context=self.app.tls, timeout=60)
        self.conn.connect()
        self.kept_alive_serial = serial_of(self.conn.sock.getpeercert(True))
        for t in self.threads:
            t.start()
        return self

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=120)

    def record(self, ok, what):
        with self.lock:
            self.requests += 1
            if not ok:
                self.errors.append(what)

    def keep_alive(self):
        conn = self.conn
        try:
            while not self.stop.is_set():
                try:
                    conn.request("GET", "/healthz")
                    r = conn.getresponse()
                    r.read()
                    if serial_of(conn.sock.getpeercert(True)) != self.kept_alive_serial:
                        self.record(False, "the kept-alive connection's certificate changed")
                    self.record(r.status == 200 and r.getheader("Connection") != "close",
                                "kept-alive GET /healthz: %d" % r.status)
                except Exception as e:  # every failure is a test failure
                    self.record(False, "kept-alive: %r" % e)
                    return
                time.sleep(0.05)
        finally:
            conn.close()

    def new_connections(self):
        while not self.stop.is_set():
            try:
                with self.app.tls_socket() as sock:
                    serial = serial_of(sock.getpeercert(True))
                    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                 b"Connection: close\r\n\r\n")
                    data = b""
                    while True:
                        chunk = sock.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                ok = data.startswith(b"HTTP/1.1 200")
                self.record(ok, "new connection GET /healthz: %r" % data[:200])
                with self.lock:
                    if not self.new_connection_serials or \
                            self.new_connection_serials[-1][0] != serial:
                        self.new_connection_serials.append((serial, time.monotonic()))
            except Exception as e:
                self.record(False, "new connection: %r" % e)
            time.sleep(0.05)

    def distinct_serials(self):
        with self.lock:
            return len({s for s, _ in self.new_connection_serials})


class TlsRenewalWhileServing(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance(config={"tls": SHORT_LIVED}, create_cas=False)
        cls.app.start()

    @classmethod
    def tearDownClass(cls):
        cls.app.close()

    def audit(self, action):
        r = self.app.request("GET", "/api/v1/audit?action=%s&limit=1000" % action,
                             session=self.app.admin_session())
        self.assertEqual(r.status, 200, r)
        return [e for e in r.json()["items"] if e["action"] == action]

    def test_tls_certificate_renewal_while_serving(self):
        traffic = Traffic(self.app).start()
        try:
            deadline = time.monotonic() + RENEWAL_TIMEOUT
            while traffic.distinct_serials() < 3 and time.monotonic() < deadline:
                if traffic.errors:
                    break
                time.sleep(0.2)
        finally:
            traffic.finish()
        self.assertEqual(traffic.errors, [])
        self.assertGreaterEqual(traffic.distinct_serials(), 3,
                                "new connections never saw a renewed certificate: " +
                                self.app.read_log())
        self.assertGreater(traffic.requests, 10)
        # The kept-alive connection kept its certificate through the renewals (checked on every
        # request above), which is no longer the one new connections get.
        self.assertNotEqual(traffic.kept_alive_serial, traffic.new_connection_serials[-1][0])

        # The certificate served now verifies against the appliance CA (openssl's verifier).
        with self.app.tls_socket() as sock:
            der = sock.getpeercert(True)
        pem_path = os.path.join(self.app.dir, "served.pem")
        subprocess.run(["openssl", "x509", "-inform", "DER", "-out", pem_path], input=der,
                       check=True, capture_output=True, timeout=60)
        verified = subprocess.run(["openssl", "verify", "-purpose", "sslserver", "-CAfile",
                                   self.app.ca_file, pem_path], capture_output=True, timeout=60)
        self.assertEqual(verified.returncode, 0, verified.stdout + verified.stderr)

        # Each renewal is audited, naming the certificate it replaced.
        renewals = self.audit("tls.certificate_renewed")
        self.assertGreaterEqual(len(renewals), 2)
        served = {s for s, _ in traffic.new_connection_serials}
        self.assertTrue(any(e["object"].endswith("/" + s) for e in renewals for s in served))
        # /healthz finds the current key on the token (not the one signetd started with).
        self.assertEqual(self.app.request("GET", "/healthz").status, 200)
        # Key generation, issuance and key destruction ran under the seccomp filter (builds
        # without sanitizers), and signetd is alive.
        if sanitized_build(self.app):
            self.assertEqual(added_seccomp_filters(self.app.info["pid"]), 0)
        else:
            self.assertEqual(added_seccomp_filters(self.app.info["pid"]), 1)
        self.assertIsNone(self.app.process.poll())

    def test_replaced_keys_leave_the_token(self):
        deadline = time.monotonic() + RENEWAL_TIMEOUT
        destroyed = []
        while not destroyed and time.monotonic() < deadline:
            destroyed = self.audit("tls.key_destroyed")
            time.sleep(0.5)
        self.assertTrue(destroyed, "no replaced TLS key was destroyed: " + self.app.read_log())
        gone = destroyed[0]["object"][len("key:"):]
        # The key of the latest renewal stays on the token at least 15 s after the next renewal:
        # read it before the list, as a check that the list spells URIs as the audit does.
        latest = self.audit("tls.certificate_renewed")[-1]["detail"]
        latest = json.loads(latest) if isinstance(latest, str) else latest
        r = self.app.request("GET", "/api/v1/tokens/signet/keys",
                             session=self.app.admin_session())
        self.assertEqual(r.status, 200, r)
        on_token = [k["uri"] for k in r.json()["items"]]
        self.assertNotIn(gone, on_token)
        self.assertIn(latest["key"], on_token)


class TlsRenewalFailure(unittest.TestCase):
    """The token refuses key generation (the fault-injecting PKCS#11 module around SoftHSM,
    tests/support/fault_pkcs11): renewal fails, is logged and alerted, the old certificate keeps
    serving and requests keep succeeding; once the token works again the next check renews."""

    def setUp(self):
        fault_module = os.environ.get("SIGNET_FAULT_PKCS11", "")
        if not os.path.exists(fault_module):
            self.skipTest("SIGNET_FAULT_PKCS11 does not name the fault-injecting module")
        self.app = Appliance(config={"tls": SHORT_LIVED}, create_cas=False)
        self.control = os.path.join(self.app.dir, "faults")
        self.app.env.update({
            "SIGNET_PKCS11_MODULE": fault_module,
            "SIGNET_FAULT_REAL_MODULE": "/usr/lib/softhsm/libsofthsm2.so",
            "SIGNET_FAULT_CONTROL": self.control,
            "SOFTHSM2_CONF": os.path.join(self.app.state, "softhsm", "softhsm2.conf")})
        self.app.start()

    def tearDown(self):
        self.app.close()

    def set_faults(self, text):
        with open(self.control + ".tmp", "w") as f:
            f.write(text)
        os.rename(self.control + ".tmp", self.control)

    def served_serial(self):
        with self.app.tls_socket() as sock:
            return serial_of(sock.getpeercert(True))

    def full_log(self):
        with open(self.app.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def wait_for_log(self, text, count=1):
        deadline = time.monotonic() + RENEWAL_TIMEOUT
        while self.full_log().count(text) < count and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertGreaterEqual(self.full_log().count(text), count, self.app.read_log())

    def test_a_failed_renewal_keeps_the_old_certificate_and_raises_an_alert(self):
        self.set_faults("fail C_GenerateKeyPair CKR_DEVICE_ERROR\n")
        failure = "renewing signetd's TLS certificate failed"
        self.wait_for_log(failure)
        before = self.served_serial()  # no renewal can succeed from here on
        self.wait_for_log(failure, count=3)
        self.assertEqual(self.served_serial(), before)
        self.assertEqual(self.app.request("GET", "/healthz").status, 200)
        r = self.app.request("GET", "/api/v1/alerts", session=self.app.admin_session())
        self.assertEqual(r.status, 200, r)
        self.assertIn("tls.renewal_failed", [a["kind"] for a in r.json()["items"]])

        self.set_faults("")
        deadline = time.monotonic() + RENEWAL_TIMEOUT
        while self.served_serial() == before and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertNotEqual(self.served_serial(), before)


if __name__ == "__main__":
    unittest.main()
