"""Response and greeting parsers (inputs are schema-validated first)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from registrar.epp import ns, schema
from registrar.epp.responses import (
    ResponseParseError,
    parse_check,
    parse_contact_info,
    parse_domain_created,
    parse_domain_info,
    parse_frame,
    parse_greeting,
    parse_host_info,
    parse_poll,
    parse_response,
)
from registrar.epp.types import DSRecord, Greeting, Response

pytestmark = pytest.mark.usefixtures("xsd_dir")

HEAD = b'<?xml version="1.0" encoding="UTF-8"?><epp xmlns="urn:ietf:params:xml:ns:epp-1.0">'
TRID = b"<trID><clTRID>ABC-12345</clTRID><svTRID>54321-XYZ</svTRID></trID>"


def doc(body: bytes) -> bytes:
    data = HEAD + body + b"</epp>"
    assert schema.validate(data) == [], schema.validate(data)
    return data


def test_greeting_sample() -> None:
    g = parse_greeting((schema.default_xsd_dir() / "samples" / "valid-greeting.xml").read_bytes())
    assert g.sv_id == "Test Registry EPP"
    assert g.sv_date == datetime(2026, 1, 1, tzinfo=UTC)
    assert g.versions == ("1.0",) and g.langs == ("en",)
    assert g.obj_uris == (ns.DOMAIN, ns.CONTACT, ns.HOST)
    assert g.ext_uris == (ns.SECDNS, ns.RGP)


def test_2302_sample() -> None:
    r = parse_response((schema.default_xsd_dir() / "samples" / "valid-response-2302.xml").read_bytes())
    assert (r.code, r.message, r.cl_trid, r.sv_trid) == (
        2302,
        "Object exists",
        "sync-20260101-0002",
        "SRV-000042",
    )
    assert not r.ok


def test_error_values_are_collected() -> None:
    r = parse_response(
        doc(
            b'<response><result code="2004"><msg>Parameter value range error</msg>'
            b'<value xmlns:obj="urn:ietf:params:xml:ns:obj"><obj:elem1>2525</obj:elem1></value>'
            b'<extValue><value><domain:period xmlns:domain="urn:ietf:params:xml:ns:domain-1.0">100'
            b"</domain:period></value><reason>period too long</reason></extValue></result>"
            + TRID
            + b"</response>"
        )
    )
    assert r.code == 2004 and len(r.reasons) == 2
    assert "2525" in r.reasons[0] and r.reasons[1].endswith("period too long")


def test_domain_info_with_secdns_and_rgp() -> None:
    r = parse_response(
        doc(
            b"""<response><result code="1000"><msg>ok</msg></result><resData>
<domain:infData xmlns:domain="urn:ietf:params:xml:ns:domain-1.0">
<domain:name>xn--bcher-kva.test</domain:name><domain:roid>EXAMPLE1-REP</domain:roid>
<domain:status s="clientHold"/><domain:status s="serverUpdateProhibited">locked</domain:status>
<domain:status s="pendingDelete"/>
<domain:registrant>jd1234</domain:registrant>
<domain:contact type="admin">sh8013</domain:contact><domain:contact type="tech">sh8014</domain:contact>
<domain:ns><domain:hostObj>ns1.example.com</domain:hostObj><domain:hostObj>ns1.xn--bcher-kva.test</domain:hostObj></domain:ns>
<domain:host>ns1.xn--bcher-kva.test</domain:host>
<domain:clID>ClientX</domain:clID><domain:crID>ClientY</domain:crID><domain:crDate>1999-04-03T22:00:00.0Z</domain:crDate>
<domain:upID>ClientX</domain:upID><domain:upDate>1999-12-03T09:00:00.0Z</domain:upDate>
<domain:exDate>2005-04-03T22:00:00.0Z</domain:exDate><domain:trDate>2000-04-08T09:00:00+02:00</domain:trDate>
<domain:authInfo><domain:pw>2fooBAR</domain:pw></domain:authInfo></domain:infData></resData>
<extension><secDNS:infData xmlns:secDNS="urn:ietf:params:xml:ns:secDNS-1.1"><secDNS:dsData>
<secDNS:keyTag>12345</secDNS:keyTag><secDNS:alg>13</secDNS:alg><secDNS:digestType>2</secDNS:digestType>
<secDNS:digest>49fd46e6c4b45c55d4ac49fd46e6c4b45c55d4ac49fd46e6c4b45c55d4ac1234</secDNS:digest></secDNS:dsData>
</secDNS:infData><rgp:infData xmlns:rgp="urn:ietf:params:xml:ns:rgp-1.0"><rgp:rgpStatus s="redemptionPeriod"/>
</rgp:infData></extension>"""
            + TRID
            + b"</response>"
        )
    )
    info = parse_domain_info(r)
    assert info.name == "xn--bcher-kva.test" and info.roid == "EXAMPLE1-REP"
    assert info.statuses == ("clientHold", "serverUpdateProhibited", "pendingDelete")
    assert info.client_statuses == frozenset({"clientHold"})
    assert info.rgp_statuses == ("redemptionPeriod",)
    assert info.registrant == "jd1234"
    assert info.contacts == (("admin", "sh8013"), ("tech", "sh8014"))
    assert info.nameservers == ("ns1.example.com", "ns1.xn--bcher-kva.test")
    assert info.subordinate_hosts == ("ns1.xn--bcher-kva.test",)
    assert info.ds == (
        DSRecord(12345, 13, 2, "49FD46E6C4B45C55D4AC49FD46E6C4B45C55D4AC49FD46E6C4B45C55D4AC1234"),
    )
    assert info.has_secdns
    assert info.expires == datetime(2005, 4, 3, 22, tzinfo=UTC)
    assert info.transferred == datetime(2000, 4, 8, 7, tzinfo=UTC)
    assert info.cl_id == "ClientX" and info.auth_pw == "2fooBAR"
    assert "2fooBAR" not in repr(info)


def test_host_info_and_check() -> None:
    r = parse_response(
        doc(
            b"""<response><result code="1000"><msg>ok</msg></result><resData>
