"""The sync job's side of the database: what to push, and what the registry told us.

Reads go through :func:`registrar.storage.find_domain` and the public record (contacts are never
read column by column). Writes are limited to registry-owned state (ROIDs, registry statuses and
expiry), the end of our sponsorship when the registry says a domain is not ours any more,
:class:`~registrar.models.SyncIssue` reports and the per-registry cursor. Each write is journaled
with an action starting with ``sync-`` (which the work list ignores). No row is ever deleted.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from registrar.config import Config, RegistryConfig
from registrar.epp.types import DomainInfo
from registrar.models import Contact, Domain, DomainNameserver, Host, JournalEntry, SyncCursor, SyncIssue
from registrar.publication.record import build_public_record
from registrar.storage import Database, find_domain, journal, live_first, utcnow
from registrar.sync.payload import CLIENT_STATUSES, DesiredDomain, desired_domain
from registrar.validation import EPP_STATUSES, RGP_STATUSES

#: Journal actions written by the sync job itself (never pushed back to a registry).
SYNC_ACTION_PREFIX = "sync-"
#: Locally deleted domains stay in ``--full`` for the redemption period plus the registry's purge.
DELETE_WINDOW = timedelta(days=35)
_CHUNK = 500

log = logging.getLogger(__name__)


def served_tld(name: str, tlds: Iterable[str]) -> str | None:
    """The TLD of ``name`` if the registry operates it (same rule as the payload: the last label)."""
    tld = name.rsplit(".", 1)[-1].lower()
    return tld if tld in {t.lower().strip(".") for t in tlds} else None


def superordinate(host: str, tlds: Iterable[str]) -> str | None:
    """The registrable domain a host under one of ``tlds`` belongs to (``ns1.a.test`` -> ``a.test``)."""
    if served_tld(host, tlds) is None:
        return None
    labels = host.lower().split(".")
    return ".".join(labels[-2:]) if len(labels) > 2 else None


RESTORE_ACTIONS = ("delete", "restore", "sync-restore-sent")


@dataclass(frozen=True)
class LocalDomain:
    """One registration as the sync sees it."""

    name: str
    #: ``live`` (push it), ``delete`` (deleted by staff: push the delete) or ``ended`` (not ours).
    state: str
    desired: DesiredDomain | None
    auth_info: str = field(repr=False)
    period_years: int
    client_statuses: frozenset[str]
    #: Staff restored the registration (``domain restore``) and no restore request has been sent
    #: since: the only case in which the sync asks the registry for an RGP restore.
    restore_requested: bool = False


@dataclass(frozen=True)
class WorkItem:
    """A journal entry after the cursor and the domains of this registry it affects."""

    journal_id: int
    domains: frozenset[str]


@dataclass
class WorkList:
    """Domains to sync, in order, and the journal entries that put them there."""

    names: list[str]
    entries: list[WorkItem]
    cursor_before: int | None
    snapshot: int
    full: bool
    #: The cursor may not pass this id: the entry after it is missing and may still be committed.
    hold: int | None = None


class CursorTracker:
    """Where the cursor may go: every entry up to it has all its domains pushed (in order)."""

    def __init__(self, work: WorkList) -> None:
        self._entries = work.entries
        self._start = work.cursor_before or 0
        self._snapshot = work.snapshot
        self._hold = work.hold
        self._ok: set[str] = set()
        self._i = 0

    def succeeded(self, name: str) -> None:
        """Mark a domain done; advance over every entry that is now complete."""
        self._ok.add(name)
        while self._i < len(self._entries) and self._entries[self._i].domains <= self._ok:
            self._i += 1

    @property
    def position(self) -> int:
        """The journal id the cursor may be set to (never past the work list's ``hold``)."""
        if self._i < len(self._entries):
            position = self._entries[self._i].journal_id - 1
        else:
            position = self._snapshot
        if self._hold is not None:
            position = min(position, self._hold)
        return max(self._start, position)


def open_gap_hold(ids_and_times: Sequence[tuple[int, datetime]], start: int, recent_after: datetime) -> int | None:
    """The highest id the cursor may reach when journal ids are missing after ``start``, or ``None``.

    ``ids_and_times`` are the visible entries after ``start`` as ``(id, at)``, in id order. Ids
    are taken at insert, not at commit (PostgreSQL sequences), so a missing id is either a
    transaction that rolled back or one that has not committed yet and will appear later, below
    entries already seen. A gap counts as still open when some entry after it was written after
    ``recent_after``: the transaction that took the missing id started before that entry's
    transaction took its id. The cursor stays just below the lowest open gap, so the next run
    reads from there again (re-reading the entries after it is harmless: unchanged domains send
    nothing).
    """
    hold: int | None = None
    newest_after: datetime | None = None
    for i in range(len(ids_and_times) - 1, -1, -1):
        entry_id, at = ids_and_times[i]
        newest_after = at if newest_after is None else max(newest_after, at)
        previous = ids_and_times[i - 1][0] if i > 0 else start
        if entry_id > previous + 1 and newest_after > recent_after:
            hold = previous
    return hold


def _current(name: str) -> Select[Domain]:
    """The registration the sync means by ``name``: the live row, else the most recently deleted one.

    A name has at most one live row and may have deleted rows of earlier registrations; when no row
    is live, the sync handles the latest deletion (the delete it pushes, or its end of sponsorship).
    """
    return select(Domain).where(Domain.ldh_name == name).order_by(*live_first()).limit(1)


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i:i + _CHUNK]


