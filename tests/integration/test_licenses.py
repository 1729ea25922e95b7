"""Issue 3 (part): license seats, refused activations that retry, stopped VMs."""
import json
import os
import time

from test_vigilctl import ctl
from vigil import wait_until


def retry_attempts_left(agent):
    st = agent.ctl("status", "--json", check=False).stdout
    p = json.loads(st).get("pending_activation")
    return p["attempts_left"] if p else None


def test_seed_scenario_seats_retries_and_stopped_vm(manager, agents):
    r = ctl(manager, "license", "add", "--seats", "5")
    assert r.returncode == 0, r.stderr
    names = ["one", "two", "three", "four", "five"]
    for n in names:
        agents(n)
    wait_until(lambda: all(manager.status(n) == "Managed (Online)" for n in names))
    show = ctl(manager, "license", "show")
    assert "seats: 5 total, 5 used, 0 free" in show.stdout
    lic = manager.api("/api/licenses")
    assert lic["seats"] == {"total": 5, "used": 5, "free": 0, "unlimited": False}

    # the sixth is refused, listed with the reason, and retries by itself
    six = agents("six", activate=False)
    r = six.ctl("activate", "https://127.0.0.1:%d/" % manager.agent_port, "token:" + manager.token,
                "hostname:six", "--ca-fingerprint", manager.fingerprint,
                "--retry-interval", "1", "--max-retries", "30", check=False)
    assert r.returncode == 1
    assert "activation refused: all 5 license seats are in use (HTTP 403, no_seat)" in r.stderr
    assert "Operation failed, 30 attempts left; will retry in about 1 seconds" in r.stderr
    c6 = wait_until(lambda: manager.computer("six"))
    assert c6["computerStatus"]["agentStatusMessages"] == ["Activation Failed"]
    assert c6["vigil"]["activationFailure"] == "all 5 license seats are in use"
    assert manager.events(id=705, computer="six")
    assert [e for e in manager.events(id=791) if "no_seat" in e["description"]]
    # it keeps retrying, counting down, and stays one listed computer
    wait_until(lambda: (retry_attempts_left(six) or 30) <= 28, what="two retries")
    assert "retrying with https://127.0.0.1" in six.ctl("status", check=False).stdout
    assert len([c for c in manager.computers() if c["hostName"] == "six"]) == 1

    # one VM is stopped: its seat frees, and the sixth activates on its next retry
    r = ctl(manager, "computer", "power", "one", "stopped")
    assert r.returncode == 0 and "Managed (VM Stopped)" in r.stdout, r.stdout + r.stderr
    wait_until(lambda: manager.status("six") == "Managed (Online)", timeout=15,
               what="six activated by itself")
    assert manager.status("one") == "Managed (VM Stopped)"
    assert manager.computer("six")["ID"] == c6["ID"]  # the listed computer, not a new one
    assert manager.api("/api/licenses")["seats"]["used"] == 5
    assert "one" not in [h["hostName"] for h in manager.api("/api/licenses")["holders"]]
    assert manager.events(id=960, computer="one")
    assert os.path.exists(os.path.join(six.dir, "identity.crt"))
    assert not os.path.exists(os.path.join(six.dir, "activation.pending"))

    # started again with no free seat: it stays protected and the alert says so
    r = ctl(manager, "computer", "power", "one", "running")
    assert r.returncode == 0
    assert manager.status("one") == "Managed (Online)"
    al = [a for a in manager.alerts() if a["alertType"] == "seat-limit-exceeded"]
    assert len(al) == 1 and al[0]["name"] == "License seat limit exceeded"
    assert "6 computers hold a seat, the licenses provide 5" in al[0]["description"]
    # a deactivation frees a seat and clears it
    assert ctl(manager, "computer", "deactivate", "two").returncode == 0
    wait_until(lambda: not [a for a in manager.alerts() if a["alertType"] == "seat-limit-exceeded"])


def test_stopped_vm_is_not_offline(manager, agents):
    a = agents("vm1")
    wait_until(lambda: manager.status("vm1") == "Managed (Online)")
    assert ctl(manager, "computer", "power", "vm1", "stopped").returncode == 0
    a.kill()
    window_ms = manager.heartbeat_interval * 1000 * (manager.missed + 1)
    c = manager.computer("vm1")
    assert c["vigil"]["offlineDeadline"] == 0 and c["vigil"]["power"] == "stopped"
    # well past the window: still VM Stopped, no 730, no alert
    t0 = time.monotonic()
    wait_until(lambda: time.monotonic() - t0 > (window_ms + 1500) / 1000.0, timeout=10)
    assert manager.status("vm1") == "Managed (VM Stopped)"
    assert not manager.events(id=730)


