"""What the sync may send to a registry, rendered from the public record only.

The sync never reads a contact's stored values: it renders EPP payloads from
:class:`~registrar.publication.record.PublicRecord`, so a non-public value cannot reach a
registry under any setting. In the ``minimum`` data model no contact data is sent at all. In
``thick-public`` contacts are sent as the public record shows them: published elements as they
are; elements the EPP schema requires but policy redacts carry the configured placeholder and are
listed in ``<contact:disclose flag="0">``; the email is the public relay address.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass

from registrar.config import PrivacyConfig, RegistryConfig
from registrar.epp.types import ContactData, DSRecord
from registrar.publication.record import Element, PublicContact, PublicRecord, relay_token


@dataclass(frozen=True)
class DesiredHost:
    """A host as the registry should have it (glue only for hosts under the registry's TLDs)."""

    name: str
    addresses: tuple[str, ...]


@dataclass(frozen=True)
class DesiredDomain:
    """A domain as the registry should have it."""

    name: str
    nameservers: tuple[str, ...]
    hosts: tuple[DesiredHost, ...]
    client_statuses: frozenset[str]
    ds: tuple[DSRecord, ...]
    registrant: ContactData | None
    tech: ContactData | None


CLIENT_STATUSES = frozenset({"clientHold", "clientDeleteProhibited", "clientRenewProhibited",
                             "clientTransferProhibited", "clientUpdateProhibited"})


def epp_contact_id(domain: str, role: str) -> str:
    """A stable registry contact ID per domain and role (3-16 chars; reveals nothing personal)."""
    digest = hashlib.sha256(f"{domain}\x00{role}".encode()).hexdigest()[:12].upper()
    return f"{'R' if role == 'registrant' else 'T'}{digest}"


def xml_text(value: str | None) -> str | None:
    """``value`` as an EPP text value: control characters (not allowed in XML) become spaces and
    whitespace is collapsed as the schema's normalized strings/tokens expect (None if nothing is left)."""
    if value is None:
        return None
    cleaned = "".join(" " if unicodedata.category(c) in ("Cc", "Cs") or c in "\ufffe\uffff" else c for c in value)
    return " ".join(cleaned.split()) or None


def _value(element: Element[str], placeholder: str, hidden: set[str], disclose: str) -> str:
    if element.published and element.value and xml_text(element.value):
        return xml_text(element.value) or placeholder
    hidden.add(disclose)
    return placeholder


def epp_contact(contact: PublicContact, domain: str, registry: RegistryConfig,
                privacy: PrivacyConfig, *, fallback_cc: str | None = None) -> ContactData:
    """The thick-public EPP view of a contact, from its public record.

    EPP requires a valid ISO 3166 country code, but the tech contact's address is not in the
    Registration Data Policy's tech data set: ``fallback_cc`` (the registrant's country, which is
    always public) is sent instead, with ``addr`` listed in ``<contact:disclose flag="0">``.
    """
    hidden: set[str] = set()
    placeholder = registry.redaction_placeholder
    name = _value(contact.name, placeholder, hidden, "name")
    org = xml_text(contact.organization.value) if contact.organization.published else None
    if contact.organization.redacted:
        hidden.add("org")
    street: tuple[str, ...] = ()
    if contact.street.published:
        street = tuple(line for line in (xml_text(v) for v in contact.street.value or ()) if line)
    if contact.street.redacted:
        street = (placeholder,)
    city = (xml_text(contact.city.value) if contact.city.published else None) or placeholder
    if not (contact.city.published and contact.street.published and contact.postal_code.published):
        hidden.add("addr")
    pc = xml_text(contact.postal_code.value) if contact.postal_code.published else None
    voice = contact.phone.value if contact.phone.published else None
    voice_ext = contact.phone_ext.value if contact.phone_ext.published else None
    if contact.phone.redacted:
        hidden.add("voice")
    fax = contact.fax.value if contact.fax.published else None
    fax_ext = contact.fax_ext.value if contact.fax_ext.published else None
    if contact.fax.redacted:
        hidden.add("fax")
    if contact.email.published and contact.email.value:
        email = contact.email.value
    else:
        role = "registrant" if contact.role == "registrant" else "tech"
        email = privacy.relay_address.format(token=relay_token(privacy.relay_secret, domain, role))
        hidden.add("email")
    cc = contact.country_code.value if contact.country_code.published and contact.country_code.value \
        else (fallback_cc or "ZZ")
    return ContactData(
        id=epp_contact_id(domain, contact.role), name=name, org=org, street=street, city=city,
        sp=xml_text(contact.state_province.value), pc=pc, cc=cc, voice=voice, voice_ext=voice_ext, fax=fax,
        fax_ext=fax_ext, email=email, disclose_hidden=frozenset(hidden),
    )


def desired_domain(record: PublicRecord, registry: RegistryConfig, privacy: PrivacyConfig) -> DesiredDomain:
    """What the registry should hold for this registration under the registry's data model."""
    tlds = {t.lower().strip(".") for t in registry.tlds}
    hosts = []
    for ns in record.nameservers:
        internal = ns.ldh_name.rsplit(".", 1)[-1] in tlds
        hosts.append(DesiredHost(ns.ldh_name, tuple(ns.ipv4 + ns.ipv6) if internal else ()))
    thick = registry.data_model == "thick-public"
    return DesiredDomain(
        name=record.ldh_name,
        nameservers=tuple(ns.ldh_name for ns in record.nameservers),
        hosts=tuple(hosts),
        client_statuses=frozenset(s for s in record.statuses if s in CLIENT_STATUSES),
        ds=tuple(DSRecord(d.key_tag, d.algorithm, d.digest_type, d.digest) for d in record.ds_records),
        registrant=epp_contact(record.registrant, record.ldh_name, registry, privacy) if thick else None,
        tech=epp_contact(record.tech, record.ldh_name, registry, privacy,
                         fallback_cc=record.registrant.country_code.value)
        if thick and record.tech else None,
    )
