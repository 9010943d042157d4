"""Domain (RFC 5731) + secDNS-1.1 + RGP restore handlers of the test registry."""

from __future__ import annotations

import hmac
from datetime import date
from typing import cast

from lxml import etree

from registrar.epp import ns
from registrar.epp.names import name_error
from registrar.epp.test_registry_ctx import (
    Ctx,
    add_months,
    apply_delta,
    check_result,
    check_status_delta,
    check_update_allowed,
    display_statuses,
    find,
    findall,
    owned,
    period_months,
    status_changes,
    txt,
)
from registrar.epp.test_registry_state import StoredDomain
from registrar.epp.test_registry_xml import CommandError, Result, element
from registrar.epp.types import CLIENT_DOMAIN_STATUSES, ContactType, DSRecord
from registrar.epp.xmlutil import format_datetime, sub

D, S, R = ns.DOMAIN, ns.SECDNS, ns.RGP
#: DNSSEC algorithms the registry accepts (RSASHA1..ED448 minus deprecated ones).
ALLOWED_DS_ALGORITHMS = frozenset({5, 7, 8, 10, 13, 14, 15, 16})
#: Hex digest length per digest type (SHA-1, SHA-256, SHA-384).
DS_DIGEST_LENGTHS = {1: 40, 2: 64, 4: 96}


def _name(el: etree._Element) -> tuple[str, etree._Element]:
    name_el = find(el, D, "name")
    if name_el is None:
        raise CommandError(2003, "domain name missing")
    return txt(name_el).lower(), name_el


def _own(ctx: Ctx, el: etree._Element) -> StoredDomain:
    name, name_el = _name(el)
    return owned(ctx, ctx.state.domains, name, name_el, "domain")


def _hosts(ctx: Ctx, ns_el: etree._Element | None, *, must_exist: bool) -> list[str]:
    if ns_el is None:
        return []
    attrs = findall(ns_el, D, "hostAttr")
    if attrs:
        raise CommandError(2306, "this registry uses host objects, not host attributes", attrs[0])
    out: list[str] = []
    for h in findall(ns_el, D, "hostObj"):
        name = txt(h).lower()
        if must_exist and name not in ctx.state.hosts:
            raise CommandError(2303, f"host {name} does not exist", h)
        if name in out:
            raise CommandError(2306, f"duplicate nameserver {name}", h)
        out.append(name)
    return out


def _contacts(ctx: Ctx, parent: etree._Element | None, *, must_exist: bool
              ) -> list[tuple[ContactType, str]]:
    out: list[tuple[ContactType, str]] = []
    for c in findall(parent, D, "contact"):
        if ctx.model == "minimum":
            raise CommandError(2306, "contacts are not accepted by this registry (minimum data set)", c)
        ctype = c.get("type")
        if ctype is None:
            raise CommandError(2003, "contact type missing", c)
        pair = (cast(ContactType, ctype), txt(c))
        if must_exist and pair[1] not in ctx.state.contacts:
            raise CommandError(2303, f"contact {pair[1]} does not exist", c)
        if pair in out:
            raise CommandError(2306, "duplicate contact", c)
        out.append(pair)
    return out


def _ds(parent: etree._Element | None) -> list[DSRecord]:
    if parent is None:
        return []
    if find(parent, S, "maxSigLife") is not None:
        raise CommandError(2102, "maxSigLife is not supported", find(parent, S, "maxSigLife"))
    keys = findall(parent, S, "keyData")
    if keys:
        raise CommandError(2306, "the keyData interface is not supported; send dsData", keys[0])
    out: list[DSRecord] = []
    for d in findall(parent, S, "dsData"):
        if find(d, S, "keyData") is not None:
            raise CommandError(2306, "keyData inside dsData is not supported", d)
        rec = DSRecord(int(txt(find(d, S, "keyTag"))), int(txt(find(d, S, "alg"))),
                       int(txt(find(d, S, "digestType"))), txt(find(d, S, "digest")))
        if rec.digest_type not in DS_DIGEST_LENGTHS:
            raise CommandError(2306, f"digest type {rec.digest_type} not supported", d)
        if len(rec.digest) != DS_DIGEST_LENGTHS[rec.digest_type]:
            raise CommandError(2306, "digest length does not match the digest type", d)
        if rec.alg not in ALLOWED_DS_ALGORITHMS:
            raise CommandError(2306, f"DNSSEC algorithm {rec.alg} not allowed", d)
        if rec in out:
            raise CommandError(2306, "duplicate DS record", d)
        out.append(rec)
    return out


