"""``registrar db`` and ``registrar fixtures``: schema migrations and sample data."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from registrar.cli.context import CliContext, fail, pass_ctx
from registrar.fixtures import FixtureError, generate, load
from registrar.storage import current_revision, upgrade


@click.group("db")
def db_group() -> None:
    """Database schema: create or migrate (Alembic).

    \b
    Examples:
      registrar db upgrade
      registrar --db postgresql+psycopg://registrar@db/registrar db upgrade
      registrar db current
    """


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@pass_ctx
def db_upgrade(ctx: CliContext, revision: str) -> None:
    """Create the schema or migrate it to REVISION; a no-op when already there.

    \b
    Example:
      registrar --db postgresql+psycopg://registrar@db/registrar db upgrade
    """
    upgrade(ctx.db_url, revision)
    ctx.emit({"revision": current_revision(ctx.db_url)}, f"schema at revision {current_revision(ctx.db_url)}")


@db_group.command("current")
@pass_ctx
def db_current(ctx: CliContext) -> None:
    """Print the schema revision of the database ("(empty database)" before `db upgrade`).

    \b
    Examples:
      registrar db current
      registrar --json --db postgresql+psycopg://registrar@db/registrar db current
    """
    rev = current_revision(ctx.db_url)
    ctx.emit({"revision": rev}, rev or "(empty database)")


@click.group("fixtures")
def fixtures_group() -> None:
    """Load sample data, or generate large synthetic sets.

    \b
    Examples:
      registrar fixtures load fixtures/
      registrar fixtures generate --domains 1000 -o /tmp/sample.jsonl
      registrar fixtures load /tmp/sample.jsonl
    """


@fixtures_group.command("load")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@pass_ctx
def fixtures_load(ctx: CliContext, paths: tuple[Path, ...]) -> None:
    """Load fixture files (.toml, .jsonl) or directories in one transaction.

    On any invalid record nothing is written and the record and field are named.

    \b
    Examples:
      registrar fixtures load fixtures/
      registrar fixtures generate --domains 1000000 > /tmp/big.jsonl && registrar fixtures load /tmp/big.jsonl
    """
    try:
        stats = load(ctx.db, paths, actor=ctx.actor)
    except FixtureError as exc:
        fail(f"{exc} (nothing was loaded)", 1)
        return
    d = stats.as_dict()
    ctx.emit(d, f"loaded {d['contacts']} contacts, {d['hosts']} hosts, {d['domains']} domains")


@fixtures_group.command("generate")
@click.option("--domains", type=click.IntRange(min=1), required=True, help="How many registrations.")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed (output is deterministic).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
def fixtures_generate(domains: int, seed: int, output: Path | None) -> None:
    """Write a synthetic JSON-lines set of DOMAINS registrations (streaming, flat memory).

    \b
    Examples:
      registrar fixtures generate --domains 1000 > /tmp/sample.jsonl
      registrar fixtures generate --domains 1000000 --seed 7 -o /tmp/big.jsonl
    """
    if output is None:
        generate(sys.stdout, domains, seed=seed)
    else:
        with output.open("w", encoding="utf-8") as fh:
            generate(fh, domains, seed=seed)
