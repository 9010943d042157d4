"""The registration-data service: every lookup of WHOIS and RDAP goes through here.

Protocol code parses and formats; it asks this service for public records and never touches
the database. Public records are cached per worker for ``server.cache_ttl`` seconds (misses
too, so bots probing random names cost one query per name per TTL); a cached answer is
returned without a thread hop or a database round trip. Every
``server.cache_invalidation_interval`` seconds one cheap query reads the highest change-journal
id and the number of entries just below it (:func:`registrar.storage.journal_watermark`: a
transaction that took a lower id but committed later does not move the maximum, it moves the
count); when either changed (a consent, a correction, a deletion, a sync), the caches are emptied,
so a change reaches WHOIS and RDAP within about a second while hot records stay cached. Concurrent
lookups of the same name share one database trip. A database failure becomes :class:`ServiceUnavailable`, which the
protocols turn into a short temporary-failure reply; the next lookup tries again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session
from twisted.internet.defer import Deferred, fail, succeed
from twisted.python.failure import Failure

from registrar.config import Config
from registrar.publication.record import PublicHost, PublicRecord, build_public_record, public_host, registrar_info
from registrar.storage import find_domain, journal_watermark, sponsored_host
from whois_server.dbthreads import DatabaseThreads
from whois_server.ratelimit import Clock

log = logging.getLogger(__name__)

V = TypeVar("V")
MISSING: Any = object()
"""Returned by :meth:`RegistrationDataService.cached_domain` when nothing is cached."""


class ServiceUnavailable(Exception):
    """The database could not answer; the client should try again later."""


class TTLCache(Generic[V]):
    """A bounded map whose entries expire ``ttl`` seconds after they were stored."""

    def __init__(self, clock: Clock, ttl: float, size: int) -> None:
        self.clock = clock
        self.ttl = ttl
        self.size = size
        self._data: dict[str, tuple[float, V]] = {}

    def get(self, key: str) -> V:
        """The cached value, or the module's ``MISSING`` sentinel."""
        entry = self._data.get(key)
        if entry is None:
            return MISSING
        if entry[0] <= self.clock.seconds():
            del self._data[key]
            return MISSING
        return entry[1]

    def put(self, key: str, value: V) -> None:
        """Store ``value`` (no-op when the TTL is 0)."""
        if self.ttl <= 0:
            return
        if len(self._data) >= self.size:
            self._data.pop(next(iter(self._data)))
        self._data[key] = (self.clock.seconds() + self.ttl, value)

    def clear(self) -> None:
        """Forget everything."""
        self._data.clear()


class RegistrationDataService:
    """Lookups of public records by name, for every front end."""

    def __init__(self, threads: DatabaseThreads, config: Config, clock: Clock) -> None:
        self.threads = threads
        self.config = config
        self.clock = clock
        self.registrar = registrar_info(config.registrar)
        ttl, size = config.server.cache_ttl, config.server.cache_size
        self._domains: TTLCache[PublicRecord | None] = TTLCache(clock, ttl, size)
        self._hosts: TTLCache[PublicHost | None] = TTLCache(clock, ttl, max(1, size // 10))
        self._inflight: dict[tuple[str, str], list[Deferred[Any]]] = {}
        #: The last :func:`~registrar.storage.journal_watermark` seen (``None``: not checked yet).
        self._journal_mark: tuple[int | None, int] | None = None
        self._watch: Any = None

    def start_invalidation(self) -> None:
        """Start watching the change journal (no-op when caching or watching is off)."""
        interval = self.config.server.cache_invalidation_interval
        if interval <= 0 or self.config.server.cache_ttl <= 0 or self._watch is not None:
            return

        def seen(mark: tuple[int | None, int]) -> None:
            if mark != self._journal_mark:
                if self._journal_mark is not None:
                    self.invalidate()
                self._journal_mark = mark

        def tick() -> None:
            d = self.threads.run(journal_watermark)
            d.addCallback(seen)
            d.addErrback(lambda f: log.warning("journal check failed: %s", f.type.__name__ if f.type else "?"))
            d.addBoth(lambda _: schedule())

        def schedule() -> None:
            self._watch = self.clock.callLater(interval, tick)  # type: ignore[attr-defined]

        tick()

    def stop_invalidation(self) -> None:
        """Stop watching the journal."""
        if self._watch is not None and self._watch.active():
            self._watch.cancel()
        self._watch = None

    def cached_domain(self, a_label: str) -> PublicRecord | Any | None:
        """The cached record (or ``None`` for a cached miss); ``MISSING`` when not cached."""
        return self._domains.get(a_label)

    def lookup_domain(self, a_label: str) -> Deferred[PublicRecord | None]:
        """The public record of a live domain we sponsor, or ``None``."""
        cached = self._domains.get(a_label)
        if cached is not MISSING:
            return succeed(cached)
        privacy, registrar = self.config.privacy, self.registrar

        def work(session: Session) -> PublicRecord | None:
            domain = find_domain(session, a_label)
            return None if domain is None else build_public_record(domain, registrar, privacy)

        return self._coalesced("domain", a_label, work, self._domains)

    def lookup_host(self, a_label: str) -> Deferred[PublicHost | None]:
        """A name server of a domain we sponsor (or under one of our domains), or ``None``."""
        cached = self._hosts.get(a_label)
        if cached is not MISSING:
            return succeed(cached)

        def work(session: Session) -> PublicHost | None:
            host = sponsored_host(session, a_label)
            return None if host is None else public_host(host)

        return self._coalesced("host", a_label, work, self._hosts)

    def invalidate(self) -> None:
        """Drop every cached record (after a change made in this process)."""
        self._domains.clear()
        self._hosts.clear()

    def _coalesced(self, kind: str, key: str, work: Callable[[Session], V], cache: TTLCache[V]) -> Deferred[V]:
        waiters = self._inflight.get((kind, key))
        d: Deferred[V] = Deferred()
        if waiters is not None:
            waiters.append(d)
            return d
        self._inflight[(kind, key)] = [d]

        def done(result: V | Failure) -> None:
            pending = self._inflight.pop((kind, key), [])
            if isinstance(result, Failure):
                log.warning("database lookup failed: %s", result.type.__name__ if result.type else "error")
                for w in pending:
                    w.errback(Failure(ServiceUnavailable("registration data temporarily unavailable")))
                return
            cache.put(key, result)
            for w in pending:
                w.callback(result)

        try:
            self.threads.run(work).addBoth(done)
        except Exception:  # e.g. thread pool refused the job during shutdown
            self._inflight.pop((kind, key), None)
            return fail(ServiceUnavailable("registration data temporarily unavailable"))
        return d
