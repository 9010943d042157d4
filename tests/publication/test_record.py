"""The public record: policy x consent, element by element (spec §2.2, checklist 1-6).

The core is an exhaustive table: every subset of the nine consent elements (512) x both roles
(registrant, technical) x organisation absent/present x both email modes, and for each
combination every element's disposition, value and RFC 9537 method is checked against the
rule written out in :func:`expected` — independently of the implementation's structure.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from registrar.config import PrivacyConfig, RegistrarConfig
from registrar.models import ConsentElement, ConsentEvent, Contact, Domain
from registrar.publication.record import (
    REDACTION_REASON,
    Disposition,
    Element,
    RedactionMethod,
    build_public_record,
    public_contact,
    relay_token,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)
DOMAIN = "table-test.example"
E = ConsentElement
ALL = tuple(ConsentElement)

STORED = {
    "registry_id": "C777-EXAMPLE",
    "name": "Stored Name",
    "organization": "Stored Org Ltd",
    "street": ("1 Stored Street", "Floor 2"),
    "city": "Storedville",
    "state_province": "Stored State",
    "postal_code": "ST0 1RE",
    "country_code": "GB",
    "phone": "+44.2070000001",
    "phone_ext": "77",
    "fax": "+44.2070000002",
    "fax_ext": "88",
    "email": "stored@holder.example",
}

# element attribute -> (consent element that publishes it, RFC 9537 method when redacted)
REGISTRANT_RULES: dict[str, tuple[ConsentElement | None, RedactionMethod | None]] = {
    "registry_id": (E.REGISTRY_ID, RedactionMethod.REMOVAL),
    "name": (E.NAME, RedactionMethod.EMPTY_VALUE),
    "organization": (E.ORGANIZATION, RedactionMethod.REMOVAL),
    "street": (E.STREET, RedactionMethod.EMPTY_VALUE),
    "city": (E.CITY, RedactionMethod.EMPTY_VALUE),
    "state_province": (None, None),  # always published
    "postal_code": (E.POSTAL_CODE, RedactionMethod.EMPTY_VALUE),
    "country_code": (None, None),  # always published
    "phone": (E.PHONE, RedactionMethod.REMOVAL),
    "phone_ext": (E.PHONE, RedactionMethod.REMOVAL),
    "fax": (E.FAX, RedactionMethod.REMOVAL),
    "fax_ext": (E.FAX, RedactionMethod.REMOVAL),
    "email": (E.EMAIL, RedactionMethod.REPLACEMENT_VALUE),
}
TECH_DATA_SET = {"registry_id", "name", "phone", "phone_ext", "email"}  # RP24 §2.7.6 (+ the registry ID)

LABELS = {
    "registrant": {"registry_id": "Registry Registrant ID", "name": "Registrant Name",
                   "organization": "Registrant Organization", "street": "Registrant Street",
                   "city": "Registrant City", "state_province": "Registrant State/Province",
                   "postal_code": "Registrant Postal Code", "country_code": "Registrant Country",
                   "phone": "Registrant Phone", "phone_ext": "Registrant Phone Ext", "fax": "Registrant Fax",
                   "fax_ext": "Registrant Fax Ext", "email": "Registrant Email"},
    "technical": {"registry_id": "Registry Tech ID", "name": "Tech Name", "organization": "Tech Organization",
                  "street": "Tech Street", "city": "Tech City", "state_province": "Tech State/Province",
                  "postal_code": "Tech Postal Code", "country_code": "Tech Country", "phone": "Tech Phone",
                  "phone_ext": "Tech Phone Ext", "fax": "Tech Fax", "fax_ext": "Tech Fax Ext",
                  "email": "Tech Email"},
}

PRIVACY = {
    "web-form": PrivacyConfig(email_mode="web-form"),
    "relay": PrivacyConfig(email_mode="relay", relay_secret="table-secret"),
}


def make_contact(consent: frozenset[ConsentElement] | set[ConsentElement], *, org: bool = True,
                 history: list[tuple[ConsentElement, bool]] | None = None) -> Contact:
    """An in-memory contact with every element stored and the given consent."""
    contact = Contact(
        handle="TABLE1", registry_roid=STORED["registry_id"], name=STORED["name"],
        organization=STORED["organization"] if org else None,
        street1=STORED["street"][0], street2=STORED["street"][1], street3=None,
        city=STORED["city"], state_province=STORED["state_province"], postal_code=STORED["postal_code"],
        country_code=STORED["country_code"], phone=STORED["phone"], phone_ext=STORED["phone_ext"],
        fax=STORED["fax"], fax_ext=STORED["fax_ext"], email=STORED["email"], created_at=T0, updated_at=T0,
    )
    events = history if history is not None else [(e, True) for e in sorted(consent)]
    contact.consents = [ConsentEvent(element=e.value, granted=g, at=T0 + timedelta(seconds=i), actor="test")
                        for i, (e, g) in enumerate(events)]
    return contact


def expected_email(mode: str, role: str) -> str:
    url_role = "registrant" if role == "registrant" else "tech"
    privacy = PRIVACY[mode]
    if mode == "relay":
        return privacy.relay_address.format(token=relay_token(privacy.relay_secret, DOMAIN, url_role))
    return privacy.contact_form_url.format(domain=DOMAIN, role=url_role)


def expected(attr: str, role: str, consent: frozenset[ConsentElement], org: bool, mode: str
             ) -> tuple[Disposition, object, RedactionMethod | None]:
    """The rule, written out: (disposition, value, method) of one element."""
    if role == "technical" and attr not in TECH_DATA_SET:
        return Disposition.ABSENT, None, None
    if attr == "organization" and not org:
        return Disposition.ABSENT, None, None
    element, method = REGISTRANT_RULES[attr]
    if element is None or element in consent:
        return Disposition.PUBLISHED, STORED[attr], None
    if attr == "email":
        return Disposition.REPLACED, expected_email(mode, role), method
    return Disposition.REDACTED, None, method


def consent_sets() -> list[frozenset[ConsentElement]]:
    return [frozenset(c) for r in range(len(ALL) + 1) for c in itertools.combinations(ALL, r)]


@pytest.mark.parametrize("role", ["registrant", "technical"])
@pytest.mark.parametrize("org", [True, False], ids=["org", "no-org"])
@pytest.mark.parametrize("mode", ["web-form", "relay"])
def test_exhaustive_consent_table(role: str, org: bool, mode: str) -> None:
    """All 512 consent combinations: each element is published iff its consent is given (and it is in
    the role's data set), redacted with the profile's method otherwise; email is replaced, never shown."""
    checked = 0
    for consent in consent_sets():
        pc = public_contact(make_contact(consent, org=org), role, DOMAIN, PRIVACY[mode])  # type: ignore[arg-type]
        assert pc.role == role
        for attr, label in LABELS[role].items():
            el: Element[object] = getattr(pc, attr)
            disp, value, method = expected(attr, role, consent, org, mode)
            where = f"{role} {attr} consent={sorted(consent)} org={org} mode={mode}"
            assert el.name == label, where
            assert el.disposition is disp, where
            assert el.value == value, where
            assert el.method == method, where
            if disp in (Disposition.REDACTED, Disposition.REPLACED):
                assert el.reason == REDACTION_REASON, where
                assert el.redacted and not el.published, where
            if disp is Disposition.REPLACED:
                assert el.replacement == mode, where
                assert STORED["email"] not in str(el.value), where
            checked += 1
    assert checked == 512 * 13


@pytest.mark.parametrize("role", ["registrant", "technical"])
@pytest.mark.parametrize("element", ALL, ids=[e.value for e in ALL])
def test_single_consent_publishes_only_its_element(role: str, element: ConsentElement) -> None:
    """Readable rows of the table: consent to one element publishes that element and nothing else
    beyond what policy always publishes."""
    pc = public_contact(make_contact({element}), role, DOMAIN, PRIVACY["web-form"])  # type: ignore[arg-type]
    published = {attr for attr in LABELS[role] if getattr(pc, attr).published}
    always = {"state_province", "country_code"} if role == "registrant" else set()
    own = {a for a, (e, _) in REGISTRANT_RULES.items() if e is element}
    if role == "technical":
        own &= TECH_DATA_SET
    assert published == always | own


def test_consent_takes_effect_both_ways() -> None:
    """The latest event per element wins: granted, withdrawn, granted again."""
    history = [(E.NAME, True), (E.EMAIL, True), (E.NAME, False), (E.PHONE, True), (E.PHONE, False),
               (E.PHONE, True)]
    pc = public_contact(make_contact(set(), history=history), "registrant", DOMAIN, PRIVACY["web-form"])
    assert pc.name.disposition is Disposition.REDACTED
    assert pc.email.published and pc.email.value == STORED["email"]
    assert pc.phone.published and pc.phone_ext.published


def test_absent_values_are_absent_not_redacted() -> None:
    """Nothing stored → ABSENT (nothing to redact): no fax, no extensions, no street, no state."""
    contact = make_contact(set())
    contact.fax = contact.fax_ext = contact.phone_ext = None
    contact.street1 = contact.street2 = None
    contact.state_province = None
    contact.postal_code = None
    pc = public_contact(contact, "registrant", DOMAIN, PRIVACY["web-form"])
    for attr in ("fax", "fax_ext", "phone_ext", "street", "state_province", "postal_code"):
        assert getattr(pc, attr).disposition is Disposition.ABSENT, attr
    # An extension without its number is never published.
    contact = make_contact(set(ALL))
    contact.phone = None
    assert public_contact(contact, "registrant", DOMAIN, PRIVACY["web-form"]).phone_ext.disposition \
        is Disposition.ABSENT


@pytest.mark.parametrize("consent", [set(), {E.REGISTRY_ID}], ids=["no-consent", "consent"])
@pytest.mark.parametrize("role", ["registrant", "technical"])
def test_registry_id_unknown_is_signalled_as_redacted(role: str, consent: set[ConsentElement]) -> None:
    """No registry ID stored (thin registry, not yet assigned): RDAP omits the handle, so the record
    says REDACTED (removal) whatever the consent; whether an ID exists is not revealed either."""
    contact = make_contact(consent)
    contact.registry_roid = None
    element = public_contact(contact, role, DOMAIN, PRIVACY["web-form"]).registry_id  # type: ignore[arg-type]
    assert element.disposition is Disposition.REDACTED
    assert element.method is RedactionMethod.REMOVAL and element.value is None


def _domain(**contacts: Contact | None) -> Domain:
    return Domain(
        ldh_name=DOMAIN, unicode_name=None, tld="example", registry_roid="D1-EXAMPLE", created_at=T0,
        updated_at=T0, registrar_expires_at=T0 + timedelta(days=365), registry_expires_at=None,
        transferred_at=None, statuses=[], rgp_statuses=[], auth_info="SECRET-authinfo-9", reseller=None,
        deleted_at=None, nameservers=[], ds_records=[], **contacts,
    )


def _admin(tag: str) -> Contact:
    c = make_contact(set(ALL))
    for attr in ("name", "organization", "street1", "city", "state_province", "postal_code", "email"):
        setattr(c, attr, f"{tag}-{attr}")
    c.phone, c.fax, c.registry_roid = "+1.5550009991", "+1.5550009992", f"{tag}-ROID"
    return c


@pytest.mark.parametrize("mode", ["web-form", "relay"])
def test_admin_billing_and_authinfo_never_in_the_record(mode: str) -> None:
    """Admin and billing contacts (even with full consent) and authInfo appear nowhere in the record."""
    domain = _domain(registrant=make_contact(set()), tech=None, admin=_admin("ADMINX"),
                     billing=_admin("BILLX"))
    record = build_public_record(domain, RegistrarConfig(), PRIVACY[mode])
    dumped = repr(record)
    for secret in ("ADMINX", "BILLX", "+1.5550009991", "+1.5550009992", "SECRET-authinfo-9"):
        assert secret not in dumped
    assert record.tech is None
    assert [c.role for c in record.contacts()] == ["registrant"]
    assert not hasattr(record, "admin") and not hasattr(record, "billing")


def test_record_without_consent_keeps_only_public_values() -> None:
    """No consent: of the registrant's stored values only State/Province and Country are in the record."""
    domain = _domain(registrant=make_contact(set()), tech=make_contact(set()), admin=None, billing=None)
    record = build_public_record(domain, RegistrarConfig(), PRIVACY["web-form"])
    dumped = repr(record)
    for attr, value in STORED.items():
        values = value if isinstance(value, tuple) else (value,)
        for v in values:
            assert (v in dumped) == (attr in ("state_province", "country_code")), attr
    assert record.registrant.state_province.published and record.registrant.country_code.published
    assert record.tech is not None and record.tech.country_code.disposition is Disposition.ABSENT


def test_statuses_ok_when_none_and_rgp_merged() -> None:
    """No status → ``ok``; RGP statuses follow the EPP ones without duplicates."""
    domain = _domain(registrant=make_contact(set()), tech=None, admin=None, billing=None)
    assert build_public_record(domain, RegistrarConfig(), PRIVACY["web-form"]).statuses == ("ok",)
    domain.statuses = ["pendingDelete"]
    domain.rgp_statuses = ["redemptionPeriod", "pendingDelete"]
    assert build_public_record(domain, RegistrarConfig(), PRIVACY["web-form"]).statuses == (
        "pendingDelete", "redemptionPeriod")