def test_expired_license_refuses_new_activations_but_keeps_running_ones(manager, agents):
    agents("before")
    wait_until(lambda: manager.status("before") == "Managed (Online)")
    r = ctl(manager, "license", "add", "--seats", "10", "--expires", "2020-01-01")
    assert r.returncode == 0 and "(EXPIRED)" in r.stdout
    al = [a for a in manager.alerts() if a["alertType"] == "license-expired"]
    assert len(al) == 1
    late = agents("late", activate=False)
    r = late.ctl(
        "activate", "https://127.0.0.1:%d/" % manager.agent_port, "token:" + manager.token,
        "hostname:late", "--ca-fingerprint", manager.fingerprint, "--max-retries", "0", check=False)
    assert r.returncode == 1
    assert "activation refused: the license expired on 2020-01-01" in r.stderr
    assert "Operation failed" not in r.stderr  # --max-retries 0
    assert manager.status("late") == "Activation Failed"
    # running protection is never switched off
    assert manager.status("before") == "Managed (Online)"


def test_license_add_refuses_bad_input(manager):
    r = ctl(manager, "license", "add")
    assert r.returncode == 2 and "--seats" in r.stderr
    r = ctl(manager, "license", "add", "--seats", "3", "--modules", "antimalware,coffee")
    assert r.returncode == 1 and "modules" in r.stderr
    show = ctl(manager, "license", "show")
    assert "no license added: seats are unlimited" in show.stdout
    # near expiry: the warning alert
    soon = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 30 * 86400))
    assert ctl(manager, "license", "add", "--seats", "3", "--expires", soon).returncode == 0
    assert [a for a in manager.alerts() if a["alertType"] == "license-expiring"]


def test_activation_storm_gets_429_and_agents_come_back_later(tmp_path):
    import http.client
    import ssl
    from vigil import Agent, Manager
    m = Manager(tmp_path, extra="[activation]\nrate = 1\nburst = 2\n").start()
    agents_started = []
    try:
        ctx = ssl.create_default_context(cafile=m.ca)
        ctx.check_hostname = False
        statuses, retry_after = [], []
        for _ in range(6):
            conn = http.client.HTTPSConnection("127.0.0.1", m.agent_port, context=ctx, timeout=10)
            conn.request("POST", "/agent/v1/activate", body="{}",
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            body = r.read().decode()
            statuses.append(r.status)
            if r.status == 429:
                retry_after.append(int(r.getheader("Retry-After")))
                assert json.loads(body)["error"]["code"] == "rate_limited"
            conn.close()
        # the burst of 2 is let through (to be refused for its body), the rest wait
        assert statuses[:2] == [400, 400] and statuses.count(429) >= 3, statuses
        assert all(ra >= 1 for ra in retry_after)
        # an agent caught in the storm is told when, and activates on a retry
        a = Agent(m, tmp_path, "stormy").start()
        agents_started.append(a)
        r = a.ctl("activate", "https://127.0.0.1:%d/" % m.agent_port, "token:" + m.token,
                  "hostname:stormy", "--ca-fingerprint", m.fingerprint, "--retry-interval", "1",
                  check=False)
        if r.returncode != 0:
            assert "too many activations at once" in r.stderr and "(HTTP 429, rate_limited)" in r.stderr
        wait_until(lambda: m.status("stormy") == "Managed (Online)", timeout=20)
    finally:
        for a in agents_started:
            a.stop()
        m.stop()


def test_retries_survive_an_agent_restart(manager, agents):
    assert ctl(manager, "license", "add", "--seats", "1").returncode == 0
    agents("holder")
    wait_until(lambda: manager.status("holder") == "Managed (Online)")
    w = agents("waiter", activate=False)
    r = w.ctl("activate", "https://127.0.0.1:%d/" % manager.agent_port, "token:" + manager.token,
              "hostname:waiter", "--ca-fingerprint", manager.fingerprint,
              "--retry-interval", "1", "--max-retries", "50", check=False)
    assert r.returncode == 1 and "50 attempts left" in r.stderr
    wait_until(lambda: (retry_attempts_left(w) or 50) <= 48, what="two retries")
    # killed mid-schedule, as by a crash or a reboot: the schedule goes on
    w.kill()
    left = json.loads(w.ctl("status", "--json", check=False).stdout)["pending_activation"]["attempts_left"]
    assert left <= 48
    w.start()
    wait_until(lambda: (retry_attempts_left(w) or 50) < left, what="a retry after the restart")
    assert ctl(manager, "computer", "deactivate", "holder").returncode == 0
    wait_until(lambda: manager.status("waiter") == "Managed (Online)", what="waiter activated")
    # the manager shows the activation before the agent has read its answer
    wait_until(lambda: not os.path.exists(os.path.join(w.dir, "activation.pending")),
               what="activation.pending removed by the agent")
