"""Privacy rights and obligations: access (export), erasure, retention purge, contact verification.

Same conventions as :mod:`registrar.operations`: functions take an open session, the actor and
``now``; problems raise ``ValidationError`` / :class:`~registrar.operations.Refused`; results
are plain values; every change is journaled with field names only.

Erasure and purge replace personal values by a *tombstone* (:func:`tombstone`): the row stays
so registrations kept for retention still reference a contact, but nothing personal remains.
The handle, often built from a name, becomes ``ERASED-<id>`` in the contact and in the journal
(:func:`rename_erased`: the one rewrite of existing journal entries). Consent events are kept:
they record which element was consented to, when and by whom, and hold no personal value.

Verification (RAA Whois Accuracy Program, spec §5.1): ``start`` issues a random token (only its
SHA-256 is stored) and starts the clock if it is not running; ``confirm`` checks the token in
constant time and sets ``verified_at``. ``overdue`` lists contacts whose request is older than
``policy.verification_days``; ``apply_holds`` adds ``clientHold`` to their live registrations
(as registrant). Holds are tracked through the journal: each is a domain entry with action
``verification-hold``. On confirmation, a registration's ``clientHold`` is lifted when the
latest journal entry that touched its ``clientHold`` is such a verification hold, i.e. a hold
staff set or re-set by hand (``domain update --add-status clientHold``) is left alone
(:func:`registrar.operations.hold_set_by_verification`; a registrant change lifts such a hold
too). Registrations with ``serverUpdateProhibited`` are not held (reported as skipped).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from registrar.config import PolicyConfig
from registrar.inputs import ERASED_HANDLE_PREFIX
from registrar.models import Contact, Domain, JournalEntry
from registrar.operations import PERSONAL_COLUMNS, Refused, get_contact, hold_set_by_verification, live_links
from registrar.storage import journal
from registrar.validation import ValidationError

ROLES = ("registrant", "tech", "admin", "billing")
VERIFICATION_ACTIONS = ("verification-start", "verification-confirm", "verification-hold",
                        "verification-release")
ERASED_TEXT = "ERASED"
ERASED_COUNTRY = "ZZ"  # ISO 3166 user-assigned "unknown or unspecified country"


def _ts(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


# ------------------------------------------------------------------------------------------- tombstone


def tombstone(contact: Contact) -> list[str]:
    """Replace every personal value of ``contact``; returns the names of the columns replaced."""
    values: dict[str, Any] = dict.fromkeys(PERSONAL_COLUMNS)
    values.update(name=ERASED_TEXT, city=ERASED_TEXT, country_code=ERASED_COUNTRY,
                  email=f"erased-{contact.id}@invalid.invalid")
    changed = [col for col, v in values.items() if getattr(contact, col) != v]
    for col, v in values.items():
        setattr(contact, col, v)
    contact.verification_token_hash = None
    return changed


def erased_handle(session: Session, contact: Contact) -> str:
    """The opaque handle an erased contact gets: ``ERASED-<id>`` (16 characters at most, as
    :data:`registrar.validation.HANDLE_RE` requires; ``E-<id>`` for ids of more than 9 digits).

    New contacts cannot take the ``ERASED-`` prefix (:func:`registrar.inputs.parse_contact`); should
    the handle be taken anyway (data loaded around the checks), a random suffix is used.
    """
    candidates = [f"{ERASED_HANDLE_PREFIX}{contact.id}", f"E-{contact.id}"]
    for handle in [c for c in candidates if len(c) <= 16]:
        taken = session.scalars(select(Contact.id).where(Contact.handle == handle, Contact.id != contact.id)).first()
        if taken is None:
            return handle
    while True:  # pragma: no cover - only reachable after direct writes to the database
        handle = f"{ERASED_HANDLE_PREFIX}{secrets.token_hex(4)}"
        if session.scalars(select(Contact.id).where(Contact.handle == handle)).first() is None:
            return handle


def rename_erased(session: Session, contact: Contact) -> str:
    """Give an erased contact an opaque handle and rewrite the journal's references to the old one.

    Handles are often built from a name (``MUSTERMANN-E``), so they go with the personal data:
    ``contact.handle``, the ``object_key`` of the contact's journal entries and the mentions
    ``contact <HANDLE>`` in journal notes (the one form in which notes name a contact) become
    the new handle. This is the one change ever made to existing journal entries (a documented
    privacy exception to the append-only journal). Returns the new handle.
    """
    old = contact.handle
    new = erased_handle(session, contact)
    if new == old:
        return new
    contact.handle = new
    session.flush()
    session.execute(update(JournalEntry).where(JournalEntry.object_type == "contact",
                                               JournalEntry.object_key == old).values(object_key=new))
    mention = re.compile(rf"(?<![\w-])contact {re.escape(old)}(?![\w-])")
    for entry in session.scalars(select(JournalEntry).where(JournalEntry.note.contains(old, autoescape=True))):
        note = mention.sub(f"contact {new}", entry.note or "")
        if note != entry.note:
            entry.note = note
    return new


def is_erased(contact: Contact) -> bool:
    """Whether the contact's personal values have been replaced."""
    return contact.erased_at is not None


