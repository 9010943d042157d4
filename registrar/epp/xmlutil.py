"""Small lxml helpers: a hardened parser, serialisation and secret redaction."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lxml import etree

from registrar.epp import ns


class XMLSyntaxError(ValueError):
    """The bytes are not a well-formed, acceptable XML document."""


def _parser() -> etree.XMLParser:
    # No entity expansion, no DTD loading, no network access, no huge trees.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=False,
    )


def parse_xml(data: bytes) -> etree._Element:
    """Parse ``data`` into an element tree root.

    Documents carrying a DOCTYPE are refused (EPP never needs one, and it is
    the door to entity tricks). Raises :class:`XMLSyntaxError`.
    """
    if not isinstance(data, bytes | bytearray):
        raise TypeError("EPP frames are bytes")
    try:
        root = etree.fromstring(bytes(data), parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise XMLSyntaxError(f"not well-formed: {exc}") from exc
    if root is None:
        raise XMLSyntaxError("not well-formed: empty document")
    if root.getroottree().docinfo.doctype:
        raise XMLSyntaxError("not acceptable: DOCTYPE declarations are not allowed")
    return root


def serialize(root: etree._Element) -> bytes:
    """Serialise an element as a standalone UTF-8 document with declaration."""
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=False)
    return data


def epp_root() -> etree._Element:
    """Return a new empty ``<epp>`` root element in the EPP namespace."""
    return etree.Element(ns.q(ns.EPP, "epp"), nsmap={None: ns.EPP})


def sub(parent: etree._Element, namespace: str, local: str, text: str | None = None,
        **attrib: str) -> etree._Element:
    """Append a child element; declares the namespace prefix on first use."""
    nsmap = None
    if namespace != ns.EPP and namespace in ns.PREFIXES and parent.nsmap.get(
            ns.PREFIXES[namespace]) != namespace:
        nsmap = {ns.PREFIXES[namespace]: namespace}
    el = etree.SubElement(parent, ns.q(namespace, local), attrib=attrib or None, nsmap=nsmap)
    if text is not None:
        el.text = text
    return el


def child(parent: etree._Element | None, namespace: str, local: str) -> etree._Element | None:
    """First child element ``{namespace}local`` of ``parent`` (or None)."""
    if parent is None:
        return None
    return parent.find(ns.q(namespace, local))


def children(parent: etree._Element | None, namespace: str, local: str) -> list[etree._Element]:
    """All children ``{namespace}local`` of ``parent``."""
    if parent is None:
        return []
    return list(parent.iterfind(ns.q(namespace, local)))


def text(parent: etree._Element | None, namespace: str, local: str) -> str | None:
    """Stripped text of the first child ``{namespace}local``; None if absent."""
    el = child(parent, namespace, local)
    if el is None:
        return None
    return (el.text or "").strip()


def format_datetime(value: datetime) -> str:
    """Format an aware datetime as an XML Schema ``dateTime`` in UTC (``...Z``)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", ".0Z")


def parse_datetime(value: str | None) -> datetime | None:
    """Parse an XML Schema ``dateTime``; naive values are taken as UTC."""
    if value is None or not value.strip():
        return None
    parsed = datetime.fromisoformat(value.strip())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


_SECRET_TAGS = re.compile(
    rb"(<(?:[A-Za-z_][\w.-]*:)?(?:pw|newPW)\b[^>]*?>)(.*?)(</(?:[A-Za-z_][\w.-]*:)?(?:pw|newPW)\s*>)",
    re.DOTALL,
)
_EXT_AUTH = re.compile(
    rb"(<(?:[A-Za-z_][\w.-]*:)?ext\b[^>]*?>)(.*?)(</(?:[A-Za-z_][\w.-]*:)?ext\s*>)", re.DOTALL
)


def redact(frame: bytes) -> bytes:
    """Return ``frame`` with the content of every ``pw``/``newPW``/authInfo ``ext`` replaced.

    Works on bytes without parsing so it is safe to use on malformed frames
    before logging them.
    """
    out = _SECRET_TAGS.sub(rb"\1***\3", frame)
    return _EXT_AUTH.sub(rb"\1***\3", out)
