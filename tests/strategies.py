"""Hypothesis strategies for random registrations, shared by the WHOIS, RDAP and EPP tests.

Everything is built in memory: the ORM objects (:class:`registrar.models.Domain`,
:class:`~registrar.models.Contact`, …) are never added to a session, so drawing an example
costs microseconds and needs no database.

API (import with ``from tests.strategies import registrations, Registration``):

``registrations()`` → ``SearchStrategy[Registration]``
    A random registration: registrant (individual or organisation), optional tech contact
    (sometimes the registrant itself), optional admin and billing contacts, random per-element
    consent histories (given, withdrawn, given again…), optional phone/fax extensions, 0-3
    street lines, optional registry ROIDs, 0-3 name servers with glue, 0-2 DS records, a
    status set, an optional reseller, an ASCII or IDN name, and a random privacy
    configuration (``web-form`` or ``relay`` email replacement).

``Registration``
    ``.domain``     the :class:`~registrar.models.Domain` (with its contacts attached);
    ``.privacy``    the :class:`~registrar.config.PrivacyConfig` to publish it with;
    ``.registrar``  the :class:`~registrar.config.RegistrarConfig`;
    ``.markers``    ``{marker: must_be_public}`` for every marker string planted in the data;
    ``.public_record()``  ``build_public_record(domain, registrar, privacy)``;
    ``.visible()`` / ``.hidden()``  the markers that must / must not appear in public output.

Markers: every non-public value (registrant/tech name, organisation, street, city, postal
code, phone, phone ext, fax, fax ext, email, registry contact ID; every admin and billing
value; the domain's authInfo) contains a marker unique within the registration, e.g.
``qzRNAMEq`` for the registrant's name, ``5550001001`` in its phone ``+1.5550001001``,
``981713`` for its phone extension. The registrant's
State/Province carries a marker too, and is expected to be public (the RDP publishes it).
A marker must be public exactly when the policy publishes that element for one of the roles
the contact plays: the registrant publishes each consented element; the tech contact
publishes only its consented name, phone (+ext), email and registry ID (RP24 §2.7.6); admin
and billing contacts and the authInfo never. Random filler text around text markers never
contains ``q``, so it cannot form a marker by accident; it may contain control characters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import idna
from hypothesis import strategies as st

from registrar.config import PrivacyConfig, RegistrarConfig
from registrar.models import (
    ConsentElement,
    ConsentEvent,
    Contact,
    Domain,
    DomainNameserver,
    DSRecord,
    Host,
    HostAddress,
)
from registrar.publication.record import PublicRecord, build_public_record

__all__ = ["Registration", "registrations"]

BASE_TIME = datetime(2020, 1, 1, tzinfo=UTC)

# Tech contacts publish only these elements (with consent); registrants publish any consented one.
TECH_PUBLISHABLE = frozenset({ConsentElement.NAME, ConsentElement.PHONE, ConsentElement.EMAIL,
                              ConsentElement.REGISTRY_ID})

# Valid status combinations (RFC 5731 / RFC 3915 rules), as (EPP statuses, RGP statuses).
STATUS_SETS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    ((), ()),
    (("clientTransferProhibited",), ()),
    (("clientDeleteProhibited", "clientTransferProhibited", "clientUpdateProhibited"), ()),
    (("clientHold",), ()),
    (("serverHold", "serverTransferProhibited"), ()),
    (("inactive",), ()),
    (("pendingCreate",), ()),
    (("pendingTransfer",), ()),
    (("pendingDelete",), ("redemptionPeriod",)),
    (("pendingDelete",), ("pendingRestore",)),
    (("pendingDelete", "inactive"), ("pendingDelete",)),
    ((), ("addPeriod",)),
    (("clientTransferProhibited",), ("autoRenewPeriod",)),
)

IDN_LABELS = ("bücher", "例子", "пример", "παράδειγμα", "مثال", "straße")

# Filler around text markers: anything but "q" (so it never forms a marker), controls included.
_filler = st.text(st.characters(exclude_characters="qQ", exclude_categories=("Cs",)), max_size=6)


@dataclass
class Registration:
    """One random registration and the markers planted in it (see the module docstring)."""

    domain: Domain
    privacy: PrivacyConfig
    registrar: RegistrarConfig
    markers: dict[str, bool] = field(default_factory=dict)
    summary: str = ""

    def public_record(self) -> PublicRecord:
        """The public record of this registration."""
        return build_public_record(self.domain, self.registrar, self.privacy)

    def visible(self) -> list[str]:
        """Markers that every public output must show."""
        return [m for m, public in self.markers.items() if public]

    def hidden(self) -> list[str]:
        """Markers that no public output may show."""
        return [m for m, public in self.markers.items() if not public]

    def __repr__(self) -> str:
        return f"Registration({self.domain.ldh_name}: {self.summary})"


@dataclass
class _ContactDraw:
    slot: str  # "R", "T", "A", "B": registrant, tech, admin, billing
    has_org: bool
    streets: int
    has_state: bool
    has_postal: bool
    has_phone: bool
    has_phone_ext: bool
    has_fax: bool
    has_fax_ext: bool
    has_roid: bool
    history: list[tuple[ConsentElement, bool]]
    fillers: list[str]


@st.composite
def _contact_draws(draw: st.DrawFn, slot: str) -> _ContactDraw:
    has_phone = draw(st.booleans())
    has_fax = draw(st.booleans())
    elements = list(ConsentElement)
    history = draw(st.lists(st.tuples(st.sampled_from(elements), st.booleans()), max_size=12))
    return _ContactDraw(
        slot=slot, has_org=draw(st.booleans()), streets=draw(st.integers(0, 3)),
        has_state=draw(st.booleans()),
        has_postal=draw(st.booleans()), has_phone=has_phone, has_phone_ext=has_phone and draw(st.booleans()),
        has_fax=has_fax, has_fax_ext=has_fax and draw(st.booleans()), has_roid=draw(st.booleans()),
        history=history, fillers=draw(st.lists(_filler, min_size=8, max_size=8)),
    )


def _make_contact(d: _ContactDraw, index: int) -> tuple[Contact, dict[str, ConsentElement | None]]:
    """The contact, and its markers with the consent element that would publish each (None: state)."""
    s = d.slot
    n = "RTAB".index(s) + 1
    f = d.fillers
    markers: dict[str, ConsentElement | None] = {}

    def text(tag: str, element: ConsentElement | None, filler: str) -> str:
        marker = f"qz{s}{tag}q"
        markers[marker] = element
        return f"{filler}{marker}" if filler.strip() else marker

    def digits(kind: int, element: ConsentElement) -> str:
        marker = f"555000{n}00{kind}"
        markers[marker] = element
        return marker

    def ext(kind: int, element: ConsentElement) -> str:
        marker = f"98{n}7{kind}3"
        markers[marker] = element
        return marker

    contact = Contact(
        handle=f"H{s}{index}", name=text("NAME", ConsentElement.NAME, f[0]),
        organization=text("ORG", ConsentElement.ORGANIZATION, f[1]) if d.has_org else None,
        street1=text("STREETA", ConsentElement.STREET, f[2]) if d.streets >= 1 else None,
        street2=text("STREETB", ConsentElement.STREET, f[3]) if d.streets >= 2 else None,
        street3=text("STREETC", ConsentElement.STREET, f[4]) if d.streets >= 3 else None,
        city=text("CITY", ConsentElement.CITY, f[5]),
        state_province=text("STATE", None, f[6]) if d.has_state else None,
        postal_code=text("PC", ConsentElement.POSTAL_CODE, "") if d.has_postal else None,
        country_code="US",
        phone=f"+1.{digits(1, ConsentElement.PHONE)}" if d.has_phone else None,
        phone_ext=ext(1, ConsentElement.PHONE) if d.has_phone_ext else None,
        fax=f"+1.{digits(2, ConsentElement.FAX)}" if d.has_fax else None,
        fax_ext=ext(2, ConsentElement.FAX) if d.has_fax_ext else None,
        email=f"{text('MAIL', ConsentElement.EMAIL, '')}@contacts.example",
        registry_roid=f"C{n}{text('ROID', ConsentElement.REGISTRY_ID, '')}-EXAMPLE" if d.has_roid else None,
        created_at=BASE_TIME, updated_at=BASE_TIME,
    )
    contact.consents = [
        ConsentEvent(element=element.value, granted=granted, at=BASE_TIME + timedelta(minutes=i),
                     actor="test")
        for i, (element, granted) in enumerate(d.history)
    ]
    return contact, markers


def _expected_public(element: ConsentElement | None, consented: frozenset[ConsentElement],
                     roles: set[str]) -> bool:
    if element is None:  # State/Province: published for the registrant only
        return "registrant" in roles
    if element not in consented:
        return False
    if "registrant" in roles:
        return True
    return "technical" in roles and element in TECH_PUBLISHABLE


# Letters only (no digits: digit markers must not occur in names) and no "q".
_ldh_label = st.text("abcdefghijklmnoprstuvwxyz", min_size=1, max_size=12).map(lambda s: "x" + s)


@st.composite
def registrations(draw: st.DrawFn) -> Registration:
    """A random :class:`Registration` (see the module docstring)."""
    tld = draw(st.sampled_from(["example", "test"]))
    label = draw(_ldh_label)
    idn = draw(st.none() | st.sampled_from(IDN_LABELS))
    if idn is not None:
        unicode_name = f"{idn}.{tld}"
        ldh_name = idna.encode(unicode_name, uts46=True).decode("ascii")
    else:
        unicode_name = None
        ldh_name = f"{label}.{tld}"

    registrant_draw = draw(_contact_draws("R"))
    tech_mode = draw(st.sampled_from(["none", "own", "registrant"]))
    registrant, markers_r = _make_contact(registrant_draw, 0)
    contacts: list[tuple[Contact, dict[str, ConsentElement | None], set[str]]] = [
        (registrant, markers_r, {"registrant"})]
    tech: Contact | None = None
    if tech_mode == "own":
        tech, markers_t = _make_contact(draw(_contact_draws("T")), 1)
        contacts.append((tech, markers_t, {"technical"}))
    elif tech_mode == "registrant":
        tech = registrant
        contacts[0][2].add("technical")
    admin = billing = None
    if draw(st.booleans()):
        admin, markers_a = _make_contact(draw(_contact_draws("A")), 2)
        contacts.append((admin, markers_a, {"admin"}))
    if draw(st.booleans()):
        billing, markers_b = _make_contact(draw(_contact_draws("B")), 3)
        contacts.append((billing, markers_b, {"billing"}))

    statuses, rgp = draw(st.sampled_from(STATUS_SETS))
    created = BASE_TIME + timedelta(seconds=draw(st.integers(0, 10**8)))
    updated = created + timedelta(seconds=draw(st.integers(0, 10**7)))
    domain = Domain(
        ldh_name=ldh_name, unicode_name=unicode_name, tld=tld,
        registry_roid=draw(st.none() | st.just("D99-EXAMPLE")),
        created_at=created, updated_at=updated,
        registrar_expires_at=created + timedelta(days=365 * draw(st.integers(1, 10))),
        registry_expires_at=None, transferred_at=None,
        statuses=list(statuses), rgp_statuses=list(rgp),
        registrant=registrant, tech=tech, admin=admin, billing=billing,
        auth_info="qzAUTHINFOq", reseller=draw(st.none() | st.just("Sample Reseller Ltd")),
        deleted_at=None,
    )
    hosts = draw(st.lists(_ldh_label, max_size=3, unique=True))
    domain.nameservers = [
        DomainNameserver(position=i, host=Host(
            ldh_name=f"ns.{h}.example", registry_roid=None, created_at=BASE_TIME, updated_at=BASE_TIME,
            addresses=[HostAddress(address=f"192.0.2.{i + 1}", version=4)] if i % 2 == 0 else []))
        for i, h in enumerate(hosts)
    ]
    domain.ds_records = [
        DSRecord(key_tag=1000 + i, algorithm=13, digest_type=2, digest=f"{i:064X}")
        for i in range(draw(st.integers(0, 2)))
    ]

    markers: dict[str, bool] = {"qzAUTHINFOq": False}
    summary = []
    for contact, contact_markers, roles in contacts:
        consented = contact.consented()
        summary.append(f"{'+'.join(sorted(roles))} consent={sorted(e.value for e in consented)}")
        for marker, element in contact_markers.items():
            markers[marker] = markers.get(marker, False) or _expected_public(element, consented, roles)

    email_mode = draw(st.sampled_from(["web-form", "relay"]))
    privacy = PrivacyConfig(email_mode=email_mode)
    return Registration(domain=domain, privacy=privacy, registrar=RegistrarConfig(), markers=markers,
                        summary=f"{email_mode}; " + "; ".join(summary))
