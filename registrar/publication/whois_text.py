"""Port-43 WHOIS text, rendered from the public record (``shared/spec/icann-rdds.md`` §1).

Pure functions: they take a :class:`~registrar.publication.record.PublicRecord` (or a
:class:`~registrar.publication.record.PublicHost` / :class:`~registrar.publication.record.RegistrarInfo`)
and a fixed ``now`` and return text; they never see ORM rows, so what WHOIS shows is exactly
what the public record allows. The protocol encodes the text as UTF-8.

Format rules (spec §1.1-§1.4, checklist 33-38):

* one ``Key: value`` per line, every line ends in CRLF; a key without a value is printed as
  ``Key:`` with no trailing space; multi-valued elements (``Domain Status``,
  ``Registrant Street``, ``Name Server``) repeat the key, one value per line;
* the labels and their order are those of the RAA registrar format (spec §1.2 rows 1-55);
  the admin and billing blocks are never printed; the tech block is printed only when the
  registration has a technical contact, and only with the RP24 §2.7.6 elements
  (``Registry Tech ID``, ``Tech Name``, ``Tech Phone``, ``Tech Phone Ext``, ``Tech Email``);
* a redacted element shows the configured redaction text (``REDACTED FOR PRIVACY``); a
  replaced email shows its replacement (contact-form URL or relay address); an element with
  nothing stored shows the empty key;
* dates are UTC, ``YYYY-MM-DDThh:mm:ssZ``;
* ``Domain Status: <code> https://icann.org/epp#<code>``, RGP statuses included (the record
  already says ``ok`` when there is nothing else); ``DNSSEC: signedDelegation|unsigned``;
* names are A-labels. For an IDN, one extra line ``Internationalized Domain Name: <U-label>``
  is added **after ``DNSSEC``**, i.e. after the last standard registration-data element and
  before the footer (WICF link, last-update line): spec §1.3 / RAA §1.4.2 put extra fields
  after the standard ones;
* control characters in any value (C0 0x00-0x1F, DEL 0x7F, C1 0x80-0x9F and the Unicode
  line/paragraph separators U+2028/U+2029) are replaced by a space, so a stored value can
  never start a line of its own;
* footer: the WICF line, ``>>> Last update of WHOIS database: <now> <<<``, a blank line, the
  status-codes sentence, a blank line, then the terms of use (word-wrapped at 78 columns).

Refusals and errors are single fixed lines in the RIPE/FRED ``%KIND:NNN: text`` shape
(``%REFUSED``, ``%BADQUERY``, ``%TEMPFAIL``), worded so that no parser takes them for
"no match"; see :data:`ERROR_LINES`.
"""

from __future__ import annotations

import functools
import textwrap
from collections.abc import Iterable
from datetime import UTC, datetime

from registrar.publication.record import (
    Disposition,
    Element,
    PublicContact,
    PublicHost,
    PublicRecord,
    RegistrarInfo,
)

CRLF = "\r\n"
DEFAULT_REDACTION_TEXT = "REDACTED FOR PRIVACY"
STATUS_URL_PREFIX = "https://icann.org/epp#"
WICF_LINE = "URL of the ICANN Whois Inaccuracy Complaint Form: https://www.icann.org/wicf/"
STATUS_SENTENCE = "For more information on Whois status codes, please visit https://icann.org/epp"
TERMS_WIDTH = 78

# --- refusal and error lines (each is the whole reply; the connection is closed after it) ---
#
# Wording rules, checked by tests against the parsers' own lists: no line contains "error",
# "no match", "not found", "no entries", "invalid query", "available", "restricted" or any
# other phrase that WHOIS parsers read as "domain not registered" (whoisdomain, for one, takes
# any short reply containing "error" for "not found"); the capacity refusals say "quota
# exceeded", which parsers report as a rate-limit condition.

RATE_LIMITED = "%REFUSED:201: access denied: query quota exceeded, try again later"
"""The client key (IPv4 address or IPv6 /64) sent more queries than the rate limit allows."""

TOO_MANY_CLIENT_CONNECTIONS = ("%REFUSED:202: access denied: connection quota for your network exceeded, "
                               "try again later")
"""The client key already has ``whois.max_connections_per_client`` connections open."""

SERVER_BUSY = "%REFUSED:203: server busy: connection quota exceeded, try again later"
"""The worker already has ``whois.max_connections`` connections open."""

QUERY_TOO_LONG = "%BADQUERY:107: query line too long"
"""The query line is longer than ``whois.max_query_length`` bytes."""

BAD_QUERY = '%BADQUERY:108: query not understood; send "help" for the accepted query forms'
"""The line is not UTF-8, not a valid domain or host name, or not a known query form."""

IDLE_TIMEOUT = "%BADQUERY:109: timeout, no query received"
"""No complete query line arrived within ``whois.idle_timeout`` seconds."""

