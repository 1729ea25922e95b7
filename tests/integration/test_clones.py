"""Issue 3 (part): cloned agents, deleted ("unknown") agents, alert dismissal.

A clone is made the way operators make them by accident: the agent's whole
state directory (identity key, certificate, agent.json) is copied and a
second vigil-agent runs on the copy.  Both run on this host, so the machine
id is the same; the real path of the state directory makes the machine
fingerprints differ, as a cloned VM's firmware UUID does.
"""
import json
import os
import shutil

from test_vigilctl import ctl
from vigil import Agent, ApiError, wait_until

import pytest


def copy_agent(manager, tmp_path, src, name):
    """A second agent on a copy of src's state directory (not yet started)."""
    clone = Agent(manager, tmp_path, name)
    shutil.copytree(src.dir, clone.dir, ignore=shutil.ignore_patterns("agent.sock"))
    return clone


def guid_of(agent):
    return json.load(open(os.path.join(agent.dir, "agent.json")))["guid"]


def ids_named(manager, name):
    return sorted(c["ID"] for c in manager.computers() if c["hostName"] == name)


def test_clone_becomes_a_new_computer_and_the_original_keeps_its_identity(manager, agents, tmp_path):
    orig = agents("golden")
    c0 = wait_until(lambda: manager.computer("golden"))
    wait_until(lambda: manager.status("golden") == "Managed (Online)")
    assert len(c0["vigil"]["machineFingerprint"]) == 64
    clone = copy_agent(manager, tmp_path, orig, "golden-copy").start()
    try:
        # the clone's first heartbeat is refused with "reactivate", and it comes
        # back as a computer of its own
        wait_until(lambda: len(ids_named(manager, "golden")) == 2, what="the clone listed")
        wait_until(lambda: guid_of(clone) != c0["hostGUID"], what="the clone's new identity")
        new = [c for c in manager.computers() if c["hostName"] == "golden" and c["ID"] != c0["ID"]][0]
        assert new["hostGUID"] == guid_of(clone) and new["ID"] > c0["ID"]
        assert new["vigil"]["machineFingerprint"] != c0["vigil"]["machineFingerprint"]
        wait_until(lambda: manager.api("/api/computers/%d" % new["ID"])["computerStatus"]
                   ["agentStatusMessages"][0] == "Managed (Online)", what="the clone online")
        # its agent port answers with the new identity (the manager checks the GUID)
        assert ctl(manager, "computer", "check-status", str(new["ID"])).returncode == 0
        wait_until(lambda: [t for t in manager.api("/api/computers/%d/tasks" % new["ID"])["tasks"]
                            if t["state"] == "done" and "answered on its port" in t["result"]],
                   what="the clone's port answers as the new computer")
        # the original is untouched: same GUID, still heartbeating
        assert guid_of(orig) == c0["hostGUID"]
        last = manager.api("/api/computers/%d" % c0["ID"])["lastAgentCommunication"]
        orig.ctl("heartbeat")
        assert manager.api("/api/computers/%d" % c0["ID"])["lastAgentCommunication"] > last
        # 275 and the warning alert on the original; 250 names what happened
        dup = wait_until(lambda: manager.events(id=275, computer=c0["ID"]))
        assert len(dup) == 1 and "cloned VM or a copied agent state directory" in dup[0]["description"]
        created = manager.events(id=250, computer=new["ID"])
        assert created and "clone of golden (ID %d" % c0["ID"] in created[0]["description"]
        al = wait_until(lambda: [a for a in manager.alerts() if a["alertType"] == "duplicate-computer"])
        assert al[0]["computerIDs"] == [c0["ID"]] and al[0]["severity"] == "warning"

        # the duplicate alert can be dismissed (800); the offline alert cannot
        r = ctl(manager, "alert", "dismiss", str(al[0]["ID"]))
        assert r.returncode == 0, r.stderr
        wait_until(lambda: not [a for a in manager.alerts() if a["alertType"] == "duplicate-computer"])
        assert wait_until(lambda: manager.events(id=800))
        r = ctl(manager, "alert", "dismiss", str(al[0]["ID"]))
        assert r.returncode == 1 and "no open alert" in r.stderr
        r = ctl(manager, "alert", "dismiss", "x")
        assert r.returncode == 2
    finally:
        clone.stop()
    off = wait_until(lambda: [a for a in manager.alerts() if a["alertType"] == "computer-offline"],
                     what="the stopped clone offline")
    r = ctl(manager, "alert", "dismiss", str(off[0]["ID"]))
    assert r.returncode == 1 and "cannot be dismissed" in r.stderr


def test_clone_is_refused_when_reactivating_clones_is_off(manager, agents, tmp_path):
    r = ctl(manager, "activation-settings", "set", "reactivate-cloned=off")
    assert r.returncode == 0 and "reactivate-cloned:  off" in r.stdout
    orig = agents("base")
    c0 = wait_until(lambda: manager.computer("base"))
    clone = copy_agent(manager, tmp_path, orig, "base-copy").start()
    try:
        st = wait_until(lambda: (lambda j: j if j["last_heartbeat"]["http_status"] == 403 else None)(
            json.loads(clone.ctl("status", "--json", check=False).stdout)), what="the clone refused")
        assert "reactivating cloned agents is off" in st["last_heartbeat"]["message"]
        wait_until(lambda: [e for e in manager.events(id=771) if "clone_refused" in e["description"]])
        assert guid_of(clone) == c0["hostGUID"]  # nothing new was issued
        assert ids_named(manager, "base") == [c0["ID"]]
        assert manager.events(id=275, computer=c0["ID"])
        # the clone's heartbeats never count for the original
        assert manager.status("base") == "Managed (Online)"
        # a reset of the clone does not deactivate the original
        r = clone.ctl("reset")
        assert "was a clone of computer" in r.stdout
        assert manager.computer("base")["vigil"]["state"] == "activated"
        orig.ctl("heartbeat")
        assert manager.status("base") == "Managed (Online)"
    finally:
        clone.stop()


