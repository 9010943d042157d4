"""Faults: dropped connections after a command was applied, 2400 bursts, 2502, certificates,
credentials, and a run killed midway followed by a rerun -- the end state matches the local data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from registrar.epp.test_registry import command_is
from registrar.epp.testca import TestPKI
from registrar.models import Contact, Domain, Host, JournalEntry, SyncCursor, SyncIssue
from registrar.operations import DomainUpdate, update_domain
from tests.sync.conftest import MakeWorld, World, transforms

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def hold(world: World, name: str = "legacy-since-2009.example") -> str:
    with world.db.transaction() as s:
        update_domain(s, name, DomainUpdate(add_statuses=["clientHold"]), actor="staff", now=NOW)
    return name


def local_state(world: World) -> dict[str, Any]:
    """What must survive any fault: every row, its deletion marker, its links."""
    with world.db.transaction() as s:
        return {
            "domains": sorted((d.ldh_name, d.deleted_at, d.registrant_id, d.tech_id, tuple(d.ds_records and
                               [x.digest for x in d.ds_records]), tuple(n.host_id for n in d.nameservers))
                              for d in s.scalars(select(Domain))),
            "contacts": s.scalar(select(func.count()).select_from(Contact)),
            "hosts": s.scalar(select(func.count()).select_from(Host)),
        }


def no_blind_resend(world: World) -> None:
    """Nothing was created twice (a blind resend would have got 2302) and every frame was valid."""
    assert [f.summary for f in world.reg.frames if f.result_code == 2302] == []
    assert world.reg.invalid_frames() == []


@pytest.mark.parametrize("data_model", ["minimum", "thick-public"])
def test_connection_dropped_after_creates_were_applied(make_world: MakeWorld, data_model: str) -> None:
    world = make_world(data_model)
    for obj in ("domain", "host", "contact"):
        world.reg.faults.drop_after_apply(1, when=command_is("create", obj))
    report = world.sync()
    assert report.ok, report.human()
    assert report.registries[0].reconnects == (3 if data_model == "thick-public" else 2)
    assert world.mismatches() == []
    no_blind_resend(world)
    world.reg.clear_records()
    assert world.sync(full=True).ok and transforms(world.reg) == []


def test_connection_dropped_after_update_is_not_resent(make_world: MakeWorld) -> None:
    world = make_world("minimum")
    assert world.sync().ok
    name = hold(world)
    world.reg.faults.drop_after_apply(1, when=command_is("update", "domain"))
    world.reg.clear_records()
    report = world.sync()
    assert report.ok, report.human()
    assert transforms(world.reg) == [("update", "domain", name)]  # applied once, re-read, not resent
    assert report.registries[0].reconnects == 1
    [outcome] = [o for o in report.registries[0].domains if o.domain == name]
    assert outcome.result == "pushed" and any("connection lost" in n for n in outcome.notes)
    assert world.mismatches() == []


def test_2400_burst_is_retried_with_backoff(make_world: MakeWorld) -> None:
    world = make_world("minimum")
    assert world.sync().ok
    hold(world)
    world.reg.faults.fail_with_2400(3, when=command_is("update", "domain"))
    world.reg.faults.fail_with_2400(2, when=command_is("info", "host"))
    world.reg.clear_records()
    world.sleeps.clear()
    report = world.sync()
    assert report.ok, report.human()
    assert [f.result_code for f in world.reg.transforms()] == [2400, 2400, 2400, 1000]
    assert world.sleeps == [0.5, 1.0, 0.5, 1.0, 2.0]  # backoff_base 0.5, doubling per retry
    assert world.mismatches() == []


def test_2400_burst_longer_than_the_retries_fails_the_domain_and_holds_the_cursor(make_world: MakeWorld) -> None:
    world = make_world("minimum")
    assert world.sync().ok
    name = hold(world)
    with world.db.transaction() as s:
        entry = s.scalar(select(func.max(JournalEntry.id)))
    world.reg.faults.fail_with_2400(4, when=command_is("update", "domain"))  # max_retries = 3
    report = world.sync()
    assert not report.ok
    [failed] = [o for o in report.registries[0].domains if o.result == "failed"]
    assert failed.domain == name and "2400" in (failed.reason or "")
    assert report.registries[0].cursor_after == entry - 1  # held before the failed domain's entry
    with world.db.transaction() as s:
        assert s.scalars(select(SyncIssue.object_key).where(SyncIssue.kind == "failed")).all() == [name]
    world.reg.clear_records()
    assert world.sync().ok
    assert [f.result_code for f in world.reg.transforms()] == [1000]
    assert world.mismatches() == []


def test_2502_reconnects_and_rereads(make_world: MakeWorld) -> None:
    world = make_world("minimum")
    assert world.sync().ok
    hold(world)
    world.reg.faults.fail_with_2502(1, when=command_is("update", "domain"))
    world.reg.faults.fail_with_2502(2, when=command_is("login"))
    world.reg.clear_records()
    report = world.sync()
    assert report.ok, report.human()
    codes = [(f.kind, f.result_code) for f in world.reg.frames if f.kind in ("login", "update")]
    assert codes == [("login", 2502), ("login", 2502), ("login", 1000), ("update", 2502), ("login", 1000),
                     ("update", 1000)]
    assert report.registries[0].reconnects == 1
    assert world.mismatches() == []


def test_wrong_server_certificate_is_refused(make_world: MakeWorld, pki: TestPKI) -> None:
    assert pki.other_server is not None
    world = make_world("minimum", server=pki.other_server)
    report = world.sync()
    r = report.registries[0]
    assert not report.ok
    assert r.error is not None and "certificate" in r.error and "refused" in r.error
    assert world.reg.frames == []  # not a single EPP frame went to the impostor
    assert r.domains == []
    with world.db.transaction() as s:
        assert s.get(SyncCursor, "t") is None
        assert s.scalars(select(SyncIssue.kind)).all() == ["stopped"]


def test_wrong_password_stops_the_registry(make_world: MakeWorld) -> None:
    world = make_world("minimum")
    report = world.sync(password="wrong-pass1")
    assert not report.ok
    error = report.registries[0].error or ""
    assert "2200" in error and "wrong-pass1" not in error
    assert transforms(world.reg) == []


def test_missing_password_variable_stops_the_registry(make_world: MakeWorld) -> None:
    world = make_world("minimum", registry={"password_env": "SYNC_TEST_UNSET_VARIABLE"})
    report = world.sync()
    assert not report.ok and "SYNC_TEST_UNSET_VARIABLE" in (report.registries[0].error or "")
    assert world.reg.frames == []


@pytest.mark.parametrize(("data_model", "kill_after"), [("minimum", 37), ("thick-public", 150)])
def test_killed_run_then_rerun_converges(make_world: MakeWorld, data_model: str, kill_after: int) -> None:
    world = make_world(data_model)
    before = local_state(world)
    seen = 0

    def killer(what: str) -> None:
        nonlocal seen
        seen += 1
        if seen == kill_after:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        world.sync(on_command=killer)
    assert transforms(world.reg)  # it got somewhere
    assert world.mismatches() != []  # ... but not everywhere
    report = world.sync()  # the lock was released
    assert report.ok, report.human()
    assert world.mismatches() == []
    no_blind_resend(world)
    world.reg.clear_records()
    assert world.sync(full=True).ok and transforms(world.reg) == []
    after = local_state(world)
    assert after == before  # nothing lost, duplicated or deleted locally


def test_2304_skips_the_domain_and_reports_it(make_world: MakeWorld) -> None:
    from registrar.operations import update_host

    world = make_world("minimum")
    assert world.sync().ok
    world.reg.set_status("host", "ns4.dns-hosting.example", "serverUpdateProhibited")
    with world.db.transaction() as s:
        update_host(s, "ns4.dns-hosting.example", add=["203.0.113.55"], actor="staff", now=NOW)
    report = world.sync()
    assert report.ok  # skipped is reported, not a failure
    skipped = [o for o in report.registries[0].domains if o.result == "skipped"]
    assert skipped and all("2304" in (o.reason or "") for o in skipped)
    assert {o.domain for o in skipped} >= {"dns-hosting.example"}
    assert [f.result_code for f in world.reg.transforms() if f.summary and f.summary.object_type == "host"][-1] == 2304
    world.reg.set_status("host", "ns4.dns-hosting.example", "serverUpdateProhibited", present=False)
    world.reg.clear_records()
    assert world.sync().ok
    assert transforms(world.reg) == [("update", "host", "ns4.dns-hosting.example")]
