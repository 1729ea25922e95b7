#!/usr/bin/python3
"""make bench: vigil-manager side by side with nginx, driven by bench/vigil-sim.

Runs in one go on loopback and prints one table (docs/BENCHMARKS.md explains
every row).  Every phase is bounded in time; nothing listens beyond 127.0.0.1.

  1. kept-alive heartbeats/s, Vigil vs nginx (same mutual TLS: the manager's
     CA, client certificate required, a fixed response of the same size)
  2. new-connection heartbeats/s with TLS session resumption, same comparison
  3. manager resident memory with MEM_N registered computers (bulk-registered
     in the database, see BENCHMARKS.md), bytes per computer, extrapolated to 1M
  4. offline detection error with N_FLEET (100 000) computers online, of
     which up to 15 000 kept alive: OFF_STOP of those stop at once; each
     one's offline event against its deadline
  5. activations per second (a new TLS connection per activation)
  6. reconnect storm: the manager restarts under the same fleet; time until
     every agent is back, and offline alerts raised (target: none)
  7. agent idle: a real vigil-agent's resident memory and CPU over a minute

Items 4 and 6 are one simulator run over the whole fleet (ramp, warm-up,
stop, detection, restart, recovery).  The fleet's identities are activated
once through the real API and kept in build/bench-cache (BENCH_FRESH=1 makes
a new one); 100 000 connections need a descriptor limit above 100 000, which
the bench raises when it runs as root (otherwise the fleet shrinks to fit).

Environment: BENCH_QUICK=1 for a short run; BENCH_RUNS (3) runs per
comparison, medians reported; BENCH_JSON=FILE writes every raw result.
"""
import argparse
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUICK = os.environ.get("BENCH_QUICK") == "1"
RUNS = int(os.environ.get("BENCH_RUNS", "1" if QUICK else "3"))
N_FLEET = int(os.environ.get("BENCH_FLEET", "5000" if QUICK else "100000"))  # items 4, 6
ACT_N = 1000 if QUICK else 5000        # activations measured (5)
TP_AGENTS = 200 if QUICK else 500      # agents in the throughput runs (1, 2)
TP_SECONDS = 3 if QUICK else 5
MEM_N = 100000 if QUICK else 1000000   # registered computers (3)
OFF_STOP = 200 if QUICK else 1000
HB_INTERVAL = 10 if QUICK else 60      # policy of the fleet manager (s): 100 000
                                       # agents at 60 s are the heartbeat rate of
                                       # 1 000 000 at the default 600 s
MISSED = 2                             # so the offline window is 3 intervals
IDLE_S = 20 if QUICK else 60           # agent idle measurement (7)
CACHE = os.path.join(ROOT, "build", "bench-cache")

