"""Independent WHOIS parsers from PyPI read our replies (spec Recommendation 9: parsers depend on them).

The raw bytes the running server sends are fed to three parsers — python-whois (module
``whois``), whoisdomain and asyncwhois — which must extract the registrar, the creation and
expiration dates, the name servers and the statuses. whoisdomain is also run end to end through
Debian's ``whois`` client. The no-match reply must be recognised as "not found" by each parser,
and no refusal/error line may be.

The parsers are test dependencies (``pip install -e .[test]``); a missing one skips its part
(under ``CI=true`` it fails).
"""

from __future__ import annotations

import importlib
import os
import shutil
import socket
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from registrar.config import load_config
from registrar.publication import whois_text
from registrar.publication.record import PublicRecord, build_public_record
from registrar.storage import Database, find_domain

ROOT = Path(__file__).resolve().parents[3]
IN_CI = os.environ.get("CI", "").lower() == "true"

SAMPLES = [
    "acme-widgets.example",  # organisation, tech, DNSSEC, one status
    "brightline-bank.example",  # six statuses
    "closing-down.example",  # pendingDelete + redemptionPeriod
    "dns-hosting.example",  # four name servers
    "harbour-bakery.example",  # plain individual, "ok"
    "xn--bcher-beispiel-gsb.example",  # IDN
    "tienda-ejemplo.example",  # reseller
]


def need(module: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError:
        reason = f"WHOIS parser {module!r} not installed (pip install -e .[test])"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)


def raw(port: int, query: str) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(query.encode() + b"\r\n")
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode("utf-8")


def wall(value: Any) -> tuple[int, ...]:
    """Y, M, D, h, m, s of a parsed date (parsers differ in how they attach time zones)."""
    if isinstance(value, list):
        value = value[0]
    assert isinstance(value, datetime), value
    return value.timetuple()[:6]


def as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def codes(values: Any) -> list[str]:
    """Status codes without the ICANN URL that follows each."""
    return [v.split()[0] for v in as_list(values)]


Served = tuple[int, dict[str, PublicRecord], dict[str, str]]


@pytest.fixture
def served(start_server: Any, fixture_db_url: str) -> Iterator[Served]:
    """A running server, the public records of the samples, and the raw replies for them."""
    config = load_config(ROOT / "fixtures" / "config.toml")
    db = Database(fixture_db_url)
    try:
        with db.transaction() as session:
            records = {a: build_public_record(find_domain(session, a),  # type: ignore[arg-type]
                                              config.registrar, config.privacy) for a in SAMPLES}
    finally:
        db.dispose()
    server = start_server(fixture_db_url)
    texts = {a: raw(server.whois_port, a) for a in SAMPLES}
    texts["not-ours.com"] = raw(server.whois_port, "not-ours.com")
    yield server.whois_port, records, texts


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_parsers_read_our_replies(served: Served, whoisdomain_mod: ModuleType) -> None:
    """All three parsers, on the raw replies of one running server."""
    check_python_whois(served)
    check_asyncwhois(served)
    check_whoisdomain(served, whoisdomain_mod)


def check_python_whois(served: Served) -> None:
    """python-whois (``whois.parser.WhoisEntry``) extracts the key data; our no-match is "not found"."""
    need("whois")
    from whois.exceptions import WhoisDomainNotFoundError
    from whois.parser import WhoisEntry

    _, records, texts = served
    for a_label, record in records.items():
        parsed = WhoisEntry.load(a_label, texts[a_label])
        assert parsed.registrar == "Example Registrar, Inc.", a_label
        assert wall(parsed.creation_date) == record.created.timetuple()[:6], a_label
        assert wall(parsed.expiration_date) == record.registrar_expires.timetuple()[:6], a_label
        assert [n.lower() for n in as_list(parsed.name_servers)] == [h.ldh_name for h in record.nameservers]
        assert codes(parsed.status) == list(record.statuses), a_label
        assert parsed.dnssec == ("signedDelegation" if record.ds_records else "unsigned")
    with pytest.raises(WhoisDomainNotFoundError):
        WhoisEntry.load("not-ours.com", texts["not-ours.com"])
    for line in whois_text.ERROR_LINES.values():
        WhoisEntry.load("refused.com", line + "\r\n")  # must not raise "not found"