# -------------------------------------------------------------------------------------------- linkage


def linked_domains(session: Session, contact: Contact) -> list[Domain]:
    """Every registration (live or ended) that names the contact in any role."""
    stmt = select(Domain).where(or_(*(getattr(Domain, f"{r}_id") == contact.id for r in ROLES)))
    return list(session.scalars(stmt.order_by(Domain.ldh_name)))


def _roles(domain: Domain, contact: Contact) -> list[str]:
    return [r for r in ROLES if getattr(domain, f"{r}_id") == contact.id]


def _ended(domain: Domain) -> datetime | None:
    return domain.sponsorship_ended_at or domain.deleted_at


def retention_ends(session: Session, contact: Contact, policy: PolicyConfig) -> datetime | None:
    """When the retention period of the contact's ended registrations runs out (None: none ended)."""
    ends = [e for e in (_ended(d) for d in linked_domains(session, contact)) if e is not None]
    return max(ends) + timedelta(days=policy.retention_days) if ends else None


# -------------------------------------------------------------------------------------------- export


def contact_data(contact: Contact) -> dict[str, Any]:
    """The stored contact record (staff view; never the verification token hash)."""
    return {
        "handle": contact.handle, "registry_roid": contact.registry_roid, "name": contact.name,
        "organization": contact.organization, "street": contact.streets, "city": contact.city,
        "state_province": contact.state_province, "postal_code": contact.postal_code,
        "country_code": contact.country_code, "phone": contact.phone, "phone_ext": contact.phone_ext,
        "fax": contact.fax, "fax_ext": contact.fax_ext, "email": contact.email,
        "created_at": _ts(contact.created_at), "updated_at": _ts(contact.updated_at),
        "retention_hold": contact.retention_hold,
        "erasure_requested_at": _ts(contact.erasure_requested_at), "erased_at": _ts(contact.erased_at),
    }


def verification_state(contact: Contact, policy: PolicyConfig, now: datetime) -> dict[str, Any]:
    """Where the contact stands in verification."""
    pending = contact.verification_requested_at is not None and (
        contact.verified_at is None or contact.verified_at < contact.verification_requested_at)
    due = contact.verification_requested_at + timedelta(days=policy.verification_days) if pending and \
        contact.verification_requested_at else None
    return {
        "verified_at": _ts(contact.verified_at),
        "requested_at": _ts(contact.verification_requested_at),
        "token_outstanding": contact.verification_token_hash is not None,
        "pending": pending,
        "due": _ts(due),
        "overdue": bool(due is not None and now > due),
    }


def entry_data(entry: JournalEntry) -> dict[str, Any]:
    """A journal entry as plain data (field names, never values)."""
    return {"id": entry.id, "at": _ts(entry.at), "actor": entry.actor,
            "object": f"{entry.object_type}:{entry.object_key}", "action": entry.action,
            "fields": list(entry.fields or []), "note": entry.note}


def _periods(session: Session, name: str) -> list[tuple[int, datetime, datetime | None]]:
    """``(row id, from, until)`` per registration of ``name``: each lasts until the next one was created."""
    rows = session.execute(select(Domain.id, Domain.created_at).where(Domain.ldh_name == name)
                           .order_by(Domain.created_at, Domain.id)).all()
    return [(row_id, start, rows[i + 1][1] if i + 1 < len(rows) else None)
            for i, (row_id, start) in enumerate(rows)]


