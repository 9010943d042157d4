"""Parsers for server frames: greetings, responses and their resData payloads."""

from __future__ import annotations

from typing import Literal, cast

from lxml import etree

from registrar.epp import ns
from registrar.epp.types import (
    CheckResult,
    ContactData,
    ContactInfo,
    ContactType,
    DomainCreated,
    DomainInfo,
    DSRecord,
    Greeting,
    HostAddress,
    HostInfo,
    IpVersion,
    MessageQueue,
    PendingActionData,
    PollMessage,
    PostalType,
    Response,
    TransferData,
)
from registrar.epp.xmlutil import XMLSyntaxError, child, children, parse_datetime, parse_xml, redact, text


class ResponseParseError(ValueError):
    """A server frame is not a greeting/response of the expected shape."""


def _body(data: bytes) -> etree._Element:
    try:
        root = parse_xml(data)
    except XMLSyntaxError as exc:
        raise ResponseParseError(str(exc)) from exc
    if root.tag != ns.q(ns.EPP, "epp") or not len(root):
        raise ResponseParseError(f"not an EPP document (root {root.tag!r})")
    return root[0]


def _texts(parent: etree._Element | None, namespace: str, local: str) -> tuple[str, ...]:
    return tuple((e.text or "").strip() for e in children(parent, namespace, local))


def _greeting(body: etree._Element) -> Greeting:
    sv_id = text(body, ns.EPP, "svID")
    if sv_id is None:
        raise ResponseParseError("greeting without svID")
    menu = child(body, ns.EPP, "svcMenu")
    return Greeting(
        sv_id=sv_id,
        sv_date=parse_datetime(text(body, ns.EPP, "svDate")),
        versions=_texts(menu, ns.EPP, "version"),
        langs=_texts(menu, ns.EPP, "lang"),
        obj_uris=_texts(menu, ns.EPP, "objURI"),
        ext_uris=_texts(child(menu, ns.EPP, "svcExtension"), ns.EPP, "extURI"),
    )


def _reason_texts(result: etree._Element) -> tuple[str, ...]:
    out: list[str] = []
    for el in result:
        if not isinstance(el.tag, str):
            continue
        local = etree.QName(el).localname
        if local == "value":
            out.append(_flatten(el))
        elif local == "extValue":
            val = child(el, ns.EPP, "value")
            reason = text(el, ns.EPP, "reason") or ""
            out.append(f"{_flatten(val) if val is not None else ''}: {reason}".strip(": "))
    return tuple(out)


def _flatten(el: etree._Element) -> str:
    """The text of a ``<value>``, with echoed secrets (``<pw>``, authInfo ``<ext>``) masked.

    Servers echo the offending element on errors such as 2202 (RFC 5730 §2.6), which may be the
    authInfo we sent; reasons end up in sync reports and the database, so the secret must not.
    """
    parts = [el.text or ""]
    for c in el:
        if isinstance(c.tag, str):
            parts.append(redact(etree.tostring(c, with_tail=False)).decode("utf-8"))
        parts.append(c.tail or "")
    return " ".join("".join(parts).split())


def _response(body: etree._Element) -> Response:
    result = child(body, ns.EPP, "result")
    if result is None:
        raise ResponseParseError("response without result")
    try:
        code = int(result.get("code", ""))
    except ValueError as exc:
        raise ResponseParseError("result code is not a number") from exc
    trid = child(body, ns.EPP, "trID")
    msgq = None
    mq = child(body, ns.EPP, "msgQ")
    if mq is not None:
        msg_el = child(mq, ns.EPP, "msg")
        msgq = MessageQueue(
            count=int(mq.get("count", "0")),
            id=mq.get("id", ""),
            queued_at=parse_datetime(text(mq, ns.EPP, "qDate")),
            message=_flatten(msg_el) if msg_el is not None else None,
        )
    return Response(
        code=code,
        message=text(result, ns.EPP, "msg") or "",
        cl_trid=text(trid, ns.EPP, "clTRID"),
        sv_trid=text(trid, ns.EPP, "svTRID"),
        element=body,
        reasons=_reason_texts(result),
        msgq=msgq,
    )