class LocalStore:
    """Database access of one registry's sync run."""

    def __init__(self, db: Database, config: Config, registry: RegistryConfig, *, actor: str,
                 dry_run: bool) -> None:
        self.db = db
        self.config = config
        self.registry = registry
        self.actor = actor
        self.dry_run = dry_run

    # ----------------------------------------------------------------------------- work list

    def work_list(self, *, full: bool, now: datetime | None = None) -> WorkList:
        """Domains changed in the journal after the cursor (all of them with ``full`` or no cursor).

        ``hold`` is set when a journal id after the cursor is missing and a later entry is recent
        (less than ``sync.late_commit_seconds`` before ``now``, the current time by default): the
        transaction that took it may still commit, and the cursor must not pass it.
        """
        tlds = self.registry.tlds
        thick = self.registry.data_model == "thick-public"
        now = now or utcnow()
        with self.db.transaction(readonly=True) as s:
            cursor = s.get(SyncCursor, self.registry.name)
            start = cursor.journal_id if cursor is not None else None
            snapshot = s.scalar(select(func.max(JournalEntry.id))) or 0
            rows = s.execute(
                select(JournalEntry.id, JournalEntry.object_type, JournalEntry.object_key, JournalEntry.action,
                       JournalEntry.at)
                .where(JournalEntry.id > (start or 0), JournalEntry.id <= snapshot)
                .order_by(JournalEntry.id)).all()
            window = self.config.sync.late_commit_seconds
            hold = open_gap_hold([(r.id, r.at) for r in rows], start or 0, now - timedelta(seconds=window)) \
                if window > 0 else None
            if hold is not None:
                log.info("registry %s: journal id %d is missing and may still be committed; the cursor stays "
                         "at or below %d", self.registry.name, hold + 1, hold)
            host_keys = sorted({r.object_key for r in rows if r.object_type == "host"})
            contact_keys = sorted({r.object_key for r in rows if r.object_type == "contact"}) if thick else []
            by_host: dict[str, set[str]] = {}
            for chunk in _chunks(host_keys):
                for host, dom in s.execute(
                        select(Host.ldh_name, Domain.ldh_name)
                        .join(DomainNameserver, DomainNameserver.host_id == Host.id)
                        .join(Domain, Domain.id == DomainNameserver.domain_id)
                        .where(Host.ldh_name.in_(chunk), Domain.deleted_at.is_(None))):
                    by_host.setdefault(host, set()).add(dom)
            by_contact: dict[str, set[str]] = {}
            for chunk in _chunks(contact_keys):
                ids = dict(s.execute(select(Contact.id, Contact.handle).where(Contact.handle.in_(chunk))).all())
                if not ids:
                    continue
                for reg_id, tech_id, dom in s.execute(
                        select(Domain.registrant_id, Domain.tech_id, Domain.ldh_name)
                        .where(or_(Domain.registrant_id.in_(ids), Domain.tech_id.in_(ids)),
                               Domain.deleted_at.is_(None))):
                    for cid in (reg_id, tech_id):
                        if cid in ids:
                            by_contact.setdefault(ids[cid], set()).add(dom)
            entries: list[WorkItem] = []
            names: list[str] = []
            seen: set[str] = set()
            for r in rows:
                if r.action.startswith(SYNC_ACTION_PREFIX):
                    continue
                if r.object_type == "domain":
                    affected = {r.object_key}
                elif r.object_type == "host":
                    affected = by_host.get(r.object_key, set())
                elif r.object_type == "contact":
                    affected = by_contact.get(r.object_key, set())
                else:
                    affected = set()
                affected = {d for d in affected if served_tld(d, tlds)}
                if not affected:
                    continue
                entries.append(WorkItem(r.id, frozenset(affected)))
                for d in sorted(affected):
                    if d not in seen:
                        seen.add(d)
                        names.append(d)
            everything = full or start is None
            if everything:
                cutoff = utcnow() - DELETE_WINDOW
                for name, deleted_at, statuses in s.execute(
                        select(Domain.ldh_name, Domain.deleted_at, Domain.statuses).order_by(Domain.ldh_name)):
                    if name in seen or not served_tld(name, tlds):
                        continue
                    if deleted_at is not None and not (deleted_at >= cutoff and "pendingDelete" in statuses):
                        continue
                    seen.add(name)
                    names.append(name)
            ordered = self._dependencies_first(s, names)
        return WorkList(ordered, entries, start, snapshot, everything, hold)

    def _dependencies_first(self, s: Session, names: list[str]) -> list[str]:
        """Domains whose subordinate hosts other domains in the list use come first (stable)."""
        wanted = set(names)
        providers: set[str] = set()
        for chunk in _chunks(names):
            for dom, host in s.execute(
                    select(Domain.ldh_name, Host.ldh_name)
                    .join(DomainNameserver, DomainNameserver.domain_id == Domain.id)
                    .join(Host, Host.id == DomainNameserver.host_id)
                    .where(Domain.ldh_name.in_(chunk), Domain.deleted_at.is_(None))):
                sup = superordinate(host, self.registry.tlds)
                if sup is not None and sup != dom and sup in wanted:
                    providers.add(sup)
        return sorted(names, key=lambda n: 0 if n in providers else 1)

    def is_live_local(self, name: str) -> bool:
        """True when ``name`` is a live registration of ours (used for host dependencies)."""
        with self.db.transaction(readonly=True) as s:
            return s.scalar(select(Domain.id).where(Domain.ldh_name == name, Domain.deleted_at.is_(None))) \
                is not None

    # ----------------------------------------------------------------------------- one domain

    def load(self, name: str, now: datetime) -> LocalDomain | None:
        """The registration called ``name``, rendered for this registry: the live row, else the latest deleted one."""
        with self.db.transaction(readonly=True) as s:
            d = find_domain(s, name, include_deleted=True)
            if d is None:
                return None
            client = frozenset(x for x in d.statuses if x in CLIENT_STATUSES)
            remaining = (d.registrar_expires_at - now).total_seconds() / (365.25 * 86400)
            years = min(10, max(1, math.ceil(remaining))) if remaining > 0 else 1
            if d.deleted_at is None:
                record = build_public_record(d, self.config.registrar, self.config.privacy)
                desired = desired_domain(record, self.registry, self.config.privacy)
                last = s.scalar(select(JournalEntry.action)
                                .where(JournalEntry.object_type == "domain", JournalEntry.object_key == name,
                                       JournalEntry.action.in_(RESTORE_ACTIONS))
                                .order_by(JournalEntry.id.desc()).limit(1))
                return LocalDomain(name, "live", desired, d.auth_info, years, client, last == "restore")
            state = "delete" if "pendingDelete" in d.statuses else "ended"
            return LocalDomain(name, state, None, d.auth_info, years, client)

    def store_registry_state(self, name: str, info: DomainInfo, *, rgp: bool) -> list[str]:
        """Keep what the registry returned: ROID, expiry, its (non-client) statuses, RGP statuses.

        Client statuses stay as they are locally (we are their authority; the run just pushed
        them). Returns the changed fields (journaled as ``sync-registry-state``).
        """
        if self.dry_run:
            return []
        with self.db.transaction() as s:
            d = s.scalars(_current(name).with_for_update()).one_or_none()
            if d is None:
                return []
            statuses = [x for x in d.statuses if x in CLIENT_STATUSES]
            # Only statuses we know: anything else would reach WHOIS/RDAP unmapped (RFC 5731/3915 enums).
            statuses += sorted(x for x in set(info.statuses)
                               if x not in CLIENT_STATUSES and x != "ok" and x in EPP_STATUSES)
            changed = []
            if d.registry_roid != info.roid:
                d.registry_roid = info.roid
                changed.append("registry_roid")
            if info.expires is not None and d.registry_expires_at != info.expires.replace(microsecond=0):
                d.registry_expires_at = info.expires.replace(microsecond=0)
                changed.append("registry_expires_at")
            if list(d.statuses) != statuses:
                d.statuses = statuses
                changed.append("statuses")
            known_rgp = sorted(x for x in set(info.rgp_statuses) if x in RGP_STATUSES)
            if rgp and list(d.rgp_statuses) != known_rgp:
                d.rgp_statuses = known_rgp
                changed.append("rgp_statuses")
            if changed:
                journal(s, actor=self.actor, object_type="domain", object_key=name,
                        action="sync-registry-state", fields=changed,
                        note=f"from registry {self.registry.name}")
            return changed

    def note_restore_sent(self, name: str) -> None:
        """Journal that the RGP restore request for a staff restore has been sent."""
        if self.dry_run:
            return
        with self.db.transaction() as s:
            journal(s, actor=self.actor, object_type="domain", object_key=name, action="sync-restore-sent",
                    note=f"to registry {self.registry.name}")

    def store_host_roid(self, name: str, roid: str) -> None:
        """Keep a host's registry ROID."""
        if self.dry_run:
            return
        with self.db.transaction() as s:
            h = s.scalars(select(Host).where(Host.ldh_name == name)).one_or_none()
            if h is not None and h.registry_roid != roid:
                h.registry_roid = roid
                journal(s, actor=self.actor, object_type="host", object_key=name, action="sync-registry-state",
                        fields=["registry_roid"], note=f"from registry {self.registry.name}")

    def end_sponsorship(self, name: str, kind: str, detail: str, now: datetime) -> bool:
        """The registry says ``name`` is not ours any more: stop publishing it, keep the row.

        Sets ``deleted_at`` (WHOIS/RDAP stop answering) and ``sponsorship_ended_at`` (the retention
        clock) when not set yet, journals it and records a ``not-ours`` :class:`SyncIssue`.
        Returns whether the local row changed.
        """
        if self.dry_run:
            return False
        with self.db.transaction() as s:
            d = s.scalars(_current(name).with_for_update()).one_or_none()
            changed: list[str] = []
            if d is not None:
                if d.deleted_at is None:
                    d.deleted_at = now
                    changed.append("deleted_at")
                if d.sponsorship_ended_at is None:
                    d.sponsorship_ended_at = now
                    changed.append("sponsorship_ended_at")
                if changed:
                    journal(s, actor=self.actor, object_type="domain", object_key=name, action="sync-not-ours",
                            fields=changed, note=f"{kind} (registry {self.registry.name})", at=now)
            s.add(SyncIssue(registry_name=self.registry.name, object_type="domain", object_key=name,
                            kind="not-ours", detail=f"{kind}: {detail}", at=now))
            return bool(changed)

    def issue(self, object_type: str, key: str, kind: str, detail: str, now: datetime) -> None:
        """Record a :class:`SyncIssue` (skipped, failed, stopped)."""
        if self.dry_run:
            return
        with self.db.transaction() as s:
            s.add(SyncIssue(registry_name=self.registry.name, object_type=object_type, object_key=key[:253],
                            kind=kind[:32], detail=detail, at=now))

    def set_cursor(self, position: int, now: datetime) -> None:
        """Move the cursor (never backwards)."""
        if self.dry_run:
            return
        with self.db.transaction() as s:
            cur = s.get(SyncCursor, self.registry.name, with_for_update=True)
            if cur is None:
                s.add(SyncCursor(registry_name=self.registry.name, journal_id=position, updated_at=now))
            elif position > cur.journal_id:
                cur.journal_id = position
                cur.updated_at = now
