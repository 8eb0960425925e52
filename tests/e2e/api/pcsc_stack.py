"""The real PC/SC stack for end-to-end tests, without hardware (the Python twin of
tests/integration/token/pcsc_stack.h): pcscd in the foreground as a child (its own process
group), which loads vsmartcard's virtual reader driver (vpcd: readers "Virtual PCD 00 00" and
"... 00 01", waiting for a virtual card on 127.0.0.1:35963), and a virtual card `vicc -t
iso7816` that connects to it; killing vicc removes the card.

pcscd's socket (/run/pcscd/pcscd.comm) and vpcd's ports are fixed: ctest runs the tests that use
this with RESOURCE_LOCK pcscd. stop() kills every process group it started. Every wait is
bounded; a failed wait raises AssertionError with the children's logs.

`card_present` is a callable answering whether pcscd reports a card in the first reader (the
tests ask signetd's GET /api/v1/cards/readers, or `signet card list`).
"""
import os
import signal
import subprocess
import tempfile
import time

READER = "Virtual PCD 00 00"
VIRTUAL_CARD_ATR = "3B951381018073FF01000B"
PCSCD_SOCKET = "/run/pcscd/pcscd.comm"
# vicc (Debian 12) imports PyCrypto's `Crypto`; pycryptodome installs it as `Cryptodome`.
CRYPTODOME = "/usr/lib/python3/dist-packages/Cryptodome"
VICC_MODULES = "/usr/lib/python3/site-packages/virtualsmartcard"


def wait_until(condition, limit=30.0, step=0.1):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


class PcscStack:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="signet-pcsc-")
        os.makedirs(os.path.join(self.dir, "python"))
        os.symlink(CRYPTODOME, os.path.join(self.dir, "python", "Crypto"))
        self.pcscd = None
        self.vicc = None
        self.card_present = None  # set by the test once signetd (or the CLI) can answer

    def _spawn(self, argv, log_name, env=None):
        log = open(os.path.join(self.dir, log_name), "ab")
        try:
            return subprocess.Popen(argv, stdout=log, stderr=log, env=env,
                                    start_new_session=True)
        finally:
            log.close()

    def logs(self):
        out = ""
        for name in ("pcscd.log", "vicc.log"):
            path = os.path.join(self.dir, name)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    out += "--- %s\n%s" % (name, f.read().decode(errors="replace")[-3000:])
        return out

    @staticmethod
    def _kill(process, grace=10.0):
        if process is None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=30)
        try:
            os.killpg(process.pid, signal.SIGKILL)  # stragglers of the group
        except ProcessLookupError:
            pass

    def start(self):
        if os.path.exists(PCSCD_SOCKET) and subprocess.run(
                ["pgrep", "-x", "pcscd"], capture_output=True).returncode == 0:
            raise AssertionError("another pcscd is already running on %s; stop it first "
                                 "(these tests start their own)" % PCSCD_SOCKET)
        self.pcscd = self._spawn(["/usr/sbin/pcscd", "--foreground", "--info"], "pcscd.log")

        def ready():
            if self.pcscd.poll() is not None:
                return True
            if not os.path.exists(PCSCD_SOCKET):
                return False
            # `signet card list` asks pcscd through libpcsclite, as signetd will.
            listed = subprocess.run([os.environ.get("SIGNET_BIN", "signet"), "--json", "card",
                                     "list"], capture_output=True, timeout=60)
            return listed.returncode == 0 and b"Virtual PCD" in listed.stdout

        if not wait_until(ready) or self.pcscd.poll() is not None:
            logs = self.logs()
            self.stop()
            raise AssertionError("pcscd did not start with the virtual readers (is "
                                 "vsmartcard-vpcd installed?)\n" + logs)
        return self

    def insert_card(self):
        if self.vicc is not None:
            raise AssertionError("a virtual card is already inserted")
        env = dict(os.environ)
        env["PYTHONPATH"] = VICC_MODULES + ":" + os.path.join(self.dir, "python")
        # vicc exits when it cannot reach vpcd yet (pcscd still loading the driver): retry.
        for _ in range(5):
            self.vicc = self._spawn(["/usr/bin/python3", "/usr/bin/vicc", "-t", "iso7816", "-v"],
                                    "vicc.log", env=env)
            if wait_until(lambda: self.card_present() or self.vicc.poll() is not None, 20):
                if self.card_present():
                    return
            self._kill(self.vicc, 2)
            self.vicc = None
            time.sleep(0.3)
        raise AssertionError("the virtual card (vicc) did not connect to vpcd\n" + self.logs())

    def remove_card(self):
        self._kill(self.vicc, 5)
        self.vicc = None
        if not wait_until(lambda: not self.card_present(), 20):
            raise AssertionError("pcscd still reports a card after vicc was killed\n" +
                                 self.logs())

    def stop(self):
        self._kill(self.vicc, 5)
        self.vicc = None
        self._kill(self.pcscd, 10)
        self.pcscd = None
