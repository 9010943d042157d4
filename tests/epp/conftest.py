"""Fixtures for the EPP tests: XSD availability, a session-wide test PKI, registries and clients."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from registrar.epp.client import EppClient
from registrar.epp.framing import FrameDecoder, encode_frame
from registrar.epp.test_registry import EppTestRegistry
from registrar.epp.test_registry_state import RegistrarAccount, RegistryConfig
from registrar.epp.testca import TestPKI, cert_fingerprint
from tests.conftest import require_xsds as _require_xsds

PASSWORDS = {"registrar-a": "secret-A1", "registrar-b": "secret-B1"}


@pytest.fixture
def require_xsds() -> Callable[[], Path]:
    """The check behind :func:`xsd_dir`, for testing it."""
    return _require_xsds


def accounts(pki: TestPKI) -> tuple[RegistrarAccount, ...]:
    """registrar-a is bound to its client certificate; registrar-b is not."""
    return (
        RegistrarAccount(
            "registrar-a", PASSWORDS["registrar-a"], cert_fingerprint(pki.client("registrar-a").cert)
        ),
        RegistrarAccount("registrar-b", PASSWORDS["registrar-b"]),
    )


MakeRegistry = Callable[..., EppTestRegistry]


@pytest.fixture
def make_registry(pki: TestPKI, xsd_dir: Path) -> Iterator[MakeRegistry]:
    """Factory: ``make_registry(data_model=..., server=CertPair, **config)``; stopped after the test."""
    started: list[EppTestRegistry] = []

    def make(*, server: Any = None, **overrides: Any) -> EppTestRegistry:
        overrides.setdefault("tlds", ("test", "example"))
        cfg = RegistryConfig(accounts=accounts(pki), **overrides)
        srv = server or pki.server
        reg = EppTestRegistry(cfg, cert_file=srv.cert, key_file=srv.key, ca_file=pki.ca.cert).start()
        started.append(reg)
        return reg

    yield make
    for reg in started:
        reg.stop()
    for reg in started:
        assert reg.response_schema_errors == [], "the test registry sent schema-invalid frames"


@pytest.fixture
def registry(make_registry: MakeRegistry) -> EppTestRegistry:
    """A running ``minimum`` registry serving .test and .example."""
    return make_registry()


@pytest.fixture
def thick_registry(make_registry: MakeRegistry) -> EppTestRegistry:
    """A running ``thick-public`` registry."""
    return make_registry(data_model="thick-public")


Connect = Callable[..., EppClient]


@pytest.fixture
def connect(pki: TestPKI) -> Iterator[Connect]:
    """Factory: ``connect(registry, "registrar-a", login=True, **client kwargs)`` -> EppClient."""
    clients: list[EppClient] = []

    def make(
        reg: EppTestRegistry,
        cl_id: str = "registrar-a",
        *,
        login: bool = True,
        cert: Any = None,
        ca_file: Path | None = None,
        **kwargs: Any,
    ) -> EppClient:
        pair = cert or pki.client(cl_id if cl_id in pki.clients else "registrar-a")
        kwargs.setdefault("read_timeout", 5.0)
        kwargs.setdefault("validate_outgoing", True)
        client = EppClient(
            reg.host,
            reg.port,
            cert_file=pair.cert,
            key_file=pair.key,
            ca_file=ca_file or pki.ca.cert,
            **kwargs,
        )
        clients.append(client)
        client.connect()
        if login:
            client.login(cl_id, PASSWORDS[cl_id])
        return client

    yield make
    for c in clients:
        c.close()


class RawSession:
    """A bare TLS + framing connection to a registry, for sending arbitrary bytes."""

    def __init__(self, reg: EppTestRegistry, pki: TestPKI, cl_id: str = "registrar-a") -> None:
        ctx = ssl.create_default_context(cafile=str(pki.ca.cert))
        pair = pki.client(cl_id)
        ctx.load_cert_chain(str(pair.cert), str(pair.key))
        self.sock = ctx.wrap_socket(
            socket.create_connection(reg.address, timeout=5), server_hostname="127.0.0.1"
        )
        self.decoder = FrameDecoder()
        self.greeting = self.read()

    def send_raw(self, data: bytes) -> None:
        """Send bytes as they are (no framing)."""
        self.sock.sendall(data)

    def send(self, payload: bytes) -> None:
        """Send one framed payload."""
        self.sock.sendall(encode_frame(payload))

    def read(self) -> bytes:
        """Read one frame; raises ConnectionError on EOF."""
        while True:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed")
            frames = self.decoder.feed(data)
            if frames:
                return frames[0]

    def closed_by_peer(self) -> bool:
        """True when the server closed the connection."""
        try:
            return self.sock.recv(1) == b""
        except (ssl.SSLError, OSError):
            return True

    def close(self) -> None:
        """Close."""
        self.sock.close()


@pytest.fixture
def raw_session(pki: TestPKI) -> Iterator[Callable[..., RawSession]]:
    """Factory for :class:`RawSession` objects (closed after the test)."""
    sessions: list[RawSession] = []

    def make(reg: EppTestRegistry, cl_id: str = "registrar-a") -> RawSession:
        s = RawSession(reg, pki, cl_id)
        sessions.append(s)
        return s

    yield make
    for s in sessions:
        s.close()
