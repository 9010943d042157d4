"""Contact (RFC 5733) handlers of the test registry (``thick-public`` model only)."""

from __future__ import annotations

import hmac
import re
from typing import cast

import pycountry
from lxml import etree

from registrar.epp import ns
from registrar.epp.test_registry_ctx import (
    Ctx,
    check_result,
    check_status_delta,
    check_update_allowed,
    display_statuses,
    find,
    findall,
    owned,
    status_changes,
    txt,
)
from registrar.epp.test_registry_state import PostalBlock, StoredContact
from registrar.epp.test_registry_xml import CommandError, Result, element
from registrar.epp.types import CLIENT_CONTACT_STATUSES, PostalType
from registrar.epp.xmlutil import format_datetime, sub

C = ns.CONTACT
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def _gate(ctx: Ctx) -> None:
    if ctx.model == "minimum":
        raise CommandError(2306, "contacts are not accepted by this registry (minimum data set)")
    ctx.only_extensions()


def _id(el: etree._Element) -> tuple[str, etree._Element]:
    id_el = find(el, C, "id")
    if id_el is None:
        raise CommandError(2003, "contact id missing")
    return txt(id_el), id_el


def _own(ctx: Ctx, el: etree._Element) -> StoredContact:
    cid, id_el = _id(el)
    return owned(ctx, ctx.state.contacts, cid, id_el, "contact")


def _opt(el: etree._Element | None) -> str | None:
    return None if el is None else txt(el)


def _postal(pi: etree._Element) -> tuple[PostalType, PostalBlock]:
    ptype = cast(PostalType, pi.get("type"))
    name_el, addr = find(pi, C, "name"), find(pi, C, "addr")
    if name_el is None or addr is None:
        raise CommandError(2003, "postalInfo must be sent as a complete block (name and addr)", pi)
    cc_el = find(addr, C, "cc")
    cc = txt(cc_el)
    if cc != cc.upper() or pycountry.countries.get(alpha_2=cc) is None:
        raise CommandError(2005, f"{cc!r} is not an ISO 3166 alpha-2 country code", cc_el)
    block = PostalBlock(
        name=txt(name_el), org=_opt(find(pi, C, "org")),
        street=tuple(txt(s) for s in findall(addr, C, "street")),
        city=txt(find(addr, C, "city")), sp=_opt(find(addr, C, "sp")), pc=_opt(find(addr, C, "pc")), cc=cc,
    )
    if ptype == "int":
        fields = [block.name, block.org, block.city, block.sp, block.pc, *block.street]
        if not all(f is None or f.isascii() for f in fields):
            raise CommandError(2005, "postalInfo type int must be 7-bit ASCII; use type loc", pi)
    return ptype, block


def _postals(parent: etree._Element | None) -> dict[PostalType, PostalBlock]:
    out: dict[PostalType, PostalBlock] = {}
    for pi in findall(parent, C, "postalInfo"):
        ptype, block = _postal(pi)
        if ptype in out:
            raise CommandError(2005, f"duplicate postalInfo type {ptype}", pi)
        out[ptype] = block
    return out


def _phone(el: etree._Element | None) -> tuple[str | None, str | None]:
    if el is None or not txt(el):
        return None, None
    return txt(el), el.get("x") or None


def _email(el: etree._Element | None) -> str:
    value = txt(el)
    if not _EMAIL.match(value):
        raise CommandError(2005, "invalid e-mail address", el)
    return value


def _disclose(ctx: Ctx, el: etree._Element | None) -> tuple[bool, tuple[tuple[str, str | None], ...]] | None:
    if el is None:
        return None
    if ctx.state.config.disclose_policy == "refuse":
        raise CommandError(2308, "disclose preferences are not supported by this registry", el)
    fields = tuple((etree.QName(c).localname, c.get("type")) for c in el if isinstance(c.tag, str))
    if not fields:
        raise CommandError(2003, "disclose must list at least one element", el)
    return el.get("flag") in ("1", "true"), fields


def check(ctx: Ctx, el: etree._Element) -> Result:
    """``contact:check``."""
    _gate(ctx)
    return check_result(el, C, "id", lambda cid: "In use" if cid in ctx.state.contacts else None, lower=False)


