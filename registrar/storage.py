"""The storage gateway: the one place that owns engines, sessions and SQL.

Business code asks :class:`Database` for a transaction and calls the lookup and journal
functions below; it never builds engines or sessions itself. Lookups for publication load a
registration with a fixed, small number of queries (eager loading), whatever its size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, joinedload, selectinload, sessionmaker

from registrar.models import Contact, Domain, DomainNameserver, Host, JournalEntry

T = TypeVar("T")

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def utcnow() -> datetime:
    """The current time, UTC, whole seconds (what every stored timestamp uses)."""
    return datetime.now(UTC).replace(microsecond=0)


class Database:
    """Engine + session factory for one database URL.

    Write transactions (the default) lock what they read: on PostgreSQL (READ COMMITTED) through the
    row locks of ``with_for_update()``; on SQLite, where ``FOR UPDATE`` does not exist, by starting
    with ``BEGIN IMMEDIATE``, which takes the database's single write lock before the first read, so
    two concurrent read-modify-write transactions run one after the other instead of both reading
    the old row and one overwriting the other. Read transactions (``readonly=True``: the server's
    lookups) start with a plain deferred ``BEGIN``: in WAL mode they read a snapshot and never wait
    for a writer. pysqlite's own transaction handling is switched off (it would only ``BEGIN`` at
    the first write, leaving the reads before it outside the transaction).
    """

    def __init__(self, url: str, *, pool_size: int = 5, echo: bool = False) -> None:
        self.url = url
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT}
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        self.engine: Engine = create_engine(url, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_connect)
            event.listen(self.engine, "begin", _sqlite_begin)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.engine.execution_options(**{_READONLY: True}),
                                           expire_on_commit=False)

    @contextmanager
    def transaction(self, readonly: bool = False) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error.

        ``readonly`` marks a transaction that only reads: on SQLite it neither takes nor waits for
        the write lock (writing in it may fail with "database is locked"). PostgreSQL ignores it.
        """
        session = (self._read_sessions if readonly else self._sessions)()
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    def run(self, fn: Callable[[Session], T], readonly: bool = False) -> T:
        """Run ``fn(session)`` in one transaction and return its result."""
        with self.transaction(readonly) as session:
            return fn(session)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


#: Seconds a SQLite connection waits for the write lock (``BEGIN IMMEDIATE``) before failing.
SQLITE_BUSY_TIMEOUT = 30.0
#: Execution option that marks the read-only session factory's connections.
_READONLY = "registrar_readonly"


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite would otherwise BEGIN only before the first INSERT/UPDATE/DELETE (and COMMIT before
    # DDL); :func:`_sqlite_begin` emits the BEGIN instead, at the start of every transaction.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    readonly = conn.get_execution_options().get(_READONLY, False)
    conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def _publication_options() -> Sequence[Any]:
    return (
        joinedload(Domain.registrant).selectinload(Contact.consents),
        joinedload(Domain.tech).selectinload(Contact.consents),
        selectinload(Domain.nameservers).joinedload(DomainNameserver.host).selectinload(Host.addresses),
        selectinload(Domain.ds_records),
    )


def live_first() -> tuple[Any, ...]:
    """ORDER BY terms for the rows of one name: the live row first, then deleted ones, latest first."""
    return (Domain.deleted_at.is_not(None), Domain.deleted_at.desc(), Domain.id.desc())


def find_domain(session: Session, a_label: str, *, include_deleted: bool = False) -> Domain | None:
    """The registration with this A-label, fully loaded for publication (fixed query count).

    The live one; with ``include_deleted`` and none live, the most recently deleted one (a name
    may have several deleted rows: earlier registrations kept for retention).
    """
    stmt = select(Domain).where(Domain.ldh_name == a_label).options(*_publication_options())
    if not include_deleted:
        stmt = stmt.where(Domain.deleted_at.is_(None))
    stmt = stmt.order_by(*live_first()).limit(1)
    return session.scalars(stmt).unique().first()


def find_host(session: Session, name: str) -> Host | None:
    """The host object with this A-label name, with its addresses."""
    stmt = select(Host).where(Host.ldh_name == name).options(selectinload(Host.addresses))
    return session.scalars(stmt).one_or_none()


def host_in_use(session: Session, host: Host) -> list[str]:
    """A-labels of live domains delegated to ``host``."""
    stmt = (select(Domain.ldh_name).join(DomainNameserver, DomainNameserver.domain_id == Domain.id)
            .where(DomainNameserver.host_id == host.id, Domain.deleted_at.is_(None)).order_by(Domain.ldh_name))
    return list(session.scalars(stmt))


def find_contact(session: Session, handle: str) -> Contact | None:
    """The contact with this handle, with its consent history."""
    return session.scalars(
        select(Contact).where(Contact.handle == handle).options(selectinload(Contact.consents))).one_or_none()


def sponsored_host(session: Session, name: str) -> Host | None:
    """A host that a live domain we sponsor is delegated to, or that lies under one of our domains."""
    host = find_host(session, name)
    if host is None:
        return None
    if host_in_use(session, host):
        return host
    parent = name.split(".", 1)[1] if "." in name else ""
    while parent.count(".") >= 1:
        if find_domain(session, parent) is not None:
            return host
        parent = parent.split(".", 1)[1]
    return None


def latest_journal_id(session: Session) -> int | None:
    """The highest change-journal id (``None`` when the journal is empty)."""
    return session.execute(select(func.max(JournalEntry.id))).scalar()


#: How far below the newest journal id :func:`journal_watermark` counts entries.
JOURNAL_WATCH_WINDOW = 10_000


def journal_watermark(session: Session, window: int = JOURNAL_WATCH_WINDOW) -> tuple[int | None, int]:
    """The highest change-journal id and the number of entries with an id within ``window`` below it.

    Journal ids are taken when a row is inserted, not when its transaction commits: a transaction
    holding id N that commits after N+1 was committed leaves the maximum unchanged, but adds one
    to the count (entries are never deleted). Comparing the pair from one check to the next
    therefore notices every commit with an id within ``window`` of the newest. One statement: a
    primary-key lookup and an index range count.
    """
    newest = select(func.max(JournalEntry.id)).scalar_subquery()
    recent = (select(func.count()).select_from(JournalEntry)
              .where(JournalEntry.id > func.coalesce(newest, 0) - window).scalar_subquery())
    top, count = session.execute(select(newest, recent)).one()
    return (None if top is None else int(top)), int(count)


def journal(session: Session, *, actor: str, object_type: str, object_key: str, action: str,
            fields: Sequence[str] = (), note: str | None = None, at: datetime | None = None) -> JournalEntry:
    """Append one change to the journal (field names only, never values)."""
    entry = JournalEntry(at=at or utcnow(), actor=actor, object_type=object_type, object_key=object_key,
                         action=action, fields=sorted(set(fields)), note=note)
    session.add(entry)
    return entry


def alembic_config(url: str) -> Any:
    """An Alembic config pointing at the packaged migrations and ``url``."""
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Create or migrate the schema to ``revision`` (a no-op when already there)."""
    from alembic import command

    if make_url(url).get_backend_name() == "sqlite":
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    """The schema revision stamped in the database, or ``None`` when it is empty."""
    from alembic.runtime.migration import MigrationContext

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
