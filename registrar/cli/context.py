"""Shared state of one ``registrar`` invocation: config, database, actor, output mode."""

from __future__ import annotations

import getpass
import json
import sys
from dataclasses import dataclass, field
from typing import Any

import click

from registrar.config import Config, ConfigError, load_config, resolve_database_url
from registrar.storage import Database


@dataclass
class CliContext:
    """Lazily built config and database for the command being run."""

    db_url_option: str | None
    config_path: str | None
    actor: str
    json_output: bool
    _config: Config | None = field(default=None, repr=False)
    _db: Database | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        """The validated configuration (exit code 2 with the key named when invalid)."""
        if self._config is None:
            try:
                self._config = load_config(self.config_path)
            except ConfigError as exc:
                raise click.UsageError(f"configuration: {exc}") from None
        return self._config

    @property
    def db_url(self) -> str:
        """The database URL after ``--db`` / environment / config resolution."""
        return resolve_database_url(self.db_url_option, self.config)

    @property
    def db(self) -> Database:
        """The storage gateway for this invocation."""
        if self._db is None:
            self._db = Database(self.db_url, pool_size=self.config.database.pool_size)
        return self._db

    def emit(self, data: Any, human: str | None = None) -> None:
        """Print ``data`` as JSON with ``--json``, else the human text (or JSON when none is given)."""
        if self.json_output or human is None:
            click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        else:
            click.echo(human)

    def close(self) -> None:
        """Release database connections."""
        if self._db is not None:
            self._db.dispose()


def default_actor() -> str:
    """The OS user running the command."""
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no passwd entry
        return "unknown"


def pass_ctx(fn: Any) -> Any:
    """Decorator: pass the :class:`CliContext` as first argument."""
    return click.pass_obj(fn)


def fail(message: str, code: int = 1) -> None:
    """Print an error to stderr and exit with ``code``."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)
