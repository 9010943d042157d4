"""Contacts in the ``thick-public`` data model."""

from __future__ import annotations

import pytest

from registrar.epp import commands as c
from registrar.epp.client import EppClient, EppCommandError
from registrar.epp.responses import parse_check, parse_contact_info, parse_domain_info
from registrar.epp.test_registry import EppTestRegistry
from registrar.epp.types import ContactData
from tests.epp.conftest import Connect, MakeRegistry

pytestmark = pytest.mark.usefixtures("xsd_dir")

JANE = ContactData(
    id="reg-0001",
    name="Jane Example",
    org="Example Org",
    street=("1 Example Street",),
    city="Exampleton",
    sp="EX",
    pc="12345",
    cc="US",
    voice="+1.5555550100",
    voice_ext="7",
    email="jane@example.test",
    disclose_hidden=frozenset({"name", "addr", "voice", "email"}),
)
JUERGEN = ContactData(
    id="reg-0002",
    name="Jürgen Müller",
    street=("Hohe Straße 1", "Hinterhaus"),
    city="Köln",
    pc="50667",
    cc="DE",
    email="juergen@example.test",
    fax="+49.2211234",
    disclose_hidden=frozenset({"name", "addr"}),
)


def code_of(client: EppClient, frame: bytes) -> int:
    try:
        return client.command(frame).code
    except EppCommandError as exc:
        return exc.code


@pytest.fixture
def client(thick_registry: EppTestRegistry, connect: Connect) -> EppClient:
    return connect(thick_registry, "registrar-a")


def test_contact_create_info_roundtrip_ascii_and_unicode(
    client: EppClient, thick_registry: EppTestRegistry
) -> None:
    for data in (JANE, JUERGEN):
        client.command(c.contact_create(data, "c0ntact-AUTH"))
        info = parse_contact_info(client.command(c.contact_info(data.id)))
        assert info.data == data
        assert info.postal_types == (data.postal_type,)
        assert info.cl_id == "registrar-a" and info.auth_pw == "c0ntact-AUTH"
        assert info.roid.endswith("-TEST")
    assert thick_registry.contact("reg-0002").postal.keys() == {"loc"}
    assert code_of(client, c.contact_create(JANE, "c0ntact-AUTH")) == 2302
    results = parse_check(client.command(c.contact_check(["reg-0001", "free-01"])))
    assert [(r.name, r.available) for r in results] == [("reg-0001", False), ("free-01", True)]


def test_domain_with_registrant_and_contacts(client: EppClient) -> None:
    client.command(c.contact_create(JANE, "c0ntact-AUTH"))
    client.command(c.contact_create(JUERGEN, "c0ntact-AUTH"))
    assert code_of(client, c.domain_create("a.test", "d0main-AUTH")) == 2003  # registrant required
    assert code_of(client, c.domain_create("a.test", "d0main-AUTH", registrant="nobody-1")) == 2303
    client.command(
        c.domain_create(
            "a.test",
            "d0main-AUTH",
            registrant="reg-0001",
            contacts=[("admin", "reg-0001"), ("tech", "reg-0002")],
        )
    )
    client.command(
        c.domain_update(
            "a.test",
            registrant="reg-0002",
            rem_contacts=[("tech", "reg-0002")],
            add_contacts=[("tech", "reg-0001")],
        )
    )
    info = parse_domain_info(client.command(c.domain_info("a.test")))
    assert info.registrant == "reg-0002"
    assert info.contacts == (("admin", "reg-0001"), ("tech", "reg-0001"))
    assert code_of(client, c.domain_update("a.test", registrant="")) == 2306
    assert code_of(client, c.contact_delete("reg-0001")) == 2305  # linked
    assert "linked" in parse_contact_info(client.command(c.contact_info("reg-0001"))).statuses


def test_contact_update_replaces_the_block(client: EppClient) -> None:
    client.command(c.contact_create(JANE, "c0ntact-AUTH"))
    changed = ContactData(
        id="reg-0001",
        name="Jane Q. Example",
        city="Othertown",
        cc="CA",
        email="jane@other.test",
        disclose_hidden=frozenset({"email"}),
    )
    client.command(c.contact_update("reg-0001", data=changed, add_statuses=["clientDeleteProhibited"]))
    info = parse_contact_info(client.command(c.contact_info("reg-0001")))
    assert info.data == changed  # org/street/sp/pc/voice gone with the full block
    assert "clientDeleteProhibited" in info.statuses
    assert code_of(client, c.contact_delete("reg-0001")) == 2304
    partial = (
        b'<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><update>'
        b'<contact:update xmlns:contact="urn:ietf:params:xml:ns:contact-1.0">'
        b"<contact:id>reg-0001</contact:id>"
        b'<contact:chg><contact:postalInfo type="int">'
        b"<contact:org>Only Org</contact:org></contact:postalInfo>"
        b"</contact:chg></contact:update></update><clTRID>trid-partial-1</clTRID></command></epp>"
    )
    assert code_of(client, partial) == 2003


def test_contact_validation(client: EppClient) -> None:
    bad_cc = ContactData(id="bad-cc", name="A", city="B", cc="XX", email="a@b.test")
    assert code_of(client, c.contact_create(bad_cc, "c0ntact-AUTH")) == 2005
    bad_email = ContactData(id="bad-em", name="A", city="B", cc="FR", email="not-an-email")
    assert code_of(client, c.contact_create(bad_email, "c0ntact-AUTH")) == 2005
    frame = c.contact_create(JUERGEN, "c0ntact-AUTH").replace(b'type="loc"', b'type="int"')
    assert code_of(client, frame) == 2005  # int must be ASCII


def test_contact_ownership(client: EppClient, thick_registry: EppTestRegistry, connect: Connect) -> None:
    client.command(c.contact_create(JANE, "c0ntact-AUTH"))
    other = connect(thick_registry, "registrar-b")
    assert code_of(other, c.contact_info("reg-0001")) == 2201
    assert code_of(other, c.contact_info("reg-0001", auth_pw="wrong-AUTH")) == 2202
    assert (
        parse_contact_info(other.command(c.contact_info("reg-0001", auth_pw="c0ntact-AUTH"))).auth_pw is None
    )
    assert code_of(other, c.contact_update("reg-0001", add_statuses=["clientDeleteProhibited"])) == 2201
    assert code_of(other, c.contact_delete("reg-0001")) == 2201


def test_disclose_refused_by_policy(make_registry: MakeRegistry, connect: Connect) -> None:
    reg = make_registry(data_model="thick-public", disclose_policy="refuse")
    client = connect(reg)
    assert code_of(client, c.contact_create(JANE, "c0ntact-AUTH")) == 2308
    no_disclose = ContactData(id="reg-0003", name="A", city="B", cc="FR", email="a@b.test")
    assert code_of(client, c.contact_create(no_disclose, "c0ntact-AUTH")) == 1000


def test_registrant_optional_when_configured(make_registry: MakeRegistry, connect: Connect) -> None:
    reg = make_registry(data_model="thick-public", require_registrant=False)
    client = connect(reg)
    assert code_of(client, c.domain_create("a.test", "d0main-AUTH")) == 1000
