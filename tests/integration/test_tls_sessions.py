"""TLS session tickets: resumption survives a manager restart (tickets.h)."""
import socket
import ssl

from vigil import wait_until


def _exchange(port, ctx, session=None):
    """One request on a new connection; (resumed?, session to resume with)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    t = ctx.wrap_socket(s, session=session)
    reused = t.session_reused
    t.sendall(b"GET /agent/v1/none HTTP/1.1\r\nHost: vigil\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        chunk = t.recv(65536)
        if not chunk:
            break
        data += chunk
    assert data.startswith(b"HTTP/1.1 ")
    # the TLS 1.3 ticket arrived with the answer
    sess = t.session
    t.close()
    return reused, sess


def test_tickets_resume_after_a_manager_restart(manager, agents):
    a = agents("ticket")
    wait_until(lambda: manager.status("ticket") == "Managed (Online)", what="online")
    cert, key = a.cert()
    ctx = ssl.create_default_context(cafile=manager.ca)
    ctx.check_hostname = False
    ctx.load_cert_chain(cert, key)
    first, sess = _exchange(manager.agent_port, ctx)
    assert not first
    again, sess = _exchange(manager.agent_port, ctx, sess)
    assert again, "no resumption on the same manager"
    manager.stop()
    manager.start()
    after, sess2 = _exchange(manager.agent_port, ctx, sess)
    assert after, "the restarted manager did not accept its own ticket"
    # the resumed connection is still the agent's: its heartbeat is accepted
    wait_until(lambda: manager.status("ticket") == "Managed (Online)", what="online after restart")


def test_api_port_tickets_do_not_resume_on_the_agent_port(manager, agents):
    a = agents("apiticket")
    cert, key = a.cert()
    ctx = ssl.create_default_context(cafile=manager.ca)
    ctx.check_hostname = False
    ctx.load_cert_chain(cert, key)
    _, api_sess = _exchange(manager.api_port, ctx)
    resumed, _ = _exchange(manager.api_port, ctx, api_sess)
    assert resumed
    # a session made without a client certificate request on the API port
    # must not become an agent-channel session
    crossed, _ = _exchange(manager.agent_port, ctx, api_sess)
    assert not crossed
