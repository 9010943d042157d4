"""Tests for registrar.storage: migrations on SQLite and PostgreSQL, the journal, lookups."""

from __future__ import annotations

from pathlib import Path

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
