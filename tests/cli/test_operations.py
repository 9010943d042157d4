"""The write path and privacy functions called directly, with a fixed clock."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from registrar.config import PolicyConfig
from registrar.models import Contact, Domain, JournalEntry
from registrar.operations import (
    PENDING_DELETE_DAYS,
    REDEMPTION_DAYS,
    DomainUpdate,
    Refused,
    add_years,
    create_contact,
    create_domain,
    create_host,
    delete_domain,
    get_domain,
    renew_domain,
    restore_domain,
    update_contact,
    update_domain,
)
from registrar.privacy import (
    apply_holds,
    confirm_verification,
    erase_contact,
    overdue_contacts,
    purge_retention,
    start_verification,
)
from registrar.storage import Database
from registrar.validation import ValidationError, validate_handle

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POLICY = PolicyConfig()
CONTACT = {"handle": "JD1", "name": "Jane Doe", "street": ["1 Main St"], "city": "Springfield",
           "postal_code": "62701", "country_code": "US", "phone": "+1.5555550123", "email": "jane@mail.example"}


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    """One session; each test commits what it needs."""
    with db.transaction() as s:
        create_contact(s, CONTACT, actor="t", now=T0)
        create_host(s, "ns1.dns.example.net", actor="t", now=T0)
        create_domain(s, {"name": "example.com", "registrant": "JD1", "nameservers": ["ns1.dns.example.net"]},
                      actor="t", now=T0, policy=POLICY)
        yield s


def test_add_years() -> None:
    assert add_years(datetime(2024, 2, 29, tzinfo=UTC), 1) == datetime(2025, 2, 28, tzinfo=UTC)
    assert add_years(T0, 2) == datetime(2028, 3, 1, 12, 0, tzinfo=UTC)


def test_create_uses_policy_period_and_starts_verification(session: Session) -> None:
    domain = get_domain(session, "example.com")
    assert domain.registrar_expires_at == add_years(T0, POLICY.default_period_years)
    assert domain.created_at == domain.updated_at == T0
    assert domain.auth_info and len(domain.auth_info) >= 16
    contact = session.query(Contact).one()
    assert contact.verification_requested_at == T0 and contact.verified_at is None
    entries = session.query(JournalEntry).order_by(JournalEntry.id).all()
    assert [(e.object_type, e.action) for e in entries] == [("contact", "create"), ("host", "create"),
                                                            ("domain", "create")]
    assert all(e.at == T0 for e in entries)


def test_update_bumps_updated_at_only_on_change(session: Session) -> None:
    later = T0 + timedelta(hours=1)
    change = update_domain(session, "example.com", DomainUpdate(add_statuses=["clientHold"]), actor="t",
                           now=later)
    assert change.fields == ("statuses",)
    assert get_domain(session, "example.com").updated_at == later
    nothing = update_domain(session, "example.com", DomainUpdate(registrant="JD1"), actor="t",
                            now=later + timedelta(hours=1))
    assert nothing.fields == () and get_domain(session, "example.com").updated_at == later


def test_renew_limit_is_ten_years_from_now(session: Session) -> None:
    renew_domain(session, "example.com", 9, actor="t", now=T0)
    with pytest.raises(ValidationError) as exc:
        renew_domain(session, "example.com", 1, actor="t", now=T0)
    assert exc.value.field == "period"
    renew_domain(session, "example.com", 1, actor="t", now=T0 + timedelta(days=366))


def test_restore_window(session: Session) -> None:
    delete_domain(session, "example.com", actor="t", now=T0)
    restore_domain(session, "example.com", actor="t", now=T0 + timedelta(days=30))
    delete_domain(session, "example.com", actor="t", now=T0 + timedelta(days=31))
    with pytest.raises(Refused) as exc:
        restore_domain(session, "example.com", actor="t", now=T0 + timedelta(days=61, seconds=1))
    assert exc.value.field == "name"


def test_verification_deadline_apply_and_release(session: Session) -> None:
    policy = PolicyConfig(verification_days=15)
    just_in_time = T0 + timedelta(days=15) - timedelta(seconds=1)
    assert overdue_contacts(session, now=just_in_time, policy=policy) == []
    late = T0 + timedelta(days=15, seconds=1)
    [item] = overdue_contacts(session, now=late, policy=policy)
    assert item.handle == "JD1" and item.due == T0 + timedelta(days=15) and item.domains == ("example.com",)
    [applied] = apply_holds(session, actor="cron", now=late, policy=policy)
    assert applied.held_now == ("example.com",)
    domain = get_domain(session, "example.com")
    assert domain.statuses == ["clientHold"] and domain.updated_at == late
    started = start_verification(session, "JD1", actor="t", now=late, policy=policy)
    assert started.requested_at == T0  # the clock keeps running
    done = confirm_verification(session, "JD1", started.token.lower().replace("-", " "), actor="t",
                                now=late + timedelta(hours=1))
    assert done.released == ("example.com",) and get_domain(session, "example.com").statuses == []
    assert overdue_contacts(session, now=late + timedelta(days=100), policy=policy) == []


def test_erasure_retention_boundary_and_purge(session: Session) -> None:
    policy = PolicyConfig(retention_days=730)
    ended = T0 + timedelta(days=10)
    delete_domain(session, "example.com", actor="t", now=ended)
    held = erase_contact(session, "JD1", actor="t", now=ended + timedelta(days=729), policy=policy)
    assert held.outcome == "held" and held.held_until == ended + timedelta(days=730)
    contact = session.query(Contact).one()
    assert contact.erasure_requested_at == ended + timedelta(days=729) and contact.name == "Jane Doe"
    assert purge_retention(session, actor="t", now=ended + timedelta(days=729), policy=policy).contacts == ()
    result = purge_retention(session, actor="t", now=ended + timedelta(days=730), policy=policy)
    assert result.contacts == ("JD1",) and result.domains == ("example.com",)
    assert contact.name == "ERASED" and contact.email == f"erased-{contact.id}@invalid.invalid"
    assert contact.phone is None and contact.street1 is None
    assert contact.erased_at == ended + timedelta(days=730)
    domain = get_domain(session, "example.com", include_deleted=True)
    assert domain.personal_data_purged_at == contact.erased_at


def test_erase_immediately_when_retention_already_over(session: Session) -> None:
    delete_domain(session, "example.com", actor="t", now=T0)
    result = erase_contact(session, "JD1", actor="t", now=T0 + timedelta(days=731), policy=POLICY)
    assert result.outcome == "erased"
    assert get_domain(session, "example.com", include_deleted=True).personal_data_purged_at is not None


def test_holds_and_lookups_with_an_earlier_registration_of_the_name(session: Session) -> None:
    """A name registered again after its redemption: the write path acts on the live row only."""
    delete_domain(session, "example.com", actor="t", now=T0)
    with pytest.raises(Refused, match="restore it"):
        create_domain(session, {"name": "example.com", "registrant": "JD1"}, actor="t",
                      now=T0 + timedelta(days=REDEMPTION_DAYS + PENDING_DELETE_DAYS), policy=POLICY)
    again = T0 + timedelta(days=REDEMPTION_DAYS + PENDING_DELETE_DAYS, seconds=1)
    create_domain(session, {"name": "example.com", "registrant": "JD1"}, actor="t", now=again, policy=POLICY)
    assert get_domain(session, "example.com").created_at == again
    late = T0 + timedelta(days=POLICY.verification_days, seconds=1)
    [applied] = apply_holds(session, actor="cron", now=late + timedelta(days=40), policy=POLICY)
    assert applied.held_now == ("example.com",)
    assert get_domain(session, "example.com").statuses == ["clientHold"]
    rows = session.scalars(select(Domain).where(Domain.ldh_name == "example.com").order_by(Domain.id)).all()
    assert ["clientHold" in d.statuses for d in rows] == [False, True]
    delete_domain(session, "example.com", actor="t", now=late + timedelta(days=41))
    assert get_domain(session, "example.com", include_deleted=True).id == rows[1].id  # the latest deletion


def test_phone_change_restarts_verification(session: Session) -> None:
    contact = session.query(Contact).one()
    contact.verified_at = T0 + timedelta(hours=1)
    change = update_contact(session, "JD1", {"phone": "+1.5555550999"}, actor="t", now=T0 + timedelta(days=1))
    assert change.note == "phone changed: verification restarted"
    assert contact.verified_at is None and contact.verification_requested_at == T0 + timedelta(days=1)
    unchanged = update_contact(session, "JD1", {"phone_ext": "12"}, actor="t", now=T0 + timedelta(days=2))
    assert unchanged.note is None and contact.verification_requested_at == T0 + timedelta(days=1)


def test_registrant_change_lifts_the_previous_registrants_verification_hold(session: Session) -> None:
    create_contact(session, {**CONTACT, "handle": "JD2"}, actor="t", now=T0)
    create_domain(session, {"name": "staff-hold.example", "registrant": "JD1", "statuses": ["clientHold"]},
                  actor="t", now=T0, policy=POLICY)
    late = T0 + timedelta(days=POLICY.verification_days, seconds=1)
    [held, _jd2] = apply_holds(session, actor="cron", now=late, policy=POLICY)
    assert held.handle == "JD1" and held.held_now == ("example.com",)
    jd2 = session.scalars(select(Contact).where(Contact.handle == "JD2")).one()
    jd2.verified_at = late  # JD2 is verified
    change = update_domain(session, "example.com", DomainUpdate(registrant="JD2"), actor="t", now=late)
    assert change.fields == ("registrant", "statuses") and "clientHold lifted" in (change.note or "")
    assert get_domain(session, "example.com").statuses == []
    last = session.scalars(select(JournalEntry).order_by(JournalEntry.id.desc()).limit(2)).all()
    assert [(e.action, e.fields) for e in last] == [("verification-release", ["statuses"]),
                                                    ("update", ["registrant"])]
    assert last[0].note == "statuses -clientHold: registrant changed from contact JD1 to contact JD2"
    # a hold staff set by hand stays
    update_domain(session, "staff-hold.example", DomainUpdate(registrant="JD2"), actor="t", now=late)
    assert get_domain(session, "staff-hold.example").statuses == ["clientHold"]


def test_registrant_change_starts_verification_of_an_unverified_contact(session: Session) -> None:
    create_contact(session, {**CONTACT, "handle": "JD2"}, actor="t", now=T0)
    jd2 = session.scalars(select(Contact).where(Contact.handle == "JD2")).one()
    jd2.verification_requested_at = None  # e.g. legacy data: never asked, never verified
    later = T0 + timedelta(days=100)
    change = update_domain(session, "example.com", DomainUpdate(registrant="JD2"), actor="t", now=later)
    assert jd2.verification_requested_at == later and jd2.verified_at is None
    assert "verification start JD2" in (change.note or "")
    entry = session.scalars(select(JournalEntry).where(JournalEntry.object_key == "JD2")
                            .order_by(JournalEntry.id.desc()).limit(1)).one()
    assert entry.fields == ["verification_requested_at"]
    # a pending clock keeps running (swapping registrants does not move a deadline)
    create_contact(session, {**CONTACT, "handle": "JD3"}, actor="t", now=T0)
    update_domain(session, "example.com", DomainUpdate(registrant="JD3"), actor="t", now=later)
    jd3 = session.scalars(select(Contact).where(Contact.handle == "JD3")).one()
    assert jd3.verification_requested_at == T0


def test_apply_holds_skips_server_update_prohibited(session: Session) -> None:
    create_domain(session, {"name": "locked.example", "registrant": "JD1"}, actor="t", now=T0, policy=POLICY)
    get_domain(session, "locked.example").statuses = ["serverUpdateProhibited"]
    late = T0 + timedelta(days=POLICY.verification_days, seconds=1)
    [item] = apply_holds(session, actor="cron", now=late, policy=POLICY)
    assert item.held_now == ("example.com",) and item.skipped == ("locked.example",)
    assert get_domain(session, "locked.example").statuses == ["serverUpdateProhibited"]
    assert item.as_dict()["skipped"] == ["locked.example"]


def test_erased_contact_gets_an_opaque_handle_in_the_journal_too(session: Session) -> None:
    create_contact(session, {**CONTACT, "handle": "MUSTERMANN-E"}, actor="t", now=T0)
    create_contact(session, {**CONTACT, "handle": "MUSTERMANN-EX"}, actor="t", now=T0)
    create_domain(session, {"name": "muster.example", "registrant": "MUSTERMANN-E", "tech": "MUSTERMANN-EX"},
                  actor="t", now=T0, policy=POLICY)
    late = T0 + timedelta(days=POLICY.verification_days, seconds=1)
    apply_holds(session, actor="cron", now=late, policy=POLICY)
    update_domain(session, "muster.example", DomainUpdate(registrant="MUSTERMANN-EX"), actor="t", now=late)
    result = erase_contact(session, "MUSTERMANN-E", actor="t", now=late, policy=POLICY)
    contact = session.scalars(select(Contact).where(Contact.email.like("erased-%"))).one()
    assert result.outcome == "erased" and result.new_handle == contact.handle == f"ERASED-{contact.id}"
    assert validate_handle(contact.handle) == contact.handle  # fits the 3-16 character rule
    session.flush()
    keys = [e.object_key for e in session.scalars(select(JournalEntry))]
    notes = " ".join(e.note or "" for e in session.scalars(select(JournalEntry)))
    assert "MUSTERMANN-E" not in keys and keys.count(contact.handle) >= 3  # create, verification-hold, erase
    assert re.search(r"MUSTERMANN-E(?![\w-])", notes) is None
    assert f"contact {contact.handle} not verified" in notes
    assert "registrant contact ERASED-" in notes and "by contact MUSTERMANN-EX" in notes  # the other one stays
    assert "MUSTERMANN-EX" in keys
    with pytest.raises(ValidationError) as exc:
        create_contact(session, {**CONTACT, "handle": "erased-77"}, actor="t", now=late)  # reserved prefix
    assert exc.value.field == "handle"


def test_purge_gives_opaque_handles(session: Session) -> None:
    policy = PolicyConfig(retention_days=730)
    delete_domain(session, "example.com", actor="t", now=T0)
    result = purge_retention(session, actor="t", now=T0 + timedelta(days=731), policy=policy)
    contact = session.query(Contact).one()
    assert result.contacts == ("JD1",) and result.new_handles == (contact.handle,) == (f"ERASED-{contact.id}",)
    session.flush()
    assert not session.scalars(select(JournalEntry).where(JournalEntry.object_key == "JD1")).all()
