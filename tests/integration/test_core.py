"""Issue 2: activation, heartbeats, offline detection, restart, bad input."""
import json
import os
import signal
import socket
import ssl
import subprocess
import time

import pytest

from vigil import Agent, ApiError, Manager, binpath, wait_until


def events_of(m, event_id, name=None):
    evs = m.events(id=event_id)
    return [e for e in evs if name is None or e["target"] == name]


def test_activation_with_bad_token_is_refused_and_recorded(manager, agents):
    a = agents("badtoken", activate=False)
    r = a.activate(token="0" * 48, check=False)
    assert r.returncode == 1
    assert "activation refused: the activation token is not valid for this manager" in r.stderr
    assert "bad_token" in r.stderr
    assert manager.computer("badtoken") is None
    fails = wait_until(lambda: events_of(manager, 791, "badtoken"), what="event 791")
    assert "bad_token" in fails[0]["description"]
    # only requests with a valid token are recorded as 790
    assert not manager.events(id=790)
    st = a.ctl("status", check=False)
    assert st.returncode == 1 and "activated:      no" in st.stdout


def test_activation_with_good_token_then_online(manager, agents):
    a = agents("web1")
    c = wait_until(lambda: manager.computer("web1"), what="computer web1")
    assert len(c["hostGUID"]) == 36
    assert wait_until(lambda: manager.status("web1") == "Managed (Online)")
    ids = {e["eventID"] for e in manager.events(computer=c["ID"])}
    assert {250, 704} <= ids
    # identity files with safe modes
    assert os.stat(os.path.join(a.dir, "identity.key")).st_mode & 0o077 == 0
    assert os.stat(os.path.join(a.dir, "agent.json")).st_mode & 0o077 == 0
    st = a.ctl("status")
    assert "GUID:           " + c["hostGUID"] in st.stdout
    assert wait_until(lambda: "ok (manager says Managed (Online))" in a.ctl("status").stdout)
    hb = a.ctl("heartbeat")
    assert "heartbeat sent: the manager says Managed (Online)" in hb.stdout
    # a second activation without reset is refused locally
    again = a.activate(check=False)
    assert again.returncode == 1 and "already activated" in again.stderr


def test_activation_pin_mismatch_is_refused(manager, agents):
    a = agents("pinned", activate=False)
    r = a.ctl("activate", "https://127.0.0.1:%d/" % manager.agent_port, "token:" + manager.token,
              "--ca-fingerprint", "ab" * 32, check=False)
    assert r.returncode == 1
    assert "does not match the pinned" in r.stderr
    assert manager.computer("pinned") is None


def test_three_agents_online_then_offline_within_deadline_and_back(manager, agents):
    names = ["a1", "a2", "a3"]
    ags = {n: agents(n) for n in names}
    wait_until(lambda: all(manager.status(n) == "Managed (Online)" for n in names),
               what="three agents online")
    victim = ags["a2"]
    victim.kill()
    wait_until(lambda: manager.status("a2") == "Managed (Offline)", timeout=10, what="a2 offline")
    c = manager.computer("a2")
    window_ms = manager.heartbeat_interval * 1000 * (manager.missed + 1)
    ev = events_of(manager, 730, "a2")
    assert len(ev) == 1
    deadline = c["lastAgentCommunication"] + window_ms
    # detected at the deadline and within one second of it (the 2 ms allow for
    # the millisecond truncation of the wall and monotonic clocks)
    assert deadline - 2 <= ev[0]["time"] <= deadline + 1000, (deadline, ev[0]["time"])
    assert c["computerStatus"]["agentStatus"] == "error"
    al = [x for x in manager.alerts() if x["alertType"] == "computer-offline"]
    assert len(al) == 1 and al[0]["computerIDs"] == [c["ID"]] and al[0]["timeCleared"] is None
    assert al[0]["name"] == "Computer offline" and al[0]["severity"] == "critical"
    # the others stay online
    assert manager.status("a1") == "Managed (Online)" and manager.status("a3") == "Managed (Online)"
    # restart the agent: back online, 731, alert cleared with 192
    victim.start()
    wait_until(lambda: manager.status("a2") == "Managed (Online)", what="a2 back online")
    assert len(events_of(manager, 731, "a2")) == 1
    assert not [x for x in manager.alerts() if x["alertType"] == "computer-offline"]
    cleared = [x for x in manager.alerts(all=True) if x["ID"] == al[0]["ID"]]
    assert cleared[0]["timeCleared"] is not None
    assert events_of(manager, 192, "a2")
    # raising again does not duplicate: one alert row per outage
    assert len([x for x in manager.alerts(all=True) if x["alertType"] == "computer-offline"]) == 1


