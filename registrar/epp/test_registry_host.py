"""Host (RFC 5732) handlers of the test registry.

A host below a served TLD is *subordinate*: its superordinate domain must
exist and belong to the caller, and it needs glue addresses. Any other host is
*external* and must not have addresses.
"""

from __future__ import annotations

from lxml import etree

from registrar.epp import ns
from registrar.epp.names import name_error
from registrar.epp.test_registry_ctx import (
    Ctx,
    addresses,
    apply_delta,
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
from registrar.epp.test_registry_state import StoredHost
from registrar.epp.test_registry_xml import CommandError, Result, element
from registrar.epp.types import CLIENT_HOST_STATUSES
from registrar.epp.xmlutil import format_datetime, sub

H = ns.HOST


def _name(el: etree._Element) -> tuple[str, etree._Element]:
    name_el = find(el, H, "name")
    if name_el is None:
        raise CommandError(2003, "host name missing")
    return txt(name_el).lower(), name_el


def _valid_name(name: str, name_el: etree._Element) -> None:
    err = name_error(name)
    if err:
        raise CommandError(2005, err, name_el)


def _superordinate(ctx: Ctx, name: str, name_el: etree._Element) -> str | None:
    """The superordinate domain of a subordinate host (checked), or None for an external host."""
    sup = ctx.state.registrable_domain(name)
    if sup is None:
        return None
    d = ctx.state.domains.get(sup)
    if d is None:
        raise CommandError(2303, f"superordinate domain {sup} does not exist", name_el)
    if d.cl_id != ctx.cl_id:
        raise CommandError(2201, f"superordinate domain {sup} is sponsored by another registrar", name_el)
    if "pendingDelete" in d.statuses:
        raise CommandError(2304, f"superordinate domain {sup} is pending delete", name_el)
    return sup


def check(ctx: Ctx, el: etree._Element) -> Result:
    """``host:check``."""
    ctx.only_extensions()
    return check_result(el, H, "name", lambda name: "invalid host name" if name_error(name)
                        else ("In use" if name in ctx.state.hosts else None))


def info(ctx: Ctx, el: etree._Element) -> Result:
    """``host:info`` (any registrar may read hosts)."""
    ctx.only_extensions()
    name, name_el = _name(el)
    h = ctx.state.hosts.get(name)
    if h is None:
        raise CommandError(2303, f"host {name} does not exist", name_el)
    inf = element(H, "infData")
    sub(inf, H, "name", h.name)
    sub(inf, H, "roid", h.roid)
    linked = ("linked",) if ctx.state.host_linked(h.name) else ()
    for s in display_statuses(h.statuses, extra=linked):
        sub(inf, H, "status", s=s)
    for addr, version in h.addresses:
        sub(inf, H, "addr", addr, ip=version)
    sub(inf, H, "clID", h.cl_id)
    sub(inf, H, "crID", h.cr_id)
    sub(inf, H, "crDate", format_datetime(h.created))
    if h.up_id and h.updated:
        sub(inf, H, "upID", h.up_id)
        sub(inf, H, "upDate", format_datetime(h.updated))
    return Result(res_data=[inf])


def create(ctx: Ctx, el: etree._Element) -> Result:
    """``host:create``."""
    ctx.only_extensions()
    name, name_el = _name(el)
    _valid_name(name, name_el)
    if name in ctx.state.hosts:
        raise CommandError(2302, f"host {name} exists", name_el)
    addrs = addresses(findall(el, H, "addr"))
    sup = _superordinate(ctx, name, name_el)
    if sup is not None and not addrs:
        raise CommandError(2003, f"host {name} is subordinate to {sup} and needs glue addresses", name_el)
    if sup is None and addrs:
        raise CommandError(2306, f"host {name} is external; addresses are not allowed", name_el)
    h = StoredHost(name=name, roid=ctx.state.next_roid(), cl_id=ctx.cl_id, cr_id=ctx.cl_id,
                   created=ctx.now, addresses=addrs)
    ctx.state.hosts[name] = h
    cre = element(H, "creData")
    sub(cre, H, "name", name)
    sub(cre, H, "crDate", format_datetime(h.created))
    return Result(res_data=[cre])


def _own(ctx: Ctx, el: etree._Element) -> StoredHost:
    name, name_el = _name(el)
    return owned(ctx, ctx.state.hosts, name, name_el, "host")


def update(ctx: Ctx, el: etree._Element) -> Result:
    """``host:update``: addresses, client statuses, rename."""
    ctx.only_extensions()
    h = _own(ctx, el)
    add, rem, chg = find(el, H, "add"), find(el, H, "rem"), find(el, H, "chg")
    if add is None and rem is None and chg is None:
        raise CommandError(2003, "update contains no change")
    add_s = status_changes(add, H, CLIENT_HOST_STATUSES)
    rem_s = status_changes(rem, H, CLIENT_HOST_STATUSES)
    check_update_allowed(h.statuses, rem_s)
    check_status_delta(h.statuses, add_s, rem_s)
    rem_a = addresses(findall(rem, H, "addr"))
    add_a = addresses(findall(add, H, "addr"))
    new_addrs = apply_delta(h.addresses, add_a, rem_a, absent=lambda a: f"address {a[0]} not set",
                            present=lambda a: f"address {a[0]} already set")
    new_name = h.name
    new_el = find(chg, H, "name")
    if new_el is not None:
        new_name = txt(new_el).lower()
        _valid_name(new_name, new_el)
        if new_name != h.name and new_name in ctx.state.hosts:
            raise CommandError(2302, f"host {new_name} exists", new_el)
    sup = _superordinate(ctx, new_name, new_el if new_el is not None else el)
    if sup is not None and not new_addrs:
        raise CommandError(2306, f"subordinate host {new_name} must keep at least one address")
    if sup is None and new_addrs:
        raise CommandError(2306, f"external host {new_name} must not have addresses")
    h.statuses = (h.statuses - set(rem_s)) | set(add_s)
    h.addresses = new_addrs
    if new_name != h.name:
        old = h.name
        del ctx.state.hosts[old]
        h.name = new_name
        ctx.state.hosts[new_name] = h
        for d in ctx.state.domains.values():
            d.nameservers = [new_name if n == old else n for n in d.nameservers]
    h.up_id, h.updated = ctx.cl_id, ctx.now
    return Result()


def delete(ctx: Ctx, el: etree._Element) -> Result:
    """``host:delete`` (2305 while a domain delegates to it)."""
    ctx.only_extensions()
    h = _own(ctx, el)
    hit = {"clientDeleteProhibited", "serverDeleteProhibited", "pendingDelete"} & h.statuses
    if hit:
        raise CommandError(2304, f"object status {sorted(hit)[0]} prohibits delete")
    if ctx.state.host_linked(h.name):
        raise CommandError(2305, f"host {h.name} is used by a domain")
    del ctx.state.hosts[h.name]
    return Result()