def check_asyncwhois(served: Served) -> None:
    """asyncwhois (``DomainParser``) extracts the key data; no-match raises NotFoundError, refusals do not."""
    need("asyncwhois")
    from asyncwhois.errors import NotFoundError
    from asyncwhois.parse import TLDBaseKeys as K
    from asyncwhois.parse_tld import DomainParser

    _, records, texts = served
    for a_label, record in records.items():
        parsed = DomainParser().parse(texts[a_label], a_label.rsplit(".", 1)[1])
        assert parsed[K.REGISTRAR] == "Example Registrar, Inc.", a_label
        assert wall(parsed[K.CREATED]) == record.created.timetuple()[:6], a_label
        assert wall(parsed[K.EXPIRES]) == record.registrar_expires.timetuple()[:6], a_label
        assert [n.lower() for n in parsed[K.NAME_SERVERS]] == [h.ldh_name for h in record.nameservers]
        assert codes(parsed[K.STATUS]) == list(record.statuses), a_label
    with pytest.raises(NotFoundError):
        DomainParser().parse(texts["not-ours.com"], "com")
    for line in whois_text.ERROR_LINES.values():
        DomainParser().parse(line + "\r\n", "com")  # must not raise NotFoundError


class _RawCache:
    """whoisdomain's cache interface, answering every lookup with one raw reply."""

    def __init__(self, text: str) -> None:
        self.text = text

    def get(self, key: str) -> str:
        return self.text

    def put(self, key: str, value: str) -> str:
        return value


@pytest.fixture
def whoisdomain_mod() -> Iterator[ModuleType]:
    wd = need("whoisdomain")
    wd.mergeExternalDictWithRegex({"example": {"extend": "com"}, "test": {"extend": "com"}})
    from whoisdomain import doWhoisCommand

    yield wd
    doWhoisCommand.CACHE_STUB = None


def _whoisdomain_parse(wd: ModuleType, domain: str, text: str) -> Any:
    from whoisdomain import doWhoisCommand

    doWhoisCommand.CACHE_STUB = _RawCache(text)
    return wd.query(domain, whoisOnly=True)


def check_whoisdomain(served: Served, wd: ModuleType) -> None:
    """whoisdomain extracts the key data from our raw replies (and end to end through Debian's whois);
    our no-match is "not registered" (None), every refusal/error line is an exception instead."""
    port, records, texts = served
    for a_label, record in records.items():
        parsed = _whoisdomain_parse(wd, a_label, texts[a_label])
        assert parsed is not None, a_label
        assert parsed.registrar == "Example Registrar, Inc.", a_label
        assert wall(parsed.creation_date) == record.created.timetuple()[:6], a_label
        assert wall(parsed.expiration_date) == record.registrar_expires.timetuple()[:6], a_label
        assert sorted(parsed.name_servers) == sorted(h.ldh_name for h in record.nameservers), a_label
        assert codes(parsed.statuses) == list(record.statuses), a_label
        assert parsed.dnssec is bool(record.ds_records)
    assert _whoisdomain_parse(wd, "not-ours.com", texts["not-ours.com"]) is None
    for line in whois_text.ERROR_LINES.values():
        with pytest.raises((wd.WhoisQuotaExceededError, wd.FailedParsingWhoisOutputError)):
            _whoisdomain_parse(wd, "refused.com", line + "\r\n")

    if shutil.which("whois"):
        from whoisdomain import doWhoisCommand

        doWhoisCommand.CACHE_STUB = None
        parsed = wd.query("brightline-bank.example", cmd=f"whois -p {port}", server="127.0.0.1", force=True,
                          whoisOnly=True)
        assert parsed is not None and parsed.registrar == "Example Registrar, Inc."
        assert len(parsed.statuses) == 6