def openssl(*args, cwd=None):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True, cwd=cwd)


def client_cert(tmp_path, cn, ca_crt=None, ca_key=None):
    """A P-256 clientAuth certificate for cn, from a new foreign CA or the given one."""
    d = str(tmp_path)
    if ca_crt is None:
        openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "fca.key", cwd=d)
        openssl("req", "-x509", "-new", "-key", "fca.key", "-subj", "/CN=Foreign CA", "-days", "2",
                "-out", "fca.crt", cwd=d)
        ca_crt, ca_key = os.path.join(d, "fca.crt"), os.path.join(d, "fca.key")
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "fc.key", cwd=d)
    openssl("req", "-new", "-key", "fc.key", "-subj", "/CN=" + cn, "-out", "fc.csr", cwd=d)
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("extendedKeyUsage=clientAuth\n")
    openssl("x509", "-req", "-in", "fc.csr", "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
            "-days", "2", "-extfile", "ext.cnf", "-out", "fc.crt", cwd=d)
    return os.path.join(d, "fc.crt"), os.path.join(d, "fc.key")


def test_heartbeat_signed_by_another_ca_is_refused_and_recorded(manager, agents, tmp_path):
    agents("real")
    c = wait_until(lambda: manager.computer("real"))
    # a foreign certificate that even claims the real computer's GUID: 771,
    # and nothing is blamed on the real computer
    cert, key = client_cert(tmp_path, c["hostGUID"])
    st, body = manager.agent_post("/agent/v1/heartbeat", {"hostname": "evil"}, cert=cert, key=key)
    assert st == 403
    assert body["error"]["code"] == "certificate_not_from_this_manager"
    assert "client certificate not accepted" in body["error"]["message"]
    ev = wait_until(lambda: manager.events(id=771), what="event 771")
    assert "contact from 127.0.0.1 refused (certificate_not_from_this_manager)" in ev[0]["description"]
    assert not manager.events(id=770)
    assert manager.computer("real")["hostName"] == "real"
    # our CA, but a computer this manager does not know
    d2 = tmp_path / "ours"
    d2.mkdir()
    cert2, key2 = client_cert(d2, "00000000-0000-4000-8000-000000000000",
                              manager.ca, os.path.join(manager.state, "ca.key"))
    st, body = manager.agent_post("/agent/v1/heartbeat", {}, cert=cert2, key=key2)
    assert st == 403 and body["error"]["code"] == "unknown_computer"
    assert wait_until(lambda: [e for e in manager.events(id=771) if "unknown_computer" in e["description"]])
    # no client certificate at all
    st, body = manager.agent_post("/agent/v1/heartbeat", {})
    assert st == 401 and body["error"]["code"] == "client_certificate_required"
    # repeated refusals from one address are recorded once a minute, not each time
    for _ in range(5):
        manager.agent_post("/agent/v1/heartbeat", {}, cert=cert, key=key)
    assert len([e for e in manager.events(id=771) if "certificate_not_from" in e["description"]]) == 1


