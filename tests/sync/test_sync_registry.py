"""The registry sync against the EPP test registry over TLS, in both data models."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from registrar.models import Contact, Domain, JournalEntry, SyncCursor, SyncIssue
from registrar.operations import DomainUpdate, delete_domain, restore_domain, set_consent, update_domain
from registrar.sync.payload import epp_contact_id
from tests.sync.conftest import MakeWorld, World, transforms

MODELS = ["minimum", "thick-public"]
NOW = datetime(2026, 12, 1, tzinfo=UTC)
NEW_DS = "12345 13 2 " + "C0FFEE" * 10 + "ABCD"


def change(world: World, name: str, upd: DomainUpdate) -> None:
    with world.db.transaction() as s:
        update_domain(s, name, upd, actor="staff", now=NOW)


def updates_by_domain(world: World) -> dict[str, int]:
    out: dict[str, int] = {}
    for kind, obj, name in transforms(world.reg):
        if obj == "domain" and name:
            out[f"{kind}:{name}"] = out.get(f"{kind}:{name}", 0) + 1
    return out


@pytest.mark.parametrize("data_model", MODELS)
def test_first_run_creates_everything_and_second_run_sends_nothing(make_world: MakeWorld, data_model: str,
                                                                   empty_db_url: str) -> None:
    world = make_world(data_model, empty_db_url)
    with world.db.transaction() as s:
        last_entry = s.scalar(select(func.max(JournalEntry.id)))
    report = world.sync()
    reg_report = report.registries[0]
    assert report.ok, report.human()
    assert reg_report.error is None
    assert world.mismatches() == []
    created = {n for k, o, n in transforms(world.reg) if k == "create" and o == "domain"}
    assert created == set(world.live_domains())
    # every internal host with its glue, every DS set
    assert world.reg.host_object("ns4.dns-hosting.example").addresses == [("203.0.113.53", "v4"),
                                                                           ("203.0.113.54", "v4")]
    assert len(world.reg.domain("dns-hosting.example").ds) == 2
    assert world.reg.invalid_frames() == []
    if data_model == "minimum":
        assert not [t for t in transforms(world.reg) if t[1] == "contact"]
    # registry ROIDs / statuses / expiry stored locally
    with world.db.transaction() as s:
        d = s.scalars(select(Domain).where(Domain.ldh_name == "acme-widgets.example")).one()
        at_registry = world.reg.domain("acme-widgets.example")
        assert d.registry_roid == at_registry.roid
        assert d.registry_expires_at == at_registry.expires.replace(microsecond=0)
        assert "clientTransferProhibited" in d.statuses
        suspended = s.scalars(select(Domain).where(Domain.ldh_name == "suspended-sample.example")).one()
        assert "serverHold" not in suspended.statuses  # the registry is the authority for server statuses
        cursor = s.get(SyncCursor, "t")
        assert cursor is not None and cursor.journal_id == last_entry  # the sync's own entries come later
        assert s.scalar(select(func.count()).select_from(SyncIssue)) == 0

    world.reg.clear_records()
    again = world.sync()
    assert again.ok and transforms(world.reg) == []
    assert again.registries[0].counts()["pushed"] == 0
    full = world.sync(full=True)
    assert full.ok and transforms(world.reg) == []
    assert full.registries[0].counts()["unchanged"] >= len(world.live_domains())
    assert world.reg.invalid_frames() == []


@pytest.mark.parametrize("data_model", MODELS)
def test_each_change_produces_exactly_one_update(make_world: MakeWorld, data_model: str) -> None:
    world = make_world(data_model)
    assert world.sync().ok

    def one_update(name: str) -> None:
        world.reg.clear_records()
        report = world.sync()
        assert report.ok, report.human()
        assert transforms(world.reg) == [("update", "domain", name)]
        assert world.mismatches() == []

    change(world, "harbour-bakery.example", DomainUpdate(add_nameservers=["ns3.dns-hosting.example"],
                                                         remove_nameservers=["ns2.example.net"]))
    one_update("harbour-bakery.example")
    change(world, "jane-sample.test", DomainUpdate(add_ds=[NEW_DS]))
    one_update("jane-sample.test")
    change(world, "legacy-since-2009.example", DomainUpdate(add_statuses=["clientHold"]))
    one_update("legacy-since-2009.example")
    change(world, "jane-sample.test", DomainUpdate(remove_all_ds=True))
    one_update("jane-sample.test")

    # consent: only thick-public sends contact data; the domains themselves do not change
    with world.db.transaction() as s:
        set_consent(s, "MUSTERMANN-E", ["city"], True, actor="staff", now=NOW)
    world.reg.clear_records()
    assert world.sync().ok
    if data_model == "thick-public":
        with world.db.transaction() as s:
            holder = s.scalars(select(Contact.id).where(Contact.handle == "MUSTERMANN-E")).one()
            held = s.scalars(select(Domain.ldh_name).where(Domain.registrant_id == holder,
                                                           Domain.deleted_at.is_(None))).all()
        assert len(held) >= 2  # one contact object per registration: one contact:update each
        assert sorted(transforms(world.reg)) == sorted(("update", "contact", epp_contact_id(d, "registrant"))
                                                       for d in held)
        contact = world.reg.contact(epp_contact_id("erika-mustermann.example", "registrant"))
        assert contact is not None
        assert contact.postal["loc"].city == "Mustermünster"
        assert contact.disclose is not None and ("addr", "loc") in contact.disclose[1]  # street still redacted
    else:
        assert transforms(world.reg) == []
    world.reg.clear_records()
    assert world.sync(full=True).ok and transforms(world.reg) == []


def test_consent_all_then_withdraw_then_grant_is_idempotent(make_world: MakeWorld) -> None:
    """disclose flag=0 lists shrink to nothing (flag=1) and grow again, one update each, then nothing."""
    world = make_world("thick-public")
    assert world.sync().ok
    cid = epp_contact_id("openfield-consulting.example", "registrant")
    for granted in (False, True):
        with world.db.transaction() as s:
            set_consent(s, "ALLCONSENT", ["name", "email"], granted, actor="staff", now=NOW)
        world.reg.clear_records()
        assert world.sync().ok
        kinds = {t for t in transforms(world.reg)}
        assert ("update", "contact", cid) in kinds
        assert not [t for t in kinds if t[1] == "domain"]
        contact = world.reg.contact(cid)
        assert contact is not None and contact.disclose is not None
        assert contact.disclose[0] is granted  # flag=0 while withdrawn, flag=1 once all is public again
        world.reg.clear_records()
        assert world.sync(full=True).ok and transforms(world.reg) == []
    assert world.reg.invalid_frames() == []


def test_dry_run_sends_no_transform_records_nothing(make_world: MakeWorld) -> None:
    world = make_world("thick-public")
    with world.db.transaction() as s:
        journal_before = s.scalar(select(func.count()).select_from(JournalEntry))
    report = world.sync(dry_run=True)
    assert report.ok
    assert transforms(world.reg) == []
    r = report.registries[0]
    assert r.counts()["pushed"] == len(world.live_domains())
    created = next(o for o in r.domains if o.domain == "acme-widgets.example")
    assert any(c.startswith("domain:create acme-widgets.example") for c in created.changes)
    create_frame = next(f for f in created.frames if "<domain:create" in f)
    assert "<domain:pw>***</domain:pw>" in create_frame
    assert all("<contact:pw>***</contact:pw>" in f for f in created.frames if "<contact:create" in f)
    with world.db.transaction() as s:
        assert s.get(SyncCursor, "t") is None
        assert s.scalar(select(func.count()).select_from(JournalEntry)) == journal_before
        assert s.scalar(select(func.count()).select_from(SyncIssue)) == 0
        auth = s.scalars(select(Domain.auth_info).where(Domain.ldh_name == "acme-widgets.example")).one()
    assert auth not in report.human(with_frames=True)
    assert auth not in str(report.as_dict(with_frames=True))

    assert world.sync().ok
    change(world, "legacy-since-2009.example", DomainUpdate(add_statuses=["clientHold"]))
    world.reg.clear_records()
    dry = world.sync(dry_run=True)
    assert transforms(world.reg) == []
    outcome = [o for o in dry.registries[0].domains if o.result == "pushed"]
    assert [o.domain for o in outcome] == ["legacy-since-2009.example"]
    assert outcome[0].changes == ["domain:update legacy-since-2009.example: status +clientHold"]
    assert world.sync().ok and transforms(world.reg) == [("update", "domain", "legacy-since-2009.example")]


def test_cursor_holds_at_a_skipped_domain_and_catches_up(make_world: MakeWorld) -> None:
    world = make_world("minimum")
    assert world.sync().ok
    world.reg.set_status("domain", "legacy-since-2009.example", "serverUpdateProhibited")
    change(world, "legacy-since-2009.example", DomainUpdate(add_statuses=["clientHold"]))
    with world.db.transaction() as s:
        held_at = s.scalar(select(func.max(JournalEntry.id)))
    change(world, "harbour-bakery.example", DomainUpdate(add_statuses=["clientHold"]))
    world.reg.clear_records()
    report = world.sync()
    r = report.registries[0]
    assert report.ok  # skipped, not failed
    skipped = [o for o in r.domains if o.result == "skipped"]
    assert [o.domain for o in skipped] == ["legacy-since-2009.example"]
    assert "serverUpdateProhibited" in (skipped[0].reason or "")
    assert transforms(world.reg) == [("update", "domain", "harbour-bakery.example")]
    assert r.cursor_after == held_at - 1
    with world.db.transaction() as s:
        issue = s.scalars(select(SyncIssue).where(SyncIssue.kind == "skipped")).one()
        assert issue.object_key == "legacy-since-2009.example"
        assert "serverUpdateProhibited" in s.scalars(select(Domain.statuses).where(
            Domain.ldh_name == "legacy-since-2009.example")).one()

    world.reg.set_status("domain", "legacy-since-2009.example", "serverUpdateProhibited", present=False)
    world.reg.clear_records()
    again = world.sync()
    assert again.ok
    assert transforms(world.reg) == [("update", "domain", "legacy-since-2009.example")]
    assert again.registries[0].cursor_after > held_at
    assert world.mismatches() == []


def test_poll_transferred_away_and_deleted_by_registry_are_recorded(make_world: MakeWorld) -> None:
    world = make_world("minimum")
    assert world.sync().ok
    world.reg.transfer_away("harbour-bakery.example", "registrar-b")
    world.reg.delete_by_registry("summer-project.test")
    world.reg.clear_records()
    report = world.sync()
    r = report.registries[0]
    assert report.ok
    assert {p["domain"] for p in r.poll} == {"harbour-bakery.example", "summer-project.test"}
    assert {o.domain for o in r.domains if o.result == "not-ours"} == {"harbour-bakery.example",
                                                                       "summer-project.test"}
    assert world.reg.poll_queue("registrar-a") == []
    assert transforms(world.reg) == []
    with world.db.transaction() as s:
        for name in ("harbour-bakery.example", "summer-project.test"):
            d = s.scalars(select(Domain).where(Domain.ldh_name == name)).one()  # the row is kept
            assert d.deleted_at is not None and d.sponsorship_ended_at is not None
        issues = s.scalars(select(SyncIssue).where(SyncIssue.kind == "not-ours")).all()
        assert {i.object_key for i in issues} == {"harbour-bakery.example", "summer-project.test"}
        assert any("transferred to registrar-b" in i.detail for i in issues)
        assert any("deleted by the registry" in i.detail for i in issues)
    # never touched again, not re-created
    world.reg.clear_records()
    assert world.sync(full=True).ok and transforms(world.reg) == []
    assert world.reg.domain("harbour-bakery.example").cl_id == "registrar-b"


def test_2201_on_update_records_not_ours(make_world: MakeWorld) -> None:
    world = make_world("minimum")
    assert world.sync().ok
    world.reg.transfer_away("voorbeeld-fietsen.example", "registrar-b", notify=False)
    change(world, "voorbeeld-fietsen.example", DomainUpdate(add_statuses=["clientHold"]))
    report = world.sync()
    r = report.registries[0]
    assert [o.result for o in r.domains if o.domain == "voorbeeld-fietsen.example"] == ["not-ours"]
    with world.db.transaction() as s:
        d = s.scalars(select(Domain).where(Domain.ldh_name == "voorbeeld-fietsen.example")).one()
        assert d.deleted_at is not None


def test_local_delete_is_pushed_and_restore_requested(make_world: MakeWorld) -> None:
    world = make_world("minimum")
    assert world.sync().ok
    with world.db.transaction() as s:
        delete_domain(s, "long-name-holdings.example", actor="staff", now=NOW)
    world.reg.clear_records()
    assert world.sync().ok
    assert transforms(world.reg) == [("delete", "domain", "long-name-holdings.example")]
    assert "pendingDelete" in world.reg.domain("long-name-holdings.example").statuses
    world.reg.clear_records()
    assert world.sync(full=True).ok and transforms(world.reg) == []
    with world.db.transaction() as s:
        restore_domain(s, "long-name-holdings.example", actor="staff", now=NOW)
    assert world.sync().ok
    assert "pendingDelete" not in world.reg.domain("long-name-holdings.example").statuses
    assert world.mismatches() == []


def test_client_update_prohibited_is_lifted_and_restored_in_place(make_world: MakeWorld) -> None:
    world = make_world("minimum")
    assert world.sync().ok
    # the registry lost a name server of a locked domain (e.g. changed by hand): we put it back
    with world.reg.state.lock:
        world.reg.state.domains["locked-brand.example"].nameservers.remove("ns2.dns-hosting.example")
    world.reg.clear_records()
    assert world.sync(full=True).ok
    assert transforms(world.reg) == [("update", "domain", "locked-brand.example")] * 2
    assert world.mismatches() == []


def test_lock_blocks_a_second_run(make_world: MakeWorld) -> None:
    from registrar.sync.engine import SyncLocked, sync_lock

    world = make_world("minimum", load=False)
    with sync_lock(world.config.sync.lock_file), pytest.raises(SyncLocked, match="another"):
        world.sync()
    assert world.sync().ok  # released


def test_host_change_updates_the_host_only_and_non_public_changes_send_nothing(make_world: MakeWorld) -> None:
    from registrar.operations import update_contact, update_host

    world = make_world("thick-public")
    assert world.sync().ok
    with world.db.transaction() as s:
        update_host(s, "ns4.dns-hosting.example", add=["203.0.113.55"], remove=["203.0.113.54"], actor="staff",
                    now=NOW)
    world.reg.clear_records()
    report = world.sync()
    assert report.ok
    assert transforms(world.reg) == [("update", "host", "ns4.dns-hosting.example")]
    assert sorted(a for a, _ in world.reg.host_object("ns4.dns-hosting.example").addresses) == [
        "203.0.113.53", "203.0.113.55"]
    # a change to redacted data (no consent for the street) reaches the work list but sends nothing
    with world.db.transaction() as s:
        update_contact(s, "JSAMPLE01", {"street": ["9 Other Street"]}, actor="staff", now=NOW)
    world.reg.clear_records()
    report = world.sync()
    assert report.ok and report.registries[0].counts()["unchanged"] >= 2
    assert transforms(world.reg) == []
    assert not any(b"Other Street" in f.data for f in world.reg.frames)


def test_name_servers_under_a_later_domain_wait_for_it(make_world: MakeWorld) -> None:
    world = make_world("minimum")
    report = world.sync(only=["jane-sample.test"])  # its name servers live under dns-hosting.example
    assert report.ok, report.human()
    assert [o.domain for o in report.registries[0].domains] == ["dns-hosting.example", "jane-sample.test"]
    assert sorted(world.reg.domain("jane-sample.test").nameservers) == ["ns1.dns-hosting.example",
                                                                         "ns2.dns-hosting.example"]
    assert world.reg.invalid_frames() == []


def test_a_name_server_nobody_can_create_fails_the_domain(make_world: MakeWorld) -> None:
    from registrar.operations import create_host

    world = make_world("minimum")
    assert world.sync().ok
    with world.db.transaction() as s:
        create_host(s, "ns1.nobody-runs-this.test", actor="staff", now=NOW)
    change(world, "legacy-since-2009.example", DomainUpdate(add_nameservers=["ns1.nobody-runs-this.test"]))
    world.reg.clear_records()
    report = world.sync()
    assert not report.ok
    [failed] = [o for o in report.registries[0].domains if o.result == "failed"]
    assert failed.domain == "legacy-since-2009.example"
    assert "needs glue" in (failed.reason or "")
    assert transforms(world.reg) == []  # nothing else to change; the cursor waits for the host


def test_a_record_in_the_deletion_cycle_is_never_restored(make_world: MakeWorld) -> None:
    """Registry and record both show redemption: no RGP restore (only a staff restore asks for one)."""
    world = make_world("minimum")
    assert world.sync().ok
    with world.reg.state.lock:  # the registry deleted it as asked: redemption
        stored = world.reg.state.domains["closing-down.example"]
        stored.statuses = {"pendingDelete"}
        stored.rgp_statuses = {"redemptionPeriod"}
    world.reg.clear_records()
    world.sync(full=True)
    assert ("update", "domain", "closing-down.example") not in transforms(world.reg)
    assert not any(b"restore" in f.data for f in world.reg.frames)

