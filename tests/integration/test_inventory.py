"""Issue 3 (part): the inventory push (POST /api/inventory, vigilctl inventory push).

Agents on one test host report the same network interfaces, so each
computer here is given interfaces of its own: its agent is stopped and a
heartbeat with made-up MACs is sent with its certificate, as the agent of a
VM with those MACs would send.
"""
import http.client
import json

from test_vigilctl import ctl
from vigil import ApiError, wait_until

import pytest


def give_macs(manager, agent, *macs):
    crt, key = agent.cert()
    ifs = [{"name": "eth%d" % i, "mac": m, "addresses": []} for i, m in enumerate(macs)]
    status, body = manager.agent_post("/agent/v1/heartbeat", {"interfaces": ifs}, cert=crt, key=key)
    assert status == 200, body


def push(manager, instances):
    conn_body = json.dumps({"instances": instances})
    conn = http.client.HTTPSConnection("127.0.0.1", manager.api_port, context=manager.ssl_context(), timeout=10)
    conn.request("POST", "/api/inventory", body=conn_body,
                 headers={"api-secret-key": manager.api_key, "Content-Type": "application/json"})
    r = conn.getresponse()
    text = r.read().decode()
    conn.close()
    if r.status != 200:
        raise ApiError(r.status, text)
    return json.loads(text)


def test_push_matches_by_mac_then_by_id_and_sets_power(manager, agents):
    a, b = agents("inv-a"), agents("inv-b")
    ca = wait_until(lambda: manager.computer("inv-a"))
    wait_until(lambda: manager.computer("inv-b"))
    a.stop()
    b.stop()
    give_macs(manager, a, "52:54:00:00:00:0a")
    give_macs(manager, b, "52:54:00:00:00:0b")
    r = push(manager, [{"id": "vm-a", "power_state": "stopped", "macs": ["52:54:00:00:00:0A"]},
                       {"id": "vm-gone", "power_state": "stopped", "macs": ["52:54:00:99:99:99"]}])
    assert (r["matched"], r["unmatched"], r["ambiguous"], r["changed"]) == (1, 1, 0, 1)
    got = {i["id"]: i for i in r["instances"]}
    assert got["vm-a"]["computerID"] == ca["ID"] and got["vm-a"]["matchedBy"] == "mac"
    assert got["vm-a"]["status"] == "Managed (VM Stopped)" and got["vm-a"]["changed"] is True
    assert got["vm-gone"]["result"] == "unmatched"
    c = manager.computer("inv-a")
    assert c["vigil"]["inventoryID"] == "vm-a" and c["vigil"]["power"] == "stopped"
    assert not c["vigil"]["holdsSeat"]
    ev = wait_until(lambda: manager.events(id=960, computer=ca["ID"]))
    assert "inventory push from 127.0.0.1, instance vm-a" in ev[-1]["description"]
    assert manager.status("inv-b") != "Managed (VM Stopped)"

    # the same push again changes nothing; a later push finds it by its id alone
    r = push(manager, [{"id": "vm-a", "power_state": "stopped", "macs": ["52:54:00:00:00:0a"]}])
    assert r["changed"] == 0 and r["instances"][0]["changed"] is False
    r = push(manager, [{"id": "vm-a", "power_state": "running"}])
    assert r["instances"][0]["matchedBy"] == "id" and r["instances"][0]["changed"] is True
    c = manager.computer("inv-a")
    assert c["vigil"]["power"] == "running" and c["vigil"]["holdsSeat"]


def test_push_that_matches_two_computers_changes_nothing(manager, agents):
    a, b = agents("amb-a"), agents("amb-b")
    wait_until(lambda: manager.computer("amb-a") and manager.computer("amb-b"))
    a.stop()
    b.stop()
    give_macs(manager, a, "52:54:00:00:00:cc")
    give_macs(manager, b, "52:54:00:00:00:cc", "52:54:00:00:00:dd")
    r = push(manager, [{"id": "vm-c", "power_state": "stopped", "macs": ["52:54:00:00:00:cc"]}])
    inst = r["instances"][0]
    assert inst["result"] == "ambiguous" and inst["matchedBy"] == "mac"
    assert sorted(inst["candidates"]) == sorted([manager.computer("amb-a")["ID"], manager.computer("amb-b")["ID"]])
    assert r["changed"] == 0
    assert manager.computer("amb-a")["vigil"]["power"] == "running"
    assert manager.computer("amb-a")["vigil"]["inventoryID"] == ""
    # a MAC only one of them has settles it
    r = push(manager, [{"id": "vm-c", "power_state": "stopped", "macs": ["52:54:00:00:00:dd"]}])
    assert r["instances"][0]["computerID"] == manager.computer("amb-b")["ID"]


def test_vigilctl_inventory_push_and_bad_bodies(manager, agents, tmp_path):
    a = agents("ctl-inv")
    wait_until(lambda: manager.computer("ctl-inv"))
    a.stop()
    give_macs(manager, a, "02:00:00:00:00:01")
    f = tmp_path / "inventory.json"
    f.write_text(json.dumps({"instances": [
        {"id": "i-1", "power_state": "stopped", "macs": ["02:00:00:00:00:01"]},
        {"id": "i-2", "power_state": "running", "hostname": "nobody-here"}]}))
    r = ctl(manager, "inventory", "push", str(f))
    assert r.returncode == 0, r.stderr
    assert "i-1: ctl-inv (ID" in r.stdout and "Managed (VM Stopped)" in r.stdout
    assert "i-2: no computer matches" in r.stdout
    assert "1 matched, 1 unmatched, 0 ambiguous; 1 changed" in r.stdout
    assert manager.status("ctl-inv") == "Managed (VM Stopped)"
    # refusals name the field, and change nothing
    f.write_text(json.dumps({"instances": [{"id": "i-1", "power_state": "off"}]}))
    r = ctl(manager, "inventory", "push", str(f))
    assert r.returncode == 1 and 'instance "i-1": field "power_state"' in r.stderr
    f.write_text(json.dumps({"instances": [{"id": "i-1", "power_state": "running", "macs": ["zz"]}]}))
    r = ctl(manager, "inventory", "push", str(f))
    assert r.returncode == 1 and "MAC 1 is not six hexadecimal octets" in r.stderr
    assert manager.status("ctl-inv") == "Managed (VM Stopped)"
    r = ctl(manager, "inventory", "push", str(tmp_path / "missing.json"))
    assert r.returncode == 2 and "cannot read" in r.stderr
    with pytest.raises(ApiError) as e:
        push(manager, "not a list")
    assert e.value.status == 400
    with pytest.raises(ApiError) as e:
        manager.api("/api/inventory")
    assert e.value.status == 405
