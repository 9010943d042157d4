"""Poll queue of the test registry."""

from __future__ import annotations

import pytest

from registrar.epp import commands as c
from registrar.epp import ns
from registrar.epp.client import EppCommandError
from registrar.epp.responses import parse_domain_info, parse_poll
from registrar.epp.test_registry import EppTestRegistry
from registrar.epp.test_registry_xml import element
from registrar.epp.xmlutil import sub
from tests.epp.conftest import Connect

pytestmark = pytest.mark.usefixtures("xsd_dir")


def test_empty_queue(registry: EppTestRegistry, connect: Connect) -> None:
    client = connect(registry)
    resp = client.command(c.poll_request())
    assert resp.code == 1300 and parse_poll(resp) is None


def test_transfer_away_is_announced_and_takes_effect(registry: EppTestRegistry, connect: Connect) -> None:
    client = connect(registry)
    client.command(c.domain_create("example.test", "d0main-AUTH"))
    msg_id = registry.transfer_away("example.test", "registrar-b")
    assert registry.poll_queue("registrar-a") == ["Transfer of example.test to registrar-b completed"]
    resp = client.command(c.poll_request())
    assert resp.code == 1301
    msg = parse_poll(resp)
    assert msg is not None and msg.id == msg_id and msg.count == 1 and msg.queued_at is not None
    assert msg.transfer is not None
    assert (msg.transfer.name, msg.transfer.status, msg.transfer.requested_by, msg.transfer.action_by) == (
        "example.test",
        "serverApproved",
        "registrar-b",
        "registrar-a",
    )
    with pytest.raises(EppCommandError) as err:
        client.command(c.domain_update("example.test", add_statuses=["clientHold"]))
    assert err.value.code == 2201
    assert parse_domain_info(client.command(c.domain_info("example.test"))).cl_id == "registrar-b"
    ack = client.command(c.poll_ack(msg.id))
    assert ack.code == 1000 and ack.msgq is None
    assert client.command(c.poll_request()).code == 1300


def test_deleted_by_registry(registry: EppTestRegistry, connect: Connect) -> None:
    client = connect(registry)
    client.command(c.domain_create("example.test", "d0main-AUTH"))
    client.command(c.host_create("ns1.example.test", ["192.0.2.1"]))
    registry.delete_by_registry("example.test")
    msg = parse_poll(client.command(c.poll_request()))
    assert msg is not None and msg.message == "Domain example.test deleted by registry"
    assert msg.pending_action is not None
    assert (msg.pending_action.name, msg.pending_action.result) == ("example.test", True)
    for frame in (c.domain_info("example.test"), c.host_info("ns1.example.test")):
        with pytest.raises(EppCommandError) as err:
            client.command(frame)
        assert err.value.code == 2303


def test_queue_order_counts_ack_and_isolation(registry: EppTestRegistry, connect: Connect) -> None:
    a, b = connect(registry, "registrar-a"), connect(registry, "registrar-b")
    first = registry.enqueue_poll("registrar-a", "first")
    trn = element(ns.DOMAIN, "panData")
    sub(trn, ns.DOMAIN, "name", "x.test", paResult="0")
    tr = sub(trn, ns.DOMAIN, "paTRID")
    sub(tr, ns.EPP, "svTRID", "SV-123")
    sub(trn, ns.DOMAIN, "paDate", "2026-01-01T00:00:00.0Z")
    second = registry.enqueue_poll("registrar-a", "second", trn)
    third = registry.enqueue_poll("registrar-a", "third")
    assert b.command(c.poll_request()).code == 1300  # other registrar's queue is separate
    msg = parse_poll(a.command(c.poll_request()))
    assert msg is not None and (msg.id, msg.count, msg.message) == (first, 3, "first")
    # re-requesting without ack returns the same message
    assert parse_poll(a.command(c.poll_request())).id == first  # type: ignore[union-attr]
    ack = a.command(c.poll_ack(first))
    assert ack.msgq is not None and (ack.msgq.count, ack.msgq.id) == (2, second)
    msg = parse_poll(a.command(c.poll_request()))
    assert msg is not None and msg.pending_action is not None and msg.pending_action.result is False
    with pytest.raises(EppCommandError) as err:
        a.command(c.poll_ack("999999"))
    assert err.value.code == 2303
    a.command(c.poll_ack(third))  # out-of-order ack is allowed
    assert parse_poll(a.command(c.poll_request())).id == second  # type: ignore[union-attr]
