"""Audit forwarding ([audit] forward; docs/CONFIGURATION.md, docs/OPERATIONS.md "Audit
forwarding"): signetd sends every audit event to syslog as RFC 5424 with structured data and to
journald in its native protocol. Python receivers stand in for the daemons: datagram sockets in
a temporary directory and on UDP 127.0.0.1. Every message must match a strict RFC 5424 grammar,
its SD-PARAMs must carry the event (escaping '"', '\\' and ']'), and the messages must arrive in
sequence order with the hashes the audit API shows. With the receiver gone signetd keeps
serving, counts the drops (/metrics, /healthz, `signet doctor`) and reconnects once the receiver
is back; that reconnect (a new socket and connect from the forwarding thread) runs under the
seccomp filter in builds without sanitizers."""
import json
import os
import re
import socket
import tempfile
import time
import unittest

from signetd_fixture import Appliance
from test_hardening import added_seccomp_filters, sanitized_build

WAIT = 120  # liveness bound only

# RFC 5424 §6 (HEADER SP STRUCTURED-DATA [SP MSG]), strictly.
TIMESTAMP = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})"
SD_NAME = r'[!#-<>-\\^-~]{1,32}'  # PRINTUSASCII except '=', ' ', ']', '"'
PARAM_VALUE = r'(?:[^"\\\]]|\\["\\\]])*'
SD_ELEMENT = r'\[%s(?: %s="%s")*\]' % (SD_NAME, SD_NAME, PARAM_VALUE)
RFC5424 = re.compile(
    r"^<(?P<pri>\d{1,3})>1 (?P<ts>%s) (?P<host>[!-~]{1,255}) (?P<app>[!-~]{1,48}) "
    r"(?P<procid>[!-~]{1,128}) (?P<msgid>[!-~]{1,32}) (?P<sd>-|(?:%s)+)(?: (?P<msg>.*))?$"
    % (TIMESTAMP, SD_ELEMENT), re.S)
PARAM = re.compile(r'(%s)="(%s)"' % (SD_NAME, PARAM_VALUE))


def parse_rfc5424(data):
    text = data.decode("utf-8")
    m = RFC5424.match(text)
    if not m:
        raise AssertionError("not RFC 5424: %r" % text)
    sd = m.group("sd")
    sd_id = sd[1:].split(" ", 1)[0].rstrip("]")
    params = {k: re.sub(r'\\(["\\\]])', r"\1", v) for k, v in PARAM.findall(sd)}
    return m.groupdict(), sd_id, params


def parse_journal(data):
    """systemd's native journal protocol: KEY=value lines, or KEY\\n<u64 le length><value>\\n."""
    fields, i = {}, 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            key, value = line.split(b"=", 1)
            i = nl + 1
        else:
            key = line
            size = int.from_bytes(data[nl + 1:nl + 9], "little")
            value = data[nl + 9:nl + 9 + size]
            assert data[nl + 9 + size:nl + 10 + size] == b"\n"
            i = nl + 10 + size
        fields[key.decode()] = value.decode()
    return fields


class Receiver:
    """A datagram socket (unix path or UDP 127.0.0.1) collecting what arrives."""

    def __init__(self, path=None):
        self.path = path
        if path:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self.sock.bind(path)
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.messages = []

    def address(self):
        return "unix:" + self.path if self.path else "udp:127.0.0.1:%d" % self.sock.getsockname()[1]

    def pump(self):
        while True:
            try:
                self.messages.append(self.sock.recv(65536))
            except (socket.timeout, TimeoutError):
                return

    def wait_for(self, predicate, what):
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            self.pump()
            if predicate(self.messages):
                return self.messages
        raise AssertionError("the receiver never got %s; it got %d messages" %
                             (what, len(self.messages)))

    def close(self):
        self.sock.close()
        if self.path and os.path.exists(self.path):
            os.unlink(self.path)


def audit_events(app, after=0):
    r = app.request("GET", "/api/v1/audit?limit=10000&after=%d" % after,
                    session=app.admin_session())
    assert r.status == 200, r
    return r.json()["items"]


