"""Shared test infrastructure: databases on SQLite and PostgreSQL, fixture data, real servers.

* ``backend`` runs a test on SQLite and on PostgreSQL. PostgreSQL tests need the server on
  127.0.0.1:5432 (database ``test``); without one they skip with the reason, except under
  ``CI=true``, where they fail.
* Isolation on PostgreSQL: every database a test gets is a fresh schema in database ``test``
  (``rdds_t_<random>``), dropped afterwards. A guard refuses any database other than ``test``.
* ``empty_db_url``: a migrated, empty database for one test.
* ``fixture_db_url``: the migrated database with ``fixtures/`` loaded, shared by read-only tests
  of a session (one per backend).
* ``start_server``: starts the real ``whois-server`` process on ephemeral ports against a
  database, with config overrides, and stops it (SIGTERM) at the end of the test.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
PG_ADMIN_URL = os.environ.get("REGISTRAR_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _pg_reachable() -> str | None:
    """None when PostgreSQL answers, else the reason."""
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(PG_ADMIN_URL)
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN_URL} ({type(exc).__name__})"


_PG_REASON: list[str | None] = []


def require_postgres() -> None:
    """Skip (or, under CI=true, fail) when PostgreSQL is not reachable."""
    if not _PG_REASON:
        _PG_REASON.append(_pg_reachable())
    reason = _PG_REASON[0]
    if reason is not None:
        if IN_CI:
            pytest.fail(f"{reason}; CI=true requires the PostgreSQL tests to run")
        pytest.skip(reason)


def _pg_schema_url(schema: str) -> str:
    return f"{PG_ADMIN_URL}?options=-csearch_path%3D{schema}"


@contextlib.contextmanager
def _pg_schema() -> Iterator[str]:
    import sqlalchemy as sa

    if not PG_ADMIN_URL.rsplit("/", 1)[-1].startswith("test"):
        raise RuntimeError("refusing to use a PostgreSQL database whose name does not start with 'test'")
    schema = f"rdds_t_{secrets.token_hex(6)}"
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        yield _pg_schema_url(schema)
    finally:
        assert re.fullmatch(r"rdds_t_[0-9a-f]{12}", schema)
        with engine.connect() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


@contextlib.contextmanager
def make_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated, empty database URL on ``backend``."""
    from registrar.storage import upgrade

    if backend == "postgres":
        require_postgres()
        with _pg_schema() as url:
            upgrade(url)
            yield url
    else:
        path = tmp_path / f"rdds-{secrets.token_hex(4)}.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """Each test using this runs on SQLite and on PostgreSQL."""
    return str(request.param)


@pytest.fixture
def empty_db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database for one test."""
    with make_database(backend, tmp_path) as url:
        yield url


_FIXTURE_DBS: dict[str, str] = {}


@pytest.fixture(scope="session")
def _fixture_db_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[contextlib.ExitStack]:
    with contextlib.ExitStack() as stack:
        yield stack


@pytest.fixture
def fixture_db_url(backend: str, tmp_path_factory: pytest.TempPathFactory,
                   _fixture_db_stack: contextlib.ExitStack) -> str:
    """The database with ``fixtures/`` loaded; shared by the session's read-only tests."""
    if backend == "postgres":
        require_postgres()
    if backend not in _FIXTURE_DBS:
        from registrar.fixtures import load
        from registrar.storage import Database

        url = _fixture_db_stack.enter_context(make_database(backend, tmp_path_factory.mktemp("fixturedb")))
        db = Database(url)
        load(db, [FIXTURES / "registrations.toml"])
        db.dispose()
        _FIXTURE_DBS[backend] = url
    return _FIXTURE_DBS[backend]


def write_config(path: Path, overrides: dict[str, dict[str, Any]]) -> Path:
    """Write ``fixtures/config.toml`` merged with ``overrides`` to ``path``."""
    from registrar.config import merged_config_text

    path.write_text(merged_config_text(FIXTURES / "config.toml", overrides), encoding="utf-8")
    return path


