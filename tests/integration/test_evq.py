"""Issue 5: the agent's durable event queue, exactly once end to end.

Events are made with the test aid `vigil-agentctl emit-test-events N`
(event 4991, "test event I of N"), which goes through the same queue as the
agent's own events.  Every test counts what arrived per agent sequence in
GET /api/events: nothing lost, nothing doubled.
"""
import glob
import json
import os
import signal
import struct
import subprocess

from vigil import Agent, binpath, wait_until

TEST_EVENT = 4991
HDR = 16  # magic, type, 3 reserved, body length, CRC-32 (docs/internals/agent.md)


def queue_status(a):
    st = json.loads(a.ctl("status", "--json", check=False).stdout)
    return st.get("event_queue")


def all_events(m, computer_id, event_id=TEST_EVENT):
    out, after = [], 0
    while True:
        page = m.events(computer=computer_id, id=event_id, after=after, limit=5000)
        out += page
        if len(page) < 5000:
            return out
        after = page[-1]["systemEventID"]


def count_test_events(m, computer_id):
    return len(all_events(m, computer_id))


def assert_exactly_once(evs, n, first=1):
    """The descriptions "test event I of N" for I in first..n, each once, seqs distinct."""
    seqs = [e["agentSequence"] for e in evs]
    assert len(seqs) == len(set(seqs)), "an agent sequence stored twice"
    nums = sorted(int(e["description"].split()[2]) for e in evs)
    assert nums == list(range(first, n + 1)), "lost or doubled: %d events, expected %d" % (
        len(nums), n - first + 1)
    for e in evs:
        assert e["agentTime"] > 0 and e["time"] > 0 and e["targetID"] > 0


def online(m, a, name):
    a.activate()
    wait_until(lambda: m.status(name) == "Managed (Online)", what=name + " online")
    wait_until(lambda: queue_status(a) and queue_status(a)["depth"] == 0, what="empty queue")
    return m.computer(name)["ID"]


def records(path):
    """(offset, type, length) of each record of a queue file."""
    data = open(path, "rb").read()
    out, off = [], 0
    while off + HDR <= len(data):
        assert data[off:off + 4] == b"VEQ1"
        blen = struct.unpack_from("<I", data, off + 8)[0]
        out.append((off, chr(data[off + 4]), HDR + blen))
        off += HDR + blen
    return out, data


