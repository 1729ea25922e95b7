"""Operations: the agent's watchdog, health checks (Nagios), /metrics,
the diagnostic package, systemd notification and unit files."""
import datetime
import gzip
import io
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import tarfile

import pytest

from vigil import Agent, Manager, binpath, free_port, wait_until

TS = re.compile(r"^(\S+Z) vigil-monitor\[\d+\]: info: started the agent", re.M)


class MonitoredAgent(Agent):
    """vigil-agent --monitor: self.proc is the monitor."""

    def start(self, *extra):
        os.makedirs(self.dir, exist_ok=True)
        # a fixed agent port: every restarted agent listens where the manager calls
        if not hasattr(self, "port"):
            self.port = free_port()
        args = ["--listen-address", "127.0.0.1", "--listen-port", str(self.port)]
        self.proc = subprocess.Popen([binpath("vigil-agent"), "-d", self.dir, "--monitor"] + args + list(extra),
                                     stdout=subprocess.DEVNULL, stderr=open(self.log, "a"))
        wait_until(lambda: self.agent_pid() or self.proc.poll() is not None, what="agent under the monitor")
        assert self.proc.poll() is None, open(self.log).read()
        return self

    def agent_pid(self):
        r = self.ctl("status", "--json", check=False)
        try:
            return json.loads(r.stdout).get("pid")
        except ValueError:
            return None

    def logs(self):
        return open(self.log).read()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            rc = self.proc.wait(timeout=30)
            self.proc = None
            assert rc == 0, "monitor exited with %d:\n%s" % (rc, self.logs()[-3000:])


@pytest.fixture
def monitored(tmp_path, manager):
    started = []

    def make(name, *extra, activate=True):
        a = MonitoredAgent(manager, tmp_path, name).start(*extra)
        if activate:
            a.activate()
        started.append(a)
        return a

    yield make
    for a in started:
        a.stop()


@pytest.fixture
def free_disk(tmp_path):
    """Health is WARNING by design under 10% free: the OK tests need the space."""
    u = shutil.disk_usage(str(tmp_path))
    if u.free * 100 // u.total < 10:
        pytest.skip("under 10%% free disk on %s: health reports WARNING by design" % tmp_path)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is not alive
    try:
        return open("/proc/%d/stat" % pid).read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def health(agent, *args):
    return agent.ctl("health", *args, check=False)


def manager_health(m, *args):
    return subprocess.run([binpath("vigil-manager"), "-c", m.conf, "health"] + list(args),
                          capture_output=True, text=True, timeout=60)


# --- watchdog -------------------------------------------------------------

def test_watchdog_restarts_a_killed_agent_and_the_manager_records_it(manager, monitored, free_disk):
    a = monitored("wd1")
    wait_until(lambda: manager.status("wd1") == "Managed (Online)", what="online")
    old = a.agent_pid()
    os.kill(old, signal.SIGKILL)
    new = wait_until(lambda: (lambda p: p if p and p != old else None)(a.agent_pid()),
                     what="a new agent process")
    assert a.proc.poll() is None
    assert "killed by signal 9 (SIGKILL)" in a.logs()
    ev = wait_until(lambda: [e for e in manager.events(id=741) if e["target"] == "wd1"],
                    what="event 741")
    assert ev[0]["event"] == "Abnormal Restart Detected"
    assert "restarted it 1 time" in ev[0]["description"]
    assert "killed by signal 9" in ev[0]["description"]
    # the restarted agent heartbeats again
    c = wait_until(lambda: (lambda c: c if c["vigil"]["watchdogRestarts"] == 1 else None)(
        manager.computer("wd1")), what="watchdogRestarts on the computer")
    assert c["computerStatus"]["agentStatusMessages"][0] == "Managed (Online)"
    assert a.ctl("heartbeat").returncode == 0
    assert manager.status("wd1") == "Managed (Online)"
    # reported once: more heartbeats, no second event
    a.ctl("heartbeat")
    assert len([e for e in manager.events(id=741) if e["target"] == "wd1"]) == 1
    wd = json.load(open(os.path.join(a.dir, "watchdog.json")))
    assert wd["restarts"] == 1 and wd["unreported"] == 0
    r = health(a)
    assert r.returncode == 0, r.stdout
    assert "1 restart, the last at" in r.stdout
    st = a.ctl("status").stdout
    assert re.search(r"^watchdog: +running \(pid %d\), 1 restart, the last at \S+ "
                     r"\(killed by signal 9 \(SIGKILL\)\)$" % a.proc.pid, st, re.M), st
    assert alive(new)


