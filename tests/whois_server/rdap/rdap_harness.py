"""In-memory HTTP for the RDAP site: real ``Site``/``HTTPChannel``, ``StringTransport``, fake clock.

``Harness(config, threads)`` builds the real service, the shared rate limiter and the RDAP
factory on a :class:`~twisted.internet.task.Clock`; :meth:`Harness.request` feeds raw HTTP to a
fresh connection and parses what the server wrote. ``SyncThreads`` runs database work inline
(through the real :class:`~registrar.storage.Database`), ``PendingThreads`` holds it until the
test fires it, ``FailingThreads`` fails it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred, fail, maybeDeferred
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from registrar.config import Config, load_config
from registrar.storage import Database
from whois_server.ratelimit import RateLimiter
from whois_server.rdap.site import make_rdap_factory
from whois_server.service import RegistrationDataService

ROOT = Path(__file__).resolve().parents[3]
START = 1_796_040_000.0  # 2026-11-30T12:00:00Z


def make_config(**tables: dict[str, Any]) -> Config:
    """``fixtures/config.toml`` with the rate limit off and the record cache on, plus overrides."""
    overrides: dict[str, dict[str, Any]] = {"ratelimit": {"enabled": False}, "server": {"cache_ttl": 2.0}}
    for table, values in tables.items():
        overrides.setdefault(table, {}).update(values)
    return load_config(ROOT / "fixtures" / "config.toml", overrides=overrides)


class SyncThreads:
    """Database work runs inline; ``calls`` counts trips."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.calls = 0

    def run(self, fn: Callable[[Any], Any]) -> Deferred[Any]:
        self.calls += 1
        return maybeDeferred(self.db.run, fn)


class PendingThreads(SyncThreads):
    """Database work waits until :meth:`release` runs it."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.pending: list[tuple[Callable[[Any], Any], Deferred[Any]]] = []

    def run(self, fn: Callable[[Any], Any]) -> Deferred[Any]:
        self.calls += 1
        d: Deferred[Any] = Deferred()
        self.pending.append((fn, d))
        return d

    def release(self) -> None:
        pending, self.pending = self.pending, []
        for fn, d in pending:
            maybeDeferred(self.db.run, fn).chainDeferred(d)


class FailingThreads(SyncThreads):
    """The database is down."""

    def run(self, fn: Callable[[Any], Any]) -> Deferred[Any]:
        self.calls += 1
        return fail(ConnectionError("database unreachable"))


@dataclass
class Response:
    """One parsed HTTP response."""

    status: int
    reason: str
    headers: dict[str, list[str]]
    body: bytes
    raw: bytes = b""

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None

    def json(self) -> Any:
        return json.loads(self.body)


def parse_response(raw: bytes, head_request: bool = False) -> Response:
    head, sep, rest = raw.partition(b"\r\n\r\n")
    assert sep, f"incomplete response: {raw[:200]!r}"
    lines = head.decode("latin-1").split("\r\n")
    _version, status, reason = lines[0].split(" ", 2)
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers.setdefault(key.strip().lower(), []).append(value.strip())
    length = int(headers["content-length"][0]) if "content-length" in headers else len(rest)
    body = b"" if head_request else rest[:length]
    return Response(int(status), reason, headers, body, raw)


@dataclass
class Harness:
    """The RDAP factory of one worker, driven in memory."""

    config: Config
    threads: SyncThreads
    clock: Clock = field(default_factory=Clock)

    def __post_init__(self) -> None:
        self.clock.advance(START)
        self.service = RegistrationDataService(self.threads, self.config, self.clock)  # type: ignore[arg-type]
        self.limiter = RateLimiter(self.config.ratelimit, self.clock)
        self.factory = make_rdap_factory(
            service=self.service, limiter=self.limiter, config=self.config, clock=self.clock
        )

    def connect(self, peer: str = "198.51.100.7") -> tuple[Any, StringTransport]:
        address = IPv6Address("TCP", peer, 40000) if ":" in peer else IPv4Address("TCP", peer, 40000)
        protocol = self.factory.buildProtocol(address)
        transport = StringTransport(peerAddress=address, hostAddress=IPv4Address("TCP", "127.0.0.1", 8080))
        protocol.makeConnection(transport)
        return protocol, transport

    def send(self, raw: bytes, peer: str = "198.51.100.7") -> tuple[Any, StringTransport]:
        protocol, transport = self.connect(peer)
        protocol.dataReceived(raw)
        return protocol, transport

    def request(
        self,
        path: str | bytes,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        peer: str = "198.51.100.7",
    ) -> Response:
        target = path.encode("utf-8") if isinstance(path, str) else path
        lines = [method.encode() + b" " + target + b" HTTP/1.1", b"Host: rdap.registrar.example"]
        lines += [f"{k}: {v}".encode() for k, v in (headers or {}).items()]
        if method in ("POST", "PUT"):
            lines.append(b"Content-Length: 0")
        _protocol, transport = self.send(b"\r\n".join(lines) + b"\r\n\r\n", peer)
        return parse_response(transport.value(), head_request=method == "HEAD")
