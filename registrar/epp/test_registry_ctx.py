"""Session and per-command context shared by the test registry's command handlers."""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar

from lxml import etree

from registrar.epp import ns
from registrar.epp.test_registry_state import RegistryState
from registrar.epp.test_registry_xml import CommandError, Result, element
from registrar.epp.types import HostAddress, host_address
from registrar.epp.xmlutil import sub


@dataclass
class Session:
    """One TLS connection to the registry."""

    id: int
    cert_fingerprint: str | None
    cl_id: str | None = None
    obj_uris: frozenset[str] = frozenset()
    ext_uris: frozenset[str] = frozenset()
    login_failures: int = 0


@dataclass
class Ctx:
    """Everything a command handler needs."""

    state: RegistryState
    session: Session
    cl_id: str
    now: datetime
    #: Children of the command's ``<extension>``.
    extensions: list[etree._Element] = field(default_factory=list)

    def ext(self, namespace: str, local: str) -> etree._Element | None:
        """The extension element ``{namespace}local`` if present."""
        for el in self.extensions:
            if el.tag == ns.q(namespace, local):
                return el
        return None

    def only_extensions(self, *allowed: tuple[str, str]) -> None:
        """2103 when an extension other than ``allowed`` (namespace, local) is present."""
        tags = {ns.q(n, local) for n, local in allowed}
        for el in self.extensions:
            if el.tag not in tags:
                raise CommandError(2103, f"extension {el.tag} not supported with this command", el)

    @property
    def model(self) -> str:
        """The registry data model."""
        return self.state.config.data_model


class _Sponsored(Protocol):
    cl_id: str


S = TypeVar("S", bound=_Sponsored)
T = TypeVar("T")


def owned(ctx: Ctx, objects: Mapping[str, S], key: str, key_el: etree._Element | None, kind: str) -> S:
    """The object ``key`` of ``objects`` if the session's registrar sponsors it (else 2303 / 2201)."""
    obj = objects.get(key)
    if obj is None:
        raise CommandError(2303, f"{kind} {key} does not exist", key_el)
    if obj.cl_id != ctx.cl_id:
        raise CommandError(2201, f"{kind} {key} is sponsored by another registrar", key_el)
    return obj


def txt(el: etree._Element | None) -> str:
    """Whitespace-stripped text of ``el`` ('' for None)."""
    return "" if el is None else (el.text or "").strip()


def find(parent: etree._Element | None, namespace: str, local: str) -> etree._Element | None:
    """First child ``{namespace}local``."""
    return None if parent is None else parent.find(ns.q(namespace, local))


def findall(parent: etree._Element | None, namespace: str, local: str) -> list[etree._Element]:
    """All children ``{namespace}local``."""
    return [] if parent is None else list(parent.iterfind(ns.q(namespace, local)))


def add_months(value: datetime, months: int) -> datetime:
    """``value`` plus ``months`` calendar months (day clamped to month end)."""
    total = value.month - 1 + months
    year, month = value.year + total // 12, total % 12 + 1
    day = min(value.day, calendar.monthrange(year, month)[1])
    return value.replace(year=year, month=month, day=day)


def period_months(el: etree._Element | None, *, default_years: int = 1) -> int:
    """Months of a ``<domain:period>`` (2004 outside 1-10 years)."""
    if el is None:
        return default_years * 12
    value = int(txt(el))
    months = value * 12 if el.get("unit") == "y" else value
    if not 12 <= months <= 120:
        raise CommandError(2004, "period must be between 1 and 10 years", el)
    return months


def addresses(els: Iterable[etree._Element]) -> list[HostAddress]:
    """Parse ``<host:addr>`` elements; 2005 for a bad IP or an IP/attribute mismatch."""
    out: list[HostAddress] = []
    for el in els:
        try:
            addr = host_address(txt(el))
        except ValueError:
            raise CommandError(2005, "invalid IP address", el) from None
        if addr[1] != el.get("ip", "v4"):
            raise CommandError(2005, "IP address version does not match the ip attribute", el)
        if addr in out:
            raise CommandError(2306, "duplicate address", el)
        out.append(addr)
    return out


def status_changes(part: etree._Element | None, namespace: str, allowed: frozenset[str]
                   ) -> list[str]:
    """Statuses in an add/rem block; 2306 for one the registrar may not set."""
    out = []
    for el in findall(part, namespace, "status"):
        s = el.get("s", "")
        if s not in allowed:
            raise CommandError(2306, f"status {s} is not client-settable", el)
        if s in out:
            raise CommandError(2306, f"duplicate status {s}", el)
        out.append(s)
    return out


def check_update_allowed(statuses: set[str], removing: Iterable[str], *,
                         blocked: Iterable[str] = ("serverUpdateProhibited", "pendingDelete")) -> None:
    """2304 when ``statuses`` forbid an update (``clientUpdateProhibited`` may be removed in it)."""
    hit = set(blocked) & statuses
    if hit:
        raise CommandError(2304, f"object status {sorted(hit)[0]} prohibits update")
    if "clientUpdateProhibited" in statuses and "clientUpdateProhibited" not in set(removing):
        raise CommandError(2304, "object status clientUpdateProhibited prohibits update")


def check_status_delta(current: set[str], add: list[str], rem: list[str]) -> None:
    """2306 for adding a present / removing an absent status (checked, not applied)."""
    for s in add:
        if s in current and s not in rem:
            raise CommandError(2306, f"status {s} already set")
    for s in rem:
        if s not in current:
            raise CommandError(2306, f"status {s} not set")


def display_statuses(statuses: set[str], *, extra: Iterable[str] = ()) -> list[str]:
    """Statuses for an info response (``ok`` when nothing else applies; ``linked`` may join it)."""
    out = sorted(statuses | set(extra))
    if not [s for s in out if s != "linked"]:
        out.append("ok")
    return sorted(out)


def check_result(el: etree._Element, namespace: str, key: str, reason_of: Callable[[str], str | None],
                 *, lower: bool = True) -> Result:
    """A ``<chkData>`` answer: one ``<cd>`` per ``key`` element, unavailable when ``reason_of`` says why."""
    chk = element(namespace, "chkData")
    for item in findall(el, namespace, key):
        value = txt(item).lower() if lower else txt(item)
        reason = reason_of(value)
        cd = sub(chk, namespace, "cd")
        sub(cd, namespace, key, value, avail="0" if reason else "1")
        if reason:
            sub(cd, namespace, "reason", reason)
    return Result(res_data=[chk])


def apply_delta(current: Iterable[T], add: Iterable[T], rem: Iterable[T], *, absent: Callable[[T], str],
                present: Callable[[T], str]) -> list[T]:
    """``current`` minus ``rem`` plus ``add``, strictly: removing what is absent or adding what is
    present is a 2306 with the message ``absent(item)`` / ``present(item)``."""
    items = list(current)
    removed = list(rem)
    for item in removed:
        if item not in items:
            raise CommandError(2306, absent(item))
    out = [i for i in items if i not in removed]
    for item in add:
        if item in out:
            raise CommandError(2306, present(item))
        out.append(item)
    return out
