"""TLS 1.3 session tickets (manager/tickets.c, manager/ca.c): issued where
they can be used (a client certificate, or a resumed session), not on the
anonymous connections of activations and CA fetches; still good after a
manager restart; never good across the two listeners."""
import socket
import ssl

from vigil import Agent, wait_until


def context(m, cert=None):
    ctx = ssl.create_default_context(cafile=m.ca)
    ctx.check_hostname = False
    if cert:
        ctx.load_cert_chain(*cert)
    return ctx


def request(m, ctx, session=None, port=None, path="/agent/v1/ca"):
    """One GET on a new connection; the SSL socket after the answer (the
    ticket came with it) and the status line."""
    raw = socket.create_connection(("127.0.0.1", port or m.agent_port), timeout=10)
    s = ctx.wrap_socket(raw, session=session)
    s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path.encode())
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    assert data.startswith(b"HTTP/1.1 "), data[:100]
    return s, data.split(b"\r\n", 1)[0]


def test_tickets_only_for_certificates_and_resumptions(manager, tmp_path):
    s, status = request(manager, context(manager))
    assert status == b"HTTP/1.1 200 OK"
    assert s.version() == "TLSv1.3"
    assert not s.session.has_ticket
    s.close()

    a = Agent(manager, tmp_path, "tix").start()
    try:
        a.activate()
        ctx = context(manager, a.cert())
        s, _ = request(manager, ctx)
        assert s.session.has_ticket
        sess = s.session
        s.close()
        s, _ = request(manager, ctx, session=sess)
        assert s.session_reused
        assert s.session.has_ticket
        s.close()
    finally:
        a.stop()


def test_tickets_resume_after_a_manager_restart(manager, agents):
    a = agents("ticket")
    wait_until(lambda: manager.status("ticket") == "Managed (Online)", what="online")
    ctx = context(manager, a.cert())
    s, _ = request(manager, ctx)
    assert not s.session_reused
    s, _ = request(manager, ctx, session=s.session)
    assert s.session_reused, "no resumption on the same manager"
    sess = s.session
    manager.stop()
    manager.start()
    s, _ = request(manager, ctx, session=sess)
    assert s.session_reused, "the restarted manager did not accept its own ticket"
    # the resumed connection is still the agent's: its heartbeat is accepted
    wait_until(lambda: manager.status("ticket") == "Managed (Online)", what="online after restart")


def test_api_port_tickets_do_not_resume_on_the_agent_port(manager, agents):
    a = agents("apiticket")
    ctx = context(manager, a.cert())
    s, _ = request(manager, ctx, port=manager.api_port)
    api_sess = s.session
    s, _ = request(manager, ctx, session=api_sess, port=manager.api_port)
    assert s.session_reused
    # a session made without a client certificate request on the API port
    # must not become an agent-channel session
    s, _ = request(manager, ctx, session=api_sess)
    assert not s.session_reused