def parse_greeting(data: bytes) -> Greeting:
    """Parse a ``<greeting>`` frame."""
    body = _body(data)
    if body.tag != ns.q(ns.EPP, "greeting"):
        raise ResponseParseError(f"expected a greeting, got {etree.QName(body).localname}")
    return _greeting(body)


def parse_response(data: bytes) -> Response:
    """Parse a ``<response>`` frame."""
    body = _body(data)
    if body.tag != ns.q(ns.EPP, "response"):
        raise ResponseParseError(f"expected a response, got {etree.QName(body).localname}")
    return _response(body)


def parse_frame(data: bytes) -> Greeting | Response:
    """Parse any server frame (greeting or response)."""
    body = _body(data)
    if body.tag == ns.q(ns.EPP, "greeting"):
        return _greeting(body)
    if body.tag == ns.q(ns.EPP, "response"):
        return _response(body)
    raise ResponseParseError(f"unexpected server frame {etree.QName(body).localname}")


# --------------------------------------------------------------------------- resData


def _res(resp: Response, namespace: str, local: str) -> etree._Element:
    el = resp.element.find(f"{ns.q(ns.EPP, 'resData')}/{ns.q(namespace, local)}")
    if el is None:
        raise ResponseParseError(f"response has no {local} in {namespace}")
    return el


def _ext(resp: Response, namespace: str, local: str) -> etree._Element | None:
    return resp.element.find(f"{ns.q(ns.EPP, 'extension')}/{ns.q(namespace, local)}")


def _statuses(parent: etree._Element, namespace: str) -> tuple[str, ...]:
    return tuple(e.get("s", "") for e in children(parent, namespace, "status"))


def _required(parent: etree._Element, namespace: str, local: str) -> str:
    value = text(parent, namespace, local)
    if value is None:
        raise ResponseParseError(f"missing {local}")
    return value


def _ds_records(parent: etree._Element | None) -> tuple[DSRecord, ...]:
    out = []
    for d in children(parent, ns.SECDNS, "dsData"):
        out.append(DSRecord(
            key_tag=int(_required(d, ns.SECDNS, "keyTag")),
            alg=int(_required(d, ns.SECDNS, "alg")),
            digest_type=int(_required(d, ns.SECDNS, "digestType")),
            digest=_required(d, ns.SECDNS, "digest"),
        ))
    return tuple(out)


def parse_check(resp: Response) -> tuple[CheckResult, ...]:
    """``chkData`` of a domain/host/contact check response."""
    data = resp.element.find(ns.q(ns.EPP, "resData"))
    if data is None or not len(data):
        raise ResponseParseError("response has no chkData")
    chk = data[0]
    namespace = etree.QName(chk).namespace or ""
    key = "id" if namespace == ns.CONTACT else "name"
    out = []
    for cd in children(chk, namespace, "cd"):
        el = child(cd, namespace, key)
        if el is None:
            raise ResponseParseError("check result without name")
        out.append(CheckResult(
            name=(el.text or "").strip(),
            available=el.get("avail") in ("1", "true"),
            reason=text(cd, namespace, "reason"),
        ))
    return tuple(out)