def test_watchdog_sigterm_stops_the_agent_and_does_not_restart_it(manager, monitored):
    a = monitored("wd2", activate=False)
    pid = a.agent_pid()
    mon = a.proc
    mon.send_signal(signal.SIGTERM)
    assert mon.wait(timeout=30) == 0
    a.proc = None
    wait_until(lambda: not alive(pid), what="the agent to be gone")
    log = a.logs()
    assert "stopping the agent (pid %d)" % pid in log
    assert "restarting it" not in log
    assert len(TS.findall(log)) == 1
    assert json.load(open(os.path.join(a.dir, "watchdog.json")))["monitor_pid"] == 0
    assert not os.path.exists(os.path.join(a.dir, "agent.sock"))


def test_watchdog_backs_off_a_crash_looping_agent(tmp_path):
    d = tmp_path / "agent-loop"
    d.mkdir()
    # a directory where the control socket goes: the agent dies at every start
    (d / "agent.sock").mkdir()
    log = tmp_path / "loop.log"
    mon = subprocess.Popen([binpath("vigil-agent"), "-d", str(d), "--monitor", "--restart-max", "2"],
                           stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    try:
        wait_until(lambda: len(TS.findall(log.read_text())) >= 5, timeout=30, what="five starts")
        text = log.read_text()
        assert "the agent keeps dying: 3 times in a row" in text
        assert re.search(r"exited with status \d+", text)
        starts = [datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ") for t in TS.findall(text)]
        gaps = [(b - a).total_seconds() for a, b in zip(starts, starts[1:])]
        # 1 s, 2 s, then the bound of 2 s: never a hot loop
        for gap, want in zip(gaps, [1, 2, 2, 2]):
            assert gap >= want * 0.95, gaps
        wd = json.load(open(d / "watchdog.json"))
        assert wd["restarts"] >= 4 and wd["last_exit"].startswith("exited with status ")
        # a stop during the back-off is prompt
        mon.send_signal(signal.SIGTERM)
        assert mon.wait(timeout=10) == 0
    finally:
        if mon.poll() is None:
            mon.kill()
            mon.wait()


def test_agent_v_logs_at_debug_level_also_under_the_monitor(manager, monitored):
    # -v used to be undone by log_init(): no debug line ever appeared
    a = monitored("dbg", "-v")
    a.ctl("heartbeat")
    wait_until(lambda: "vigil-agent[%d]: debug: heartbeat ok" % a.agent_pid() in a.logs(),
               what="a debug line from the agent")


# --- health -------------------------------------------------------------

def same_summary(a, b):
    """Two health summaries taken moments apart: the same but for the figures
    (a certificate made at this start can have a day less a second later; free
    disk moves while other tests write)."""
    mask = lambda s: re.sub(r"=\d+(%?);", r"=N\1;", s)
    return mask(a) == mask(b)


def test_agent_health_ok_then_critical_when_the_manager_is_down(manager, monitored, free_disk):
    a = monitored("h1")
    wait_until(lambda: manager.status("h1") == "Managed (Online)", what="online")
    r = health(a)
    assert r.returncode == 0, r.stdout
    first = r.stdout.splitlines()[0]
    assert re.match(r"^VIGIL-AGENT OK - 7 checks passed \| cert_days=\d+;30:;0: "
                    r"disk_free_pct=\d+%;10:;5: queue_depth=0$", first), first
    assert "OK: agent port: listening on port %d (bidirectional" % a.port in r.stdout
    # closed as by a firewall: the check that seed 001 asks for fails
    assert a.ctl("block-inbound").returncode == 0
    r = health(a)
    assert r.returncode == 2 and "CRITICAL: agent port: port %d is not open" % a.port in r.stdout, r.stdout
    assert a.ctl("unblock-inbound").returncode == 0
    j = json.loads(health(a, "--json").stdout)
    assert j["state"] == "OK" and j["exit_code"] == 0 and same_summary(j["summary"], first)
    assert {c["name"] for c in j["checks"]} >= {"process", "watchdog", "heartbeat", "certificate", "disk", "queue"}

    manager.stop()
    a.ctl("heartbeat", check=False)
    r = health(a)
    assert r.returncode == 2, r.stdout
    assert r.stdout.startswith("VIGIL-AGENT CRITICAL - heartbeat: the manager https://127.0.0.1:%d/ cannot be reached"
                               % manager.agent_port), r.stdout
    manager.start()


def test_agent_health_critical_when_the_agent_is_not_running(manager, tmp_path):
    a = Agent(manager, tmp_path, "h2").start()
    a.activate()
    a.stop()
    r = health(a)
    assert r.returncode == 2
    assert r.stdout.startswith("VIGIL-AGENT CRITICAL - process: vigil-agent is not running"), r.stdout
    assert "WARNING: watchdog: no watchdog" in r.stdout


def make_cert(tmp, days=None, expired=False):
    """A self-signed P-256 certificate: valid for days, or expired in 2020."""
    tmp = str(tmp)
    key = os.path.join(tmp, "k.pem")
    crt = os.path.join(tmp, "c.pem")
    if not expired:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-keyout", key, "-subj", "/CN=t", "-days", str(days), "-out", crt],
                       check=True, capture_output=True)
        return crt
    open(os.path.join(tmp, "index.txt"), "w").close()
    open(os.path.join(tmp, "serial"), "w").write("01\n")
    cnf = os.path.join(tmp, "ca.cnf")
    open(cnf, "w").write("[ca]\ndefault_ca=d\n[d]\ndir=%s\ndatabase=$dir/index.txt\nnew_certs_dir=$dir\n"
                         "serial=$dir/serial\ndefault_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n" % tmp)
    csr = os.path.join(tmp, "r.csr")
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-subj", "/CN=t", "-out", csr], check=True, capture_output=True)
    subprocess.run(["openssl", "ca", "-config", cnf, "-batch", "-selfsign", "-keyfile", key, "-in", csr,
                    "-startdate", "20200101000000Z", "-enddate", "20200102000000Z", "-out", crt],
                   check=True, capture_output=True)
    return crt


def test_agent_health_certificate_expiry(manager, monitored, tmp_path):
    a = monitored("h3")
    a.ctl("heartbeat")
    crt = os.path.join(a.dir, "identity.crt")
    good = open(crt).read()
    try:
        (tmp_path / "soon").mkdir()
        shutil.copy(make_cert(tmp_path / "soon", days=10), crt)
        r = health(a)
        assert r.returncode == 1, r.stdout
        assert re.match(r"^VIGIL-AGENT WARNING - certificate: the agent's identity certificate expires in (9|10) days",
                        r.stdout), r.stdout
        assert re.search(r" cert_days=(9|10);30:;0: ", r.stdout.splitlines()[0])
        (tmp_path / "old").mkdir()
        shutil.copy(make_cert(tmp_path / "old", expired=True), crt)
        r = health(a)
        assert r.returncode == 2, r.stdout
        assert re.match(r"^VIGIL-AGENT CRITICAL - certificate: the agent's identity certificate expired on "
                        r"2020-01-02T00:00:00", r.stdout), r.stdout
    finally:
        open(crt, "w").write(good)


def test_manager_health_ok_then_critical(manager, free_disk):
    r = manager_health(manager)
    assert r.returncode == 0, r.stdout + r.stderr
    first = r.stdout.splitlines()[0]
    assert re.match(r"^VIGIL-MANAGER OK - 7 checks passed \| ca_cert_days=\d+;30:;0: "
                    r"server_cert_days=\d+;30:;0: disk_free_pct=\d+%;10:;5:$", first), first
    assert "OK: api port: REST API port %d is listening" % manager.api_port in r.stdout
    assert "OK: database: " in r.stdout
    j = json.loads(manager_health(manager, "--json").stdout)
    assert j["state"] == "OK" and same_summary(j["summary"], first)

    agent_port, api_port = manager.agent_port, manager.api_port
    manager.stop()
    r = manager_health(manager)
    assert r.returncode == 2, r.stdout
    assert r.stdout.startswith("VIGIL-MANAGER CRITICAL - process: vigil-manager is not running"), r.stdout
    assert ("CRITICAL: agent port: agent channel port %d is not listening on 127.0.0.1: Connection refused"
            % agent_port) in r.stdout
    assert ("CRITICAL: api port: REST API port %d is not listening on 127.0.0.1: Connection refused"
            % api_port) in r.stdout
    manager.start()


def test_manager_health_expired_server_certificate(manager, tmp_path):
    crt = os.path.join(manager.state, "manager.crt")
    good = open(crt).read()
    try:
        shutil.copy(make_cert(tmp_path, expired=True), crt)
        r = manager_health(manager)
        assert r.returncode == 2, r.stdout
        assert r.stdout.startswith("VIGIL-MANAGER CRITICAL - server certificate: the manager's server "
                                   "certificate expired on 2020-01-02"), r.stdout
    finally:
        open(crt, "w").write(good)


def test_manager_health_bad_configuration_is_unknown(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("[listen]\nagent_port = banana\n")
    r = subprocess.run([binpath("vigil-manager"), "-c", str(conf), "health"], capture_output=True, text=True)
    assert r.returncode == 3
    assert r.stdout.startswith("VIGIL-MANAGER UNKNOWN - 1 configuration problem")


# --- metrics -------------------------------------------------------------

def scrape(m, headers=None):
    import http.client
    conn = http.client.HTTPSConnection("127.0.0.1", m.api_port, context=m.ssl_context(), timeout=10)
    conn.request("GET", "/metrics", headers=headers or {})
    r = conn.getresponse()
    body = r.read().decode()
    ctype = r.getheader("Content-Type")
    conn.close()
    return r.status, ctype, body


def sample(text, name):
    m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else None


def test_metrics_need_the_key_parse_with_promtool_and_move(manager, agents):
    a = agents("m1")
    a.ctl("heartbeat")
    status, _, body = scrape(manager)
    assert status == 401 and "api_key_required" in body
    status, _, _ = scrape(manager, {"Authorization": "Bearer wrong"})
    assert status == 401
    status, ctype, body = scrape(manager, {"Authorization": "Bearer " + manager.api_key})
    assert status == 200
    assert ctype == "text/plain; version=0.0.4; charset=utf-8"
    status, _, _ = scrape(manager, {"api-secret-key": manager.api_key})
    assert status == 200
    assert 'vigil_computers{status="Managed (Online)"} 1' in body
    assert "vigil_activations_accepted_total 1" in body
    assert "# TYPE vigil_store_flush_duration_seconds histogram" in body
    before = sample(body, "vigil_heartbeats_received_total")
    assert before >= 1
    a.ctl("heartbeat")
    a.ctl("heartbeat")
    _, _, body2 = scrape(manager, {"Authorization": "Bearer " + manager.api_key})
    assert sample(body2, "vigil_heartbeats_received_total") >= before + 2
    # a refused activation is counted under its reason
    b = Agent(manager, os.path.dirname(a.dir), "m2").start()
    try:
        b.activate(token="not-the-token", check=False)
    finally:
        b.stop()
    _, _, body3 = scrape(manager, {"Authorization": "Bearer " + manager.api_key})
    assert 'vigil_activations_refused_total{reason="bad_token"} 1' in body3
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian package prometheus; scripts/install-deps.sh installs it)")
    for text in (body, body3):
        r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        assert r.stdout + r.stderr == "", r.stdout + r.stderr


def test_metrics_open_when_configured(tmp_path):
    m = Manager(tmp_path, extra="[api]\nmetrics_require_key = 0\n").start()
    try:
        status, _, body = scrape(m)
        assert status == 200 and "process_start_time_seconds" in body
    finally:
        assert m.stop() == 0


# --- diag-package -----------------------------------------------------------

def tar_contents(path):
    with tarfile.open(path, "r:gz") as t:
        return {m.name: (t.extractfile(m).read() if m.isfile() else b"") for m in t.getmembers()}


def test_diag_package_has_the_files_and_no_secret(manager, monitored, tmp_path, free_disk):
    a = monitored("dg1")
    a.ctl("heartbeat")
    out = str(tmp_path / "diag.tar.gz")
    r = a.ctl("diag-package", "-o", out, "--log", a.log)
    assert "diagnostic package written to %s" % out in r.stdout
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    files = tar_contents(out)
    names = {n.split("/", 1)[1] for n in files if "/" in n}
    assert names >= {"MANIFEST.txt", "status.json", "health.txt", "health.json", "agent.json.redacted",
                     "watchdog.json.redacted", "certificates.txt", "queue.json", "agent.log"}
    assert not any("identity.key" in n for n in names)
    certs = files["vigil-agent-diag/certificates.txt"].decode()
    assert "identity.crt:" in certs and "not after:" in certs and "subject:" in certs
    assert json.loads(files["vigil-agent-diag/status.json"])["guid"]
    assert files["vigil-agent-diag/health.txt"].decode().startswith("VIGIL-AGENT OK - 7 checks passed")
    raw = open(out, "rb").read()
    blob = gzip.decompress(raw)
    key = open(os.path.join(a.dir, "identity.key")).read()
    body = "".join(l for l in key.splitlines() if "-----" not in l)
    assert b"PRIVATE KEY" not in blob
    assert body.encode() not in blob
    assert manager.token.encode() not in blob


def test_diag_package_redacts_a_pending_activation_token(manager, tmp_path):
    a = Agent(manager, tmp_path, "dg2").start()
    try:
        # nobody listens on this port: the activation is kept for a retry, token and all
        dead = socket.socket()
        dead.bind(("127.0.0.1", 0))
        port = dead.getsockname()[1]
        dead.close()
        a.ctl("activate", "https://127.0.0.1:%d/" % port, "token:" + manager.token, "hostname:dg2",
              "--ca-fingerprint", manager.fingerprint, check=False)
        pending = os.path.join(a.dir, "activation.pending")
        assert manager.token in open(pending).read()
        out = str(tmp_path / "d2.tar.gz")
        a.ctl("diag-package", "-o", out)
        files = tar_contents(out)
        redacted = json.loads(files["vigil-agent-diag/activation.pending.redacted"])
        assert redacted["token"] == "REDACTED"
        assert manager.token.encode() not in gzip.decompress(open(out, "rb").read())
    finally:
        a.stop()


# --- systemd -------------------------------------------------------------

class NotifySocket:
    def __init__(self, tmp):
        self.path = os.path.join(str(tmp), "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.setblocking(False)
        self.got = []

    def poll(self):
        while True:
            try:
                self.got.append(self.sock.recv(4096).decode())
            except BlockingIOError:
                return self.got

    def has(self, msg):
        return msg in self.poll()

    def count(self, msg):
        return self.poll().count(msg)


def test_manager_notifies_systemd(tmp_path, free_disk):
    ns = NotifySocket(tmp_path)
    env = dict(os.environ, NOTIFY_SOCKET=ns.path, WATCHDOG_USEC="200000")
    m = Manager(tmp_path)
    old = os.environ.copy()
    os.environ.update(env)
    try:
        m.start()
    finally:
        os.environ.clear()
        os.environ.update(old)
    try:
        wait_until(lambda: ns.has("READY=1"), what="READY=1")
        wait_until(lambda: ns.count("WATCHDOG=1") >= 3, what="three WATCHDOG=1 pings")
        # ready means listening
        assert manager_health(m).returncode == 0
    finally:
        assert m.stop() == 0
    wait_until(lambda: ns.has("STOPPING=1"), what="STOPPING=1")


def test_agent_under_the_monitor_notifies_systemd(tmp_path, manager):
    ns = NotifySocket(tmp_path)
    old = os.environ.copy()
    # 0.4 s: pings every 0.2 s, more often than the agent's one-second loop
    os.environ.update(NOTIFY_SOCKET=ns.path, WATCHDOG_USEC="400000")
    try:
        a = MonitoredAgent(manager, tmp_path, "sd1").start()
    finally:
        os.environ.clear()
        os.environ.update(old)
    try:
        wait_until(lambda: ns.has("READY=1"), what="READY=1")
        # the agent, not the monitor, pings: WATCHDOG_PID is rewritten for it
        wait_until(lambda: ns.count("WATCHDOG=1") >= 5, what="WATCHDOG=1 pings from the agent")
    finally:
        a.stop()


def test_systemd_units_verify(tmp_path):
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd; scripts/install-deps.sh installs it)")
    src = os.path.join(os.path.dirname(__file__), "..", "..", "packaging", "systemd")
    units = []
    for name in ("vigil-manager.service", "vigil-agent.service"):
        text = open(os.path.join(src, name)).read()
        assert "Type=notify" in text and "Restart=on-failure" in text and "WatchdogSec=" in text
        # verify checks that the programs exist: point it at the build
        dst = tmp_path / name
        dst.write_text(text.replace("/usr/sbin/", os.path.abspath(binpath("")) + "/"))
        units.append(str(dst))
    r = subprocess.run([tool, "verify", "--man=no"] + units, capture_output=True, text=True)
    if r.returncode != 0 and ("Failed to" in r.stderr and "bus" in r.stderr.lower()):
        pytest.skip("systemd-analyze verify cannot run here: " + r.stderr.strip())
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == "", r.stderr