def test_one_computer_cannot_speak_for_another(manager, agents):
    a, b = agents("alpha"), agents("beta")
    ca = wait_until(lambda: manager.computer("alpha"))
    cb = wait_until(lambda: manager.computer("beta"))
    a.kill()
    b.kill()
    cert, key = a.cert()
    # alpha's certificate with a body that names beta: only alpha is updated
    st, body = manager.agent_post("/agent/v1/heartbeat",
                                  {"hostname": "alpha", "guid": cb["hostGUID"], "computer_id": cb["ID"]},
                                  cert=cert, key=key)
    assert st == 200
    wait_until(lambda: manager.status("beta") == "Managed (Offline)", what="beta offline")
    assert manager.computer("alpha")["lastAgentCommunication"] > ca["lastAgentCommunication"]


def test_manager_restart_keeps_computers_statuses_and_events(manager, agents):
    on, off = agents("keep-on"), agents("keep-off")
    wait_until(lambda: manager.status("keep-off") == "Managed (Online)")
    off.kill()
    wait_until(lambda: manager.status("keep-off") == "Managed (Offline)")
    before = {c["hostName"]: c for c in manager.computers()}
    events_before = manager.events()
    assert manager.stop() == 0
    manager.start()
    after = {c["hostName"]: c for c in manager.computers()}
    assert set(after) == set(before)
    assert after["keep-off"]["computerStatus"]["agentStatusMessages"] == ["Managed (Offline)"]
    assert after["keep-on"]["hostGUID"] == before["keep-on"]["hostGUID"]
    ids = [e["systemEventID"] for e in manager.events()]
    assert ids[:len(events_before)] == [e["systemEventID"] for e in events_before]
    assert {100, 117} <= {e["eventID"] for e in manager.events()}
    # the open offline alert survived too
    assert [x for x in manager.alerts() if x["target"] == "keep-off"]
    # the running agent reconnects to the same port and stays online
    assert wait_until(lambda: on.ctl("status").stdout.count("ok (manager says Managed (Online))"),
                      what="keep-on heartbeating again")
    assert manager.status("keep-on") == "Managed (Online)"


def raw_tls(m, port=None):
    ctx = ssl.create_default_context(cafile=m.ca)
    ctx.check_hostname = False
    s = socket.create_connection(("127.0.0.1", port or m.agent_port), timeout=10)
    return ctx.wrap_socket(s)


def read_response(s):
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, ssl.SSLError):
            break
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace")


def test_malformed_and_oversized_requests_are_refused_while_agents_keep_heartbeating(tmp_path):
    m = Manager(tmp_path, extra="request_timeout = 2\nmax_connections = 40\n").start()
    a = Agent(m, tmp_path, "steady").start()
    try:
        a.activate()
        wait_until(lambda: m.status("steady") == "Managed (Online)")
        t0 = m.computer("steady")["lastAgentCommunication"]
        # garbage instead of HTTP
        s = raw_tls(m)
        s.sendall(b"\x00\x01 this is not http\r\n\r\n")
        out = read_response(s)
        assert out.startswith("HTTP/1.1 400 ") and "malformed HTTP request" in out
        # an oversized body is refused by its Content-Length before it is sent
        s = raw_tls(m)
        s.sendall(b"POST /agent/v1/activate HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n")
        out = read_response(s)
        assert out.startswith("HTTP/1.1 413 ") and "request body too large" in out
        # malformed JSON gets a sentence that says where
        st, body = m.agent_post("/agent/v1/activate", None, raw='{"token": "x", ')
        assert st == 400 and body["error"]["message"].startswith("malformed JSON at line 1")
        st, body = m.agent_post("/agent/v1/activate", {"token": "x", "csr": "y", "host": {"hostname": "h" * 300}})
        assert st == 400 and "hostname" in body["error"]["message"] and "255" in body["error"]["message"]
        # a slow client is cut off after request_timeout
        s = raw_tls(m)
        s.sendall(b"POST /agent/v1/heartbeat HTTP/1.1\r\nHost: x\r\n")
        t = time.monotonic()
        assert read_response(s) == ""
        assert time.monotonic() - t < 2 + 2.5
        # too many connections: the ones beyond the limit are closed at once
        held = [socket.create_connection(("127.0.0.1", m.agent_port)) for _ in range(60)]

        def closed_by_server():
            n = 0
            for h in held:
                h.setblocking(False)
                try:
                    n += h.recv(1) == b""
                except BlockingIOError:
                    pass
                except ConnectionResetError:
                    n += 1
            return n
        # the agent port may use 40 - 5 (an eighth is kept for the API); the
        # ones beyond (the agent holds one connection) are closed at once, long
        # before the 10 s handshake timeout could close the rest
        wait_until(lambda: closed_by_server() >= 25, timeout=5, what="refused connections")
        assert 25 <= closed_by_server() <= 27
        assert "connection limit (35) reached" in m.logs()
        # with the agent port full, the API still answers
        assert m.computer("steady") is not None
        for h in held:
            h.close()
        # and through all of it the agent kept heartbeating
        wait_until(lambda: m.computer("steady")["lastAgentCommunication"] > t0 + 2000,
                   what="heartbeats during the abuse")
        assert m.status("steady") == "Managed (Online)"
        assert not m.events(id=730)
    finally:
        a.kill()
        m.stop()