def parse_domain_info(resp: Response) -> DomainInfo:
    """``domain:infData`` (+ ``secDNS:infData``, ``rgp:infData``) of a domain info response."""
    inf = _res(resp, ns.DOMAIN, "infData")
    nameservers: list[str] = []
    ns_el = child(inf, ns.DOMAIN, "ns")
    if ns_el is not None:
        nameservers += [(e.text or "").strip() for e in children(ns_el, ns.DOMAIN, "hostObj")]
        nameservers += [text(e, ns.DOMAIN, "hostName") or "" for e in children(ns_el, ns.DOMAIN, "hostAttr")]
    secdns = _ext(resp, ns.SECDNS, "infData")
    rgp = _ext(resp, ns.RGP, "infData")
    auth = child(inf, ns.DOMAIN, "authInfo")
    return DomainInfo(
        name=_required(inf, ns.DOMAIN, "name"),
        roid=_required(inf, ns.DOMAIN, "roid"),
        statuses=_statuses(inf, ns.DOMAIN),
        rgp_statuses=tuple(e.get("s", "") for e in children(rgp, ns.RGP, "rgpStatus")),
        registrant=text(inf, ns.DOMAIN, "registrant"),
        contacts=tuple(
            (cast(ContactType, e.get("type", "")), (e.text or "").strip())
            for e in children(inf, ns.DOMAIN, "contact")
        ),
        nameservers=tuple(nameservers),
        subordinate_hosts=_texts(inf, ns.DOMAIN, "host"),
        ds=_ds_records(secdns),
        cl_id=_required(inf, ns.DOMAIN, "clID"),
        cr_id=text(inf, ns.DOMAIN, "crID"),
        created=parse_datetime(text(inf, ns.DOMAIN, "crDate")),
        updated=parse_datetime(text(inf, ns.DOMAIN, "upDate")),
        expires=parse_datetime(text(inf, ns.DOMAIN, "exDate")),
        transferred=parse_datetime(text(inf, ns.DOMAIN, "trDate")),
        auth_pw=text(auth, ns.DOMAIN, "pw"),
        has_secdns=secdns is not None,
    )


def parse_domain_created(resp: Response) -> DomainCreated:
    """``domain:creData`` of a create response."""
    cre = _res(resp, ns.DOMAIN, "creData")
    return DomainCreated(
        name=_required(cre, ns.DOMAIN, "name"),
        created=parse_datetime(text(cre, ns.DOMAIN, "crDate")),
        expires=parse_datetime(text(cre, ns.DOMAIN, "exDate")),
    )


def parse_domain_renewed(resp: Response) -> DomainCreated:
    """``domain:renData`` of a renew response (``created`` is None)."""
    ren = _res(resp, ns.DOMAIN, "renData")
    return DomainCreated(
        name=_required(ren, ns.DOMAIN, "name"),
        created=None,
        expires=parse_datetime(text(ren, ns.DOMAIN, "exDate")),
    )


def parse_host_info(resp: Response) -> HostInfo:
    """``host:infData`` of a host info response."""
    inf = _res(resp, ns.HOST, "infData")
    addrs: list[HostAddress] = []
    for a in children(inf, ns.HOST, "addr"):
        version = cast(IpVersion, a.get("ip", "v4"))
        addrs.append(((a.text or "").strip(), version))
    return HostInfo(
        name=_required(inf, ns.HOST, "name"),
        roid=_required(inf, ns.HOST, "roid"),
        statuses=_statuses(inf, ns.HOST),
        addresses=tuple(addrs),
        cl_id=_required(inf, ns.HOST, "clID"),
        cr_id=text(inf, ns.HOST, "crID"),
        created=parse_datetime(text(inf, ns.HOST, "crDate")),
        updated=parse_datetime(text(inf, ns.HOST, "upDate")),
    )


def _phone(el: etree._Element | None) -> tuple[str | None, str | None]:
    if el is None or not (el.text or "").strip():
        return None, None
    return (el.text or "").strip(), el.get("x") or None


