"""Validation at the edge of the model: names, phones, countries, emails, DS data.

Every check raises :class:`ValidationError` naming the field and the rule it broke, so a
staff member or a fixture author can fix the input without reading code.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

import dns.name
import idna
import pycountry
from email_validator import EmailNotValidError, validate_email
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

PHONE_RE = re.compile(r"^\+[0-9]{1,3}\.[0-9]{1,14}$")
EXT_RE = re.compile(r"^[0-9]{1,10}$")
HANDLE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,15}$")
HEX_RE = re.compile(r"^[0-9A-Fa-f]+$")
LDH_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
EPP_CLIENT_STATUSES = frozenset(
    {"clientHold", "clientDeleteProhibited", "clientRenewProhibited", "clientTransferProhibited",
     "clientUpdateProhibited"}
)
EPP_SERVER_STATUSES = frozenset(
    {"ok", "inactive", "serverHold", "serverDeleteProhibited", "serverRenewProhibited",
     "serverTransferProhibited", "serverUpdateProhibited", "pendingCreate", "pendingDelete",
     "pendingRenew", "pendingTransfer", "pendingUpdate"}
)
EPP_STATUSES = EPP_CLIENT_STATUSES | EPP_SERVER_STATUSES
RGP_STATUSES = frozenset(
    {"addPeriod", "autoRenewPeriod", "renewPeriod", "transferPeriod", "redemptionPeriod", "pendingRestore",
     "pendingDelete"}
)
DS_DIGEST_LENGTHS = {1: 40, 2: 64, 3: 64, 4: 96}
#: Characters free text may not contain besides C0/C1 controls: bidi embedding, override and
#: isolate controls (U+202A-U+202E, U+2066-U+2069: "Trojan Source" reordering), zero-width space,
#: non-joiner and joiner and the byte order mark (U+200B-U+200D, U+FEFF: invisible), and the
#: Unicode line and paragraph separators (U+2028, U+2029: line breaks in some renderers).
INVISIBLE_CHARACTERS = frozenset(
    [*map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A)), "\u200b", "\u200c", "\u200d",
     "\ufeff", "\u2028", "\u2029"])
#: Countries without a postal code system: a registrant there needs no postal code. A small,
#: conservative list (countries commonly listed as having no postal codes, e.g. by the UPU's
#: addressing pages); a country missing here only means staff must enter a postal code.
NO_POSTAL_CODE_COUNTRIES = frozenset(
    {"AE", "AG", "AO", "AW", "BF", "BI", "BJ", "BO", "BS", "BW", "BZ", "CD", "CF", "CG", "CI", "CK", "CM", "DJ",
     "DM", "ER", "FJ", "GD", "GH", "GM", "GQ", "GY", "HK", "JM", "KI", "KM", "KN", "KP", "LC", "ML", "MO", "MR",
     "MW", "NR", "NU", "QA", "RW", "SB", "SC", "SL", "SR", "ST", "SY", "TD", "TG", "TK", "TL", "TO", "TT", "TV",
     "UG", "VU", "YE", "ZW"})
#: Full stops UTS #46 maps to U+002E before a name is split into labels (ideographic full stop,
#: fullwidth full stop, halfwidth ideographic full stop).
DOT_EQUIVALENTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


class ValidationError(ValueError):
    """Input broke a rule. ``field`` names the field, ``rule`` says what is wrong."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule

    def within(self, record: str) -> ValidationError:
        """The same error, prefixed with the record it was found in."""
        return ValidationError(f"{record}: {self.field}", self.rule)


@dataclass(frozen=True)
class DomainName:
    """A normalised domain name: A-label form, U-label form, TLD."""

    a_label: str
    u_label: str

    @property
    def is_idn(self) -> bool:
        """Whether any label is an IDN (the U-label differs from the A-label)."""
        return self.a_label != self.u_label

    @property
    def tld(self) -> str:
        """The top-level label, A-label form."""
        return self.a_label.rsplit(".", 1)[-1]