<host:infData xmlns:host="urn:ietf:params:xml:ns:host-1.0"><host:name>ns1.example.test</host:name>
<host:roid>NS1_EXAMPLE1-REP</host:roid><host:status s="linked"/><host:status s="clientUpdateProhibited"/>
<host:addr ip="v4">192.0.2.2</host:addr><host:addr ip="v6">1080::8:800:200c:417a</host:addr>
<host:clID>ClientY</host:clID><host:crID>ClientX</host:crID><host:crDate>1999-04-03T22:00:00.0Z</host:crDate>
</host:infData></resData>"""
            + TRID
            + b"</response>"
        )
    )
    h = parse_host_info(r)
    assert h.addresses == (("192.0.2.2", "v4"), ("1080::8:800:200c:417a", "v6"))
    assert h.statuses == ("linked", "clientUpdateProhibited") and h.cl_id == "ClientY"
    chk = parse_response(
        doc(
            b"""<response><result code="1000"><msg>ok</msg></result><resData>
<contact:chkData xmlns:contact="urn:ietf:params:xml:ns:contact-1.0"><contact:cd>
<contact:id avail="1">sh8013</contact:id>
</contact:cd><contact:cd><contact:id avail="0">sah8013</contact:id>
<contact:reason>In use</contact:reason></contact:cd>
</contact:chkData></resData>"""
            + TRID
            + b"</response>"
        )
    )
    assert [(x.name, x.available, x.reason) for x in parse_check(chk)] == [
        ("sh8013", True, None),
        ("sah8013", False, "In use"),
    ]


def test_contact_info_prefers_loc_and_reads_disclose() -> None:
    r = parse_response(
        doc(
            """<response><result code="1000"><msg>ok</msg></result><resData>
<contact:infData xmlns:contact="urn:ietf:params:xml:ns:contact-1.0"><contact:id>sh8013</contact:id>
<contact:roid>SH8013-REP</contact:roid><contact:status s="linked"/>
<contact:postalInfo type="int"><contact:name>Juergen</contact:name><contact:addr>
<contact:city>Koeln</contact:city>
<contact:cc>DE</contact:cc></contact:addr></contact:postalInfo>
<contact:postalInfo type="loc"><contact:name>Jürgen</contact:name>
<contact:org>Bäckerei</contact:org><contact:addr>
<contact:street>Hohe Straße 1</contact:street><contact:street>Hof</contact:street>
<contact:city>Köln</contact:city>
<contact:pc>50667</contact:pc><contact:cc>DE</contact:cc></contact:addr></contact:postalInfo>
<contact:voice x="1234">+49.2211234</contact:voice><contact:fax/><contact:email>j@example.test</contact:email>
<contact:clID>ClientY</contact:clID><contact:crID>ClientX</contact:crID><contact:crDate>1999-04-03T22:00:00.0Z</contact:crDate>
<contact:authInfo><contact:pw>2fooBAR</contact:pw></contact:authInfo>
<contact:disclose flag="0"><contact:name type="loc"/><contact:voice/><contact:email/></contact:disclose>
</contact:infData></resData>""".encode()
            + TRID
            + b"</response>"
        )
    )
    ci = parse_contact_info(r)
    assert ci.postal_types == ("int", "loc")
    d = ci.data
    assert (d.name, d.org, d.street, d.city, d.pc, d.cc) == (
        "Jürgen",
        "Bäckerei",
        ("Hohe Straße 1", "Hof"),
        "Köln",
        "50667",
        "DE",
    )
    assert (d.voice, d.voice_ext, d.fax, d.email) == ("+49.2211234", "1234", None, "j@example.test")
    assert d.disclose_hidden == frozenset({"name", "voice", "email"})
    assert d.postal_type == "loc"
    assert ci.auth_pw == "2fooBAR" and ci.cl_id == "ClientY"


def test_domain_created() -> None:
    r = parse_response(
        doc(
            b"""<response><result code="1000"><msg>ok</msg></result><resData>