def _ds_el(parent: etree._Element, rec: DSRecord) -> None:
    dd = sub(parent, S, "dsData")
    sub(dd, S, "keyTag", str(rec.key_tag))
    sub(dd, S, "alg", str(rec.alg))
    sub(dd, S, "digestType", str(rec.digest_type))
    sub(dd, S, "digest", rec.digest)


def check(ctx: Ctx, el: etree._Element) -> Result:
    """``domain:check``."""
    ctx.only_extensions()

    def reason_of(name: str) -> str | None:
        if name_error(name):
            return "invalid domain name"
        if ctx.state.served_tld(name) is None:
            return "TLD not served"
        if ctx.state.registrable_domain(name) != name:
            return "not a registrable name"
        return "In use" if name in ctx.state.domains else None

    return check_result(el, D, "name", reason_of)


def info(ctx: Ctx, el: etree._Element) -> Result:
    """``domain:info`` (full data for the sponsor or with the right authInfo)."""
    ctx.only_extensions()
    name, name_el = _name(el)
    d = ctx.state.domains.get(name)
    if d is None:
        raise CommandError(2303, f"domain {name} does not exist", name_el)
    sponsor = d.cl_id == ctx.cl_id
    full = sponsor
    auth = find(el, D, "authInfo")
    if not sponsor and auth is not None:
        pw = find(auth, D, "pw")
        if pw is None or d.auth_pw is None or not hmac.compare_digest(txt(pw), d.auth_pw):
            raise CommandError(2202)
        full = True
    hosts = name_el.get("hosts", "all")
    inf = element(D, "infData")
    sub(inf, D, "name", d.name)
    sub(inf, D, "roid", d.roid)
    for s in display_statuses(d.statuses, extra=() if d.nameservers else ("inactive",)):
        sub(inf, D, "status", s=s)
    if full:
        if d.registrant:
            sub(inf, D, "registrant", d.registrant)
        for ctype, cid in d.contacts:
            sub(inf, D, "contact", cid, type=ctype)
    if hosts in ("all", "del") and d.nameservers:
        nse = sub(inf, D, "ns")
        for h in d.nameservers:
            sub(nse, D, "hostObj", h)
    if hosts in ("all", "sub"):
        for h in ctx.state.hosts_of(d.name):
            sub(inf, D, "host", h)
    sub(inf, D, "clID", d.cl_id)
    sub(inf, D, "crID", d.cr_id)
    sub(inf, D, "crDate", format_datetime(d.created))
    if d.up_id and d.updated:
        sub(inf, D, "upID", d.up_id)
        sub(inf, D, "upDate", format_datetime(d.updated))
    sub(inf, D, "exDate", format_datetime(d.expires))
    if d.transferred:
        sub(inf, D, "trDate", format_datetime(d.transferred))
    if sponsor and d.auth_pw is not None:
        sub(sub(inf, D, "authInfo"), D, "pw", d.auth_pw)
    ext: list[etree._Element] = []
    if d.ds and ns.SECDNS in ctx.session.ext_uris:
        sd = element(S, "infData")
        for rec in d.ds:
            _ds_el(sd, rec)
        ext.append(sd)
    if d.rgp_statuses and ns.RGP in ctx.session.ext_uris:
        rg = element(R, "infData")
        for s in sorted(d.rgp_statuses):
            sub(rg, R, "rgpStatus", s=s)
        ext.append(rg)
    return Result(res_data=[inf], extension=ext)


