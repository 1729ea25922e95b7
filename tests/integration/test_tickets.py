"""TLS 1.3 session tickets on the agent channel: issued where they can be
used (a client certificate, or a resumed session), not on the anonymous
connections of activations and CA fetches (manager/ca.c, ca_client_hello)."""
import socket
import ssl

from vigil import Agent


def context(m, cert=None):
    ctx = ssl.create_default_context(cafile=m.ca)
    ctx.check_hostname = False
    if cert:
        ctx.load_cert_chain(*cert)
    return ctx


def get_ca(m, ctx, session=None):
    """GET /agent/v1/ca on a new connection; the SSL socket after the answer."""
    raw = socket.create_connection(("127.0.0.1", m.agent_port), timeout=10)
    s = ctx.wrap_socket(raw, session=session)
    s.sendall(b"GET /agent/v1/ca HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    assert data.startswith(b"HTTP/1.1 200"), data[:100]
    return s


def test_tickets_only_for_certificates_and_resumptions(manager, tmp_path):
    s = get_ca(manager, context(manager))
    assert s.version() == "TLSv1.3"
    assert not s.session.has_ticket
    s.close()

    a = Agent(manager, tmp_path, "tix").start()
    try:
        a.activate()
        ctx = context(manager, a.cert())
        s = get_ca(manager, ctx)
        assert s.session.has_ticket
        sess = s.session
        s.close()
        s = get_ca(manager, ctx, session=sess)
        assert s.session_reused
        assert s.session.has_ticket
        s.close()
    finally:
        a.stop()
