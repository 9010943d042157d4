"""Builders for outgoing EPP frames (payload bytes, without the length header).

Every builder returns a serialised UTF-8 document that validates against the
IETF schemas (see ``tests/epp/test_commands.py``). Commands carry a unique
``clTRID``: pass one explicitly or let the module-level
:class:`ClTridGenerator` make one.

Builders refuse (``ValueError``) things a registrar must never send, e.g.
``server*`` statuses, or an update that changes nothing.
"""

from __future__ import annotations

import itertools
import re
import secrets
import threading
from collections.abc import Iterable
from datetime import date
from typing import Literal

from lxml import etree

from registrar.epp import ns
from registrar.epp.names import to_ascii
from registrar.epp.types import (
    CLIENT_CONTACT_STATUSES,
    CLIENT_DOMAIN_STATUSES,
    CLIENT_HOST_STATUSES,
    DISCLOSE_FIELDS,
    ContactData,
    ContactType,
    DSRecord,
    Greeting,
    PostalType,
    host_address,
)
from registrar.epp.xmlutil import XMLSyntaxError, epp_root, parse_xml, serialize, sub

PeriodUnit = Literal["y", "m"]
HostsFilter = Literal["all", "del", "sub", "none"]

_PREFIX_RE = re.compile(r"^[A-Za-z0-9._-]{1,40}$")


class ClTridGenerator:
    """Makes client transaction ids: ``<prefix>-<counter>-<random hex>`` (3-64 chars).

    The counter is monotonic per generator (thread-safe); the random part keeps
    ids unique across processes and runs sharing a prefix.
    """

    def __init__(self, prefix: str = "rr") -> None:
        """Create a generator; ``prefix`` is 1-40 of ``[A-Za-z0-9._-]`` (e.g. ``sync-<run id>``)."""
        if not _PREFIX_RE.match(prefix):
            raise ValueError("clTRID prefix must be 1-40 characters of [A-Za-z0-9._-]")
        self.prefix = prefix
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def __call__(self) -> str:
        """Return the next clTRID."""
        with self._lock:
            n = next(self._counter)
        return f"{self.prefix}-{n:06d}-{secrets.token_hex(4)}"


#: Default generator used when a builder is not given a ``cl_trid``.
default_cl_trid = ClTridGenerator()


# --------------------------------------------------------------------------- helpers


def _command(verb: str, **attrib: str) -> tuple[etree._Element, etree._Element, etree._Element]:
    root = epp_root()
    cmd = sub(root, ns.EPP, "command")
    return root, cmd, sub(cmd, ns.EPP, verb, **attrib)


def _finish(root: etree._Element, cmd: etree._Element, cl_trid: str | None) -> bytes:
    trid = cl_trid if cl_trid is not None else default_cl_trid()
    if not 3 <= len(trid) <= 64:
        raise ValueError("clTRID must be 3-64 characters")
    sub(cmd, ns.EPP, "clTRID", trid)
    return serialize(root)


def _extension(cmd: etree._Element) -> etree._Element:
    ext = cmd.find(ns.q(ns.EPP, "extension"))
    return ext if ext is not None else sub(cmd, ns.EPP, "extension")


def _pw(value: str, what: str) -> str:
    if not 6 <= len(value) <= 16:
        raise ValueError(f"{what} must be 6-16 characters (RFC 5730 pwType)")
    return value


def _check_statuses(statuses: Iterable[str], allowed: frozenset[str], what: str) -> list[str]:
    out = list(statuses)
    bad = [s for s in out if s not in allowed]
    if bad:
        raise ValueError(f"registrar may not set {what} statuses {bad}")
    return out


def _ds(parent: etree._Element, record: DSRecord) -> None:
    el = sub(parent, ns.SECDNS, "dsData")
    sub(el, ns.SECDNS, "keyTag", str(record.key_tag))
    sub(el, ns.SECDNS, "alg", str(record.alg))
    sub(el, ns.SECDNS, "digestType", str(record.digest_type))
    sub(el, ns.SECDNS, "digest", record.digest)


