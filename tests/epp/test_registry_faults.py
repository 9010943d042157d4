"""Fault injection and frame recording of the test registry."""

from __future__ import annotations

import pytest

from registrar.epp import commands as c
from registrar.epp.client import EppCommandError, EppConnectionLost, EppTimeout
from registrar.epp.responses import parse_domain_info
from registrar.epp.test_registry import EppTestRegistry, command_is
from tests.epp.conftest import Connect

pytestmark = pytest.mark.usefixtures("xsd_dir")


def test_drop_after_apply_leaves_an_ambiguous_but_applied_command(
    registry: EppTestRegistry, connect: Connect
) -> None:
    client = connect(registry)
    client.command(c.host_create("ns1.example.net"))
    client.command(c.domain_create("example.test", "d0main-AUTH"))
    registry.faults.drop_after_apply(when=command_is("update", "domain"))
    client.command(c.domain_info("example.test"))  # not matched: answered normally
    with pytest.raises(EppConnectionLost) as err:
        client.command(c.domain_update("example.test", add_ns=["ns1.example.net"]))
    assert err.value.command_sent and not client.connected
    rec = registry.commands("update", "domain")[-1]
    assert rec.fault == "drop_after_apply" and rec.result_code == 1000 and rec.response is None
    # reconnect, re-read, then decide: the change is already there
    again = connect(registry)
    assert parse_domain_info(again.command(c.domain_info("example.test"))).nameservers == ("ns1.example.net",)
    assert registry.faults.pending == 0


def test_drop_after_apply_counts(registry: EppTestRegistry, connect: Connect) -> None:
    registry.faults.drop_after_apply(2, when=command_is("create"))
    for name in ("a.test", "b.test"):
        client = connect(registry)
        with pytest.raises(EppConnectionLost):
            client.command(c.domain_create(name, "d0main-AUTH"))
    client = connect(registry)
    assert client.command(c.domain_check(["a.test"])).code == 1000
    assert sorted(registry.state.domains) == ["a.test", "b.test"]


def test_drop_after_apply_on_login_too(registry: EppTestRegistry, connect: Connect) -> None:
    registry.faults.drop_after_apply(when=command_is("login"))
    with pytest.raises(EppConnectionLost):
        connect(registry)


def test_2400_is_not_applied_and_session_survives(registry: EppTestRegistry, connect: Connect) -> None:
    client = connect(registry)
    registry.faults.fail_with_2400(2, when=command_is("create"))
    for _ in range(2):
        with pytest.raises(EppCommandError) as err:
            client.command(c.domain_create("example.test", "d0main-AUTH"))
        assert err.value.code == 2400 and not err.value.closes_session
    assert client.command(c.domain_create("example.test", "d0main-AUTH")).code == 1000
    assert [r.result_code for r in registry.commands("create")] == [2400, 2400, 1000]
    assert [r.fault for r in registry.commands("create")] == ["2400", "2400", None]


def test_2502_closes_without_applying(registry: EppTestRegistry, connect: Connect) -> None:
    client = connect(registry)
    registry.faults.fail_with_2502()
    with pytest.raises(EppCommandError) as err:
        client.command(c.domain_create("example.test", "d0main-AUTH"))
    assert err.value.code == 2502 and err.value.closes_session and not client.connected
    assert registry.domain("example.test") is None
    assert connect(registry).command(c.domain_create("example.test", "d0main-AUTH")).code == 1000


def test_hello_is_never_faulted(registry: EppTestRegistry, connect: Connect) -> None:
    client = connect(registry)
    registry.faults.fail_with_2400()
    client.hello()
    assert registry.faults.pending == 1
    registry.faults.clear()
    assert registry.faults.pending == 0


def test_slow_response_times_out(registry: EppTestRegistry, connect: Connect) -> None:
    client = connect(registry, read_timeout=0.2)
    registry.faults.delay(0.6, when=command_is("create"))
    with pytest.raises(EppTimeout) as err:
        client.command(c.domain_create("example.test", "d0main-AUTH"))
    assert err.value.command_sent and not client.connected


def test_frames_are_recorded_verbatim(registry: EppTestRegistry, connect: Connect) -> None:
    client = connect(registry)
    frames = [
        c.domain_check(["example.test"]),
        c.domain_create("example.test", "d0main-AUTH"),
        c.domain_info("example.test"),
    ]
    for f in frames:
        client.command(f)
    recorded = [r for r in registry.frames if r.kind != "login"]
    assert [r.data for r in recorded] == frames
    assert [r.kind for r in recorded] == ["check", "create", "info"]
    assert recorded[1].summary is not None and recorded[1].summary.name == "example.test"
    assert recorded[1].summary.cl_id == "registrar-a"
    assert recorded[1].response is not None and b'code="1000"' in recorded[1].response
    assert [r.kind for r in registry.transforms()] == ["create"]
    registry.clear_records()
    client.command(c.domain_info("example.test"))
    assert registry.transforms() == []  # a read-only pass sends no transforms
    assert len(registry.commands("info", "domain", cl_id="registrar-a", name="example.test")) == 1
