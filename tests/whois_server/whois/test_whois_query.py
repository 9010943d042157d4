"""The port-43 query grammar (spec §1.5, checklist 38)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registrar.validation import ValidationError, normalize_domain
from whois_server.whois.query import BadQuery, Query, normalize_name, parse_query


@pytest.mark.parametrize(("line", "expected"), [
    (b"example.com", Query("domain", "example.com")),
    (b"EXAMPLE.COM", Query("domain", "example.com")),
    (b"Example.Com.", Query("domain", "example.com")),
    (b"  example.com  ", Query("domain", "example.com")),
    (b"domain example.com", Query("domain", "example.com")),
    (b"DOMAIN\texample.com.", Query("domain", "example.com")),
    ("bücher-beispiel.example".encode(), Query("domain", "xn--bcher-beispiel-gsb.example")),
    ("BÜCHER-BEISPIEL.example".encode(), Query("domain", "xn--bcher-beispiel-gsb.example")),
    (b"XN--BCHER-BEISPIEL-GSB.EXAMPLE", Query("domain", "xn--bcher-beispiel-gsb.example")),
    ("straße-beispiel.test".encode(), Query("domain", "xn--strae-beispiel-3fb.test")),
    ("例子.example".encode(), Query("domain", "xn--fsqu00a.example")),
    ("例子。example".encode(), Query("domain", "xn--fsqu00a.example")),  # ideographic full stop (UTS #46)
    ("例子\uff0eexample\uff0e".encode(), Query("domain", "xn--fsqu00a.example")),  # fullwidth full stop
    ("domain пример-магазин.example".encode(), Query("domain", "xn----8sbalhqbg3acqnnd.example")),
    (b"nameserver NS1.Example.NET.", Query("nameserver", "ns1.example.net")),
    ("nameserver ns1.bücher-beispiel.example".encode(),
     Query("nameserver", "ns1.xn--bcher-beispiel-gsb.example")),
    (b"registrar", Query("registrar", "")),
    (b"REGISTRAR 9999", Query("registrar", "9999")),
    (b"registrar Example Registrar, Inc.", Query("registrar", "Example Registrar, Inc.")),
    (b"help", Query("help")),
    (b"Help", Query("help")),
    (b"?", Query("help")),
    (b"registrar.example", Query("domain", "registrar.example")),
    (b"help.example", Query("domain", "help.example")),
])
def test_valid_queries(line: bytes, expected: Query) -> None:
    """Bare names, keywords in any case, trailing dots, U-labels and A-labels."""
    assert parse_query(line) == expected


@pytest.mark.parametrize("line", [
    b"", b"   ", b"\xff\xfeexample.com", b"\xc3(", b"domain", b"nameserver", b"com", b"example..com",
    b".example.com", b"-example.com", b"example-.com", b"exa mple.com", b"foo example.com",
    b"domain example.com extra", b"ab--cd.example", b"xn--zz.example", b"example.123",
    b"a" * 64 + b".example", (b"a" * 60 + b".") * 5 + b"example", b"exa\x00mple.com", b"exa_mple.com",
    "xn--bcher-kva.bücher.example".encode() + b"\xff",
])
def test_bad_queries(line: bytes) -> None:
    """Invalid UTF-8, invalid names and unknown forms are BadQuery (never a lookup)."""
    assert isinstance(parse_query(line), BadQuery)


def test_bad_query_has_a_reason() -> None:
    """The reason is for the log and tests."""
    result = parse_query(b"\xff")
    assert isinstance(result, BadQuery) and result.reason == "not UTF-8"


_ldh = st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,20}[A-Za-z0-9])?", fullmatch=True)
_names = st.lists(_ldh, min_size=1, max_size=4).map(".".join).flatmap(
    lambda s: st.sampled_from([f"{s}.example", f"{s}.Test.", f"{s}.e2e"]))


@settings(max_examples=300, deadline=None)
@given(_names)
def test_fast_path_agrees_with_normalize_domain(name: str) -> None:
    """The LDH fast path gives exactly what the full IDNA normalisation gives (or both reject)."""
    try:
        expected: str | None = normalize_domain(name, "query").a_label
    except ValidationError:
        expected = None
    try:
        got: str | None = normalize_name(name)
    except ValidationError:
        got = None
    assert got == expected