def normalize_domain(value: str, field: str = "name", *, min_labels: int = 2) -> DomainName:
    """Normalise a domain or host name given as U-labels, A-labels or a mix, any case.

    UTS #46 mapping (non-transitional), IDNA 2008 validity, LDH rules, 63/253 limits, and an
    A-label ↔ U-label round trip are enforced. A trailing dot is accepted, and so are the full
    stops UTS #46 treats as label separators (U+3002, U+FF0E, U+FF61).
    """
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, "a domain name is required")
    text = value.strip().translate(DOT_EQUIVALENTS)
    if text.endswith("."):
        text = text[:-1]
    if not text or ".." in text or text.startswith("."):
        raise ValidationError(field, f"{value!r} has an empty label")
    labels = text.split(".")
    if len(labels) < min_labels:
        raise ValidationError(field, f"{value!r} needs at least {min_labels} labels")
    try:
        a_labels = []
        for label in labels:
            if label.isascii():
                low = label.lower()
                if low.startswith("xn--"):
                    # round trip: decode and re-encode must give the same A-label
                    u = idna.decode(low)
                    if idna.encode(u, uts46=True).decode("ascii") != low:
                        raise ValidationError(field, f"label {label!r} is not a canonical A-label")
                a_labels.append(low)
            else:
                a_labels.append(idna.encode(label, uts46=True, transitional=False).decode("ascii"))
    except idna.IDNAError as exc:
        raise ValidationError(field, f"{value!r} is not a valid IDNA 2008 name ({exc})") from None
    except UnicodeError as exc:
        raise ValidationError(field, f"{value!r} is not a valid name ({exc})") from None
    for label in a_labels:
        if len(label) > 63:
            raise ValidationError(field, f"label {label[:20]!r}… is longer than 63 octets")
        if not LDH_LABEL_RE.match(label):
            raise ValidationError(field, f"label {label!r} is not letters, digits and inner hyphens (LDH)")
        if label[2:4] == "--" and not label.startswith("xn--"):
            raise ValidationError(field, f"label {label!r} has hyphens in positions 3-4 but is not an A-label")
    a_label = ".".join(a_labels)
    if len(a_label) > 253:
        raise ValidationError(field, "name is longer than 253 octets")
    if a_labels[-1].isdigit():
        raise ValidationError(field, "the top-level label cannot be all digits")
    try:
        dns.name.from_text(a_label)
    except dns.exception.DNSException as exc:
        raise ValidationError(field, f"not a valid DNS name ({exc})") from None
    try:
        u_label = ".".join(idna.decode(lbl) if lbl.startswith("xn--") else lbl for lbl in a_labels)
    except idna.IDNAError as exc:
        raise ValidationError(field, f"{value!r} does not round-trip to a U-label ({exc})") from None
    return DomainName(a_label=a_label, u_label=u_label)


def is_mixed_label_form(value: str) -> bool:
    """True when a name mixes A-labels (``xn--``) with non-ASCII U-labels (RDAP answers 400)."""
    labels = value.strip().translate(DOT_EQUIVALENTS).rstrip(".").split(".")
    has_a = any(lbl.lower().startswith("xn--") for lbl in labels)
    has_u = any(not lbl.isascii() for lbl in labels)
    return has_a and has_u


def validate_phone(value: str | None, field: str) -> str | None:
    """``+CC.NNNN`` (RFC 5733 / E.164a) with an ITU-T E.164 country calling code, or ``None``."""
    if value is None or value == "":
        return None
    if not PHONE_RE.match(value):
        raise ValidationError(field, f"{value!r} is not in +CC.NNNN form (e.g. +1.5555550123)")
    if len(value) > 17:
        raise ValidationError(field, "longer than 17 characters")
    country_code = value[1:value.index(".")]
    if country_code.startswith("0") or int(country_code) not in COUNTRY_CODE_TO_REGION_CODE:
        raise ValidationError(field, f"+{country_code} is not an ITU-T E.164 country calling code")
    return value


def validate_extension(value: str | None, field: str, *, base: str | None) -> str | None:
    """A numeric phone/fax extension, only with a number to extend."""
    if value is None or value == "":
        return None
    if not EXT_RE.match(value):
        raise ValidationError(field, f"{value!r} is not 1-10 digits")
    if base is None:
        raise ValidationError(field, "an extension needs a number")
    return value


