"""RDAP over real HTTP on 127.0.0.1: the ``whois-server`` process against the fixture database.

GET and HEAD agree (status and headers), 404s with RDAP error bodies, 400 for mixed labels,
percent-encoded U-labels, ``/help``, ``Accept: application/json``, 429 with ``Retry-After``
under a small burst, every response schema-valid — and a real RDAP client library from PyPI
(``whodap``) parses our domain responses.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import RunningServer
from tests.rdap_conformance import common_problems, domain_problems, redaction_path_problems, schema_errors

BASE = "https://rdap.registrar.example/"
Fetch = Callable[..., tuple[int, dict[str, str], bytes]]


def fetch(
    server: RunningServer, path: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(server.host, server.rdap_port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        conn.close()


@pytest.fixture
def server(fixture_db_url: str, start_server: Callable[..., RunningServer]) -> RunningServer:
    return start_server(fixture_db_url)


def test_lookups_over_http(server: RunningServer) -> None:
    cases = {
        "/domain/harbour-bakery.example": 200,
        "/domain/HARBOUR-BAKERY.example": 200,
        "/domain/" + quote("bücher-beispiel.example"): 200,
        "/domain/xn--bcher-beispiel-gsb.example": 200,
        "/domain/" + quote("例子.example"): 200,
        "/domain/xn--bcher-beispiel-gsb." + quote("bücher"): 400,
        "/domain/not-a-domain.invalid": 404,
        "/domain/former-customer.example": 404,
        "/domain/never-registered.example": 404,
        "/help": 200,
        "/entity/9999": 200,
        "/nameserver/ns1.dns-hosting.example": 200,
    }
    for path, status in cases.items():
        got, headers, body = fetch(server, path)
        assert got == status, (path, body[:300])
        assert headers["content-type"] == "application/rdap+json", path
        assert headers["access-control-allow-origin"] == "*", path
        doc = json.loads(body)
        url = BASE + path[1:]
        assert common_problems(doc, url) == [], path
        if status != 200:
            assert doc["errorCode"] == status
            assert schema_errors(doc, "error") == []
        elif path.startswith("/domain/"):
            assert schema_errors(doc, "domain") == []
            assert domain_problems(doc, url, rdap_base_url=BASE, iana_id=9999) == []
            assert redaction_path_problems(doc) == []
        head_status, head_headers, head_body = fetch(server, path, "HEAD")
        assert head_status == got and head_body == b""
        for name in ("content-type", "access-control-allow-origin", "content-length"):
            assert head_headers[name] == headers[name], (path, name)
    _, _, body = fetch(server, "/domain/" + quote("bücher-beispiel.example"))
    assert json.loads(body)["unicodeName"] == "bücher-beispiel.example"
    status, headers, _ = fetch(server, "/domain/harbour-bakery.example", "POST")
    assert status == 405 and headers["allow"] == "GET, HEAD"
    for accept in ("application/json", "application/rdap+json"):
        status, headers, _ = fetch(server, "/domain/harbour-bakery.example", headers={"Accept": accept})
        assert status == 200 and headers["content-type"] == "application/rdap+json"


def test_rate_limit_over_http(fixture_db_url: str, start_server: Callable[..., RunningServer]) -> None:
    server = start_server(fixture_db_url, {"ratelimit": {"enabled": True, "burst": 4, "rate": 0.05}})
    # The start-up probe (GET /help) already used one token of the burst.
    statuses = []
    while len(statuses) < 10:
        status, headers, body = fetch(server, "/domain/harbour-bakery.example")
        statuses.append(status)
        if status != 200:
            break
    assert statuses[-1] == 429 and 3 <= statuses.count(200) <= 4, statuses
    assert int(headers["retry-after"]) >= 1
    assert headers["content-type"] == "application/rdap+json"
    doc = json.loads(body)
    assert doc["errorCode"] == 429 and "icann_rdap_response_profile_1" in doc["rdapConformance"]
    assert fetch(server, "/help", "HEAD")[0] == 429


def test_whodap_parses_our_responses(server: RunningServer) -> None:
    """``whodap`` (PyPI), pointed at our server, parses domain responses into its WHOIS view."""
    import httpx2  # whodap's HTTP client
    import whodap
    from whodap.utils import WHOISKeys

    base = f"http://{server.host}:{server.rdap_port}/"
    with httpx2.Client(timeout=10) as http_client:
        client = whodap.DNSClient(http_client)
        client.iana_dns_server_map = {"example": base, "test": base}
        harbour = client.lookup("harbour-bakery", "example")
        flat: dict[Any, Any] = harbour.to_whois_dict(strict=True)
        assert flat[WHOISKeys.DOMAIN_NAME] == "harbour-bakery.example"
        assert flat[WHOISKeys.REGISTRAR_NAME] == "Example Registrar, Inc."
        assert flat[WHOISKeys.ABUSE_EMAIL] == "abuse@registrar.example"
        assert flat[WHOISKeys.REGISTRANT_NAME] == "REDACTED FOR PRIVACY"  # from our RFC 9537 objects
        assert flat[WHOISKeys.REGISTRANT_EMAIL].startswith(
            "https://www.registrar.example/contact-domain-holder"
        )
        assert flat[WHOISKeys.NAMESERVERS] == ["ns1.example.net", "ns2.example.net"]
        assert flat[WHOISKeys.DNSSEC] == "unsigned"
        assert str(flat[WHOISKeys.CREATED_DATE]).startswith("2018-04-12")
        assert harbour.ldhName == "harbour-bakery.example"
        acme = client.lookup("acme-widgets", "example").to_whois_dict(strict=True)
        assert acme[WHOISKeys.REGISTRANT_ORG] == "Acme Widgets Corporation"  # consented
        assert acme[WHOISKeys.DNSSEC] == "signed"
        with pytest.raises(whodap.errors.NotFoundError):
            client.lookup("not-a-domain", "invalid", auth_href=base + "domain/not-a-domain.invalid")
