"""Test harness: real vigil-manager and vigil-agent processes on loopback.

Everything waits on conditions (wait_until) and asserts on the timestamps
that the programs record, never on sleeps alone.
"""
import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import time

BIN = os.environ.get("VIGIL_BIN", os.path.join(os.path.dirname(__file__), "..", "..", "build", "bin"))


def binpath(name):
    return os.path.join(BIN, name)


def wait_until(cond, timeout=15.0, interval=0.05, what="condition"):
    """Polls cond() until it returns a true value; returns that value."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = cond()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out after %.1f s waiting for %s (last: %r)" % (timeout, what, last))


class ApiError(Exception):
    def __init__(self, status, body):
        super().__init__("HTTP %d: %s" % (status, body))
        self.status = status
        self.body = body


class Manager:
    def __init__(self, tmp, heartbeat_interval=1, missed=2, extra=""):
        self.dir = str(tmp)
        self.state = os.path.join(self.dir, "state")
        self.conf = os.path.join(self.dir, "manager.conf")
        self.stdout_path = os.path.join(self.dir, "manager.out")
        self.stderr_path = os.path.join(self.dir, "manager.err")
        self.agent_port = 0
        self.api_port = 0
        self.proc = None
        self.token = self.api_key = self.fingerprint = None
        self.heartbeat_interval = heartbeat_interval
        self.missed = missed
        self.extra = extra

    def write_conf(self):
        with open(self.conf, "w") as f:
            f.write(
                "[manager]\nstate_dir = %s\n[listen]\naddress = 127.0.0.1\n"
                "agent_port = %d\napi_port = %d\n%s\n[policy]\nheartbeat_interval = %d\n"
                "missed_heartbeats_allowed = %s\n"
                % (self.state, self.agent_port, self.api_port, self.extra,
                   self.heartbeat_interval, self.missed))

    def start(self):
        self.write_conf()
        self._runfile_before = self._runfile_mtime()
        self.proc = subprocess.Popen(
            [binpath("vigil-manager"), "-c", self.conf],
            stdout=open(self.stdout_path, "a"), stderr=open(self.stderr_path, "a"))
        info = wait_until(self._started, what="manager.json from the new manager")
        self.agent_port = info["agent_port"]
        self.api_port = info["api_port"]
        out = open(self.stdout_path).read()
        m = re.search(r"activation token: (\S+)", out)
        if m and self.token is None:
            self.token = m.group(1)
            self.api_key = re.search(r"API key: +(\S+)", out).group(1)
            self.fingerprint = re.search(r"CA fingerprint: +sha256:(\S+)", out).group(1)
        return self

    def _runfile_mtime(self):
        try:
            return os.stat(os.path.join(self.state, "manager.json")).st_mtime_ns
        except FileNotFoundError:
            return None

    def _started(self):
        if self.proc.poll() is not None:
            raise AssertionError("vigil-manager exited with %d:\n%s" % (
                self.proc.returncode, open(self.stderr_path).read()))
        p = os.path.join(self.state, "manager.json")
        try:
            info = json.load(open(p))
        except (FileNotFoundError, ValueError):
            return None
        return info if info.get("pid") == self.proc.pid else None

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=20)
        rc = self.proc.returncode if self.proc else None
        self.proc = None
        return rc

    @property
    def ca(self):
        return os.path.join(self.state, "ca.crt")

    def ssl_context(self, cert=None, key=None):
        ctx = ssl.create_default_context(cafile=self.ca)
        if cert:
            ctx.load_cert_chain(cert, key)
        return ctx

    def api(self, path, key=None, headers=None, method="GET", body=None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.api_port, context=self.ssl_context(), timeout=10)
        h = {"api-secret-key": key if key is not None else self.api_key, "api-version": "v1"}
        if headers:
            h.update(headers)
        h = {k: v for k, v in h.items() if v is not None}
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        body = r.read().decode()
        conn.close()
        if r.status != 200:
            raise ApiError(r.status, body)
        return json.loads(body)

    def computers(self):
        return self.api("/api/computers")["computers"]

    def computer(self, name):
        for c in self.computers():
            if c["hostName"] == name:
                return c
        return None

    def status(self, name):
        c = self.computer(name)
        return c["computerStatus"]["agentStatusMessages"][0] if c else None

    def events(self, **q):
        qs = "&".join("%s=%s" % (k, v) for k, v in q.items())
        return self.api("/api/events" + ("?" + qs if qs else ""))["events"]

    def alerts(self, all=False):
        return self.api("/api/alerts" + ("?all=true" if all else ""))["alerts"]

    def logs(self):
        return open(self.stderr_path).read()

    def agent_post(self, path, body, cert=None, key=None, raw=None):
        """POSTs to the agent channel; returns (status, parsed body)."""
        ctx = ssl.create_default_context(cafile=self.ca)
        ctx.check_hostname = False
        if cert:
            ctx.load_cert_chain(cert, key)
        conn = http.client.HTTPSConnection("127.0.0.1", self.agent_port, context=ctx, timeout=10)
        data = raw if raw is not None else json.dumps(body)
        conn.request("POST", path, body=data, headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        text = r.read().decode()
        conn.close()
        try:
            return r.status, json.loads(text)
        except ValueError:
            return r.status, text


class Agent:
    def __init__(self, manager, tmp, name):
        self.m = manager
        self.name = name
        self.dir = os.path.join(str(tmp), "agent-" + name)
        self.log = os.path.join(str(tmp), "agent-%s.log" % name)
        self.proc = None

    def start(self, *extra, port=0):
        """port 0: a free agent port picked by the agent (fixed for its lifetime)."""
        os.makedirs(self.dir, exist_ok=True)
        self.port = port
        args = ["--listen-address", "127.0.0.1", "--listen-port", str(port)]
        self.proc = subprocess.Popen([binpath("vigil-agent"), "-d", self.dir] + args + list(extra),
                                     stdout=subprocess.DEVNULL, stderr=open(self.log, "a"))
        wait_until(lambda: os.path.exists(os.path.join(self.dir, "agent.sock")) or self.proc.poll() is not None,
                   what="agent control socket")
        assert self.proc.poll() is None, open(self.log).read()
        return self

    def ctl(self, *args, check=True):
        r = subprocess.run([binpath("vigil-agentctl"), "-d", self.dir] + list(args),
                           capture_output=True, text=True, timeout=60)
        if check and r.returncode != 0:
            raise AssertionError("vigil-agentctl %s -> %d\n%s%s" % (args, r.returncode, r.stdout, r.stderr))
        return r

    def activate(self, token=None, check=True, *extra):
        return self.ctl("activate", "https://127.0.0.1:%d/" % self.m.agent_port,
                        "token:" + (token or self.m.token), "hostname:" + self.name,
                        "--ca-fingerprint", self.m.fingerprint, *extra, check=check)

    def stop(self):
        """SIGTERM; a clean exit (0) also means no leak under ASan."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            rc = self.proc.wait(timeout=20)
            self.proc = None
            assert rc == 0, "vigil-agent exited with %d:\n%s" % (rc, open(self.log).read()[-3000:])

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=20)
        self.proc = None

    def status(self):
        return json.loads(self.ctl("status", "--json", check=False).stdout)

    def cert(self):
        return os.path.join(self.dir, "identity.crt"), os.path.join(self.dir, "identity.key")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p
