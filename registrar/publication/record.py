"""The public record: what the world may see of a registration, element by element.

This module is the only place that reads personal fields of a stored registration for
output. :func:`build_public_record` applies the Registration Data Policy
(``shared/spec/icann-rdds.md`` §2) and each contact's recorded consent, and returns plain,
immutable values. WHOIS text, RDAP JSON, EPP payloads to registries and the staff CLI's
previews are all rendered from a :class:`PublicRecord`; none of them sees the ORM rows.

Each contact element is one :class:`Element` with a :class:`Disposition`:

* ``PUBLISHED`` — ``value`` is the stored value (policy publishes it, or the contact consented);
* ``REDACTED`` — ``value`` is ``None``; ``method`` is the RFC 9537 method RDAP signals;
* ``REPLACED`` — ``value`` is the substitute (contact-form URL or relay address), never the
  stored one; ``replacement`` says which;
* ``ABSENT`` — nothing is stored, so there is nothing to publish or redact.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from registrar.config import PrivacyConfig, RegistrarConfig
from registrar.models import ConsentElement, Contact, Domain, Host
from registrar.names import to_unicode

T = TypeVar("T")

Role = Literal["registrant", "technical"]


class Disposition(enum.StrEnum):
    """What happens to one data element in public output."""

    PUBLISHED = "published"
    REDACTED = "redacted"
    REPLACED = "replaced"
    ABSENT = "absent"


class RedactionMethod(enum.StrEnum):
    """RFC 9537 redaction methods."""

    REMOVAL = "removal"
    EMPTY_VALUE = "emptyValue"
    REPLACEMENT_VALUE = "replacementValue"


REDACTION_REASON = "Server policy"


@dataclass(frozen=True)
class Element(Generic[T]):
    """One data element of the public record.

    ``name`` is the ICANN redaction name (RP24 Appendix E), e.g. ``"Registrant Name"``.
    """

    name: str
    disposition: Disposition
    value: T | None = None
    method: RedactionMethod | None = None
    reason: str | None = None
    replacement: Literal["web-form", "relay"] | None = None

    @property
    def published(self) -> bool:
        """True when the stored value itself is public."""
        return self.disposition is Disposition.PUBLISHED

    @property
    def redacted(self) -> bool:
        """True when a stored value is withheld (and must be signalled as redacted)."""
        return self.disposition in (Disposition.REDACTED, Disposition.REPLACED)


@dataclass(frozen=True)
class PublicContact:
    """The public view of the registrant or the technical contact."""

    role: Role
    registry_id: Element[str]
    name: Element[str]
    organization: Element[str]
    street: Element[tuple[str, ...]]
    city: Element[str]
    state_province: Element[str]
    postal_code: Element[str]
    country_code: Element[str]
    phone: Element[str]
    phone_ext: Element[str]
    fax: Element[str]
    fax_ext: Element[str]
    email: Element[str]

    def elements(self) -> Iterator[Element[Any]]:
        """All elements in a stable order."""
        for f in ("registry_id", "name", "organization", "street", "city", "state_province", "postal_code",
                  "country_code", "phone", "phone_ext", "fax", "fax_ext", "email"):
            yield getattr(self, f)


@dataclass(frozen=True)
class PublicDS:
    """A DS record (always public)."""

    key_tag: int
    algorithm: int
    digest_type: int
    digest: str


@dataclass(frozen=True)
class PublicHost:
    """A name server as published: A-label, U-label when IDN, glue addresses."""

    ldh_name: str
    unicode_name: str | None
    ipv4: tuple[str, ...] = ()
    ipv6: tuple[str, ...] = ()
    registry_roid: str | None = None


@dataclass(frozen=True)
class RegistrarInfo:
    """Our accreditation data as published."""

    name: str
    iana_id: int
    url: str
    whois_server: str
    rdap_base_url: str
    abuse_email: str
    abuse_phone: str
    tos_url: str
    disclosure_url: str
    terms_of_use: str


@dataclass(frozen=True)
class PublicRecord:
    """Everything the public may see of one registration."""

    ldh_name: str
    unicode_name: str | None
    registry_domain_id: Element[str]
    created: datetime
    updated: datetime
    registrar_expires: datetime
    registry_expires: datetime | None
    transferred: datetime | None
    statuses: tuple[str, ...]
    nameservers: tuple[PublicHost, ...]
    ds_records: tuple[PublicDS, ...]
    registrar: RegistrarInfo
    reseller: str | None
    registrant: PublicContact
    tech: PublicContact | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def dnssec_signed(self) -> bool:
        """Whether DS data is held for the delegation."""
        return bool(self.ds_records)

    @property
    def updated_since_creation(self) -> bool:
        """Whether the registration changed after it was created (RDAP `last changed`)."""
        return self.updated > self.created

    def contacts(self) -> Iterator[PublicContact]:
        """The published contacts: registrant, then tech when present."""
        yield self.registrant
        if self.tech is not None:
            yield self.tech

    def elements(self) -> Iterator[Element[Any]]:
        """Every personal or optional element, for parity and redaction checks."""
        yield self.registry_domain_id
        for contact in self.contacts():
            yield from contact.elements()


def registrar_info(config: RegistrarConfig) -> RegistrarInfo:
    """The registrar block of every record, from configuration."""
    return RegistrarInfo(
        name=config.name, iana_id=config.iana_id, url=config.url, whois_server=config.whois_server,
        rdap_base_url=config.rdap_base_url, abuse_email=config.abuse_email, abuse_phone=config.abuse_phone,
        tos_url=config.tos_url, disclosure_url=config.disclosure_url, terms_of_use=config.terms_of_use,
    )


def _redacted(name: str, method: RedactionMethod) -> Element[T]:
    return Element(name=name, disposition=Disposition.REDACTED, method=method, reason=REDACTION_REASON)


def _policy(name: str, value: T | None, consent: bool, method: RedactionMethod) -> Element[T]:
    """Published with consent, otherwise redacted; absent when nothing is stored."""
    if value is None or value == () or value == "":
        return Element(name=name, disposition=Disposition.ABSENT)
    if consent:
        return Element(name=name, disposition=Disposition.PUBLISHED, value=value)
    return _redacted(name, method)


def _always(name: str, value: T | None) -> Element[T]:
    if value is None or value == "":
        return Element(name=name, disposition=Disposition.ABSENT)
    return Element(name=name, disposition=Disposition.PUBLISHED, value=value)


def _not_in_data_set(name: str) -> Element[T]:
    return Element(name=name, disposition=Disposition.ABSENT)


def relay_token(secret: str, domain: str, role: str) -> str:
    """A stable, opaque token for a domain's relay address (no personal data in it)."""
    digest = hmac.new(secret.encode(), f"{domain}\x00{role}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:15]).decode("ascii").lower()


def email_replacement(privacy: PrivacyConfig, domain: str, role: Role) -> Element[str]:
    """The public stand-in for a contact's email: a contact-form URL or a relay address."""
    name = "Registrant Email" if role == "registrant" else "Tech Email"
    url_role = "registrant" if role == "registrant" else "tech"
    if privacy.email_mode == "relay":
        value = privacy.relay_address.format(token=relay_token(privacy.relay_secret, domain, url_role))
        return Element(name=name, disposition=Disposition.REPLACED, value=value,
                       method=RedactionMethod.REPLACEMENT_VALUE, reason=REDACTION_REASON, replacement="relay")
    value = privacy.contact_form_url.format(domain=domain, role=url_role)
    return Element(name=name, disposition=Disposition.REPLACED, value=value,
                   method=RedactionMethod.REPLACEMENT_VALUE, reason=REDACTION_REASON, replacement="web-form")


def public_contact(contact: Contact, role: Role, domain: str, privacy: PrivacyConfig) -> PublicContact:
    """Apply the policy and the contact's consent to one contact in one role."""
    consent = contact.consented()
    label = "Registrant" if role == "registrant" else "Tech"
    id_name = "Registry Registrant ID" if role == "registrant" else "Registry Tech ID"
    email: Element[str]
    if ConsentElement.EMAIL in consent:
        email = Element(name=f"{label} Email", disposition=Disposition.PUBLISHED, value=contact.email)
    else:
        email = email_replacement(privacy, domain, role)
    phone = _policy(f"{label} Phone", contact.phone, ConsentElement.PHONE in consent, RedactionMethod.REMOVAL)
    phone_ext = _policy(f"{label} Phone Ext", contact.phone_ext if contact.phone else None,
                        ConsentElement.PHONE in consent, RedactionMethod.REMOVAL)
    registry_id = _policy(id_name, contact.registry_roid, ConsentElement.REGISTRY_ID in consent,
                          RedactionMethod.REMOVAL)
    if contact.registry_roid is None:
        # No registry ID to publish (thin registry, or not yet assigned): RDAP omits the handle, and
        # the profile (rdapct -63100...) then wants a removal redaction, consent or not.
        registry_id = _redacted(id_name, RedactionMethod.REMOVAL)
    name = _policy(f"{label} Name", contact.name, ConsentElement.NAME in consent, RedactionMethod.EMPTY_VALUE)
    if role == "technical":
        # RP24 §2.7.6: the technical contact's data set is name, phone and email only.
        return PublicContact(
            role=role, registry_id=registry_id, name=name,
            organization=_not_in_data_set("Tech Organization"), street=_not_in_data_set("Tech Street"),
            city=_not_in_data_set("Tech City"), state_province=_not_in_data_set("Tech State/Province"),
            postal_code=_not_in_data_set("Tech Postal Code"), country_code=_not_in_data_set("Tech Country"),
            phone=phone, phone_ext=phone_ext, fax=_not_in_data_set("Tech Fax"),
            fax_ext=_not_in_data_set("Tech Fax Ext"), email=email,
        )
    streets = tuple(contact.streets)
    return PublicContact(
        role=role,
        registry_id=registry_id,
        name=name,
        organization=_policy("Registrant Organization", contact.organization,
                             ConsentElement.ORGANIZATION in consent, RedactionMethod.REMOVAL),
        street=_policy("Registrant Street", streets or None, ConsentElement.STREET in consent,
                       RedactionMethod.EMPTY_VALUE),
        city=_policy("Registrant City", contact.city, ConsentElement.CITY in consent, RedactionMethod.EMPTY_VALUE),
        state_province=_always("Registrant State/Province", contact.state_province),
        postal_code=_policy("Registrant Postal Code", contact.postal_code, ConsentElement.POSTAL_CODE in consent,
                            RedactionMethod.EMPTY_VALUE),
        country_code=_always("Registrant Country", contact.country_code),
        phone=phone,
        phone_ext=phone_ext,
        fax=_policy("Registrant Fax", contact.fax, ConsentElement.FAX in consent, RedactionMethod.REMOVAL),
        fax_ext=_policy("Registrant Fax Ext", contact.fax_ext if contact.fax else None,
                        ConsentElement.FAX in consent, RedactionMethod.REMOVAL),
        email=email,
    )


def public_host(host: Host) -> PublicHost:
    """The public view of a name server host."""
    u = to_unicode(host.ldh_name)
    return PublicHost(
        ldh_name=host.ldh_name,
        unicode_name=u if u != host.ldh_name else None,
        ipv4=tuple(a.address for a in host.addresses if a.version == 4),
        ipv6=tuple(a.address for a in host.addresses if a.version == 6),
        registry_roid=host.registry_roid,
    )


def public_statuses(domain: Domain) -> tuple[str, ...]:
    """EPP and RGP statuses in display order, without duplicates; ``ok`` when there are none."""
    out: list[str] = []
    for status in [*domain.statuses, *domain.rgp_statuses]:
        if status not in out:
            out.append(status)
    if not out:
        out = ["ok"]
    return tuple(out)


def build_public_record(domain: Domain, registrar: RegistrarConfig | RegistrarInfo,
                        privacy: PrivacyConfig) -> PublicRecord:
    """Turn a stored registration into its public record (policy + consent applied)."""
    info = registrar if isinstance(registrar, RegistrarInfo) else registrar_info(registrar)
    roid: Element[str] = _always("Registry Domain ID", domain.registry_roid)
    return PublicRecord(
        ldh_name=domain.ldh_name,
        unicode_name=domain.unicode_name if domain.unicode_name and domain.unicode_name != domain.ldh_name
        else None,
        registry_domain_id=roid,
        created=domain.created_at,
        updated=domain.updated_at,
        registrar_expires=domain.registrar_expires_at,
        registry_expires=domain.registry_expires_at,
        transferred=domain.transferred_at,
        statuses=public_statuses(domain),
        nameservers=tuple(public_host(link.host) for link in domain.nameservers),
        ds_records=tuple(PublicDS(ds.key_tag, ds.algorithm, ds.digest_type, ds.digest) for ds in domain.ds_records),
        registrar=info,
        reseller=domain.reseller,
        registrant=public_contact(domain.registrant, "registrant", domain.ldh_name, privacy),
        tech=public_contact(domain.tech, "technical", domain.ldh_name, privacy) if domain.tech else None,
    )
