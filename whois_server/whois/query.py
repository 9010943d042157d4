"""The port-43 query grammar: one line in, a :class:`Query` or a :class:`BadQuery` out.

Accepted forms (keywords in any case, surrounding whitespace ignored):

* ``<name>`` — a domain, A-label or U-label (UTF-8), any case, optional trailing dot;
* ``domain <name>`` — the same;
* ``nameserver <host>`` — a name server (host) of a domain we sponsor;
* ``registrar`` — our accreditation data; ``registrar <IANA ID or name>`` is accepted too and
  the protocol answers with our data when the argument names us (else "no match");
* ``help`` (or ``?``) — the query forms and the terms of use.

Names are normalised with :func:`registrar.validation.normalize_domain` (UTS #46 mapping,
IDNA 2008, LDH rules), so the lookup key is always the lower-case A-label. Anything else —
bytes that are not UTF-8, an invalid name, an unknown keyword, an empty line — is a
:class:`BadQuery`, which the protocol answers with the bad-query line (never "no match").
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

from registrar.validation import ValidationError, normalize_domain

Kind = Literal["domain", "nameserver", "registrar", "help"]

# Plain LDH names without "--" anywhere: lower-casing is their whole normalisation, so the
# common case skips the IDNA machinery. The TLD must start with a letter (never all digits).
_FAST_NAME = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?")


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query. ``name`` is the A-label (``domain``/``nameserver``), the argument
    (``registrar``, possibly empty) or empty (``help``)."""

    kind: Kind
    name: str = ""


@dataclass(frozen=True, slots=True)
class BadQuery:
    """A line that is not a query; ``reason`` is for logs and tests, not sent to the client."""

    reason: str


# UTS #46 maps these full stops to "." (they separate labels); normalize_domain splits on "." only.
_DOTS = {0x3002: ".", 0xFF0E: ".", 0xFF61: "."}


def normalize_name(text: str) -> str:
    """The lower-case A-label of a domain or host name; raises :class:`ValidationError`."""
    low = text.lower()
    if not low.isascii():
        text = text.translate(_DOTS)
    if low.endswith("."):
        low = low[:-1]
    if low.isascii() and "--" not in low and len(low) <= 253 and _FAST_NAME.fullmatch(low):
        return low
    return normalize_domain(text, "query").a_label


@functools.lru_cache(maxsize=8192)
def _name_query(kind: Kind, text: str) -> Query | BadQuery:
    """Memoised: popular names are asked for again and again, and IDNA checks are not free."""
    if not text:
        return BadQuery(f"{kind}: a name is required")
    try:
        return Query(kind, normalize_name(text))
    except ValidationError as exc:
        return BadQuery(exc.rule)


def parse_query(line: bytes | str) -> Query | BadQuery:
    """Parse one query line (without its line end)."""
    if isinstance(line, bytes):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            return BadQuery("not UTF-8")
    else:
        text = line
    text = text.strip()
    if not text:
        return BadQuery("empty query")
    parts = text.split(None, 1)
    keyword = parts[0].lower()
    rest = parts[1].strip() if len(parts) > 1 else ""
    if len(parts) == 1:
        if keyword in ("help", "?"):
            return Query("help")
        if keyword == "registrar":
            return Query("registrar")
        if keyword in ("domain", "nameserver"):
            return BadQuery(f"{keyword}: a name is required")
        return _name_query("domain", text)
    if keyword == "domain":
        return _name_query("domain", rest)
    if keyword == "nameserver":
        return _name_query("nameserver", rest)
    if keyword == "registrar":
        return Query("registrar", rest)
    return BadQuery("unknown query form")
