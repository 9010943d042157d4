"""Read-compare-write, the compare part: what must change at the registry (pure functions).

Inputs are what the registry returned (``DomainInfo`` / ``HostInfo`` / ``ContactInfo``) and what it
should hold (:mod:`registrar.sync.payload`). Outputs are the add/rem/chg sets of ONE update per
object, or nothing when nothing differs -- which is what makes a second run send no transform.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from lxml import etree

from registrar.epp import commands, ns
from registrar.epp.types import (
    DISCLOSE_FIELDS,
    ContactData,
    ContactInfo,
    ContactType,
    DomainInfo,
    DSRecord,
    HostAddress,
    HostInfo,
    host_address,
)
from registrar.epp.xmlutil import parse_xml, serialize, sub
from registrar.sync.payload import CLIENT_STATUSES, DesiredDomain, DesiredHost

#: Registry statuses that make an update fail (2304); the domain is skipped and retried next run.
UPDATE_BLOCKING = frozenset({"serverUpdateProhibited", "pendingDelete", "pendingTransfer", "pendingUpdate",
                             "pendingCreate"})
#: Registry statuses that make a delete fail (2304).
DELETE_BLOCKING = frozenset({"serverDeleteProhibited", "pendingTransfer"})


def ds_text(ds: DSRecord) -> str:
    """``KEYTAG ALG DIGESTTYPE DIGEST`` (DS data is public)."""
    return f"{ds.key_tag} {ds.alg} {ds.digest_type} {ds.digest}"


@dataclass(frozen=True)
class DomainChanges:
    """The content of one ``domain:update`` (empty = nothing to send)."""

    add_ns: tuple[str, ...] = ()
    rem_ns: tuple[str, ...] = ()
    add_statuses: tuple[str, ...] = ()
    rem_statuses: tuple[str, ...] = ()
    add_contacts: tuple[tuple[ContactType, str], ...] = ()
    rem_contacts: tuple[tuple[ContactType, str], ...] = ()
    registrant: str | None = None
    #: New authInfo (a secret: never in repr, never described).
    auth_pw: str | None = field(default=None, repr=False)
    add_ds: tuple[DSRecord, ...] = ()
    rem_ds: tuple[DSRecord, ...] = ()

    @property
    def empty(self) -> bool:
        """True when the registry already holds what it should."""
        return not (self.add_ns or self.rem_ns or self.add_statuses or self.rem_statuses or self.add_contacts
                    or self.rem_contacts or self.registrant is not None or self.auth_pw is not None
                    or self.add_ds or self.rem_ds)

    def frame(self, name: str, cl_trid: str) -> bytes:
        """The ``domain:update`` frame."""
        return commands.domain_update(
            name, add_ns=self.add_ns, rem_ns=self.rem_ns, add_statuses=self.add_statuses,
            rem_statuses=self.rem_statuses, add_contacts=self.add_contacts, rem_contacts=self.rem_contacts,
            registrant=self.registrant, auth_pw=self.auth_pw, add_ds=self.add_ds, rem_ds=self.rem_ds,
            cl_trid=cl_trid)

    def describe(self) -> str:
        """Human-readable, secret-free summary, e.g. ``ns +ns3.x.net -ns1.x.net; status +clientHold``."""
        parts = []
        if self.add_ns or self.rem_ns:
            parts.append("ns " + " ".join([*(f"+{h}" for h in self.add_ns), *(f"-{h}" for h in self.rem_ns)]))
        if self.add_statuses or self.rem_statuses:
            parts.append("status " + " ".join([*(f"+{s}" for s in self.add_statuses),
                                                *(f"-{s}" for s in self.rem_statuses)]))
        if self.registrant is not None:
            parts.append(f"registrant -> {self.registrant}")
        if self.add_contacts or self.rem_contacts:
            parts.append("contact " + " ".join([*(f"+{t}:{c}" for t, c in self.add_contacts),
                                                 *(f"-{t}:{c}" for t, c in self.rem_contacts)]))
        if self.add_ds or self.rem_ds:
            parts.append("ds " + " ".join([*(f"+[{ds_text(d)}]" for d in self.add_ds),
                                            *(f"-[{ds_text(d)}]" for d in self.rem_ds)]))
        if self.auth_pw is not None:
            parts.append("authInfo changed (value not shown)")
        return "; ".join(parts)

    def with_unlock(self) -> DomainChanges:
        """The same update, also removing ``clientUpdateProhibited`` (allowed in the same update)."""
        if "clientUpdateProhibited" in self.rem_statuses:
            return self
        return replace(self, rem_statuses=(*self.rem_statuses, "clientUpdateProhibited"))


def domain_changes(desired: DesiredDomain, info: DomainInfo, *, thick: bool, auth_info: str | None,
                   unavailable_hosts: frozenset[str] = frozenset()) -> DomainChanges:
    """What one ``domain:update`` must change so that the registry holds ``desired``.

    ``unavailable_hosts``: name servers that do not exist at the registry (yet) and so cannot be
    added now. In the ``minimum`` model registrant and contacts are not compared (never sent).
    """
    current_ns = [h.lower() for h in info.nameservers]
    wanted_ns = [h.lower() for h in desired.nameservers]
    add_ns = tuple(h for h in wanted_ns if h not in current_ns and h not in unavailable_hosts)
    rem_ns = tuple(h for h in current_ns if h not in wanted_ns)
    have_st, want_st = info.client_statuses, desired.client_statuses & CLIENT_STATUSES
    add_st = tuple(sorted(want_st - have_st))
    rem_st = tuple(sorted(have_st - want_st))
    add_ds = tuple(d for d in desired.ds if d not in info.ds)
    rem_ds = tuple(d for d in info.ds if d not in desired.ds)
    registrant = None
    add_c: tuple[tuple[ContactType, str], ...] = ()
    rem_c: tuple[tuple[ContactType, str], ...] = ()
    if thick:
        if desired.registrant is not None and info.registrant != desired.registrant.id:
            registrant = desired.registrant.id
        wanted_c: list[tuple[ContactType, str]] = [("tech", desired.tech.id)] if desired.tech else []
        add_c = tuple(c for c in wanted_c if c not in info.contacts)
        rem_c = tuple(c for c in info.contacts if c not in wanted_c)
    auth = auth_info if (auth_info and info.auth_pw is not None and info.auth_pw != auth_info) else None
    return DomainChanges(add_ns=add_ns, rem_ns=rem_ns, add_statuses=add_st, rem_statuses=rem_st,
                         add_contacts=add_c, rem_contacts=rem_c, registrant=registrant, auth_pw=auth,
                         add_ds=add_ds, rem_ds=rem_ds)


# ------------------------------------------------------------------------------------------ hosts


def _addresses(values: tuple[str, ...]) -> list[HostAddress]:
    out: list[HostAddress] = []
    for v in values:
        a = host_address(v)
        if a not in out:
            out.append(a)
    return out


def host_address_changes(desired: DesiredHost, info: HostInfo) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(addresses to add, addresses to remove) for a host we sponsor."""
    want = _addresses(desired.addresses)
    have = _addresses(tuple(a for a, _ in info.addresses))
    return (tuple(addr for addr, v in want if (addr, v) not in have),
            tuple(addr for addr, v in have if (addr, v) not in want))


