"""Domain and host rules of the test registry, driven through the real client."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from registrar.epp import commands as c
from registrar.epp.client import EppClient, EppCommandError
from registrar.epp.responses import (
    parse_check,
    parse_domain_created,
    parse_domain_info,
    parse_domain_renewed,
    parse_host_info,
)
from registrar.epp.test_registry import EppTestRegistry
from registrar.epp.types import DSRecord
from tests.epp.conftest import Connect

pytestmark = pytest.mark.usefixtures("xsd_dir")

DS_A = DSRecord(12345, 13, 2, "AB" * 32)
DS_B = DSRecord(23456, 8, 2, "CD" * 32)
DS_C = DSRecord(34567, 13, 4, "EF" * 48)


def code_of(client: EppClient, frame: bytes) -> int:
    """Send ``frame`` and return the result code (errors included)."""
    try:
        return client.command(frame).code
    except EppCommandError as exc:
        return exc.code


@pytest.fixture
def client(registry: EppTestRegistry, connect: Connect) -> EppClient:
    return connect(registry, "registrar-a")


@pytest.fixture
def other(registry: EppTestRegistry, connect: Connect) -> EppClient:
    return connect(registry, "registrar-b")


def test_domain_create_info_roundtrip(client: EppClient, registry: EppTestRegistry) -> None:
    client.command(c.host_create("ns1.example.net"))
    created = parse_domain_created(
        client.command(
            c.domain_create(
                "xn--bcher-kva.test",
                "d0main-AUTH",
                period=2,
                nameservers=["ns1.example.net"],
                ds=[DS_A, DS_C],
            )
        )
    )
    assert created.name == "xn--bcher-kva.test"
    assert created.created and created.expires
    assert created.expires - created.created > timedelta(days=700)
    client.command(c.host_create("ns1.xn--bcher-kva.test", ["192.0.2.1", "2001:db8::1"]))
    info = parse_domain_info(client.command(c.domain_info("xn--bcher-kva.test")))
    assert re.fullmatch(r"\d+-TEST", info.roid)
    assert info.cl_id == info.cr_id == "registrar-a"
    assert info.nameservers == ("ns1.example.net",)
    assert info.subordinate_hosts == ("ns1.xn--bcher-kva.test",)
    assert info.ds == (DS_A, DS_C) and info.statuses == ("ok",)
    assert info.registrant is None and info.contacts == ()
    assert info.auth_pw == "d0main-AUTH"
    assert info.expires == created.expires
    stored = registry.domain("xn--bcher-kva.test")
    assert stored is not None and stored.roid == info.roid
    hinfo = parse_host_info(client.command(c.host_info("ns1.xn--bcher-kva.test")))
    assert re.fullmatch(r"\d+-TEST", hinfo.roid) and hinfo.roid != info.roid
    # hosts filter
    none = parse_domain_info(client.command(c.domain_info("xn--bcher-kva.test", hosts="none")))
    assert none.nameservers == () and none.subordinate_hosts == ()


def test_domain_without_nameservers_is_inactive(client: EppClient) -> None:
    client.command(c.domain_create("example.test", "d0main-AUTH"))
    assert parse_domain_info(client.command(c.domain_info("example.test"))).statuses == ("inactive",)


def test_existence_rules(client: EppClient) -> None:
    client.command(c.domain_create("example.test", "d0main-AUTH"))
    assert code_of(client, c.domain_create("example.test", "d0main-AUTH")) == 2302
    assert code_of(client, c.domain_info("missing.test")) == 2303
    assert code_of(client, c.domain_update("missing.test", add_statuses=["clientHold"])) == 2303
    assert code_of(client, c.domain_delete("missing.test")) == 2303
    assert code_of(client, c.host_info("ns1.missing.test")) == 2303
    assert code_of(client, c.host_update("ns1.example.net", new_name="ns2.example.net")) == 2303
    assert code_of(client, c.domain_update("example.test", add_ns=["ns9.example.net"])) == 2303
    assert (
        code_of(client, c.domain_create("other.test", "d0main-AUTH", nameservers=["nsx.example.net"])) == 2303
    )
    client.command(c.host_create("ns1.example.net"))
    assert code_of(client, c.host_create("ns1.example.net")) == 2302


def test_names_and_tlds(client: EppClient) -> None:
    assert code_of(client, c.domain_create("example.org", "d0main-AUTH")) == 2306  # TLD not served
    assert code_of(client, c.domain_create("a.b.test", "d0main-AUTH")) == 2306  # third level
    assert code_of(client, c.domain_create("-bad-.test", "d0main-AUTH")) == 2005
    assert code_of(client, c.domain_create("xn--zz.test", "d0main-AUTH")) == 2005  # bad A-label
    assert code_of(client, c.domain_create("x.example", "d0main-AUTH")) == 1000  # second served TLD
    assert code_of(client, c.domain_info("x.org")) == 2303
    results = parse_check(client.command(c.domain_check(["free.test", "x.example", "x.org", "ab--c.test"])))
    assert [(r.name, r.available) for r in results] == [
        ("free.test", True),
        ("x.example", False),
        ("x.org", False),
        ("ab--c.test", False),
    ]
    assert results[1].reason == "In use"


def test_period_rules(client: EppClient) -> None:
    assert code_of(client, c.domain_create("a.test", "d0main-AUTH", period=11)) == 2004
    assert code_of(client, c.domain_create("a.test", "d0main-AUTH", period=6, period_unit="m")) == 2004
    assert code_of(client, c.domain_create("a.test", "d0main-AUTH", period=10)) == 1000


def test_ownership(client: EppClient, other: EppClient, registry: EppTestRegistry) -> None:
    other.command(c.host_create("ns1.example.net"))
    other.command(c.domain_create("theirs.test", "th3ir-AUTH", nameservers=["ns1.example.net"]))
    assert code_of(client, c.domain_update("theirs.test", add_statuses=["clientHold"])) == 2201
    assert code_of(client, c.domain_delete("theirs.test")) == 2201
    assert (
        code_of(client, c.domain_renew("theirs.test", registry.domain("theirs.test").expires.date())) == 2201
    )
    assert code_of(client, c.host_update("ns1.example.net", new_name="ns2.example.net")) == 2201
    assert code_of(client, c.host_delete("ns1.example.net")) == 2201
    assert code_of(client, c.host_create("ns1.theirs.test", ["192.0.2.1"])) == 2201
    # info on someone else's domain: limited view, no authInfo; with the authInfo: full; wrong: 2202
    limited = parse_domain_info(client.command(c.domain_info("theirs.test")))
    assert limited.cl_id == "registrar-b" and limited.auth_pw is None
    assert (
        parse_domain_info(client.command(c.domain_info("theirs.test", auth_pw="th3ir-AUTH"))).cl_id
        == "registrar-b"
    )
    assert code_of(client, c.domain_info("theirs.test", auth_pw="wrong-AUTH")) == 2202
    # hosts are readable by anyone
    assert parse_host_info(client.command(c.host_info("ns1.example.net"))).cl_id == "registrar-b"
    # the other registrar's objects are untouched
    assert registry.domain("theirs.test").statuses == set()


def test_host_glue_rules(client: EppClient) -> None:
    client.command(c.domain_create("example.test", "d0main-AUTH"))
    assert code_of(client, c.host_create("ns1.example.test")) == 2003  # subordinate needs glue
    assert code_of(client, c.host_create("ns1.example.net", ["192.0.2.1"])) == 2306  # external: no addresses
    assert code_of(client, c.host_create("ns1.missing.test", ["192.0.2.1"])) == 2303  # no superordinate
    assert code_of(client, c.host_create("ns1.example.test", ["192.0.2.1", "2001:db8::53"])) == 1000
    assert code_of(client, c.host_create("ns_bad.example.net")) == 2005


def test_host_ip_version_must_match_attribute(client: EppClient) -> None:
    client.command(c.domain_create("example.test", "d0main-AUTH"))
    frame = c.host_create("ns1.example.test", ["192.0.2.1"]).replace(b'ip="v4"', b'ip="v6"')
    assert code_of(client, frame) == 2005
    frame = c.host_create("ns1.example.test", ["192.0.2.1"]).replace(b"192.0.2.1", b"192.0.2.999")
    assert code_of(client, frame) == 2005


def test_host_update_addresses_and_rename(client: EppClient, registry: EppTestRegistry) -> None:
    client.command(c.domain_create("example.test", "d0main-AUTH"))
    client.command(c.host_create("ns1.example.test", ["192.0.2.1"]))
    client.command(c.domain_update("example.test", add_ns=["ns1.example.test"]))
    client.command(
        c.host_update("ns1.example.test", add_addresses=["2001:db8::1"], rem_addresses=["192.0.2.1"])
    )
    assert parse_host_info(client.command(c.host_info("ns1.example.test"))).addresses == (
        ("2001:db8::1", "v6"),
    )
    assert (
        code_of(client, c.host_update("ns1.example.test", rem_addresses=["2001:db8::1"])) == 2306
    )  # last glue
    assert (
        code_of(client, c.host_update("ns1.example.test", add_addresses=["2001:db8::1"])) == 2306
    )  # present
    assert code_of(client, c.host_update("ns1.example.test", rem_addresses=["192.0.2.7"])) == 2306  # absent
    # rename to an external name needs the addresses removed in the same command
    assert code_of(client, c.host_update("ns1.example.test", new_name="ns1.example.net")) == 2306
    client.command(
        c.host_update("ns1.example.test", rem_addresses=["2001:db8::1"], new_name="ns1.example.net")
    )
    assert parse_domain_info(client.command(c.domain_info("example.test"))).nameservers == (
        "ns1.example.net",
    )
    assert registry.host_object("ns1.example.test") is None


def test_linked_host_cannot_be_deleted(client: EppClient) -> None:
    client.command(c.domain_create("example.test", "d0main-AUTH"))
    client.command(c.host_create("ns1.example.test", ["192.0.2.1"]))
    client.command(c.domain_update("example.test", add_ns=["ns1.example.test"]))
    assert "linked" in parse_host_info(client.command(c.host_info("ns1.example.test"))).statuses
    assert code_of(client, c.host_delete("ns1.example.test")) == 2305
    assert code_of(client, c.domain_delete("example.test")) == 2305  # subordinate host exists
    client.command(c.domain_update("example.test", rem_ns=["ns1.example.test"]))
    client.command(c.host_delete("ns1.example.test"))
    assert code_of(client, c.host_info("ns1.example.test")) == 2303


def test_domain_update_roundtrip_and_strict_deltas(client: EppClient) -> None:
    for h in ("ns1.example.net", "ns2.example.net", "ns3.example.net"):
        client.command(c.host_create(h))
    client.command(
        c.domain_create(
            "example.test", "d0main-AUTH", nameservers=["ns1.example.net", "ns2.example.net"], ds=[DS_A]
        )
    )
    client.command(
        c.domain_update(
            "example.test",
            add_ns=["ns3.example.net"],
            rem_ns=["ns1.example.net"],
            add_statuses=["clientTransferProhibited", "clientDeleteProhibited"],
            auth_pw="n3w-AUTH-42",
            add_ds=[DS_B],
            rem_ds=[DS_A],
        )
    )
    info = parse_domain_info(client.command(c.domain_info("example.test")))
    assert info.nameservers == ("ns2.example.net", "ns3.example.net")
    assert set(info.statuses) == {"clientTransferProhibited", "clientDeleteProhibited"}
    assert info.ds == (DS_B,) and info.auth_pw == "n3w-AUTH-42"
    assert info.updated is not None
    assert code_of(client, c.domain_update("example.test", add_ns=["ns2.example.net"])) == 2306
    assert code_of(client, c.domain_update("example.test", rem_ns=["ns1.example.net"])) == 2306
    assert code_of(client, c.domain_update("example.test", add_statuses=["clientDeleteProhibited"])) == 2306
    assert code_of(client, c.domain_update("example.test", rem_statuses=["clientHold"])) == 2306
    assert code_of(client, c.domain_update("example.test", add_ds=[DS_B])) == 2306
    assert code_of(client, c.domain_update("example.test", rem_ds=[DS_A])) == 2306
    client.command(c.domain_update("example.test", rem_all_ds=True, add_ds=[DS_A, DS_C]))
    assert parse_domain_info(client.command(c.domain_info("example.test"))).ds == (DS_A, DS_C)
    client.command(c.domain_update("example.test", rem_all_ds=True))
    info = parse_domain_info(client.command(c.domain_info("example.test")))
    assert info.ds == () and not info.has_secdns


def test_ds_policy(client: EppClient) -> None:
    assert (
        code_of(client, c.domain_create("a.test", "d0main-AUTH", ds=[DSRecord(1, 13, 2, "AB" * 20)])) == 2306
    )
    assert (
        code_of(client, c.domain_create("a.test", "d0main-AUTH", ds=[DSRecord(1, 1, 2, "AB" * 32)])) == 2306
    )
    assert (
        code_of(client, c.domain_create("a.test", "d0main-AUTH", ds=[DSRecord(1, 13, 3, "AB" * 32)])) == 2306
    )
    assert code_of(client, c.domain_create("a.test", "d0main-AUTH", ds=[DS_A, DS_A])) == 2306


def test_only_client_statuses(client: EppClient, registry: EppTestRegistry) -> None:
    client.command(c.domain_create("example.test", "d0main-AUTH"))
    frame = c.domain_update("example.test", add_statuses=["clientHold"]).replace(b"clientHold", b"serverHold")
    assert code_of(client, frame) == 2306
    frame = c.domain_update("example.test", add_statuses=["clientHold"]).replace(b"clientHold", b"ok")
    assert code_of(client, frame) == 2306
    assert registry.domain("example.test").statuses == set()


def test_status_locks(client: EppClient, registry: EppTestRegistry) -> None:
    client.command(c.host_create("ns1.example.net"))
    client.command(c.domain_create("example.test", "d0main-AUTH"))
    client.command(
        c.domain_update("example.test", add_statuses=["clientUpdateProhibited", "clientDeleteProhibited"])
    )
    assert code_of(client, c.domain_update("example.test", add_ns=["ns1.example.net"])) == 2304
    assert code_of(client, c.domain_delete("example.test")) == 2304
    # the lock may be lifted in the same update that makes the change
    client.command(
        c.domain_update("example.test", add_ns=["ns1.example.net"], rem_statuses=["clientUpdateProhibited"])
    )
    registry.set_status("domain", "example.test", "serverUpdateProhibited")
    assert code_of(client, c.domain_update("example.test", rem_ns=["ns1.example.net"])) == 2304
    registry.set_status("domain", "example.test", "serverUpdateProhibited", present=False)
    assert code_of(client, c.domain_update("example.test", rem_ns=["ns1.example.net"])) == 1000
    info = parse_domain_info(client.command(c.domain_info("example.test")))
    assert info.client_statuses == frozenset({"clientDeleteProhibited"})


def test_delete_and_restore(client: EppClient) -> None:
    client.command(c.domain_create("example.test", "d0main-AUTH"))
    assert code_of(client, c.domain_restore_request("example.test")) == 2304  # not deleted
    assert client.command(c.domain_delete("example.test")).code == 1001
    info = parse_domain_info(client.command(c.domain_info("example.test")))
    assert "pendingDelete" in info.statuses and info.rgp_statuses == ("redemptionPeriod",)
    assert code_of(client, c.domain_update("example.test", add_statuses=["clientHold"])) == 2304
    assert code_of(client, c.domain_delete("example.test")) == 2304
    assert client.command(c.domain_restore_request("example.test")).code == 1000
    info = parse_domain_info(client.command(c.domain_info("example.test")))
    assert "pendingDelete" not in info.statuses and info.rgp_statuses == ()


def test_renew(client: EppClient, registry: EppTestRegistry) -> None:
    client.command(c.domain_create("example.test", "d0main-AUTH"))
    expires = parse_domain_info(client.command(c.domain_info("example.test"))).expires
    assert expires is not None
    assert code_of(client, c.domain_renew("example.test", (expires - timedelta(days=1)).date())) == 2306
    renewed = parse_domain_renewed(client.command(c.domain_renew("example.test", expires.date(), period=2)))
    assert renewed.expires is not None and renewed.expires.year == expires.year + 2
    # replaying the same renew fails instead of renewing twice
    assert code_of(client, c.domain_renew("example.test", expires.date(), period=2)) == 2306
    assert code_of(client, c.domain_renew("example.test", renewed.expires.date(), period=9)) == 2306


def test_transfer_is_not_implemented(client: EppClient) -> None:
    frame = (
        b'<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><transfer op="query">'
        b'<domain:transfer xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>a.test</domain:name>'
        b"</domain:transfer></transfer><clTRID>trid-transfer-1</clTRID></command></epp>"
    )
    assert code_of(client, frame) == 2101


def test_minimum_model_rejects_registrant_and_contacts(client: EppClient, registry: EppTestRegistry) -> None:
    assert code_of(client, c.domain_create("a.test", "d0main-AUTH", registrant="reg-0001")) == 2306
    assert code_of(client, c.domain_create("a.test", "d0main-AUTH", contacts=[("tech", "t-1")])) == 2306
    client.command(c.domain_create("a.test", "d0main-AUTH"))
    assert code_of(client, c.domain_update("a.test", registrant="reg-0001")) == 2306
    assert code_of(client, c.domain_update("a.test", add_contacts=[("admin", "a-1")])) == 2306
    assert code_of(client, c.contact_info("reg-0001")) == 2307  # contact service not even offered
    assert registry.transforms("domain")[0].kind == "create"


def test_minimum_model_with_contact_uri_offered(make_registry: object, connect: Connect) -> None:
    from registrar.epp import ns

    reg = make_registry(obj_uris=(ns.DOMAIN, ns.HOST, ns.CONTACT))  # type: ignore[operator]
    client = connect(reg)
    assert client.supports(ns.CONTACT)
    from tests.epp.test_registry_contacts import JANE

    assert code_of(client, c.contact_create(JANE, "c0ntact-AUTH")) == 2306
    assert code_of(client, c.contact_check(["abc"])) == 2306
