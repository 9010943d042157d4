"""Load the seven IETF EPP XSDs and validate frames against them.

The XSD files carry Nomulus' ``schemaLocation`` hints (``eppcom.xsd``,
``epp.xsd``, ...) which do not exist next to them, so ``epp-1.0.xsd`` cannot be
loaded on its own. Instead an in-memory wrapper schema imports each namespace
from its file in dependency order; the hints inside the files are then skipped
because every namespace is already loaded (libxml2 logs a harmless
``SCHEMAP_WARN_SKIP_SCHEMA`` warning for each).

The directory comes from ``$EPP_XSD_DIR``; the default is
``<project root>/../shared/epp-xsd`` (project root = parent of the
``registrar`` package directory).
"""

from __future__ import annotations

import functools
import os
import threading
from pathlib import Path
from typing import Final

from lxml import etree

from registrar.epp import ns
from registrar.epp.xmlutil import XMLSyntaxError, parse_xml

ENV_VAR: Final = "EPP_XSD_DIR"

#: (namespace, file name) in dependency order.
SCHEMA_FILES: Final[tuple[tuple[str, str], ...]] = (
    (ns.EPPCOM, "eppcom-1.0.xsd"),
    (ns.EPP, "epp-1.0.xsd"),
    (ns.HOST, "host-1.0.xsd"),
    (ns.DOMAIN, "domain-1.0.xsd"),
    (ns.CONTACT, "contact-1.0.xsd"),
    (ns.SECDNS, "secDNS-1.1.xsd"),
    (ns.RGP, "rgp-1.0.xsd"),
)

_XS = "http://www.w3.org/2001/XMLSchema"
# lxml's XMLSchema keeps its error log on the instance; serialise validations.
_validate_lock = threading.Lock()


class SchemaUnavailableError(RuntimeError):
    """The XSD directory or one of its files is missing or does not compile."""


def default_xsd_dir() -> Path:
    """Return the XSD directory: ``$EPP_XSD_DIR`` or ``<project root>/../shared/epp-xsd``."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    project_root = Path(__file__).resolve().parent.parent.parent
    return project_root.parent / "shared" / "epp-xsd"


def missing_files(directory: Path | None = None) -> list[str]:
    """Names of the expected XSD files absent from ``directory`` (empty = all present)."""
    d = directory if directory is not None else default_xsd_dir()
    return [name for _, name in SCHEMA_FILES if not (d / name).is_file()]


@functools.lru_cache(maxsize=4)
def _load(directory: str) -> etree.XMLSchema:
    d = Path(directory)
    missing = missing_files(d)
    if missing:
        raise SchemaUnavailableError(f"EPP XSDs missing from {d}: {', '.join(missing)}")
    wrapper = etree.Element(etree.QName(_XS, "schema"), nsmap={"xs": _XS})
    for namespace, name in SCHEMA_FILES:
        etree.SubElement(wrapper, etree.QName(_XS, "import"), namespace=namespace, schemaLocation=name)
    doc = etree.fromstring(etree.tostring(wrapper), base_url=d.as_uri() + "/")
    try:
        return etree.XMLSchema(doc)
    except etree.XMLSchemaParseError as exc:
        raise SchemaUnavailableError(f"EPP XSDs in {d} do not compile: {exc}") from exc


def load_schema(directory: Path | None = None) -> etree.XMLSchema:
    """Return the compiled schema set for ``directory`` (default: :func:`default_xsd_dir`), cached."""
    d = directory if directory is not None else default_xsd_dir()
    return _load(str(d.resolve()))


def validate_element(root: etree._Element, directory: Path | None = None) -> list[str]:
    """Validate an already parsed document; returns error messages (empty = valid)."""
    schema = load_schema(directory)
    with _validate_lock:
        if schema.validate(root):
            return []
        return [f"line {e.line}: {e.message}" for e in schema.error_log]


def validate(xml_bytes: bytes, directory: Path | None = None) -> list[str]:
    """Validate a serialised EPP document; returns error messages (empty = valid).

    A document that is not well-formed (or carries a DOCTYPE) yields a single
    message starting with ``not well-formed``/``not acceptable``.
    """
    try:
        root = parse_xml(xml_bytes)
    except XMLSyntaxError as exc:
        return [str(exc)]
    return validate_element(root, directory)


def first_error_line(messages: list[str]) -> int | None:
    """Line number of the first message produced by :func:`validate`, if any."""
    for m in messages:
        if m.startswith("line "):
            head = m[5:].split(":", 1)[0]
            if head.isdigit():
                return int(head)
    return None
