"""Every staff command answers ``--help`` with a description and examples."""

from __future__ import annotations

import click
from click.testing import CliRunner

from registrar.cli.main import cli

MINE = ("contact", "domain", "host", "verification", "retention", "audit", "db", "fixtures")


def _walk(command: click.Command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [path]
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            out += _walk(sub, (*path, name))
    return out


def test_every_command_has_help_with_examples() -> None:
    runner = CliRunner()
    paths = [p for p in _walk(cli) if p and p[0] in MINE]
    assert len(paths) >= 30
    for path in paths:
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, path
        assert "Example" in result.output, f"{' '.join(path)} --help has no example"


def test_usage_errors_exit_2() -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["domain", "renew"]).exit_code == 2
    assert runner.invoke(cli, ["contact", "nosuchcommand"]).exit_code == 2
    assert runner.invoke(cli, ["audit", "--limit", "0"]).exit_code == 2
