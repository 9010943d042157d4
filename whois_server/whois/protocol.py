"""The port-43 WHOIS protocol (RFC 3912): one query line in, one answer out, then close.

:class:`WhoisFactory` is what ``whois_server.app.build_components`` serves on the WHOIS port.
Each connection is one :class:`WhoisProtocol`:

1. On connect, the factory's caps are checked: at most ``whois.max_connections`` open
   connections per worker (else :data:`~registrar.publication.whois_text.SERVER_BUSY`) and at
   most ``whois.max_connections_per_client`` per client key (IPv4 address or IPv6 prefix, see
   :func:`whois_server.ratelimit.client_key`; clients on the rate limiter's allow list are
   exempt), else :data:`~registrar.publication.whois_text.TOO_MANY_CLIENT_CONNECTIONS`.
   The per-client counter is our own (``twisted.protocols.policies.LimitConnectionsByPeer``
   does not work with current address objects).
2. The client has ``whois.idle_timeout`` seconds to send one complete line ending in CRLF or
   bare LF (the deadline is not extended by partial data, so a client cannot hold a slot by
   dribbling bytes); otherwise it gets the idle-timeout line. A line longer than
   ``whois.max_query_length`` bytes gets the query-too-long line as soon as that is known.
3. The query is accounted in the shared rate limiter (refusal: the rate-limited line), parsed
   (:mod:`whois_server.whois.query`; a bad query gets the bad-query line, never "no match"),
   and answered from the :class:`~whois_server.service.RegistrationDataService`. A cached record
   is answered synchronously (no thread hop); otherwise the database runs on the service's
   threads. ``ServiceUnavailable`` (database down) gives the temporary-failure line; if the
   answer is not ready within ``whois.idle_timeout`` seconds of connecting, the client gets the
   temporary-failure line too, rather than a hang.
4. The reply is encoded once (UTF-8, CRLF line ends), written with one ``transport.write``,
   and the connection is closed. One line per query is logged via
   :func:`whois_server.querylog.log_query` (client, kind, outcome, bytes, ms; no record data).

Timers use the injected clock's ``callLater``/``seconds``, so tests drive them with
``MemoryReactorClock``. Listening on IPv4 and IPv6 is the listener's business (``server.host``
``::`` binds both); client keys handle both families.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Protocol

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IAddress
from twisted.internet.protocol import Factory
from twisted.internet.protocol import Protocol as TwistedProtocol
from twisted.protocols.policies import TimeoutMixin
from twisted.python.failure import Failure

from registrar.config import Config
from registrar.publication import whois_text
from registrar.publication.record import PublicHost, PublicRecord, RegistrarInfo
from whois_server.querylog import log_query
from whois_server.ratelimit import RateLimiter, client_key
from whois_server.service import MISSING, ServiceUnavailable
from whois_server.whois.query import BadQuery, parse_query

log = logging.getLogger(__name__)

_ERR = {name: whois_text.error_line(name).encode("ascii") for name in whois_text.ERROR_LINES}

_READING, _ANSWERING, _DONE = 0, 1, 2
_MAX_CACHED = 4096


class Clock(Protocol):
    """What the protocol needs of the reactor: time and delayed calls."""

    def seconds(self) -> float:
        """The current time in seconds."""

    def callLater(self, delay: float, callable: Any, *args: Any, **kw: Any) -> Any:
        """Schedule ``callable`` after ``delay`` seconds."""


class LookupService(Protocol):
    """The part of :class:`~whois_server.service.RegistrationDataService` the protocol uses."""

    registrar: RegistrarInfo

    def lookup_domain(self, a_label: str) -> Deferred[PublicRecord | None]:
        """The public record of a live domain we sponsor, or ``None``."""

    def cached_domain(self, a_label: str) -> PublicRecord | Any | None:
        """The cached record, ``None`` for a cached miss, or ``MISSING``."""

    def lookup_host(self, a_label: str) -> Deferred[PublicHost | None]:
        """A name server of a domain we sponsor, or ``None``."""


def _peer_host(address: IAddress) -> str:
    host = getattr(address, "host", None)
    return host if isinstance(host, str) else str(address)


class WhoisProtocol(TwistedProtocol, TimeoutMixin):
    """One port-43 connection: one query, one answer, close."""

    factory: WhoisFactory

    def __init__(self) -> None:
        self._buffer = b""
        self._state = _READING
        self._kind = "-"
        self._started = 0.0
        self.client = ""
        self.key = ""

    # --- connection lifecycle ---

    def callLater(self, period: float, func: Any) -> Any:  # TimeoutMixin hook
        """Schedule through the factory's injected clock (``MemoryReactorClock`` in tests)."""
        return self.factory.clock.callLater(period, func)

    def connectionMade(self) -> None:
        """Count the connection, apply the caps, start the timeout."""
        f = self.factory
        self._started = f.clock.seconds()
        transport: Any = self.transport
        self.client = _peer_host(transport.getPeer())
        self.key = f.client_key(self.client)
        refusal = f.connection_opened(self)
        if refusal is not None:
            self._finish(_ERR[refusal], "refused")
            return
        self.setTimeout(f.idle_timeout)

    def connectionLost(self, reason: Failure | None = None) -> None:
        """Release the connection's slot."""
        self.setTimeout(None)
        self._state = _DONE
        self.factory.connection_closed(self)

    def timeoutConnection(self) -> None:
        """No complete query in time, or no answer in time."""
        if self._state == _READING:
            self._finish(_ERR["idle-timeout"], "bad-query")
        elif self._state == _ANSWERING:
            self._finish(_ERR["temporary-failure"], "unavailable")

    # --- reading the query ---

    def dataReceived(self, data: bytes) -> None:
        """Collect bytes up to the first LF; anything after the query line is ignored."""
        if self._state != _READING:
            return
        buf = self._buffer + data if self._buffer else data
        end = buf.find(b"\n")
        limit = self.factory.max_query_length
        if end < 0:
            if len(buf) > limit + 1:  # + 1: room for the CR of a CRLF
                self._finish(_ERR["query-too-long"], "bad-query")
            else:
                self._buffer = buf
            return
        line = buf[:end - 1] if end and buf[end - 1] == 13 else buf[:end]
        self._buffer = b""
        if len(line) > limit:
            self._finish(_ERR["query-too-long"], "bad-query")
            return
        self._state = _ANSWERING
        self._started = self.factory.clock.seconds()
        try:
            self._answer(line)
        except Exception:
            self._crashed(Failure())

    # --- answering ---

    def _answer(self, line: bytes) -> None:
        f = self.factory
        if f.limiter.check(self.client) > 0.0:
            self._finish(_ERR["rate-limited"], "refused")
            return
        query = parse_query(line)
        if isinstance(query, BadQuery):
            self._finish(_ERR["bad-query"], "bad-query")
            return
        self._kind = kind = query.kind
        if kind == "domain":
            cached = f.service.cached_domain(query.name)
            if cached is not MISSING:  # the common case: no Deferred, no thread hop
                self._domain_answer(cached, query.name)
                return
            f.service.lookup_domain(query.name).addCallbacks(
                self._domain_answer, self._lookup_failed, callbackArgs=(query.name,)).addErrback(self._crashed)
        elif kind == "nameserver":
            f.service.lookup_host(query.name).addCallbacks(
                self._host_answer, self._lookup_failed, callbackArgs=(query.name,)).addErrback(self._crashed)
        elif kind == "help":
            self._finish(f.help_reply, "found")
        else:
            info = f.service.registrar
            arg = query.name.casefold()
            if arg in ("", str(info.iana_id), info.name.casefold()):
                self._finish(whois_text.format_registrar(info, f.now()).encode("utf-8"), "found")
            else:
                self._finish(f.no_match(query.name), "not-found")

    def _domain_answer(self, record: PublicRecord | None, name: str) -> None:
        if self._state != _ANSWERING:
            return
        f = self.factory
        if record is None:
            self._finish(f.no_match(name), "not-found")
        else:
            self._finish(f.domain_reply(record), "found")

    def _host_answer(self, host: PublicHost | None, name: str) -> None:
        if self._state != _ANSWERING:
            return
        f = self.factory
        if host is None:
            self._finish(f.no_match(name), "not-found")
        else:
            text = whois_text.format_nameserver(host, f.service.registrar, f.now())
            self._finish(text.encode("utf-8"), "found")

    def _lookup_failed(self, failure: Failure) -> None:
        if self._state != _ANSWERING:
            return
        if failure.check(ServiceUnavailable):
            self._finish(_ERR["temporary-failure"], "unavailable")
        else:
            log.error("whois lookup failed: %s", failure.getTraceback())
            self._finish(_ERR["internal-error"], "error")

    def _crashed(self, failure: Failure) -> None:
        """A bug while answering: log it, and answer with the internal-error line if nothing was sent."""
        log.error("whois query failed: %s", failure.getTraceback())
        if self._state != _DONE:
            self._finish(_ERR["internal-error"], "error")

    def _finish(self, reply: bytes, outcome: str) -> None:
        """Write the whole reply, close, and log the query."""
        self._state = _DONE
        self.setTimeout(None)
        transport: Any = self.transport
        transport.write(reply)
        transport.loseConnection()
        f = self.factory
        log_query("whois", self.client, self._kind, outcome, len(reply), f.clock.seconds() - self._started,
                  enabled=f.log_queries)


