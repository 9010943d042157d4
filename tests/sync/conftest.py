"""Fixtures for the registry sync tests: the EPP test registry over real TLS, fixture data, config.

``world(data_model)`` starts a test registry (serving .test and .example, registrar-a bound to its
client certificate), seeds the name servers of other registrars that the fixture data uses
(``a/b.ns.anycast-provider.test``, ``ns.sample-cloud.example``), loads ``fixtures/`` into a fresh
database (``empty_db_url``: SQLite, plus PostgreSQL where the test asks for ``backend``) and
returns a :class:`World` with ``sync()`` that runs the engine against it (no sleeping; every
outgoing frame also validated client-side).
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from registrar import fixtures
from registrar.config import Config, load_config
from registrar.epp.test_registry import EppTestRegistry
from registrar.epp.test_registry_state import RegistrarAccount
from registrar.epp.test_registry_state import RegistryConfig as TestRegistryConfig
from registrar.epp.testca import CertPair, TestPKI, cert_fingerprint
from registrar.models import Domain
from registrar.publication.record import build_public_record
from registrar.storage import Database, find_domain
from registrar.sync.engine import SyncOptions, run_sync
from registrar.sync.local import served_tld
from registrar.sync.payload import desired_domain
from registrar.sync.report import SyncReport

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_FILE = ROOT / "fixtures" / "registrations.toml"
PASSWORDS = {"registrar-a": "secret-A1", "registrar-b": "secret-B1"}
PW_VAR = "SYNC_TEST_EPP_PASSWORD"
THIRD_PARTY = {"anycast-provider.test": ["a.ns.anycast-provider.test", "b.ns.anycast-provider.test"],
               "sample-cloud.example": ["ns.sample-cloud.example"]}




def start_registry(pki: TestPKI, data_model: str, *, server: CertPair | None = None,
                   **overrides: Any) -> EppTestRegistry:
    """A started test registry with the third-party name servers seeded."""
    accounts = (RegistrarAccount("registrar-a", PASSWORDS["registrar-a"],
                                 cert_fingerprint(pki.client("registrar-a").cert)),
                RegistrarAccount("registrar-b", PASSWORDS["registrar-b"]))
    cfg = TestRegistryConfig(accounts=accounts, tlds=("test", "example"), data_model=data_model,  # type: ignore[arg-type]
                             **overrides)
    srv = server or pki.server
    reg = EppTestRegistry(cfg, cert_file=srv.cert, key_file=srv.key, ca_file=pki.ca.cert).start()
    for dom, hosts in THIRD_PARTY.items():
        reg.seed_domain("registrar-b", dom)
        for h in hosts:
            reg.seed_host("registrar-b", h, ["192.0.2.99"])
    return reg


def make_config(reg: EppTestRegistry, pki: TestPKI, tmp_path: Path, data_model: str, *,
                ca: Path | None = None, **sync: Any) -> Config:
    """A configuration with one registry ``t`` pointing at ``reg``."""
    client = pki.client("registrar-a")
    registry = {"name": "t", "tlds": ["test", "example"], "host": "127.0.0.1", "port": reg.port,
                "client_certificate": str(client.cert), "client_key": str(client.key),
                "ca_bundle": str(ca or pki.ca.cert), "client_id": "registrar-a", "password_env": PW_VAR,
                "data_model": data_model, "timeout": 5.0}
    registry.update(sync.pop("registry", {}))
    return load_config(overrides={"sync": {"lock_file": str(tmp_path / "sync.lock"), "max_retries": 3,
                                           "backoff_base": 0.5, "registries": [registry], **sync}})


@dataclass
class World:
    """A registry, a database with the fixtures and a config pointing at the registry."""

    reg: EppTestRegistry
    db: Database
    config: Config
    data_model: str
    sleeps: list[float] = field(default_factory=list)

    def sync(self, *, password: str = PASSWORDS["registrar-a"], **kwargs: Any) -> SyncReport:
        """Run the sync (options: dry_run, full, on_command, only ...)."""
        opts: dict[str, Any] = {k: kwargs.pop(k) for k in ("on_command", "only") if k in kwargs}
        options = SyncOptions(sleep=self.sleeps.append, environ={PW_VAR: password}, validate_outgoing=True,
                              **opts)
        return run_sync(self.config, self.db, actor="sync-test", options=options, **kwargs)

    def live_domains(self) -> list[str]:
        """Live local domains of the registry's TLDs."""
        with self.db.transaction() as s:
            names = s.scalars(select(Domain.ldh_name).where(Domain.deleted_at.is_(None))).all()
        return sorted(n for n in names if served_tld(n, ("test", "example")))

    def mismatches(self) -> list[str]:
        """Differences between the local data (as the payload renders it) and the registry."""
        registry = self.config.sync.registries[0]
        out = []
        with self.db.transaction() as s:
            for name in self.live_domains():
                d = find_domain(s, name)
                assert d is not None
                want = desired_domain(build_public_record(d, self.config.registrar, self.config.privacy), registry,
                                      self.config.privacy)
                have = self.reg.domain(name)
                if have is None:
                    out.append(f"{name}: missing at the registry")
                    continue
                if have.cl_id != "registrar-a":
                    out.append(f"{name}: sponsored by {have.cl_id}")
                if sorted(have.nameservers) != sorted(want.nameservers):
                    out.append(f"{name}: ns {have.nameservers} != {want.nameservers}")
                client = {x for x in have.statuses if x.startswith("client")}
                if client != set(want.client_statuses):
                    out.append(f"{name}: statuses {client} != {set(want.client_statuses)}")
                if sorted(map(repr, have.ds)) != sorted(map(repr, want.ds)):
                    out.append(f"{name}: ds differ")
                if have.auth_pw != d.auth_info:
                    out.append(f"{name}: authInfo differs")
                if self.data_model == "thick-public":
                    assert want.registrant is not None
                    if have.registrant != want.registrant.id:
                        out.append(f"{name}: registrant {have.registrant}")
                    if have.contacts != ([("tech", want.tech.id)] if want.tech else []):
                        out.append(f"{name}: contacts {have.contacts}")
                else:
                    if have.registrant is not None or have.contacts:
                        out.append(f"{name}: contacts at a minimum registry")
                for h in want.hosts:
                    host = self.reg.host_object(h.name)
                    if host is None:
                        out.append(f"{name}: host {h.name} missing")
                    elif host.cl_id == "registrar-a" and sorted(a for a, _ in host.addresses) != sorted(h.addresses):
                        out.append(f"{name}: glue of {h.name} {host.addresses} != {h.addresses}")
        return out