def _period(parent: etree._Element, period: int, unit: PeriodUnit) -> None:
    if not 1 <= period <= 99:
        raise ValueError("period must be 1-99")
    sub(parent, ns.DOMAIN, "period", str(period), unit=unit)


def extract_cl_trid(frame: bytes) -> str | None:
    """The ``clTRID`` of a command frame (None for hello or a command without one)."""
    try:
        root = parse_xml(frame)
    except XMLSyntaxError:
        return None
    el = root.find(f"{ns.q(ns.EPP, 'command')}/{ns.q(ns.EPP, 'clTRID')}")
    return (el.text or "").strip() if el is not None else None


def describe(frame: bytes) -> str:
    """Short, secret-free description of a frame for logs, e.g. ``domain:update``."""
    try:
        root = parse_xml(frame)
    except XMLSyntaxError:
        return "<malformed>"
    body = root[0] if len(root) else None
    if body is None:
        return "<empty>"
    kind = etree.QName(body).localname
    if kind != "command" or not len(body):
        return kind
    verb_el = body[0]
    verb = etree.QName(verb_el).localname
    if len(verb_el) and isinstance(verb_el[0].tag, str):
        obj = etree.QName(verb_el[0]).namespace or ""
        if obj != ns.EPP:
            return f"{ns.PREFIXES.get(obj, obj)}:{verb}"
    return verb


# --------------------------------------------------------------------------- session


def hello() -> bytes:
    """``<hello/>`` (answered with a greeting; has no clTRID)."""
    root = epp_root()
    sub(root, ns.EPP, "hello")
    return serialize(root)