def info(ctx: Ctx, el: etree._Element) -> Result:
    """``contact:info`` (2201 for another registrar's contact unless its authInfo is given)."""
    _gate(ctx)
    cid, id_el = _id(el)
    c = ctx.state.contacts.get(cid)
    if c is None:
        raise CommandError(2303, f"contact {cid} does not exist", id_el)
    sponsor = c.cl_id == ctx.cl_id
    if not sponsor:
        pw = find(find(el, C, "authInfo"), C, "pw")
        if pw is None:
            raise CommandError(2201, f"contact {cid} is sponsored by another registrar", id_el)
        if c.auth_pw is None or not hmac.compare_digest(txt(pw), c.auth_pw):
            raise CommandError(2202)
    inf = element(C, "infData")
    sub(inf, C, "id", c.id)
    sub(inf, C, "roid", c.roid)
    linked = ("linked",) if ctx.state.contact_linked(c.id) else ()
    for s in display_statuses(c.statuses, extra=linked):
        sub(inf, C, "status", s=s)
    ptypes: tuple[PostalType, ...] = ("int", "loc")
    for ptype in ptypes:
        block = c.postal.get(ptype)
        if block is None:
            continue
        pi = sub(inf, C, "postalInfo", type=ptype)
        sub(pi, C, "name", block.name)
        if block.org is not None:
            sub(pi, C, "org", block.org)
        addr = sub(pi, C, "addr")
        for line in block.street:
            sub(addr, C, "street", line)
        sub(addr, C, "city", block.city)
        if block.sp is not None:
            sub(addr, C, "sp", block.sp)
        if block.pc is not None:
            sub(addr, C, "pc", block.pc)
        sub(addr, C, "cc", block.cc)
    for tag, number, ext in (("voice", c.voice, c.voice_ext), ("fax", c.fax, c.fax_ext)):
        if number:
            sub(inf, C, tag, number, **({"x": ext} if ext else {}))
    sub(inf, C, "email", c.email)
    sub(inf, C, "clID", c.cl_id)
    sub(inf, C, "crID", c.cr_id)
    sub(inf, C, "crDate", format_datetime(c.created))
    if c.up_id and c.updated:
        sub(inf, C, "upID", c.up_id)
        sub(inf, C, "upDate", format_datetime(c.updated))
    if sponsor and c.auth_pw is not None:
        sub(sub(inf, C, "authInfo"), C, "pw", c.auth_pw)
    if c.disclose is not None:
        flag, fields = c.disclose
        dis = sub(inf, C, "disclose", flag="1" if flag else "0")
        for fname, ftype in fields:
            sub(dis, C, fname, **({"type": ftype} if ftype else {}))
    return Result(res_data=[inf])


def create(ctx: Ctx, el: etree._Element) -> Result:
    """``contact:create``."""
    _gate(ctx)
    cid, id_el = _id(el)
    if cid in ctx.state.contacts:
        raise CommandError(2302, f"contact {cid} exists", id_el)
    postal = _postals(el)
    voice, voice_ext = _phone(find(el, C, "voice"))
    fax, fax_ext = _phone(find(el, C, "fax"))
    email = _email(find(el, C, "email"))
    pw = find(find(el, C, "authInfo"), C, "pw")
    if pw is None:
        raise CommandError(2102, "only password authInfo is supported")
    disclose = _disclose(ctx, find(el, C, "disclose"))
    c = StoredContact(id=cid, roid=ctx.state.next_roid(), cl_id=ctx.cl_id, cr_id=ctx.cl_id,
                      created=ctx.now, email=email, postal=postal, voice=voice, voice_ext=voice_ext,
                      fax=fax, fax_ext=fax_ext, auth_pw=txt(pw), disclose=disclose)
    ctx.state.contacts[cid] = c
    cre = element(C, "creData")
    sub(cre, C, "id", cid)
    sub(cre, C, "crDate", format_datetime(c.created))
    return Result(res_data=[cre])


def update(ctx: Ctx, el: etree._Element) -> Result:
    """``contact:update``; a ``chg`` postalInfo replaces the whole block of its type."""
    _gate(ctx)
    c = _own(ctx, el)
    add, rem, chg = find(el, C, "add"), find(el, C, "rem"), find(el, C, "chg")
    if add is None and rem is None and (chg is None or not len(chg)):
        raise CommandError(2003, "update contains no change")
    add_s = status_changes(add, C, CLIENT_CONTACT_STATUSES)
    rem_s = status_changes(rem, C, CLIENT_CONTACT_STATUSES)
    check_update_allowed(c.statuses, rem_s)
    check_status_delta(c.statuses, add_s, rem_s)
    postal = _postals(chg)
    voice_el, fax_el, email_el = find(chg, C, "voice"), find(chg, C, "fax"), find(chg, C, "email")
    email = _email(email_el) if email_el is not None else c.email
    auth = find(chg, C, "authInfo")
    pw = find(auth, C, "pw")
    if auth is not None and pw is None:
        raise CommandError(2102, "only password authInfo is supported")
    disclose = _disclose(ctx, find(chg, C, "disclose"))
    c.statuses = (c.statuses - set(rem_s)) | set(add_s)
    c.postal.update(postal)
    if voice_el is not None:
        c.voice, c.voice_ext = _phone(voice_el)
    if fax_el is not None:
        c.fax, c.fax_ext = _phone(fax_el)
    c.email = email
    if pw is not None:
        c.auth_pw = txt(pw)
    if disclose is not None:
        c.disclose = disclose
    c.up_id, c.updated = ctx.cl_id, ctx.now
    return Result()


def delete(ctx: Ctx, el: etree._Element) -> Result:
    """``contact:delete`` (2305 while linked to a domain)."""
    _gate(ctx)
    c = _own(ctx, el)
    hit = {"clientDeleteProhibited", "serverDeleteProhibited", "pendingDelete"} & c.statuses
    if hit:
        raise CommandError(2304, f"object status {sorted(hit)[0]} prohibits delete")
    if ctx.state.contact_linked(c.id):
        raise CommandError(2305, f"contact {c.id} is linked to a domain")
    del ctx.state.contacts[c.id]
    return Result()
