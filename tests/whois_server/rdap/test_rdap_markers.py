"""Property: RDAP shows a non-public element exactly when its consent allows it — bodies and headers.

The WHOIS marker test, extended to RDAP. Random registrations from
:func:`tests.strategies.registrations` carry a unique marker string in every non-public
element (registrant, tech, admin and billing values, authInfo); they are built in memory and
published through the real RDAP site (``Site`` + resource on a ``StringTransport``) backed by
a stub service that holds the one record. For GET and HEAD, by A-label and by U-label:

* no hidden marker appears anywhere in the response — status line, headers or body;
* every marker whose element is published (consent, or State/Province) appears in the body;
* and the same holds for the formatter's output on its own.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import Clock

from registrar.config import Config, RateLimitConfig
from registrar.publication import rdap_json
from registrar.publication.record import PublicRecord, registrar_info
from tests.strategies import Registration, registrations
from tests.whois_server.rdap.rdap_harness import Harness, parse_response
from whois_server.ratelimit import RateLimiter
from whois_server.rdap.site import make_rdap_factory

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class RecordService:
    """The service interface the RDAP resource uses, holding one record."""

    def __init__(self, record: PublicRecord) -> None:
        self.record = record
        self.registrar = record.registrar

    def cached_domain(self, a_label: str) -> Any:
        return self.record if a_label == self.record.ldh_name else None

    def lookup_domain(self, a_label: str) -> Deferred[PublicRecord | None]:
        return succeed(self.cached_domain(a_label))

    def lookup_host(self, a_label: str) -> Deferred[Any]:
        return succeed(None)


def site_for(reg: Registration, record: PublicRecord) -> Any:
    config = Config(registrar=reg.registrar, privacy=reg.privacy, ratelimit=RateLimitConfig(enabled=False))
    clock = Clock()
    clock.advance(NOW.timestamp())
    return make_rdap_factory(
        service=RecordService(record),
        limiter=RateLimiter(config.ratelimit, clock),  # type: ignore[arg-type]
        config=config,
        clock=clock,
    )


def fetch(factory: Any, path: str, method: str) -> bytes:
    harness = Harness.__new__(Harness)  # reuse the connection helper without building a service
    harness.factory = factory
    _protocol, transport = harness.send(f"{method} {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode("ascii"))
    return transport.value()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(registrations())
def test_markers_appear_iff_consented(reg: Registration) -> None:
    record = reg.public_record()
    factory = site_for(reg, record)
    paths = ["/domain/" + record.ldh_name, "/domain/" + record.ldh_name.upper()]
    if record.unicode_name:
        paths.append("/domain/" + quote(record.unicode_name))
    for path in paths:
        for method in ("GET", "HEAD"):
            raw = fetch(factory, path, method)
            response = parse_response(raw, head_request=method == "HEAD")
            assert response.status == 200, (path, raw[:300])
            leaked = [m for m in reg.hidden() if m.encode() in raw]
            assert not leaked, f"non-public data in the RDAP response ({method} {path}): {leaked}"
            head = raw.partition(b"\r\n\r\n")[0]
            assert not [m for m in reg.markers if m.encode() in head], "record data in HTTP headers"
            if method == "GET":
                body = response.body.decode("utf-8")
                missing = [m for m in reg.visible() if m not in body]
                assert not missing, f"consented data missing from the RDAP response: {missing}"
    # The formatter alone, and its JSON, agree.
    data = rdap_json.dumps(rdap_json.domain_response(record, "https://rdap.registrar.example/domain/x", NOW))
    assert not [m for m in reg.hidden() if m.encode() in data]
    assert not [m for m in reg.visible() if m.encode() not in data]


@settings(max_examples=40, deadline=None)
@given(registrations())
def test_errors_help_and_entity_never_carry_record_data(reg: Registration) -> None:
    """Responses that are not the record (404, 400, help, registrar entity) contain no marker."""
    record = reg.public_record()
    factory = site_for(reg, record)
    for path in (
        "/domain/other-name.example",
        "/domain/-x-.example",
        "/help",
        "/entity/9999",
        "/nameserver/ns1.example.net",
        "/ip/192.0.2.1",
    ):
        raw = fetch(factory, path, "GET")
        assert not [m for m in reg.markers if m.encode() in raw], path
    info = registrar_info(reg.registrar)
    assert rdap_json.registrar_entity(info) == rdap_json.registrar_entity(record.registrar)