raw = {}


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def ensure_nginx():
    for p in ("/usr/sbin/nginx", shutil.which("nginx") or ""):
        if p and os.access(p, os.X_OK):
            return p
    log("nginx missing: apt-get install nginx (bench-only dependency)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    if subprocess.run(sudo + ["apt-get", "install", "-y", "-q", "nginx"], env=env).returncode:
        subprocess.run(sudo + ["apt-get", "update", "-q"], env=env, check=True)
        subprocess.run(sudo + ["apt-get", "install", "-y", "-q", "nginx"], env=env, check=True)
    return "/usr/sbin/nginx"


def sim(port, ca, *args, pids=(), timeout=300):
    cmd = [os.path.join(BIN, "vigil-sim"), "--port", str(port), "--ca", ca]
    for p in pids:
        cmd += ["--pid", str(p)]
    cmd += [str(a) for a in args]
    log(" ".join(cmd[1:]))
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise SystemExit("vigil-sim failed: %s" % r.stderr)
    return json.loads(r.stdout)


def rss_kb(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Nginx:
    """nginx with the manager's client CA, client certificate required, one
    worker (the manager is one event loop), a fixed response of body_len bytes."""

    def __init__(self, work, client_ca, body_len):
        self.dir = os.path.join(work, "nginx")
        os.makedirs(os.path.join(self.dir, "logs"), exist_ok=True)
        d = self.dir
        ossl = ["openssl"]
        # a throwaway CA for nginx's server certificate; the simulator trusts it
        subprocess.run(ossl + ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                               "-nodes", "-keyout", d + "/ca.key", "-out", d + "/ca.crt", "-days", "2",
                               "-subj", "/CN=vigil-bench-ca"], check=True, capture_output=True)
        subprocess.run(ossl + ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                               "-keyout", d + "/srv.key", "-out", d + "/srv.csr",
                               "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
        with open(d + "/ext", "w") as f:
            f.write("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
        subprocess.run(ossl + ["x509", "-req", "-in", d + "/srv.csr", "-CA", d + "/ca.crt", "-CAkey",
                               d + "/ca.key", "-CAcreateserial", "-out", d + "/srv.crt", "-days", "2",
                               "-extfile", d + "/ext"], check=True, capture_output=True)
        self.ca = d + "/ca.crt"
        s = vigil.free_port()
        self.port = s
        # a JSON body of the manager's heartbeat-response size
        body = '{"status":"Managed (Online)","pad":"%s"}'
        body = body % ("x" * max(0, body_len - len(body % "")))
        conf = """
worker_processes 1;
pid %(d)s/nginx.pid;
error_log %(d)s/logs/error.log warn;
worker_rlimit_nofile 20000;
events { worker_connections 20000; }
http {
    access_log off;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
    server {
        listen 127.0.0.1:%(port)d ssl;
        ssl_certificate %(d)s/srv.crt;
        ssl_certificate_key %(d)s/srv.key;
        ssl_client_certificate %(ca)s;
        ssl_verify_client on;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:SSL:50m;
        ssl_session_tickets on;
        client_body_buffer_size 64k;
        location = /agent/v1/heartbeat {
            default_type application/json;
            return 200 '%(body)s';
        }
    }
}
""" % {"d": d, "port": s, "ca": client_ca, "body": body}
        self.conf = d + "/nginx.conf"
        with open(self.conf, "w") as f:
            f.write(conf)
        self.nginx = ensure_nginx()
        self.proc = subprocess.Popen([self.nginx, "-p", d, "-c", self.conf, "-g", "daemon off;"],
                                     stderr=open(d + "/logs/stderr", "a"))
        deadline = time.monotonic() + 10
        self.pids = []
        while time.monotonic() < deadline and not self.pids:
            time.sleep(0.1)
            try:
                kids = open("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)).read().split()
            except OSError:
                kids = []
            self.pids = [int(k) for k in kids]
        if not self.pids:
            raise SystemExit("nginx did not start: %s" % open(d + "/logs/stderr").read())
        self.pids.insert(0, self.proc.pid)

    def stop(self):
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def compare(m, ng, ids, mode):
    """RUNS alternating runs of the same simulator against both servers."""
    res = {"vigil": [], "nginx": []}
    for i in range(RUNS):
        for who in ("vigil", "nginx"):
            if who == "vigil":
                port, ca, pids = m.agent_port, m.ca, [m.proc.pid]
            else:
                port, ca, pids = ng.port, ng.ca, ng.pids
            out = sim(port, ca, "--load", ids, "--agents", TP_AGENTS, "--mode", mode,
                      "--interval", 0, "--duration", TP_SECONDS, "--warmup", 1, pids=pids)
            res[who].append(out["heartbeat"])
    raw[mode] = res
    return res


def mem_subset(work):
    """Item 3: MEM_N computers registered, the manager restarted, RSS read."""
    d = os.path.join(work, "mem")
    os.makedirs(d)
    m = vigil.Manager(d, heartbeat_interval=3600, missed=2, extra=BENCH_EXTRA).start()
    time.sleep(1)
    base_kb = rss_kb(m.proc.pid)
    # 100 real activations give the template rows
    sim(m.agent_port, m.ca, "--token", m.token, "--activate", 100, "--no-keep")
    m.stop()
    db = os.path.join(m.state, "vigil.db")
    if not os.path.exists(db):
        db = [os.path.join(m.state, f) for f in os.listdir(m.state) if f.endswith(".db")][0]
    con = sqlite3.connect(db)
    cols = [r[1] for r in con.execute("PRAGMA table_info(computers)")]
    t0 = time.monotonic()
    now = int(time.time() * 1000)
    sel = []
    for c in cols:
        if c == "id":
            sel.append("t.id + n.i * 1000")
        elif c == "guid":
            sel.append("lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || "
                       "substr(hex(randomblob(2)),2) || '-a' || substr(hex(randomblob(2)),2) || '-' || "
                       "hex(randomblob(6)))")
        elif c == "hostname":
            sel.append("'bulk-' || (t.id + n.i * 1000)")
        elif c == "cert_serial":
            sel.append("lower(hex(randomblob(16)))")
        elif c == "last_contact_ms":
            sel.append(str(now))
        else:
            sel.append("t." + c)
    reps = (MEM_N - 100 + 99) // 100
    con.execute("BEGIN")
    con.execute(
        "INSERT INTO computers (%s) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
        "WHERE i < %d) SELECT %s FROM computers t, n WHERE t.id <= 1000" % (
            ",".join(cols), reps, ",".join(sel)))
    con.execute("COMMIT")
    total = con.execute("SELECT count(*) FROM computers").fetchone()[0]
    con.close()
    log("registered %d computers in the database in %.1f s" % (total, time.monotonic() - t0))
    t0 = time.monotonic()
    m.start()
    start_s = time.monotonic() - t0
    time.sleep(3)
    kb = rss_kb(m.proc.pid)
    listed = len(m.api("/api/computers?limit=10")["computers"])
    time.sleep(1)
    kb2 = rss_kb(m.proc.pid)
    m.stop()
    per = (max(kb, kb2) - base_kb) * 1024 / total
    r = {"computers": total, "rss_kb": max(kb, kb2), "base_rss_kb": base_kb,
         "bytes_per_computer": per, "start_s": start_s, "listed": listed,
         "extrapolated_1m_mb": (base_kb * 1024 + per * 1e6) / 1e6}
    raw["memory"] = r
    return r


def all_computers(m):
    comps, after = {}, 0
    while True:
        page = m.api("/api/computers?after=%d&limit=10000" % after)["computers"]
        if not page:
            return comps
        for c in page:
            comps[c["ID"]] = c
        after = page[-1]["ID"]


def events_since(m, eid, t_ms):
    """Every event eid at or after t_ms (paged by ID)."""
    out, after = [], 0
    while True:
        page = m.api("/api/events?id=%d&since=%d&after=%d&limit=5000" % (eid, t_ms, after))["events"]
        if not page:
            return out
        out += page
        after = max(e["systemEventID"] for e in page)


def ramp_s(n):
    """The fleet's first connections spread so that full handshakes (about
    2 ms of the two cores each, manager and simulator) stay below what the
    machine does, and well inside one offline window."""
    return max(5, min(n // 400, HB_INTERVAL * (MISSED + 1) // 2))


SLOW_HB_S = 600    # the "slow" agents heartbeat at their policy's interval (600 s)


def fleet_run(m, ids, n, ids_slow, n_slow):
    """Items 4 and 6 in one run over the whole fleet: n kept-alive agents
    (ramp, warm-up, OFF_STOP of them stop, their offline detection is
    measured, then the manager restarts under the rest: the storm) while
    n_slow more heartbeat every SLOW_HB_S on a new connection each (a second
    simulator), so that the manager holds n + n_slow computers, all online."""
    window = HB_INTERVAL * (MISSED + 1)
    ramp = ramp_s(n)
    warm = ramp + int(HB_INTERVAL * 1.2) + 5
    dur = window + 20 + 2 * HB_INTERVAL + 30
    stopf = os.path.join(m.dir, "stopped.txt")
    cmd = [os.path.join(BIN, "vigil-sim"), "--port", str(m.agent_port), "--ca", m.ca, "--load", ids,
           "--agents", str(n), "--mode", "keepalive", "--interval", str(HB_INTERVAL * 1000),
           "--jitter", "0.1", "--ramp", str(ramp), "--warmup", str(warm), "--duration", str(dur),
           "--stop", str(OFF_STOP), "--stop-after", "0.5", "--stop-file", stopf,
           "--source-ips", "16", "--pid", str(m.proc.pid)]
    log(" ".join(cmd[1:]))
    t_start = int(time.time() * 1000)
    slow = None
    if n_slow > 0:
        scmd = [os.path.join(BIN, "vigil-sim"), "--port", str(m.agent_port), "--ca", m.ca,
                "--load", ids_slow, "--mode", "reconnect", "--interval", str(SLOW_HB_S * 1000),
                "--jitter", "0.1", "--warmup", "0", "--duration", str(warm + dur),
                "--source-ips", "16"]
        log(" ".join(scmd[1:]))
        slow = subprocess.Popen(scmd, stdout=subprocess.PIPE, text=True)
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        t_warm = t_start + warm * 1000
        vigil.wait_until(lambda: os.path.exists(stopf) and os.path.getsize(stopf) > 0 or p.poll() is not None,
                         timeout=warm + 60, interval=1, what="the stop")
        time.sleep(1)
        rss_fleet = rss_kb(m.proc.pid)
        stopped = {}
        for line in open(stopf):
            g, t = line.split()
            stopped[g] = int(t)
        t_stop = min(stopped.values())

        def all_offline():
            return all(c["vigil"]["offline"] for c in all_computers(m).values()
                       if c["hostGUID"] in stopped)
        vigil.wait_until(all_offline, timeout=window + 30, interval=2, what="stopped agents offline")
        time.sleep(2)  # events reach the database in batches
        comps = all_computers(m)
        by_guid = {c["hostGUID"]: c for c in comps.values()}
        first = {}
        late = set()
        for e in events_since(m, 730, t_stop - window * 1000):
            cid = e.get("targetID")
            if cid is not None and e["time"] >= t_stop and cid not in first:
                first[cid] = e["time"]
            if cid is not None and e["time"] >= t_warm:
                late.add(cid)
        errs, missing, not_back = [], 0, 0
        for g in stopped:
            c = by_guid.get(g)
            if c is not None and c["lastAgentCommunication"] < t_warm - HB_INTERVAL * 2000:
                not_back += 1  # never online before the stop: nothing to detect
                continue
            if c is None or c["ID"] not in first:
                missing += 1
                continue
            errs.append(first[c["ID"]] - (c["lastAgentCommunication"] + window * 1000))
        errs.sort()
        stopped_ids = {by_guid[g]["ID"] for g in stopped if g in by_guid}
        off = {"agents": n + n_slow, "alive": n, "stopped": len(stopped), "detected": len(errs), "missing": missing,
               "max_ms": errs[-1] if errs else None,
               "p99_ms": errs[int(0.99 * (len(errs) - 1))] if errs else None,
               "p50_ms": errs[len(errs) // 2] if errs else None,
               "min_ms": errs[0] if errs else None,
               "false_offline": len([c for c in late if c not in stopped_ids]),
               "not_back": not_back, "rss_kb": rss_fleet, "ramp_s": ramp, "window_s": window}
        # the storm: SIGTERM and start under the rest of the fleet
        t0 = time.time()
        m.stop()
        m.start()
        restart_s = time.time() - t0
        out = json.loads(p.communicate(timeout=dur + warm + 120)[0])["heartbeat"]
        # the kept-alive agents stop here: what follows is not the storm's
        t_end_ms = int(time.time() * 1000)
        if slow:
            slow.send_signal(signal.SIGINT)
        sout = json.loads(slow.communicate(timeout=600)[0]).get("heartbeat") if slow else None
    finally:
        for x in (p, slow):
            if x and x.poll() is None:
                x.kill()
                x.wait()
    time.sleep(2)
    t0_ms = int(t0 * 1000)
    # false offline: between the restart and the end of the kept-alive run
    ev = [e for e in events_since(m, 730, t0_ms) if e.get("targetID") not in stopped_ids
          and e["time"] < t_end_ms]
    alerts = [a for a in m.alerts() if a["alertType"] == "computer-offline"
              and t0_ms <= a["timeRaised"] < t_end_ms
              and not set(a.get("computerIDs", [])) & stopped_ids]
    online_after = sum(1 for c in all_computers(m).values()
                       if c["lastAgentCommunication"] >= t0_ms)
    off.update({"sim_errors": out["errors"], "sim_errors_in_warmup": out["errors_in_warmup"],
                "slow_agents": n_slow, "slow": sout, "computers": len(comps)})
    st = {"agents": n + n_slow - len(stopped), "restart_s": restart_s, "recovery_s": out["recovery_ms"] / 1000,
          "down_at_end": out["agents_down_at_end"], "offline_alerts_raised": len(alerts),
          "offline_events": len(ev), "heard_after_restart": online_after,
          "errors_by_kind": out["errors_by_kind"], "server_closes": out["server_closes_idle"],
          "handshakes": out["handshakes"], "resumed": out["resumed"]}
    raw["offline"] = off
    raw["storm"] = st
    raw["storm_offline_events"] = ev[:50]
    return off, st


def agent_idle(work):
    """Item 7: one real vigil-agent, activated, heartbeating at HB_INTERVAL."""
    d = os.path.join(work, "idle")
    os.makedirs(d)
    m = vigil.Manager(d, heartbeat_interval=HB_INTERVAL, missed=MISSED).start()
    a = vigil.Agent(m, d, "idle").start()
    try:
        a.activate()
        vigil.wait_until(lambda: m.status("idle") == "Managed (Online)", what="idle agent online")
        time.sleep(3)

        def cpu_s(pid):
            f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
            return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
        c0, t0 = cpu_s(a.proc.pid), time.monotonic()
        rss = [rss_kb(a.proc.pid)]
        while time.monotonic() - t0 < IDLE_S:
            time.sleep(1)
            rss.append(rss_kb(a.proc.pid))
        c1, t1 = cpu_s(a.proc.pid), time.monotonic()
        hb = m.computer("idle")["lastAgentCommunication"]
    finally:
        a.stop()
        m.stop()
    r = {"seconds": t1 - t0, "rss_kb_max": max(rss), "rss_kb_median": med(rss),
         "cpu_s": c1 - c0, "cpu_pct": 100 * (c1 - c0) / (t1 - t0), "interval_s": HB_INTERVAL,
         "last_heartbeat_ms": hb}
    raw["agent_idle"] = r
    return r


def alive_capacity():
    """How many kept-alive connections one process may hold here: the
    descriptor limit, raised to its hard maximum (raising that needs
    CAP_SYS_RESOURCE, which this machine's root lacks: 20 000)."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(hard, 250000), max(hard, 250000)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft - 2000


def fleet(work, n, n_alive, extra):
    """The fleet's manager and identities: n_alive agents on the default
    policy (HB_INTERVAL) and n - n_alive on policy "slow" (600 s, the
    default of Deep Security).  Activated once through the API, then copied
    from build/bench-cache (BENCH_FRESH=1: make a new one)."""
    cache = os.path.join(CACHE, "fleet-%d-%d" % (n, n_alive))
    ids_alive, ids_slow = os.path.join(cache, "ids-alive.pem"), os.path.join(cache, "ids-slow.pem")
    d = os.path.join(work, "fleet")
    if os.environ.get("BENCH_FRESH") == "1" or not os.path.exists(os.path.join(cache, "done")):
        shutil.rmtree(cache, ignore_errors=True)
        os.makedirs(cache)
        m = vigil.Manager(os.path.join(cache, "mgr"), heartbeat_interval=HB_INTERVAL, missed=MISSED,
                          extra=extra)
        os.makedirs(m.dir)
        m.start()
        try:
            m.api("/api/policies", method="POST", body={"name": "slow", "settings": {
                "heartbeat_interval": 600, "missed_heartbeats_allowed": 2}})
            t0 = time.monotonic()
            for ids, k, pol in ((ids_alive, n_alive, None), (ids_slow, n - n_alive, "slow")):
                if k <= 0:
                    open(ids, "w").close()
                    continue
                act = sim(m.agent_port, m.ca, "--token", m.token, "--activate", k, "--save", ids,
                          "--concurrency", 64, "--activate-timeout", 7200,
                          "--name-prefix", "slow" if pol else "sim",
                          *(["--policy", pol] if pol else []), pids=[m.proc.pid],
                          timeout=7500)["activation"]
                if act["activated"] != k:
                    raise SystemExit("fleet: %d of %d activated" % (act["activated"], k))
        finally:
            m.stop()
        open(os.path.join(cache, "done"), "w").close()
        log("fleet of %d activated in %.0f s, kept in %s" % (n, time.monotonic() - t0, cache))
    shutil.copytree(os.path.join(cache, "mgr"), d)
    m = vigil.Manager(d, heartbeat_interval=HB_INTERVAL, missed=MISSED, extra=extra)
    return m, ids_alive, ids_slow


def machine():
    cpu = ""
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    ncpu = os.cpu_count()
    mem = open("/proc/meminfo").readline().split()[1]
    kern = os.uname().release
    ssl = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
    ng = subprocess.run([ensure_nginx(), "-v"], capture_output=True, text=True).stderr.strip()
    return "%d x %s, %d MiB RAM, Linux %s, %s, %s" % (ncpu, cpu, int(mem) // 1024, kern, ssl, ng)


def main():
    global BIN, vigil, BENCH_EXTRA
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "bin"))
    ap.add_argument("--only", default="1,2,3,4,5,6,7")
    args = ap.parse_args()
    BIN = args.bin
    os.environ["VIGIL_BIN"] = BIN
    sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
    import vigil as v
    vigil = v
    only = set(args.only.split(","))
    n_alive = min(N_FLEET, alive_capacity() - TP_AGENTS, int(os.environ.get("BENCH_ALIVE", "4000" if QUICK else "15000")))
    BENCH_EXTRA = ("max_connections = %d\nidle_timeout = 3600\n"
                   "[activation]\nrate = 1000000\nburst = 1000000\n[manager]\nlog_level = warning\n"
                   % (n_alive + 4000))
    ensure_nginx()
    work = tempfile.mkdtemp(prefix="vigil-bench-")
    rows = []
    t_all = time.monotonic()
    ng = None
    managers = []
    try:
        if "5" in only:
            am = vigil.Manager(os.path.join(work, "act"), heartbeat_interval=3600, missed=2,
                               extra=BENCH_EXTRA)
            os.makedirs(am.dir)
            am.start()
            managers.append(am)
            act = sim(am.agent_port, am.ca, "--token", am.token, "--activate", ACT_N, "--no-keep",
                      "--concurrency", 64, "--activate-timeout", 600, pids=[am.proc.pid])["activation"]
            raw["activation"] = act
            am.stop()
            managers.remove(am)
            rows.append(("5 activations/s (%d, 64 in flight, new TLS conn each)" % act["activated"],
                         "%.0f /s" % act["per_s"], "", "",
                         "p50 %.0f ms, p99 %.0f ms; manager %.2f cores, %.0f per core-s; %d errors" % (
                             act["p50_ms"], act["p99_ms"], act["server_cores"],
                             act["per_server_core_s"], act["errors"]),
                         ">= 1000/s", act["per_s"] >= 1000))
        # throughput on a manager of its own, with a long heartbeat interval, so
        # that nothing else (offline events, alerts, probes) runs while it is measured
        if only & {"1", "2"}:
            tm = vigil.Manager(os.path.join(work, "tp"), heartbeat_interval=3600, missed=2,
                               extra=BENCH_EXTRA)
            os.makedirs(tm.dir)
            tm.start()
            managers.append(tm)
            tids = os.path.join(work, "tp-ids.pem")
            sim(tm.agent_port, tm.ca, "--token", tm.token, "--activate", TP_AGENTS, "--save", tids)
            probe = sim(tm.agent_port, tm.ca, "--load", tids, "--agents", 1, "--interval", 0,
                        "--duration", 0.5, "--warmup", 0)["heartbeat"]
            ng = Nginx(work, tm.ca, probe["response_body_bytes"])
        for item, mode, target in (("1", "keepalive", 0.5), ("2", "reconnect", 0.8)):
            if item not in only:
                continue
            res = compare(tm, ng, tids, mode)
            v_ = med([r["per_s"] for r in res["vigil"]])
            n_ = med([r["per_s"] for r in res["nginx"]])
            vc = med([r["per_server_core_s"] for r in res["vigil"]])
            nc = med([r["per_server_core_s"] for r in res["nginx"]])
            vr = med([r["resumed"] / max(1, r["handshakes"]) for r in res["vigil"]])
            nr = med([r["resumed"] / max(1, r["handshakes"]) for r in res["nginx"]])
            note = ("per server core-s: vigil %.0f, nginx %.0f (%.2f); p50/p99/p99.9 ms vigil %.1f/%.1f/%.1f, "
                    "nginx %.1f/%.1f/%.1f; errors vigil %d nginx %d" % (
                        vc, nc, vc / nc, med([r["p50_ms"] for r in res["vigil"]]),
                        med([r["p99_ms"] for r in res["vigil"]]),
                        med([r["p999_ms"] for r in res["vigil"]]),
                        med([r["p50_ms"] for r in res["nginx"]]),
                        med([r["p99_ms"] for r in res["nginx"]]),
                        med([r["p999_ms"] for r in res["nginx"]]),
                        sum(r["errors"] for r in res["vigil"]), sum(r["errors"] for r in res["nginx"])))
            if mode == "reconnect":
                note += "; resumed vigil %.0f%% nginx %.0f%%" % (100 * vr, 100 * nr)
            label = ("1 kept-alive heartbeats/s" if mode == "keepalive" else
                     "2 new-connection heartbeats/s (resumption)")
            rows.append(("%s, %d agents" % (label, TP_AGENTS), "%.0f /s" % v_, "%.0f /s" % n_,
                         "%.2f" % (v_ / n_), note, ">= %.1f x nginx" % target, v_ / n_ >= target))
        if ng:
            ng.stop()
            ng = None
        if only & {"1", "2"}:
            tm.stop()
            managers.remove(tm)
        if only & {"4", "6"}:
            m, ids, ids_slow = fleet(work, N_FLEET, n_alive, BENCH_EXTRA)
            m.start()
            managers.append(m)
            r, st = fleet_run(m, ids, n_alive, ids_slow, N_FLEET - n_alive)
            rows.append(("4 offline detection, %d agents (%d kept alive), %d stop" % (
                r["agents"], r["alive"], r["stopped"]),
                         "max %s ms" % r["max_ms"], "", "",
                         "p99 %s ms, p50 %s ms, min %s ms after the deadline; %d detected, %d missed, "
                         "%d false, %d not back online before the stop; manager RSS %.0f MB with "
                         "%d computers and %d connections; simulator errors %d + %d" % (
                             r["p99_ms"], r["p50_ms"], r["min_ms"], r["detected"], r["missing"],
                             r["false_offline"], r["not_back"], r["rss_kb"] / 1024, r["computers"],
                             r["alive"], r["sim_errors"], r["slow"]["errors"] if r["slow"] else 0),
                         "within 1000 ms", r["max_ms"] is not None and r["max_ms"] <= 1000
                         and r["missing"] == 0 and r["false_offline"] == 0))
            rows.append(("6 reconnect storm, %d agents" % st["agents"],
                         ("%.1f s to all online" % st["recovery_s"]) if st["down_at_end"] == 0
                         else "%d never back" % st["down_at_end"], "", "",
                         "restart took %.1f s; %d offline alerts, %d offline events; %d still down; "
                         "%d heard from after the restart; %d of %d handshakes resumed" % (
                             st["restart_s"], st["offline_alerts_raised"], st["offline_events"],
                             st["down_at_end"], st["heard_after_restart"], st["resumed"],
                             st["handshakes"]),
                         "no false offline", st["offline_alerts_raised"] == 0 and st["offline_events"] == 0
                         and st["down_at_end"] == 0))
    finally:
        if ng:
            ng.stop()
        for x in managers:
            x.stop()
    if "7" in only:
        r = agent_idle(work)
        rows.append(("7 agent idle, %d s at a %d s interval" % (r["seconds"], r["interval_s"]),
                     "%.1f MB, %.3f%% CPU" % (r["rss_kb_max"] / 1024, r["cpu_pct"]), "", "",
                     "resident max %.1f MB (median %.1f); %.2f s of CPU in %.0f s" % (
                         r["rss_kb_max"] / 1024, r["rss_kb_median"] / 1024, r["cpu_s"], r["seconds"]),
                     "< 8 MB, no measurable CPU", r["rss_kb_max"] < 8 * 1024 and r["cpu_pct"] < 0.1))
    if "3" in only:
        r = mem_subset(work)
        rows.append(("3 manager RSS, %d computers" % r["computers"], "%.0f MB" % (r["rss_kb"] / 1024),
                     "", "", "%.0f bytes/computer over a %.0f MB empty manager; 1M -> %.0f MB; start %.1f s" % (
                         r["bytes_per_computer"], r["base_rss_kb"] / 1024, r["extrapolated_1m_mb"],
                         r["start_s"]), "<= 2 GB at 1M", r["extrapolated_1m_mb"] <= 2000))
    rows.sort(key=lambda r: r[0])
    print()
    print("vigil bench (%s%d runs each, medians), %s" % ("QUICK, " if QUICK else "", RUNS, machine()))
    hdr = ("item", "vigil", "nginx", "ratio", "target", "met")
    w = [max(len(str(x)) for x in col) for col in zip(hdr, *[(r[0], r[1], r[2], r[3], r[5], "")
                                                           for r in rows])]
    print("  ".join(h.ljust(w[i]) if i < 5 else h for i, h in enumerate(hdr)))
    for r in rows:
        cells = (r[0], r[1], r[2], r[3], r[5], "yes" if r[6] else "NO")
        print("  ".join(str(c).ljust(w[i]) if i < 5 else c for i, c in enumerate(cells)))
        print("    " + r[4])
    print("total %.0f s; raw results in %s" % (time.monotonic() - t_all,
                                                os.environ.get("BENCH_JSON", work + "/results.json")))
    with open(os.environ.get("BENCH_JSON", work + "/results.json"), "w") as f:
        json.dump(raw, f, indent=1)


if __name__ == "__main__":
    main()
