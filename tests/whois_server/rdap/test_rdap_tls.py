"""RDAP served over TLS from configured PEM files (TIG 1.5; rdapct -61100/-61101).

The factory from ``make_rdap_factory`` listens on 127.0.0.1 in the test's reactor; a blocking
``ssl`` client in a thread checks: TLS 1.2 with an ECDHE AES-GCM suite and TLS 1.3 work (and
serve RDAP), TLS 1.2 with a CBC or non-ECDHE suite is refused, TLS 1.1 is refused.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import threads

from registrar.epp.testca import create_test_pki
from registrar.fixtures import load
from registrar.storage import Database, upgrade
from tests.whois_server.rdap.rdap_harness import ROOT, SyncThreads, make_config
from whois_server.ratelimit import RateLimiter
from whois_server.rdap.site import TLS12_CIPHERS, make_rdap_factory, tls_options
from whois_server.service import RegistrationDataService


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path_factory.mktemp('rdap-tls') / 'fixtures.db'}"
    upgrade(url)
    database = Database(url)
    load(database, [ROOT / "fixtures" / "registrations.toml"])
    yield database
    database.dispose()


def handshake(port: int, ca: Path, *, version: ssl.TLSVersion, ciphers: str | None = None) -> dict[str, Any]:
    """Connect, ask for /help over HTTP/1.0; returns the protocol, the cipher and the status line."""
    ctx = ssl.create_default_context(cafile=str(ca))
    ctx.minimum_version = version
    ctx.maximum_version = version
    if version < ssl.TLSVersion.TLSv1_2:
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    if ciphers:
        ctx.set_ciphers(ciphers)
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
            ctx.wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            tls.sendall(b"GET /help HTTP/1.0\r\nHost: localhost\r\n\r\n")
            data = b""
            while chunk := tls.recv(65536):
                data += chunk
            return {
                "ok": True,
                "version": tls.version(),
                "cipher": tls.cipher()[0],
                "status": data.split(b"\r\n", 1)[0].decode(),
            }
    except (ssl.SSLError, OSError) as exc:
        return {"ok": False, "error": repr(exc)}


def checks(port: int, ca: Path) -> dict[str, dict[str, Any]]:
    return {
        "tls12-gcm": handshake(
            port, ca, version=ssl.TLSVersion.TLSv1_2, ciphers="ECDHE-ECDSA-AES128-GCM-SHA256"
        ),
        "tls12-gcm256": handshake(
            port, ca, version=ssl.TLSVersion.TLSv1_2, ciphers="ECDHE-ECDSA-AES256-GCM-SHA384"
        ),
        "tls12-cbc": handshake(port, ca, version=ssl.TLSVersion.TLSv1_2, ciphers="ECDHE-ECDSA-AES128-SHA256"),
        "tls12-chacha": handshake(
            port, ca, version=ssl.TLSVersion.TLSv1_2, ciphers="ECDHE-ECDSA-CHACHA20-POLY1305"
        ),
        "tls13": handshake(port, ca, version=ssl.TLSVersion.TLSv1_3),
        "tls11": handshake(port, ca, version=ssl.TLSVersion.TLSv1_1),
    }


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pyOpenSSL objects in twisted; ssl.TLSv1_1
@pytest_twisted.inlineCallbacks
def test_tls_versions_and_suites(db: Database, tmp_path: Path) -> Iterator[Any]:
    from twisted.internet import reactor

    pki = create_test_pki(tmp_path)
    chain = tmp_path / "chain.pem"  # leaf first, then the CA: the chain form is accepted
    chain.write_bytes(pki.server.cert.read_bytes() + pki.ca.cert.read_bytes())
    config = make_config(rdap={"tls_certificate": str(chain), "tls_private_key": str(pki.server.key)})
    service = RegistrationDataService(SyncThreads(db), config, reactor)  # type: ignore[arg-type]
    factory = make_rdap_factory(
        service=service, limiter=RateLimiter(config.ratelimit, reactor), config=config, clock=reactor
    )
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")  # type: ignore[attr-defined]
    try:
        result = yield threads.deferToThread(checks, port.getHost().port, pki.ca.cert)
    finally:
        yield port.stopListening()
    assert result["tls12-gcm"]["ok"], result
    assert result["tls12-gcm"]["version"] == "TLSv1.2"
    assert result["tls12-gcm"]["status"] == "HTTP/1.0 200 OK"
    assert result["tls12-gcm256"]["ok"], result
    assert not result["tls12-cbc"]["ok"], result
    assert not result["tls12-chacha"]["ok"], result
    assert result["tls13"]["ok"] and result["tls13"]["version"] == "TLSv1.3", result
    assert result["tls13"]["status"] == "HTTP/1.0 200 OK"
    assert not result["tls11"]["ok"], result


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_tls_options_reject_files_without_certificate(tmp_path: Path) -> None:
    pki = create_test_pki(tmp_path)
    empty = tmp_path / "empty.pem"
    empty.write_text("not a certificate\n")
    with pytest.raises(ValueError, match="no PEM certificate"):
        tls_options(empty, pki.server.key)
    options = tls_options(pki.server.cert, pki.server.key)
    assert options.getContext() is not None
    assert TLS12_CIPHERS.count("GCM") == 4