def create(ctx: Ctx, el: etree._Element) -> Result:
    """``domain:create`` (+ ``secDNS:create``)."""
    ctx.only_extensions((S, "create"))
    name, name_el = _name(el)
    err = name_error(name)
    if err:
        raise CommandError(2005, err, name_el)
    if ctx.state.served_tld(name) is None:
        raise CommandError(2306, "TLD not served by this registry", name_el)
    if ctx.state.registrable_domain(name) != name:
        raise CommandError(2306, "only names directly below a TLD can be registered", name_el)
    if name in ctx.state.domains:
        raise CommandError(2302, f"domain {name} exists", name_el)
    months = period_months(find(el, D, "period"))
    hosts = _hosts(ctx, find(el, D, "ns"), must_exist=True)
    if len(hosts) > ctx.state.config.max_nameservers:
        raise CommandError(2306, "too many nameservers")
    registrant_el = find(el, D, "registrant")
    contacts = _contacts(ctx, el, must_exist=True)
    registrant = None
    if registrant_el is not None:
        if ctx.model == "minimum":
            raise CommandError(2306, "a registrant is not accepted by this registry (minimum data set)",
                               registrant_el)
        registrant = txt(registrant_el)
        if registrant not in ctx.state.contacts:
            raise CommandError(2303, f"contact {registrant} does not exist", registrant_el)
    elif ctx.model == "thick-public" and ctx.state.config.require_registrant:
        raise CommandError(2003, "registrant required")
    pw = find(find(el, D, "authInfo"), D, "pw")
    if pw is None:
        raise CommandError(2102, "only password authInfo is supported")
    ds = _ds(ctx.ext(S, "create"))
    now = ctx.now
    d = StoredDomain(name=name, roid=ctx.state.next_roid(), cl_id=ctx.cl_id, cr_id=ctx.cl_id,
                     created=now, expires=add_months(now, months), auth_pw=txt(pw),
                     registrant=registrant, contacts=contacts, nameservers=hosts, ds=ds)
    ctx.state.domains[name] = d
    cre = element(D, "creData")
    sub(cre, D, "name", name)
    sub(cre, D, "crDate", format_datetime(d.created))
    sub(cre, D, "exDate", format_datetime(d.expires))
    return Result(res_data=[cre])


def _restore(ctx: Ctx, d: StoredDomain, el: etree._Element, rgp: etree._Element) -> Result:
    restore = find(rgp, R, "restore")
    if restore is None or restore.get("op") != "request":
        raise CommandError(2102, "only restore op=request is supported (no report needed)", restore)
    chg = find(el, D, "chg")
    if find(el, D, "add") is not None or find(el, D, "rem") is not None or (chg is not None and len(chg)):
        raise CommandError(2306, "a restore request must not change anything else")
    if "pendingDelete" not in d.statuses or "redemptionPeriod" not in d.rgp_statuses:
        raise CommandError(2304, "domain is not in its redemption period")
    d.statuses.discard("pendingDelete")
    d.rgp_statuses.clear()
    d.up_id, d.updated = ctx.cl_id, ctx.now
    return Result()


