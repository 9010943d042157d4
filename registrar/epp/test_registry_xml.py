"""Serialisation of test-registry greetings and responses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from registrar.epp import ns
from registrar.epp.test_registry_state import PollEntry, RegistryConfig
from registrar.epp.xmlutil import epp_root, format_datetime, serialize, sub

#: RFC 5730 standard result texts.
RESULT_MESSAGES: dict[int, str] = {
    1000: "Command completed successfully",
    1001: "Command completed successfully; action pending",
    1300: "Command completed successfully; no messages",
    1301: "Command completed successfully; ack to dequeue",
    1500: "Command completed successfully; ending session",
    2000: "Unknown command",
    2001: "Command syntax error",
    2002: "Command use error",
    2003: "Required parameter missing",
    2004: "Parameter value range error",
    2005: "Parameter value syntax error",
    2100: "Unimplemented protocol version",
    2101: "Unimplemented command",
    2102: "Unimplemented option",
    2103: "Unimplemented extension",
    2104: "Billing failure",
    2105: "Object is not eligible for renewal",
    2106: "Object is not eligible for transfer",
    2200: "Authentication error",
    2201: "Authorization error",
    2202: "Invalid authorization information",
    2300: "Object pending transfer",
    2301: "Object not pending transfer",
    2302: "Object exists",
    2303: "Object does not exist",
    2304: "Object status prohibits operation",
    2305: "Object association prohibits operation",
    2306: "Parameter value policy error",
    2307: "Unimplemented object service",
    2308: "Data management policy violation",
    2400: "Command failed",
    2500: "Command failed; server closing connection",
    2501: "Authentication error; server closing connection",
    2502: "Session limit exceeded; server closing connection",
}


class CommandError(Exception):
    """Raised by handlers: answer with ``code`` and optional ``<extValue>`` reasons."""

    def __init__(self, code: int, reason: str | None = None, value: etree._Element | None = None) -> None:
        """``reason`` becomes an extValue reason; ``value`` the offending element (copied)."""
        super().__init__(f"{code} {reason or RESULT_MESSAGES.get(code, '')}")
        self.code = code
        self.reason = reason
        self.value = value


@dataclass
class Result:
    """What a handler produced for a successful command."""

    code: int = 1000
    res_data: list[etree._Element] = field(default_factory=list)
    extension: list[etree._Element] = field(default_factory=list)
    msgq: PollEntry | None = None
    msgq_count: int = 0
    #: For an ack: the msgQ to report (count, id of the next message) or None.
    ack_next: tuple[int, str] | None = None
    close: bool = False


def greeting(config: RegistryConfig, now: datetime) -> bytes:
    """The server greeting advertised by ``config``."""
    root = epp_root()
    g = sub(root, ns.EPP, "greeting")
    sub(g, ns.EPP, "svID", config.sv_id)
    sub(g, ns.EPP, "svDate", format_datetime(now))
    menu = sub(g, ns.EPP, "svcMenu")
    sub(menu, ns.EPP, "version", "1.0")
    sub(menu, ns.EPP, "lang", "en")
    for uri in config.offered_obj_uris():
        sub(menu, ns.EPP, "objURI", uri)
    if config.ext_uris:
        ext = sub(menu, ns.EPP, "svcExtension")
        for uri in config.ext_uris:
            sub(ext, ns.EPP, "extURI", uri)
    dcp = sub(g, ns.EPP, "dcp")
    sub(sub(dcp, ns.EPP, "access"), ns.EPP, "all")
    st = sub(dcp, ns.EPP, "statement")
    purpose = sub(st, ns.EPP, "purpose")
    sub(purpose, ns.EPP, "admin")
    sub(purpose, ns.EPP, "prov")
    recipient = sub(st, ns.EPP, "recipient")
    sub(recipient, ns.EPP, "ours")
    sub(recipient, ns.EPP, "public")
    sub(sub(st, ns.EPP, "retention"), ns.EPP, "stated")
    return serialize(root)


_SECRET_LOCALS = {"pw", "newPW", "ext", "authInfo"}


def _value_copy(el: etree._Element) -> etree._Element:
    """Shallow copy of an offending element for ``<value>``; secrets are blanked."""
    out = etree.Element(el.tag, attrib=dict(el.attrib), nsmap=el.nsmap)
    if etree.QName(el).localname in _SECRET_LOCALS:
        out.text = "***"
    elif el.text and el.text.strip():
        out.text = el.text.strip()[:200]
    return out


def response(
    code: int,
    cl_trid: str | None,
    sv_trid: str,
    *,
    message: str | None = None,
    reasons: Sequence[tuple[etree._Element | None, str]] = (),
    result: Result | None = None,
) -> bytes:
    """Serialise a ``<response>``."""
    root = epp_root()
    resp = sub(root, ns.EPP, "response")
    res = sub(resp, ns.EPP, "result", code=str(code))
    sub(res, ns.EPP, "msg", message or RESULT_MESSAGES.get(code, "Command failed"))
    for value, reason in reasons:
        ev = sub(res, ns.EPP, "extValue")
        v = sub(ev, ns.EPP, "value")
        v.append(_value_copy(value) if value is not None else etree.Element(ns.q(ns.EPP, "undef")))
        sub(ev, ns.EPP, "reason", " ".join(reason.split())[:500] or "error")
    if result is not None:
        if result.msgq is not None:
            mq = sub(resp, ns.EPP, "msgQ", count=str(result.msgq_count), id=result.msgq.id)
            sub(mq, ns.EPP, "qDate", format_datetime(result.msgq.queued_at))
            sub(mq, ns.EPP, "msg", result.msgq.message)
        elif result.ack_next is not None:
            sub(resp, ns.EPP, "msgQ", count=str(result.ack_next[0]), id=result.ack_next[1])
        if result.res_data:
            rd = sub(resp, ns.EPP, "resData")
            rd.extend(result.res_data)
        if result.extension:
            ex = sub(resp, ns.EPP, "extension")
            ex.extend(result.extension)
    trid = sub(resp, ns.EPP, "trID")
    if cl_trid is not None:
        sub(trid, ns.EPP, "clTRID", cl_trid)
    sub(trid, ns.EPP, "svTRID", sv_trid)
    return serialize(root)


def element(namespace: str, local: str, **attrib: str) -> etree._Element:
    """A detached element with the conventional prefix for ``namespace``."""
    prefix = ns.PREFIXES.get(namespace)
    return etree.Element(ns.q(namespace, local), attrib=attrib or None,
                         nsmap={prefix: namespace} if prefix else None)