<domain:creData xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>example.test</domain:name>
<domain:crDate>1999-04-03T22:00:00.0Z</domain:crDate><domain:exDate>2001-04-03T22:00:00.0Z</domain:exDate>
</domain:creData></resData>"""
            + TRID
            + b"</response>"
        )
    )
    created = parse_domain_created(r)
    assert created.name == "example.test" and created.expires == datetime(2001, 4, 3, 22, tzinfo=UTC)


def test_poll_transfer_message_and_empty_queue() -> None:
    r = parse_response(
        doc(
            b"""<response><result code="1301"><msg>ack to dequeue</msg></result>
<msgQ count="5" id="12345"><qDate>2000-06-08T22:00:00.0Z</qDate><msg>Transfer requested.</msg></msgQ>
<resData><domain:trnData xmlns:domain="urn:ietf:params:xml:ns:domain-1.0">
<domain:name>example.test</domain:name>
<domain:trStatus>pending</domain:trStatus><domain:reID>ClientX</domain:reID>
<domain:reDate>2000-06-08T22:00:00.0Z</domain:reDate><domain:acID>ClientY</domain:acID>
<domain:acDate>2000-06-13T22:00:00.0Z</domain:acDate><domain:exDate>2002-09-08T22:00:00.0Z</domain:exDate>
</domain:trnData></resData>"""
            + TRID
            + b"</response>"
        )
    )
    msg = parse_poll(r)
    assert msg is not None and (msg.id, msg.count, msg.message) == ("12345", 5, "Transfer requested.")
    assert msg.transfer is not None
    assert (msg.transfer.name, msg.transfer.status, msg.transfer.requested_by, msg.transfer.action_by) == (
        "example.test",
        "pending",
        "ClientX",
        "ClientY",
    )
    empty = parse_response(
        doc(b'<response><result code="1300"><msg>no messages</msg></result>' + TRID + b"</response>")
    )
    assert parse_poll(empty) is None


def test_poll_pending_action() -> None:
    r = parse_response(
        doc(
            b"""<response><result code="1301"><msg>ack</msg></result>
<msgQ count="1" id="9"><qDate>2000-06-08T22:00:00.0Z</qDate><msg>Pending action completed.</msg></msgQ>
<resData><domain:panData xmlns:domain="urn:ietf:params:xml:ns:domain-1.0">
<domain:name paResult="1">example.test</domain:name>
<domain:paTRID><clTRID>ABC-1</clTRID><svTRID>54321-XYZ</svTRID></domain:paTRID>
<domain:paDate>1999-04-04T22:00:00.0Z</domain:paDate></domain:panData></resData>"""
            + TRID
            + b"</response>"
        )
    )
    msg = parse_poll(r)
    assert msg is not None and msg.pending_action is not None
    pa = msg.pending_action
    assert (pa.object_type, pa.name, pa.result, pa.pa_cl_trid, pa.pa_sv_trid) == (
        "domain",
        "example.test",
        True,
        "ABC-1",
        "54321-XYZ",
    )


def test_parse_frame_and_errors() -> None:
    assert isinstance(
        parse_frame((schema.default_xsd_dir() / "samples" / "valid-greeting.xml").read_bytes()), Greeting
    )
    assert isinstance(
        parse_frame((schema.default_xsd_dir() / "samples" / "valid-response-2302.xml").read_bytes()), Response
    )
    for bad in (b"<not-xml", b"<foo/>", HEAD + b"<hello/></epp>"):
        with pytest.raises(ResponseParseError):
            parse_frame(bad)
    with pytest.raises(ResponseParseError):
        parse_greeting((schema.default_xsd_dir() / "samples" / "valid-response-2302.xml").read_bytes())
    r = parse_response((schema.default_xsd_dir() / "samples" / "valid-response-2302.xml").read_bytes())
    with pytest.raises(ResponseParseError):
        parse_domain_info(r)
    with pytest.raises(ResponseParseError):
        parse_poll(r)


def test_echoed_secrets_are_masked_in_reasons() -> None:
    """A 2202 that echoes our authInfo in <value> must not carry the secret into reasons."""
    from registrar.epp.responses import parse_response

    frame = (b'<?xml version="1.0" encoding="UTF-8"?><epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><response>'
             b'<result code="2202"><msg>Invalid authorization information</msg><extValue><value>'
             b'<domain:pw xmlns:domain="urn:ietf:params:xml:ns:domain-1.0">S3cretAuth!</domain:pw></value>'
             b'<reason>wrong password</reason></extValue></result>'
             b'<trID><clTRID>c-1</clTRID><svTRID>s-1</svTRID></trID></response></epp>')
    response = parse_response(frame)
    assert response.code == 2202
    assert response.reasons and "wrong password" in response.reasons[0]
    assert not any("S3cretAuth!" in r for r in response.reasons)
