"""Client <-> test registry over real TLS on 127.0.0.1: session, TLS and protocol checks."""

from __future__ import annotations

import inspect
import logging
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from registrar.epp import commands as c
from registrar.epp import ns, schema
from registrar.epp.client import (
    EppClient,
    EppCommandError,
    EppConnectError,
    EppInvalidFrame,
    EppProtocolError,
)
from registrar.epp.framing import FrameDecoder, encode_frame
from registrar.epp.test_registry import EppTestRegistry
from registrar.epp.testca import TestPKI
from registrar.epp.xmlutil import parse_xml
from tests.epp.conftest import PASSWORDS, Connect, MakeRegistry, RawSession

pytestmark = pytest.mark.usefixtures("xsd_dir")
SAMPLES = schema.default_xsd_dir() / "samples"


def wait_for(pred: Callable[[], bool], timeout: float = 2.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.01)
    return pred()


# ---------------------------------------------------------------- session basics


def test_login_hello_logout(registry: EppTestRegistry, connect: Connect) -> None:
    client = connect(registry, login=False)
    assert client.greeting is not None
    assert client.greeting.sv_id == registry.config.sv_id
    assert ns.CONTACT not in client.greeting.obj_uris  # minimum registry
    resp = client.login("registrar-a", PASSWORDS["registrar-a"])
    assert resp.code == 1000 and resp.cl_trid and resp.sv_trid
    assert client.services == ((ns.DOMAIN, ns.HOST), (ns.SECDNS, ns.RGP))
    login_frame = registry.commands("login")[0].data
    assert [e.text for e in parse_xml(login_frame).iter(f"{{{ns.EPP}}}objURI")] == [ns.DOMAIN, ns.HOST]
    greeting = client.hello()
    assert greeting.sv_id == registry.config.sv_id and client.idle_seconds < 1
    out = client.logout()
    assert out is not None and out.code == 1500
    assert not client.connected and not client.logged_in
    assert [f.kind for f in registry.frames] == ["login", "hello", "logout"]


def test_thick_registry_offers_contacts(thick_registry: EppTestRegistry, connect: Connect) -> None:
    client = connect(thick_registry)
    assert client.services[0] == (ns.DOMAIN, ns.HOST, ns.CONTACT)
    assert client.supports(ns.CONTACT) and client.supports(ns.SECDNS)


def test_context_manager_logs_out(registry: EppTestRegistry, pki: TestPKI) -> None:
    pair = pki.client("registrar-a")
    with EppClient(
        registry.host, registry.port, cert_file=pair.cert, key_file=pair.key, ca_file=pki.ca.cert
    ) as client:
        client.login("registrar-a", PASSWORDS["registrar-a"])
        client.command(c.domain_check(["example.test"]))
    assert not client.connected
    assert [f.kind for f in registry.frames] == ["login", "check", "logout"]


def test_login_first(registry: EppTestRegistry, connect: Connect) -> None:
    client = connect(registry, login=False)
    with pytest.raises(EppCommandError) as err:
        client.command(c.domain_info("example.test"))
    assert err.value.code == 2002 and client.connected
    client.login("registrar-a", PASSWORDS["registrar-a"])
    with pytest.raises(EppCommandError) as err:
        client.command(c.login("registrar-a", PASSWORDS["registrar-a"], obj_uris=[ns.DOMAIN]))
    assert err.value.code == 2002


def test_bad_credentials_then_2501(registry: EppTestRegistry, connect: Connect) -> None:
    client = connect(registry, login=False)
    for _ in range(2):
        with pytest.raises(EppCommandError) as err:
            client.login("registrar-a", "wrong-pass")
        assert err.value.code == 2200 and not err.value.closes_session
    with pytest.raises(EppCommandError) as err:
        client.login("registrar-a", "wrong-pass")
    assert err.value.code == 2501 and err.value.closes_session
    assert not client.connected


