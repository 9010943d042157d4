"""Entry point of the ``registrar`` staff CLI: global options and command groups."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy.exc import OperationalError, ProgrammingError

from registrar.cli.context import CliContext, default_actor
from registrar.cli.db_commands import db_group, fixtures_group
from registrar.cli.helpers import database_error
from registrar.validation import ValidationError, validate_text

#: The journal's ``actor`` column (and ``consent_event.actor``) holds at most this many characters.
ACTOR_MAX = 64


def _check_actor(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    """``--actor``: 1-64 printable characters on one line (it is written to every journal entry)."""
    try:
        if any(c in value for c in "\r\n\x85\u2028\u2029"):
            raise ValidationError("actor", "contains a line break")
        actor = validate_text(value, "actor", required=True, max_length=ACTOR_MAX)
    except ValidationError as exc:
        raise click.BadParameter(f"{exc.rule} (1-{ACTOR_MAX} printable characters on one line)") from None
    assert actor is not None
    return actor


class RegistrarGroup(click.Group):
    """The top-level group: a database that cannot be used ends any command with a message, exit 1.

    (No schema: "run `registrar db upgrade`"; a PostgreSQL database that does not exist: says so.)
    Commands that go through :func:`registrar.cli.helpers.read`/``write`` get the same handling.
    """

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; turn database setup errors into ``error: database: ...``."""
        try:
            return super().invoke(ctx)
        except (OperationalError, ProgrammingError) as exc:
            database_error(exc)


@click.group(cls=RegistrarGroup,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--db", "db_url", envvar="REGISTRAR_DATABASE_URL", metavar="URL",
              help="SQLAlchemy database URL [env REGISTRAR_DATABASE_URL; default: the embedded SQLite file].")
@click.option("--config", "config_path", envvar="REGISTRAR_CONFIG", metavar="PATH",
              type=click.Path(dir_okay=False), help="TOML configuration file [env REGISTRAR_CONFIG].")
@click.option("--actor", default=default_actor, show_default="the OS user", callback=_check_actor,
              help="Who is making the change (recorded in the journal; 1-64 printable characters).")
@click.option("--json", "json_output", is_flag=True, help="Machine-readable JSON output.")
@click.pass_context
def cli(ctx: click.Context, db_url: str | None, config_path: str | None, actor: str, json_output: bool) -> None:
    """Registrar staff tools: registrations, privacy rights, verification, retention, audit, sync.

    \b
    Examples:
      registrar db upgrade
      registrar fixtures load fixtures/
      registrar domain show bücher-beispiel.example
      registrar --json domain list
    """
    obj = CliContext(db_url_option=db_url, config_path=config_path, actor=actor, json_output=json_output)
    ctx.obj = obj
    ctx.call_on_close(obj.close)


cli.add_command(db_group)
cli.add_command(fixtures_group)


def _register_optional() -> None:
    """Attach command groups that live in their own modules."""
    import importlib

    for module, names in (
        ("registrar.cli.domain_commands", ("domain_group",)),
        ("registrar.cli.contact_commands", ("contact_group",)),
        ("registrar.cli.host_commands", ("host_group",)),
        ("registrar.cli.preview_commands", ("whois_command", "rdap_command")),
        ("registrar.cli.privacy_commands", ("verification_group", "retention_group", "audit_command")),
        ("registrar.cli.sync_commands", ("sync_command", "test_registry_command")),
    ):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name == module:
                continue
            raise
        for name in names:
            if hasattr(mod, name):
                cli.add_command(getattr(mod, name))


_register_optional()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="registrar")
