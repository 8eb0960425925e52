"""signetd's process hardening, read from outside through /proc (proc(5)) while it serves:
the core file size limit, the dumpable flag (a non-dumpable process's /proc/<pid>/mem belongs to
root even when the process runs as another user), the privilege drop to [hardening] user
(Uid/Gid/Groups/Cap* lines), the seccomp filter (the Seccomp line) through a real issuance,
revocation, CRL and OCSP flow, and the refusal of a state directory or PIN file that group or
others can reach. The user tests need root (they create the system user signet-test)."""
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import unittest

import signetd_fixture
from signetd_fixture import Appliance, make_csr

TEST_USER = "signet-test"


def proc_status(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def added_seccomp_filters(pid):
    """How many seccomp filters signetd has beyond those it inherited from this test process
    (a container runtime may have installed one for every process)."""
    mine, theirs = proc_status(os.getpid()), proc_status(pid)
    if "Seccomp_filters" in theirs:
        return int(theirs["Seccomp_filters"]) - int(mine["Seccomp_filters"])
    return 1 if theirs["Seccomp"] == "2" and mine["Seccomp"] != "2" else 0


def sanitized_build(app):
    return "AddressSanitizer" in app.read_log()


def ensure_test_user():
    """The system user the privilege tests run signetd as (created when missing)."""
    try:
        return pwd.getpwnam(TEST_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                        "/usr/sbin/nologin", TEST_USER], check=True, capture_output=True,
                       timeout=60)
        return pwd.getpwnam(TEST_USER)


def user_can_read(user, path):
    probe = subprocess.run(["setpriv", "--reuid=%d" % user.pw_uid, "--regid=%d" % user.pw_gid,
                            "--clear-groups", "--", "test", "-r", path],
                           capture_output=True, timeout=60)
    return probe.returncode == 0


def reachable_by(user, path, directory):
    """`path`, or a copy in `directory` (world-readable) when `user` cannot read it there: the
    checkout may lie where only root can go (a clone under /root), and signetd reads its own
    binary and, under the sanitizers, the LSan suppressions after it became the user."""
    if user_can_read(user, path):
        return path
    copy = os.path.join(directory, os.path.basename(path))
    shutil.copy2(path, copy)
    os.chmod(copy, 0o755)
    return copy


def let_user_reach_the_suppressions(app, user, directory):
    options = app.env.get("LSAN_OPTIONS", "").split(":")
    for i, option in enumerate(options):
        if option.startswith("suppressions="):
            options[i] = "suppressions=" + reachable_by(user, option.split("=", 1)[1], directory)
    app.env["LSAN_OPTIONS"] = ":".join(options)


def chown_tree(path, uid, gid):
    os.chown(path, uid, gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), uid, gid)


def exercise_issuance(test, app):
    """Issue, revoke, the CRL at the CDP and OCSP through openssl: the paths the seccomp
    allowlist must cover (token signatures, LMDB commits, both listeners)."""
    token = app.make_token("administrator", name="hardening")
    base_url = "http://127.0.0.1:%d" % app.http_port
    r = app.request("PATCH", "/api/v1/cas/issuing/settings", {"base_url": base_url}, token=token)
    test.assertEqual(r.status, 200, r)
    work = os.path.join(app.dir, "work")
    os.makedirs(work, exist_ok=True)
    issued = []
    for cn in ("revoked.hardening.example", "good.hardening.example"):
        csr = make_csr(work, cn, sans=["DNS:" + cn])
        r = app.request("POST", "/api/v1/certificates",
                        {"ca": "issuing", "key_source": {"kind": "csr", "csr": csr}}, token=token)
        test.assertEqual(r.status, 201, r)
        issued.append(r.json())
    revoked, good = issued
    r = app.request("POST", "/api/v1/certificates/%s/revoke" % revoked["serial"],
                    {"reason": "keyCompromise"}, token=token)
    test.assertEqual(r.status, 200, r)
    pems = {}
    for name in ("root", "issuing"):
        r = app.request("GET", "/api/v1/cas/%s/certificate" % name, token=token)
        test.assertEqual(r.status, 200, r)
        pems[name] = r.body.decode()
    paths = {}
    for name, text in (("trust", pems["root"] + pems["issuing"]), ("issuing", pems["issuing"]),
                       ("revoked", revoked["pem"]), ("good", good["pem"])):
        paths[name] = os.path.join(work, name + ".pem")
        with open(paths[name], "w") as f:
            f.write(text)
    r = app.http_request("GET", "/crl/issuing.crl")
    test.assertEqual(r.status, 200, r)
    crl = subprocess.run(["openssl", "crl", "-inform", "DER", "-noout", "-text"], input=r.body,
                         capture_output=True, check=True, timeout=60).stdout.decode()
    test.assertIn(revoked["serial"], crl.replace(":", "").upper())
    for which, expected in (("revoked", "revoked"), ("good", "good")):
        out = subprocess.run(["openssl", "ocsp", "-issuer", paths["issuing"], "-cert",
                              paths[which], "-url", base_url + "/ocsp/issuing", "-CAfile",
                              paths["trust"], "-timeout", "60"], capture_output=True,
                             timeout=120)
        text = out.stdout.decode() + out.stderr.decode()
        test.assertIn("Response verify OK", text)
        test.assertIn("%s: %s" % (paths[which], expected), text)
    test.assertEqual(app.request("GET", "/healthz").status, 200)