def test_unknown_client_id(registry: EppTestRegistry, connect: Connect) -> None:
    client = connect(registry, login=False)
    with pytest.raises(EppCommandError) as err:
        client.login("registrar-zz", "whatever1")
    assert err.value.code == 2200


def test_login_bound_to_client_certificate(registry: EppTestRegistry, connect: Connect, pki: TestPKI) -> None:
    client = connect(registry, "registrar-a", cert=pki.client("registrar-b"), login=False)
    with pytest.raises(EppCommandError) as err:
        client.login("registrar-a", PASSWORDS["registrar-a"])
    assert err.value.code == 2200
    connect(registry, "registrar-b")  # not bound: fine with its own certificate


def test_password_change(registry: EppTestRegistry, connect: Connect) -> None:
    client = connect(registry, login=False)
    client.login("registrar-a", PASSWORDS["registrar-a"], new_password="n3w-Secret")
    client.logout()
    fresh = connect(registry, login=False)
    with pytest.raises(EppCommandError):
        fresh.login("registrar-a", PASSWORDS["registrar-a"])
    fresh.login("registrar-a", "n3w-Secret")


def test_login_announcing_unoffered_service(registry: EppTestRegistry, connect: Connect) -> None:
    client = connect(registry, login=False)
    with pytest.raises(EppCommandError) as err:
        client.command(c.login("registrar-a", PASSWORDS["registrar-a"], obj_uris=[ns.DOMAIN, ns.CONTACT]))
    assert err.value.code == 2307
    with pytest.raises(EppCommandError) as err:
        client.command(
            c.login(
                "registrar-a",
                PASSWORDS["registrar-a"],
                obj_uris=[ns.DOMAIN],
                ext_uris=["urn:ietf:params:xml:ns:fee-0.23"],
            )
        )
    assert err.value.code == 2103


def test_extension_not_announced_at_login(registry: EppTestRegistry, connect: Connect) -> None:
    client = connect(registry, login=False)
    client.login("registrar-a", PASSWORDS["registrar-a"], ext_uris=[])
    assert client.services == ((ns.DOMAIN, ns.HOST), ())
    with pytest.raises(EppCommandError) as err:
        client.command(c.domain_restore_request("example.test"))
    assert err.value.code == 2103
    with pytest.raises(EppCommandError) as err:
        client.command(c.contact_info("abc"))
    assert err.value.code == 2307


# ---------------------------------------------------------------- TLS


def test_client_context_is_strict(pki: TestPKI) -> None:
    pair = pki.client("registrar-a")
    client = EppClient("127.0.0.1", 700, cert_file=pair.cert, key_file=pair.key, ca_file=pki.ca.cert)
    ctx = client._ctx
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    params = inspect.signature(EppClient).parameters
    assert not [p for p in params if "verify" in p or "insecure" in p]


def test_wrong_client_certificate_is_refused(
    registry: EppTestRegistry, connect: Connect, pki: TestPKI
) -> None:
    assert pki.other_client is not None
    with pytest.raises(EppConnectError):
        connect(registry, cert=pki.other_client, login=False)
    assert wait_for(lambda: bool(registry.handshake_failures))
    assert registry.frames == []


def test_no_client_certificate_is_refused(registry: EppTestRegistry, pki: TestPKI) -> None:
    ctx = ssl.create_default_context(cafile=str(pki.ca.cert))
    with pytest.raises((ssl.SSLError, OSError)):
        with ctx.wrap_socket(
            socket.create_connection(registry.address, timeout=5), server_hostname="127.0.0.1"
        ) as sock:
            sock.recv(100)
            sock.recv(100)
            raise OSError("server answered without a client certificate")
    assert wait_for(lambda: bool(registry.handshake_failures))


def test_server_certificate_from_unknown_ca_is_refused(
    make_registry: MakeRegistry, connect: Connect, pki: TestPKI
) -> None:
    rogue = make_registry(server=pki.other_server)
    with pytest.raises(EppConnectError) as err:
        connect(rogue, login=False)
    assert isinstance(err.value.__cause__, ssl.SSLCertVerificationError)


