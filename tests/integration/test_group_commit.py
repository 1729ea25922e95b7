"""Group commit of activations (docs/internals/store.md): the new computers
activated in one event-loop iteration share one transaction, and each is
answered only once its row is committed.  What a user can rely on, checked
without timing: every 200 names a distinct computer that survives a kill -9
right after the answers, and a commit that fails answers every activation of
its batch with the same 503 and leaves none of them listed."""
import concurrent.futures
import http.client
import json
import os
import signal
import sqlite3
import ssl
import subprocess

from vigil import Manager, wait_until

N = 48


def make_csrs(d, n):
    out = []
    for i in range(n):
        key, csr = os.path.join(d, "k%d.pem" % i), os.path.join(d, "r%d.csr" % i)
        subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                        "-subj", "/CN=gc%d" % i, "-out", csr],
                       check=True, capture_output=True)
        out.append(open(csr).read())
    return out


def activate(m, csr, host, timeout=60):
    """One activation on a connection of its own; (status, parsed body)."""
    ctx = ssl.create_default_context(cafile=m.ca)
    ctx.check_hostname = False
    conn = http.client.HTTPSConnection("127.0.0.1", m.agent_port, context=ctx, timeout=timeout)
    conn.request("POST", "/agent/v1/activate",
                 body=json.dumps({"token": m.token, "csr": csr, "host": {"hostname": host}}),
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    body = json.loads(r.read().decode())
    conn.close()
    return r.status, body


def activate_all(m, csrs, prefix):
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(csrs)) as ex:
        futs = [ex.submit(activate, m, csr, "%s%02d" % (prefix, i)) for i, csr in enumerate(csrs)]
        return [f.result() for f in futs]


def db_rows(m):
    db = sqlite3.connect(os.path.join(m.state, "vigil.db"))
    try:
        return {r[0]: r[1:] for r in db.execute(
            "SELECT guid, hostname, state, cert_serial FROM computers")}
    finally:
        db.close()


def test_concurrent_activations_are_durable_when_answered(tmp_path):
    csrs = make_csrs(str(tmp_path), N)
    m = Manager(tmp_path, extra="[activation]\nrate = 100000\nburst = 100000\n").start()
    try:
        answers = activate_all(m, csrs, "gc")
        # answered: every row is committed, so a crash now loses none of them
        m.proc.send_signal(signal.SIGKILL)
        m.proc.wait()
    finally:
        m.stop()
    assert [st for st, _ in answers] == [200] * N, answers
    guids = [b["guid"] for _, b in answers]
    assert len(set(guids)) == N
    assert len({b["computer_id"] for _, b in answers}) == N
    rows = db_rows(m)
    for _, b in answers:
        assert b["guid"] in rows, b["guid"]
        hostname, state, serial = rows[b["guid"]]
        assert hostname == b["hostname"] and state == "activated" and serial
    # and the manager that starts on that database lists them
    m.start()
    try:
        listed = {c["hostGUID"] for c in m.computers()}
        assert set(guids) <= listed
    finally:
        rc = m.stop()
    assert rc in (0, None), m.logs()[-3000:]


def test_failed_commit_answers_every_activation_503_and_lists_none(tmp_path):
    csrs = make_csrs(str(tmp_path), 8)
    m = Manager(tmp_path, extra="[activation]\nrate = 100000\nburst = 100000\n").start()
    try:
        # the database refuses these rows (a trigger, added by another connection):
        # the transaction of their batch fails
        db = sqlite3.connect(os.path.join(m.state, "vigil.db"), isolation_level=None)
        db.execute("CREATE TRIGGER refuse BEFORE INSERT ON computers "
                   "WHEN NEW.hostname LIKE 'refused%' "
                   "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
        answers = activate_all(m, csrs, "refused")
        for st, body in answers:
            assert st == 503, answers
            assert body == {"error": {
                "code": "store_unavailable",
                "message": "activation failed: the manager cannot write its database; "
                           "try again"}}
        # not on disk, and not in memory either
        assert not [c for c in m.computers() if c["hostName"].startswith("refused")]
        assert not [g for g, r in db_rows(m).items() if r[0].startswith("refused")]
        # once the database takes the rows again, the same agents activate
        db.execute("DROP TRIGGER refuse")
        db.close()
        answers = activate_all(m, csrs, "refused")
        assert [st for st, _ in answers] == [200] * len(csrs), answers
        rows = db_rows(m)
        listed = {c["hostGUID"] for c in m.computers()}
        for _, b in answers:
            assert b["guid"] in rows and b["guid"] in listed
    finally:
        rc = m.stop()
    assert rc in (0, None), m.logs()[-3000:]