def validate_country(value: str | None, field: str) -> str:
    """An ISO 3166-1 alpha-2 code (upper case)."""
    if not value or not isinstance(value, str):
        raise ValidationError(field, "an ISO 3166-1 alpha-2 country code is required")
    code = value.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValidationError(field, f"{value!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def validate_email_address(value: str | None, field: str) -> str:
    """An RFC 5322 mailbox; the domain may be IDN; no deliverability lookup."""
    if not value or not isinstance(value, str):
        raise ValidationError(field, "an email address is required")
    try:
        result = validate_email(value, check_deliverability=False, test_environment=False,
                                globally_deliverable=False)
    except EmailNotValidError as exc:
        raise ValidationError(field, f"{value!r} is not a valid email address ({exc})") from None
    if "." not in result.ascii_domain:
        raise ValidationError(field, f"{value!r} is not a valid email address (the domain after the @ needs a "
                                     "dot: a mailbox at a top-level domain cannot be reached)")
    return result.normalized


def validate_text(value: str | None, field: str, *, required: bool = False, max_length: int = 255) -> str | None:
    """Free text: trimmed, no control, bidi-control, zero-width or line-separator characters, bounded length."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        if required:
            raise ValidationError(field, "required")
        return None
    if not isinstance(value, str):
        raise ValidationError(field, "must be text")
    text = value.strip()
    if any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in text):
        raise ValidationError(field, "contains control characters")
    bad = next((c for c in text if c in INVISIBLE_CHARACTERS), None)
    if bad is not None:
        raise ValidationError(field, f"contains the invisible or bidi control character U+{ord(bad):04X}")
    if len(text) > max_length:
        raise ValidationError(field, f"longer than {max_length} characters")
    return text


def validate_handle(value: str, field: str = "handle") -> str:
    """A contact handle: 3-16 characters of letters, digits, ``-`` and ``_`` (RFC 5730 clIDType)."""
    if not isinstance(value, str) or not HANDLE_RE.match(value):
        raise ValidationError(field, f"{value!r} must be 3-16 letters, digits, '-' or '_', starting alphanumeric")
    return value


def validate_statuses(values: list[str], field: str = "statuses") -> list[str]:
    """EPP domain statuses (RFC 5731), without duplicates."""
    out: list[str] = []
    for value in values:
        if value not in EPP_STATUSES:
            raise ValidationError(field, f"{value!r} is not an EPP domain status")
        if value not in out:
            out.append(value)
    if "ok" in out and len(out) > 1:
        raise ValidationError(field, "'ok' cannot be combined with other statuses")
    return out


def validate_rgp_statuses(values: list[str], field: str = "rgp_statuses") -> list[str]:
    """RGP statuses (RFC 3915), without duplicates."""
    out: list[str] = []
    for value in values:
        if value not in RGP_STATUSES:
            raise ValidationError(field, f"{value!r} is not an RGP status")
        if value not in out:
            out.append(value)
    if "redemptionPeriod" in out and "pendingRestore" in out:
        raise ValidationError(field, "redemptionPeriod and pendingRestore cannot be combined")
    return out


def validate_ip(value: str, field: str) -> tuple[str, int]:
    """A unicast IP address; returns the compressed text and the version."""
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        raise ValidationError(field, f"{value!r} is not an IPv4 or IPv6 address") from None
    if ip.is_multicast or ip.is_unspecified or ip.is_loopback:
        raise ValidationError(field, f"{value!r} is not a usable unicast address")
    return ip.compressed, ip.version


def validate_ds(key_tag: object, algorithm: object, digest_type: object, digest: object,
                field: str = "ds") -> tuple[int, int, int, str]:
    """A DS record: key tag 0-65535, algorithm and digest type 0-255, hex digest of the right size."""
    for name, value, hi in (("key_tag", key_tag, 65535), ("algorithm", algorithm, 255),
                            ("digest_type", digest_type, 255)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= hi:
            raise ValidationError(f"{field}.{name}", f"must be an integer from 0 to {hi}")
    if not isinstance(digest, str) or not HEX_RE.match(digest):
        raise ValidationError(f"{field}.digest", "must be hexadecimal")
    expected = DS_DIGEST_LENGTHS.get(digest_type)  # type: ignore[call-overload]
    if expected is not None and len(digest) != expected:
        raise ValidationError(f"{field}.digest", f"digest type {digest_type} needs {expected} hex digits")
    return int(key_tag), int(algorithm), int(digest_type), digest.upper()  # type: ignore[call-overload]