def test_server_host_name_is_verified(registry: EppTestRegistry, connect: Connect) -> None:
    with pytest.raises(EppConnectError) as err:
        connect(registry, login=False, server_hostname="epp.wrong.example")
    assert isinstance(err.value.__cause__, ssl.SSLCertVerificationError)
    connect(registry, login=False, server_hostname="localhost")


def test_connect_refused_is_a_connect_error(pki: TestPKI) -> None:
    s = socket.create_server(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    pair = pki.client("registrar-a")
    client = EppClient(
        "127.0.0.1", port, cert_file=pair.cert, key_file=pair.key, ca_file=pki.ca.cert, connect_timeout=2
    )
    with pytest.raises(EppConnectError):
        client.connect()


# ---------------------------------------------------------------- misbehaving servers


class FakeServer:
    """A TLS server that greets, then answers each frame with ``reply(frame)`` (raw bytes)."""

    def __init__(self, pki: TestPKI, reply: Callable[[bytes], bytes]) -> None:
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(str(pki.server.cert), str(pki.server.key))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.reply = reply
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        conn, _ = self.listener.accept()
        with self.ctx.wrap_socket(conn, server_side=True) as tls:
            tls.sendall(encode_frame((SAMPLES / "valid-greeting.xml").read_bytes()))
            dec = FrameDecoder()
            try:
                while True:
                    data = tls.recv(65536)
                    if not data:
                        return
                    for frame in dec.feed(data):
                        tls.sendall(self.reply(frame))
            except OSError:
                return

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def fake_server(pki: TestPKI) -> Iterator[Callable[[Callable[[bytes], bytes]], EppClient]]:
    servers: list[FakeServer] = []
    clients: list[EppClient] = []

    def make(reply: Callable[[bytes], bytes]) -> EppClient:
        srv = FakeServer(pki, reply)
        servers.append(srv)
        pair = pki.client("registrar-a")
        client = EppClient(
            "127.0.0.1", srv.port, cert_file=pair.cert, key_file=pair.key, ca_file=pki.ca.cert, read_timeout=5
        )
        clients.append(client)
        client.connect()
        return client

    yield make
    for cl in clients:
        cl.close()
    for srv in servers:
        srv.close()


def _response(cl_trid: str | None, code: int = 1000) -> bytes:
    trid = f"<clTRID>{cl_trid}</clTRID>" if cl_trid else ""
    return encode_frame(
        f'<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><response><result code="{code}"><msg>x</msg>'
        f"</result><trID>{trid}<svTRID>SV-1</svTRID></trID></response></epp>".encode()
    )


def test_cltrid_not_echoed_is_a_protocol_error(fake_server: Any) -> None:
    client = fake_server(lambda frame: _response("someone-else-123"))
    with pytest.raises(EppProtocolError, match="does not belong"):
        client.command(c.domain_info("example.test"))
    assert not client.connected


def test_missing_cltrid_tolerated_only_for_syntax_errors(fake_server: Any) -> None:
    client = fake_server(lambda frame: _response(None, 2001))
    with pytest.raises(EppCommandError) as err:
        client.command(c.domain_info("example.test"))
    assert err.value.code == 2001 and client.connected
    client2 = fake_server(lambda frame: _response(None, 1000))
    with pytest.raises(EppProtocolError):
        client2.command(c.domain_info("example.test"))


def test_oversize_frame_from_server_is_a_protocol_error(fake_server: Any) -> None:
    client = fake_server(lambda frame: struct.pack(">I", 50 * 1024 * 1024))
    with pytest.raises(EppProtocolError, match="frame length"):
        client.command(c.domain_info("example.test"))
    assert not client.connected


def test_greeting_instead_of_response_is_a_protocol_error(fake_server: Any) -> None:
    client = fake_server(lambda frame: encode_frame((SAMPLES / "valid-greeting.xml").read_bytes()))
    with pytest.raises(EppProtocolError):
        client.command(c.domain_info("example.test"))


def test_frames_split_into_tiny_writes_are_reassembled(fake_server: Any) -> None:
    def reply(frame: bytes) -> bytes:
        return _response(c.extract_cl_trid(frame))

    client = fake_server(reply)
    assert client.command(c.domain_info("example.test")).code == 1000


# ---------------------------------------------------------------- validation and logging


def test_password_and_authinfo_never_logged(
    registry: EppTestRegistry, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="registrar.epp")
    client = connect(registry, login=False, log_frames=True)
    client.login("registrar-a", PASSWORDS["registrar-a"])
    client.command(c.domain_create("example.test", "d0main-AUTH"))
    client.command(c.domain_info("example.test"))  # the response carries the authInfo too
    assert "EPP >>" in caplog.text and "***" in caplog.text
    assert PASSWORDS["registrar-a"] not in caplog.text
    assert "d0main-AUTH" not in caplog.text


def test_outgoing_validation_stops_bad_frames(registry: EppTestRegistry, connect: Connect) -> None:
    client = connect(registry)
    with pytest.raises(EppInvalidFrame):
        client.command((SAMPLES / "invalid-domain-create-period-unit.xml").read_bytes())
    assert registry.commands("create") == []


@pytest.mark.parametrize(
    "sample",
    sorted(
        p.name
        for p in SAMPLES.glob("invalid-*.xml")
        if "not-well-formed" not in p.name and "login" not in p.name
    ),
)
def test_registry_answers_2001_to_schema_invalid_frames(
    registry: EppTestRegistry, connect: Connect, sample: str
) -> None:
    client = connect(registry, validate_outgoing=False)
    resp = client.command((SAMPLES / sample).read_bytes(), raise_on_error=False)
    assert resp.code == 2001 and resp.reasons
    bad = registry.invalid_frames()
    assert len(bad) == 1 and bad[0].data == (SAMPLES / sample).read_bytes() and bad[0].schema_errors
    assert client.command(c.domain_check(["example.test"])).code == 1000  # session goes on


def test_invalid_login_frame_gets_2001(registry: EppTestRegistry, connect: Connect) -> None:
    client = connect(registry, login=False, validate_outgoing=False)
    resp = client.command((SAMPLES / "invalid-login-missing-svcs.xml").read_bytes(), raise_on_error=False)
    assert resp.code == 2001


def test_not_well_formed_frame(registry: EppTestRegistry, raw_session: Callable[..., RawSession]) -> None:
    raw = raw_session(registry)
    raw.send((SAMPLES / "invalid-host-create-not-well-formed.xml").read_bytes())
    reply = raw.read()
    assert b'code="2001"' in reply and b"<clTRID>" not in reply
    assert registry.invalid_frames()[0].schema_errors[0].startswith("not well-formed")


@pytest.mark.parametrize("length", [0, 4, 2 * 1024 * 1024])
def test_registry_closes_on_bad_frame_length(
    registry: EppTestRegistry, raw_session: Callable[..., RawSession], length: int
) -> None:
    raw = raw_session(registry)
    raw.send_raw(struct.pack(">I", length) + b"<epp")
    assert raw.closed_by_peer()
    assert wait_for(lambda: bool(registry.protocol_errors))


def test_registry_handles_partial_and_coalesced_frames(
    registry: EppTestRegistry, raw_session: Callable[..., RawSession]
) -> None:
    raw = raw_session(registry)
    data = encode_frame(c.hello()) + encode_frame(c.hello())
    for i in range(0, len(data), 7):
        raw.send_raw(data[i : i + 7])
        time.sleep(0.001)
    assert b"<greeting>" in raw.read() and b"<greeting>" in raw.read()