def test_api_requires_key_and_version(manager):
    with pytest.raises(ApiError) as e:
        manager.api("/api/computers", key="")
    assert e.value.status == 401 and "api_key_required" in e.value.body
    with pytest.raises(ApiError) as e:
        manager.api("/api/computers", key="wrong")
    assert e.value.status == 401 and "bad_api_key" in e.value.body
    with pytest.raises(ApiError) as e:
        manager.api("/api/computers", headers={"api-version": "v2"})
    assert e.value.status == 400
    with pytest.raises(ApiError) as e:
        manager.api("/api/computers/999")
    assert e.value.status == 404
    with pytest.raises(ApiError) as e:
        manager.api("/api/events?since=yesterday")
    assert e.value.status == 400 and "ISO 8601" in e.value.body
    h = manager.api("/healthz", key=None, headers={"api-secret-key": None})
    assert h["status"] == "ok"


def test_events_filters(manager, agents):
    agents("f1")
    agents("f2")
    c1 = wait_until(lambda: manager.computer("f1"))
    evs = manager.events(computer="f1")
    assert evs and all(e["targetID"] == c1["ID"] for e in evs)
    assert all(e["eventID"] == 704 for e in manager.events(id=704))
    assert len(manager.events(id=704)) == 2
    t = manager.events(id=704)[1]["time"]
    assert [e["time"] for e in manager.events(id=704, since=t)] == [t]
    assert len(manager.events(id=704, until=t - 1)) == 1
    assert len(manager.events(limit=2)) == 2


def test_config_check_mode_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.conf"
    bad.write_text("[listen]\nagent_port = 99999\n[policy]\nheartbeat_interval = often\nnope = 1\n")
    r = subprocess.run([binpath("vigil-manager"), "-n", "-c", str(bad)], capture_output=True, text=True)
    assert r.returncode == 1
    assert "%s:2: listen.agent_port: \"99999\" is not a whole number from 0 to 65535" % bad in r.stderr
    assert "%s:4: policy.heartbeat_interval" % bad in r.stderr
    assert "%s:5: unknown setting policy.nope" % bad in r.stderr
    assert "3 problems found" in r.stderr
    good = tmp_path / "good.conf"
    good.write_text("[policy]\nmissed_heartbeats_allowed = unlimited\n")
    r = subprocess.run([binpath("vigil-manager"), "-n", "-c", str(good)], capture_output=True, text=True)
    assert r.returncode == 0 and "missed_heartbeats_allowed = unlimited" in r.stdout


def test_secrets_never_reach_logs(manager, agents, tmp_path):
    a = agents("quiet")
    wait_until(lambda: manager.status("quiet") == "Managed (Online)")
    a.activate(token="f" * 48, check=False)
    manager.api("/api/computers", key="definitely-not-the-key", ) if False else None
    logs = manager.logs() + open(a.log).read()
    assert manager.token not in logs and manager.api_key not in logs
    assert "f" * 48 not in logs
    key = open(os.path.join(a.dir, "identity.key")).read()
    assert "PRIVATE KEY" in key and key.strip().splitlines()[1] not in logs


