"""Validated input records: what fixtures, the CLI and imports hand to the write path.

``parse_contact``, ``parse_host`` and ``parse_domain`` take plain mappings (from TOML, JSON
lines or command-line options), check every field with :mod:`registrar.validation`, and return
frozen dataclasses. Unknown keys are rejected, so a misspelt field is an error, not a silent
default. ``*_row`` functions turn inputs into column dictionaries shared by the ORM write path
and the bulk loader.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from registrar.models import ConsentElement
from registrar.validation import (
    ValidationError,
    normalize_domain,
    validate_country,
    validate_ds,
    validate_email_address,
    validate_extension,
    validate_handle,
    validate_ip,
    validate_phone,
    validate_rgp_statuses,
    validate_statuses,
    validate_text,
)

#: Handles an erasure gives to contacts (``ERASED-<id>``, see :mod:`registrar.privacy`): reserved.
ERASED_HANDLE_PREFIX = "ERASED-"
CONTACT_KEYS = {"handle", "name", "organization", "street", "city", "state_province", "postal_code",
                "country_code", "phone", "phone_ext", "fax", "fax_ext", "email", "consent", "created",
                "updated", "verified", "registry_roid", "retention_hold"}
HOST_KEYS = {"name", "addresses", "registry_roid", "created"}
DOMAIN_KEYS = {"name", "registry_roid", "created", "updated", "registrar_expires", "registry_expires",
               "transferred", "statuses", "rgp_statuses", "registrant", "tech", "admin", "billing",
               "nameservers", "ds", "auth_info", "reseller", "deleted"}


def _check_keys(data: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError(unknown[0], "unknown field")


def parse_time(value: Any, field: str) -> datetime:
    """An RFC 3339 timestamp (``Z`` or offset) or a TOML datetime, returned in UTC."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(field, f"{value!r} is not an RFC 3339 timestamp") from None
    else:
        raise ValidationError(field, "expected a timestamp")
    if dt.tzinfo is None:
        raise ValidationError(field, "timestamp needs a time zone (use Z for UTC)")
    return dt.astimezone(UTC).replace(microsecond=0)


def _opt_time(data: Mapping[str, Any], key: str) -> datetime | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    return parse_time(value, key)


