"""The write path: every change staff (and later other clients) make to the registration data.

Each operation is a plain function taking an open :class:`~sqlalchemy.orm.Session` (the caller
owns the transaction, so a failure leaves nothing half-applied), the ``actor`` recorded in the
journal and the clock value ``now`` (tests pass a fixed time). Input is checked with
:mod:`registrar.inputs` / :mod:`registrar.validation`; every problem raises
:class:`~registrar.validation.ValidationError` naming the field and the rule, and an action the
current state forbids raises :class:`Refused` (a ``ValidationError`` too). Each change bumps
``updated_at`` and appends one journal entry per object with the names of the changed fields,
never their values.

Operations return small frozen result objects holding plain values only, so a caller may roll
the transaction back (``--dry-run``) and still report what would have changed.

Domain life cycle (RFC 5731 statuses, RFC 3915 grace periods):

* ``create`` — live; registrar expiry ``now + period`` (default ``policy.default_period_years``);
  name servers not yet known as host objects are created without glue (external hosts). A name
  whose earlier registration was deleted may be registered again once every deleted row of that
  name has left redemption and pending delete (:data:`REDEMPTION_DAYS` +
  :data:`PENDING_DELETE_DAYS` after the delete) or was purged; the old rows stay for retention;
* ``delete`` — EPP status ``pendingDelete`` + RGP ``redemptionPeriod``; ``deleted_at`` and
  ``sponsorship_ended_at`` set, so WHOIS/RDAP (which read only ``deleted_at IS NULL``) stop
  answering at once; the row stays for the retention period;
* ``restore`` — within :data:`REDEMPTION_DAYS` of the delete: the deleted state is cleared and the
  registration is live again. The registry's restore request and report (``pendingRestore``) are
  the sync job's business; locally the restore is recorded complete at once.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from registrar.config import PolicyConfig
from registrar.fixtures import domain_row
from registrar.inputs import ContactInput, contact_row, parse_contact, parse_domain, parse_host
from registrar.models import (
    ConsentElement,
    ConsentEvent,
    Contact,
    Domain,
    DomainNameserver,
    DSRecord,
    Host,
    HostAddress,
    JournalEntry,
)
from registrar.storage import host_in_use, journal, live_first
from registrar.validation import (
    EPP_CLIENT_STATUSES,
    NO_POSTAL_CODE_COUNTRIES,
    ValidationError,
    normalize_domain,
    validate_ds,
    validate_handle,
    validate_ip,
)

#: Days a deleted registration may be restored (RFC 3915 redemption period, common gTLD practice).
REDEMPTION_DAYS = 30
#: Days after the redemption period until the registry purges the name (RFC 3915 pendingDelete).
PENDING_DELETE_DAYS = 5
#: Longest a registration may run from today (RFC 5731 period limit / registry practice).
MAX_TERM_YEARS = 10
MAX_NAMESERVERS = 13

#: Contact columns holding personal values (what erasure and retention purge replace).
PERSONAL_COLUMNS = ("name", "organization", "street1", "street2", "street3", "city", "state_province",
                    "postal_code", "country_code", "phone", "phone_ext", "fax", "fax_ext", "email")
#: Contact fields staff may change with ``update_contact``.
CONTACT_UPDATE_KEYS = frozenset({"name", "organization", "street", "city", "state_province", "postal_code",
                                 "country_code", "phone", "phone_ext", "fax", "fax_ext", "email",
                                 "retention_hold"})
_CONTACT_COLUMNS = (*PERSONAL_COLUMNS, "retention_hold")


class Refused(ValidationError):
    """The input is valid but the current state forbids the action; the rule says what to do first."""


# --------------------------------------------------------------------------------------------- helpers


def add_years(moment: datetime, years: int) -> datetime:
    """``moment`` plus whole years (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def status_note(added: Iterable[str], removed: Iterable[str]) -> str | None:
    """Journal note for status changes, e.g. ``statuses +clientHold -clientTransferProhibited``.

    Status names are protocol values, not personal data; the verification hold logic reads them.
    """
    parts = [f"+{s}" for s in added] + [f"-{s}" for s in removed]
    return "statuses " + " ".join(parts) if parts else None


def get_contact(session: Session, handle: str, *, field_name: str = "handle", lock: bool = False) -> Contact:
    """The contact with ``handle`` or a ``ValidationError`` on ``field_name``."""
    if not isinstance(handle, str) or not handle:
        raise ValidationError(field_name, "a contact handle is required")
    stmt = select(Contact).where(Contact.handle == handle)
    if lock:
        stmt = stmt.with_for_update()
    contact = session.scalars(stmt).one_or_none()
    if contact is None:
        raise ValidationError(field_name, f"no contact with handle {handle!r}")
    return contact


def newest_first(stmt: Select[Any]) -> Select[Any]:
    """Order rows of one name: the live row first, then deleted ones, the most recently deleted first.

    A name has at most one live row and any number of deleted ones (earlier registrations kept
    for retention); see :class:`registrar.models.Domain`.
    """
    return stmt.order_by(*live_first())


def get_domain(session: Session, name: str, *, field_name: str = "name", include_deleted: bool = False,
               lock: bool = False) -> Domain:
    """The registration called ``name`` (any label form) or a ``ValidationError``.

    The live registration; with ``include_deleted`` and none live, the most recently deleted one.
    """
    a_label = normalize_domain(name, field_name).a_label
    stmt = newest_first(select(Domain).where(Domain.ldh_name == a_label)).limit(1)
    if lock:
        stmt = stmt.with_for_update(of=Domain)
    domain = session.scalars(stmt).first()
    if domain is None or (domain.deleted_at is not None and not include_deleted):
        hint = "" if domain is None else " (it is deleted; see `registrar domain restore`)"
        raise ValidationError(field_name, f"no registration {a_label!r}{hint}")
    return domain


def get_host(session: Session, name: str, *, field_name: str = "name", lock: bool = False) -> Host:
    """The host object called ``name`` or a ``ValidationError``."""
    a_label = normalize_domain(name, field_name, min_labels=3).a_label
    stmt = select(Host).where(Host.ldh_name == a_label)
    if lock:
        stmt = stmt.with_for_update()
    host = session.scalars(stmt).one_or_none()
    if host is None:
        raise ValidationError(field_name, f"no host {a_label!r} (create it with `registrar host create`)")
    return host


def host_for_delegation(session: Session, name: str, field_name: str, *, actor: str, now: datetime,
                        created: list[str]) -> Host:
    """The host object ``name``; an unknown one is created without glue (an external name server),
    journaled, and its name appended to ``created`` (as the fixture loader does)."""
    a_label = normalize_domain(name, field_name, min_labels=3).a_label
    host = session.scalars(select(Host).where(Host.ldh_name == a_label)).one_or_none()
    if host is None:
        host = Host(ldh_name=a_label, registry_roid=None, created_at=now, updated_at=now)
        session.add(host)
        session.flush()
        journal(session, actor=actor, object_type="host", object_key=a_label, action="create",
                fields=["ldh_name"], note="created for a delegation", at=now)
        created.append(a_label)
    return host


def is_verified(contact: Contact) -> bool:
    """Whether the contact verified after its latest verification request."""
    return contact.verified_at is not None and (
        contact.verification_requested_at is None or contact.verified_at >= contact.verification_requested_at)


def hold_set_by_verification(session: Session, domain: Domain) -> bool:
    """Whether the domain's current clientHold was put there by a verification hold.

    True when the latest journal entry of the name that touched clientHold is a
    ``verification-hold``; a hold staff set or re-set by hand (its note says ``clientHold``), a
    ``verification-release`` or the registration's ``create`` (entries before it belong to an
    earlier registration of the same name) end the search.
    """
    entries = session.scalars(select(JournalEntry).where(
        JournalEntry.object_type == "domain", JournalEntry.object_key == domain.ldh_name)
        .order_by(JournalEntry.id.desc()))
    for entry in entries:
        if entry.action == "verification-hold":
            return True
        if entry.action in ("verification-release", "create") or "clientHold" in (entry.note or ""):
            return False
    return False


def _usable_contact(session: Session, handle: str, role: str) -> Contact:
    """A contact that may be linked to a registration (exists, not erased, no erasure pending)."""
    contact = get_contact(session, validate_handle(handle, role), field_name=role, lock=True)
    if contact.erased_at is not None:
        raise Refused(role, f"contact {handle!r} has been erased and cannot hold registrations")
    if contact.erasure_requested_at is not None:
        raise Refused(role, f"contact {handle!r} asked to be erased; use another contact")
    return contact


def check_registrant_data(contact: Contact, role: str = "registrant") -> None:
    """Refuse a registrant without the data the RAA (§3.3.1) and the Registration Data Policy
    require to be collected: street, postal code (except in :data:`NO_POSTAL_CODE_COUNTRIES`),
    phone and email, besides the name, city and country every contact has.

    Applies to new registrations and registrant changes made through the write path; fixture and
    legacy loads are taken as they are.
    """
    missing = [name for name, value in (
        ("street", contact.street1),
        ("postal_code", contact.postal_code or (contact.country_code in NO_POSTAL_CODE_COUNTRIES)),
        ("phone", contact.phone),
        ("email", contact.email)) if not value]
    if missing:
        options = {"street": "--street ...", "postal_code": "--postal-code ...", "phone": "--phone +CC.NNNN",
                   "email": "--email ..."}
        raise Refused(role, f"contact {contact.handle!r} has no {', '.join(missing)}; a registrant needs street, "
                            "postal code, phone and email (RAA 3.3.1); add them first (registrar contact update "
                            f"{contact.handle} {' '.join(options[m] for m in missing)})")


def live_links(session: Session, contact: Contact) -> list[tuple[str, str]]:
    """``(domain, role)`` for every live registration the contact is linked to, sorted."""
    stmt = select(Domain).where(
        Domain.deleted_at.is_(None),
        or_(Domain.registrant_id == contact.id, Domain.tech_id == contact.id,
            Domain.admin_id == contact.id, Domain.billing_id == contact.id)).order_by(Domain.ldh_name)
    out = []
    for d in session.scalars(stmt):
        for role in ("registrant", "tech", "admin", "billing"):
            if getattr(d, f"{role}_id") == contact.id:
                out.append((d.ldh_name, role))
    return out


# -------------------------------------------------------------------------------------------- contacts


@dataclass(frozen=True)
class Change:
    """What an operation changed (or, on a dry run, would change)."""

    object_type: str
    key: str
    action: str
    fields: tuple[str, ...] = ()
    note: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        out: dict[str, Any] = {"object": f"{self.object_type}:{self.key}", "action": self.action,
                               "fields": list(self.fields)}
        if self.note:
            out["note"] = self.note
        for key, value in self.extra.items():
            out[key] = value.strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(value, datetime) else value
        return out


def _contact_values(c: ContactInput) -> dict[str, Any]:
    streets = [*c.street, None, None, None]
    return {"name": c.name, "organization": c.organization, "street1": streets[0], "street2": streets[1],
            "street3": streets[2], "city": c.city, "state_province": c.state_province,
            "postal_code": c.postal_code, "country_code": c.country_code, "phone": c.phone,
            "phone_ext": c.phone_ext, "fax": c.fax, "fax_ext": c.fax_ext, "email": c.email,
            "retention_hold": c.retention_hold}


def _field_names(columns: Iterable[str]) -> list[str]:
    """Column names as shown to people: the three street lines are one field, ``street``."""
    return sorted({"street" if c.startswith("street") else c for c in columns})


def create_contact(session: Session, data: Mapping[str, Any], *, actor: str, now: datetime) -> Change:
    """Create a contact from a mapping of :data:`registrar.inputs.CONTACT_KEYS` fields.

    ``consent`` elements are recorded as consent events. A contact that is not marked verified
    starts the verification clock now (WAPS: 15 days).
    """
    allowed = CONTACT_UPDATE_KEYS | {"handle", "consent"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError(unknown[0], "unknown field")
    c = parse_contact({k: v for k, v in data.items() if v is not None})
    if session.scalars(select(Contact.id).where(Contact.handle == c.handle)).first() is not None:
        raise ValidationError("handle", f"a contact with handle {c.handle!r} already exists")
    contact = Contact(**contact_row(c, now))
    session.add(contact)
    for element in sorted(c.consent):
        contact.consents.append(ConsentEvent(element=element.value, granted=True, at=now, actor=actor))
    session.flush()
    fields = _field_names(k for k, v in _contact_values(c).items() if v is not None)
    if c.consent:
        fields += [f"consent.{e.value}" for e in sorted(c.consent)]
    journal(session, actor=actor, object_type="contact", object_key=c.handle, action="create", fields=fields,
            at=now)
    return Change("contact", c.handle, "create", tuple(sorted(fields)))


def contact_input_mapping(contact: Contact) -> dict[str, Any]:
    """The stored contact as an input mapping (what ``parse_contact`` takes)."""
    return {"handle": contact.handle, "name": contact.name, "organization": contact.organization,
            "street": contact.streets, "city": contact.city, "state_province": contact.state_province,
            "postal_code": contact.postal_code, "country_code": contact.country_code, "phone": contact.phone,
            "phone_ext": contact.phone_ext, "fax": contact.fax, "fax_ext": contact.fax_ext,
            "email": contact.email, "retention_hold": contact.retention_hold}


def update_contact(session: Session, handle: str, changes: Mapping[str, Any], *, actor: str,
                   now: datetime) -> Change:
    """Correct a contact: ``changes`` maps field names to new values (``""`` or ``[]`` clears).

    The whole resulting record is validated again. A changed email address or phone number
    restarts verification (WAPS: verify again within the period after a change of contact data).
    """
    unknown = sorted(set(changes) - CONTACT_UPDATE_KEYS)
    if unknown:
        raise ValidationError(unknown[0], "unknown field or not changeable")
    contact = get_contact(session, handle, lock=True)
    if contact.erased_at is not None:
        raise Refused("handle", f"contact {handle!r} has been erased; its data cannot be changed")
    merged = {**contact_input_mapping(contact), **changes}
    new = _contact_values(parse_contact(merged))
    changed = [col for col in _CONTACT_COLUMNS if getattr(contact, col) != new[col]]
    note = None
    if not changed:
        return Change("contact", handle, "update")
    for col in changed:
        setattr(contact, col, new[col])
    fields = _field_names(changed)
    reverify = [col for col in ("email", "phone") if col in changed]
    if reverify:
        contact.verified_at = None
        contact.verification_token_hash = None
        contact.verification_requested_at = now
        fields += ["verification_requested_at", "verified_at"]
        note = f"{' and '.join(reverify)} changed: verification restarted"
    contact.updated_at = now
    journal(session, actor=actor, object_type="contact", object_key=handle, action="update", fields=fields,
            note=note, at=now)
    return Change("contact", handle, "update", tuple(sorted(fields)), note)


def set_consent(session: Session, handle: str, elements: Sequence[str], granted: bool, *, actor: str,
                now: datetime) -> Change:
    """Grant or withdraw consent to publish ``elements``; events are recorded only for real changes."""
    if not elements:
        raise ValidationError("element", "name at least one element")
    parsed: list[ConsentElement] = []
    for i, e in enumerate(elements):
        try:
            parsed.append(ConsentElement(e))
        except ValueError:
            allowed = ", ".join(x.value for x in ConsentElement)
            raise ValidationError(f"element[{i}]", f"{e!r} is not one of: {allowed}") from None
    contact = get_contact(session, handle, lock=True)
    if contact.erased_at is not None:
        raise Refused("handle", f"contact {handle!r} has been erased")
    current = contact.consented()
    changed = sorted({e for e in parsed if (e in current) != granted})
    action = "consent-grant" if granted else "consent-withdraw"
    if not changed:
        return Change("contact", handle, "update", extra={"consent": sorted(e.value for e in current)})
    for element in changed:
        contact.consents.append(ConsentEvent(element=element.value, granted=granted, at=now, actor=actor))
    contact.updated_at = now
    fields = [f"consent.{e.value}" for e in changed]
    journal(session, actor=actor, object_type="contact", object_key=handle, action=action, fields=fields,
            at=now)
    return Change("contact", handle, action, tuple(fields),
                  extra={"consent": sorted(e.value for e in contact.consented())})


# ----------------------------------------------------------------------------------------------- hosts


def superordinate_domain(session: Session, host_name: str) -> str | None:
    """The live registration of ours that host ``host_name`` (an A-label) lies under, if any.

    Walks the parent names with at least two labels, as :func:`registrar.storage.sponsored_host`
    does for its parent-domain part.
    """
    parents = []
    parent = host_name.split(".", 1)[1] if "." in host_name else ""
    while parent.count(".") >= 1:
        parents.append(parent)
        parent = parent.split(".", 1)[1]
    if not parents:
        return None
    found = set(session.scalars(select(Domain.ldh_name).where(Domain.ldh_name.in_(parents),
                                                              Domain.deleted_at.is_(None))))
    return next((p for p in parents if p in found), None)


def _check_glue(session: Session, host_name: str, field_name: str) -> None:
    """Glue addresses only for hosts subordinate to a domain we sponsor (in-bailiwick name servers)."""
    if superordinate_domain(session, host_name) is None:
        raise ValidationError(field_name, f"glue addresses are only for hosts under a live registration of ours; "
                                          f"{host_name} is not under one (an external name server has no glue)")


def create_host(session: Session, name: str, addresses: Sequence[str] = (), *, actor: str,
                now: datetime) -> Change:
    """Create a host object with optional glue addresses (only under a live registration of ours)."""
    h = parse_host({"name": name, "addresses": list(addresses)})
    if session.scalars(select(Host.id).where(Host.ldh_name == h.name)).first() is not None:
        raise ValidationError("name", f"host {h.name!r} already exists")
    if h.addresses:
        _check_glue(session, h.name, "addresses")
    host = Host(ldh_name=h.name, registry_roid=None, created_at=now, updated_at=now)
    host.addresses = [HostAddress(address=a, version=v) for a, v in h.addresses]
    session.add(host)
    session.flush()
    fields = ["ldh_name", *(["addresses"] if h.addresses else [])]
    journal(session, actor=actor, object_type="host", object_key=h.name, action="create", fields=fields,
            at=now)
    return Change("host", h.name, "create", tuple(sorted(fields)),
                  extra={"addresses": [a for a, _ in h.addresses]})


def update_host(session: Session, name: str, *, add: Sequence[str] = (), remove: Sequence[str] = (),
                actor: str, now: datetime) -> Change:
    """Add or remove glue addresses of a host (adding only under a live registration of ours)."""
    host = get_host(session, name, lock=True)
    current = [a.address for a in host.addresses]
    removing = []
    for i, value in enumerate(remove):
        ip, _ = validate_ip(value, f"remove_address[{i}]")
        if ip not in current:
            raise ValidationError(f"remove_address[{i}]", f"{ip} is not an address of {host.ldh_name}")
        removing.append(ip)
    adding: list[tuple[str, int]] = []
    for i, value in enumerate(add):
        ip, version = validate_ip(value, f"add_address[{i}]")
        if ip in current and ip not in removing:
            raise ValidationError(f"add_address[{i}]", f"{ip} is already an address of {host.ldh_name}")
        if ip not in [a for a, _ in adding]:
            adding.append((ip, version))
    if adding:
        _check_glue(session, host.ldh_name, "add_address")
    if not adding and not removing:
        return Change("host", host.ldh_name, "update", extra={"addresses": current})
    host.addresses = [a for a in host.addresses if a.address not in removing]
    session.flush()
    host.addresses.extend(HostAddress(address=ip, version=v) for ip, v in adding)
    host.updated_at = now
    note = " ".join([*(f"+{a}" for a, _ in adding), *(f"-{a}" for a in removing)])
    journal(session, actor=actor, object_type="host", object_key=host.ldh_name, action="update",
            fields=["addresses"], note=f"addresses {note}", at=now)
    return Change("host", host.ldh_name, "update", ("addresses",), f"addresses {note}",
                  extra={"addresses": [a.address for a in host.addresses]})


def delete_host(session: Session, name: str, *, actor: str, now: datetime) -> Change:
    """Delete a host object; refused while a live registration is delegated to it.

    Links from deleted registrations (kept for retention) are removed with it and journaled.
    """
    host = get_host(session, name, lock=True)
    used = host_in_use(session, host)
    if used:
        listed = ", ".join(used[:10]) + (f" and {len(used) - 10} more" if len(used) > 10 else "")
        raise Refused("name", f"host {host.ldh_name} is a name server of {listed}; remove it from them first "
                              f"(registrar domain update DOMAIN --remove-ns {host.ldh_name})")
    links = session.scalars(select(DomainNameserver).where(DomainNameserver.host_id == host.id)).all()
    for link in links:
        journal(session, actor=actor, object_type="domain", object_key=link.domain.ldh_name, action="update",
                fields=["nameservers"], note=f"host {host.ldh_name} deleted", at=now)
        session.delete(link)
    session.delete(host)
    journal(session, actor=actor, object_type="host", object_key=host.ldh_name, action="delete", at=now)
    return Change("host", host.ldh_name, "delete")


# --------------------------------------------------------------------------------------------- domains


def _check_client_statuses(values: Iterable[str], field_name: str) -> list[str]:
    out: list[str] = []
    for value in values:
        if value not in EPP_CLIENT_STATUSES:
            allowed = ", ".join(sorted(EPP_CLIENT_STATUSES))
            raise ValidationError(field_name,
                                  f"{value!r} is not a client status; staff may set only {allowed}")
        if value not in out:
            out.append(value)
    return out


def parse_ds_text(text: str, field_name: str) -> tuple[int, int, int, str]:
    """A DS record written ``KEYTAG ALGORITHM DIGESTTYPE DIGEST`` (spaces or colons)."""
    parts = text.replace(":", " ").split()
    if len(parts) != 4:
        raise ValidationError(field_name, "write a DS record as 'KEYTAG ALGORITHM DIGESTTYPE DIGEST'")
    try:
        key_tag, algorithm, digest_type = (int(p) for p in parts[:3])
    except ValueError:
        raise ValidationError(field_name, "key tag, algorithm and digest type must be integers") from None
    return validate_ds(key_tag, algorithm, digest_type, parts[3], field_name)


def create_domain(session: Session, data: Mapping[str, Any], *, actor: str, now: datetime,
                  policy: PolicyConfig, period_years: int | None = None) -> Change:
    """Register a domain. ``data`` has the :mod:`registrar.inputs` domain fields.

    Contacts must exist and be usable; name servers must exist as host objects; statuses must
    be client statuses; the authInfo is generated (never taken from or shown to staff).
    """
    allowed = {"name", "registrant", "tech", "admin", "billing", "nameservers", "ds", "statuses", "reseller"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError(unknown[0], "unknown field")
    years = policy.default_period_years if period_years is None else period_years
    if not 1 <= years <= MAX_TERM_YEARS:
        raise ValidationError("period", f"must be 1 to {MAX_TERM_YEARS} years")
    _check_client_statuses(data.get("statuses") or [], "statuses")
    d = parse_domain({k: v for k, v in data.items() if v is not None})
    for existing in session.scalars(newest_first(select(Domain).where(Domain.ldh_name == d.a_label))):
        if existing.deleted_at is None:
            raise ValidationError("name", f"{d.a_label} is already registered")
        free_from = existing.deleted_at + timedelta(days=REDEMPTION_DAYS + PENDING_DELETE_DAYS)
        if now <= free_from and existing.personal_data_purged_at is None:
            raise Refused("name", f"{d.a_label} was deleted on {existing.deleted_at:%Y-%m-%d} and is still in "
                                  "redemption or pending delete; restore it (registrar domain restore) if still "
                                  f"in redemption, or register it anew after {free_from:%Y-%m-%dT%H:%M:%SZ}")
    contact_ids: dict[str, int] = {}
    for role in ("registrant", "tech", "admin", "billing"):
        handle = getattr(d, role)
        if handle:
            contact = _usable_contact(session, handle, role)
            if role == "registrant":
                check_registrant_data(contact)
            contact_ids[handle] = contact.id
    created_hosts: list[str] = []
    hosts = [host_for_delegation(session, ns, f"nameservers[{i}]", actor=actor, now=now,
                                 created=created_hosts) for i, ns in enumerate(d.nameservers)]
    row = domain_row(d, contact_ids, now, period_years=years)
    row["auth_info"] = secrets.token_urlsafe(18)[:24]
    domain = Domain(**row)
    domain.nameservers = [DomainNameserver(host=h, position=i) for i, h in enumerate(hosts)]
    domain.ds_records = [DSRecord(key_tag=x.key_tag, algorithm=x.algorithm, digest_type=x.digest_type,
                                  digest=x.digest) for x in d.ds]
    session.add(domain)
    registrant = session.get(Contact, contact_ids[d.registrant])
    if registrant is not None and registrant.verified_at is None \
            and registrant.verification_requested_at is None:
        registrant.verification_requested_at = now  # WAPS: verify within the period of a new registration
    session.flush()
    fields = ["registrant", "registrar_expires_at"]
    fields += [role for role in ("tech", "admin", "billing") if getattr(d, role)]
    fields += ["nameservers"] if d.nameservers else []
    fields += ["ds_records"] if d.ds else []
    fields += ["statuses"] if d.statuses else []
    fields += ["reseller"] if d.reseller else []
    note = status_note(d.statuses, ())
    journal(session, actor=actor, object_type="domain", object_key=d.a_label, action="create", fields=fields,
            note=note, at=now)
    return Change("domain", d.a_label, "create", tuple(sorted(fields)), note,
                  extra={"registrar_expires_at": domain.registrar_expires_at, "created_hosts": created_hosts})


@dataclass(frozen=True)
class DomainUpdate:
    """The changes ``update_domain`` applies; every part is optional."""

    add_nameservers: Sequence[str] = ()
    remove_nameservers: Sequence[str] = ()
    add_statuses: Sequence[str] = ()
    remove_statuses: Sequence[str] = ()
    add_ds: Sequence[str] = ()
    remove_ds: Sequence[str] = ()
    remove_all_ds: bool = False
    registrant: str | None = None
    tech: str | None = None
    clear_tech: bool = False
    admin: str | None = None
    clear_admin: bool = False
    billing: str | None = None
    clear_billing: bool = False


def update_domain(session: Session, name: str, upd: DomainUpdate, *, actor: str, now: datetime) -> Change:
    """Change name servers, client statuses, DS records, registrant, tech, admin or billing contact.

    ``clientUpdateProhibited`` blocks every change except its own removal (which may come in the
    same update); ``serverUpdateProhibited`` blocks all changes.
    """
    domain = get_domain(session, name, lock=True)
    if "serverUpdateProhibited" in domain.statuses:
        raise Refused("statuses",
                      f"{domain.ldh_name} has serverUpdateProhibited; ask the registry to lift it")
    for role in ("tech", "admin", "billing"):
        if getattr(upd, role) is not None and getattr(upd, f"clear_{role}"):
            raise ValidationError(role, f"give a new {role} contact or clear it, not both")
    fields: list[str] = []
    notes: list[str] = []

    # statuses (client* only)
    add_st = _check_client_statuses(upd.add_statuses, "add_status")
    rem_st = _check_client_statuses(upd.remove_statuses, "remove_status")
    both = set(add_st) & set(rem_st)
    if both:
        raise ValidationError("add_status", f"{sorted(both)[0]!r} is both added and removed")
    locked = "clientUpdateProhibited" in domain.statuses and "clientUpdateProhibited" not in rem_st
    if locked:
        raise Refused("statuses", f"{domain.ldh_name} has clientUpdateProhibited; remove it in the same "
                                  "update (--remove-status clientUpdateProhibited) or first")
    for s in rem_st:
        if s not in domain.statuses:
            raise ValidationError("remove_status", f"{s!r} is not set on {domain.ldh_name}")
    for s in add_st:
        if s in domain.statuses:
            raise ValidationError("add_status", f"{s!r} is already set on {domain.ldh_name}")
    if add_st or rem_st:
        domain.statuses = [s for s in domain.statuses if s not in rem_st and s != "ok"] + add_st
        fields.append("statuses")
        notes.append(status_note(add_st, rem_st) or "")

    # name servers
    current_ns = [link.host.ldh_name for link in domain.nameservers]
    rem_ns: list[str] = []
    for i, value in enumerate(upd.remove_nameservers):
        a = normalize_domain(value, f"remove_ns[{i}]", min_labels=3).a_label
        if a not in current_ns:
            raise ValidationError(f"remove_ns[{i}]", f"{a} is not a name server of {domain.ldh_name}")
        rem_ns.append(a)
    add_hosts: list[Host] = []
    created_hosts: list[str] = []
    for i, value in enumerate(upd.add_nameservers):
        host = host_for_delegation(session, value, f"add_ns[{i}]", actor=actor, now=now,
                                   created=created_hosts)
        if (host.ldh_name in current_ns and host.ldh_name not in rem_ns) or host in add_hosts:
            raise ValidationError(f"add_ns[{i}]",
                                  f"{host.ldh_name} is already a name server of {domain.ldh_name}")
        add_hosts.append(host)
    if rem_ns or add_hosts:
        kept = [link for link in domain.nameservers if link.host.ldh_name not in rem_ns]
        if len(kept) + len(add_hosts) > MAX_NAMESERVERS:
            raise ValidationError("nameservers", f"at most {MAX_NAMESERVERS} name servers")
        domain.nameservers = kept
        session.flush()
        for i, link in enumerate(kept):
            link.position = i
        domain.nameservers.extend(DomainNameserver(host=h, position=len(kept) + i)
                                  for i, h in enumerate(add_hosts))
        fields.append("nameservers")
        notes.append("nameservers " + " ".join([*(f"+{h.ldh_name}" for h in add_hosts),
                                                *(f"-{n}" for n in rem_ns)]))

    # DS records
    if upd.add_ds or upd.remove_ds or upd.remove_all_ds:
        current_ds = {(d.key_tag, d.algorithm, d.digest_type, d.digest): d for d in domain.ds_records}
        remove_keys = set(current_ds) if upd.remove_all_ds else set()
        for i, text in enumerate(upd.remove_ds):
            key = parse_ds_text(text, f"remove_ds[{i}]")
            if key not in current_ds:
                raise ValidationError(f"remove_ds[{i}]", f"no such DS record on {domain.ldh_name}")
            remove_keys.add(key)
        adding = []
        for i, text in enumerate(upd.add_ds):
            key = parse_ds_text(text, f"add_ds[{i}]")
            if (key in current_ds and key not in remove_keys) or key in adding:
                raise ValidationError(f"add_ds[{i}]", f"this DS record is already on {domain.ldh_name}")
            adding.append(key)
        if remove_keys or adding:
            domain.ds_records = [d for k, d in current_ds.items() if k not in remove_keys]
            session.flush()
            domain.ds_records.extend(DSRecord(key_tag=k[0], algorithm=k[1], digest_type=k[2], digest=k[3])
                                     for k in adding)
            fields.append("ds_records")

    # contacts
    previous_registrant: Contact | None = None
    if upd.registrant is not None:
        registrant = _usable_contact(session, upd.registrant, "registrant")
        if registrant.id != domain.registrant_id:
            check_registrant_data(registrant)
            previous_registrant = domain.registrant
            domain.registrant_id = registrant.id
            domain.registrant = registrant
            fields.append("registrant")
            notes.append(f"registrant contact {previous_registrant.handle} replaced by contact {registrant.handle}")
    for role in ("tech", "admin", "billing"):
        handle = getattr(upd, role)
        old_contact: Contact | None = getattr(domain, role)
        if handle is not None:
            contact = _usable_contact(session, handle, role)
            if contact.id != getattr(domain, f"{role}_id"):
                setattr(domain, f"{role}_id", contact.id)
                setattr(domain, role, contact)
                fields.append(role)
                notes.append(f"{role} contact {old_contact.handle} replaced by contact {contact.handle}"
                             if old_contact is not None else f"{role} contact {contact.handle} added")
        elif getattr(upd, f"clear_{role}") and getattr(domain, f"{role}_id") is not None:
            setattr(domain, f"{role}_id", None)
            setattr(domain, role, None)
            fields.append(role)
            if old_contact is not None:
                notes.append(f"{role} contact {old_contact.handle} removed")

    if not fields:
        return Change("domain", domain.ldh_name, "update")
    domain.updated_at = now
    after: list[tuple[str, str]] = []  # (action, note) of entries written after the update's own
    if previous_registrant is not None:
        registrant = domain.registrant
        if not is_verified(registrant) and registrant.verification_requested_at is None:
            # WAPS: verify the new registrant within the period (a pending clock keeps running)
            registrant.verification_requested_at = now
            registrant.updated_at = now
            journal(session, actor=actor, object_type="contact", object_key=registrant.handle, action="update",
                    fields=["verification_requested_at"],
                    note=f"verification requested: new registrant of {domain.ldh_name}", at=now)
            notes.append(f"verification of contact {registrant.handle} requested (send a token: registrar "
                         f"verification start {registrant.handle})")
        if "clientHold" in domain.statuses and "clientHold" not in add_st \
                and hold_set_by_verification(session, domain):
            # the hold was for the previous registrant's missing verification
            domain.statuses = [s for s in domain.statuses if s != "clientHold"]
            after.append(("verification-release", f"statuses -clientHold: registrant changed from contact "
                                                  f"{previous_registrant.handle} to contact {registrant.handle}"))
    note = "; ".join(n for n in notes if n) or None
    journal(session, actor=actor, object_type="domain", object_key=domain.ldh_name, action="update",
            fields=fields, note=note, at=now)
    for action, extra_note in after:
        journal(session, actor=actor, object_type="domain", object_key=domain.ldh_name, action=action,
                fields=["statuses"], note=extra_note, at=now)
    shown = sorted({*fields, *(["statuses"] if after else [])})
    if after:
        note = "; ".join(x for x in (note, "clientHold lifted: it was the previous registrant's verification "
                                           "hold") if x)
    return Change("domain", domain.ldh_name, "update", tuple(shown), note, extra={"created_hosts": created_hosts})


def renew_domain(session: Session, name: str, years: int = 1, *, actor: str, now: datetime) -> Change:
    """Extend the registrar expiry by ``years`` (at most :data:`MAX_TERM_YEARS` from now in total)."""
    if isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= MAX_TERM_YEARS:
        raise ValidationError("period", f"must be 1 to {MAX_TERM_YEARS} years")
    domain = get_domain(session, name, lock=True)
    for status in ("clientRenewProhibited", "serverRenewProhibited"):
        if status in domain.statuses:
            what = "remove it first (registrar domain update --remove-status clientRenewProhibited)" \
                if status.startswith("client") else "ask the registry to lift it"
            raise Refused("statuses", f"{domain.ldh_name} has {status}; {what}")
    new_expiry = add_years(domain.registrar_expires_at, years)
    if new_expiry > add_years(now, MAX_TERM_YEARS):
        raise ValidationError("period", f"the registration would run until {new_expiry:%Y-%m-%d}, more than "
                                        f"{MAX_TERM_YEARS} years from today")
    old = domain.registrar_expires_at
    domain.registrar_expires_at = new_expiry
    domain.updated_at = now
    journal(session, actor=actor, object_type="domain", object_key=domain.ldh_name, action="renew",
            fields=["registrar_expires_at"], note=f"renewed for {years} year(s)", at=now)
    return Change("domain", domain.ldh_name, "renew", ("registrar_expires_at",),
                  f"renewed for {years} year(s)",
                  extra={"previous_expiry": old, "registrar_expires_at": new_expiry})


def delete_domain(session: Session, name: str, *, actor: str, now: datetime) -> Change:
    """Delete a registration: it enters redemption and leaves WHOIS/RDAP at once; the row stays."""
    domain = get_domain(session, name, lock=True)
    for status in ("clientDeleteProhibited", "serverDeleteProhibited"):
        if status in domain.statuses:
            what = "remove it first (registrar domain update --remove-status clientDeleteProhibited)" \
                if status.startswith("client") else "ask the registry to lift it"
            raise Refused("statuses", f"{domain.ldh_name} has {status}; {what}")
    domain.statuses = [s for s in domain.statuses if s != "ok"] + ["pendingDelete"]
    domain.rgp_statuses = ["redemptionPeriod"]
    domain.deleted_at = now
    domain.sponsorship_ended_at = now
    domain.updated_at = now
    restorable_until = now + timedelta(days=REDEMPTION_DAYS)
    journal(session, actor=actor, object_type="domain", object_key=domain.ldh_name, action="delete",
            fields=["deleted_at", "rgp_statuses", "sponsorship_ended_at", "statuses"],
            note="statuses +pendingDelete; rgp +redemptionPeriod", at=now)
    return Change("domain", domain.ldh_name, "delete",
                  ("deleted_at", "rgp_statuses", "sponsorship_ended_at", "statuses"),
                  extra={"restorable_until": restorable_until})


def restore_domain(session: Session, name: str, *, actor: str, now: datetime) -> Change:
    """Restore a deleted registration within the redemption period."""
    domain = get_domain(session, name, include_deleted=True, lock=True)
    if domain.deleted_at is None:
        raise Refused("name", f"{domain.ldh_name} is not deleted")
    deadline = domain.deleted_at + timedelta(days=REDEMPTION_DAYS)
    if now > deadline:
        raise Refused("name", f"the redemption period of {domain.ldh_name} ended on "
                              f"{deadline:%Y-%m-%dT%H:%M:%SZ}; it can no longer be restored")
    if domain.personal_data_purged_at is not None:
        raise Refused("name", f"the personal data of {domain.ldh_name} has been purged; register it anew")
    for role in ("registrant", "tech", "admin", "billing"):
        contact = getattr(domain, role)
        if contact is not None and (contact.erased_at or contact.erasure_requested_at) is not None:
            raise Refused(role, f"contact {contact.handle!r} has been erased or asked to be; "
                                "a restored registration needs a usable contact")
    domain.statuses = [s for s in domain.statuses if s != "pendingDelete"]
    domain.rgp_statuses = []
    domain.deleted_at = None
    domain.sponsorship_ended_at = None
    domain.updated_at = now
    fields = ["deleted_at", "rgp_statuses", "sponsorship_ended_at", "statuses"]
    note = "statuses -pendingDelete; rgp -redemptionPeriod (restore request and report complete)"
    journal(session, actor=actor, object_type="domain", object_key=domain.ldh_name, action="restore",
            fields=fields, note=note, at=now)
    return Change("domain", domain.ldh_name, "restore", tuple(fields), note)


def journal_entries(session: Session, *, object_type: str | None = None, object_key: str | None = None,
                    actor: str | None = None, since: datetime | None = None, action: str | None = None,
                    limit: int = 100) -> list[JournalEntry]:
    """Journal entries, newest first, filtered."""
    stmt = select(JournalEntry)
    if object_type:
        stmt = stmt.where(JournalEntry.object_type == object_type)
    if object_key:
        stmt = stmt.where(JournalEntry.object_key == object_key)
    if actor:
        stmt = stmt.where(JournalEntry.actor == actor)
    if since:
        stmt = stmt.where(JournalEntry.at >= since)
    if action:
        stmt = stmt.where(JournalEntry.action == action)
    return list(session.scalars(stmt.order_by(JournalEntry.id.desc()).limit(limit)))