TEST_SERVER_DEFAULTS: dict[str, dict[str, Any]] = {
    "server": {"cache_ttl": 0.0, "host": "127.0.0.1"},
    "ratelimit": {"enabled": False},
}


@dataclass
class RunningServer:
    """A ``whois-server`` process started by a test."""

    process: subprocess.Popen[bytes]
    whois_port: int
    rdap_port: int
    host: str
    log_path: Path

    @property
    def rdap_base(self) -> str:
        """``http://host:port`` of the RDAP listener."""
        return f"http://{self.host}:{self.rdap_port}"

    def log(self) -> str:
        """What the server wrote to stderr so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        """Signal the process and wait for it; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return int(self.process.returncode)


PORT_RE = re.compile(r"(WHOIS|RDAP) listening on \S+ port (\d+)")


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., RunningServer]]:
    """Factory: ``start_server(db_url, overrides=None, workers=1)`` → :class:`RunningServer`."""
    started: list[RunningServer] = []

    def start(db_url: str, overrides: dict[str, dict[str, Any]] | None = None, workers: int = 1,
              extra_env: dict[str, str] | None = None) -> RunningServer:
        merged: dict[str, dict[str, Any]] = {k: dict(v) for k, v in TEST_SERVER_DEFAULTS.items()}
        for table, values in (overrides or {}).items():
            merged.setdefault(table, {}).update(values)
        merged.setdefault("whois", {})["port"] = 0
        merged.setdefault("rdap", {})["port"] = 0
        merged["server"]["workers"] = workers
        config = write_config(tmp_path / f"server-{len(started)}.toml", merged)
        log_path = tmp_path / f"server-{len(started)}.log"
        env = dict(os.environ, **(extra_env or {}))
        env.pop("REGISTRAR_CONFIG", None)
        with log_path.open("wb") as log_fh:
            proc = subprocess.Popen([sys.executable, "-m", "whois_server.main", "--db", db_url, "--config",
                                     str(config)], stdout=log_fh, stderr=log_fh, cwd=ROOT, env=env)
        deadline = time.monotonic() + 20
        ports: dict[str, int] = {}
        while time.monotonic() < deadline and len(ports) < 2:
            if proc.poll() is not None:
                raise RuntimeError(f"whois-server exited: {log_path.read_text()}")
            for kind, port in PORT_RE.findall(log_path.read_text(errors="replace")):
                ports[kind] = int(port)
            time.sleep(0.05)
        if len(ports) < 2:
            proc.kill()
            raise RuntimeError(f"whois-server did not report its ports: {log_path.read_text()}")
        server = RunningServer(process=proc, whois_port=ports["WHOIS"], rdap_port=ports["RDAP"],
                               host="127.0.0.1", log_path=log_path)
        _wait_accepting(server)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def _wait_accepting(server: RunningServer) -> None:
    import socket

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((server.host, server.rdap_port), timeout=1) as s:
                s.sendall(b"GET /help HTTP/1.0\r\n\r\n")
                if s.recv(12).startswith(b"HTTP/1."):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"whois-server is not answering: {server.log()}")


def require_xsds() -> Path:
    """The EPP XSD directory; fail under CI=true, otherwise skip, when it is incomplete."""
    from registrar.epp import schema

    directory = schema.default_xsd_dir()
    missing = schema.missing_files(directory)
    if missing:
        msg = f"EPP XSDs not found in {directory} (set ${schema.ENV_VAR}); missing: {', '.join(missing)}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    return directory


@pytest.fixture(scope="session")
def xsd_dir() -> Path:
    """The EPP XSD directory (skips, or under CI=true fails, the test when missing)."""
    return require_xsds()


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One throw-away PKI (CA, server and client certificates) for the session's EPP tests."""
    from registrar.epp.testca import create_test_pki

    return create_test_pki(tmp_path_factory.mktemp("pki"))