def _str_list(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(field, "expected a list of strings")
    return list(value)


@dataclass(frozen=True)
class ContactInput:
    """A validated contact."""

    handle: str
    name: str
    organization: str | None
    street: tuple[str, ...]
    city: str
    state_province: str | None
    postal_code: str | None
    country_code: str
    phone: str | None
    phone_ext: str | None
    fax: str | None
    fax_ext: str | None
    email: str
    consent: frozenset[ConsentElement]
    created: datetime | None
    updated: datetime | None
    verified: datetime | None
    registry_roid: str | None
    retention_hold: str | None


def parse_contact(data: Mapping[str, Any]) -> ContactInput:
    """Validate a contact mapping."""
    _check_keys(data, CONTACT_KEYS)
    handle = validate_handle(data.get("handle", ""), "handle")
    if handle.upper().startswith(ERASED_HANDLE_PREFIX):
        raise ValidationError("handle", f"handles starting with {ERASED_HANDLE_PREFIX!r} are reserved for "
                                        "erased contacts")
    streets = _str_list(data.get("street"), "street")
    if len(streets) > 3:
        raise ValidationError("street", "at most 3 street lines")
    street = tuple(validate_text(s, f"street[{i}]", required=True) or "" for i, s in enumerate(streets))
    phone = validate_phone(data.get("phone"), "phone")
    fax = validate_phone(data.get("fax"), "fax")
    consent: set[ConsentElement] = set()
    for i, element in enumerate(_str_list(data.get("consent"), "consent")):
        try:
            consent.add(ConsentElement(element))
        except ValueError:
            allowed = ", ".join(e.value for e in ConsentElement)
            raise ValidationError(f"consent[{i}]", f"{element!r} is not one of: {allowed}") from None
    verified: datetime | None
    raw_verified = data.get("verified")
    if raw_verified is True:
        verified = _opt_time(data, "created") or datetime.now(UTC).replace(microsecond=0)
    elif raw_verified in (None, False):
        verified = None
    else:
        verified = parse_time(raw_verified, "verified")
    postal = validate_text(data.get("postal_code"), "postal_code", max_length=16)
    return ContactInput(
        handle=handle,
        name=validate_text(data.get("name"), "name", required=True) or "",
        organization=validate_text(data.get("organization"), "organization"),
        street=street,
        city=validate_text(data.get("city"), "city", required=True) or "",
        state_province=validate_text(data.get("state_province"), "state_province"),
        postal_code=postal,
        country_code=validate_country(data.get("country_code"), "country_code"),
        phone=phone,
        phone_ext=validate_extension(data.get("phone_ext"), "phone_ext", base=phone),
        fax=fax,
        fax_ext=validate_extension(data.get("fax_ext"), "fax_ext", base=fax),
        email=validate_email_address(data.get("email"), "email"),
        consent=frozenset(consent),
        created=_opt_time(data, "created"),
        updated=_opt_time(data, "updated"),
        verified=verified,
        registry_roid=validate_text(data.get("registry_roid"), "registry_roid", max_length=89),
        retention_hold=validate_text(data.get("retention_hold"), "retention_hold"),
    )


def contact_row(c: ContactInput, now: datetime) -> dict[str, Any]:
    """Column values for a new contact."""
    created = c.created or now
    streets = [*c.street, None, None, None]
    return {
        "handle": c.handle, "registry_roid": c.registry_roid, "name": c.name, "organization": c.organization,
        "street1": streets[0], "street2": streets[1], "street3": streets[2], "city": c.city,
        "state_province": c.state_province, "postal_code": c.postal_code, "country_code": c.country_code,
        "phone": c.phone, "phone_ext": c.phone_ext, "fax": c.fax, "fax_ext": c.fax_ext, "email": c.email,
        "created_at": created, "updated_at": c.updated or created,
        "verification_requested_at": created if c.verified is None else None, "verified_at": c.verified,
        "retention_hold": c.retention_hold,
    }


@dataclass(frozen=True)
class HostInput:
    """A validated host."""

    name: str
    addresses: tuple[tuple[str, int], ...]
    registry_roid: str | None
    created: datetime | None


def parse_host(data: Mapping[str, Any]) -> HostInput:
    """Validate a host mapping."""
    _check_keys(data, HOST_KEYS)
    name = normalize_domain(data.get("name", ""), "name", min_labels=3).a_label
    addresses = []
    for i, addr in enumerate(_str_list(data.get("addresses"), "addresses")):
        ip = validate_ip(addr, f"addresses[{i}]")
        if ip not in addresses:
            addresses.append(ip)
    return HostInput(name=name, addresses=tuple(addresses),
                     registry_roid=validate_text(data.get("registry_roid"), "registry_roid", max_length=89),
                     created=_opt_time(data, "created"))


@dataclass(frozen=True)
class DSInput:
    """A validated DS record."""

    key_tag: int
    algorithm: int
    digest_type: int
    digest: str


@dataclass(frozen=True)
class DomainInput:
    """A validated registration (contacts and hosts referenced by handle / name)."""

    a_label: str
    u_label: str
    tld: str
    registry_roid: str | None
    created: datetime | None
    updated: datetime | None
    registrar_expires: datetime | None
    registry_expires: datetime | None
    transferred: datetime | None
    statuses: tuple[str, ...]
    rgp_statuses: tuple[str, ...]
    registrant: str
    tech: str | None
    admin: str | None
    billing: str | None
    nameservers: tuple[str, ...]
    ds: tuple[DSInput, ...]
    auth_info: str | None
    reseller: str | None
    deleted: datetime | None


def parse_domain(data: Mapping[str, Any]) -> DomainInput:
    """Validate a domain mapping."""
    _check_keys(data, DOMAIN_KEYS)
    name = normalize_domain(data.get("name", ""), "name")
    ns = []
    for i, host in enumerate(_str_list(data.get("nameservers"), "nameservers")):
        a = normalize_domain(host, f"nameservers[{i}]", min_labels=3).a_label
        if a in ns:
            raise ValidationError(f"nameservers[{i}]", f"{a} is listed twice")
        ns.append(a)
    if len(ns) > 13:
        raise ValidationError("nameservers", "at most 13 name servers")
    ds_list = data.get("ds") or []
    if not isinstance(ds_list, list):
        raise ValidationError("ds", "expected a list of DS records")
    ds = []
    for i, item in enumerate(ds_list):
        if not isinstance(item, Mapping):
            raise ValidationError(f"ds[{i}]", "expected a table with key_tag, algorithm, digest_type, digest")
        _check_keys(item, {"key_tag", "algorithm", "digest_type", "digest"})
        ds.append(DSInput(*validate_ds(item.get("key_tag"), item.get("algorithm"), item.get("digest_type"),
                                       item.get("digest"), f"ds[{i}]")))
    statuses = validate_statuses(_str_list(data.get("statuses"), "statuses"))
    rgp = validate_rgp_statuses(_str_list(data.get("rgp_statuses"), "rgp_statuses"))
    if rgp and "ok" in statuses:
        raise ValidationError("statuses", "'ok' cannot be combined with RGP statuses")
    if {"redemptionPeriod", "pendingRestore"} & set(rgp) and "pendingDelete" not in statuses:
        raise ValidationError("rgp_statuses", "redemptionPeriod/pendingRestore need the pendingDelete status")
    registrant = data.get("registrant")
    if not registrant:
        raise ValidationError("registrant", "a registrant contact handle is required")
    auth = data.get("auth_info")
    if auth is not None and (not isinstance(auth, str) or not 6 <= len(auth) <= 32):
        raise ValidationError("auth_info", "must be 6-32 characters")
    created = _opt_time(data, "created")
    updated = _opt_time(data, "updated")
    if created and updated and updated < created:
        raise ValidationError("updated", "is before created")
    return DomainInput(
        a_label=name.a_label, u_label=name.u_label, tld=name.tld,
        registry_roid=validate_text(data.get("registry_roid"), "registry_roid", max_length=89),
        created=created, updated=updated,
        registrar_expires=_opt_time(data, "registrar_expires"),
        registry_expires=_opt_time(data, "registry_expires"),
        transferred=_opt_time(data, "transferred"),
        statuses=tuple(statuses), rgp_statuses=tuple(rgp),
        registrant=validate_handle(registrant, "registrant"),
        tech=validate_handle(data["tech"], "tech") if data.get("tech") else None,
        admin=validate_handle(data["admin"], "admin") if data.get("admin") else None,
        billing=validate_handle(data["billing"], "billing") if data.get("billing") else None,
        nameservers=tuple(ns), ds=tuple(ds), auth_info=auth,
        reseller=validate_text(data.get("reseller"), "reseller"),
        deleted=_opt_time(data, "deleted"),
    )
