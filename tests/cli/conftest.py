"""Fixtures for the staff CLI tests: a CLI runner bound to a fresh database on each backend.

``empty_db_url`` (tests/conftest.py) gives a migrated, empty database on SQLite and on
PostgreSQL (a fresh schema per test); ``cli`` runs ``registrar --db URL ...`` in-process.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from registrar.cli.main import cli as registrar_cli
from registrar.storage import Database, upgrade

DIGEST = "AB" * 32  # a SHA-256 DS digest (digest type 2)


@pytest.fixture(autouse=True)
def _no_env_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REGISTRAR_CONFIG", raising=False)
    monkeypatch.delenv("REGISTRAR_DATABASE_URL", raising=False)


_SQLITE_TEMPLATE: list[Path] = []


def _sqlite_template(factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated with ``registrar.storage.upgrade`` per session (copied per test)."""
    if not _SQLITE_TEMPLATE:
        path = factory.mktemp("cli-template") / "template.db"
        upgrade(f"sqlite:///{path}")
        with sqlite3.connect(path) as conn:  # fold the WAL into the file before copying it
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        _SQLITE_TEMPLATE.append(path)
    return _SQLITE_TEMPLATE[0]


@pytest.fixture
def db_url(backend: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
           request: pytest.FixtureRequest) -> str:
    """A migrated, empty database: a fresh SQLite file, or a fresh PostgreSQL schema.

    SQLite: a copy of a file migrated once per session (the same schema, 0.2 s less per test).
    PostgreSQL: ``empty_db_url`` from tests/conftest.py (own schema, migrated, dropped after); the
    test sessions skip waiting for the WAL flush (``synchronous_commit=off``): durability does not
    matter for a throw-away schema.
    """
    if backend == "sqlite":
        path = tmp_path / "cli.db"
        shutil.copyfile(_sqlite_template(tmp_path_factory), path)
        return f"sqlite:///{path}"
    url = str(request.getfixturevalue("empty_db_url"))
    return url + "%20-csynchronous_commit%3Doff" if "options=" in url else url


class Cli:
    """``registrar --db URL [--config PATH] --actor ACTOR ARGS...`` run in-process."""

    def __init__(self, url: str, config: Path | None = None) -> None:
        self.url = url
        self.config = config
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, actor: str = "tester",
                 json_output: bool = False) -> Result:
        head = ["--db", self.url, "--actor", actor]
        if self.config is not None:
            head += ["--config", str(self.config)]
        if json_output:
            head.append("--json")
        return self.runner.invoke(registrar_cli, [*head, *args], input=input, catch_exceptions=False)

    def ok(self, *args: str, **kwargs: Any) -> Result:
        """Run and assert exit code 0."""
        result = self(*args, **kwargs)
        assert result.exit_code == 0, f"exit {result.exit_code}: {result.output}"
        return result

    def json(self, *args: str, **kwargs: Any) -> Any:
        """Run with ``--json``, assert success, parse standard output."""
        result = self.ok(*args, json_output=True, **kwargs)
        return json.loads(result.stdout)

    def fails(self, *args: str, code: int = 1, field: str | None = None, **kwargs: Any) -> Result:
        """Run, assert the exit code and (for code 1) an ``error: <field>:`` message on stderr."""
        result = self(*args, **kwargs)
        assert result.exit_code == code, f"exit {result.exit_code}: {result.output}"
        if field is not None:
            assert f"error: {field}:" in result.stderr, result.stderr
        return result


@pytest.fixture
def cli(db_url: str) -> Cli:
    """The CLI against a fresh database."""
    return Cli(db_url)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """Direct access for assertions."""
    database = Database(db_url)
    yield database
    database.dispose()


def sql(db: Database, statement: str, **params: Any) -> list[Any]:
    """Run one SQL statement in its own transaction; rows for a SELECT."""
    with db.engine.begin() as conn:
        result = conn.execute(text(statement), params)
        return list(result) if result.returns_rows else []


def snapshot(db: Database) -> dict[str, list[Any]]:
    """Every row of every table (to prove a dry run or a refusal wrote nothing)."""
    tables = ["contact", "consent_event", "host", "host_address", "domain", "domain_nameserver", "ds_record",
              "journal"]
    return {t: sorted(map(repr, sql(db, f"SELECT * FROM {t}"))) for t in tables}


def backdate(db: Database, table: str, column: str, when: datetime, where: str, **params: Any) -> None:
    """Set a timestamp column (tests move time by moving the data)."""
    sql(db, f"UPDATE {table} SET {column} = :when WHERE {where}", when=when, **params)


CONTACT_ARGS = ["--name", "Jane Doe", "--street", "1 Main St", "--city", "Springfield", "--state", "IL",
                "--postal-code", "62701", "--country", "US", "--phone", "+1.5555550123", "--email",
                "jane@mail.example"]


def seed(cli: Cli, handle: str = "JD1", domain: str = "example.com", *,
         email: str = "jane@mail.example") -> None:
    """A contact, two hosts and a registration, all through the CLI."""
    args = list(CONTACT_ARGS)
    args[args.index("jane@mail.example")] = email
    cli.ok("contact", "create", handle, *args)
    for ns in ("ns1.dns.example.net", "ns2.dns.example.net"):
        if cli("host", "show", ns).exit_code != 0:
            cli.ok("host", "create", ns)
    cli.ok("domain", "create", domain, "--registrant", handle, "--tech", handle,
           "--ns", "ns1.dns.example.net", "--ns", "ns2.dns.example.net")
