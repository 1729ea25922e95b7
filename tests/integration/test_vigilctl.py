"""vigilctl against a real manager: what an operator sees, and exit codes."""
import json
import os
import subprocess

from vigil import binpath, wait_until


def ctl(m, *args, key=None, url=None, ca=None):
    env = dict(os.environ)
    env.pop("VIGIL_API_KEY_FILE", None)
    env["VIGIL_URL"] = url or "https://127.0.0.1:%d" % m.api_port
    env["VIGIL_CA"] = ca or m.ca
    env["VIGIL_API_KEY"] = m.api_key if key is None else key
    return subprocess.run([binpath("vigilctl")] + list(args), capture_output=True, text=True,
                          env=env, timeout=60)


def test_computers_table_and_json(manager, agents):
    for n in ("ctl-a", "ctl-b", "ctl-c"):
        agents(n)
    wait_until(lambda: all(manager.status(n) == "Managed (Online)" for n in ("ctl-a", "ctl-b", "ctl-c")))
    r = ctl(manager, "computers")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    header = lines[0].split()
    assert header[:2] == ["NAME", "STATUS"] and "POLICY" in lines[0] and "VERSION" in lines[0]
    for n in ("ctl-a", "ctl-b", "ctl-c"):
        row = [line for line in lines if line.startswith(n + " ")]
        assert row and "Managed (Online)" in row[0] and "Default" in row[0] and "0.1.0" in row[0]
    j = json.loads(ctl(manager, "computers", "--json").stdout)
    assert sorted(c["hostName"] for c in j) == ["ctl-a", "ctl-b", "ctl-c"]


def test_computer_show_events_and_alerts_after_an_outage(manager, agents):
    a = agents("ctl-off")
    c = wait_until(lambda: manager.computer("ctl-off"))
    a.kill()
    wait_until(lambda: manager.status("ctl-off") == "Managed (Offline)")
    for ref in ("ctl-off", c["hostGUID"], str(c["ID"])):
        r = ctl(manager, "computer", "show", ref)
        assert r.returncode == 0, r.stderr
        assert "Managed (Offline)" in r.stdout and c["hostGUID"] in r.stdout
        # its latest events, the offline one among them
        assert " 730 " in r.stdout and " 704 " in r.stdout
    r = ctl(manager, "events", "--computer", "ctl-off", "--id", "730")
    assert r.returncode == 0 and "730" in r.stdout and "Offline" in r.stdout
    r = ctl(manager, "alerts")
    assert r.returncode == 0 and "Computer offline" in r.stdout and "ctl-off" in r.stdout


def test_exit_codes_and_messages(manager, agents, tmp_path):
    r = ctl(manager, "computer", "show", "no-such-host")
    assert r.returncode == 1 and "no-such-host" in r.stderr
    r = ctl(manager, "computers", key="wrong-key")
    assert r.returncode == 1 and "401" in r.stderr and "API key" in r.stderr
    assert "wrong-key" not in r.stderr + r.stdout
    r = ctl(manager, "computers", url="https://127.0.0.1:1")
    assert r.returncode == 3 and r.stderr.startswith("vigilctl: ")
    r = ctl(manager, "computers", ca=str(tmp_path / "missing.crt"))
    assert r.returncode in (2, 3) and "missing.crt" in r.stderr
    r = ctl(manager, "frobnicate")
    assert r.returncode == 2
    r = ctl(manager, "health")
    assert r.returncode == 0