class ForwardingTest(unittest.TestCase):
    def setUp(self):
        self.app = None
        self.receivers = []
        self.sockets = tempfile.mkdtemp(prefix="signet-fwd-")

    def tearDown(self):
        for r in self.receivers:
            r.close()
        if self.app:
            self.app.close()
        os.rmdir(self.sockets)

    def receiver(self, name=None):
        r = Receiver(os.path.join(self.sockets, name) if name else None)
        self.receivers.append(r)
        return r

    def evil_login(self):
        """A failed login whose name carries '"', ']' and '\\': audited as
        operator:<name>, which the SD-PARAM "object" must escape."""
        name = 'evil"]\\name'
        r = self.app.request("POST", "/api/v1/session", {"name": name, "password": "nope"})
        self.assertEqual(r.status, 401, r)
        return "operator:" + name

    def check_syslog(self, messages, app):
        parsed = [parse_rfc5424(m) for m in messages]
        events = {e["sequence"]: e for e in audit_events(app)}
        seqs = []
        for header, sd_id, params in parsed:
            self.assertEqual(sd_id, "signet@32473")
            self.assertEqual(header["app"], "signetd")
            self.assertEqual(header["procid"], str(app.info["pid"]))
            seq = int(params["seq"])
            event = events[seq]
            self.assertEqual(header["msgid"], event["action"][:32])
            self.assertEqual(params["actor"], event["actor"])
            self.assertEqual(params["object"], event["object"])
            self.assertEqual(params["hash"], event["hash"])
            facility, severity = divmod(int(header["pri"]), 8)
            self.assertEqual(facility, 10)  # authpriv
            self.assertEqual(severity, 4 if "fail" in event["action"] else 5)
            seqs.append(seq)
        # In order, none missing, none twice.
        self.assertEqual(seqs, list(range(seqs[0], seqs[0] + len(seqs))))
        return parsed

    def test_syslog_and_journald_over_local_datagram_sockets(self):
        syslog, journal = self.receiver("syslog.sock"), self.receiver("journal.sock")
        self.app = Appliance(config={"audit": {"forward": ["syslog", "journald"],
                                               "syslog_address": syslog.address(),
                                               "journald_socket": journal.path}},
                             create_cas=False).start()
        evil = self.evil_login()
        messages = syslog.wait_for(
            lambda ms: any(b"operator.login_failed" in m for m in ms), "the failed login")
        parsed = self.check_syslog(messages, self.app)
        failed = [p for h, _, p in parsed if h["msgid"] == "operator.login_failed"]
        self.assertEqual(failed[0]["object"], evil)
        raw = next(m for m in messages if b"operator.login_failed" in m).decode()
        self.assertIn('object="operator:evil\\"\\]\\\\name"', raw)

        fields = [parse_journal(m) for m in journal.wait_for(
            lambda ms: any(b"operator.login_failed" in m for m in ms), "the failed login")]
        login = next(f for f in fields if f["SIGNET_ACTION"] == "operator.login_failed")
        self.assertEqual(login["SIGNET_OBJECT"], evil)
        self.assertEqual(login["SYSLOG_IDENTIFIER"], "signetd")
        self.assertEqual(login["PRIORITY"], "4")
        self.assertEqual(json.loads(login["SIGNET_DETAIL"])["reason"] != "", True)
        seqs = [int(f["SIGNET_SEQ"]) for f in fields]
        self.assertEqual(seqs, sorted(seqs))
        forwarding = self.app.request("GET", "/healthz").json()["checks"]["audit_forwarding"]
        self.assertTrue(forwarding["ok"], forwarding)
        self.assertRegex(forwarding["detail"], r"^syslog unix:\S+: connected, [1-9]\d* forwarded, "
                                               r"0 dropped; journald \S+: connected, ")

    def test_udp_loopback_with_another_facility_and_enterprise_number(self):
        udp = self.receiver()
        self.app = Appliance(config={"audit": {"forward": "syslog",
                                               "syslog_address": udp.address(),
                                               "syslog_facility": "local3",
                                               "enterprise_number": 99999}},
                             create_cas=False).start()
        self.evil_login()
        messages = udp.wait_for(lambda ms: any(b"operator.login_failed" in m for m in ms),
                                "the failed login")
        for m in messages:
            header, sd_id, params = parse_rfc5424(m)
            self.assertEqual(sd_id, "signet@99999")
            self.assertEqual(int(header["pri"]) // 8, 19)  # local3

    def test_tcp_with_octet_counting_framing(self):
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.settimeout(WAIT)
        try:
            self.app = Appliance(config={"audit": {
                "forward": "syslog",
                "syslog_address": "tcp:127.0.0.1:%d" % server.getsockname()[1]}},
                create_cas=False).start()
            conn, _ = server.accept()
            conn.settimeout(WAIT)
            self.evil_login()
            data, frames = b"", []
            deadline = time.monotonic() + WAIT
            while time.monotonic() < deadline and \
                    not any(b"operator.login_failed" in f for f in frames):
                data += conn.recv(65536)
                # RFC 6587 §3.4.1: MSG-LEN SP SYSLOG-MSG, back to back.
                while b" " in data:
                    length, rest = data.split(b" ", 1)
                    self.assertRegex(length.decode(), r"^[1-9]\d*$")
                    if len(rest) < int(length):
                        break
                    frames.append(rest[:int(length)])
                    data = rest[int(length):]
            conn.close()
        finally:
            server.close()
        self.check_syslog(frames, self.app)

    def test_receiver_down_signetd_serves_counts_and_reconnects(self):
        syslog = self.receiver("syslog.sock")
        self.app = Appliance(config={"audit": {"forward": "syslog",
                                               "syslog_address": syslog.address()}},
                             create_cas=False).start()
        session = self.app.admin_session()
        syslog.wait_for(lambda ms: any(b"operator.login" in m for m in ms), "the login")
        syslog.close()  # the receiver is gone: its socket path too
        for _ in range(3):
            self.evil_login()  # audited (rate-limited per name): at least one event to drop
            r = self.app.request("GET", "/api/v1/operators", session=session)
            self.assertEqual(r.status, 200, r)  # signetd keeps serving
        deadline = time.monotonic() + WAIT
        dropped = 0
        while time.monotonic() < deadline and dropped == 0:
            metrics = self.app.request("GET", "/metrics", session=session).body.decode()
            m = re.search(r'^signet_audit_forward_dropped_total\{target="syslog"\} (\S+)$',
                          metrics, re.M)
            dropped = float(m.group(1)) if m else 0
            time.sleep(0.2)
        self.assertGreater(dropped, 0)
        health = self.app.request("GET", "/healthz").json()
        self.assertEqual(health["status"], "ok")  # forwarding does not make signetd unhealthy
        self.assertFalse(health["checks"]["audit_forwarding"]["ok"])
        self.assertRegex(health["checks"]["audit_forwarding"]["detail"], r"[1-9]\d* dropped")
        doctor = self.app.cli("--json", "doctor", check=False)
        checks = {c["check"]: c for c in json.loads(doctor.stdout.decode())["checks"]}
        self.assertEqual(checks["audit-forwarding"]["verdict"], "warning")
        self.assertEqual(checks["state-files"]["verdict"], "ok")  # the cursor file is 0600
        self.assertIn("dropped", self.app.read_log())

        # The receiver is back: later events arrive (a new socket and connect, under seccomp in
        # builds without sanitizers).
        back = self.receiver("syslog.sock")
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and not back.messages:
            r = self.app.request("GET", "/api/v1/operators", session=session)
            self.assertEqual(r.status, 200)
            self.app.request("POST", "/api/v1/api-tokens", {"name": "reconnect", "role": "auditor"},
                             session=session)
            back.pump()
        self.assertTrue(back.messages, "no message after the receiver came back")
        parse_rfc5424(back.messages[0])
        self.assertIn("is connected again", self.app.read_log())
        pid = self.app.info["pid"]
        if sanitized_build(self.app):
            self.assertEqual(added_seccomp_filters(pid), 0)
        else:
            self.assertIn("seccomp: the syscall allowlist is installed", self.app.read_log())
            self.assertEqual(added_seccomp_filters(pid), 1)
        self.assertIsNone(self.app.process.poll())  # not killed by the filter


if __name__ == "__main__":
    unittest.main()