TEMPORARY_FAILURE = "%TEMPFAIL:501: registration data cannot be read at the moment, try again later"
"""The database could not answer (or not in time); nothing is known about the name."""

INTERNAL_ERROR = "%TEMPFAIL:500: internal failure, try again later"
"""An unexpected failure in the server; logged with outcome ``error``."""

ERROR_LINES: dict[str, str] = {
    "rate-limited": RATE_LIMITED,
    "too-many-client-connections": TOO_MANY_CLIENT_CONNECTIONS,
    "server-busy": SERVER_BUSY,
    "query-too-long": QUERY_TOO_LONG,
    "bad-query": BAD_QUERY,
    "idle-timeout": IDLE_TIMEOUT,
    "temporary-failure": TEMPORARY_FAILURE,
    "internal-error": INTERNAL_ERROR,
}
"""Every fixed refusal/error line by name (without the line end)."""

_CONTROL = {c: " " for c in [*range(0x00, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]}


def clean(value: object) -> str:
    """The value as one line of text: control characters become spaces."""
    return str(value).translate(_CONTROL)


def format_date(value: datetime) -> str:
    """``YYYY-MM-DDThh:mm:ssZ`` in UTC (a naive datetime is taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def error_line(name: str) -> str:
    """The fixed reply for a refusal or error (``name`` is a key of :data:`ERROR_LINES`), CRLF-terminated."""
    return ERROR_LINES[name] + CRLF


def _line(key: str, value: object | None) -> str:
    if value is None:
        return key + ":"
    text = clean(value)
    if text == "":
        return key + ":"
    return f"{key}: {text}"


def _element_lines(key: str, element: Element[object], redaction_text: str) -> list[str]:
    """Lines for one contact element (repeated key for tuples such as street lines)."""
    disp = element.disposition
    if disp is Disposition.REDACTED:
        return [_line(key, redaction_text)]
    if disp is Disposition.ABSENT or element.value is None:
        return [_line(key, None)]
    value = element.value
    if isinstance(value, tuple):
        return [_line(key, v) for v in value] or [_line(key, None)]
    return [_line(key, value)]


@functools.lru_cache(maxsize=32)
def _terms_lines(terms: str) -> tuple[str, ...]:
    """The terms of use as wrapped lines; line breaks in the configured text start new paragraphs."""
    out: list[str] = []
    for paragraph in terms.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        text = clean(paragraph).strip()
        if not text:
            out.append("")
            continue
        out.extend(textwrap.wrap(text, TERMS_WIDTH, break_long_words=False, break_on_hyphens=False))
    while out and out[-1] == "":
        out.pop()
    return tuple(out)


def _last_update(now: datetime) -> str:
    return f">>> Last update of WHOIS database: {format_date(now)} <<<"


def _join(lines: Iterable[str]) -> str:
    return CRLF.join(lines) + CRLF


def _registrant_lines(c: PublicContact, redaction_text: str) -> list[str]:
    lines: list[str] = []
    for key, element in (
        ("Registry Registrant ID", c.registry_id),
        ("Registrant Name", c.name),
        ("Registrant Organization", c.organization),
        ("Registrant Street", c.street),
        ("Registrant City", c.city),
        ("Registrant State/Province", c.state_province),
        ("Registrant Postal Code", c.postal_code),
        ("Registrant Country", c.country_code),
        ("Registrant Phone", c.phone),
        ("Registrant Phone Ext", c.phone_ext),
        ("Registrant Fax", c.fax),
        ("Registrant Fax Ext", c.fax_ext),
        ("Registrant Email", c.email),
    ):
        lines.extend(_element_lines(key, element, redaction_text))  # type: ignore[arg-type]
    return lines


def _tech_lines(c: PublicContact, redaction_text: str) -> list[str]:
    lines: list[str] = []
    for key, element in (
        ("Registry Tech ID", c.registry_id),
        ("Tech Name", c.name),
        ("Tech Phone", c.phone),
        ("Tech Phone Ext", c.phone_ext),
        ("Tech Email", c.email),
    ):
        lines.extend(_element_lines(key, element, redaction_text))  # type: ignore[arg-type]
    return lines


def format_domain(record: PublicRecord, now: datetime, *, redaction_text: str = DEFAULT_REDACTION_TEXT,
                  terms: str | None = None) -> str:
    """The WHOIS reply for a registration (spec §1.2 field list, §1.4 footer).

    ``redaction_text`` is ``PrivacyConfig.redaction_text``; ``terms`` defaults to the
    registrar's configured terms of use (``record.registrar.terms_of_use``).
    """
    head, tail = domain_parts(record, redaction_text=redaction_text, terms=terms)
    return head + last_update_line(now) + tail


def domain_parts(record: PublicRecord, *, redaction_text: str = DEFAULT_REDACTION_TEXT,
                 terms: str | None = None) -> tuple[str, str]:
    """:func:`format_domain` without its one time-dependent line: the text before the
    ``>>> Last update …`` line and the text after it (``head + last_update_line(now) + tail``
    is the reply). Servers cache the parts per record and only add the current time."""
    reg = record.registrar
    lines = [
        _line("Domain Name", record.ldh_name),
        *_element_lines("Registry Domain ID", record.registry_domain_id, redaction_text),  # type: ignore[arg-type]
        _line("Registrar WHOIS Server", reg.whois_server),
        _line("Registrar URL", reg.url),
        _line("Updated Date", format_date(record.updated)),
        _line("Creation Date", format_date(record.created)),
        _line("Registrar Registration Expiration Date", format_date(record.registrar_expires)),
        _line("Registrar", reg.name),
        _line("Registrar IANA ID", reg.iana_id),
        _line("Registrar Abuse Contact Email", reg.abuse_email),
        _line("Registrar Abuse Contact Phone", reg.abuse_phone),
        _line("Reseller", record.reseller),
    ]
    for status in record.statuses:
        code = clean(status)
        lines.append(f"Domain Status: {code} {STATUS_URL_PREFIX}{code}")
    lines.extend(_registrant_lines(record.registrant, redaction_text))
    if record.tech is not None:
        lines.extend(_tech_lines(record.tech, redaction_text))
    if record.nameservers:
        lines.extend(_line("Name Server", host.ldh_name) for host in record.nameservers)
    else:
        lines.append(_line("Name Server", None))
    lines.append(_line("DNSSEC", "signedDelegation" if record.dnssec_signed else "unsigned"))
    if record.unicode_name:
        lines.append(_line("Internationalized Domain Name", record.unicode_name))
    lines.append(WICF_LINE)
    terms_text = reg.terms_of_use if terms is None else terms
    return _join(lines), _join(["", STATUS_SENTENCE, "", *_terms_lines(terms_text)])


def last_update_line(now: datetime) -> str:
    """``>>> Last update of WHOIS database: <now> <<<`` with its CRLF."""
    return _last_update(now) + CRLF


def format_no_match(name: str, now: datetime, terms: str) -> str:
    """``No match for "<A-label>".``, a blank line, the last-update line, a blank line, the terms."""
    return _join([f'No match for "{clean(name)}".', "", _last_update(now), "", *_terms_lines(terms)])


def format_registrar(info: RegistrarInfo, now: datetime) -> str:
    """Our accreditation data (the ``registrar`` query)."""
    lines = [
        _line("Registrar", info.name),
        _line("Registrar IANA ID", info.iana_id),
        _line("Registrar URL", info.url),
        _line("Registrar WHOIS Server", info.whois_server),
        _line("Registrar RDAP Base URL", info.rdap_base_url),
        _line("Registrar Abuse Contact Email", info.abuse_email),
        _line("Registrar Abuse Contact Phone", info.abuse_phone),
        _line("Registration Data Disclosure Requests", info.disclosure_url),
        _line("Terms of Service", info.tos_url),
        _last_update(now), "", *_terms_lines(info.terms_of_use),
    ]
    return _join(lines)


def format_nameserver(host: PublicHost, info: RegistrarInfo, now: datetime) -> str:
    """A name server of a domain we sponsor (Nomulus-style host reply)."""
    lines = [_line("Server Name", host.ldh_name)]
    if host.unicode_name:
        lines.append(_line("Internationalized Server Name", host.unicode_name))
    lines.extend(_line("IP Address", ip) for ip in (*host.ipv4, *host.ipv6))
    lines += [
        _line("Registrar", info.name),
        _line("Registrar WHOIS Server", info.whois_server),
        _line("Registrar URL", info.url),
        _last_update(now), "", *_terms_lines(info.terms_of_use),
    ]
    return _join(lines)


def format_help(info: RegistrarInfo, *, max_query_length: int = 512) -> str:
    """The ``help`` reply: the query forms, the refusal lines, then the terms of use."""
    lines = [
        f"% WHOIS service of {clean(info.name)} (IANA Registrar ID {info.iana_id})",
        "%",
        "% One query per connection (RFC 3912); the reply is UTF-8 text with CRLF line ends.",
        "% Query forms:",
        "%   example.com                 registration data of a domain we sponsor",
        "%   domain example.com          the same",
        "%   nameserver ns1.example.com  a name server of a domain we sponsor",
        "%   registrar                   our accreditation data",
        "%   help                        this text",
        "% Names are accepted as A-labels or U-labels (UTF-8), in any case, with or without",
        "% a trailing dot; replies show A-labels. A name we do not sponsor gets",
        '% No match for "<name>".',
        f"% Queries longer than {max_query_length} bytes are refused.",
        "%",
        "% Refusals and errors are one line, then the connection is closed:",
        *(f"%   {line}" for line in ERROR_LINES.values()),
        "%",
        f"% RDAP: {clean(info.rdap_base_url)}",
        f"% Non-public data: {clean(info.disclosure_url)}",
        "", *_terms_lines(info.terms_of_use),
    ]
    return _join(lines)
