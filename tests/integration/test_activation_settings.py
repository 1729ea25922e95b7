"""Issue 3 (part): activation settings: who may activate, duplicates."""
import json

from test_vigilctl import ctl
from vigil import ApiError, wait_until

import pytest


def activate(agent, m):
    return agent.ctl("activate", "https://127.0.0.1:%d/" % m.agent_port, "token:" + m.token,
                     "hostname:" + agent.name, "--ca-fingerprint", m.fingerprint,
                     "--max-retries", "0", check=False)


def test_defaults_and_bad_values(manager):
    r = ctl(manager, "activation-settings", "show")
    assert r.returncode == 0
    assert "allow:              any" in r.stdout and "duplicate:          reactivate" in r.stdout
    r = ctl(manager, "activation-settings", "set", "allow=iplist")
    assert r.returncode == 1 and "needs at least one range" in r.stderr
    r = ctl(manager, "activation-settings", "set", "iplist=10.0.0.0/33")
    assert r.returncode == 1 and "ipList" in r.stderr
    r = ctl(manager, "activation-settings", "set", "colour=blue")
    assert r.returncode == 2
    with pytest.raises(ApiError) as e:
        manager.api("/api/activationsettings", method="POST")
    assert e.value.status == 400


def test_ip_allow_list(manager, agents):
    r = ctl(manager, "activation-settings", "set", "allow=iplist", "iplist=10.0.0.0/8,192.0.2.1")
    assert r.returncode == 0 and "iplist:             10.0.0.0/8,192.0.2.1/32" in r.stdout
    a = agents("outsider", activate=False)
    r = activate(a, manager)
    assert r.returncode == 1
    assert "not allowed from 127.0.0.1 (not in the allow-list)" in r.stderr and "not_allowed" in r.stderr
    assert manager.computer("outsider") is None
    assert [e for e in manager.events(id=791) if "not_allowed" in e["description"]]
    assert manager.events(id=102)
    assert ctl(manager, "activation-settings", "set", "iplist=127.0.0.0/8").returncode == 0
    assert activate(a, manager).returncode == 0
    wait_until(lambda: manager.status("outsider") == "Managed (Online)")


def test_existing_only_and_duplicates(manager, agents):
    a = agents("known")
    c = wait_until(lambda: manager.computer("known"))
    assert ctl(manager, "activation-settings", "set", "allow=existing").returncode == 0
    stranger = agents("stranger", activate=False)
    r = activate(stranger, manager)
    assert r.returncode == 1 and "only for computers already listed" in r.stderr
    # a listed computer may come back (reset, then activate)
    a.ctl("reset")
    assert activate(a, manager).returncode == 0
    wait_until(lambda: manager.status("known") == "Managed (Online)")
    assert [x["ID"] for x in manager.computers() if x["hostName"] == "known"] == [c["ID"]]

    # duplicate=refuse: the same identity while the computer exists is refused
    assert ctl(manager, "activation-settings", "set", "allow=any", "duplicate=refuse").returncode == 0
    twin = agents("known-twin", activate=False)
    # same host name and machine id as "known": a second agent claiming it
    r = twin.ctl("activate", "https://127.0.0.1:%d/" % manager.agent_port, "token:" + manager.token,
                 "hostname:known", "--ca-fingerprint", manager.fingerprint, "--max-retries", "0",
                 check=False)
    assert r.returncode == 1
    assert "a computer with this identity already exists (known, ID %d)" % c["ID"] in r.stderr
    assert "(HTTP 409, duplicate)" in r.stderr

    # duplicate=new: it becomes a second computer of the same name
    assert ctl(manager, "activation-settings", "set", "duplicate=new").returncode == 0
    r = twin.ctl("activate", "https://127.0.0.1:%d/" % manager.agent_port, "token:" + manager.token,
                 "hostname:known", "--ca-fingerprint", manager.fingerprint, check=False)
    assert r.returncode == 0, r.stderr
    wait_until(lambda: len([x for x in manager.computers() if x["hostName"] == "known"]) == 2)

    # duplicate=reactivate: the listed computer takes the new certificate and
    # the old one is superseded
    assert ctl(manager, "activation-settings", "set", "duplicate=reactivate").returncode == 0
    settings = json.loads(ctl(manager, "activation-settings", "show", "--json").stdout)
    assert settings == {"allow": "any", "ipList": [], "duplicate": "reactivate",
                        "reactivateCloned": True, "reactivateUnknown": False}
    # the settings survive a restart
    manager.stop()
    manager.start()
    assert manager.api("/api/activationsettings")["duplicate"] == "reactivate"
