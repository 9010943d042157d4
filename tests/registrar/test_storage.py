"""Tests for registrar.storage: migrations on SQLite and PostgreSQL, the journal, lookups."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from registrar.models import Base
from registrar.storage import Database, current_revision, journal, upgrade


def _schema(url: str) -> dict[str, list[tuple[str, str, bool]]]:
    engine = sa.create_engine(url)
    try:
        insp = sa.inspect(engine)
        out = {}
        for table in sorted(insp.get_table_names()):
            cols = []
            for col in insp.get_columns(table):
                kind = type(col["type"]).__name__.upper()
                kind = {"TIMESTAMP": "DATETIME", "VARCHAR": "STRING", "BIGINT": "INTEGER", "TEXT": "TEXT",
                        "BOOLEAN": "BOOLEAN"}.get(kind, kind)
                cols.append((col["name"], kind, bool(col["nullable"])))
            out[table] = sorted(cols)
        return out
    finally:
        engine.dispose()


def test_upgrade_is_idempotent_and_matches_models(empty_db_url: str) -> None:
    """`db upgrade` creates every model table; a second run is a no-op."""
    assert current_revision(empty_db_url) is not None
    before = _schema(empty_db_url)
    upgrade(empty_db_url)
    assert _schema(empty_db_url) == before
    assert set(before) == set(Base.metadata.tables) | {"alembic_version"}


def test_same_schema_on_sqlite_and_postgres(tmp_path: Path) -> None:
    """The migrations give the same tables, columns and nullability on both backends."""
    from tests.conftest import make_database

    with make_database("sqlite", tmp_path) as lite, make_database("postgres", tmp_path) as pg:
        a, b = _schema(lite), _schema(pg)
    assert a.keys() == b.keys()
    for table in a:
        assert [(n, nullable) for n, _k, nullable in a[table]] == [(n, nullable) for n, _k, nullable in b[table]]


def test_journal_records_field_names_not_values(empty_db_url: str) -> None:
    """The journal keeps who/what/which fields, sorted and de-duplicated."""
    db = Database(empty_db_url)
    with db.transaction() as session:
        journal(session, actor="alice", object_type="contact", object_key="C1", action="update",
                fields=["email", "name", "email"])
    with db.transaction() as session:
        (row,) = session.execute(sa.text("select actor, object_key, action from journal")).all()
        assert tuple(row) == ("alice", "C1", "update")
    db.dispose()


def test_transaction_rolls_back_on_error(empty_db_url: str) -> None:
    """An exception inside a transaction leaves nothing written."""
    db = Database(empty_db_url)
    try:
        with db.transaction() as session:
            journal(session, actor="a", object_type="domain", object_key="x.example", action="create")
            session.flush()
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with db.transaction() as session:
        assert session.execute(sa.text("select count(*) from journal")).scalar() == 0
    db.dispose()


# --- concurrency: SQLite write transactions serialise, read transactions never wait -------------

def _sqlite_with_fixtures(tmp_path: Path) -> Database:
    from registrar import fixtures
    from tests.conftest import FIXTURES

    url = f"sqlite:///{tmp_path / 'concurrency.db'}"
    upgrade(url)
    db = Database(url)
    fixtures.load(db, [FIXTURES / "registrations.toml"])
    return db


def _statuses(db: Database, name: str) -> list[str]:
    from registrar.models import Domain

    with db.transaction(readonly=True) as s:
        return list(s.scalars(sa.select(Domain.statuses).where(Domain.ldh_name == name,
                                                                Domain.deleted_at.is_(None))).one())


def test_sqlite_concurrent_read_modify_write_loses_nothing(tmp_path: Path) -> None:
    """Two transactions appending a status to the same domain at the same time both take effect.

    Like two `registrar domain update D --add-status X` / `--add-status Y` runs: each reads the
    row (``with_for_update()``, a no-op on SQLite), then writes the list back. The second must
    not read before the first has committed (``BEGIN IMMEDIATE``), or one status is lost.
    """
    import threading

    from registrar.models import Domain

    db = _sqlite_with_fixtures(tmp_path)
    name = "harbour-bakery.example"
    before = _statuses(db, name)
    first_read, second_read = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def append(status: str, mine: threading.Event, other: threading.Event | None,
               wait_for: threading.Event | None) -> None:
        try:
            if wait_for is not None:
                wait_for.wait(5)
            with db.transaction() as s:
                d = s.scalars(sa.select(Domain).where(Domain.ldh_name == name, Domain.deleted_at.is_(None))
                              .with_for_update()).one()
                statuses = list(d.statuses)
                mine.set()
                if other is not None:
                    other.wait(1.0)  # give the other transaction every chance to read the old row
                d.statuses = [*statuses, status]
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    a = threading.Thread(target=append, args=("clientHold", first_read, second_read, None))
    b = threading.Thread(target=append, args=("clientRenewProhibited", second_read, None, first_read))
    a.start()
    b.start()
    a.join(20)
    b.join(20)
    assert not errors
    after = _statuses(db, name)
    assert sorted(after) == sorted([*before, "clientHold", "clientRenewProhibited"])
    db.dispose()


def test_sqlite_reader_is_not_blocked_by_a_writer(tmp_path: Path) -> None:
    """A read-only transaction answers at once, from the last commit, while a writer holds the lock."""
    import time

    from registrar.models import Domain

    db = _sqlite_with_fixtures(tmp_path)
    name = "harbour-bakery.example"
    before = _statuses(db, name)
    with db.transaction() as writer:
        d = writer.scalars(sa.select(Domain).where(Domain.ldh_name == name, Domain.deleted_at.is_(None))).one()
        d.statuses = [*d.statuses, "clientHold"]
        writer.flush()  # the write lock is held and the change is not committed
        started = time.monotonic()
        assert _statuses(db, name) == before
        assert db.run(lambda s: s.scalar(sa.select(sa.func.count()).select_from(Domain)), readonly=True) > 0
        assert time.monotonic() - started < 5  # SQLite's busy timeout would be 30 s
    assert "clientHold" in _statuses(db, name)
    db.dispose()


def test_sqlite_second_writer_waits_for_the_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write transaction takes the write lock at its start, before it reads anything."""
    from sqlalchemy.exc import OperationalError

    from registrar import storage

    url = f"sqlite:///{tmp_path / 'lock.db'}"
    upgrade(url)
    db = Database(url)
    monkeypatch.setattr(storage, "SQLITE_BUSY_TIMEOUT", 0.2)
    impatient = Database(url)
    try:
        with db.transaction() as s:
            s.execute(sa.text("select count(*) from journal")).scalar()  # only a read so far
            with pytest.raises(OperationalError, match="locked"), impatient.transaction() as other:
                other.execute(sa.text("select count(*) from journal"))
            with impatient.transaction(readonly=True) as reader:  # a reader does not wait
                assert reader.execute(sa.text("select count(*) from journal")).scalar() == 0
    finally:
        impatient.dispose()
        db.dispose()