# --------------------------------------------------------------------------------------- contacts


def contact_differences(desired: ContactData, info: ContactInfo) -> list[str]:
    """Names of the fields where the registry's contact differs from ``desired`` (empty = equal)."""
    have = info.data
    out = [f for f in ("name", "org", "street", "city", "sp", "pc", "voice", "voice_ext", "fax", "fax_ext",
                       "email") if getattr(have, f) != getattr(desired, f)]
    if have.cc.upper() != desired.cc.upper():
        out.append("cc")
    if have.disclose_hidden != desired.disclose_hidden:
        out.append("disclose")
    if desired.postal_type not in info.postal_types:
        out.append("postalInfo type")
    return out


def contact_update_frame(desired: ContactData, info: ContactInfo, *, cl_trid: str) -> bytes:
    """A ``contact:update`` that makes the registry's contact equal to ``desired``.

    On top of :func:`registrar.epp.commands.contact_update` (full postal block, voice, fax, email,
    ``disclose flag="0"``): a stale ``loc`` block left next to a new ``int`` one is overwritten with
    the same (ASCII) data, and when nothing is to be hidden any more an earlier ``flag="0"`` list is
    replaced by ``flag="1"`` for the fields sent (all of them public by then).
    """
    frame = commands.contact_update(desired.id, data=desired, cl_trid=cl_trid)
    needs_loc = desired.postal_type == "int" and "loc" in info.postal_types
    needs_public = not desired.disclose_hidden and bool(info.data.disclose_hidden)
    if not (needs_loc or needs_public):
        return frame
    root = parse_xml(frame)
    chg = root.find(f".//{ns.q(ns.CONTACT, 'chg')}")
    if chg is None:  # pragma: no cover - the builder always writes chg with data
        return frame
    if needs_loc:
        block = chg.find(ns.q(ns.CONTACT, "postalInfo"))
        if block is not None:
            loc = etree.fromstring(etree.tostring(block))
            loc.set("type", "loc")
            block.addnext(loc)
    if needs_public:
        dis = sub(chg, ns.CONTACT, "disclose", flag="1")
        present = {"name": True, "org": desired.org is not None, "addr": True, "voice": desired.voice is not None,
                   "fax": desired.fax is not None, "email": True}
        for f in DISCLOSE_FIELDS:
            if present[f]:
                if f in ("name", "org", "addr"):
                    sub(dis, ns.CONTACT, f, type=desired.postal_type)
                else:
                    sub(dis, ns.CONTACT, f)
    return serialize(root)
