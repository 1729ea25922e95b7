"""Issue 4 (part): policies with inheritance and overrides, and what reaches the agents."""
import json
import os
import signal

from test_vigilctl import ctl
from vigil import ApiError, wait_until


def agent_config(agent):
    """What the agent keeps from the manager (agent.json)."""
    return json.load(open(os.path.join(agent.dir, "agent.json")))


def test_inheritance_shown_with_sources(manager):
    assert ctl(manager, "policy", "create", "Web servers", "--description", "front ends",
               "heartbeat_interval=2").returncode == 0
    r = ctl(manager, "policy", "create", "Edge", "--parent", "Web servers", "firewall=on")
    assert r.returncode == 0, r.stderr
    r = ctl(manager, "policy", "show", "Edge")
    assert r.returncode == 0, r.stderr
    rows = {line.split()[0]: line for line in r.stdout.splitlines() if line and line.split()[0].islower()}
    assert "2" in rows["heartbeat_interval"] and "inherited from Web servers" in rows["heartbeat_interval"]
    assert "on" in rows["firewall"] and "set here" in rows["firewall"]
    assert "inherited from configuration" in rows["missed_heartbeats_allowed"]
    assert "bidirectional" in rows["communication_direction"]
    # the child takes its own value over the parent's, and "inherited" gives it back
    assert ctl(manager, "policy", "set", "Edge", "heartbeat_interval=7").returncode == 0
    edge = manager.api("/api/policies/Edge")
    assert edge["policySettings"]["heartbeat_interval"]["value"] == 7
    assert ctl(manager, "policy", "set", "Edge", "heartbeat_interval=inherited").returncode == 0
    s = manager.api("/api/policies/%d/settings/platformSettingHeartbeatInterval" % edge["ID"])
    assert s["value"] == 2 and s["inherited"] is True and s["source"] == "Web servers"
    lst = ctl(manager, "policy", "list")
    assert lst.returncode == 0
    assert [line for line in lst.stdout.splitlines() if " Edge " in line and "2 s" in line]
    ev = [e["description"] for e in manager.events(id=402)]
    assert any("Edge" in d and "heartbeat_interval" in d for d in ev)
    assert manager.events(id=400)


def test_policy_change_reaches_agents_and_moves_the_deadline(manager, agents):
    a = agents("pol-a")
    wait_until(lambda: manager.status("pol-a") == "Managed (Online)")
    c = manager.computer("pol-a")
    assert c["policyName"] == "Default"
    # the agent runs with the configuration file's interval (1 s)
    wait_until(lambda: agent_config(a).get("heartbeat_interval") == 1)
    assert ctl(manager, "policy", "set", "Default", "heartbeat_interval=3").returncode == 0
    # no operator action: the next heartbeat carries the new configuration
    wait_until(lambda: agent_config(a).get("heartbeat_interval") == 3, what="interval 3 at the agent")
    cfg = agent_config(a)["config"]
    assert cfg["policy"] == "Default" and cfg["heartbeat_interval"] == 3
    # the manager's deadline follows the policy: 3 s x (2 + 1) from the last contact
    c = manager.computer("pol-a")
    window = c["vigil"]["offlineDeadline"] - c["lastAgentCommunication"]
    assert 9000 - 50 <= window <= 9000 + 50, window


def test_activation_with_a_policy_and_assign(manager, agents):
    assert ctl(manager, "policy", "create", "Laptops", "missed_heartbeats_allowed=unlimited").returncode == 0
    a = agents("lap", activate=False)
    r = a.ctl("activate", "https://127.0.0.1:%d/" % manager.agent_port, "token:" + manager.token,
              "hostname:lap", "policy:Laptops", "--ca-fingerprint", manager.fingerprint)
    assert r.returncode == 0, r.stderr
    wait_until(lambda: manager.status("lap") == "Managed (Online)")
    c = manager.computer("lap")
    assert c["policyName"] == "Laptops" and c["vigil"]["offlineDeadline"] == 0
    # a misspelt policy is refused, with the reason, and not retried
    b = agents("typo", activate=False)
    r = b.ctl("activate", "https://127.0.0.1:%d/" % manager.agent_port, "token:" + manager.token,
              "hostname:typo", "policy:Laptop", "--ca-fingerprint", manager.fingerprint, check=False)
    assert r.returncode == 1
    assert 'there is no policy "Laptop" on this manager (HTTP 400, unknown_policy)' in r.stderr
    assert "attempts left" not in r.stderr
    # laptops may be silent: killed, it never goes offline
    a.kill()
    d = agents("desk")
    wait_until(lambda: manager.status("desk") == "Managed (Online)")
    r = ctl(manager, "policy", "assign", "Laptops", "desk")
    assert r.returncode == 0 and "desk: policy Laptops" in r.stdout, r.stderr
    assert [e for e in manager.events(id=253) if "Laptops" in e["description"]]
    wait_until(lambda: agent_config(d).get("config", {}).get("policy") == "Laptops")
    assert manager.computer("desk")["vigil"]["offlineDeadline"] == 0
    assert manager.status("lap") == "Managed (Online)"
    assert not manager.events(id=730)