def domain_journal(session: Session, contact: Contact, linked: list[Domain]) -> list[JournalEntry]:
    """Journal entries of the registrations the contact is or was linked to, during those registrations.

    Linked now: the rows naming the contact in any role. Linked before: registrations whose
    journal notes name the contact (``contact <HANDLE>``: role changes, verification holds and
    releases, erasure). A name registered several times has one period per registration (from
    its creation to the next one's), and only the periods of the contact's registrations count.
    """
    wanted: dict[str, set[int]] = {}
    for d in linked:
        wanted.setdefault(d.ldh_name, set()).add(d.id)
    mention = re.compile(rf"(?<![\w-])contact {re.escape(contact.handle)}(?![\w-])")
    notes = session.execute(select(JournalEntry.object_key, JournalEntry.at, JournalEntry.note).where(
        JournalEntry.object_type == "domain", JournalEntry.note.contains(contact.handle, autoescape=True)))
    mentioned = [(key, at) for key, at, note in notes if note and mention.search(note)]
    periods = {name: _periods(session, name) for name in {*wanted, *(key for key, _ in mentioned)}}
    for key, at in mentioned:
        # the registration the entry belongs to: the last one created at or before it (else the first)
        rows = [rid for rid, start, _until in periods[key] if start <= at] or [rid for rid, *_ in periods[key][:1]]
        wanted.setdefault(key, set()).update(rows[-1:])
    out: list[JournalEntry] = []
    for name in sorted(wanted):
        ranges: list[tuple[datetime | None, datetime | None]] = [
            (start, until) for rid, start, until in periods[name] if rid in wanted[name]]
        if not ranges:  # no row of the name is left: every entry of the name
            ranges = [(None, None)]
        for entry in session.scalars(select(JournalEntry).where(
                JournalEntry.object_type == "domain", JournalEntry.object_key == name).order_by(JournalEntry.id)):
            if any((lo is None or entry.at >= lo) and (hi is None or entry.at < hi) for lo, hi in ranges):
                out.append(entry)
    return sorted(out, key=lambda e: e.id)


def export_contact(session: Session, handle: str, *, policy: PolicyConfig, now: datetime) -> dict[str, Any]:
    """Everything held on a contact (right of access), as JSON-ready data.

    ``domain_journal`` holds the journal entries of the registrations the contact is or was
    linked to (:func:`domain_journal`), with field names only: their notes may name other
    people's contacts.
    """
    contact = get_contact(session, handle)
    domains = []
    linked = linked_domains(session, contact)
    for d in linked:
        domains.append({
            "name": d.ldh_name, "unicode_name": d.unicode_name, "roles": _roles(d, contact),
            "created_at": _ts(d.created_at), "registrar_expires_at": _ts(d.registrar_expires_at),
            "statuses": list(d.statuses), "rgp_statuses": list(d.rgp_statuses),
            "deleted_at": _ts(d.deleted_at), "sponsorship_ended_at": _ts(d.sponsorship_ended_at),
            "personal_data_purged_at": _ts(d.personal_data_purged_at),
        })
    entries = list(session.scalars(select(JournalEntry).where(
        JournalEntry.object_type == "contact", JournalEntry.object_key == contact.handle)
        .order_by(JournalEntry.id)))
    return {
        "exported_at": _ts(now),
        "contact": contact_data(contact),
        "domains": domains,
        "consent": {
            "current": sorted(e.value for e in contact.consented()),
            "history": [{"element": e.element, "granted": e.granted, "at": _ts(e.at), "actor": e.actor}
                        for e in contact.consents],
        },
        "verification": {
            **verification_state(contact, policy, now),
            "history": [entry_data(e) for e in entries if e.action in VERIFICATION_ACTIONS],
        },
        "journal": [entry_data(e) for e in entries],
        "domain_journal": [{k: v for k, v in entry_data(e).items() if k != "note"}
                           for e in domain_journal(session, contact, linked)],
    }


# ------------------------------------------------------------------------------------------- erasure


@dataclass(frozen=True)
class ErasureResult:
    """Outcome of an erasure request."""

    handle: str
    outcome: str  # "erased" | "held"
    fields: tuple[str, ...] = ()
    held_until: datetime | None = None
    hold_reason: str | None = None
    new_handle: str | None = None  # the opaque handle of an erased contact (ERASED-<id>)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {"handle": self.handle, "outcome": self.outcome, "fields": list(self.fields),
                "held_until": _ts(self.held_until), "hold_reason": self.hold_reason,
                "new_handle": self.new_handle}


