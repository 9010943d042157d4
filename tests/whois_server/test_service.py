"""The server's database plumbing: read-only transactions off the reactor, journal-driven cache invalidation."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from twisted.internet.defer import Deferred, maybeDeferred
from twisted.internet.task import Clock

from registrar.config import load_config
from registrar.models import Domain
from registrar.storage import Database, journal, upgrade
from whois_server.dbthreads import DatabaseThreads
from whois_server.service import MISSING, RegistrationDataService


class ImmediateReactor:
    """Just enough reactor for :class:`DatabaseThreads`: results are delivered on the pool thread."""

    def callFromThread(self, f: Any, *args: Any, **kwargs: Any) -> None:
        f(*args, **kwargs)

    def addSystemEventTrigger(self, *_args: Any) -> None:
        pass


def test_lookups_do_not_wait_for_a_writer_on_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """While a CLI command holds SQLite's write lock, the server's lookups still answer at once."""
    from registrar import storage

    monkeypatch.setattr(storage, "SQLITE_BUSY_TIMEOUT", 3.0)
    url = f"sqlite:///{tmp_path / 'server.db'}"
    upgrade(url)
    db = Database(url)
    writer_db = Database(url)
    threads = DatabaseThreads(db, ImmediateReactor(), 2)
    done = threading.Event()
    results: list[Any] = []
    try:
        with writer_db.transaction() as writer:
            journal(writer, actor="staff", object_type="domain", object_key="a.example", action="update")
            writer.flush()  # holds the write lock, not committed
            d: Deferred[int] = threads.run(lambda s: s.scalar(sa.select(sa.func.count()).select_from(Domain)))
            d.addBoth(results.append)
            d.addBoth(lambda _: done.set())
            assert done.wait(10)
        assert results == [0]
    finally:
        threads.stop()
        writer_db.dispose()


class SyncThreads:
    """DatabaseThreads stand-in running the work at once, read-only like the real one."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def run(self, fn: Any) -> Deferred[Any]:
        return maybeDeferred(self.db.run, fn, readonly=True)


@pytest.mark.postgres
def test_cache_is_emptied_when_a_lower_journal_id_commits_late(tmp_path: Path) -> None:
    """PostgreSQL: a transaction holding journal id N commits after N+1; the caches are still emptied."""
    from tests.conftest import make_database

    config = load_config(overrides={"server": {"cache_ttl": 300.0, "cache_invalidation_interval": 1.0}})
    clock = Clock()
    with make_database("postgres", tmp_path) as url:
        db = Database(url)
        service = RegistrationDataService(SyncThreads(db), config, clock)  # type: ignore[arg-type]
        try:
            with db.transaction() as s:
                journal(s, actor="staff", object_type="domain", object_key="a.example", action="update")
            service.start_invalidation()

            def cache_a_miss() -> None:
                service.lookup_domain("nothing-here.example")
                assert service.cached_domain("nothing-here.example") is None

            cache_a_miss()
            with db.transaction() as slow:
                journal(slow, actor="staff", object_type="domain", object_key="slow.example", action="update")
                slow.flush()  # id N taken, not committed
                with db.transaction() as fast:
                    journal(fast, actor="staff", object_type="domain", object_key="fast.example", action="update")
                clock.advance(1.0)  # sees N+1: emptied
                assert service.cached_domain("nothing-here.example") is MISSING
                cache_a_miss()
                clock.advance(1.0)  # nothing new
                assert service.cached_domain("nothing-here.example") is None
            clock.advance(1.0)  # N committed: the maximum is still N+1
            assert service.cached_domain("nothing-here.example") is MISSING
        finally:
            service.stop_invalidation()
            db.dispose()
