"""Port 43 over real sockets: the ``whois-server`` process, Debian's ``whois`` client, raw TCP.

* every live fixture registration, asked for by A-label and by U-label with Debian's
  ``whois -h 127.0.0.1 -p PORT NAME``, comes back exactly as rendered from its public record
  (CRLF turned into LF by the client); the same over IPv6 with raw UTF-8 U-label queries;
* the protection limits with small configured values: query length, idle timeout, per-client
  connection cap, rate limit;
* the database going away (PostgreSQL behind a TCP proxy that the test stops) gives the
  temporary-failure line at once, and service resumes by itself when the database returns;
* SIGTERM: the listener closes, a connection already open still gets its answer, exit 0.

Debian's ``whois`` is installed by the setup script (``apt-get install whois``); without it the
client part is skipped with the reason (under ``CI=true`` it fails instead).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from registrar.config import Config, load_config
from registrar.models import Domain
from registrar.publication import whois_text
from registrar.publication.record import build_public_record
from registrar.storage import Database, find_domain

ROOT = Path(__file__).resolve().parents[3]
IN_CI = os.environ.get("CI", "").lower() == "true"
LAST_UPDATE = re.compile(rb">>> Last update of WHOIS database: (\S+) <<<")
ERR = {name: whois_text.error_line(name).encode() for name in whois_text.ERROR_LINES}

Starter = Callable[..., Any]


def require_whois_client() -> str:
    path = shutil.which("whois")
    if path is None:
        reason = "Debian's whois client is not installed (apt-get install -y whois)"
        if IN_CI:
            pytest.fail(reason + "; CI=true requires it")
        pytest.skip(reason)
    return path


def fixture_config() -> Config:
    return load_config(ROOT / "fixtures" / "config.toml")


def raw_query(port: int, payload: bytes, host: str = "127.0.0.1", timeout: float = 10.0) -> bytes:
    """Send ``payload`` and read until the server closes."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect((host, port))
        if payload:
            s.sendall(payload)
        return read_all(s)


def read_all(s: socket.socket) -> bytes:
    chunks = []
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def expected_reply(record_text: Callable[[datetime], str], reply: bytes) -> bytes:
    """The expected bytes, rendered with the timestamp the server printed."""
    m = LAST_UPDATE.search(reply)
    assert m, reply[:200]
    now = datetime.fromisoformat(m.group(1).decode().replace("Z", "+00:00"))
    return record_text(now).encode("utf-8")


def wait_for_log(server: Any, needle: str, timeout: float = 5.0) -> str:
    """The server's log once it contains ``needle`` (query lines are flushed in batches)."""
    deadline = time.monotonic() + timeout
    while True:
        log = str(server.log())
        if needle in log or time.monotonic() > deadline:
            return log
        time.sleep(0.1)


def live_domains(db_url: str) -> list[tuple[str, str | None]]:
    db = Database(db_url)
    try:
        with db.transaction() as session:
            rows = session.execute(sa.select(Domain.ldh_name, Domain.unicode_name)
                                   .where(Domain.deleted_at.is_(None)).order_by(Domain.ldh_name)).all()
        return [(a, u) for a, u in rows]
    finally:
        db.dispose()