def erase_contact(session: Session, handle: str, *, actor: str, now: datetime,
                  policy: PolicyConfig) -> ErasureResult:
    """Erase a contact's personal data (right to erasure).

    Refused while the contact is linked to a live registration. When a retention hold applies
    (``retention_hold`` set, or a linked registration ended less than ``policy.retention_days``
    ago) the request is recorded (``erasure_requested_at``) and ``retention purge`` erases the
    data once the hold ends.
    """
    contact = get_contact(session, handle, lock=True)
    if contact.erased_at is not None:
        raise Refused("handle", f"contact {handle!r} was already erased on {contact.erased_at:%Y-%m-%d}")
    links = live_links(session, contact)
    if links:
        by_domain: dict[str, list[str]] = {}
        for name, role in links:
            by_domain.setdefault(name, []).append(role)
        names = list(by_domain)
        listed = ", ".join(f"{n} ({'/'.join(by_domain[n])})" for n in names[:10]) + \
            (f" and {len(names) - 10} more" if len(names) > 10 else "")
        options = " / ".join("--registrant OTHER" if r == "registrant" else f"--clear-{r}"
                             for r in ROLES if any(role == r for _, role in links))
        raise Refused("handle", f"contact {handle!r} is linked to live registrations: {listed}; first change "
                                f"them (registrar domain update DOMAIN {options}) or delete them "
                                "(registrar domain delete DOMAIN)")
    until = retention_ends(session, contact, policy)
    reason = None
    if contact.retention_hold:
        reason = "retention hold on the contact"
    elif until is not None and until > now:
        reason = f"registration data retention ({policy.retention_days} days after sponsorship ends)"
    if reason is not None:
        already = contact.erasure_requested_at is not None
        if not already:
            contact.erasure_requested_at = now
            contact.updated_at = now
            journal(session, actor=actor, object_type="contact", object_key=handle, action="erase-requested",
                    fields=["erasure_requested_at"], note=f"held: {reason}", at=now)
        return ErasureResult(handle, "held", () if already else ("erasure_requested_at",),
                             None if contact.retention_hold else until, reason)
    changed = tombstone(contact)
    contact.erased_at = now
    contact.updated_at = now
    new_handle = rename_erased(session, contact)
    fields = [*_names(changed), "erased_at", "handle"]
    journal(session, actor=actor, object_type="contact", object_key=new_handle, action="erase", fields=fields,
            at=now)
    for d in linked_domains(session, contact):
        if d.personal_data_purged_at is None and _ended(d) is not None and _all_contacts_erased(d):
            d.personal_data_purged_at = now
            journal(session, actor=actor, object_type="domain", object_key=d.ldh_name, action="update",
                    fields=["personal_data_purged_at"], note=f"contact {new_handle} erased", at=now)
    return ErasureResult(handle, "erased", tuple(sorted(fields)), new_handle=new_handle)


def _names(columns: list[str]) -> list[str]:
    return sorted({"street" if c.startswith("street") else c for c in columns})


def _all_contacts_erased(domain: Domain) -> bool:
    return all(c is None or c.erased_at is not None for c in (getattr(domain, r) for r in ROLES))


# ------------------------------------------------------------------------------------------- retention


@dataclass(frozen=True)
class PurgeResult:
    """What a retention purge removed (or would remove)."""

    contacts: tuple[str, ...] = ()  # the handles the contacts had
    domains: tuple[str, ...] = ()
    cutoff: datetime | None = None
    new_handles: tuple[str, ...] = ()  # their opaque handles now (ERASED-<id>), in the same order

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {"contacts": list(self.contacts), "domains": list(self.domains), "cutoff": _ts(self.cutoff),
                "new_handles": list(self.new_handles)}


def purge_candidates(session: Session, *, now: datetime, policy: PolicyConfig) -> list[Contact]:
    """Contacts whose personal data the retention period no longer covers.

    A contact qualifies when it is not erased, has no ``retention_hold``, holds no live
    registration, and every registration it was linked to ended ``policy.retention_days`` ago or
    more; a contact never linked to a registration qualifies only if it asked to be erased.
    """
    cutoff = now - timedelta(days=policy.retention_days)
    ended_any = func.coalesce(Domain.sponsorship_ended_at, Domain.deleted_at)
    links = [getattr(Domain, f"{r}_id") == Contact.id for r in ROLES]
    blocking = select(Domain.id).where(or_(*links)).where(
        or_(Domain.deleted_at.is_(None), ended_any > cutoff)).exists()
    any_link = select(Domain.id).where(or_(*links)).exists()
    stmt = (select(Contact).where(Contact.erased_at.is_(None), Contact.retention_hold.is_(None), ~blocking,
                                  or_(any_link, Contact.erasure_requested_at.is_not(None)))
            .order_by(Contact.handle))
    return list(session.scalars(stmt))


