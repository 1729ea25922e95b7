"""Smoke run of the load simulator (bench/vigil-sim.c): a few hundred agents
for a few seconds, in both heartbeat modes.  `make bench` runs it at scale;
this only proves that the simulator and the manager agree: every simulated
agent activates, heartbeats without a single error, and the REST API lists
every one of them Managed (Online).  No timing is asserted (DESIGN §8)."""
import json
import subprocess
import time

from vigil import Manager, binpath, wait_until

AGENTS = 300


def sim(m, *args, timeout=60):
    r = subprocess.run([binpath("vigil-sim"), "--port", str(m.agent_port), "--ca", m.ca,
                        "--pid", str(m.proc.pid)] + list(args),
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def online(m):
    return sum(1 for c in m.computers()
               if c["computerStatus"]["agentStatusMessages"][0] == "Managed (Online)")


def heard_since(m, t_ms):
    """Computers whose last heartbeat the manager recorded at or after t_ms."""
    return sum(1 for c in m.computers() if c["lastAgentCommunication"] >= t_ms)


def test_sim_agents_activate_heartbeat_and_are_online(tmp_path):
    m = Manager(tmp_path, heartbeat_interval=2, missed=2,
                extra="[activation]\nrate = 100000\nburst = 100000\n").start()
    try:
        ids = str(tmp_path / "ids.pem")
        out = sim(m, "--token", m.token, "--activate", str(AGENTS), "--save", ids,
                  "--activate-timeout", "30")
        act = out["activation"]
        assert act["activated"] == AGENTS and act["errors"] == 0, act
        assert out["saved"] == AGENTS
        t_act = int(time.time() * 1000)
        out = sim(m, "--load", ids, "--duration", "3", "--warmup", "0.5",
                  "--mode", "keepalive", "--interval", "500", "--events", "1")
        hb = out["heartbeat"]
        assert hb["agents"] == AGENTS
        assert hb["errors"] == 0 and hb["errors_in_warmup"] == 0, hb
        # every agent heartbeated in the run (the manager's record, not a rate:
        # a loaded or sanitizer build is slower)
        assert hb["ok"] > 0, hb
        assert heard_since(m, t_act) == AGENTS
        assert hb["events_sent"] > 0
        assert hb["p50_ms"] > 0 and hb["p99_ms"] >= hb["p50_ms"]
        assert hb["server_rss_kb"] > 0 and hb["server_cpu_s"] > 0
        assert len(m.computers()) == AGENTS
        wait_until(lambda: online(m) == AGENTS, timeout=10, what="all simulated agents online")

        # the same identities, a new mutual-TLS connection per heartbeat
        t_rec = int(time.time() * 1000)
        out = sim(m, "--load", ids, "--duration", "3", "--warmup", "0.5",
                  "--mode", "reconnect", "--interval", "1000")
        hb = out["heartbeat"]
        assert hb["agents"] == AGENTS
        assert hb["errors"] == 0 and hb["errors_in_warmup"] == 0, hb
        assert hb["ok"] > 0, hb
        assert heard_since(m, t_rec) == AGENTS
        # one handshake per heartbeat (those begun in the warm-up are not counted)
        assert hb["handshakes"] >= hb["ok"] - AGENTS
        # every agent makes at most one full handshake (its first); all later ones
        # resume its session, however fast the manager is (a sanitizer build is slow)
        assert hb["resumed"] > 0 and hb["resumed"] >= hb["handshakes"] - AGENTS, hb
        assert online(m) == AGENTS
    finally:
        rc = m.stop()
    assert rc in (0, None), m.logs()[-3000:]