MakeWorld = Callable[..., World]
_TEMPLATES: dict[bool, Path] = {}


def sqlite_copy(factory: pytest.TempPathFactory, target: Path, *, load: bool) -> str:
    """A fresh SQLite database (migrated, with or without the fixtures): a copy of a per-session template."""
    if load not in _TEMPLATES:
        from registrar.storage import upgrade

        path = factory.mktemp("sync-template") / "template.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        if load:
            db = Database(url)
            fixtures.load(db, [FIXTURE_FILE])
            db.dispose()
        with sqlite3.connect(path) as conn:  # fold the WAL into the file before copying it
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        _TEMPLATES[load] = path
    shutil.copyfile(_TEMPLATES[load], target)
    return f"sqlite:///{target}"


@pytest.fixture
def make_world(xsd_dir: Path, pki: TestPKI, tmp_path: Path,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[MakeWorld]:
    """Factory: ``make_world(data_model, url=None, load=True, **config)`` -> :class:`World`.

    Without ``url`` the database is a SQLite copy of a per-session template; with one (e.g.
    ``empty_db_url``), the fixtures are loaded into it.
    """
    started: list[tuple[EppTestRegistry, Database]] = []

    def make(data_model: str = "minimum", url: str | None = None, *, load: bool = True,
             registry_overrides: dict[str, Any] | None = None, server: CertPair | None = None,
             **sync: Any) -> World:
        if url is None:
            db = Database(sqlite_copy(tmp_path_factory, tmp_path / f"sync-{len(started)}.db", load=load))
        else:
            db = Database(url)
            if load:
                fixtures.load(db, [FIXTURE_FILE])
        reg = start_registry(pki, data_model, server=server, **(registry_overrides or {}))
        started.append((reg, db))
        return World(reg, db, make_config(reg, pki, tmp_path, data_model, **sync), data_model)

    yield make
    for reg, db in started:
        reg.stop()
        db.dispose()
        assert reg.response_schema_errors == [], "the test registry sent schema-invalid frames"


def transforms(reg: EppTestRegistry) -> list[tuple[str, str | None, str | None]]:
    """(kind, object type, name) of every transform the registry recorded."""
    return [(f.kind or "", f.summary.object_type if f.summary else None, f.summary.name if f.summary else None)
            for f in reg.transforms()]
