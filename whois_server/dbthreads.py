"""The one way database work runs in the server: on a dedicated thread pool, off the reactor.

Every lookup that needs the database goes through :meth:`DatabaseThreads.run`, which runs a
synchronous function with a SQLAlchemy session in one of ``server.db_threads`` threads and
returns a Deferred fired on the reactor thread. The server only reads: every transaction here is
read-only (see :meth:`registrar.storage.Database.transaction`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from registrar.storage import Database

T = TypeVar("T")


class DatabaseThreads:
    """Runs ``fn(session)`` transactions on a thread pool tied to the reactor's lifetime."""

    def __init__(self, db: Database, reactor: Any, threads: int) -> None:
        self.db = db
        self.reactor = reactor
        self.pool = ThreadPool(minthreads=1, maxthreads=threads, name="db")
        self._started = False

    def start(self) -> None:
        """Start the threads (idempotent) and stop them when the reactor shuts down."""
        if not self._started:
            self._started = True
            self.pool.start()
            self.reactor.addSystemEventTrigger("during", "shutdown", self.stop)

    def stop(self) -> None:
        """Stop the threads and close pooled connections."""
        if self._started:
            self._started = False
            self.pool.stop()
            self.db.dispose()

    def run(self, fn: Callable[[Session], T]) -> Deferred[T]:
        """Run ``fn`` in one read transaction off the reactor.

        The transaction is ``readonly``: on SQLite it never waits for a writer (a CLI command or the
        sync holding the write lock); it reads the last committed state.
        """
        self.start()
        return deferToThreadPool(self.reactor, self.pool, self.db.run, fn, readonly=True)
