"""Error paths of the staff CLI: bad --actor, database constraint errors, a database without schema."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from registrar.cli.context import CliContext
from registrar.cli.helpers import write
from registrar.inputs import contact_row, parse_contact
from registrar.models import Contact, JournalEntry
from registrar.storage import Database, utcnow

from .conftest import CONTACT_ARGS, Cli, snapshot

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("actor", ["", "   ", "alice\nbob", "alice\r", "x" * 65, "ev\u202eil", "zero\u200bwidth"])
def test_actor_must_be_one_printable_line_of_at_most_64(cli: Cli, db: Database, actor: str) -> None:
    before = snapshot(db)
    result = cli.fails("contact", "create", "JD1", *CONTACT_ARGS, actor=actor, code=2)
    assert "--actor" in result.output
    assert snapshot(db) == before


def test_actor_of_64_characters_is_recorded(cli: Cli) -> None:
    cli.ok("contact", "create", "JD1", *CONTACT_ARGS, actor="a" * 64)
    assert cli.json("audit")[0]["actor"] == "a" * 64


def _ctx(db_url: str) -> CliContext:
    return CliContext(db_url_option=db_url, config_path=None, actor="tester", json_output=False)


def test_write_names_the_field_of_a_constraint_violation(cli: Cli, db_url: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    cli.ok("contact", "create", "JD1", *CONTACT_ARGS)
    ctx = _ctx(db_url)

    def duplicate(s: Session) -> None:
        row = contact_row(parse_contact({"handle": "JD1", "name": "X", "city": "Y", "country_code": "DE",
                                         "email": "x@mail.example"}), utcnow())
        s.add(Contact(**row))
        s.flush()

    with pytest.raises(SystemExit) as exc:
        write(ctx, duplicate)
    ctx.close()
    assert exc.value.code == 1
    assert "error: handle: conflicts with data already stored" in capsys.readouterr().err


def test_write_turns_a_data_error_into_exit_1(db_url: str, backend: str, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = _ctx(db_url)

    def too_long(s: Session) -> None:
        if backend == "postgres":  # PostgreSQL checks VARCHAR lengths (SQLite does not)
            s.add(JournalEntry(at=utcnow(), actor="x" * 65, object_type="contact", object_key="JD1",
                               action="update", fields=[]))
            s.flush()
        raise DataError("INSERT ...", {}, Exception("value too long for type character varying(64)"))

    with pytest.raises(SystemExit) as exc:
        write(ctx, too_long)
    ctx.close()
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "the database rejected a value" in err and "Traceback" not in err


@contextlib.contextmanager
def _no_schema(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "postgres":
        from tests.conftest import _pg_schema, require_postgres

        require_postgres()
        with _pg_schema() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'empty.db'}"


@pytest.mark.parametrize("args", [
    ("whois", "example.com"), ("rdap", "example.com"), ("fixtures", "load", str(ROOT / "fixtures")),
    ("domain", "show", "example.com"), ("contact", "list"), ("audit",),
    ("contact", "create", "JD1", *CONTACT_ARGS),
])
def test_database_without_schema_says_run_db_upgrade(backend: str, tmp_path: Path, args: tuple[str, ...]) -> None:
    with _no_schema(backend, tmp_path) as url:
        result = Cli(url)(*args)
    assert result.exit_code == 1, result.output
    assert "error: database: the database has no schema: run `registrar db upgrade`" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.postgres
def test_missing_postgres_database_is_named() -> None:
    from tests.conftest import PG_ADMIN_URL, require_postgres

    require_postgres()
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/no_such_database_rdds"
    for args in (("whois", "example.com"), ("domain", "show", "example.com"), ("db", "current"),
                 ("fixtures", "load", str(ROOT / "fixtures"))):
        result = Cli(url)(*args)
        assert result.exit_code == 1, result.output
        assert 'the database "no_such_database_rdds" does not exist' in result.stderr
        assert "db upgrade" not in result.stderr
