"""Issue 4 (part): communication direction, the agent port, tasks, communications
problem, clock change, clear warnings and errors."""
import json
import os
import socket
import time

import pytest

from test_vigilctl import ctl
from vigil import Agent, Manager, wait_until


@pytest.fixture
def fast_probe_manager(tmp_path):
    """A manager that checks the way back to every bidirectional agent each second."""
    m = Manager(tmp_path, extra="[agents]\nprobe_interval = 1").start()
    yield m
    assert m.stop() in (0, None), m.logs()[-3000:]


def activate_with(agent, m, policy):
    r = agent.ctl("activate", "https://127.0.0.1:%d/" % m.agent_port, "token:" + m.token,
                  "hostname:" + agent.name, "policy:" + policy, "--ca-fingerprint", m.fingerprint)
    assert r.returncode == 0, r.stderr
    return r


def agent_cfg(agent):
    return json.load(open(os.path.join(agent.dir, "agent.json"))).get("config", {})


def connect_refused(port):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
        return False
    except ConnectionRefusedError:
        return True
    finally:
        s.close()


def test_bidirectional_policy_change_is_pushed_at_once(manager, agents):
    # heartbeats every 60 s: only a push can deliver the change within seconds
    assert ctl(manager, "policy", "create", "Slow", "heartbeat_interval=60").returncode == 0
    a = agents("push", activate=False)
    activate_with(a, manager, "Slow")
    wait_until(lambda: manager.status("push") == "Managed (Online)")
    wait_until(lambda: agent_cfg(a).get("heartbeat_interval") == 60)
    c = wait_until(lambda: manager.computer("push") if manager.computer("push")["vigil"]["agentPort"] else None)
    assert c["vigil"]["agentPort"] == a.status()["agent_port"]["port"]
    hb_before = a.status()["last_heartbeat"]["attempt_ms"]
    t0 = time.time()
    assert ctl(manager, "policy", "set", "Slow", "firewall=on").returncode == 0
    wait_until(lambda: agent_cfg(a).get("modules", {}).get("firewall") == "on", timeout=10,
               what="the configuration pushed on the agent port")
    assert time.time() - t0 < 10
    # it came on the port, not with a heartbeat
    assert a.status()["last_heartbeat"]["attempt_ms"] == hb_before
    assert a.status()["agent_port"]["accepted"] >= 1
    assert [e for e in manager.events(id=720, computer="push") if "agent port" in e["description"]]


def test_agent_initiated_never_connects_and_tasks_wait_for_the_heartbeat(manager, agents):
    assert ctl(manager, "policy", "create", "Outbound",
               "communication_direction=agent-initiated", "heartbeat_interval=2").returncode == 0
    a = agents("ai", activate=False)
    activate_with(a, manager, "Outbound")
    wait_until(lambda: manager.status("ai") == "Managed (Online)")
    st = wait_until(lambda: a.status() if not a.status()["agent_port"]["listening"] else None)
    port = st["agent_port"]["port"]
    assert connect_refused(port)  # nothing listens: nothing can connect
    assert manager.computer("ai")["vigil"]["communicationDirection"] == "agent-initiated"
    r = ctl(manager, "computer", "check-status", "ai")
    assert r.returncode == 0 and "ai: Check Status Pending (Heartbeat)" in r.stdout, r.stdout + r.stderr
    assert manager.computer("ai")["tasks"]["agentTasks"] == ["Check Status Pending (Heartbeat)"]
    r = ctl(manager, "computer", "send-policy", "ai")
    assert "Update of Configuration Pending (Heartbeat)" in r.stdout
    assert manager.events(id=267, computer="ai") and manager.events(id=256, computer="ai")
    # the next heartbeat does both
    wait_until(lambda: manager.computer("ai")["tasks"]["agentTasks"] == [], what="tasks done")
    r = ctl(manager, "computer", "tasks", "ai")
    assert r.returncode == 0 and "done by the agent's heartbeat" in r.stdout
    # a policy change reaches it with a heartbeat, and still nothing connects
    assert ctl(manager, "policy", "set", "Outbound", "log_inspection=on").returncode == 0
    wait_until(lambda: agent_cfg(a).get("modules", {}).get("log_inspection") == "on")
    assert a.status()["agent_port"]["accepted"] == 0
    assert connect_refused(port)


def test_manager_initiated_polls_are_the_heartbeats(manager, agents):
    assert ctl(manager, "policy", "create", "Polled",
               "communication_direction=manager-initiated", "heartbeat_interval=1").returncode == 0
    a = agents("mi", activate=False)
    activate_with(a, manager, "Polled")
    wait_until(lambda: manager.status("mi") == "Managed (Online)")
    wait_until(lambda: a.status()["agent_port"]["accepted"] >= 2, what="two polls")
    # the agent does not call: its own heartbeat clock stands still while polls go on
    hb = a.status()["last_heartbeat"]["attempt_ms"]
    c0 = manager.computer("mi")["lastAgentCommunication"]
    wait_until(lambda: manager.computer("mi")["lastAgentCommunication"] > c0 + 1500,
               what="contact advanced by polls")
    assert a.status()["last_heartbeat"]["attempt_ms"] == hb
    assert manager.status("mi") == "Managed (Online)"
    r = a.ctl("heartbeat", check=False)
    assert r.returncode == 1 and "manager-initiated" in r.stderr
    # configuration goes the same way
    assert ctl(manager, "policy", "set", "Polled", "anti_malware=on").returncode == 0
    wait_until(lambda: agent_cfg(a).get("modules", {}).get("anti_malware") == "on")
    # the offline rule applies to the polls
    a.kill()
    c = manager.computer("mi")
    t_dead = c["vigil"]["offlineDeadline"]
    wait_until(lambda: manager.status("mi") == "Managed (Offline)", timeout=10)
    ev = manager.events(id=730, computer="mi")
    assert ev and ev[0]["time"] - t_dead <= 1500