def choose_services(
    greeting: Greeting,
    wanted_obj: Iterable[str] = ns.OBJECT_URIS,
    wanted_ext: Iterable[str] = ns.EXTENSION_URIS,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Intersect what we want with what the greeting offers (our order is kept)."""
    obj = tuple(u for u in wanted_obj if u in greeting.obj_uris)
    ext = tuple(u for u in wanted_ext if u in greeting.ext_uris)
    return obj, ext


def login(
    cl_id: str,
    password: str,
    *,
    obj_uris: Iterable[str],
    ext_uris: Iterable[str] = (),
    new_password: str | None = None,
    lang: str = "en",
    cl_trid: str | None = None,
) -> bytes:
    """``<login>`` with version 1.0 and the given services."""
    objs = list(obj_uris)
    if not objs:
        raise ValueError("login needs at least one objURI")
    root, cmd, el = _command("login")
    sub(el, ns.EPP, "clID", cl_id)
    sub(el, ns.EPP, "pw", _pw(password, "password"))
    if new_password is not None:
        sub(el, ns.EPP, "newPW", _pw(new_password, "new password"))
    opts = sub(el, ns.EPP, "options")
    sub(opts, ns.EPP, "version", "1.0")
    sub(opts, ns.EPP, "lang", lang)
    svcs = sub(el, ns.EPP, "svcs")
    for uri in objs:
        sub(svcs, ns.EPP, "objURI", uri)
    exts = list(ext_uris)
    if exts:
        se = sub(svcs, ns.EPP, "svcExtension")
        for uri in exts:
            sub(se, ns.EPP, "extURI", uri)
    return _finish(root, cmd, cl_trid)


def logout(*, cl_trid: str | None = None) -> bytes:
    """``<logout/>``."""
    root, cmd, _ = _command("logout")
    return _finish(root, cmd, cl_trid)


def poll_request(*, cl_trid: str | None = None) -> bytes:
    """``<poll op="req"/>``."""
    root, cmd, _ = _command("poll", op="req")
    return _finish(root, cmd, cl_trid)


def poll_ack(msg_id: str, *, cl_trid: str | None = None) -> bytes:
    """``<poll op="ack" msgID="..."/>``."""
    root, cmd, _ = _command("poll", op="ack", msgID=msg_id)
    return _finish(root, cmd, cl_trid)


# --------------------------------------------------------------------------- domain


def domain_check(names: Iterable[str], *, cl_trid: str | None = None) -> bytes:
    """``domain:check`` for one or more names."""
    root, cmd, verb = _command("check")
    el = sub(verb, ns.DOMAIN, "check")
    items = [to_ascii(n) for n in names]
    if not items:
        raise ValueError("nothing to check")
    for n in items:
        sub(el, ns.DOMAIN, "name", n)
    return _finish(root, cmd, cl_trid)


def domain_info(name: str, *, hosts: HostsFilter = "all", auth_pw: str | None = None,
                cl_trid: str | None = None) -> bytes:
    """``domain:info``; ``auth_pw`` is only needed for someone else's domain."""
    root, cmd, verb = _command("info")
    el = sub(verb, ns.DOMAIN, "info")
    sub(el, ns.DOMAIN, "name", to_ascii(name), hosts=hosts)
    if auth_pw is not None:
        sub(sub(el, ns.DOMAIN, "authInfo"), ns.DOMAIN, "pw", auth_pw)
    return _finish(root, cmd, cl_trid)


def _ns(parent: etree._Element, hosts: list[str]) -> None:
    if hosts:
        el = sub(parent, ns.DOMAIN, "ns")
        for h in hosts:
            sub(el, ns.DOMAIN, "hostObj", h)


def domain_create(
    name: str,
    auth_pw: str,
    *,
    period: int | None = 1,
    period_unit: PeriodUnit = "y",
    nameservers: Iterable[str] = (),
    registrant: str | None = None,
    contacts: Iterable[tuple[ContactType, str]] = (),
    ds: Iterable[DSRecord] = (),
    cl_trid: str | None = None,
) -> bytes:
    """``domain:create`` (host-object model) with an optional ``secDNS:create``."""
    root, cmd, verb = _command("create")
    el = sub(verb, ns.DOMAIN, "create")
    sub(el, ns.DOMAIN, "name", to_ascii(name))
    if period is not None:
        _period(el, period, period_unit)
    _ns(el, [to_ascii(h) for h in nameservers])
    if registrant is not None:
        sub(el, ns.DOMAIN, "registrant", registrant)
    for ctype, cid in contacts:
        sub(el, ns.DOMAIN, "contact", cid, type=ctype)
    sub(sub(el, ns.DOMAIN, "authInfo"), ns.DOMAIN, "pw", auth_pw)
    records = list(ds)
    if records:
        sd = sub(_extension(cmd), ns.SECDNS, "create")
        for r in records:
            _ds(sd, r)
    return _finish(root, cmd, cl_trid)


def domain_update(
    name: str,
    *,
    add_ns: Iterable[str] = (),
    rem_ns: Iterable[str] = (),
    add_contacts: Iterable[tuple[ContactType, str]] = (),
    rem_contacts: Iterable[tuple[ContactType, str]] = (),
    add_statuses: Iterable[str] = (),
    rem_statuses: Iterable[str] = (),
    registrant: str | None = None,
    auth_pw: str | None = None,
    add_ds: Iterable[DSRecord] = (),
    rem_ds: Iterable[DSRecord] = (),
    rem_all_ds: bool = False,
    urgent: bool = False,
    cl_trid: str | None = None,
) -> bytes:
    """One ``domain:update`` with add/rem/chg and, for DS changes, ``secDNS:update``.

    ``registrant=""`` clears the registrant (``chg``); ``rem_all_ds`` sends
    ``<secDNS:rem><secDNS:all>true``. Only ``client*`` statuses are accepted.
    """
    adds = ([to_ascii(h) for h in add_ns], list(add_contacts),
            _check_statuses(add_statuses, CLIENT_DOMAIN_STATUSES, "domain"))
    rems = ([to_ascii(h) for h in rem_ns], list(rem_contacts),
            _check_statuses(rem_statuses, CLIENT_DOMAIN_STATUSES, "domain"))
    ds_add, ds_rem = list(add_ds), list(rem_ds)
    if rem_all_ds and ds_rem:
        raise ValueError("rem_all_ds and rem_ds are mutually exclusive")
    has_chg = registrant is not None or auth_pw is not None
    has_ds = bool(ds_add or ds_rem or rem_all_ds)
    if not (any(adds) or any(rems) or has_chg or has_ds):
        raise ValueError("domain update changes nothing")
    root, cmd, verb = _command("update")
    el = sub(verb, ns.DOMAIN, "update")
    sub(el, ns.DOMAIN, "name", to_ascii(name))
    for tag, (hosts, contacts, statuses) in (("add", adds), ("rem", rems)):
        if not (hosts or contacts or statuses):
            continue
        part = sub(el, ns.DOMAIN, tag)
        _ns(part, hosts)
        for ctype, cid in contacts:
            sub(part, ns.DOMAIN, "contact", cid, type=ctype)
        for s in statuses:
            sub(part, ns.DOMAIN, "status", s=s)
    if has_chg:
        chg = sub(el, ns.DOMAIN, "chg")
        if registrant is not None:
            sub(chg, ns.DOMAIN, "registrant", registrant)
        if auth_pw is not None:
            sub(sub(chg, ns.DOMAIN, "authInfo"), ns.DOMAIN, "pw", auth_pw)
    if has_ds:
        attrs = {"urgent": "true"} if urgent else {}
        su = sub(_extension(cmd), ns.SECDNS, "update", **attrs)
        if rem_all_ds or ds_rem:
            rem = sub(su, ns.SECDNS, "rem")
            if rem_all_ds:
                sub(rem, ns.SECDNS, "all", "true")
            for r in ds_rem:
                _ds(rem, r)
        if ds_add:
            add = sub(su, ns.SECDNS, "add")
            for r in ds_add:
                _ds(add, r)
    return _finish(root, cmd, cl_trid)


def domain_renew(name: str, current_expiry: date, *, period: int = 1, period_unit: PeriodUnit = "y",
                 cl_trid: str | None = None) -> bytes:
    """``domain:renew`` (``curExpDate`` guards against double renewals)."""
    root, cmd, verb = _command("renew")
    el = sub(verb, ns.DOMAIN, "renew")
    sub(el, ns.DOMAIN, "name", to_ascii(name))
    sub(el, ns.DOMAIN, "curExpDate", current_expiry.isoformat())
    _period(el, period, period_unit)
    return _finish(root, cmd, cl_trid)


def domain_delete(name: str, *, cl_trid: str | None = None) -> bytes:
    """``domain:delete``."""
    root, cmd, verb = _command("delete")
    sub(sub(verb, ns.DOMAIN, "delete"), ns.DOMAIN, "name", to_ascii(name))
    return _finish(root, cmd, cl_trid)


def domain_restore_request(name: str, *, cl_trid: str | None = None) -> bytes:
    """RGP restore request: ``domain:update`` with empty ``chg`` + ``rgp:restore op="request"``."""
    root, cmd, verb = _command("update")
    el = sub(verb, ns.DOMAIN, "update")
    sub(el, ns.DOMAIN, "name", to_ascii(name))
    sub(el, ns.DOMAIN, "chg")
    sub(sub(_extension(cmd), ns.RGP, "update"), ns.RGP, "restore", op="request")
    return _finish(root, cmd, cl_trid)


# --------------------------------------------------------------------------- host


def host_check(names: Iterable[str], *, cl_trid: str | None = None) -> bytes:
    """``host:check``."""
    root, cmd, verb = _command("check")
    el = sub(verb, ns.HOST, "check")
    items = [to_ascii(n) for n in names]
    if not items:
        raise ValueError("nothing to check")
    for n in items:
        sub(el, ns.HOST, "name", n)
    return _finish(root, cmd, cl_trid)


def host_info(name: str, *, cl_trid: str | None = None) -> bytes:
    """``host:info``."""
    root, cmd, verb = _command("info")
    sub(sub(verb, ns.HOST, "info"), ns.HOST, "name", to_ascii(name))
    return _finish(root, cmd, cl_trid)


def _addrs(parent: etree._Element, addresses: Iterable[str]) -> None:
    for ip in addresses:
        addr, version = host_address(ip)
        sub(parent, ns.HOST, "addr", addr, ip=version)


def host_create(name: str, addresses: Iterable[str] = (), *, cl_trid: str | None = None) -> bytes:
    """``host:create``; the IP version attribute is derived from each address."""
    root, cmd, verb = _command("create")
    el = sub(verb, ns.HOST, "create")
    sub(el, ns.HOST, "name", to_ascii(name))
    _addrs(el, addresses)
    return _finish(root, cmd, cl_trid)


def host_update(
    name: str,
    *,
    add_addresses: Iterable[str] = (),
    rem_addresses: Iterable[str] = (),
    add_statuses: Iterable[str] = (),
    rem_statuses: Iterable[str] = (),
    new_name: str | None = None,
    cl_trid: str | None = None,
) -> bytes:
    """``host:update``: add/rem addresses and client statuses, optional rename."""
    add_a, rem_a = list(add_addresses), list(rem_addresses)
    add_s = _check_statuses(add_statuses, CLIENT_HOST_STATUSES, "host")
    rem_s = _check_statuses(rem_statuses, CLIENT_HOST_STATUSES, "host")
    if not (add_a or rem_a or add_s or rem_s or new_name):
        raise ValueError("host update changes nothing")
    root, cmd, verb = _command("update")
    el = sub(verb, ns.HOST, "update")
    sub(el, ns.HOST, "name", to_ascii(name))
    for tag, addrs, statuses in (("add", add_a, add_s), ("rem", rem_a, rem_s)):
        if addrs or statuses:
            part = sub(el, ns.HOST, tag)
            _addrs(part, addrs)
            for s in statuses:
                sub(part, ns.HOST, "status", s=s)
    if new_name:
        sub(sub(el, ns.HOST, "chg"), ns.HOST, "name", to_ascii(new_name))
    return _finish(root, cmd, cl_trid)


def host_delete(name: str, *, cl_trid: str | None = None) -> bytes:
    """``host:delete``."""
    root, cmd, verb = _command("delete")
    sub(sub(verb, ns.HOST, "delete"), ns.HOST, "name", to_ascii(name))
    return _finish(root, cmd, cl_trid)


# --------------------------------------------------------------------------- contact


def contact_check(ids: Iterable[str], *, cl_trid: str | None = None) -> bytes:
    """``contact:check``."""
    root, cmd, verb = _command("check")
    el = sub(verb, ns.CONTACT, "check")
    items = list(ids)
    if not items:
        raise ValueError("nothing to check")
    for i in items:
        sub(el, ns.CONTACT, "id", i)
    return _finish(root, cmd, cl_trid)


def contact_info(contact_id: str, *, auth_pw: str | None = None, cl_trid: str | None = None) -> bytes:
    """``contact:info``."""
    root, cmd, verb = _command("info")
    el = sub(verb, ns.CONTACT, "info")
    sub(el, ns.CONTACT, "id", contact_id)
    if auth_pw is not None:
        sub(sub(el, ns.CONTACT, "authInfo"), ns.CONTACT, "pw", auth_pw)
    return _finish(root, cmd, cl_trid)


def _postal(parent: etree._Element, data: ContactData, ptype: PostalType) -> None:
    pi = sub(parent, ns.CONTACT, "postalInfo", type=ptype)
    sub(pi, ns.CONTACT, "name", data.name)
    if data.org is not None:
        sub(pi, ns.CONTACT, "org", data.org)
    addr = sub(pi, ns.CONTACT, "addr")
    for line in data.street:
        sub(addr, ns.CONTACT, "street", line)
    sub(addr, ns.CONTACT, "city", data.city)
    if data.sp is not None:
        sub(addr, ns.CONTACT, "sp", data.sp)
    if data.pc is not None:
        sub(addr, ns.CONTACT, "pc", data.pc)
    sub(addr, ns.CONTACT, "cc", data.cc.upper())


def _phone(parent: etree._Element, tag: str, number: str | None, ext: str | None,
           *, clear_if_none: bool) -> None:
    if number is None:
        if clear_if_none:
            sub(parent, ns.CONTACT, tag)
        return
    attrs = {"x": ext} if ext else {}
    sub(parent, ns.CONTACT, tag, number, **attrs)


def _disclose(parent: etree._Element, hidden: frozenset[str], ptype: PostalType) -> None:
    if not hidden:
        return
    el = sub(parent, ns.CONTACT, "disclose", flag="0")
    for f in DISCLOSE_FIELDS:
        if f in hidden:
            if f in ("name", "org", "addr"):
                sub(el, ns.CONTACT, f, type=ptype)
            else:
                sub(el, ns.CONTACT, f)


def contact_create(data: ContactData, auth_pw: str, *, cl_trid: str | None = None) -> bytes:
    """``contact:create`` with one postal block (``int`` if all ASCII, else ``loc``).

    Fields in ``data.disclose_hidden`` are listed in ``<contact:disclose flag="0">``.
    """
    ptype = data.postal_type
    root, cmd, verb = _command("create")
    el = sub(verb, ns.CONTACT, "create")
    sub(el, ns.CONTACT, "id", data.id)
    _postal(el, data, ptype)
    _phone(el, "voice", data.voice, data.voice_ext, clear_if_none=False)
    _phone(el, "fax", data.fax, data.fax_ext, clear_if_none=False)
    sub(el, ns.CONTACT, "email", data.email)
    sub(sub(el, ns.CONTACT, "authInfo"), ns.CONTACT, "pw", auth_pw)
    _disclose(el, data.disclose_hidden, ptype)
    return _finish(root, cmd, cl_trid)


def contact_update(
    contact_id: str,
    *,
    data: ContactData | None = None,
    add_statuses: Iterable[str] = (),
    rem_statuses: Iterable[str] = (),
    auth_pw: str | None = None,
    cl_trid: str | None = None,
) -> bytes:
    """``contact:update``. With ``data``, ``chg`` carries the FULL postal block,
    voice/fax (an empty element clears a missing one), email and the disclose list.
    """
    add_s = _check_statuses(add_statuses, CLIENT_CONTACT_STATUSES, "contact")
    rem_s = _check_statuses(rem_statuses, CLIENT_CONTACT_STATUSES, "contact")
    if data is not None and data.id != contact_id:
        raise ValueError("data.id does not match contact_id")
    if not (data is not None or add_s or rem_s or auth_pw is not None):
        raise ValueError("contact update changes nothing")
    root, cmd, verb = _command("update")
    el = sub(verb, ns.CONTACT, "update")
    sub(el, ns.CONTACT, "id", contact_id)
    for tag, statuses in (("add", add_s), ("rem", rem_s)):
        if statuses:
            part = sub(el, ns.CONTACT, tag)
            for s in statuses:
                sub(part, ns.CONTACT, "status", s=s)
    if data is not None or auth_pw is not None:
        chg = sub(el, ns.CONTACT, "chg")
        if data is not None:
            ptype = data.postal_type
            _postal(chg, data, ptype)
            _phone(chg, "voice", data.voice, data.voice_ext, clear_if_none=True)
            _phone(chg, "fax", data.fax, data.fax_ext, clear_if_none=True)
            sub(chg, ns.CONTACT, "email", data.email)
        if auth_pw is not None:
            sub(sub(chg, ns.CONTACT, "authInfo"), ns.CONTACT, "pw", auth_pw)
        if data is not None:
            _disclose(chg, data.disclose_hidden, data.postal_type)
    return _finish(root, cmd, cl_trid)


def contact_delete(contact_id: str, *, cl_trid: str | None = None) -> bytes:
    """``contact:delete``."""
    root, cmd, verb = _command("delete")
    sub(sub(verb, ns.CONTACT, "delete"), ns.CONTACT, "id", contact_id)
    return _finish(root, cmd, cl_trid)
