"""Shared plumbing of the staff commands: transactions, dry runs, confirmation, tables, options."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

import click
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
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
        with ctx.db.transaction() as session:
            return fn(session)
    except ValidationError as exc:
        fail(f"{exc.field}: {exc.rule}")
    except (OperationalError, ProgrammingError) as exc:
        _database_error(exc)
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
    except IntegrityError:
        fail("conflict: another change to the same object was made at the same time; run the command again")
    except (OperationalError, ProgrammingError) as exc:
        _database_error(exc)
    raise AssertionError("unreachable")  # pragma: no cover


def _database_error(exc: OperationalError | ProgrammingError) -> None:
    message = str(exc.orig or exc).strip().splitlines()[0]
    missing = "no such table" in message or "does not exist" in message
    if isinstance(exc, ProgrammingError) and not missing:
        raise exc
    fail(f"database: {message}" + (" (is the schema created? run `registrar db upgrade`)" if missing else ""))


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