def test_communications_problem_raised_and_cleared(fast_probe_manager, tmp_path):
    m = fast_probe_manager
    a = Agent(m, tmp_path, "oneway").start()
    try:
        a.activate()
        wait_until(lambda: m.status("oneway") == "Managed (Online)")
        wait_until(lambda: m.computer("oneway")["vigil"]["lastReach"] > 0, what="a first probe")
        assert a.ctl("block-inbound").returncode == 0
        al = wait_until(lambda: [x for x in m.alerts() if x["alertType"] == "communications-problem"],
                        what="communications problem")
        assert "heartbeats from 127.0.0.1 arrive" in al[0]["description"]
        assert m.events(id=742, computer="oneway")
        # one direction works: not offline, and the heartbeats go on
        assert m.status("oneway") == "Managed (Online)"
        show = ctl(m, "computer", "show", "oneway").stdout
        assert "last call FAILED" in show and "Call failed:" in show
        # clearing does not hide a problem that still holds
        r = ctl(m, "computer", "clear-alerts", "oneway")
        assert "nothing to clear" in r.stdout
        assert a.ctl("unblock-inbound").returncode == 0
        wait_until(lambda: not [x for x in m.alerts() if x["alertType"] == "communications-problem"],
                   what="problem resolved")
        assert m.events(id=743, computer="oneway")
        assert not m.events(id=730)
    finally:
        a.stop()


def test_check_status_contacts_the_agent_now(manager, agents):
    a = agents("cs")
    wait_until(lambda: manager.computer("cs")["vigil"]["agentPort"] > 0)
    before = a.status()["agent_port"]["accepted"]
    r = ctl(manager, "computer", "check-status", "cs")
    assert r.returncode == 0 and "cs: Checking Status" in r.stdout, r.stdout + r.stderr
    wait_until(lambda: a.status()["agent_port"]["accepted"] > before)
    t = wait_until(lambda: [x for x in manager.api("/api/computers/%d/tasks" % manager.computer("cs")["ID"])
                            ["tasks"] if x["state"] == "done"])
    assert t[0]["type"] == "check-status" and "answered on its port" in t[0]["result"]
    ev = manager.events(id=267, computer="cs")
    assert ev and "check status by the operator" in ev[0]["description"]


def test_clock_change_raised_and_cleared(manager, tmp_path):
    a = Agent(manager, tmp_path, "clk").start("--clock-offset", "7200000")
    a.activate()
    al = wait_until(lambda: [x for x in manager.alerts() if x["alertType"] == "clock-change"])
    assert "7200 s ahead of the manager's (the policy allows 600 s)" in al[0]["description"]
    ev = manager.events(id=734, computer="clk")
    assert ev and "ahead of" in ev[0]["description"]
    # one event per episode, not per heartbeat
    n = manager.computer("clk")["lastAgentCommunication"]
    wait_until(lambda: manager.computer("clk")["lastAgentCommunication"] > n + 1500)
    assert len(manager.events(id=734, computer="clk")) == 1
    # silent now; the policy allows more: clear warnings and errors ends it
    a.kill()
    assert ctl(manager, "policy", "set", "Default", "max_clock_change=86400").returncode == 0
    r = ctl(manager, "computer", "clear-alerts", "clk")
    assert r.returncode == 0 and "cleared Clock change detected" in r.stdout, r.stdout
    assert not [x for x in manager.alerts() if x["alertType"] == "clock-change"]
    ev = manager.events(id=266, computer="clk")
    assert ev and "Clock change detected" in ev[0]["description"]


def test_jump_between_heartbeats_is_a_clock_change(manager, tmp_path):
    a = Agent(manager, tmp_path, "jump").start()
    a.activate()
    wait_until(lambda: manager.status("jump") == "Managed (Online)")
    assert not manager.events(id=734)
    a.stop()
    # the same agent, its clock now 20 min ahead: more than max_clock_change (600 s)
    a.start("--clock-offset", "1200000")
    ev = wait_until(lambda: manager.events(id=734, computer="jump"))
    assert "ahead of" in ev[0]["description"] or "jumped" in ev[0]["description"]
    a.stop()


def test_alert_summary_groups_by_type_with_the_computers(manager, tmp_path):
    started = []
    try:
        for n in ("skew1", "skew2"):
            a = Agent(manager, tmp_path, n).start("--clock-offset", "-3600000")
            started.append(a)
            a.activate()
        wait_until(lambda: len([x for x in manager.alerts() if x["alertType"] == "clock-change"]) == 2)
        s = manager.api("/api/alerts?summary=true")["alertSummaries"]
        clk = [x for x in s if x["alertType"] == "clock-change"][0]
        assert clk["count"] == 2 and sorted(c["hostName"] for c in clk["computers"]) == ["skew1", "skew2"]
        r = ctl(manager, "alerts", "--summary")
        line = [x for x in r.stdout.splitlines() if x.startswith("Clock change detected")][0]
        assert "warning" in line and " 2 " in line and "skew1" in line and "skew2" in line
        # dismissible: dismissed, it is recorded (800) and gone from the summary
        al = [x for x in manager.alerts() if x["alertType"] == "clock-change"][0]
        assert ctl(manager, "alert", "dismiss", str(al["ID"])).returncode == 0
        assert [e for e in manager.events(id=800) if "Clock change detected" in e["description"]]
    finally:
        for a in started:
            a.stop()