def test_every_fixture_variant_with_debian_whois(start_server: Starter, fixture_db_url: str) -> None:
    """Debian's whois gets the right record for every live fixture domain, by A-label and U-label;
    raw UTF-8 U-label queries over IPv6 get the exact CRLF bytes; deleted / unknown names get no match."""
    client = require_whois_client()
    config = fixture_config()
    server = start_server(fixture_db_url, {"server": {"host": "::"}})
    domains = live_domains(fixture_db_url)
    assert len(domains) >= 40
    db = Database(fixture_db_url)
    failures: list[str] = []
    try:
        with db.transaction() as session:
            records = {a: build_public_record(find_domain(session, a), config.registrar, config.privacy)
                       for a, _ in domains}  # type: ignore[arg-type]
    finally:
        db.dispose()

    def render(a_label: str) -> Callable[[datetime], str]:
        return lambda now: whois_text.format_domain(records[a_label], now,
                                                   redaction_text=config.privacy.redaction_text)

    for a_label, u_label in domains:
        forms = [a_label, a_label.upper()] + ([u_label] if u_label and u_label != a_label else [])
        for form in forms:
            out = subprocess.run([client, "-h", "127.0.0.1", "-p", str(server.whois_port), form],
                                 capture_output=True, timeout=20, check=False).stdout
            want = expected_reply(render(a_label), out).replace(b"\r\n", b"\n")
            if out != want:
                failures.append(f"whois {form}: got {out[:120]!r}")
        if u_label and u_label != a_label:
            reply = raw_query(server.whois_port, f"domain {u_label}.\r\n".encode(), host="::1")
            if reply != expected_reply(render(a_label), reply):
                failures.append(f"raw IPv6 UTF-8 {u_label}: got {reply[:120]!r}")
    assert not failures, "\n".join(failures)

    out = subprocess.run([client, "-h", "127.0.0.1", "-p", str(server.whois_port), "former-customer.example"],
                         capture_output=True, timeout=20, check=False).stdout
    assert out.startswith(b'No match for "former-customer.example".\n\n>>> Last update of WHOIS database: ')
    reply = raw_query(server.whois_port, b"not-sponsored.example\n")
    assert reply.startswith(b'No match for "not-sponsored.example".\r\n\r\n>>> Last update')
    assert raw_query(server.whois_port, b"help\r\n").startswith(b"% WHOIS service of Example Registrar")
    assert raw_query(server.whois_port, b"registrar\r\n").startswith(
        b"Registrar: Example Registrar, Inc.\r\n")
    assert raw_query(server.whois_port, b"nameserver ns1.dns-hosting.example\r\n").startswith(
        b"Server Name: ns1.dns-hosting.example\r\nIP Address: 192.0.2.53\r\nIP Address: 2001:db8:53::1\r\n")
    assert raw_query(server.whois_port, b"\xff\xfe\r\n") == ERR["bad-query"]
    log = wait_for_log(server, "outcome=found")
    assert "outcome=found" in log and "jane.sample" not in log and "harbour-bakery" not in log


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the limits do not depend on the backend
def test_length_limit_idle_timeout_connection_cap_and_rate_limit(start_server: Starter,
                                                                  fixture_db_url: str) -> None:
    """Small configured limits, each answered by its fixed line and a close."""
    server = start_server(fixture_db_url, {
        "server": {"host": "::"},
        "whois": {"max_query_length": 64, "idle_timeout": 1.0, "max_connections_per_client": 2},
        "ratelimit": {"enabled": True, "burst": 3, "rate": 2.0},
    })
    port = server.whois_port

    # Per-client connection cap: two idle connections held, the third is refused at once.
    held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(2)]
    try:
        time.sleep(0.1)
        assert raw_query(port, b"", timeout=5) == ERR["too-many-client-connections"]
        # Another client key (IPv6 loopback) is not affected by 127.0.0.1's connections.
        with socket.create_connection(("::1", port), timeout=5) as other:
            other.sendall(b"help\r\n")
            assert read_all(other).startswith(b"% WHOIS service")
    finally:
        for s in held:
            s.close()

    # Query length limit: 65 bytes before the line end → error line, close (even without a line end).
    assert raw_query(port, b"a" * 57 + b".example\r\n") == ERR["query-too-long"]
    assert raw_query(port, b"b" * 200) == ERR["query-too-long"]
    assert raw_query(port, b"a" * 56 + b".example\r\n").startswith(b"No match for")  # exactly 64 bytes

    # Idle timeout: nothing sent → the timeout line after about a second.
    started = time.monotonic()
    assert raw_query(port, b"", timeout=10) == ERR["idle-timeout"]
    assert 0.8 <= time.monotonic() - started < 5

    # Rate limit (from ::1, which has used one query above): burst of 3, then refused, then allowed.
    time.sleep(1.0)  # let ::1's bucket drain
    replies = [raw_query(port, b"harbour-bakery.example\r\n", host="::1") for _ in range(4)]
    assert all(r.startswith(b"Domain Name: harbour-bakery.example\r\n") for r in replies[:3])
    assert replies[3] == ERR["rate-limited"]
    time.sleep(0.6)
    assert raw_query(port, b"harbour-bakery.example\r\n", host="::1").startswith(b"Domain Name: ")
    log = wait_for_log(server, "outcome=refused")
    assert "outcome=refused" in log and "outcome=bad-query" in log


class TcpProxy:
    """A tiny TCP forwarder that the test can stop and start again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            for c in self._conns:
                with contextlib.suppress(OSError):
                    c.shutdown(socket.SHUT_RDWR)
                c.close()
            self._conns.clear()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def pg_proxy() -> Iterator[TcpProxy]:
    proxy = TcpProxy(("127.0.0.1", 5432))
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_database_down_and_recovery(start_server: Starter, fixture_db_url: str, pg_proxy: TcpProxy) -> None:
    """Database unreachable → the temporary-failure line at once; answers resume when it is back."""
    url = fixture_db_url.replace("@127.0.0.1:5432/", f"@127.0.0.1:{pg_proxy.port}/")
    assert url != fixture_db_url
    server = start_server(url)
    port = server.whois_port
    assert raw_query(port, b"acme-widgets.example\r\n").startswith(b"Domain Name: acme-widgets.example\r\n")

    pg_proxy.stop()
    started = time.monotonic()
    assert raw_query(port, b"acme-widgets.example\r\n") == ERR["temporary-failure"]
    assert raw_query(port, b"nameserver ns1.dns-hosting.example\r\n") == ERR["temporary-failure"]
    assert time.monotonic() - started < 5, "the database-down reply must not hang"
    assert raw_query(port, b"help\r\n").startswith(b"% WHOIS service")  # no database needed

    pg_proxy.start()
    deadline = time.monotonic() + 10
    reply = b""
    while time.monotonic() < deadline:
        reply = raw_query(port, b"acme-widgets.example\r\n")
        if reply.startswith(b"Domain Name: "):
            break
        time.sleep(0.2)
    assert reply.startswith(b"Domain Name: acme-widgets.example\r\n")
    assert "outcome=unavailable" in wait_for_log(server, "outcome=unavailable")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sigterm_finishes_open_connections_and_exits_0(start_server: Starter, fixture_db_url: str) -> None:
    """SIGTERM: new connections are refused, an open one still gets its answer, the process exits 0."""
    server = start_server(fixture_db_url)
    port = server.whois_port
    inflight = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        inflight.sendall(b"harbour-")
        time.sleep(0.2)
        server.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        refused = False
        while time.monotonic() < deadline and not refused:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                time.sleep(0.05)
            except OSError:
                refused = True
        assert refused, "the listener must close on SIGTERM"
        assert server.process.poll() is None, "the server must wait for the open connection"
        inflight.sendall(b"bakery.example\r\n")
        reply = read_all(inflight)
    finally:
        inflight.close()
    assert reply.startswith(b"Domain Name: harbour-bakery.example\r\n")
    assert reply.endswith(b"home page.\r\n")
    assert server.process.wait(timeout=15) == 0
