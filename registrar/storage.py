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

from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, joinedload, selectinload, sessionmaker

from registrar.models import Contact, Domain, DomainNameserver, Host, JournalEntry

T = TypeVar("T")

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def utcnow() -> datetime:
    """The current time, UTC, whole seconds (what every stored timestamp uses)."""
    return datetime.now(UTC).replace(microsecond=0)


class Database:
    """Engine + session factory for one database URL."""

    def __init__(self, url: str, *, pool_size: int = 5, echo: bool = False) -> None:
        self.url = url
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        self.engine: Engine = create_engine(url, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        session = self._sessions()
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    def run(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn(session)`` in one transaction and return its result."""
        with self.transaction() as session:
            return fn(session)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _publication_options() -> Sequence[Any]:
    return (
        joinedload(Domain.registrant).selectinload(Contact.consents),
        joinedload(Domain.tech).selectinload(Contact.consents),
        selectinload(Domain.nameservers).joinedload(DomainNameserver.host).selectinload(Host.addresses),
        selectinload(Domain.ds_records),
    )


def find_domain(session: Session, a_label: str, *, include_deleted: bool = False) -> Domain | None:
    """The registration with this A-label, fully loaded for publication (fixed query count)."""
    stmt = select(Domain).where(Domain.ldh_name == a_label).options(*_publication_options())
    if not include_deleted:
        stmt = stmt.where(Domain.deleted_at.is_(None))
    return session.scalars(stmt).unique().one_or_none()


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
