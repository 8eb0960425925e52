"""appliance/systemd/signetd.service: the sandboxing directives the threat model relies on are
there with the right values (read with a small parser), `systemd-analyze verify` reports
nothing about the file, and `systemd-analyze security --offline` rates its exposure low.
systemd-analyze comes with the systemd package (scripts/setup.sh installs it)."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

UNIT = os.path.join(os.environ.get("SIGNET_SOURCE_DIR", os.path.join(
    os.path.dirname(__file__), "..", "..", "..")), "appliance", "systemd", "signetd.service")
SIGNETD = os.environ.get("SIGNETD_BIN", "signetd")


def parse_unit(text):
    """{section: [(key, value), ...]}: systemd's syntax for what the unit file uses (comments,
    sections, key=value; keys may repeat)."""
    sections, current = {}, None
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        if current is None or "=" not in line:
            raise AssertionError("line %d is not KEY=VALUE in a section: %r" % (number, line))
        key, value = line.split("=", 1)
        current.append((key.strip(), value.strip()))
    return sections


class SystemdUnitTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(UNIT) as f:
            cls.text = f.read()
        cls.service = dict(parse_unit(cls.text)["Service"])

    def test_the_sandboxing_directives_are_set(self):
        expected = {
            "User": "signet", "NoNewPrivileges": "yes", "CapabilityBoundingSet": "",
            "AmbientCapabilities": "", "ProtectSystem": "strict", "ProtectHome": "yes",
            "PrivateTmp": "yes", "PrivateDevices": "yes", "LimitCORE": "0",
            "MemoryDenyWriteExecute": "yes", "SystemCallArchitectures": "native",
            "ReadWritePaths": "/var/lib/signet", "StateDirectoryMode": "0700", "UMask": "0077",
            "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "KillSignal": "SIGTERM",
        }
        for key, value in expected.items():
            self.assertEqual(self.service.get(key), value, key)
        self.assertTrue(self.service["LoadCredential"].startswith("signet-token-pin:"))
        self.assertIn("--pin-file %d/signet-token-pin", self.service["ExecStart"])

    @unittest.skipUnless(shutil.which("systemd-analyze"), "systemd-analyze is not installed")
    def test_systemd_analyze_verify_and_security(self):
        with tempfile.TemporaryDirectory() as d:
            # verify checks that ExecStart's binary exists: point it at the one just built.
            unit = os.path.join(d, "signetd.service")
            with open(unit, "w") as f:
                f.write(self.text.replace("/usr/local/bin/signetd", os.path.abspath(SIGNETD)))
            out = subprocess.run(["systemd-analyze", "verify", unit], capture_output=True,
                                 timeout=120)
            complaints = [line for line in (out.stdout + out.stderr).decode().splitlines()
                          if "signetd.service" in line]
            self.assertEqual(complaints, [])
            self.assertEqual(out.returncode, 0)
            out = subprocess.run(["systemd-analyze", "security", "--offline=yes", unit],
                                 capture_output=True, timeout=120)
            text = out.stdout.decode()
            level = re.search(r"Overall exposure level for signetd.service: ([0-9.]+)", text)
            self.assertIsNotNone(level, text[-2000:])
            self.assertLessEqual(float(level.group(1)), 2.0, text[-2000:])


if __name__ == "__main__":
    unittest.main()