def purge_retention(session: Session, *, actor: str, now: datetime, policy: PolicyConfig) -> PurgeResult:
    """Remove personal data whose retention period is over (tombstones, journaled)."""
    cutoff = now - timedelta(days=policy.retention_days)
    purged: list[str] = []
    renamed: list[str] = []
    erased: list[Contact] = []
    domains: set[str] = set()
    for contact in purge_candidates(session, now=now, policy=policy):
        purged.append(contact.handle)
        changed = tombstone(contact)
        contact.erased_at = now
        contact.updated_at = now
        renamed.append(rename_erased(session, contact))
        journal(session, actor=actor, object_type="contact", object_key=contact.handle, action="purge",
                fields=[*_names(changed), "erased_at", "handle"],
                note=f"retention period of {policy.retention_days} days over", at=now)
        erased.append(contact)
    session.flush()
    for contact in erased:
        for d in linked_domains(session, contact):
            if d.personal_data_purged_at is None and _all_contacts_erased(d):
                d.personal_data_purged_at = now
                journal(session, actor=actor, object_type="domain", object_key=d.ldh_name, action="purge",
                        fields=["personal_data_purged_at"], at=now)
                domains.add(d.ldh_name)
    return PurgeResult(tuple(purged), tuple(sorted(domains)), cutoff, tuple(renamed))


# ---------------------------------------------------------------------------------------- verification


def new_token() -> str:
    """A random verification token: 120 bits, base32 in dash-separated groups (easy to read out)."""
    raw = base64.b32encode(secrets.token_bytes(15)).decode("ascii")
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def normalize_token(token: str) -> str:
    """A token as typed back: case, spaces and dashes do not matter."""
    return "".join(token.split()).replace("-", "").upper()