def update(ctx: Ctx, el: etree._Element) -> Result:
    """``domain:update`` (+ ``secDNS:update`` or ``rgp:update`` restore)."""
    ctx.only_extensions((S, "update"), (R, "update"))
    d = _own(ctx, el)
    rgp = ctx.ext(R, "update")
    if rgp is not None:
        return _restore(ctx, d, el, rgp)
    add, rem, chg = find(el, D, "add"), find(el, D, "rem"), find(el, D, "chg")
    secdns = ctx.ext(S, "update")
    if add is None and rem is None and (chg is None or not len(chg)) and secdns is None:
        raise CommandError(2003, "update contains no change")
    add_s = status_changes(add, D, CLIENT_DOMAIN_STATUSES)
    rem_s = status_changes(rem, D, CLIENT_DOMAIN_STATUSES)
    check_update_allowed(d.statuses, rem_s)
    check_status_delta(d.statuses, add_s, rem_s)

    rem_ns = _hosts(ctx, find(rem, D, "ns"), must_exist=False)
    add_ns = _hosts(ctx, find(add, D, "ns"), must_exist=True)
    new_ns = apply_delta(d.nameservers, add_ns, rem_ns, absent=lambda h: f"{h} is not a nameserver of {d.name}",
                         present=lambda h: f"{h} is already a nameserver of {d.name}")
    if len(new_ns) > ctx.state.config.max_nameservers:
        raise CommandError(2306, "too many nameservers")

    rem_c = _contacts(ctx, rem, must_exist=False)
    add_c = _contacts(ctx, add, must_exist=True)
    new_c = apply_delta(d.contacts, add_c, rem_c, absent=lambda c: f"{c[0]} contact {c[1]} is not associated",
                        present=lambda c: f"{c[0]} contact {c[1]} is already associated")

    registrant = d.registrant
    reg_el = find(chg, D, "registrant")
    if reg_el is not None:
        value = txt(reg_el)
        if ctx.model == "minimum" and value:
            raise CommandError(2306, "a registrant is not accepted by this registry (minimum data set)",
                               reg_el)
        if ctx.model == "thick-public":
            if not value and ctx.state.config.require_registrant:
                raise CommandError(2306, "the registrant cannot be removed", reg_el)
            if value and value not in ctx.state.contacts:
                raise CommandError(2303, f"contact {value} does not exist", reg_el)
        registrant = value or None
    auth_pw = d.auth_pw
    auth = find(chg, D, "authInfo")
    if auth is not None:
        if find(auth, D, "pw") is not None:
            auth_pw = txt(find(auth, D, "pw"))
        elif find(auth, D, "null") is not None:
            auth_pw = None
        else:
            raise CommandError(2102, "only password authInfo is supported")

    ds = list(d.ds)
    if secdns is not None:
        if find(secdns, S, "chg") is not None:
            raise CommandError(2102, "secDNS chg (maxSigLife) is not supported")
        rem_el = find(secdns, S, "rem")
        if rem_el is not None:
            all_el = find(rem_el, S, "all")
            if all_el is not None:
                if txt(all_el) in ("true", "1"):
                    ds = []
            else:
                for rec in _ds(rem_el):
                    if rec not in ds:
                        raise CommandError(2306, f"DS record {rec.key_tag} not present")
                    ds.remove(rec)
        for rec in _ds(find(secdns, S, "add")):
            if rec in ds:
                raise CommandError(2306, f"DS record {rec.key_tag} already present")
            ds.append(rec)

    d.statuses = (d.statuses - set(rem_s)) | set(add_s)
    d.nameservers, d.contacts, d.registrant, d.auth_pw, d.ds = new_ns, new_c, registrant, auth_pw, ds
    d.up_id, d.updated = ctx.cl_id, ctx.now
    return Result()


def delete(ctx: Ctx, el: etree._Element) -> Result:
    """``domain:delete``: 1001, ``pendingDelete`` + RGP ``redemptionPeriod``."""
    ctx.only_extensions()
    d = _own(ctx, el)
    blocked = {"clientDeleteProhibited", "serverDeleteProhibited", "pendingDelete", "pendingTransfer"}
    hit = blocked & d.statuses
    if hit:
        raise CommandError(2304, f"object status {sorted(hit)[0]} prohibits delete")
    if ctx.state.hosts_of(d.name):
        raise CommandError(2305, "domain has subordinate hosts; delete them first")
    d.statuses.add("pendingDelete")
    d.rgp_statuses = {"redemptionPeriod"}
    d.up_id, d.updated = ctx.cl_id, ctx.now
    return Result(code=1001)


def renew(ctx: Ctx, el: etree._Element) -> Result:
    """``domain:renew`` (``curExpDate`` must match; at most 10 years ahead)."""
    ctx.only_extensions()
    d = _own(ctx, el)
    hit = {"clientRenewProhibited", "serverRenewProhibited", "pendingDelete", "pendingTransfer"} & d.statuses
    if hit:
        raise CommandError(2304, f"object status {sorted(hit)[0]} prohibits renew")
    cur_el = find(el, D, "curExpDate")
    if date.fromisoformat(txt(cur_el)) != d.expires.date():
        raise CommandError(2306, "curExpDate does not match the expiry date", cur_el)
    new = add_months(d.expires, period_months(find(el, D, "period")))
    if new > add_months(ctx.now, 120):
        raise CommandError(2306, "registration would exceed 10 years")
    d.expires = new
    d.up_id, d.updated = ctx.cl_id, ctx.now
    ren = element(D, "renData")
    sub(ren, D, "name", d.name)
    sub(ren, D, "exDate", format_datetime(d.expires))
    return Result(res_data=[ren])
