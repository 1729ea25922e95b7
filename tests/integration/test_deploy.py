"""Issue 3 (part): the agent deployment script, run as an operator would."""
import json
import os
import re
import signal
import stat
import subprocess

from test_vigilctl import ctl
from vigil import Agent, Manager, binpath, wait_until


def run_script(path, agent):
    env = dict(os.environ)
    env["VIGIL_AGENTCTL"] = binpath("vigil-agentctl")
    env["VIGIL_AGENT_DIR"] = agent.dir
    env["VIGIL_DEPLOY_ALLOW_NON_ROOT"] = "1"
    return subprocess.run(["/bin/sh", path], capture_output=True, text=True, env=env, timeout=60)


def deploy_manager(tmp_path):
    return Manager(tmp_path, extra="public_address = 127.0.0.1").start()


def test_script_activates_with_ca_pinned_and_its_own_token(tmp_path):
    m = deploy_manager(tmp_path)
    try:
        out = str(tmp_path / "deploy.sh")
        r = ctl(m, "deploy-script", "--retry-interval", "5", "--max-retries", "7", "--output", out)
        assert r.returncode == 0, r.stderr
        assert "deployment script written to " + out in r.stderr
        assert stat.S_IMODE(os.stat(out).st_mode) == 0o700
        text = open(out).read()
        assert text.startswith("#!/bin/sh\n")
        assert "MANAGER_URL='https://127.0.0.1:%d/'" % m.agent_port in text
        assert "CA_FINGERPRINT='%s'" % m.fingerprint in text
        assert "RETRY_INTERVAL=5" in text and "MAX_RETRIES=7" in text
        token = re.search(r"^TOKEN='([0-9a-f]{48})'$", text, re.M).group(1)
        assert token != m.token  # the activation token itself is never kept, so never shown
        # the same script through the REST API, as Deep Security's API names it
        api = m.api("/api/agentdeploymentscripts?retry_interval=5&max_retries=7")
        assert "TOKEN='%s'" % token in api["scriptBody"]
        ev = m.events(id=965)
        assert ev and "retry every 5 s, up to 7 times" in ev[0]["description"]

        a = Agent(m, tmp_path, "deployed").start()
        try:
            r = run_script(out, a)
            assert r.returncode == 0, r.stdout + r.stderr
            assert "vigil-deploy: activating this host against https://127.0.0.1:%d/" % m.agent_port in r.stdout
            assert "vigil-deploy: activated" in r.stdout
            guid = json.loads(a.ctl("status", "--json").stdout)["guid"]
            c = wait_until(lambda: [c for c in m.computers() if c["hostGUID"] == guid])
            wait_until(lambda: m.api("/api/computers/%d" % c[0]["ID"])["computerStatus"]
                       ["agentStatusMessages"] == ["Managed (Online)"])
            # run again on an activated host: it says so and changes nothing
            r = run_script(out, a)
            assert r.returncode == 1 and "already activated as " + guid in r.stderr
        finally:
            a.stop()
        # no secret reaches the log
        logs = m.logs() + open(m.stdout_path).read().replace(m.token, "")
        assert token not in logs
    finally:
        assert m.stop() == 0


def test_script_refused_for_seats_retries_and_activates_once_a_seat_frees(tmp_path):
    m = deploy_manager(tmp_path)
    started = []
    try:
        assert ctl(m, "license", "add", "--seats", "1").returncode == 0
        first = Agent(m, tmp_path, "first").start()
        started.append(first)
        first.activate()
        wait_until(lambda: m.status("first") == "Managed (Online)")
        out = str(tmp_path / "deploy.sh")
        assert ctl(m, "deploy-script", "--retry-interval", "1", "--max-retries", "20",
                   "--output", out).returncode == 0
        second = Agent(m, tmp_path, "second").start()
        started.append(second)
        r = run_script(out, second)
        assert r.returncode == 1
        assert "activation refused: all 1 license seats are in use" in r.stderr
        assert "not activated yet: the agent retries every 1 s, up to 20 times" in r.stderr
        # the seat frees: the script's agent activates by itself
        assert ctl(m, "computer", "deactivate", "first").returncode == 0
        wait_until(lambda: json.loads(second.ctl("status", "--json", check=False).stdout).get("activated"),
                   what="the deployed agent activated on a retry")
        guid = json.loads(second.ctl("status", "--json").stdout)["guid"]
        wait_until(lambda: [c for c in m.computers() if c["hostGUID"] == guid and
                            c["computerStatus"]["agentStatusMessages"] == ["Managed (Online)"]])
    finally:
        for a in started:
            a.stop()
        assert m.stop() == 0


def test_status_shows_pending_retries_without_the_daemon(tmp_path):
    m = deploy_manager(tmp_path)
    holder = Agent(m, tmp_path, "holder").start()
    try:
        assert ctl(m, "license", "add", "--seats", "1").returncode == 0
        holder.activate()
        wait_until(lambda: m.status("holder") == "Managed (Online)")
        a = Agent(m, tmp_path, "nodaemon")  # never started
        os.makedirs(a.dir, exist_ok=True)
        r = a.activate(check=False)
        assert r.returncode == 1 and "vigil-agent is not running" in r.stderr
        st = json.loads(a.ctl("status", "--json", check=False).stdout)
        assert st["daemon_running"] is False and st["activated"] is False
        assert st["pending_activation"]["attempts_left"] == 30
        assert "license seats are in use" in st["pending_activation"]["last_error"]
        assert "token" not in st["pending_activation"]
        assert "retrying with https://127.0.0.1:%d/" % m.agent_port in a.ctl("status", check=False).stdout
    finally:
        holder.stop()
        assert m.stop() == 0


def test_bad_requests_and_token_rotation(tmp_path):
    m = deploy_manager(tmp_path)
    try:
        r = ctl(m, "deploy-script", "--policy", "Nope")
        assert r.returncode != 0 and 'no policy named "Nope"' in r.stderr
        r = ctl(m, "deploy-script", "--max-retries", "101")
        assert r.returncode == 2 and "--max-retries" in r.stderr
        for q in ("max_retries=101", "retry_interval=0", "retry_interval=abc", "policy=" + "p" * 300):
            try:
                m.api("/api/agentdeploymentscripts?" + q)
                assert False, q
            except Exception as e:
                assert getattr(e, "status", None) == 400, (q, e)
        oldscript = m.api("/api/agentdeploymentscripts")["scriptBody"]
        old = re.search(r"TOKEN='(\w+)'", oldscript).group(1)
        # a new activation token, taken on SIGHUP, retires the old scripts too
        r = subprocess.run([binpath("vigil-manager"), "-c", m.conf, "new-activation-token"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        m.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "SIGHUP: API key and activation token reloaded" in m.logs())
        new = re.search(r"TOKEN='(\w+)'", m.api("/api/agentdeploymentscripts")["scriptBody"]).group(1)
        assert new != old
        # an agent deployed with the old script is refused, and says why
        script = str(tmp_path / "old.sh")
        with open(script, "w") as f:
            f.write(oldscript)
        a = Agent(m, tmp_path, "late").start()
        try:
            r = run_script(script, a)
            assert r.returncode == 1
            assert "the activation token is not valid for this manager" in r.stderr
            assert "activation failed (see above); nothing will be retried" in r.stderr
        finally:
            a.stop()
    finally:
        assert m.stop() == 0
