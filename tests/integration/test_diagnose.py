"""Issue 5 (part): seed 003's offline causes, one fault each, and what
vigil-agentctl diagnose and the manager say about it."""
import json
import os
import signal

import pytest

from test_vigilctl import ctl
from vigil import Agent, Manager, free_port, wait_until

ORDER = ["agent daemon", "name resolution", "connect to the manager", "TLS handshake",
         "agent certificate", "clock", "heartbeat", "manager reaches this agent"]
# a 64-character label: the resolver refuses it locally, no DNS query leaves the machine
UNRESOLVABLE = "a" * 64 + ".vigil.test"


def diagnose(agent):
    r = agent.ctl("diagnose", "--json", check=False)
    rep = json.loads(r.stdout)
    return r.returncode, rep


def first_failure(rep):
    fails = [c for c in rep["checks"] if c["state"] == "fail"]
    return fails[0] if fails else None


def text(agent):
    return agent.ctl("diagnose", check=False).stdout


def set_manager_url(agent, url):
    p = os.path.join(agent.dir, "agent.json")
    st = json.load(open(p))
    old = st["manager_url"]
    st["manager_url"] = url
    json.dump(st, open(p, "w"))
    agent.proc.send_signal(signal.SIGHUP)  # the daemon reloads agent.json
    return old


def online_with_port(manager, name):
    wait_until(lambda: manager.status(name) == "Managed (Online)")
    wait_until(lambda: manager.computer(name)["vigil"]["agentPort"] > 0)


def cause(manager, name):
    return manager.computer(name)["vigil"]["probableCause"]


def test_a_healthy_agent_passes_every_check_in_order(manager, agents):
    a = agents("fine")
    online_with_port(manager, "fine")
    rc, rep = diagnose(a)
    assert rc == 0, rep
    assert [c["check"] for c in rep["checks"]] == ORDER
    assert all(c["state"] == "ok" for c in rep["checks"]), rep
    out = text(a)
    assert "Every check passed." in out and "[ ok ] manager reaches this agent" in out


def test_manager_name_does_not_resolve(manager, agents):
    a = agents("dns")
    online_with_port(manager, "dns")
    good = set_manager_url(a, "https://%s:%d/" % (UNRESOLVABLE, manager.agent_port))
    rc, rep = diagnose(a)
    f = first_failure(rep)
    assert rc == 1 and f["check"] == "name resolution", rep
    assert "does not resolve" in f["detail"] and "DNS" in f["fix"]
    assert "Probable cause: the manager's name does not resolve" in text(a)
    # the manager finds the agent's port answering before the deadline: not offline,
    # a communications problem (one direction works), and it calls the agent meanwhile
    al = wait_until(lambda: [x for x in manager.alerts() if x["alertType"] == "communications-problem"
                             and "heartbeats have not arrived" in x["description"]],
                    what="communications problem, agent to manager")
    assert "cannot resolve or reach the manager's address" in al[0]["description"]
    c0 = manager.computer("dns")["lastAgentCommunication"]
    wait_until(lambda: manager.computer("dns")["lastAgentCommunication"] > c0, what="a call")
    assert manager.status("dns") in ("Managed (Online)", "Multiple Warnings")
    assert not manager.events(id=730, computer="dns")
    # back: its first heartbeat tells the manager what had failed
    set_manager_url(a, good)
    wait_until(lambda: not [x for x in manager.alerts() if x["alertType"] == "communications-problem"])
    assert [e for e in manager.events(id=743, computer="dns") if "heartbeats arrive again" in e["description"]]
    err = manager.computer("dns")["vigil"]["agentLastError"]
    assert "resolve" in err.lower(), err


def test_nothing_listens_on_the_agent_channel(manager, agents):
    a = agents("port")
    online_with_port(manager, "port")
    set_manager_url(a, "https://127.0.0.1:%d/" % free_port())
    rc, rep = diagnose(a)
    f = first_failure(rep)
    assert rc == 1 and f["check"] == "connect to the manager", rep
    assert "nothing listens on the manager's agent port" in f["cause"]
    assert "agent_port" in f["fix"]


def test_one_way_the_manager_cannot_reach_the_agent_port(manager, agents):
    a = agents("oneway")
    online_with_port(manager, "oneway")
    assert a.ctl("block-inbound").returncode == 0
    rc, rep = diagnose(a)
    f = first_failure(rep)
    assert rc == 1 and f["check"] == "manager reaches this agent", rep
    assert "the manager cannot reach this agent's port" in f["cause"]
    # the heartbeat of the diagnosis asked the manager to call: it failed, and it says so
    wait_until(lambda: [x for x in manager.alerts() if x["alertType"] == "communications-problem"])
    assert manager.status("oneway") == "Managed (Online)"