def parse_contact_info(resp: Response) -> ContactInfo:
    """``contact:infData`` of a contact info response.

    When both postal blocks are present the ``loc`` one fills ``data``.
    """
    inf = _res(resp, ns.CONTACT, "infData")
    blocks = {pi.get("type"): pi for pi in children(inf, ns.CONTACT, "postalInfo")}
    if not blocks:
        raise ResponseParseError("contact infData without postalInfo")
    pi = blocks.get("loc", blocks.get("int"))
    if pi is None:
        raise ResponseParseError("postalInfo without a valid type")
    addr = child(pi, ns.CONTACT, "addr")
    voice, voice_ext = _phone(child(inf, ns.CONTACT, "voice"))
    fax, fax_ext = _phone(child(inf, ns.CONTACT, "fax"))
    hidden: set[str] = set()
    public: set[str] = set()
    disclose = child(inf, ns.CONTACT, "disclose")
    if disclose is not None:
        target = public if disclose.get("flag") in ("1", "true") else hidden
        target.update(etree.QName(e).localname for e in disclose if isinstance(e.tag, str))
    data = ContactData(
        id=_required(inf, ns.CONTACT, "id"),
        name=_required(pi, ns.CONTACT, "name"),
        org=text(pi, ns.CONTACT, "org"),
        street=_texts(addr, ns.CONTACT, "street"),
        city=text(addr, ns.CONTACT, "city") or "",
        sp=text(addr, ns.CONTACT, "sp"),
        pc=text(addr, ns.CONTACT, "pc"),
        cc=text(addr, ns.CONTACT, "cc") or "",
        voice=voice,
        voice_ext=voice_ext,
        fax=fax,
        fax_ext=fax_ext,
        email=_required(inf, ns.CONTACT, "email"),
        disclose_hidden=frozenset(hidden),
    )
    return ContactInfo(
        data=data,
        roid=_required(inf, ns.CONTACT, "roid"),
        statuses=_statuses(inf, ns.CONTACT),
        cl_id=_required(inf, ns.CONTACT, "clID"),
        postal_types=tuple(cast(PostalType, t) for t in blocks if t in ("int", "loc")),
        cr_id=text(inf, ns.CONTACT, "crID"),
        created=parse_datetime(text(inf, ns.CONTACT, "crDate")),
        updated=parse_datetime(text(inf, ns.CONTACT, "upDate")),
        disclose_public=frozenset(public),
        auth_pw=text(child(inf, ns.CONTACT, "authInfo"), ns.CONTACT, "pw"),
    )


def _transfer(el: etree._Element) -> TransferData:
    namespace = etree.QName(el).namespace
    kind: Literal["domain", "contact"] = "contact" if namespace == ns.CONTACT else "domain"
    key = "id" if kind == "contact" else "name"
    return TransferData(
        object_type=kind,
        name=_required(el, namespace, key),
        status=_required(el, namespace, "trStatus"),
        requested_by=_required(el, namespace, "reID"),
        requested_at=parse_datetime(text(el, namespace, "reDate")),
        action_by=_required(el, namespace, "acID"),
        action_at=parse_datetime(text(el, namespace, "acDate")),
        expires=parse_datetime(text(el, namespace, "exDate")),
    )


def _pending(el: etree._Element) -> PendingActionData:
    namespace = etree.QName(el).namespace
    kind: Literal["domain", "host", "contact"] = "domain"
    if namespace == ns.HOST:
        kind = "host"
    elif namespace == ns.CONTACT:
        kind = "contact"
    name_el = child(el, namespace, "id" if kind == "contact" else "name")
    if name_el is None:
        raise ResponseParseError("panData without name")
    patrid = child(el, namespace, "paTRID")
    return PendingActionData(
        object_type=kind,
        name=(name_el.text or "").strip(),
        result=name_el.get("paResult") in ("1", "true"),
        pa_cl_trid=text(patrid, ns.EPP, "clTRID"),
        pa_sv_trid=text(patrid, ns.EPP, "svTRID"),
        pa_date=parse_datetime(text(el, namespace, "paDate")),
    )


def parse_poll(resp: Response) -> PollMessage | None:
    """The message of a ``poll op="req"`` response; None when the queue is empty (1300)."""
    if resp.code == 1300:
        return None
    if resp.code != 1301 or resp.msgq is None:
        raise ResponseParseError(f"not a poll message response (code {resp.code})")
    res_data = resp.element.find(ns.q(ns.EPP, "resData"))
    transfer = pending = None
    if res_data is not None:
        for el in res_data:
            if not isinstance(el.tag, str):
                continue
            local = etree.QName(el).localname
            if local == "trnData":
                transfer = _transfer(el)
            elif local == "panData":
                pending = _pending(el)
    return PollMessage(
        id=resp.msgq.id,
        count=resp.msgq.count,
        queued_at=resp.msgq.queued_at,
        message=resp.msgq.message,
        transfer=transfer,
        pending_action=pending,
        res_data=res_data,
    )