def test_migrations_run_while_a_database_is_open(tmp_path: Path) -> None:
    """`db upgrade` (Alembic's own engine) still works on SQLite next to an open :class:`Database`."""
    url = f"sqlite:///{tmp_path / 'mig.db'}"
    upgrade(url, "base")
    db = Database(url)
    upgrade(url)
    assert current_revision(url) is not None
    with db.transaction() as s:
        journal(s, actor="a", object_type="domain", object_key="x.example", action="create")
    upgrade(url)
    with db.transaction(readonly=True) as s:
        assert s.execute(sa.text("select count(*) from journal")).scalar() == 1
    db.dispose()


# --- the journal watermark (cache invalidation of whois-server) ----------------------------------

def test_journal_watermark_sees_an_entry_below_the_maximum(empty_db_url: str) -> None:
    """An entry appearing below the newest id (a late commit) changes the watermark; nothing else does."""
    from registrar.models import JournalEntry
    from registrar.storage import journal_watermark, utcnow

    db = Database(empty_db_url)
    assert db.run(journal_watermark, readonly=True) == (None, 0)
    with db.transaction() as s:
        for key in ("a.example", "b.example", "c.example"):
            journal(s, actor="a", object_type="domain", object_key=key, action="update")
    top, count = db.run(journal_watermark, readonly=True)
    assert top is not None and count == 3
    with db.transaction() as s:  # a gap below the maximum, then the late entry filling it
        s.add(JournalEntry(id=top + 2, at=utcnow(), actor="a", object_type="domain", object_key="d.example",
                           action="update", fields=[]))
    mark = db.run(journal_watermark, readonly=True)
    assert mark == (top + 2, 4)
    with db.transaction() as s:
        s.add(JournalEntry(id=top + 1, at=utcnow(), actor="a", object_type="domain", object_key="e.example",
                           action="update", fields=[]))
    late = db.run(journal_watermark, readonly=True)
    assert late == (top + 2, 5) and late != mark
    assert db.run(lambda s: journal_watermark(s, window=1), readonly=True) == (top + 2, 1)
    db.dispose()


@pytest.mark.postgres
def test_journal_watermark_late_commit_on_postgres(tmp_path: Path) -> None:
    """PostgreSQL, two connections: an id taken first and committed last changes the count only."""
    from registrar.storage import journal_watermark
    from tests.conftest import make_database

    with make_database("postgres", tmp_path) as url:
        db = Database(url)
        with db.transaction() as s:
            journal(s, actor="a", object_type="domain", object_key="a.example", action="update")
        with db.transaction() as slow:
            journal(slow, actor="a", object_type="domain", object_key="slow.example", action="update")
            slow.flush()  # takes the next id, not committed yet
            with db.transaction() as fast:
                journal(fast, actor="a", object_type="domain", object_key="fast.example", action="update")
            before = db.run(journal_watermark, readonly=True)
        after = db.run(journal_watermark, readonly=True)
        assert after[0] == before[0] and after[1] == before[1] + 1
        db.dispose()