class HardeningTest(unittest.TestCase):
    def setUp(self):
        self.app = None
        self.saved_signetd = signetd_fixture.SIGNETD

    def tearDown(self):
        signetd_fixture.SIGNETD = self.saved_signetd
        if self.app:
            self.app.close()

    def test_no_core_dumps_and_the_seccomp_filter_through_an_issuance_flow(self):
        self.app = Appliance().start()
        pid = self.app.info["pid"]
        with open("/proc/%d/limits" % pid) as f:
            limits = f.read()
        self.assertRegex(limits, r"Max core file size\s+0\s+0\s+bytes")
        if sanitized_build(self.app):
            self.assertIn("seccomp: no syscall filter", self.app.read_log())
            self.assertEqual(added_seccomp_filters(pid), 0)
        else:
            self.assertIn("seccomp: the syscall allowlist is installed", self.app.read_log())
            self.assertEqual(proc_status(pid)["Seccomp"], "2")  # filter mode
            self.assertEqual(added_seccomp_filters(pid), 1)
        exercise_issuance(self, self.app)
        # The filter covers the shutdown path too: SIGTERM ends it with 0, not SIGSYS.
        self.assertEqual(self.app.stop(), 0, self.app.read_log())

    def test_seccomp_off_by_the_switch(self):
        self.app = Appliance(config={"hardening": {"seccomp": False}}).start()
        self.assertEqual(added_seccomp_filters(self.app.info["pid"]), 0)
        self.assertIn("[hardening] seccomp = false", self.app.read_log())

    def test_a_state_directory_others_can_enter_is_refused(self):
        self.app = Appliance(create_cas=False)
        os.chmod(self.app.state, 0o755)
        with self.assertRaises(AssertionError) as failure:
            self.app.start()
        message = str(failure.exception)
        self.assertIn("has mode 0755", message)
        self.assertIn("chmod 700", message)
        os.chmod(self.app.state, 0o700)
        self.app.start()  # and accepted once private again
        self.assertEqual(self.app.request("GET", "/healthz").status, 200)

    def test_a_pin_file_others_can_read_is_refused(self):
        self.app = Appliance(create_cas=False)
        pin = self.app.env["SIGNET_PIN_FILE"]
        os.chmod(pin, 0o644)
        with self.assertRaises(AssertionError) as failure:
            self.app.start()
        self.assertIn("the PIN file '%s' has mode 0644" % pin, str(failure.exception))


@unittest.skipUnless(os.geteuid() == 0, "needs root: creates the user %s and starts signetd "
                     "as root to drop to it" % TEST_USER)
class PrivilegeTest(unittest.TestCase):
    def setUp(self):
        self.user = ensure_test_user()
        self.app = Appliance()
        self.saved_signetd = signetd_fixture.SIGNETD
        self.reachable = tempfile.mkdtemp(prefix="signet-reachable-")
        os.chmod(self.reachable, 0o755)
        let_user_reach_the_suppressions(self.app, self.user, self.reachable)

    def tearDown(self):
        signetd_fixture.SIGNETD = self.saved_signetd
        self.app.close()
        shutil.rmtree(self.reachable, ignore_errors=True)

    def test_started_as_root_signetd_drops_to_the_configured_user(self):
        chown_tree(self.app.dir, self.user.pw_uid, self.user.pw_gid)
        self.app.config = {"hardening": {"user": TEST_USER}}
        self.app.start()
        pid = self.app.info["pid"]
        status = proc_status(pid)
        uid, gid = str(self.user.pw_uid), str(self.user.pw_gid)
        self.assertEqual(status["Uid"].split(), [uid] * 4)  # real, effective, saved, fs
        self.assertEqual(status["Gid"].split(), [gid] * 4)
        self.assertEqual(status["Groups"].split(), [gid])
        for cap in ("CapPrm", "CapEff", "CapInh", "CapAmb"):
            self.assertEqual(int(status[cap], 16), 0, cap)
        self.assertEqual(os.stat("/proc/%d/mem" % pid).st_uid, 0)  # not dumpable
        self.assertIn("dropped privileges to user '%s'" % TEST_USER, self.app.read_log())
        exercise_issuance(self, self.app)
        # What signetd created after the drop belongs to the user.
        self.assertEqual(os.stat(os.path.join(self.app.state, "appliance-ca.pem")).st_uid,
                         self.user.pw_uid)

    def test_a_state_directory_of_another_owner_is_refused(self):
        self.app.config = {"hardening": {"user": TEST_USER}}
        with self.assertRaises(AssertionError) as failure:
            self.app.start()
        self.assertIn("belongs to uid 0, but signetd runs as '%s'" % TEST_USER,
                      str(failure.exception))
        self.assertIn("chown -R %s:" % TEST_USER, str(failure.exception))

    def test_run_as_an_unprivileged_user_it_is_not_dumpable(self):
        # Started directly as the user (no privilege change inside signetd): only
        # PR_SET_DUMPABLE 0 makes the kernel give /proc/<pid> to root (proc(5)).
        chown_tree(self.app.dir, self.user.pw_uid, self.user.pw_gid)
        wrapper = os.path.join(self.app.dir, "as-user")
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\nexec setpriv --reuid=%d --regid=%d --clear-groups -- %s \"$@\"\n"
                    % (self.user.pw_uid, self.user.pw_gid,
                       reachable_by(self.user, self.saved_signetd, self.reachable)))
        os.chmod(wrapper, 0o755)
        signetd_fixture.SIGNETD = wrapper
        self.app.start()
        pid = self.app.info["pid"]
        self.assertEqual(proc_status(pid)["Uid"].split()[0], str(self.user.pw_uid))
        self.assertEqual(os.stat("/proc/%d/mem" % pid).st_uid, 0)
        with open("/proc/%d/limits" % pid) as f:
            self.assertRegex(f.read(), r"Max core file size\s+0\s+0\s+bytes")
        self.assertEqual(self.app.request("GET", "/healthz").status, 200)
        self.assertEqual(self.app.stop(signal.SIGTERM), 0)


if __name__ == "__main__":
    unittest.main()
