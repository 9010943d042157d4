"""The RDAP site in memory: routing, names, HEAD, errors, rate limit, proxies, async lookups.

Real ``Site`` and ``HTTPChannel`` on a ``StringTransport``, the real service on the fixture
database (SQLite, work run inline), a fake clock. Responses are compared with what
:mod:`registrar.publication.rdap_json` renders for the same record.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from registrar.fixtures import load
from registrar.publication import rdap_json
from registrar.storage import Database, find_domain, upgrade
from tests.rdap_conformance import common_problems, schema_errors
from tests.whois_server.rdap.rdap_harness import (
    ROOT,
    FailingThreads,
    Harness,
    PendingThreads,
    Response,
    SyncThreads,
    make_config,
    parse_response,
)

BASE = "https://rdap.registrar.example/"
NOW = "2026-11-30T12:00:00Z"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    path = tmp_path_factory.mktemp("rdap-site") / "fixtures.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    database = Database(url)
    load(database, [ROOT / "fixtures" / "registrations.toml"])
    yield database
    database.dispose()


@pytest.fixture
def rdap(db: Database) -> Harness:
    return Harness(make_config(), SyncThreads(db))


def record_of(h: Harness, name: str) -> object:
    from registrar.publication.record import build_public_record

    return h.threads.db.run(
        lambda s: build_public_record(find_domain(s, name), h.config.registrar, h.config.privacy)
    )


def assert_rdap_headers(r: Response) -> None:
    assert r.header("content-type") == "application/rdap+json"
    assert r.header("access-control-allow-origin") == "*"


def assert_error(r: Response, status: int) -> None:
    assert r.status == status
    assert_rdap_headers(r)
    body = r.json()
    assert body["errorCode"] == status
    assert body["title"] and body["description"]
    assert common_problems(body, body["notices"][0]["links"][0]["value"]) == []
    assert schema_errors(body, "error") == []


# --------------------------------------------------------------------------------------------
# Domains
# --------------------------------------------------------------------------------------------


def test_domain_lookup(rdap: Harness) -> None:
    r = rdap.request("/domain/acme-widgets.example")
    assert r.status == 200
    assert_rdap_headers(r)
    assert int(r.header("content-length") or 0) == len(r.body)
    record = record_of(rdap, "acme-widgets.example")
    expected = rdap_json.domain_response(record, f"{BASE}domain/acme-widgets.example", NOW)  # type: ignore[arg-type]
    assert r.json() == expected
    assert r.body == rdap_json.dumps(expected)


@pytest.mark.parametrize(
    "path",
    [
        "/domain/HARBOUR-Bakery.EXAMPLE",
        "/domain/harbour-bakery.example.",
        "/domain/harbour-bakery.example?x=1",
    ],
)
def test_ascii_any_case(rdap: Harness, path: str) -> None:
    r = rdap.request(path)
    assert r.status == 200
    body = r.json()
    assert body["ldhName"] == "harbour-bakery.example"
    assert "unicodeName" not in body
    # The notice values are the URL as asked for, under the registered base URL.
    assert {lk["value"] for n in body["notices"] for lk in n["links"]} == {BASE + path[1:]}


@pytest.mark.parametrize(
    "path",
    [
        "/domain/" + quote("bücher-beispiel.example"),
        "/domain/" + quote("BÜCHER-beispiel.example"),
        "/domain/xn--bcher-beispiel-gsb.example",
        "/domain/XN--BCHER-BEISPIEL-GSB.EXAMPLE",
    ],
)
def test_idn_forms(rdap: Harness, path: str) -> None:
    r = rdap.request(path)
    assert r.status == 200
    body = r.json()
    assert body["ldhName"] == "xn--bcher-beispiel-gsb.example"
    assert body["unicodeName"] == "bücher-beispiel.example"
    assert body["links"][0]["value"] == BASE + path[1:]


def test_raw_utf8_request_target_is_refused_by_http(rdap: Harness) -> None:
    """A request line with raw (not percent-encoded) UTF-8 is not HTTP (RFC 9112 §3.2): twisted.web
    answers a bare 400 and closes before any resource runs."""
    r = rdap.request("/domain/bücher-beispiel.example".encode())
    assert r.status == 400 and r.body == b""


@pytest.mark.parametrize(
    "path",
    [
        "/domain/xn--bcher-beispiel-gsb." + quote("bücher"),  # A-label and U-label mixed
        "/domain/" + quote("bücher-beispiel.") + "xn--fsqu00a",
        "/domain/-bad-.example",
        "/domain/a..example",
        "/domain/exa_mple.example",
        "/domain/%FF%FE.example",
        "/domain/",
        "/domain/example",
        "/domain/a%2Fb.example",
        "/domain/" + "a" * 64 + ".example",
        "/nameserver/-x-.example",
    ],
)
def test_malformed_names_are_400(rdap: Harness, path: str) -> None:
    assert_error(rdap.request(path), 400)


@pytest.mark.parametrize(
    "path",
    [
        "/domain/not-a-domain.invalid",
        "/domain/test.invalid",
        "/domain/former-customer.example",
        "/domain/not-ours.example",
        "/entity/123",
        "/entity/REGISTRANT-1",
        "/",
        "/nothing/here",
        "/help/more",
        "/nameserver/ns1.not-ours.example",
    ],
)
def test_not_found_is_404(rdap: Harness, path: str) -> None:
    assert_error(rdap.request(path), 404)


@pytest.mark.parametrize(
    "path",
    [
        "/ip/192.0.2.1",
        "/autnum/64496",
        "/domains?name=a*.example",
        "/nameservers?ip=192.0.2.1",
        "/entities?fn=Jane*",
    ],
)
def test_unsupported_query_types_are_501(rdap: Harness, path: str) -> None:
    assert_error(rdap.request(path), 501)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE"])
def test_other_methods_are_405(rdap: Harness, method: str) -> None:
    r = rdap.request("/domain/harbour-bakery.example", method=method)
    assert_error(r, 405)
    assert r.header("allow") == "GET, HEAD"


@pytest.mark.parametrize(
    "path",
    [
        "/domain/harbour-bakery.example",
        "/domain/not-a-domain.invalid",
        "/help",
        "/domain/-bad-.example",
        "/entity/9999",
        "/ip/192.0.2.1",
        "/nameserver/ns1.dns-hosting.example",
    ],
)
def test_head_matches_get(rdap: Harness, path: str) -> None:
    get = rdap.request(path)
    head = rdap.request(path, method="HEAD")
    assert head.status == get.status
    strip = {"date"}
    assert {k: v for k, v in head.headers.items() if k not in strip} == {
        k: v for k, v in get.headers.items() if k not in strip
    }
    assert head.raw.endswith(b"\r\n\r\n")  # no body at all
    assert int(head.header("content-length") or 0) == len(get.body) > 0


@pytest.mark.parametrize("accept", ["application/json", "application/rdap+json", "text/html", "*/*"])
def test_content_type_whatever_the_accept_header(rdap: Harness, accept: str) -> None:
    r = rdap.request("/domain/harbour-bakery.example", headers={"Accept": accept})
    assert r.status == 200
    assert_rdap_headers(r)


# --------------------------------------------------------------------------------------------
# Help, entity, nameserver
# --------------------------------------------------------------------------------------------


def test_help(rdap: Harness) -> None:
    r = rdap.request("/help")
    assert r.status == 200
    assert_rdap_headers(r)
    body = r.json()
    assert body == rdap_json.help_response(rdap.service.registrar, f"{BASE}help")
    assert schema_errors(body, "help") == []
    assert common_problems(body, f"{BASE}help") == []


def test_registrar_entity(rdap: Harness) -> None:
    r = rdap.request("/entity/9999")
    assert r.status == 200
    body = r.json()
    assert body["handle"] == "9999" and body["roles"] == ["registrar"]
    assert schema_errors(body, "entity") == []


def test_nameserver(rdap: Harness) -> None:
    r = rdap.request("/nameserver/NS1.dns-hosting.example")
    assert r.status == 200
    body = r.json()
    assert body["objectClassName"] == "nameserver" and body["ldhName"] == "ns1.dns-hosting.example"
    assert body["ipAddresses"] == {"v4": ["192.0.2.53"], "v6": ["2001:db8:53::1"]}
    assert schema_errors(body, "nameserver") == []
    idn = rdap.request("/nameserver/ns1." + quote("bücher-beispiel.example"))
    assert idn.status == 200 and idn.json()["unicodeName"] == "ns1.bücher-beispiel.example"


# --------------------------------------------------------------------------------------------
# Request URL and base path
# --------------------------------------------------------------------------------------------


def test_base_url_with_path_prefix(db: Database) -> None:
    h = Harness(make_config(registrar={"rdap_base_url": "https://example.net/rdap/"}), SyncThreads(db))
    for path in ("/rdap/domain/harbour-bakery.example", "/domain/harbour-bakery.example"):
        r = h.request(path)
        assert r.status == 200, path
        assert (
            r.json()["notices"][0]["links"][0]["value"]
            == "https://example.net/rdap/domain/harbour-bakery.example"
        )
    assert h.request("/rdap/help").status == 200


def test_request_url_never_breaks_json(rdap: Harness) -> None:
    r = rdap.request(b'/domain/x"y\\z.example')
    assert r.status == 400
    assert r.json()["notices"][0]["links"][0]["value"] == BASE + "domain/x%22y%5Cz.example"


# --------------------------------------------------------------------------------------------
# Rate limit (shared with WHOIS) and client address
# --------------------------------------------------------------------------------------------


def limited(db: Database, **rdap: object) -> Harness:
    return Harness(
        make_config(ratelimit={"enabled": True, "burst": 3, "rate": 0.5}, rdap=dict(rdap)), SyncThreads(db)
    )


def test_rate_limit_429_with_retry_after(db: Database) -> None:
    h = limited(db)
    assert [h.request("/domain/harbour-bakery.example").status for _ in range(3)] == [200, 200, 200]
    for method in ("GET", "HEAD"):
        r = h.request("/domain/harbour-bakery.example", method=method)
        assert r.status == 429
        assert_rdap_headers(r)
        assert int(r.header("retry-after") or 0) >= 1
    body = h.request("/help").json()
    assert body["errorCode"] == 429 and "rdapConformance" in body
    h.clock.advance(10)
    assert h.request("/domain/harbour-bakery.example").status == 200
    assert h.request("/help", peer="198.51.100.8").status == 200  # another client is not affected


def test_rate_limit_is_shared_with_whois(db: Database) -> None:
    h = limited(db)
    for _ in range(3):
        assert h.limiter.check("198.51.100.7") == 0  # e.g. three WHOIS queries
    assert h.request("/help").status == 429


def test_forwarded_for_only_from_trusted_proxies(db: Database) -> None:
    h = limited(db, trusted_proxies=["127.0.0.0/8", "10.0.0.0/8"])
    for _ in range(3):
        h.limiter.check("203.0.113.9")
    xff = {"X-Forwarded-For": "192.0.2.1, 203.0.113.9, 10.1.1.1"}
    assert h.request("/help", headers=xff, peer="127.0.0.1").status == 429  # right-most untrusted hop
    other = {"X-Forwarded-For": "203.0.113.10"}
    assert h.request("/help", headers=other, peer="127.0.0.1").status == 200
    # From an untrusted peer the header is ignored: the peer itself is charged.
    assert h.request("/help", headers=xff, peer="198.51.100.20").status == 200
    assert h.request("/help", headers={"X-Forwarded-For": "not-an-ip"}, peer="127.0.0.1").status == 200
    resource = h.factory.resource
    assert resource._is_trusted("::ffff:127.0.0.1")


# --------------------------------------------------------------------------------------------
# Lookups that wait, fail or are cached
# --------------------------------------------------------------------------------------------


def test_cached_records_answer_without_a_thread_hop(db: Database) -> None:
    threads = SyncThreads(db)
    h = Harness(make_config(), threads)
    first = h.request("/domain/jane-sample.test")
    assert threads.calls == 1
    second = h.request("/domain/JANE-SAMPLE.test")
    assert threads.calls == 1 and second.json()["ldhName"] == first.json()["ldhName"]
    assert h.request("/domain/not-ours.example").status == 404
    assert h.request("/domain/not-ours.example").status == 404
    assert threads.calls == 2  # misses are cached too
    h.clock.advance(3)  # past server.cache_ttl
    h.request("/domain/jane-sample.test")
    assert threads.calls == 3


def test_lookup_answers_when_the_database_does(db: Database) -> None:
    threads = PendingThreads(db)
    h = Harness(make_config(), threads)
    _protocol, transport = h.send(b"GET /domain/jane-sample.test HTTP/1.1\r\nHost: x\r\n\r\n")
    assert transport.value() == b""
    assert h.factory.resource.pending == 1  # what the SIGTERM drain waits for
    threads.release()
    assert h.factory.resource.pending == 0
    r = parse_response(transport.value())
    assert r.status == 200 and r.json()["ldhName"] == "jane-sample.test"
    _protocol, transport = h.send(b"HEAD /nameserver/ns9.nowhere.example HTTP/1.1\r\nHost: x\r\n\r\n")
    threads.release()
    assert parse_response(transport.value(), head_request=True).status == 404


def test_client_gone_before_the_database_answers(db: Database) -> None:
    threads = PendingThreads(db)
    h = Harness(make_config(), threads)
    protocol, transport = h.send(b"GET /domain/jane-sample.test HTTP/1.1\r\nHost: x\r\n\r\n")
    protocol.connectionLost(Exception("gone"))
    threads.release()  # must not raise or write
    assert transport.value() == b""
    assert h.factory.resource.pending == 0


def test_database_down_is_503(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    h = Harness(make_config(), FailingThreads(db))
    with caplog.at_level(logging.WARNING):
        assert_error(h.request("/domain/jane-sample.test"), 503)
        assert_error(h.request("/nameserver/ns1.dns-hosting.example"), 503)
    assert h.request("/help").status == 200


def test_rendering_bug_is_an_rdap_500(rdap: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_args: object) -> bytes:
        raise RuntimeError("bug")

    monkeypatch.setattr(rdap.factory.resource, "domain_body", boom)
    assert_error(rdap.request("/domain/jane-sample.test"), 500)


def test_rendering_bug_after_a_lookup_is_an_rdap_500(db: Database, monkeypatch: pytest.MonkeyPatch,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    """A bug while rendering a record that came from the database still answers (500), never hangs."""
    threads = PendingThreads(db)
    h = Harness(make_config(), threads)

    def boom(*_args: object) -> bytes:
        raise RuntimeError("bug")

    monkeypatch.setattr(h.factory.resource, "domain_body", boom)
    _protocol, transport = h.send(b"GET /domain/jane-sample.test HTTP/1.1\r\nHost: x\r\n\r\n")
    with caplog.at_level(logging.ERROR):
        threads.release()
    assert parse_response(transport.value()).status == 500
    assert h.factory.resource.pending == 0


def test_one_log_line_per_query(rdap: Harness, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="whois_server.query"):
        rdap.request("/domain/harbour-bakery.example")
        rdap.request("/domain/not-a-domain.invalid", method="HEAD")
        rdap.request("/domain/-x-.example")
        rdap.request("/help", method="POST")
    lines = [r.getMessage() for r in caplog.records if r.name == "whois_server.query"]
    assert len(lines) == 4
    assert [line.split(" outcome=")[1].split()[0] for line in lines] == [
        "found",
        "not-found",
        "bad-query",
        "bad-query",
    ]
    assert all(line.startswith("rdap client=198.51.100.7 ") for line in lines)
    assert not any("harbour" in line for line in lines)


def test_no_access_log_and_quiet_site(rdap: Harness) -> None:
    site = rdap.factory
    assert site.noisy is False and site.displayTracebacks is False
    assert site.log(object()) is None  # type: ignore[arg-type]


def test_port43_follows_whois_enabled(db: Database) -> None:
    h = Harness(make_config(whois={"enabled": False}), SyncThreads(db))
    assert "port43" not in h.request("/domain/harbour-bakery.example").json()