class WhoisFactory(Factory[WhoisProtocol]):
    """Builds :class:`WhoisProtocol` and holds what connections share: caps, limiter, service."""

    noisy = False

    def __init__(self, service: LookupService, limiter: RateLimiter, config: Config, clock: Clock) -> None:
        self.service = service
        self.limiter = limiter
        self.config = config
        self.clock = clock
        self.max_query_length = config.whois.max_query_length
        self.idle_timeout = config.whois.idle_timeout
        self.max_connections = config.whois.max_connections
        self.max_connections_per_client = config.whois.max_connections_per_client
        self.ipv6_prefix = config.ratelimit.ipv6_prefix
        self.redaction_text = config.privacy.redaction_text
        self.log_queries = config.server.log_queries
        self.open_connections = 0
        self.per_client: dict[str, int] = {}
        self.help_reply = whois_text.format_help(service.registrar,
                                                 max_query_length=self.max_query_length).encode("utf-8")
        # Rendered domain replies without their time line, per record object (records are
        # immutable; the service hands out new objects when data changes). Bounded by clearing.
        self._parts: dict[int, tuple[PublicRecord, bytes, bytes]] = {}
        self._stamp: tuple[int, bytes] = (-1, b"")
        self._keys: dict[str, str] = {}

    def buildProtocol(self, addr: IAddress | None) -> WhoisProtocol:
        """A protocol for one new connection."""
        proto = WhoisProtocol()
        proto.factory = self
        return proto

    def now(self) -> datetime:
        """The current time (from the clock) for the last-update line."""
        return datetime.fromtimestamp(int(self.clock.seconds()), UTC)

    def client_key(self, address: str) -> str:
        """The client key of an address (memoised: parsing addresses is not free)."""
        key = self._keys.get(address)
        if key is None:
            if len(self._keys) >= _MAX_CACHED:
                self._keys.clear()
            key = self._keys[address] = client_key(address, self.ipv6_prefix)
        return key

    def connection_opened(self, proto: WhoisProtocol) -> str | None:
        """Count a new connection; the name of the refusal line when a cap is exceeded."""
        self.open_connections += 1
        count = self.per_client.get(proto.key, 0) + 1
        self.per_client[proto.key] = count
        if self.open_connections > self.max_connections:
            return "server-busy"
        if count > self.max_connections_per_client and not self.limiter.is_trusted(proto.client):
            return "too-many-client-connections"
        return None

    def connection_closed(self, proto: WhoisProtocol) -> None:
        """Release a connection's slots."""
        self.open_connections -= 1
        count = self.per_client.get(proto.key, 0) - 1
        if count > 0:
            self.per_client[proto.key] = count
        else:
            self.per_client.pop(proto.key, None)

    def last_update(self) -> bytes:
        """The encoded ``>>> Last update …`` line for the current second."""
        second = int(self.clock.seconds())
        if self._stamp[0] != second:
            line = whois_text.last_update_line(datetime.fromtimestamp(second, UTC))
            self._stamp = (second, line.encode("ascii"))
        return self._stamp[1]

    def domain_reply(self, record: PublicRecord) -> bytes:
        """The encoded reply for a record: cached parts around the current time line.

        Byte for byte ``format_domain(record, now).encode("utf-8")``.
        """
        entry = self._parts.get(id(record))
        if entry is None or entry[0] is not record:
            if len(self._parts) >= _MAX_CACHED:
                self._parts.clear()
            head, tail = whois_text.domain_parts(record, redaction_text=self.redaction_text)
            entry = self._parts[id(record)] = (record, head.encode("utf-8"), tail.encode("utf-8"))
        return entry[1] + self.last_update() + entry[2]

    def no_match(self, name: str) -> bytes:
        """The encoded no-match reply for ``name``."""
        text = whois_text.format_no_match(name, self.now(), self.service.registrar.terms_of_use)
        return text.encode("utf-8")