def test_new_api_key_takes_effect_on_sighup(manager):
    old = manager.api_key
    r = subprocess.run([binpath("vigil-manager"), "-c", manager.conf, "new-api-key"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    new = r.stdout.split("new API key: ")[1].split()[0]
    assert len(new) == 48 and new != old
    manager.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "API key and activation token reloaded" in manager.logs(), what="reload")
    with pytest.raises(ApiError) as e:
        manager.api("/api/computers", key=old)
    assert e.value.status == 401
    assert manager.api("/api/computers", key=new) == {"computers": []}
    assert new not in manager.logs()
    manager.api_key = new


def test_anonymous_idle_connection_gets_the_short_timeout(tmp_path):
    m = Manager(tmp_path, extra="request_timeout = 1\n").start()
    try:
        s = raw_tls(m)  # handshake done, no client certificate, then silence
        t = time.monotonic()
        assert read_response(s) == ""
        assert time.monotonic() - t < 1 + 1.5  # not the 1800 s idle timeout of agents
    finally:
        m.stop()


def test_heartbeat_without_interfaces_keeps_them_and_deadline_is_ahead(manager, agents):
    a = agents("ifs")
    c = wait_until(lambda: manager.computer("ifs"))
    a.kill()
    cert, key = a.cert()
    before = manager.computer("ifs")["interfaces"]
    st, _ = manager.agent_post("/agent/v1/heartbeat", {"hostname": "ifs"}, cert=cert, key=key)
    assert st == 200
    after = manager.computer("ifs")
    assert after["interfaces"] == before
    window_ms = manager.heartbeat_interval * 1000 * (manager.missed + 1)
    assert abs(after["vigil"]["offlineDeadline"] - (after["lastAgentCommunication"] + window_ms)) <= 2


def test_agent_reset_tells_the_manager_and_forgets_identity(manager, agents):
    a = agents("resetme")
    c = wait_until(lambda: manager.computer("resetme"))
    wait_until(lambda: manager.status("resetme") == "Managed (Online)")
    r = a.ctl("reset")
    assert "reset: the manager https://127.0.0.1:%d/ deactivated computer %s" % (
        manager.agent_port, c["hostGUID"]) in r.stdout
    assert "can be activated again" in r.stdout
    for f in ("agent.json", "identity.key", "identity.crt"):
        assert not os.path.exists(os.path.join(a.dir, f))
    st = a.ctl("status", check=False)
    assert st.returncode == 1 and "activated:      no" in st.stdout
    assert manager.status("resetme") == "Deactivated"
    ev = manager.events(id=708, computer=c["ID"])
    assert len(ev) == 1 and "by a reset on the host" in ev[0]["description"]
    # a deactivated computer never goes offline: no deadline, no alert
    assert manager.computer("resetme")["vigil"]["offlineDeadline"] == 0
    assert not manager.events(id=730)
    # activated again, the same identity reactivates the listed computer
    # (the default duplicate setting), with a new certificate
    a.activate()
    wait_until(lambda: manager.status("resetme") == "Managed (Online)")
    assert [x["ID"] for x in manager.computers() if x["hostName"] == "resetme"] == [c["ID"]]


def test_reset_without_a_manager_still_resets(tmp_path):
    m = Manager(tmp_path).start()
    a = Agent(m, tmp_path, "lonely").start()
    try:
        a.activate()
        m.stop()
        r = a.ctl("reset")
        assert "could not tell the manager" in r.stderr and "deactivate computer" in r.stderr
        assert not os.path.exists(os.path.join(a.dir, "agent.json"))
    finally:
        a.stop()


def test_operator_deactivates_a_computer(manager, agents):
    a = agents("retired")
    c = wait_until(lambda: manager.computer("retired"))
    wait_until(lambda: manager.status("retired") == "Managed (Online)")
    from test_vigilctl import ctl
    # the agent port closed: the agent can only learn it from a refused heartbeat
    assert a.ctl("block-inbound").returncode == 0
    r = ctl(manager, "computer", "deactivate", "retired")
    assert r.returncode == 0, r.stderr
    assert "deactivated retired (ID %d" % c["ID"] in r.stdout
    assert manager.status("retired") == "Deactivated"
    assert manager.computer("retired")["computerStatus"]["agentStatus"] == "inactive"
    ev = manager.events(id=708, computer=c["ID"])
    assert len(ev) == 1 and "by the operator through the REST API" in ev[0]["description"]
    # the certificate no longer works: the agent's next heartbeat is refused
    # and it stops heartbeating
    wait_until(lambda: "deactivated by the manager" in a.ctl("status", check=False).stdout,
               what="agent learns it was deactivated")
    assert a.ctl("status", check=False).returncode == 1
    assert wait_until(lambda: [e for e in manager.events(id=770, computer=c["ID"])
                               if "computer_deactivated" in e["description"]])
    hb = a.ctl("heartbeat", check=False)
    assert hb.returncode == 1 and "deactivated" in hb.stderr
    # twice is a conflict, with a sentence
    with pytest.raises(ApiError) as e:
        manager.api("/api/computers/%d/deactivate" % c["ID"], method="POST")
    assert e.value.status == 409 and "already deactivated" in e.value.body
    # and it never goes offline
    assert not manager.events(id=730)


def test_deactivation_reaches_the_agent_on_its_port_at_once(manager, agents):
    from test_vigilctl import ctl
    a = agents("told")
    c = wait_until(lambda: manager.computer("told"))
    wait_until(lambda: manager.computer("told")["vigil"]["agentPort"] == a.status()["agent_port"]["port"])
    assert ctl(manager, "computer", "deactivate", "told").returncode == 0
    # told on port 4118 (here: its test port), not at its next heartbeat
    st = wait_until(lambda: a.status() if a.status().get("deactivated") else None)
    assert "deactivated by the operator through the REST API" in st["deactivated_reason"]
    assert st["agent_port"]["accepted"] >= 1
    assert not [e for e in manager.events(id=770, computer=c["ID"])]


def test_bad_query_values_are_refused_not_ignored(manager):
    with pytest.raises(ApiError) as e:
        manager.api("/api/events?computer=" + "x" * 400)
    assert e.value.status == 400 and "computer" in e.value.body
    with pytest.raises(ApiError) as e:
        manager.api("/api/events?id=%zz")
    assert e.value.status == 400
    evs = manager.events(order="desc", limit=1)
    assert len(evs) == 1 and evs[0]["systemEventID"] == manager.events()[-1]["systemEventID"]


def test_control_and_bidi_characters_in_hostnames_are_refused(manager):
    for bad in ("evil\u202e", "evil\u0085", "evil\u2066", "evil\x1b[2J"):
        st, body = manager.agent_post("/agent/v1/activate",
                                      {"token": manager.token, "csr": "x", "host": {"hostname": bad}})
        assert st == 400 and "hostname" in body["error"]["message"], (bad, body)


def test_a_renamed_host_is_found_by_its_new_name(manager, agents):
    """The registry's name index follows a host name reported by a heartbeat."""
    a = agents("before-rename")
    c = wait_until(lambda: manager.computer("before-rename"))
    cert, key = a.cert()
    a.stop()
    st, _ = manager.agent_post("/agent/v1/heartbeat", {"hostname": "after-rename"}, cert=cert, key=key)
    assert st == 200
    # ?computer= takes an ID, a GUID or a name
    evs = manager.api("/api/events?computer=after-rename")["events"]
    assert evs and all(e["targetID"] == c["ID"] for e in evs)
    try:
        manager.api("/api/events?computer=before-rename")
        assert False, "the old name still resolves"
    except ApiError as e:
        assert e.status == 404
