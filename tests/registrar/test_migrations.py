"""Revision 0002: a domain name is unique among live registrations only (SQLite and PostgreSQL)."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from registrar.models import Base
from registrar.storage import Database, alembic_config, current_revision, find_domain, upgrade

T0 = datetime(2026, 1, 5, tzinfo=UTC)


@contextlib.contextmanager
def _unmigrated(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty database (no schema at all) on ``backend``."""
    if backend == "postgres":
        from tests.conftest import _pg_schema, require_postgres

        require_postgres()
        with _pg_schema() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / f'm-{secrets.token_hex(4)}.db'}"


def _exec(url: str, statement: str, **params: object) -> list[sa.Row[tuple[object, ...]]]:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(sa.text(statement), params)
            return list(result) if result.returns_rows else []
    finally:
        engine.dispose()


def _domain(url: str, domain_id: int, name: str, deleted: datetime | None) -> None:
    _exec(url, "INSERT INTO domain (id, ldh_name, tld, created_at, updated_at, registrar_expires_at, statuses, "
               "rgp_statuses, registrant_id, auth_info, deleted_at) VALUES (:id, :n, 'example', :t, :t, :t, '[]', "
               "'[]', 1, 'secret-code', :d)", id=domain_id, n=name, t=T0, d=deleted)


def test_0002_keeps_the_data_and_allows_one_live_row_per_name(backend: str, tmp_path: Path) -> None:
    with _unmigrated(backend, tmp_path) as url:
        upgrade(url, "0001")
        _exec(url, "INSERT INTO contact (id, handle, name, city, country_code, email, created_at, updated_at) "
                   "VALUES (1, 'JD1', 'Jane Doe', 'Springfield', 'US', 'jane@mail.example', :t, :t)", t=T0)
        _exec(url, "INSERT INTO host (id, ldh_name, created_at, updated_at) VALUES (1, 'ns1.dns.example.net', :t, :t)",
              t=T0)
        _domain(url, 1, "example.com", T0)
        _exec(url, "INSERT INTO domain_nameserver (domain_id, host_id, position) VALUES (1, 1, 0)")
        _exec(url, "INSERT INTO ds_record (domain_id, key_tag, algorithm, digest_type, digest) "
                   "VALUES (1, 1, 13, 2, :d)", d="AB" * 32)
        with pytest.raises(sa.exc.IntegrityError):  # 0001: the name is taken for good
            _domain(url, 2, "example.com", None)

        upgrade(url)
        assert current_revision(url) == "0002"
        # the table copy (SQLite batch mode) kept the rows that reference the domain
        assert _exec(url, "SELECT count(*) FROM domain_nameserver")[0][0] == 1
        assert _exec(url, "SELECT count(*) FROM ds_record")[0][0] == 1
        _domain(url, 2, "example.com", None)  # registered again
        _domain(url, 3, "example.com", T0 - timedelta(days=400))  # and an even older deleted row
        with pytest.raises(sa.exc.IntegrityError):
            _domain(url, 4, "example.com", None)  # but never two live rows
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        finally:
            engine.dispose()

        db = Database(url)
        try:
            with db.transaction() as s:
                live = find_domain(s, "example.com")
                assert live is not None and live.id == 2
                assert find_domain(s, "example.com", include_deleted=True).id == 2  # type: ignore[union-attr]
                s.execute(sa.text("UPDATE domain SET deleted_at = :t WHERE id = 2"), {"t": T0 + timedelta(days=9)})
                assert find_domain(s, "example.com") is None
                latest = find_domain(s, "example.com", include_deleted=True)
                assert latest is not None and latest.id == 2  # the most recently deleted
        finally:
            db.dispose()

        # downgrading needs the names unique again
        with pytest.raises(RuntimeError, match="several rows"):
            command.downgrade(alembic_config(url), "0001")
        assert current_revision(url) == "0002"
        _exec(url, "DELETE FROM domain WHERE id IN (2, 3)")
        command.downgrade(alembic_config(url), "0001")
        assert current_revision(url) == "0001"
        assert _exec(url, "SELECT count(*) FROM domain_nameserver")[0][0] == 1
