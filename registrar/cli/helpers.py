"""Shared plumbing of the staff commands: transactions, dry runs, confirmation, tables, options."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

import click
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from registrar.cli.context import CliContext, fail
from registrar.inputs import parse_time
from registrar.validation import ValidationError

T = TypeVar("T")


class _Rollback(Exception):
    """Raised to roll back a dry run, carrying its result."""

    def __init__(self, result: Any) -> None:
        super().__init__("dry run")
        self.result = result


def read(ctx: CliContext, fn: Callable[[Session], T]) -> T:
    """Run a read-only ``fn(session)``; a ``ValidationError`` exits 1 with ``error: field: rule``."""
    try:
        with ctx.db.transaction(readonly=True) as session:
            return fn(session)
    except ValidationError as exc:
        fail(f"{exc.field}: {exc.rule}")
    except (OperationalError, ProgrammingError) as exc:
        database_error(exc)
    raise AssertionError("unreachable")  # pragma: no cover


def write(ctx: CliContext, fn: Callable[[Session], T], *, dry_run: bool = False) -> T:
    """Run ``fn(session)`` in one transaction; with ``dry_run`` roll it back and return the result.

    A ``ValidationError`` (including ``Refused``) exits 1 with ``error: field: rule``; nothing
    is written in either case.
    """
    try:
        with ctx.db.transaction() as session:
            result = fn(session)
            if dry_run:
                session.flush()
                raise _Rollback(result)
            return result
    except _Rollback as rb:
        return cast(T, rb.result)
    except ValidationError as exc:
        fail(f"{exc.field}: {exc.rule}")
    except IntegrityError as exc:
        field = constraint_field(exc)
        if field is None:
            fail("conflict: another change to the same object was made at the same time; run the command again")
        fail(f"{field}: conflicts with data already stored (perhaps another change made at the same time); "
             "check and run the command again")
    except DataError as exc:
        fail(f"{constraint_field(exc) or 'input'}: the database rejected a value ({_first_line(exc)})")
    except (OperationalError, ProgrammingError) as exc:
        database_error(exc)
    raise AssertionError("unreachable")  # pragma: no cover


#: Column names as the commands call them (the field named in ``error: <field>: <rule>``).
_FIELD_NAMES = {"ldh_name": "name", "registrant_id": "registrant", "tech_id": "tech", "admin_id": "admin",
                "billing_id": "billing", "host_id": "host", "domain_id": "name", "contact_id": "handle"}
#: Constraint and index names (models.NAMING) whose column is not the last part of the name.
_CONSTRAINT_FIELDS = {"uq_domain_ldh_name_live": "name", "uq_host_address_host_id": "addresses",
                      "uq_domain_nameserver_domain_id": "nameservers"}
_TABLES = sorted(("contact", "consent_event", "host", "host_address", "domain", "domain_nameserver", "ds_record",
                  "journal", "sync_cursor", "sync_issue"), key=len, reverse=True)
_SQLITE_COLUMN = re.compile(r"constraint failed: (\w+)\.(\w+)")


def _first_line(exc: Exception) -> str:
    orig = getattr(exc, "orig", None)
    return (str(orig or exc).strip().splitlines() or [""])[0]


def _constraint_column(name: str) -> str | None:
    """The column of a constraint named by models.NAMING (``uq_<table>_<column>``,
    ``fk_<table>_<column>_<referred table>``)."""
    kind, _, rest = name.partition("_")
    for table in _TABLES:
        if kind in ("uq", "fk", "ix") and rest.startswith(table + "_"):
            column = rest[len(table) + 1:]
            if kind == "fk":
                for ref in _TABLES:
                    if column.endswith("_" + ref):
                        return column[:-len(ref) - 1]
            return column
    return None


def constraint_field(exc: DataError | IntegrityError) -> str | None:
    """The field a constraint violation is about, when the database says (else ``None``).

    PostgreSQL reports the constraint (or column) in the error's diagnostics; SQLite names
    ``table.column`` in the message.
    """
    diag = getattr(exc.orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    column = getattr(diag, "column_name", None)
    if constraint:
        if constraint in _CONSTRAINT_FIELDS:
            return _CONSTRAINT_FIELDS[constraint]
        column = _constraint_column(constraint) or column
    if not column:
        match = _SQLITE_COLUMN.search(_first_line(exc))
        column = match.group(2) if match else None
    return _FIELD_NAMES.get(column, column) if column else None


def database_error(exc: OperationalError | ProgrammingError) -> None:
    """Exit 1 with what is wrong with the database; re-raise errors that are bugs, not setup problems.

    A missing schema (no tables yet) says to run ``registrar db upgrade``; a PostgreSQL database
    that does not exist says so (``db upgrade`` creates tables, not databases).
    """
    message = _first_line(exc)
    no_database = re.search(r'database "([^"]*)" does not exist', message)
    if no_database:
        fail(f'database: the database "{no_database.group(1)}" does not exist on the server; create it '
             "(e.g. createdb) or fix the URL (--db / REGISTRAR_DATABASE_URL)")
    sqlstate = getattr(exc.orig, "sqlstate", None)
    no_table = "no such table" in message or sqlstate == "42P01" or (
        re.search(r'relation "[^"]*" does not exist', message) is not None)
    if no_table:
        fail(f"database: the database has no schema: run `registrar db upgrade` ({message})")
    if isinstance(exc, ProgrammingError):
        raise exc
    fail(f"database: {message}")


def stdin_is_terminal() -> bool:
    """Whether we may ask a question on standard input (tests patch this)."""
    return sys.stdin.isatty()


def confirm(question: str, *, yes: bool) -> None:
    """Ask before a destructive change unless ``--yes``; never ask when stdin is not a terminal."""
    if yes:
        return
    if not stdin_is_terminal():
        fail("confirmation: standard input is not a terminal; pass --yes to confirm")
    if not click.confirm(question, default=False, err=True):
        fail("confirmation: not confirmed; nothing was changed")


def destructive(ctx: CliContext, fn: Callable[[Session], T], *, question: Callable[[T], str | None],
                yes: bool, dry_run: bool) -> tuple[T, bool]:
    """Run a destructive change: preview (dry run), confirm, then apply.

    ``question`` builds the confirmation question from the preview (``None``: nothing to ask).
    Returns the result and whether it was a dry run.
    """
    if dry_run:
        return write(ctx, fn, dry_run=True), True
    if not yes:
        preview = write(ctx, fn, dry_run=True)  # validates and shows what would happen
        text = question(preview)
        if text is not None:
            confirm(text, yes=False)
    return write(ctx, fn), False


def ts(value: datetime | None) -> str:
    """A UTC timestamp in RFC 3339 form, or ``-``."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else "-"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain aligned text table."""
    cells = [[str(h) for h in headers]] + [["-" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def dry_prefix(dry_run: bool) -> str:
    """Prefix for human output of a dry run."""
    return "dry run, nothing written: would have " if dry_run else ""


class Timestamp(click.ParamType):
    """An RFC 3339 timestamp option (e.g. ``2026-01-31T00:00:00Z``)."""

    name = "RFC3339"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        """Parse or fail with a usage error (exit 2)."""
        if isinstance(value, datetime):
            return value
        try:
            return parse_time(value, param.name if param and param.name else "time")
        except ValidationError as exc:
            self.fail(exc.rule, param, ctx)


TIMESTAMP = Timestamp()


def dry_run_option(fn: Any) -> Any:
    """``--dry-run``: show the change, write nothing."""
    return click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")(fn)


def yes_option(fn: Any) -> Any:
    """``--yes``: do not ask for confirmation."""
    return click.option("--yes", "-y", is_flag=True,
                        help="Do not ask for confirmation (required when not on a terminal).")(fn)
