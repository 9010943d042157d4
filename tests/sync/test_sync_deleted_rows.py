"""A name may have deleted rows (earlier registrations kept for retention) next to its live row.

The sync means the live row; when there is none, the most recently deleted one (the local delete it
pushes, or the registration whose sponsorship it ends).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from registrar.models import Domain, DomainNameserver, Host
from registrar.operations import DomainUpdate, delete_domain, restore_domain, update_domain
from registrar.sync.local import LocalStore
from tests.sync.conftest import MakeWorld, World, transforms

NOW = datetime(2026, 12, 1, tzinfo=UTC)
LONG_AGO = datetime(2024, 3, 1, tzinfo=UTC)


def _require_live_only_uniqueness(world: World) -> None:
    indexes = {ix["name"] for ix in sa.inspect(world.db.engine).get_indexes("domain")}
    if "uq_domain_ldh_name_live" not in indexes:
        pytest.skip("the schema still makes domain names unique over all rows (no partial unique index "
                    "uq_domain_ldh_name_live): a deleted and a live row of one name cannot exist yet")


def _add_deleted_row(world: World, name: str, *, deleted_at: datetime = LONG_AGO, nameserver: str | None = None,
                     statuses: tuple[str, ...] = ()) -> int:
    """An earlier, deleted registration of ``name`` (copied from its current row)."""
    with world.db.transaction() as s:
        live = s.scalars(select(Domain).where(Domain.ldh_name == name)).one()
        old = Domain(ldh_name=name, unicode_name=live.unicode_name, tld=live.tld, registry_roid="OLD-ROID",
                     created_at=LONG_AGO, updated_at=deleted_at, registrar_expires_at=deleted_at,
                     statuses=list(statuses), rgp_statuses=[], registrant_id=live.registrant_id,
                     auth_info="old-auth-info-1", deleted_at=deleted_at, sponsorship_ended_at=deleted_at)
        if nameserver is not None:
            host = s.scalars(select(Host).where(Host.ldh_name == nameserver)).one()
            old.nameservers.append(DomainNameserver(host=host, position=0))
        s.add(old)
        s.flush()
        return old.id


def _row(world: World, row_id: int) -> Domain:
    with world.db.transaction(readonly=True) as s:
        d = s.get(Domain, row_id)
        assert d is not None
        return d


def _live_id(world: World, name: str) -> int:
    with world.db.transaction(readonly=True) as s:
        return int(s.scalars(select(Domain.id).where(Domain.ldh_name == name, Domain.deleted_at.is_(None))).one())


def test_live_row_is_pushed_and_updated_not_an_old_deleted_one(make_world: MakeWorld) -> None:
    world = make_world("minimum")
    _require_live_only_uniqueness(world)
    name = "harbour-bakery.example"
    old_id = _add_deleted_row(world, name, statuses=("pendingDelete",))
    live_id = _live_id(world, name)
    assert world.sync().ok
    assert world.mismatches() == []
    with world.db.transaction() as s:
        update_domain(s, name, DomainUpdate(add_statuses=["clientHold"]), actor="staff", now=NOW)
    world.reg.clear_records()
    report = world.sync()
    assert report.ok, report.registries[0].domains
    assert transforms(world.reg) == [("update", "domain", name)]
    assert "clientHold" in world.reg.domain(name).statuses
    roid = world.reg.domain(name).roid
    assert _row(world, live_id).registry_roid == roid  # the registry's state went to the live row
    old = _row(world, old_id)
    assert old.registry_roid == "OLD-ROID" and old.statuses == ["pendingDelete"]

    # the registry says it is not ours any more: the live row ends, the old one is left alone
    world.reg.transfer_away(name, "registrar-b")
    report = world.sync()
    assert report.ok
    assert [o.result for o in report.registries[0].domains if o.domain == name] == ["not-ours"]
    live = _row(world, live_id)
    assert live.deleted_at is not None and live.sponsorship_ended_at is not None
    assert _row(world, old_id).sponsorship_ended_at == LONG_AGO


def test_local_delete_and_restore_use_the_latest_deleted_row(make_world: MakeWorld) -> None:
    world = make_world("minimum")
    _require_live_only_uniqueness(world)
    name = "long-name-holdings.example"
    old_id = _add_deleted_row(world, name)  # an earlier registration, long gone (no pendingDelete)
    live_id = _live_id(world, name)
    assert world.sync().ok
    with world.db.transaction() as s:
        delete_domain(s, name, actor="staff", now=NOW)
    world.reg.clear_records()
    report = world.sync()
    assert report.ok
    assert transforms(world.reg) == [("delete", "domain", name)]
    assert "pendingDelete" in world.reg.domain(name).statuses
    assert _row(world, live_id).registry_roid == world.reg.domain(name).roid
    assert _row(world, old_id).registry_roid == "OLD-ROID"
    with world.db.transaction() as s:
        restore_domain(s, name, actor="staff", now=NOW)
    world.reg.clear_records()
    assert world.sync().ok
    assert "pendingDelete" not in world.reg.domain(name).statuses
    assert world.mismatches() == []


def test_host_order_ignores_name_servers_of_deleted_rows(make_world: MakeWorld) -> None:
    """Only a live registration's name servers make another domain of ours go first."""
    world = make_world("minimum")
    _require_live_only_uniqueness(world)
    _add_deleted_row(world, "harbour-bakery.example", nameserver="ns1.acme-widgets.example")
    store = LocalStore(world.db, world.config, world.config.sync.registries[0], actor="t", dry_run=True)
    with world.db.transaction(readonly=True) as s:
        order = store._dependencies_first(s, ["harbour-bakery.example", "acme-widgets.example"])
    assert order == ["harbour-bakery.example", "acme-widgets.example"]