def token_hash(token: str) -> str:
    """The stored form of a verification token (SHA-256 of the normalised token, hex)."""
    return hashlib.sha256(normalize_token(token).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class VerificationStart:
    """A verification that was started; ``token`` is shown once and never stored."""

    handle: str
    token: str
    requested_at: datetime
    due: datetime


def start_verification(session: Session, handle: str, *, actor: str, now: datetime,
                       policy: PolicyConfig) -> VerificationStart:
    """Issue a new token for the contact (a previous token stops working).

    The clock keeps running from an earlier request that is still pending, so re-sending a token
    does not extend the deadline; for a verified contact a new verification starts now.
    """
    contact = get_contact(session, handle, lock=True)
    if contact.erased_at is not None:
        raise Refused("handle", f"contact {handle!r} has been erased")
    token = new_token()
    fields = ["verification_token_hash"]
    pending = contact.verification_requested_at is not None and (
        contact.verified_at is None or contact.verified_at < contact.verification_requested_at)
    if not pending:
        contact.verification_requested_at = now
        contact.verified_at = None
        fields += ["verification_requested_at", "verified_at"]
    contact.verification_token_hash = token_hash(token)
    contact.updated_at = now
    journal(session, actor=actor, object_type="contact", object_key=handle, action="verification-start",
            fields=fields, at=now)
    requested = contact.verification_requested_at or now
    return VerificationStart(handle, token, requested, requested + timedelta(days=policy.verification_days))


@dataclass(frozen=True)
class VerificationConfirm:
    """A confirmed verification and the holds it lifted."""

    handle: str
    verified_at: datetime
    released: tuple[str, ...] = field(default_factory=tuple)


def confirm_verification(session: Session, handle: str, token: str, *, actor: str,
                         now: datetime) -> VerificationConfirm:
    """Check the token (constant time), mark the contact verified and lift verification holds."""
    contact = get_contact(session, handle, lock=True)
    if contact.erased_at is not None:
        raise Refused("handle", f"contact {handle!r} has been erased")
    if not contact.verification_token_hash:
        raise Refused("token", f"no verification token is outstanding for {handle!r}; "
                               "issue one with `registrar verification start`")
    if not isinstance(token, str) or not token or \
            not hmac.compare_digest(token_hash(token), contact.verification_token_hash):
        raise ValidationError("token", "does not match the token issued for this contact")
    contact.verified_at = now
    contact.verification_token_hash = None
    contact.updated_at = now
    journal(session, actor=actor, object_type="contact", object_key=handle, action="verification-confirm",
            fields=["verification_token_hash", "verified_at"], at=now)
    released = []
    stmt = select(Domain).where(Domain.registrant_id == contact.id, Domain.deleted_at.is_(None))
    for d in session.scalars(stmt.order_by(Domain.ldh_name).with_for_update(of=Domain)):
        if "clientHold" in d.statuses and hold_set_by_verification(session, d):
            d.statuses = [s for s in d.statuses if s != "clientHold"]
            d.updated_at = now
            journal(session, actor=actor, object_type="domain", object_key=d.ldh_name,
                    action="verification-release", fields=["statuses"],
                    note=f"statuses -clientHold: contact {handle} verified", at=now)
            released.append(d.ldh_name)
    return VerificationConfirm(handle, now, tuple(released))


@dataclass(frozen=True)
class Overdue:
    """A contact that did not verify in time, and its live registrations as registrant."""

    handle: str
    requested_at: datetime
    due: datetime
    domains: tuple[str, ...]
    on_hold: tuple[str, ...]
    held_now: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()  # not held: serverUpdateProhibited (the registry refuses changes)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON output (no personal values)."""
        return {"handle": self.handle, "requested_at": _ts(self.requested_at), "due": _ts(self.due),
                "domains": list(self.domains), "on_hold": list(self.on_hold), "held_now": list(self.held_now),
                "skipped": list(self.skipped)}


def overdue_contacts(session: Session, *, now: datetime, policy: PolicyConfig) -> list[Overdue]:
    """Contacts whose verification was requested more than ``verification_days`` ago and is not done."""
    cutoff = now - timedelta(days=policy.verification_days)
    stmt = (select(Contact).where(
        Contact.erased_at.is_(None), Contact.verification_requested_at.is_not(None),
        Contact.verification_requested_at < cutoff,
        or_(Contact.verified_at.is_(None), Contact.verified_at < Contact.verification_requested_at))
        .order_by(Contact.verification_requested_at, Contact.handle))
    out = []
    for contact in session.scalars(stmt):
        doms = session.scalars(select(Domain).where(Domain.registrant_id == contact.id,
                                                    Domain.deleted_at.is_(None)).order_by(Domain.ldh_name)).all()
        requested = contact.verification_requested_at
        assert requested is not None
        out.append(Overdue(contact.handle, requested, requested + timedelta(days=policy.verification_days),
                           tuple(d.ldh_name for d in doms),
                           tuple(d.ldh_name for d in doms if "clientHold" in d.statuses)))
    return out


def apply_holds(session: Session, *, actor: str, now: datetime, policy: PolicyConfig) -> list[Overdue]:
    """Put ``clientHold`` on the live registrations of overdue contacts; returns what was held.

    Registrations with ``serverUpdateProhibited`` are skipped (the registry would refuse the
    change) and reported in ``skipped``.
    """
    out = []
    for item in overdue_contacts(session, now=now, policy=policy):
        held = []
        skipped = []
        for name in item.domains:
            if name in item.on_hold:
                continue
            domain = session.scalars(select(Domain).where(Domain.ldh_name == name, Domain.deleted_at.is_(None))
                                     .with_for_update(of=Domain)).one_or_none()
            if domain is None or "clientHold" in domain.statuses:
                continue
            if "serverUpdateProhibited" in domain.statuses:
                skipped.append(name)
                continue
            domain.statuses = [s for s in domain.statuses if s != "ok"] + ["clientHold"]
            domain.updated_at = now
            journal(session, actor=actor, object_type="domain", object_key=name, action="verification-hold",
                    fields=["statuses"], note=f"statuses +clientHold: contact {item.handle} not verified",
                    at=now)
            held.append(name)
        if held:
            journal(session, actor=actor, object_type="contact", object_key=item.handle,
                    action="verification-hold", fields=[],
                    note=f"clientHold set on {len(held)} registration(s)", at=now)
        out.append(Overdue(item.handle, item.requested_at, item.due, item.domains,
                           tuple(sorted({*item.on_hold, *held})), tuple(held), tuple(skipped)))
    return out
