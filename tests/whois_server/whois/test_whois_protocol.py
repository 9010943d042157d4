"""The port-43 protocol without sockets: ``StringTransport`` + ``MemoryReactorClock``.

Covers RFC 3912 framing (CRLF and bare LF, split packets, one answer then close), the query
length limit, the idle timeout, the rate limit driven by the fake clock, the per-client and
global connection caps, the database-down reply and its recovery, lookups that never answer,
and the one-log-line-per-query rule.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred, fail, maybeDeferred, succeed
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure

from registrar.config import Config, load_config
from registrar.models import ConsentEvent, Contact, Domain, DomainNameserver, Host, HostAddress
from registrar.publication import whois_text
from registrar.publication.record import (
    PublicHost,
    PublicRecord,
    build_public_record,
    public_host,
    registrar_info,
)
from registrar.storage import Database
from whois_server.ratelimit import RateLimiter
from whois_server.service import MISSING, RegistrationDataService, ServiceUnavailable
from whois_server.whois.protocol import WhoisFactory, WhoisProtocol

ROOT = Path(__file__).resolve().parents[3]
T0 = datetime(2024, 1, 1, tzinfo=UTC)
START = 1_800_000_000.0  # 2027-01-15T08:00:00Z

ERR = {name: whois_text.error_line(name).encode() for name in whois_text.ERROR_LINES}


def make_config(whois: dict[str, Any] | None = None, ratelimit: dict[str, Any] | None = None) -> Config:
    overrides: dict[str, Any] = {"whois": {"idle_timeout": 10.0, **(whois or {})},
                                 "ratelimit": {"enabled": False, **(ratelimit or {})},
                                 "server": {"cache_ttl": 0.0}}
    return load_config(ROOT / "fixtures" / "config.toml", overrides=overrides)


def sample_record(config: Config) -> PublicRecord:
    """A small in-memory registration (no database)."""
    contact = Contact(handle="P1", name="Private Person", organization=None, street1="1 Private Road",
                      city="Privateville", state_province="PS", postal_code="P1 1PP", country_code="GB",
                      phone="+44.2000000001", email="private@person.example", created_at=T0, updated_at=T0)
    contact.consents = [ConsentEvent(element="city", granted=True, at=T0, actor="t")]
    host = Host(ldh_name="ns1.sample-domain.example", created_at=T0, updated_at=T0,
                addresses=[HostAddress(address="192.0.2.53", version=4)])
    domain = Domain(ldh_name="sample-domain.example", unicode_name=None, tld="example",
                    registry_roid="D9-EXAMPLE", created_at=T0, updated_at=T0,
                    registrar_expires_at=T0 + timedelta(days=365),
                    registry_expires_at=None, transferred_at=None, statuses=["clientTransferProhibited"],
                    rgp_statuses=[], registrant=contact, tech=None, auth_info="x", reseller=None,
                    nameservers=[DomainNameserver(position=0, host=host)], ds_records=[])
    return build_public_record(domain, config.registrar, config.privacy)


class FakeService:
    """The lookup interface of the registration-data service, with switchable behaviour."""

    def __init__(self, config: Config) -> None:
        self.registrar = registrar_info(config.registrar)
        self.record = sample_record(config)
        self.host = PublicHost(ldh_name="ns1.sample-domain.example", unicode_name=None, ipv4=("192.0.2.53",))
        self.mode = "sync"
        self.pending: list[Deferred[Any]] = []
        self.calls = 0

    def _answer(self, value: Any) -> Deferred[Any]:
        self.calls += 1
        if self.mode == "down":
            return fail(ServiceUnavailable("database down"))
        if self.mode == "broken":
            return fail(RuntimeError("a bug"))
        if self.mode == "garbage":
            return succeed(object())
        if self.mode == "pending":
            d: Deferred[Any] = Deferred()
            self.pending.append(d)
            d.value_to_give = value  # type: ignore[attr-defined]
            return d
        return succeed(value)

    def lookup_domain(self, a_label: str) -> Deferred[PublicRecord | None]:
        return self._answer(self.record if a_label == self.record.ldh_name else None)

    def cached_domain(self, a_label: str) -> Any:
        """Cached only in mode "cached" (the synchronous path); MISSING otherwise."""
        if self.mode == "cached":
            self.calls += 1
            return self.record if a_label == self.record.ldh_name else None
        return MISSING

    def lookup_host(self, a_label: str) -> Deferred[PublicHost | None]:
        return self._answer(self.host if a_label == self.host.ldh_name else None)


class Harness:
    """A factory on a fake clock, and helpers to open connections to it."""

    def __init__(self, config: Config, service: Any = None) -> None:
        self.config = config
        self.clock = MemoryReactorClock()
        self.clock.advance(START)
        self.service = service or FakeService(config)
        self.limiter = RateLimiter(config.ratelimit, self.clock)
        self.factory = WhoisFactory(service=self.service, limiter=self.limiter, config=config,
                                    clock=self.clock)

    def connect(self, host: str = "192.0.2.10", port: int = 40000) -> tuple[WhoisProtocol, StringTransport]:
        addr = IPv6Address("TCP", host, port) if ":" in host else IPv4Address("TCP", host, port)
        proto = self.factory.buildProtocol(addr)
        transport = StringTransport(peerAddress=addr)
        proto.makeConnection(transport)
        return proto, transport

    def query(self, line: bytes, host: str = "192.0.2.10") -> bytes:
        proto, transport = self.connect(host)
        proto.dataReceived(line)
        assert transport.disconnecting, "the server must close after answering"
        close(proto)
        return transport.value()

    def now(self) -> datetime:
        return datetime.fromtimestamp(int(self.clock.seconds()), UTC)


def close(proto: WhoisProtocol) -> None:
    proto.connectionLost(Failure(ConnectionDone()))


@pytest.fixture
def h() -> Harness:
    return Harness(make_config())


# --- framing and answers ---

@pytest.mark.parametrize("ending", [b"\r\n", b"\n"], ids=["CRLF", "LF"])
def test_domain_query_crlf_or_lf(h: Harness, ending: bytes) -> None:
    """One line (CRLF or bare LF) → the full record, then close."""
    reply = h.query(b"sample-domain.example" + ending)
    assert reply == whois_text.format_domain(h.service.record, h.now()).encode()
    assert h.factory.open_connections == 0


def test_cached_record_answers_synchronously(h: Harness) -> None:
    """A record the service has cached is answered without a Deferred lookup; a cached miss too."""
    h.service.mode = "cached"
    assert h.query(b"sample-domain.example\r\n") == whois_text.format_domain(h.service.record, h.now()).encode()
    assert h.query(b"absent.example\r\n").startswith(b'No match for "absent.example".')
    assert h.service.calls == 2


def test_query_in_pieces_and_trailing_data_ignored(h: Harness) -> None:
    """The line may arrive in several packets; bytes after the first line are ignored."""
    proto, transport = h.connect()
    proto.dataReceived(b"domain SAMPLE-")
    assert transport.value() == b"" and not transport.disconnecting
    proto.dataReceived(b"domain.example.\r\nsecond query\r\n")
    proto.dataReceived(b"more\r\n")
    assert transport.value() == whois_text.format_domain(h.service.record, h.now()).encode()
    assert h.service.calls == 1


def test_reply_cache_is_exact_and_follows_new_records(h: Harness) -> None:
    """Cached reply parts give exactly format_domain's bytes; the time line follows the clock, and a
    new record object (changed data) is rendered anew."""
    record = h.service.record
    first = h.factory.domain_reply(record)
    assert first == whois_text.format_domain(record, h.now()).encode()
    h.clock.advance(61)
    second = h.factory.domain_reply(record)
    assert second == whois_text.format_domain(record, h.now()).encode() and second != first
    changed = dataclasses.replace(record, statuses=("clientHold",))
    third = h.factory.domain_reply(changed)
    assert b"Domain Status: clientHold https://icann.org/epp#clientHold\r\n" in third
    assert third == whois_text.format_domain(changed, h.now()).encode()


@pytest.mark.parametrize(("line", "expected"), [
    (b"help\r\n", "help"),
    (b"HELP\r\n", "help"),
    (b"registrar\r\n", "registrar"),
    (b"registrar 9999\r\n", "registrar"),
    (b"registrar example registrar, inc.\r\n", "registrar"),
    (b"registrar Someone Else\r\n", "no-match-registrar"),
    (b"nameserver NS1.sample-domain.example\r\n", "nameserver"),
    (b"nameserver ns9.sample-domain.example\r\n", "no-match-host"),
    (b"unknown-domain.example\r\n", "no-match"),
])
def test_query_forms(h: Harness, line: bytes, expected: str) -> None:
    """help, registrar, nameserver and no-match replies."""
    reply = h.query(line).decode()
    info = h.service.registrar
    want = {
        "help": whois_text.format_help(info, max_query_length=512),
        "registrar": whois_text.format_registrar(info, h.now()),
        "no-match-registrar": whois_text.format_no_match("Someone Else", h.now(), info.terms_of_use),
        "nameserver": whois_text.format_nameserver(h.service.host, info, h.now()),
        "no-match-host": whois_text.format_no_match("ns9.sample-domain.example", h.now(), info.terms_of_use),
        "no-match": whois_text.format_no_match("unknown-domain.example", h.now(), info.terms_of_use),
    }[expected]
    assert reply == want


@pytest.mark.parametrize("line", [
    b"\xff\xfe\r\n", b"domain\r\n", b"foo bar\r\n", b"-bad-.example\r\n", b"\r\n", b"com\r\n",
    b"domain exa mple.com\r\n", b"nameserver\r\n", b"a\x00b.example\r\n",
])
def test_bad_queries_get_the_bad_query_line(h: Harness, line: bytes) -> None:
    """Invalid UTF-8, invalid names, unknown forms → the bad-query line (never "no match")."""
    assert h.query(line) == ERR["bad-query"]
    assert h.service.calls == 0


# --- limits ---

def test_query_too_long_without_newline(h: Harness) -> None:
    """More than max_query_length bytes without a line end → error line as soon as it is known."""
    proto, transport = h.connect()
    proto.dataReceived(b"a" * 300)
    assert transport.value() == b""
    proto.dataReceived(b"a" * 300)
    assert transport.value() == ERR["query-too-long"]
    assert transport.disconnecting


def test_query_length_boundary() -> None:
    """A line of exactly max_query_length bytes is read (CRLF not counted); one more byte is refused."""
    h = Harness(make_config(whois={"max_query_length": 30}))
    name = b"a" * (30 - len(b".example")) + b".example"
    assert len(name) == 30
    assert h.query(name + b"\r\n").startswith(b"No match for")
    assert h.query(b"x" + name + b"\r\n") == ERR["query-too-long"]
    assert h.query(b"x" + name + b"\n") == ERR["query-too-long"]


def test_idle_timeout() -> None:
    """No complete line within idle_timeout → timeout line and close; partial data does not extend it."""
    h = Harness(make_config(whois={"idle_timeout": 5.0}))
    proto, transport = h.connect()
    h.clock.advance(4.0)
    proto.dataReceived(b"sample-")
    h.clock.advance(0.9)
    assert transport.value() == b"" and not transport.disconnecting
    h.clock.advance(0.2)
    assert transport.value() == ERR["idle-timeout"]
    assert transport.disconnecting
    proto.dataReceived(b"domain.example\r\n")  # too late: ignored
    assert transport.value() == ERR["idle-timeout"]
    close(proto)
    assert not h.clock.getDelayedCalls()


def test_timer_cancelled_after_answer(h: Harness) -> None:
    """An answered connection leaves no timer behind."""
    h.query(b"help\r\n")
    assert not h.clock.getDelayedCalls()


def test_rate_limit_with_fake_clock() -> None:
    """burst queries pass, the next is refused with the fixed line, and passes again once time advances."""
    h = Harness(make_config(ratelimit={"enabled": True, "burst": 3, "rate": 1.0}))
    for _ in range(3):
        assert h.query(b"help\r\n") == h.factory.help_reply
    assert h.query(b"help\r\n") == ERR["rate-limited"]
    assert h.query(b"sample-domain.example\r\n") == ERR["rate-limited"]
    assert h.service.calls == 0
    # Another client is not affected.
    assert h.query(b"help\r\n", host="198.51.100.7") == h.factory.help_reply
    h.clock.advance(1.01)
    assert h.query(b"help\r\n") == h.factory.help_reply
    assert h.query(b"help\r\n") == ERR["rate-limited"]


def test_rate_limit_allow_list() -> None:
    """Clients on the allow list are never rate limited."""
    h = Harness(make_config(ratelimit={"enabled": True, "burst": 1, "rate": 0.1, "allow": ["192.0.2.0/24"]}))
    for _ in range(5):
        assert h.query(b"help\r\n") == h.factory.help_reply
    h.query(b"help\r\n", host="198.51.100.1")
    assert h.query(b"help\r\n", host="198.51.100.1") == ERR["rate-limited"]


def test_rate_limit_ipv6_prefix() -> None:
    """IPv6 clients in one /64 share a bucket; another /64 has its own."""
    h = Harness(make_config(ratelimit={"enabled": True, "burst": 1, "rate": 0.1}))
    assert h.query(b"help\r\n", host="2001:db8:1:2::1") == h.factory.help_reply
    assert h.query(b"help\r\n", host="2001:db8:1:2::ffff") == ERR["rate-limited"]
    assert h.query(b"help\r\n", host="2001:db8:1:3::1") == h.factory.help_reply


def test_per_client_connection_cap() -> None:
    """The (cap+1)th concurrent connection of one client key is refused; others and later ones pass."""
    h = Harness(make_config(whois={"max_connections_per_client": 2}))
    held = [h.connect() for _ in range(2)]
    assert all(t.value() == b"" for _, t in held)
    proto, transport = h.connect()
    assert transport.value() == ERR["too-many-client-connections"] and transport.disconnecting
    close(proto)
    other, other_t = h.connect(host="198.51.100.9")
    assert other_t.value() == b""
    close(other)
    # IPv6: the /64 is the key.
    v6 = [h.connect(host=f"2001:db8::{i}") for i in (1, 2)]
    p3, t3 = h.connect(host="2001:db8::3")
    assert t3.value() == ERR["too-many-client-connections"]
    close(p3)
    # Closing one of the held connections frees a slot.
    close(held[0][0])
    proto, transport = h.connect()
    assert transport.value() == b""
    proto.dataReceived(b"help\r\n")
    assert transport.value() == h.factory.help_reply
    for p in (proto, held[1][0], *(p for p, _ in v6)):
        close(p)
    assert h.factory.open_connections == 0 and h.factory.per_client == {}


def test_global_connection_cap() -> None:
    """Beyond max_connections open connections the server answers busy and closes."""
    h = Harness(make_config(whois={"max_connections": 3, "max_connections_per_client": 10}))
    held = [h.connect(host=f"192.0.2.{i}") for i in range(1, 4)]
    assert h.factory.open_connections == 3
    proto, transport = h.connect(host="192.0.2.99")
    assert transport.value() == ERR["server-busy"] and transport.disconnecting
    close(proto)
    close(held[0][0])
    proto, transport = h.connect(host="192.0.2.99")
    assert transport.value() == b""
    close(proto)
    for p, _ in held[1:]:
        close(p)
    assert h.factory.open_connections == 0 and h.factory.per_client == {}


# --- database trouble ---

def test_service_unavailable_gives_temporary_failure(h: Harness) -> None:
    """ServiceUnavailable → the temporary-failure line, at once (no hang)."""
    h.service.mode = "down"
    assert h.query(b"sample-domain.example\r\n") == ERR["temporary-failure"]
    assert h.query(b"nameserver ns1.sample-domain.example\r\n") == ERR["temporary-failure"]
    h.service.mode = "sync"
    assert h.query(b"sample-domain.example\r\n").startswith(b"Domain Name: sample-domain.example\r\n")


@pytest.mark.parametrize("mode", ["broken", "garbage"])
def test_unexpected_error_gives_internal_error(h: Harness, mode: str) -> None:
    """Any other failure, in the lookup or while rendering its result → the internal-error line."""
    h.service.mode = mode
    assert h.query(b"sample-domain.example\r\n") == ERR["internal-error"]
    assert h.query(b"nameserver ns1.sample-domain.example\r\n") == ERR["internal-error"]


def test_lookup_that_never_answers_times_out() -> None:
    """A lookup still pending at the deadline → temporary failure; the late answer is dropped."""
    h = Harness(make_config(whois={"idle_timeout": 3.0}))
    h.service.mode = "pending"
    proto, transport = h.connect()
    proto.dataReceived(b"sample-domain.example\r\n")
    assert transport.value() == b""
    h.clock.advance(3.1)
    assert transport.value() == ERR["temporary-failure"]
    h.service.pending[0].callback(h.service.record)
    assert transport.value() == ERR["temporary-failure"]


def test_deferred_answer_and_client_gone(h: Harness) -> None:
    """A slow (threaded) answer is written when it comes; if the client left, nothing breaks."""
    h.service.mode = "pending"
    proto, transport = h.connect()
    proto.dataReceived(b"sample-domain.example\r\n")
    d = h.service.pending[0]
    d.callback(d.value_to_give)  # type: ignore[attr-defined]
    assert transport.value().startswith(b"Domain Name: sample-domain.example\r\n")
    proto2, transport2 = h.connect()
    proto2.dataReceived(b"sample-domain.example\r\n")
    close(proto2)
    h.service.pending[1].callback(h.service.record)
    assert transport2.value() == b""
    close(proto)
    assert h.factory.open_connections == 0


class FlakyThreads:
    """DatabaseThreads stand-in: runs the work synchronously, or fails like a dead database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.down = False

    def run(self, fn: Any) -> Deferred[Any]:
        if self.down:
            from sqlalchemy.exc import OperationalError

            return fail(OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused")))
        return maybeDeferred(self.db.run, fn)


def test_real_service_database_down_and_recovery(fixture_db_url: str) -> None:
    """With the real service: threads failing → temporary-failure line; when they work again, the record."""
    config = make_config()
    db = Database(fixture_db_url)
    threads = FlakyThreads(db)
    clock = MemoryReactorClock()
    service = RegistrationDataService(threads, config, clock)  # type: ignore[arg-type]
    h = Harness(config, service)
    try:
        threads.down = True
        assert h.query(b"harbour-bakery.example\r\n") == ERR["temporary-failure"]
        assert h.query(b"nameserver ns1.dns-hosting.example\r\n") == ERR["temporary-failure"]
        threads.down = False
        reply = h.query(b"HARBOUR-BAKERY.EXAMPLE.\r\n")
        assert reply.startswith(b"Domain Name: harbour-bakery.example\r\n")
        assert h.query(b"bu\xcc\x88cher-beispiel.example\r\n").startswith(
            b"Domain Name: xn--bcher-beispiel-gsb.example\r\n")
        assert h.query(b"former-customer.example\r\n").startswith(b'No match for "former-customer.example".')
        host_reply = h.query(b"nameserver ns1.dns-hosting.example\r\n")
        assert host_reply.startswith(b"Server Name: ns1.dns-hosting.example\r\nIP Address: 192.0.2.53\r\n")
    finally:
        db.dispose()


# --- logging ---

def test_one_log_line_per_query_without_personal_data(h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    """Each query logs exactly one line with kind and outcome, and nothing from the record."""
    caplog.set_level(logging.INFO, logger="whois_server.query")
    h.query(b"sample-domain.example\r\n")
    h.query(b"nope.example\r\n")
    h.query(b"!!\r\n")
    h.service.mode = "down"
    h.query(b"sample-domain.example\r\n")
    lines = [r.getMessage() for r in caplog.records if r.name == "whois_server.query"]
    assert len(lines) == 4
    assert "kind=domain outcome=found" in lines[0] and "client=192.0.2.10" in lines[0]
    assert "kind=domain outcome=not-found" in lines[1]
    assert "outcome=bad-query" in lines[2]
    assert "outcome=unavailable" in lines[3]
    for line in lines:
        for private in ("Private", "private@", "Privateville", "sample-domain", "nope.example"):
            assert private not in line


def test_public_host_helper_matches_service_shape() -> None:
    """The fake service returns the same PublicHost shape the real one builds."""
    host = Host(ldh_name="ns1.sample-domain.example", created_at=T0, updated_at=T0,
                addresses=[HostAddress(address="192.0.2.53", version=4)])
    assert public_host(host) == PublicHost(ldh_name="ns1.sample-domain.example", unicode_name=None,
                                           ipv4=("192.0.2.53",))
