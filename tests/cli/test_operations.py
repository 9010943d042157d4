"""The write path and privacy functions called directly, with a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from registrar.config import PolicyConfig
from registrar.models import Contact, JournalEntry
from registrar.operations import (
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
from registrar.validation import ValidationError

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POLICY = PolicyConfig()
CONTACT = {"handle": "JD1", "name": "Jane Doe", "street": ["1 Main St"], "city": "Springfield",
           "country_code": "US", "phone": "+1.5555550123", "email": "jane@mail.example"}


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
