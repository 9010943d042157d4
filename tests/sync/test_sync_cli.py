"""``registrar sync`` and ``registrar test-registry`` through click, with a config file."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from registrar.cli.main import cli
from registrar.epp.testca import TestPKI
from registrar.sync.engine import sync_lock
from tests.sync.conftest import PASSWORDS, PW_VAR, MakeWorld, World, transforms

ROOT = Path(__file__).resolve().parents[2]


def write_config(world: World, path: Path, pki: TestPKI, **extra: str) -> Path:
    client = pki.client("registrar-a")
    reg = world.config.sync.registries[0]
    lines = [
        "[sync]", f'lock_file = "{world.config.sync.lock_file}"', "backoff_base = 0.01", "",
        "[[sync.registries]]", 'name = "test"', 'tlds = ["example", "test"]', 'host = "127.0.0.1"',
        f"port = {reg.port}", f'client_certificate = "{client.cert}"', f'client_key = "{client.key}"',
        f'ca_bundle = "{pki.ca.cert}"', 'client_id = "registrar-a"', f'password_env = "{PW_VAR}"',
        f'data_model = "{world.data_model}"', *(f'{k} = "{v}"' for k, v in extra.items()), "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REGISTRAR_CONFIG", raising=False)
    monkeypatch.delenv("REGISTRAR_DATABASE_URL", raising=False)
    monkeypatch.setenv(PW_VAR, PASSWORDS["registrar-a"])


def invoke(world: World, config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--db", world.db.url, "--config", str(config), "--actor", "cron",
                                      *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_sync_cli_dry_run_then_run_then_json(make_world: MakeWorld, pki: TestPKI, tmp_path: Path) -> None:
    world = make_world("minimum")
    config = write_config(world, tmp_path / "config.toml", pki)
    code, out, err = invoke(world, config, "sync", "--dry-run", "--show-xml")
    assert code == 0, out + err
    assert "would push" in out and "domain:create acme-widgets.example" in out
    assert "<domain:pw>***</domain:pw>" in out
    assert transforms(world.reg) == []

    code, out, err = invoke(world, config, "sync")
    assert code == 0, out + err
    assert re.search(r"registry test \(minimum, 127\.0\.0\.1:\d+\): \d+ pushed, 1 unchanged, 0 skipped, 0 failed",
                     out), out
    assert "cursor: - ->" in out
    assert world.mismatches() == []

    world.reg.clear_records()
    code, out, err = invoke(world, config, "sync", "--json", "--full")
    assert code == 0, out + err
    data = json.loads(out)
    assert data["ok"] is True and data["registries"][0]["summary"]["pushed"] == 0
    assert data["registries"][0]["summary"]["unchanged"] == len(world.live_domains())
    assert transforms(world.reg) == []


def test_sync_cli_exit_codes(make_world: MakeWorld, pki: TestPKI, tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    world = make_world("minimum", load=False)
    config = write_config(world, tmp_path / "config.toml", pki)
    code, _, err = invoke(world, config, "sync", "--registry", "nope")
    assert code == 2 and "unknown registry 'nope'" in err
    with sync_lock(world.config.sync.lock_file):
        code, _, err = invoke(world, config, "sync")
    assert code == 75 and "another `registrar sync` run holds the lock" in err
    monkeypatch.setenv(PW_VAR, "wrong-pass1")
    code, out, _ = invoke(world, config, "sync", "--json")
    assert code == 1
    data = json.loads(out)
    assert data["ok"] is False and "2200" in data["registries"][0]["error"]
    assert "wrong-pass1" not in out
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    code, _, err = invoke(world, empty, "sync")
    assert code == 2 and "no registry configured" in err


def test_sync_cli_reports_failures_with_exit_1(make_world: MakeWorld, pki: TestPKI, tmp_path: Path) -> None:
    world = make_world("minimum")
    config = write_config(world, tmp_path / "config.toml", pki)
    from registrar.epp.test_registry import command_is

    world.reg.faults.fail_with_2400(100, when=command_is("create", "domain", "harbour-bakery.example"))
    code, out, _ = invoke(world, config, "--json", "sync")  # the global --json works as well
    assert code == 1
    data = json.loads(out)
    failed = [d for d in data["registries"][0]["domains"] if d["result"] == "failed"]
    assert [d["domain"] for d in failed] == ["harbour-bakery.example"]
    assert "2400" in failed[0]["reason"]


def test_test_registry_command_serves_a_working_registry(xsd_dir: Path, tmp_path: Path, make_world: MakeWorld) -> None:
    """The demo: start `registrar test-registry`, paste its snippet, export its variable, sync."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("REGISTRAR_CONFIG", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", "from registrar.cli.main import main; main()", "test-registry", "--port", "0",
         "--dir", str(tmp_path / "pki"), "--data-model", "thick-public"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 30
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("export "):
                break
        text = "".join(lines)
        assert "[[sync.registries]]" in text, text + (proc.stderr.read() if proc.poll() is not None else "")
        snippet = text[text.index("[[sync.registries]]"):text.index("\nand set the password")]
        var, password = re.search(r"export (\w+)='([^']+)'", text).groups()  # type: ignore[union-attr]
        world = make_world("thick-public")  # only for its database with the fixtures
        config = tmp_path / "demo.toml"
        config.write_text(f'[sync]\nlock_file = "{tmp_path / "demo.lock"}"\n\n{snippet}\n', encoding="utf-8")
        result = CliRunner(env={var: password}).invoke(
            cli, ["--db", world.db.url, "--config", str(config), "sync", "--json"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["registries"][0]["summary"]["pushed"] == len(world.live_domains())
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "transforms" in err and "0 schema-invalid" in err