def test_deleted_computer_comes_back_only_when_allowed(manager, agents):
    r = ctl(manager, "activation-settings", "show")
    assert "reactivate-unknown: off" in r.stdout
    a = agents("ephemeral")
    c0 = wait_until(lambda: manager.computer("ephemeral"))
    r = ctl(manager, "computer", "delete", "ephemeral")
    assert r.returncode == 0, r.stderr
    assert "deleted ephemeral" in r.stdout
    assert manager.computer("ephemeral") is None
    assert wait_until(lambda: manager.events(id=251))
    # its events stay
    assert manager.events(computer=c0["ID"], id=704)
    # reactivate unknown agents is off: refused with the reason, 771
    r = a.ctl("heartbeat", check=False)
    st = json.loads(a.ctl("status", "--json", check=False).stdout)
    assert st["last_heartbeat"]["http_status"] == 403
    assert "reactivating unknown agents is off" in st["last_heartbeat"]["message"]
    wait_until(lambda: [e for e in manager.events(id=771) if "unknown_computer" in e["description"]])
    assert manager.computer("ephemeral") is None
    # on: the next heartbeat re-creates it as a new computer (new ID and GUID)
    assert ctl(manager, "activation-settings", "set", "reactivate-unknown=on").returncode == 0
    a.ctl("heartbeat", check=False)
    c1 = wait_until(lambda: manager.computer("ephemeral"), what="the agent back")
    assert c1["ID"] > c0["ID"] and c1["hostGUID"] != c0["hostGUID"]
    assert guid_of(a) == c1["hostGUID"]
    wait_until(lambda: manager.status("ephemeral") == "Managed (Online)")
    ev = manager.events(id=250, computer=c1["ID"])
    assert ev and "unknown agent" in ev[0]["description"] and c0["hostGUID"] in ev[0]["description"]


def test_deactivated_then_deleted_stays_revoked_and_ids_are_not_reused(manager, agents, tmp_path):
    assert ctl(manager, "activation-settings", "set", "reactivate-unknown=on").returncode == 0
    a = agents("retired")
    c0 = wait_until(lambda: manager.computer("retired"))
    cert = a.cert()
    keep = (open(cert[0]).read(), open(cert[1]).read())
    a.stop()
    assert ctl(manager, "computer", "deactivate", "retired").returncode == 0
    assert ctl(manager, "computer", "delete", "retired").returncode == 0
    # the certificate of a deactivated computer never comes back
    certfile, keyfile = str(tmp_path / "old.crt"), str(tmp_path / "old.key")
    open(certfile, "w").write(keep[0])
    open(keyfile, "w").write(keep[1])
    os.chmod(keyfile, 0o600)
    status, body = manager.agent_post("/agent/v1/heartbeat", {}, cert=certfile, key=keyfile)
    assert status == 403 and body["error"]["code"] == "certificate_revoked", body
    status, body = manager.agent_post("/agent/v1/reactivate", {"csr": "x", "host": {"hostname": "x"}},
                                      cert=certfile, key=keyfile)
    assert status == 403 and body["error"]["code"] == "certificate_revoked", body
    # the deleted computer had the highest ID; after a restart it is still not reused
    manager.stop()
    manager.start()
    b = agents("successor")
    c1 = wait_until(lambda: manager.computer("successor"))
    assert c1["ID"] > c0["ID"]
    b.stop()
    # deleting what does not exist, and the REST answer
    with pytest.raises(ApiError) as e:
        manager.api("/api/computers/%d" % c0["ID"], method="DELETE")
    assert e.value.status == 404
    assert manager.api("/api/computers/%d" % c1["ID"], method="DELETE")["deleted"] is True


def test_reactivation_requires_a_clone_or_an_unknown_agent(manager, agents):
    a = agents("plain")
    wait_until(lambda: manager.status("plain") == "Managed (Online)")
    crt, key = a.cert()
    fpr = manager.computer("plain")["vigil"]["machineFingerprint"]
    # the original asking to be reactivated: nothing to do
    status, body = manager.agent_post("/agent/v1/reactivate",
                                      {"csr": "x", "host": {"hostname": "plain", "machine_fingerprint": fpr}},
                                      cert=crt, key=key)
    assert status == 409 and body["error"]["code"] == "not_a_clone", body
    # without a certificate: 401
    status, body = manager.agent_post("/agent/v1/reactivate", {"csr": "x", "host": {"hostname": "h"}})
    assert status == 401
    # a malformed fingerprint is a 400 naming the field
    status, body = manager.agent_post("/agent/v1/heartbeat", {"machine_fingerprint": "ABC"}, cert=crt, key=key)
    assert status == 400 and "machine_fingerprint" in body["error"]["message"]
