"""WHOIS text: golden files pin the exact bytes of every reply variant (spec §1, checklist 33-38).

Records come from the fixture database (``fixtures/registrations.toml``, on SQLite and on
PostgreSQL: both must give the same bytes) with the quick-start configuration
(``fixtures/config.toml``) and a fixed ``now``. Any byte difference from
``tests/publication/golden/whois/<variant>.txt`` fails; to accept a deliberate change, run

    UPDATE_GOLDEN=1 python -m pytest tests/publication/test_whois_text.py

and review the diff of the golden files.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from registrar.config import Config, PrivacyConfig, load_config
from registrar.publication import whois_text
from registrar.publication.record import (
    PublicHost,
    PublicRecord,
    RegistrarInfo,
    build_public_record,
    public_host,
    registrar_info,
)
from registrar.storage import Database, find_domain, find_host

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "golden" / "whois"
NOW = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

# variant -> A-label of the fixture domain it shows
DOMAIN_VARIANTS = {
    "individual": "harbour-bakery.example",
    "organization-consent": "acme-widgets.example",
    "organization-no-consent": "northwind-trading.example",
    "all-consent": "openfield-consulting.example",
    "idn": "xn--bcher-beispiel-gsb.example",
    "idn-han-dnssec": "xn--fsqu00a.example",
    "dnssec": "dns-hosting.example",
    "many-statuses": "brightline-bank.example",
    "pending-delete-redemption": "closing-down.example",
    "pending-delete-restore": "second-chance.test",
    "pending-delete": "final-days.example",
    "inactive-no-nameservers": "idea-parked.test",
    "pending-create-no-registry-id": "fresh-start.example",
    "no-phone": "legacy-since-2009.example",
    "idn-published-email": "xn--vck8cuc4a.example",
    "no-tech": "erika-mustermann.example",
    "tech-no-consent": "primer-shop.example",
    "reseller": "tienda-ejemplo.example",
    "no-registry-id": "imported-batch.test",
}

# The RAA registrar field order (spec §1.2) of a domain reply, one entry per distinct key.
ORDER = [
    "Domain Name", "Registry Domain ID", "Registrar WHOIS Server", "Registrar URL", "Updated Date",
    "Creation Date", "Registrar Registration Expiration Date", "Registrar", "Registrar IANA ID",
    "Registrar Abuse Contact Email", "Registrar Abuse Contact Phone", "Reseller", "Domain Status",
    "Registry Registrant ID", "Registrant Name", "Registrant Organization", "Registrant Street",
    "Registrant City", "Registrant State/Province", "Registrant Postal Code", "Registrant Country",
    "Registrant Phone", "Registrant Phone Ext", "Registrant Fax", "Registrant Fax Ext", "Registrant Email",
    "Registry Tech ID", "Tech Name", "Tech Phone", "Tech Phone Ext", "Tech Email", "Name Server", "DNSSEC",
    "Internationalized Domain Name", "URL of the ICANN Whois Inaccuracy Complaint Form",
]
TECH_KEYS = {"Registry Tech ID", "Tech Name", "Tech Phone", "Tech Phone Ext", "Tech Email"}


_DBS: dict[str, Database] = {}


@pytest.fixture(scope="module", autouse=True)
def _close_databases() -> Iterator[None]:
    yield
    for db in _DBS.values():
        db.dispose()
    _DBS.clear()


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(ROOT / "fixtures" / "config.toml")


def _db(url: str) -> Database:
    if url not in _DBS:
        _DBS[url] = Database(url)
    return _DBS[url]


def record_of(db_url: str, config: Config, a_label: str,
              privacy: PrivacyConfig | None = None) -> PublicRecord:
    """The public record of a fixture domain."""
    with _db(db_url).transaction() as session:
        domain = find_domain(session, a_label)
        assert domain is not None, f"fixture domain {a_label} missing"
        return build_public_record(domain, config.registrar, privacy or config.privacy)


def host_of(db_url: str, name: str) -> PublicHost:
    """The public view of a fixture host."""
    with _db(db_url).transaction() as session:
        host = find_host(session, name)
        assert host is not None
        return public_host(host)


def check_golden(variant: str, text: str) -> None:
    """Compare ``text`` (UTF-8) with the golden file byte for byte (or rewrite it with UPDATE_GOLDEN=1)."""
    path = GOLDEN / f"{variant}.txt"
    data = text.encode("utf-8")
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return
    assert path.exists(), f"no golden file {path}; run with UPDATE_GOLDEN=1 to create it"
    expected = path.read_bytes()
    if data != expected:
        diff = "\n".join(difflib.unified_diff(
            [repr(x) for x in expected.decode("utf-8", "replace").splitlines(keepends=True)],
            [repr(x) for x in text.splitlines(keepends=True)],
            f"golden/{variant}.txt", "rendered", lineterm=""))
        pytest.fail(f"WHOIS reply differs from golden/{variant}.txt:\n{diff}")


def check_wire_format(text: str) -> None:
    """CRLF on every line, no bare CR/LF, no trailing spaces, `Key: value` or `Key:`."""
    data = text.encode("utf-8")
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert b"\r" not in data.replace(b"\r\n", b"")
    for line in text.split("\r\n"):
        assert line == line.rstrip(), repr(line)
        assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in line), repr(line)


def keys_of(text: str) -> list[str]:
    head = text.split("\r\n>>> Last update")[0]
    return [line.split(":", 1)[0] for line in head.split("\r\n")]


@pytest.mark.parametrize("variant", sorted(DOMAIN_VARIANTS))
def test_domain_golden(variant: str, fixture_db_url: str, config: Config) -> None:
    """Each fixture variant renders exactly its golden bytes, on every backend."""
    record = record_of(fixture_db_url, config, DOMAIN_VARIANTS[variant])
    text = whois_text.format_domain(record, NOW, redaction_text=config.privacy.redaction_text)
    check_wire_format(text)
    check_golden(variant, text)


@pytest.mark.parametrize("variant", sorted(DOMAIN_VARIANTS))
def test_domain_structure(variant: str, fixture_db_url: str, config: Config) -> None:
    """Labels in the RAA order, footer in the spec order, tech block iff a tech contact, no admin/billing."""
    record = record_of(fixture_db_url, config, DOMAIN_VARIANTS[variant])
    text = whois_text.format_domain(record, NOW, redaction_text=config.privacy.redaction_text)
    keys = keys_of(text)
    distinct = list(dict.fromkeys(keys))
    assert distinct == [k for k in ORDER if k in distinct]
    assert set(distinct) >= set(ORDER) - TECH_KEYS - {"Internationalized Domain Name"}
    assert (TECH_KEYS <= set(distinct)) == (record.tech is not None)
    assert ("Internationalized Domain Name" in distinct) == (record.unicode_name is not None)
    assert not any(k.startswith(("Admin", "Billing", "Registry Admin", "Registry Billing")) for k in keys)
    assert keys.count("Domain Status") == len(record.statuses)
    assert keys.count("Name Server") == max(1, len(record.nameservers))
    for status in record.statuses:
        assert f"\r\nDomain Status: {status} https://icann.org/epp#{status}\r\n" in text
    dnssec = "signedDelegation" if record.ds_records else "unsigned"
    assert f"\r\nDNSSEC: {dnssec}\r\n" in text
    footer = (
        "\r\nURL of the ICANN Whois Inaccuracy Complaint Form: https://www.icann.org/wicf/\r\n"
        ">>> Last update of WHOIS database: 2026-11-30T12:00:00Z <<<\r\n\r\n"
        "For more information on Whois status codes, please visit https://icann.org/epp\r\n\r\nTERMS OF USE:"
    )
    assert footer in text


def test_admin_billing_authinfo_never_shown(fixture_db_url: str, config: Config) -> None:
    """Stored admin/billing contacts and the authInfo of fixture domains appear in no reply."""
    acme = whois_text.format_domain(record_of(fixture_db_url, config, "acme-widgets.example"), NOW)
    for secret in ("Chris Adminson", "it-admin@acme-widgets.example", "Accounts Payable", "ap@acme-widgets",
                   "PO Box 9999", "Morgan Example", "domains@acme-widgets.example"):
        assert secret not in acme
    reservas = whois_text.format_domain(record_of(fixture_db_url, config, "ejemplo-reservas.test"), NOW)
    assert "Fx7-sample-Auth-42" not in reservas


def test_redaction_text_and_email_replacement(fixture_db_url: str, config: Config) -> None:
    """Redacted values show the configured text; the email line shows the replacement, never the address."""
    record = record_of(fixture_db_url, config, "harbour-bakery.example")
    text = whois_text.format_domain(record, NOW, redaction_text="WITHHELD")
    assert "\r\nRegistrant Name: WITHHELD\r\n" in text
    assert "REDACTED FOR PRIVACY" not in text
    assert "jane.sample@example.com" not in text
    assert ("\r\nRegistrant Email: https://www.registrar.example/contact-domain-holder?"
            "domain=harbour-bakery.example&role=registrant\r\n") in text


def test_relay_mode_golden(fixture_db_url: str, config: Config) -> None:
    """In relay mode the email lines carry the relay address."""
    privacy = replace(config.privacy, email_mode="relay", relay_secret="golden-secret")
    record = record_of(fixture_db_url, config, "jane-sample.test", privacy)
    text = whois_text.format_domain(record, NOW)
    assert re.search(r"\r\nRegistrant Email: [a-z2-7]{24}@relay\.registrar\.example\r\n", text)
    check_golden("relay-email", text)


def test_no_match_golden(config: Config) -> None:
    """``No match for "<A-label>".``, blank line, last update, blank line, terms — nothing else."""
    text = whois_text.format_no_match("not-ours.example", NOW, config.registrar.terms_of_use)
    check_wire_format(text)
    assert text.startswith('No match for "not-ours.example".\r\n\r\n>>> Last update of WHOIS database: '
                           '2026-11-30T12:00:00Z <<<\r\n\r\nTERMS OF USE:')
    check_golden("no-match", text)


def test_refusal_golden() -> None:
    """The rate-limit refusal is one fixed line."""
    text = whois_text.error_line("rate-limited")
    assert text == "%REFUSED:201: access denied: query quota exceeded, try again later\r\n"
    check_golden("refusal", text)


# Phrases that WHOIS parsers read as "not registered" (whoisdomain NoneStrings + its "error"
# rule, asyncwhois _no_match_checks, python-whois per-TLD checks) or as "free".
NOT_FOUND_PHRASES = (
    "error", "no match", "not found", "no entries", "no data", "no such", "invalid query", "not known",
    "does not exist", "available", "restricted", "generic", "malformed", "no object", "free",
    "not registered",
)


def test_error_lines_are_fixed_and_unmistakable() -> None:
    """Every refusal/error line is one `%KIND:NNN:` line; none contains a "not found" phrase."""
    assert len(set(whois_text.ERROR_LINES.values())) == len(whois_text.ERROR_LINES)
    for line in whois_text.ERROR_LINES.values():
        assert re.fullmatch(r"%(REFUSED|BADQUERY|TEMPFAIL):\d{3}: [ -~]+", line), line
        lowered = line.lower()
        assert not [p for p in NOT_FOUND_PHRASES if p in lowered], line
    check_golden("errors", "".join(whois_text.error_line(n) for n in sorted(whois_text.ERROR_LINES)))


def test_help_golden(config: Config) -> None:
    """The help text: query forms, refusal lines, terms."""
    info = build_info(config)
    text = whois_text.format_help(info, max_query_length=config.whois.max_query_length)
    check_wire_format(text)
    for line in whois_text.ERROR_LINES.values():
        assert line in text
    check_golden("help", text)


def test_registrar_golden(config: Config) -> None:
    """The `registrar` reply: our accreditation data."""
    text = whois_text.format_registrar(build_info(config), NOW)
    check_wire_format(text)
    check_golden("registrar", text)


@pytest.mark.parametrize(("variant", "name"), [
    ("nameserver", "ns1.dns-hosting.example"),
    ("nameserver-idn", "ns1.xn--bcher-beispiel-gsb.example"),
    ("nameserver-no-glue", "ns1.example.net"),
])
def test_nameserver_golden(variant: str, name: str, fixture_db_url: str, config: Config) -> None:
    """The `nameserver` reply: host name, U-label when IDN, glue addresses, registrar."""
    text = whois_text.format_nameserver(host_of(fixture_db_url, name), build_info(config), NOW)
    check_wire_format(text)
    check_golden(variant, text)


def build_info(config: Config) -> RegistrarInfo:
    return registrar_info(config.registrar)


def test_control_characters_cannot_forge_lines(fixture_db_url: str, config: Config) -> None:
    """CR, LF, NUL, DEL, C1 controls and U+2028/2029 in stored (published) values become spaces."""
    record = record_of(fixture_db_url, config, "openfield-consulting.example")
    evil = "Robin\r\nRegistrant Email: forged@evil.example\x00\x7f\x85\u2028\u2029x"
    registrant = replace(record.registrant, name=replace(record.registrant.name, value=evil),
                         street=replace(record.registrant.street, value=("a\nb", "c\rd")))
    record = replace(record, registrant=registrant, reseller="Res\tel\x1bler")
    text = whois_text.format_domain(record, NOW)
    check_wire_format(text)
    assert "\r\nRegistrant Name: Robin  Registrant Email: forged@evil.example     x\r\n" in text
    assert "\r\nRegistrant Street: a b\r\nRegistrant Street: c d\r\n" in text
    assert "\r\nReseller: Res el ler\r\n" in text
    assert keys_of(text).count("Registrant Email") == 1
    for sep in ("\u2028", "\u2029", "\x85"):
        assert sep not in text


def test_terms_are_wrapped_and_cleaned() -> None:
    """Terms keep their paragraphs, are wrapped at 78 columns, and lose control characters."""
    terms = "First paragraph " + "word " * 40 + "\n\nSecond\x00paragraph."
    text = whois_text.format_no_match("x.example", NOW, terms)
    body = text.split("<<<\r\n\r\n", 1)[1]
    lines = body.split("\r\n")[:-1]
    assert all(len(line) <= 78 for line in lines)
    assert "" in lines and lines[-1] == "Second paragraph."


def test_dates_are_utc_z() -> None:
    """Dates are UTC without fractions; naive values are taken as UTC."""
    from datetime import timedelta, timezone

    assert whois_text.format_date(datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC)) == "2026-01-02T03:04:05Z"
    assert whois_text.format_date(datetime(2026, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))) == \
        "2026-01-02T03:04:05Z"
    assert whois_text.format_date(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05Z"