def test_computer_override_beats_its_policy(manager, agents):
    a = agents("ov")
    wait_until(lambda: manager.status("ov") == "Managed (Online)")
    r = ctl(manager, "computer", "settings", "ov", "heartbeat_interval=4")
    assert r.returncode == 0, r.stderr
    line = [x for x in r.stdout.splitlines() if x.startswith("heartbeat_interval")][0]
    assert " 4 " in line and "set here" in line
    wait_until(lambda: agent_config(a).get("heartbeat_interval") == 4)
    # the policy changes, the override stays
    assert ctl(manager, "policy", "set", "Default", "heartbeat_interval=2").returncode == 0
    s = manager.api("/api/computers/%d/settings" % manager.computer("ov")["ID"])
    assert s["computerSettings"]["heartbeat_interval"]["value"] == 4
    assert s["computerSettings"]["heartbeat_interval"]["source"] == "computer"
    assert s["ownSettings"] == {"heartbeat_interval": 4}
    r = ctl(manager, "computer", "settings", "ov", "heartbeat_interval=inherited")
    assert r.returncode == 0
    wait_until(lambda: agent_config(a).get("heartbeat_interval") == 2)


def test_bad_policy_input_is_refused_with_a_sentence(manager):
    r = ctl(manager, "policy", "set", "Default", "heartbeat_interval=0")
    assert r.returncode == 1 and "heartbeat_interval: \"0\" is not a whole number from 1 to 86400" in r.stderr
    r = ctl(manager, "policy", "set", "Default", "colour=blue")
    assert r.returncode == 1 and 'no policy setting named "colour"' in r.stderr
    r = ctl(manager, "policy", "set", "Default", "communication_direction=sideways")
    assert r.returncode == 1 and "bidirectional, agent-initiated, manager-initiated" in r.stderr
    r = ctl(manager, "policy", "set", "Nope", "firewall=on")
    assert r.returncode == 1 and 'no policy named "Nope"' in r.stderr
    assert ctl(manager, "policy", "create", "A").returncode == 0
    assert ctl(manager, "policy", "create", "B", "--parent", "A").returncode == 0
    r = ctl(manager, "policy", "set", "A", "--parent", "B")
    assert r.returncode == 1 and "its own ancestor" in r.stderr
    r = ctl(manager, "policy", "create", "A")
    assert r.returncode == 1 and 'a policy named "A" already exists' in r.stderr
    r = ctl(manager, "policy", "create", "12")
    assert r.returncode == 1 and "cannot be a number" in r.stderr
    r = ctl(manager, "policy", "set", "A", "firewall")
    assert r.returncode == 2 and "expected SETTING=VALUE" in r.stderr
    for body, msg in (('{"name": 5}', '"name"'), ('{"name": "x", "parentID": "y"}', '"parentID"'),
                      ('{"name": "x", "settings": {"firewall": "maybe"}}', "on nor off"),
                      ("not json", "JSON")):
        try:
            manager.api("/api/policies", method="POST", headers={"Content-Type": "application/json"}, body=body)
            assert False, body
        except ApiError as e:
            assert e.status == 400 and msg in json.loads(e.body)["error"]["message"], (body, e.body)


def test_policies_survive_a_manager_restart(manager, agents):
    assert ctl(manager, "policy", "create", "Kept", "communication_direction=agent-initiated").returncode == 0
    a = agents("k")
    wait_until(lambda: manager.status("k") == "Managed (Online)")
    assert ctl(manager, "policy", "assign", "Kept", "k").returncode == 0
    assert ctl(manager, "computer", "settings", "k", "max_clock_change=30").returncode == 0
    before = manager.api("/api/computers/%d/settings" % manager.computer("k")["ID"])
    manager.stop(signal.SIGTERM)
    manager.start()
    after = manager.api("/api/computers/%d/settings" % manager.computer("k")["ID"])
    assert after == before
    assert after["computerSettings"]["communication_direction"]["value"] == "agent-initiated"
    assert manager.api("/api/policies/Kept")["vigil"]["computers"] == 1
    a.stop()