def test_expired_client_certificate(tmp_path):
    m = Manager(tmp_path, extra="[ca]\nagent_cert_test_seconds = 4").start()
    a = Agent(m, tmp_path, "expiring").start()
    try:
        a.activate()
        wait_until(lambda: m.status("expiring") == "Managed (Online)")
        # once it expires the manager refuses it: 770 and the alert
        wait_until(lambda: [x for x in m.alerts() if x["alertType"] == "heartbeat-rejected"],
                   timeout=20, what="heartbeat rejected")
        assert [e for e in m.events(id=770) if "certificate_invalid" in e["description"]]
        rc, rep = diagnose(a)
        f = first_failure(rep)
        assert rc == 1 and f["check"] == "agent certificate", rep
        assert "expired" in f["detail"] and "reset" in f["fix"]
        wait_until(lambda: m.status("expiring") == "Managed (Offline)")
        wait_until(lambda: "certificate expired" in m.computer("expiring")["vigil"]["probableCause"])
    finally:
        a.stop()
        assert m.stop() == 0


def test_revoked_certificate(manager, agents):
    a = agents("revoked")
    online_with_port(manager, "revoked")
    assert a.ctl("block-inbound").returncode == 0  # it learns it from a refused heartbeat
    assert ctl(manager, "computer", "deactivate", "revoked").returncode == 0
    wait_until(lambda: a.status().get("deactivated"), what="the agent learns it")
    assert [e for e in manager.events(id=770, computer="revoked") if "computer_deactivated" in e["description"]]
    rc, rep = diagnose(a)
    f = first_failure(rep)
    assert rc == 1 and f["check"] == "activation", rep
    assert "deactivated this computer" in f["cause"] and "vigil-agentctl reset" in f["fix"]


def test_clock_far_off(manager, tmp_path):
    a = Agent(manager, tmp_path, "skewed").start("--clock-offset", "7200000")
    try:
        a.activate()
        online_with_port(manager, "skewed")
        rc, rep = diagnose(a)
        f = first_failure(rep)
        assert rc == 1 and f["check"] == "clock", rep
        assert "7200 s ahead of the manager's" in f["detail"] and "NTP" in f["fix"]
        assert [x for x in manager.alerts() if x["alertType"] == "clock-change"]
    finally:
        a.stop()


def test_agent_process_not_running(manager, agents):
    a = agents("dead")
    online_with_port(manager, "dead")
    a.kill()
    rc, rep = diagnose(a)
    f = first_failure(rep)
    assert rc == 1 and f["check"] == "agent daemon", rep
    assert "not running" in f["cause"] and "--monitor" in f["fix"]
    wait_until(lambda: manager.status("dead") == "Managed (Offline)")
    # the manager knocks on its port: nobody answers
    wait_until(lambda: "nothing answers on its agent port" in cause(manager, "dead"))
    assert "the agent is not running, or the host is down" in cause(manager, "dead")
    show = ctl(manager, "computer", "show", "dead").stdout
    assert "Probable cause:" in show


def test_agent_process_stopped_hangs(manager, agents):
    a = agents("hung")
    online_with_port(manager, "hung")
    a.proc.send_signal(signal.SIGSTOP)
    try:
        wait_until(lambda: manager.status("hung") == "Managed (Offline)")
        # the kernel takes the connection, the stopped agent never answers it
        wait_until(lambda: "does not answer" in cause(manager, "hung"), timeout=20)
        assert "the agent hangs or is stopped" in cause(manager, "hung")
    finally:
        a.proc.send_signal(signal.SIGCONT)
    wait_until(lambda: manager.status("hung") == "Managed (Online)")
    assert manager.computer("hung")["vigil"]["probableCause"] == ""


def test_manager_down(manager, agents):
    a = agents("lonely")
    online_with_port(manager, "lonely")
    manager.stop()
    rc, rep = diagnose(a)
    f = first_failure(rep)
    assert rc == 1 and f["check"] == "connect to the manager", rep
    assert "vigil-manager is down" in f["cause"] and "systemctl status vigil-manager" in f["fix"]
    wait_until(lambda: a.status()["last_heartbeat"]["ok"] is False)
    manager.start()
    # its first heartbeat tells the manager what failed while it was away
    err = wait_until(lambda: manager.computer("lonely")["vigil"]["agentLastError"])
    assert "127.0.0.1:%d" % manager.agent_port in err
    assert manager.status("lonely") == "Managed (Online)"


def test_host_shut_down_cleanly(manager, agents):
    a = agents("shutdown")
    online_with_port(manager, "shutdown")
    a.stop()  # SIGTERM, as at a shutdown
    assert wait_until(lambda: manager.events(id=5003, computer="shutdown"))
    wait_until(lambda: manager.status("shutdown") == "Managed (Offline)")
    c = cause(manager, "shutdown")
    assert "that it was stopping: the host was shut down or the agent stopped cleanly" in c
    al = [x for x in manager.alerts() if x["alertType"] == "computer-offline"]
    assert al and "the host was shut down" in al[0]["description"]