def test_events_made_while_the_manager_is_down_arrive_exactly_once(manager, agents):
    a = agents("evq-down", activate=False)
    cid = online(manager, a, "evq-down")
    assert manager.stop() == 0
    r = a.ctl("emit-test-events", "10000")
    assert "queued 10000 test events" in r.stdout
    q = queue_status(a)
    assert q["depth"] >= 10000 and q["dropped"] == 0
    # the outage shows as the agent's own events too
    wait_until(lambda: queue_status(a)["depth"] > 10000, what="a 4012 queued while down")
    manager.start()
    wait_until(lambda: count_test_events(manager, cid) >= 10000, timeout=120,
               interval=0.5, what="10000 test events on the manager")
    wait_until(lambda: queue_status(a)["depth"] == 0, timeout=30, what="queue drained")
    assert_exactly_once(all_events(manager, cid), 10000)
    failed = all_events(manager, cid, 4012)
    # the first failure may meet the closing kept-alive connection; later ones are refused
    assert failed and all(e["description"].startswith("heartbeat failed (") for e in failed)
    assert all_events(manager, cid, 4011)
    st = a.ctl("status").stdout
    assert "event queue:    0 events" in st and "dropped:        0 events" in st
    # vigilctl shows the agent's own clock and sequence next to the receive time
    env = dict(os.environ, VIGIL_URL="https://127.0.0.1:%d" % manager.api_port,
               VIGIL_CA=manager.ca, VIGIL_API_KEY=manager.api_key)
    env.pop("VIGIL_API_KEY_FILE", None)
    r = subprocess.run([binpath("vigilctl"), "events", "--computer", "evq-down", "--id", "4012",
                        "--wide"], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "AGENT TIME" in lines[0] and "AGENT SEQ" in lines[0]
    assert str(failed[0]["agentSequence"]) in lines[1] and "Heartbeat Failed" in lines[1]


def test_kill_9_of_the_agent_during_delivery_loses_and_doubles_nothing(manager, agents, tmp_path):
    a = agents("evq-kill", activate=False)
    cid = online(manager, a, "evq-kill")
    assert manager.stop() == 0
    a.ctl("emit-test-events", "20000")
    manager.start()
    total = queue_status(a)["depth"]
    # killed as soon as a few batches are acknowledged: about 18 000 events still queued
    wait_until(lambda: 0 < queue_status(a)["depth"] < total - 1000, timeout=60, interval=0.02,
               what="delivery under way")
    a.kill(signal.SIGKILL)
    a.start()
    wait_until(lambda: count_test_events(manager, cid) >= 20000, timeout=120, interval=0.5,
               what="20000 test events on the manager")
    wait_until(lambda: queue_status(a)["depth"] == 0, timeout=30, what="queue drained")
    assert_exactly_once(all_events(manager, cid), 20000)


def test_kill_9_of_the_manager_during_delivery_loses_nothing(manager, agents):
    a = agents("evq-mkill", activate=False)
    cid = online(manager, a, "evq-mkill")
    assert manager.stop() == 0
    a.ctl("emit-test-events", "20000")
    manager.start()
    total = queue_status(a)["depth"]
    wait_until(lambda: 0 < queue_status(a)["depth"] < total - 1000, timeout=60, interval=0.02,
               what="delivery under way")
    manager.stop(signal.SIGKILL)
    # everything acknowledged was committed before the answer: the agent resends the rest
    manager.start()
    wait_until(lambda: count_test_events(manager, cid) >= 20000, timeout=120, interval=0.5,
               what="20000 test events on the manager")
    wait_until(lambda: queue_status(a)["depth"] == 0, timeout=30, what="queue drained")
    assert_exactly_once(all_events(manager, cid), 20000)


def damaged_queue(manager, agents, name, damage):
    """Queues 100 test events with the manager down, damages the file, restarts the agent."""
    a = agents(name, activate=False)
    cid = online(manager, a, name)
    assert manager.stop() == 0
    a.ctl("emit-test-events", "100")
    a.stop()
    path = os.path.join(a.dir, "events.queue")
    recs, data = records(path)
    events = [r for r in recs if r[1] == "E"]
    kept, off = damage(path, data, events)
    # every event record before the damage is kept (4012s queued before the test events too)
    kept_total = len([e for e in events if e[0] < off])
    a.start()
    aside = glob.glob(path + ".damaged-*")
    assert len(aside) == 1, "the damaged file is set aside"
    manager.start()
    evs = wait_until(lambda: all_events(manager, cid, 4990), timeout=30, what="event 4990")
    assert "the event queue file was damaged" in evs[0]["description"]
    assert os.path.basename(aside[0]) in evs[0]["description"]
    assert "; %d queued events kept" % kept_total in evs[0]["description"]
    wait_until(lambda: queue_status(a)["depth"] == 0, timeout=30, what="queue drained")
    return a, cid, kept, evs[0]["description"]


def test_a_truncated_queue_file_keeps_its_good_prefix(manager, agents):
    def cut(path, data, events):
        # the last test event is torn in the middle
        off = [e for e in events if b"test event 100 of 100" in data[e[0]:e[0] + e[2]]][0][0]
        with open(path, "r+b") as f:
            f.truncate(off + 20)
        return 99, off

    a, cid, kept, desc = damaged_queue(manager, agents, "evq-torn", cut)
    assert "incomplete" in desc
    wait_until(lambda: count_test_events(manager, cid) >= kept, what="the kept events")
    assert_exactly_once(all_events(manager, cid), kept)
    # the agent keeps working: new events after the damage arrive too
    a.ctl("emit-test-events", "5")
    wait_until(lambda: count_test_events(manager, cid) >= kept + 5, what="events after the damage")


def test_garbage_in_the_middle_of_the_queue_file_is_survived(manager, agents):
    def smash(path, data, events):
        # a bad checksum in the 51st test event: the 50 before it are kept
        off = [e for e in events if b"test event 51 of 100" in data[e[0]:e[0] + e[2]]][0][0]
        with open(path, "r+b") as f:
            f.seek(off + HDR + 22)
            f.write(b"\xff\xfe garbage \x00")
        return 50, off

    a, cid, kept, desc = damaged_queue(manager, agents, "evq-garbage", smash)
    assert "checksum mismatch" in desc
    wait_until(lambda: count_test_events(manager, cid) >= kept, what="the kept events")
    assert_exactly_once(all_events(manager, cid), kept)


def test_a_file_of_garbage_starts_a_new_queue(manager, agents):
    def garbage(path, data, events):
        with open(path, "wb") as f:
            f.write(b"\x00not a queue" + os.urandom(3000))
        return 0, 0

    a, cid, kept, desc = damaged_queue(manager, agents, "evq-junk", garbage)
    assert "bad magic" in desc
    a.ctl("emit-test-events", "3")
    wait_until(lambda: count_test_events(manager, cid) >= 3, what="events in the new queue")
    assert_exactly_once(all_events(manager, cid), 3)


def test_a_full_queue_drops_the_oldest_and_reports_the_exact_count(manager, tmp_path):
    a = Agent(manager, tmp_path, "evq-full").start("--queue-max-events", "100")
    try:
        cid = online(manager, a, "evq-full")
        q = queue_status(a)
        assert q["max_events"] == 100 and q["dropped"] == 0
        a.ctl("emit-test-events", "150")
        ev = wait_until(lambda: all_events(manager, cid, 745), what="event 745")
        assert "50 events dropped (50 in all)" in ev[0]["description"]
        assert ev[0]["event"] == "Events Truncated"
        wait_until(lambda: count_test_events(manager, cid) >= 100, what="the 100 kept")
        assert_exactly_once(all_events(manager, cid), 150, first=51)
        st = a.ctl("status").stdout
        assert "dropped:        50 events" in st
        # reported once, not per heartbeat
        a.ctl("heartbeat")
        a.ctl("heartbeat")
        assert len(all_events(manager, cid, 745)) == 1
        # the count survives a restart of the agent
        a.stop()
        a.start("--queue-max-events", "100")
        assert queue_status(a)["dropped"] == 50
    finally:
        a.stop()


def test_queue_limits_are_checked(manager, tmp_path):
    r = subprocess.run([binpath("vigil-agent"), "-d", str(tmp_path / "x"), "--queue-max-events", "5"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "--queue-max-events: a whole number from 10 to" in r.stderr
    r = subprocess.run([binpath("vigil-agent"), "-d", str(tmp_path / "x"), "--queue-max-bytes", "1k"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "--queue-max-bytes" in r.stderr
