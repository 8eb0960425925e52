"""A real signetd for end-to-end tests: a SoftHSM token and an LMDB store in a temporary
state directory (made with the `signet` CLI, as an operator would), signetd started on
ephemeral 127.0.0.1 ports, and HTTPS clients that trust the appliance CA it publishes.

Environment (set by CTest): SIGNET_BIN, SIGNETD_BIN. Every wait is bounded.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

SIGNET = os.environ.get("SIGNET_BIN", "signet")
SIGNETD = os.environ.get("SIGNETD_BIN", "signetd")
ADMIN_PASSWORD = "correct horse battery staple"
# Under the sanitizers everything is several times slower; these are liveness bounds only.
START_TIMEOUT = 180


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode())

    def header(self, name):
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def __repr__(self):
        return "Response(%d, %r)" % (self.status, self.body[:300])


class Session:
    """A logged-in operator: the session cookie and the CSRF token unsafe requests echo."""

    def __init__(self, cookie, csrf):
        self.cookie = cookie
        self.csrf = csrf


class Appliance:
    def __init__(self, config=None, env_extra=None, create_cas=True):
        """config: {section: {key: value}} of signetd's TOML configuration, over the
        fixture's listen addresses (127.0.0.1, ephemeral ports)."""
        self.dir = tempfile.mkdtemp(prefix="signet-api-e2e-")
        self.state = os.path.join(self.dir, "state")
        self.env = dict(os.environ)
        self.env.update({"SIGNET_STATE": self.state, "SIGNET_TOKEN": "signet"})
        self.env.pop("SOFTHSM2_CONF", None)
        self.env.pop("SIGNET_API_TOKEN_FILE", None)
        if env_extra:
            self.env.update(env_extra)
        self.process = None
        self.config = config or {}
        self.extra_toml = ""  # appended to the generated file ([[arrays of tables]])
        self.cli("token", "init", "--label", "signet")
        self.env["SIGNET_PIN_FILE"] = os.path.join(self.state, "pins", "signet.user.pin")
        if create_cas:
            self.cli("ca", "create-root", "--name", "root", "--subject", "CN=E2E Root", "--key",
                     "ec-p256")
            self.cli("ca", "create-intermediate", "--name", "issuing", "--parent", "root",
                     "--subject", "CN=E2E Issuing", "--key", "ec-p256", "--path-length", "0")
        self.admin_password_file = os.path.join(self.dir, "admin-password")
        with open(self.admin_password_file, "w") as f:
            f.write(ADMIN_PASSWORD + "\n")
        os.chmod(self.admin_password_file, 0o600)
        self.env["SIGNET_ADMIN_PASSWORD_FILE"] = self.admin_password_file

    # ---- processes ----
    def cli(self, *args, check=True, input=None, env=None):
        result = subprocess.run([SIGNET, *args], env=env or self.env, input=input,
                                capture_output=True, timeout=600)
        if check and result.returncode != 0:
            raise AssertionError("signet %s failed (%d): %s" %
                                 (" ".join(args), result.returncode, result.stderr.decode()))
        return result

    def start(self, extra_args=()):
        config = {"listen": {"https": "127.0.0.1:0", "http": "127.0.0.1:0"}}
        for section, values in self.config.items():
            config.setdefault(section, {}).update(values)
        config_path = os.path.join(self.dir, "signetd.toml")
        with open(config_path, "w") as f:
            f.write(to_toml(config) + self.extra_toml)
        self.log_path = os.path.join(self.dir, "signetd.log")
        self.log = open(self.log_path, "ab")
        lock = os.path.join(self.state, "signetd.lock")
        if os.path.exists(lock):
            os.truncate(lock, 0)
        self.process = subprocess.Popen([SIGNETD, "--config", config_path, *extra_args],
                                        env=self.env, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("signetd exited with %d: %s" %
                                     (self.process.returncode, self.read_log()))
            try:
                with open(lock) as f:
                    info = json.loads(f.read() or "null")
            except (OSError, ValueError):
                info = None
            if info and info.get("https_url"):
                self.info = info
                break
            time.sleep(0.1)
        else:
            raise AssertionError("signetd did not start: " + self.read_log())
        hostport = self.info["https_url"][len("https://"):]
        self.https_port = int(hostport.rsplit(":", 1)[1])
        self.http_port = int(self.info["http_url"].rsplit(":", 1)[1])
        self.ca_file = os.path.join(self.state, "appliance-ca.pem")
        self.tls = ssl.create_default_context(cafile=self.ca_file)
        return self

    def stop(self, sig=signal.SIGTERM, timeout=120):
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
                raise AssertionError("signetd did not stop within %d s" % timeout)
        code = self.process.returncode
        self.process = None
        self.log.close()
        return code

    def close(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")[-4000:]
        except OSError:
            return ""

    # ---- HTTP ----
    def request(self, method, path, body=None, token=None, session=None, headers=None,
                raw_body=None, content_type=None, context=None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.https_port,
                                           context=context or self.tls, timeout=120)
        hdrs = dict(headers or {})
        data = raw_body
        if body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        if content_type:
            hdrs["Content-Type"] = content_type
        if token:
            hdrs["Authorization"] = "Bearer " + token
        if session:
            hdrs["Cookie"] = "signet_session=" + session.cookie
            if method not in ("GET", "HEAD"):
                hdrs.setdefault("X-CSRF-Token", session.csrf)
        try:
            conn.request(method, path, body=data, headers=hdrs)
            r = conn.getresponse()
            return Response(r.status, r.getheaders(), r.read())
        finally:
            conn.close()

    def tls_socket(self, timeout=60):
        """A raw TLS connection to the HTTPS listener, verified like the HTTPS client's."""
        raw = socket.create_connection(("127.0.0.1", self.https_port), timeout=timeout)
        try:
            return self.tls.wrap_socket(raw, server_hostname="127.0.0.1")
        except BaseException:
            raw.close()
            raise

    def http_request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return Response(r.status, r.getheaders(), r.read())
        finally:
            conn.close()

    def login(self, name="admin", password=ADMIN_PASSWORD):
        r = self.request("POST", "/api/v1/session", {"name": name, "password": password})
        if r.status != 201:
            raise AssertionError("login failed: %r" % r)
        cookie = r.header("Set-Cookie").split(";")[0].split("=", 1)[1]
        return Session(cookie, r.json()["csrf_token"])

    def make_token(self, role, profiles=None, session=None, name=None, expires_in_days=None):
        session = session or self.admin_session()
        body = {"name": name or ("e2e " + role), "role": role}
        if profiles is not None:
            body["profiles"] = profiles
        if expires_in_days is not None:
            body["expires_in_days"] = expires_in_days
        r = self.request("POST", "/api/v1/api-tokens", body, session=session)
        if r.status != 201:
            raise AssertionError("token creation failed: %r" % r)
        return r.json()["token"]

    def secret_file(self, name, text):
        """Writes `text` to a new file of mode 0600 in the test directory; returns its path."""
        path = os.path.join(self.dir, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text + "\n")
        os.chmod(path, 0o600)
        return path

    def cli_env(self, **extra):
        """A copy of the CLI's environment with `extra` set (None removes a variable)."""
        env = dict(self.env)
        for key, value in extra.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def admin_session(self):
        if not hasattr(self, "_admin"):
            self._admin = self.login()
        return self._admin


def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string of printable text is a TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError("no TOML form for %r" % (value,))


def to_toml(config):
    """signetd's TOML configuration from {section: {key: value}} (docs/CONFIGURATION.md)."""
    lines = []
    for section, values in config.items():
        lines.append("[%s]" % section)
        lines.extend("%s = %s" % (key, toml_value(v)) for key, v in values.items())
        lines.append("")
    return "\n".join(lines)


def make_csr(directory, cn, sans=(), key="ec"):
    key_path = os.path.join(directory, cn + ".key")
    csr_path = os.path.join(directory, cn + ".csr")
    args = ["openssl", "req", "-new", "-nodes", "-keyout", key_path, "-out", csr_path,
            "-subj", "/CN=" + cn]
    if key == "ec":
        args += ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    else:
        args += ["-newkey", key]
    if sans:
        args += ["-addext", "subjectAltName=" + ",".join(sans)]
    subprocess.run(args, check=True, capture_output=True, timeout=60)
    with open(csr_path) as f:
        return f.read()


def wait_closed(sock, timeout):
    """True when the peer closed `sock` within `timeout` seconds (a liveness bound)."""
    sock.settimeout(timeout)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except (socket.timeout, TimeoutError):
        return False
    except (ConnectionResetError, ssl.SSLError, OSError):
        return True


def read_until_closed(sock, timeout):
    """(closed, data): whether the peer closed `sock` within `timeout` seconds in all (a
    liveness bound), and what it sent before."""
    deadline = time.monotonic() + timeout
    data = b""
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False, data
            sock.settimeout(left)
            chunk = sock.recv(4096)
            if not chunk:
                return True, data
            data += chunk
    except (socket.timeout, TimeoutError):
        return False, data
    except (ConnectionResetError, ssl.SSLError, OSError):
        return True, data
