"""Command builders: every frame validates against the XSDs; refusals; clTRIDs; redaction."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from lxml import etree

from registrar.epp import commands as c
from registrar.epp import ns, schema
from registrar.epp.types import ContactData, DSRecord, Greeting
from registrar.epp.xmlutil import parse_xml, redact

pytestmark = pytest.mark.usefixtures("xsd_dir")

DS1 = DSRecord(12345, 13, 2, "8a9cebb665b78e0142f1cef47cc9f4205f691a2a3e4b5c6d7e8f901234567890")
DS2 = DSRecord(54321, 8, 1, "0123456789ABCDEF0123456789ABCDEF01234567")
DS3 = DSRecord(1, 14, 4, "AB" * 48)
ASCII_CONTACT = ContactData(
    id="reg-0001",
    name="Jane Example",
    org="Example Org",
    street=("1 Example Street", "Suite 2"),
    city="Exampleton",
    sp="EX",
    pc="12345",
    cc="us",
    voice="+1.5555550100",
    voice_ext="42",
    fax="+1.5555550199",
    email="jane@example.test",
    disclose_hidden=frozenset({"name", "org", "addr", "voice", "fax", "email"}),
)
UNICODE_CONTACT = ContactData(
    id="reg-0002",
    name="Jürgen Müller",
    org="Bäckerei Köln GmbH",
    street=("Hohe Straße 1",),
    city="Köln",
    pc="50667",
    cc="DE",
    email="juergen@example.test",
    disclose_hidden=frozenset({"name", "addr"}),
)
MINIMAL_CONTACT = ContactData(id="abc", name="A", city="B", cc="FR", email="a@b.fr")

FRAMES = {
    "hello": c.hello(),
    "login": c.login("registrar-x", "s3cret-Pw", obj_uris=ns.OBJECT_URIS, ext_uris=ns.EXTENSION_URIS),
    "login-newpw-noext": c.login("reg", "s3cret-Pw", obj_uris=[ns.DOMAIN], new_password="n3w-Secret"),
    "logout": c.logout(),
    "poll-req": c.poll_request(),
    "poll-ack": c.poll_ack("12345"),
    "domain-check": c.domain_check(["example.test", "xn--bcher-kva.test", "bücher.example"]),
    "domain-info": c.domain_info("example.test"),
    "domain-info-auth": c.domain_info("EXAMPLE.test", hosts="none", auth_pw="2fooBAR-x9"),
    "domain-create-minimal": c.domain_create("example.test", "2fooBAR-x9", period=None),
    "domain-create-full": c.domain_create(
        "xn--bcher-kva.test",
        "2fooBAR-x9",
        period=2,
        nameservers=["ns1.example.net", "ns2.example.net"],
        registrant="reg-0001",
        contacts=[("admin", "adm-0001"), ("tech", "tech-0001"), ("billing", "b-1")],
    ),
    "domain-create-months-ds": c.domain_create(
        "example.test", "", period=24, period_unit="m", nameservers=["ns1.example.test"], ds=[DS1, DS2, DS3]
    ),
    "domain-update-all": c.domain_update(
        "example.test",
        add_ns=["ns3.example.net"],
        rem_ns=["ns1.example.net"],
        add_contacts=[("tech", "t-2")],
        rem_contacts=[("tech", "t-1")],
        add_statuses=["clientTransferProhibited", "clientHold"],
        rem_statuses=["clientUpdateProhibited"],
        registrant="reg-0003",
        auth_pw="new-AUTH-42",
        add_ds=[DS1],
        rem_ds=[DS2],
        urgent=True,
    ),
    "domain-update-ds-only": c.domain_update("example.test", rem_all_ds=True, add_ds=[DS3]),
    "domain-update-clear-registrant": c.domain_update("example.test", registrant=""),
    "domain-update-rem-ds": c.domain_update("example.test", rem_ds=[DS1, DS2]),
    "domain-renew": c.domain_renew("example.test", date(2027, 1, 31), period=3),
    "domain-delete": c.domain_delete("example.test"),
    "domain-restore": c.domain_restore_request("example.test"),
    "host-check": c.host_check(["ns1.example.test", "ns2.example.net"]),
    "host-info": c.host_info("ns1.example.test"),
    "host-create-glue": c.host_create("ns1.example.test", ["192.0.2.53", "2001:DB8:0:0::53"]),
    "host-create-external": c.host_create("ns1.example.net"),
    "host-create-idn": c.host_create("ns1.bücher.test", ["2001:db8::1"]),
    "host-update": c.host_update(
        "ns1.example.test",
        add_addresses=["2001:db8::2"],
        rem_addresses=["192.0.2.53"],
        add_statuses=["clientDeleteProhibited"],
        rem_statuses=["clientUpdateProhibited"],
        new_name="ns9.example.test",
    ),
    "host-update-rename": c.host_update("ns1.example.test", new_name="ns1.example.net"),
    "host-delete": c.host_delete("ns1.example.test"),
    "contact-check": c.contact_check(["reg-0001", "reg-0002"]),
    "contact-info": c.contact_info("reg-0001"),
    "contact-info-auth": c.contact_info("reg-0001", auth_pw="c0ntact-AUTH"),
    "contact-create-ascii": c.contact_create(ASCII_CONTACT, "c0ntact-AUTH"),
    "contact-create-unicode": c.contact_create(UNICODE_CONTACT, "c0ntact-AUTH"),
    "contact-create-minimal": c.contact_create(MINIMAL_CONTACT, "c0ntact-AUTH"),
    "contact-update-full": c.contact_update(
        "reg-0002", data=UNICODE_CONTACT, auth_pw="n3w-AUTH", add_statuses=["clientDeleteProhibited"]
    ),
    "contact-update-status": c.contact_update("reg-0001", rem_statuses=["clientTransferProhibited"]),
    "contact-update-ascii": c.contact_update("reg-0001", data=ASCII_CONTACT),
    "contact-delete": c.contact_delete("reg-0001"),
}


@pytest.mark.parametrize("name", sorted(FRAMES))
def test_builder_output_validates(name: str) -> None:
    assert schema.validate(FRAMES[name]) == []


@pytest.mark.parametrize("name", sorted(set(FRAMES) - {"hello"}))
def test_every_command_has_a_cltrid(name: str) -> None:
    trid = c.extract_cl_trid(FRAMES[name])
    assert trid is not None and 3 <= len(trid) <= 64


def _xpath(frame: bytes, path: str) -> list[str]:
    nsmap = {"e": ns.EPP, "d": ns.DOMAIN, "h": ns.HOST, "c": ns.CONTACT, "s": ns.SECDNS, "r": ns.RGP}
    result = parse_xml(frame).xpath(path, namespaces=nsmap)
    return [str(x) for x in result] if isinstance(result, list) else [str(result)]


def test_idn_names_are_sent_as_a_labels() -> None:
    assert _xpath(FRAMES["domain-check"], "//d:name/text()") == [
        "example.test",
        "xn--bcher-kva.test",
        "xn--bcher-kva.example",
    ]
    assert _xpath(FRAMES["host-create-idn"], "//h:name/text()") == ["ns1.xn--bcher-kva.test"]
    assert _xpath(FRAMES["domain-info-auth"], "//d:name/text()") == ["example.test"]


def test_ip_versions_are_derived_and_normalised() -> None:
    assert _xpath(FRAMES["host-create-glue"], "//h:addr/@ip") == ["v4", "v6"]
    assert _xpath(FRAMES["host-create-glue"], "//h:addr/text()") == ["192.0.2.53", "2001:db8::53"]
    with pytest.raises(ValueError):
        c.host_create("ns1.example.test", ["192.0.2.300"])


def test_domain_update_structure() -> None:
    f = FRAMES["domain-update-all"]
    assert _xpath(f, "//d:add/d:status/@s") == ["clientTransferProhibited", "clientHold"]
    assert _xpath(f, "//d:rem/d:ns/d:hostObj/text()") == ["ns1.example.net"]
    assert _xpath(f, "//d:chg/d:registrant/text()") == ["reg-0003"]
    assert _xpath(f, "//s:update/@urgent") == ["true"]
    assert _xpath(f, "//s:update/s:rem/s:dsData/s:keyTag/text()") == ["54321"]
    assert _xpath(f, "//s:update/s:add/s:dsData/s:digest/text()") == [DS1.digest]
    # secDNS rem precedes add (schema order)
    assert _xpath(FRAMES["domain-update-ds-only"], "local-name(//s:update/*[1])") == ["rem"]
    assert _xpath(FRAMES["domain-restore"], "//r:restore/@op") == ["request"]
    assert _xpath(FRAMES["domain-restore"], "count(//d:chg/*)") == ["0.0"]


def test_contact_postal_type_and_disclose() -> None:
    ascii_f, uni_f = FRAMES["contact-create-ascii"], FRAMES["contact-create-unicode"]
    assert _xpath(ascii_f, "//c:postalInfo/@type") == ["int"]
    assert _xpath(uni_f, "//c:postalInfo/@type") == ["loc"]
    assert _xpath(ascii_f, "//c:disclose/@flag") == ["0"]
    assert [
        etree.QName(e).localname for e in parse_xml(ascii_f).iterfind(f".//{{{ns.CONTACT}}}disclose/*")
    ] == ["name", "org", "addr", "voice", "fax", "email"]
    assert _xpath(uni_f, "//c:disclose/*/@type") == ["loc", "loc"]
    assert _xpath(ascii_f, "//c:voice/@x") == ["42"]
    assert _xpath(ascii_f, "//c:cc/text()") == ["US"]
    assert _xpath(FRAMES["contact-create-minimal"], "count(//c:disclose)") == ["0.0"]
    assert "Jürgen Müller" in FRAMES["contact-create-unicode"].decode("utf-8")


def test_contact_update_sends_full_blocks_and_clears_missing_phones() -> None:
    f = FRAMES["contact-update-full"]
    assert _xpath(f, "//c:chg/c:postalInfo/c:name/text()") == ["Jürgen Müller"]
    assert _xpath(f, "//c:chg/c:postalInfo/c:addr/c:city/text()") == ["Köln"]
    assert _xpath(f, "count(//c:chg/c:voice[not(node())])") == ["1.0"]
    assert _xpath(f, "count(//c:chg/c:fax[not(node())])") == ["1.0"]
    assert _xpath(f, "//c:chg/c:email/text()") == ["juergen@example.test"]


@pytest.mark.parametrize(
    "build",
    [
        lambda: c.domain_update("example.test", add_statuses=["serverHold"]),
        lambda: c.domain_update("example.test", rem_statuses=["pendingDelete"]),
        lambda: c.domain_update("example.test", add_statuses=["ok"]),
        lambda: c.host_update("ns1.example.test", add_statuses=["linked"]),
        lambda: c.contact_update("abc", add_statuses=["serverDeleteProhibited"]),
        lambda: c.domain_update("example.test"),
        lambda: c.host_update("ns1.example.test"),
        lambda: c.contact_update("abc"),
        lambda: c.domain_update("example.test", rem_all_ds=True, rem_ds=[DS1]),
        lambda: c.login("reg", "short", obj_uris=[ns.DOMAIN]),
        lambda: c.login("reg", "x" * 17, obj_uris=[ns.DOMAIN]),
        lambda: c.login("reg", "long-enough", obj_uris=[]),
        lambda: c.domain_create("example.test", "pw", period=100),
        lambda: c.domain_check([]),
        lambda: c.contact_update("abd", data=MINIMAL_CONTACT),
        lambda: c.logout(cl_trid="ab"),
    ],
)
def test_builders_refuse_what_a_registrar_must_not_send(build: object) -> None:
    with pytest.raises(ValueError):
        build()  # type: ignore[operator]


def test_contact_data_checks() -> None:
    with pytest.raises(ValueError):
        ContactData(id="abc", name="A", city="B", cc="FR", email="a@b.fr", street=("1", "2", "3", "4"))
    with pytest.raises(ValueError):
        ContactData(
            id="abc", name="A", city="B", cc="FR", email="a@b.fr", disclose_hidden=frozenset({"phone"})
        )
    with pytest.raises(ValueError):
        DSRecord(1, 13, 2, "xyz")
    assert DSRecord(1, 13, 2, "ab cd") == DSRecord(1, 13, 2, "ABCD")


def test_cltrids_are_unique_and_carry_the_prefix() -> None:
    gen = c.ClTridGenerator("sync-20261130T0500")
    ids = [gen() for _ in range(500)]
    assert len(set(ids)) == 500
    assert all(re.fullmatch(r"sync-20261130T0500-\d{6}-[0-9a-f]{8}", i) for i in ids)
    assert ids[0].split("-")[2] == "000001" and ids[-1].split("-")[2] == "000500"
    other = c.ClTridGenerator("sync-20261130T0500")
    assert other() != ids[0]  # same counter value, different random part
    assert c.extract_cl_trid(c.logout(cl_trid=gen())) is not None
    with pytest.raises(ValueError):
        c.ClTridGenerator("bad prefix!")
    assert c.extract_cl_trid(c.poll_request(cl_trid="my-trid-1")) == "my-trid-1"


def test_redact_hides_passwords_and_authinfo() -> None:
    login = c.login("registrar-x", "s3cret-Pw", obj_uris=[ns.DOMAIN], new_password="n3w-Secret")
    create = c.domain_create("example.test", "2fooBAR-x9")
    contact = c.contact_create(ASCII_CONTACT, "c0ntact-AUTH")
    for frame, secret in (
        (login, b"s3cret-Pw"),
        (login, b"n3w-Secret"),
        (create, b"2fooBAR-x9"),
        (contact, b"c0ntact-AUTH"),
    ):
        assert secret in frame
        assert secret not in redact(frame)
    assert b"registrar-x" in redact(login)


def test_describe() -> None:
    assert c.describe(FRAMES["login"]) == "login"
    assert c.describe(FRAMES["hello"]) == "hello"
    assert c.describe(FRAMES["domain-update-all"]) == "domain:update"
    assert c.describe(FRAMES["poll-req"]) == "poll"
    assert c.describe(b"<<<") == "<malformed>"


def test_choose_services_is_an_ordered_intersection() -> None:
    greeting = Greeting(
        "srv",
        datetime.now(UTC),
        ("1.0",),
        ("en",),
        (ns.HOST, ns.DOMAIN, "urn:example:other"),
        (ns.RGP, "urn:example:fee"),
    )
    assert c.choose_services(greeting) == ((ns.DOMAIN, ns.HOST), (ns.RGP,))
