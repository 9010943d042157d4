"""The registry sync job: push each registration's public record to its registry over EPP.

Per run (:func:`run_sync`), under a lock so that two runs never overlap, per registry:

1. open a session (TLS with the client certificate; the server certificate and host name are
   always verified) and log in;
2. drain the poll queue: for each message about a domain, ``info`` tells whether it is still
   ours; a domain the registry deleted or that was transferred away is recorded locally
   (``deleted_at`` + ``sponsorship_ended_at`` set, a ``not-ours`` SyncIssue, journaled) and
   reported -- rows are never deleted; then the message is acknowledged;
3. the work list: domains of the registry's TLDs changed in the journal after the cursor
   (domain entries; host entries for the domains using the host; contact and consent entries for
   the contact's domains in ``thick-public``), or every domain with ``--full`` / on the first run;
4. per domain, read-compare-write: contacts (``thick-public``) and hosts first (``info``;
   ``create`` with glue on 2303; ``update`` of our hosts' addresses), then ``domain:info``, then
   ONE ``domain:update`` with the difference -- or ``domain:create`` on 2303 -- or nothing when
   nothing differs; the ROID, statuses and expiry returned by ``info`` are stored;
5. the cursor moves over every journal entry whose domains all succeeded, in order, and never
   past a missing journal id that a transaction may still commit (``sync.late_commit_seconds``;
   ids are taken at insert, not at commit).

Result codes: 2400 retried with exponential backoff; 2500/2502 and dropped connections reconnect
and re-read the object before anything is resent; 2200/2501 stop the registry; 2201 (or an
``info`` showing another sponsor) records "not ours any more"; 2304 (or a blocking registry status)
skips the domain, which is retried next run; any other failure fails the domain (the cursor stays
before it) and the run goes on.

Deletes: a registration staff deleted (``deleted_at`` set, EPP status ``pendingDelete``) is
deleted at the registry (``domain:delete``, after removing a blocking ``clientDeleteProhibited``
and deleting its subordinate hosts); a registration restored locally while the registry holds it
in its redemption period gets an RGP restore request. A domain whose sponsorship ended otherwise
(transferred away, deleted by the registry) is never touched again.

``--dry-run`` connects and reads (``info``, ``poll`` without ``ack``) but sends no transform,
writes nothing locally and does not move the cursor; it reports the changes it would send.
"""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from registrar.config import Config, RegistryConfig
from registrar.epp import commands, ns, schema
from registrar.epp.client import EppCommandError, EppInvalidFrame
from registrar.epp.names import is_subordinate
from registrar.epp.responses import (
    ResponseParseError,
    parse_contact_info,
    parse_domain_info,
    parse_host_info,
    parse_poll,
)
from registrar.epp.types import ContactData, ContactType, DomainInfo, HostInfo, PollMessage, Response
from registrar.epp.xmlutil import redact
from registrar.storage import Database, utcnow
from registrar.sync.diff import (
    DELETE_BLOCKING,
    UPDATE_BLOCKING,
    DomainChanges,
    contact_differences,
    contact_update_frame,
    domain_changes,
    ds_text,
    host_address_changes,
)
from registrar.sync.local import CursorTracker, LocalDomain, LocalStore, served_tld, superordinate
from registrar.sync.payload import DesiredDomain, DesiredHost, epp_contact_id
from registrar.sync.report import DomainOutcome, RegistryReport, SyncReport
from registrar.sync.session import Reconnected, RegistrySession, RegistryStopped, SessionOptions, read_password

log = logging.getLogger(__name__)

#: Exit code of ``registrar sync`` when another run holds the lock (EX_TEMPFAIL).
EXIT_LOCKED = 75
#: The cursor is saved after this many domains (and at the end of each registry).
CURSOR_SAVE_EVERY = 200
MAX_POLL_MESSAGES = 10_000

Progress = Callable[[str, int], AbstractContextManager[Callable[[], None]]]


class SyncLocked(Exception):
    """Another sync run holds the lock."""


class DomainFailed(Exception):
    """The domain cannot be synced in this run (the message says why)."""


@contextmanager
def sync_lock(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold an exclusive ``flock`` on ``path`` (relative to the working directory) or raise :class:`SyncLocked`."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SyncLocked(f"another `registrar sync` run holds the lock {p}; try again later") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield p
    finally:
        os.close(fd)


@dataclass
class SyncOptions:
    """Knobs for tests and the CLI (the retry policy itself comes from ``[sync]``)."""

    #: Called with the backoff delay; tests pass a no-op.
    sleep: Callable[[float], None] = time.sleep
    #: Called after every EPP command with its kind; a test may raise from it to "kill" the run.
    on_command: Callable[[str], None] | None = None
    #: ``progress(registry, total)`` -> context manager yielding a ``tick()`` callable.
    progress: Progress | None = None
    #: Validate every outgoing frame against the XSDs (None: when the XSDs are installed).
    validate_outgoing: bool | None = None
    #: Where EPP passwords are looked up (``password_env``).
    environ: dict[str, str] | None = None
    #: Restrict the run to these domains (A-labels); the cursor is not moved.
    only: Sequence[str] | None = None
    #: Take the ``sync.lock_file`` lock.
    lock: bool = True
    now: Callable[[], datetime] = utcnow


@dataclass
class _Acc:
    """What was done for one domain across attempts."""

    changes: list[str] = field(default_factory=list)
    frames: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: host -> (reason, superordinate domain) for name servers that could not be created.
    unavailable: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    #: A transform was sent (its outcome may be unknown if the connection dropped).
    attempted: bool = False


def _trid(fn: Callable[..., bytes], *args: object, **kwargs: object) -> Callable[[str], bytes]:
    """``build(clTRID)`` for a command builder called with ``args``/``kwargs`` (bound now, not late)."""
    def build(cl_trid: str) -> bytes:
        return fn(*args, cl_trid=cl_trid, **kwargs)
    return build


def _host_label(h: DesiredHost) -> str:
    return h.name + (f" [{' '.join(h.addresses)}]" if h.addresses else "")


class RegistryRun:
    """One registry's part of a sync run."""

    def __init__(self, config: Config, registry: RegistryConfig, db: Database, options: SyncOptions, *,
                 dry_run: bool, full: bool, actor: str) -> None:
        self.config = config
        self.registry = registry
        self.options = options
        self.dry_run = dry_run
        self.full = full
        self.thick = registry.data_model == "thick-public"
        self.cl_id = registry.client_id
        self.local = LocalStore(db, config, registry, actor=actor, dry_run=dry_run)
        self.report = RegistryReport(registry.name, registry.data_model, f"{registry.host}:{registry.port}",
                                     dry_run, full)
        self.session: RegistrySession | None = None
        #: Hosts confirmed at the registry in this run: name -> addresses.
        self._hosts_done: dict[str, tuple[str, ...]] = {}
        self._processed: set[str] = set()
        self.secdns = self.rgp = False

    # ------------------------------------------------------------------------------------ run

    def run(self) -> RegistryReport:
        """Poll, then push the work list; never raises for registry problems (see ``report.error``)."""
        tracker: CursorTracker | None = None
        validate = self.options.validate_outgoing
        if validate is None:
            validate = not schema.missing_files()
        session_options = SessionOptions(
            max_retries=self.config.sync.max_retries, backoff_base=self.config.sync.backoff_base,
            sleep=self.options.sleep, on_command=self.options.on_command, validate_outgoing=validate)
        try:
            password = read_password(self.registry, self.options.environ if self.options.environ is not None
                                     else dict(os.environ))
            run_id = f"{utcnow():%Y%m%d%H%M%S}-{secrets.token_hex(2)}"
            self.session = RegistrySession(self.registry, password, session_options,
                                           trid_prefix=f"sync-{self.registry.name[:16]}-{run_id}")
            del password
            self.session.open()
            self.secdns = self.session.supports(ns.SECDNS)
            self.rgp = self.session.supports(ns.RGP)
            self._drain_poll()
            if self.options.only is not None:
                names = list(self.options.only)
                self.report.cursor_before = self.report.cursor_after = None
            else:
                work = self.local.work_list(full=self.full)
                self.report.full = work.full
                self.report.cursor_before = work.cursor_before
                tracker = CursorTracker(work)
                names = work.names
            self._push(names, tracker)
        except RegistryStopped as exc:
            self.report.error = str(exc)
            self.local.issue("registry", self.registry.name, "stopped", str(exc), self.options.now())
        finally:
            if self.session is not None:
                self.report.commands = self.session.commands_sent
                self.report.reconnects = self.session.reconnects
                self.session.close()
            if tracker is not None and not self.dry_run:
                self.local.set_cursor(tracker.position, self.options.now())
                self.report.cursor_after = tracker.position
        return self.report

    def _push(self, names: list[str], tracker: CursorTracker | None) -> None:
        progress = self.options.progress
        cm = progress(self.registry.name, len(names)) if progress is not None else nullcontext(lambda: None)
        deferred: list[tuple[DomainOutcome, _Acc]] = []
        with cm as tick:
            for i, name in enumerate(names):
                outcome, acc = self._domain(name)
                tick()
                if any(sup is not None for _, sup in acc.unavailable.values()) and not self.dry_run:
                    deferred.append((outcome, acc))  # waits for another domain of ours: retried below
                    continue
                self._finish(self._complete(outcome, acc), tracker)
                if tracker is not None and not self.dry_run and (i + 1) % CURSOR_SAVE_EVERY == 0:
                    self.local.set_cursor(tracker.position, self.options.now())
            if deferred:
                self._retry_deferred(deferred, tracker, tick)

    @staticmethod
    def _complete(outcome: DomainOutcome, acc: _Acc) -> DomainOutcome:
        """A domain whose name servers could not all be created has failed (it is retried next run)."""
        if acc.unavailable and outcome.result in ("pushed", "unchanged"):
            outcome.result = "failed"
            outcome.reason = "; ".join(reason for reason, _ in acc.unavailable.values())
            outcome.hold = True
        return outcome

    def _retry_deferred(self, deferred: list[tuple[DomainOutcome, _Acc]], tracker: CursorTracker | None,
                        tick: Callable[[], None]) -> None:
        """Second pass for domains whose name servers waited for another domain of ours."""
        needed = sorted({sup for _, acc in deferred for _, sup in acc.unavailable.values()
                         if sup is not None and sup not in self._processed})
        for sup in needed:
            if self.local.is_live_local(sup):
                outcome, acc = self._domain(sup)
                tick()
                self._finish(self._complete(outcome, acc), tracker)
        for first, _first_acc in deferred:
            outcome, acc = self._domain(first.domain)
            tick()
            outcome.changes[:0] = first.changes
            if outcome.result == "unchanged" and first.changes:
                outcome.result = "pushed"
            self._finish(self._complete(outcome, acc), tracker)

    def _finish(self, outcome: DomainOutcome, tracker: CursorTracker | None) -> None:
        self.report.domains.append(outcome)
        if outcome.result in ("skipped", "failed"):
            self.local.issue("domain", outcome.domain, outcome.result, outcome.reason or "", self.options.now())
        if tracker is not None and not outcome.hold:
            tracker.succeeded(outcome.domain)

    # ------------------------------------------------------------------------------ commands

    def _cmd(self, build: Callable[[str], bytes], what: str) -> Response:
        assert self.session is not None
        return self.session.command(build, what)

    def _transform(self, acc: _Acc, description: str, build: Callable[[str], bytes]) -> Response | None:
        """Send a transform -- or, in a dry run, only note it."""
        what = commands.describe(build("dry-run-0"))
        if self.dry_run:
            acc.changes.append(description)
            acc.frames.append(redact(build("dry-run-0")).decode("utf-8"))
            return None
        acc.attempted = True
        try:
            resp = self._cmd(build, what)
        except Reconnected:
            acc.notes.append(f"connection lost after sending {what}; re-read before deciding again")
            raise
        acc.changes.append(description)
        return resp

    def _domain_info(self, name: str) -> DomainInfo | None:
        try:
            resp = self._cmd(lambda t: commands.domain_info(name, cl_trid=t), "domain:info")
        except EppCommandError as exc:
            if exc.code == 2303:
                return None
            raise
        return parse_domain_info(resp)

    def _host_info(self, name: str) -> HostInfo | None:
        try:
            resp = self._cmd(lambda t: commands.host_info(name, cl_trid=t), "host:info")
        except EppCommandError as exc:
            if exc.code == 2303:
                return None
            raise
        return parse_host_info(resp)

    # --------------------------------------------------------------------------------- poll

    def _drain_poll(self) -> None:
        for _ in range(MAX_POLL_MESSAGES):
            try:
                msg = parse_poll(self._cmd(lambda t: commands.poll_request(cl_trid=t), "poll:req"))
            except Reconnected:
                continue
            if msg is None:
                return
            try:
                entry = self._poll_message(msg)
            except Reconnected:
                continue
            self.report.poll.append(entry)
            if self.dry_run:
                entry["note"] = f"{msg.count} message(s) queued; not acknowledged in a dry run"
                return
            try:
                self._cmd(_trid(commands.poll_ack, msg.id), "poll:ack")
            except Reconnected:
                continue
            except EppCommandError as exc:
                if exc.code != 2303:  # 2303: already acknowledged (e.g. before a dropped connection)
                    raise RegistryStopped(f"poll ack {msg.id}: EPP {exc.code} {exc.message}") from None

    def _poll_message(self, msg: PollMessage) -> dict[str, object]:
        name = None
        if msg.transfer is not None and msg.transfer.object_type == "domain":
            name = msg.transfer.name.lower()
        elif msg.pending_action is not None and msg.pending_action.object_type == "domain":
            name = msg.pending_action.name.lower()
        entry: dict[str, object] = {"id": msg.id, "message": msg.message, "domain": name}
        if msg.transfer is not None:
            entry["transfer"] = msg.transfer.status
        if name is None or served_tld(name, self.registry.tlds) is None:
            return entry
        try:
            info = self._domain_info(name)
        except EppCommandError as exc:
            entry["action"] = f"info failed: EPP {exc.code} {exc.message}"
            return entry
        if info is None:
            kind = "deleted by the registry"
        elif info.cl_id != self.cl_id:
            kind = f"transferred to {info.cl_id}"
        else:
            if not self.dry_run:
                self.local.store_registry_state(name, info, rgp=self.rgp)
            entry["action"] = "still ours; registry state stored"
            return entry
        detail = f"poll message {msg.id}: {msg.message or ''}".strip()
        changed = self.local.end_sponsorship(name, kind, detail, self.options.now())
        entry["action"] = f"not ours any more ({kind})" + ("; sponsorship ended locally" if changed else "")
        self.report.domains.append(DomainOutcome(name, "not-ours", f"{kind} ({detail})"))
        self._processed.add(name)
        return entry

    # ------------------------------------------------------------------------------ domains

    def _domain(self, name: str) -> tuple[DomainOutcome, _Acc]:
        """Sync one domain; retried from the top (re-reading everything) after a reconnection."""
        self._processed.add(name)
        acc = _Acc()
        last = ""
        for _attempt in range(self.config.sync.max_retries + 1):
            acc.unavailable.clear()
            try:
                outcome = self._domain_once(name, acc)
            except Reconnected as exc:
                last = str(exc)
                self._hosts_done.clear()
                continue
            except DomainFailed as exc:
                outcome = DomainOutcome(name, "failed", str(exc), hold=True)
            except EppCommandError as exc:
                outcome = self._command_failed(name, exc)
            except (EppInvalidFrame, ResponseParseError, ValueError) as exc:
                outcome = DomainOutcome(name, "failed", f"{type(exc).__name__}: {exc}", hold=True)
            break
        else:
            outcome = DomainOutcome(name, "failed", f"connection lost repeatedly ({last})", hold=True)
        outcome.changes = acc.changes + outcome.changes
        outcome.frames = acc.frames
        outcome.notes = acc.notes + outcome.notes
        if outcome.result == "unchanged" and (acc.changes or acc.attempted):
            outcome.result = "pushed"
        return outcome, acc

    def _command_failed(self, name: str, exc: EppCommandError) -> DomainOutcome:
        what = f"EPP {exc.code} {exc.message}" + (f" ({'; '.join(exc.response.reasons)})"
                                                  if exc.response.reasons else "")
        if exc.code == 2304:
            return DomainOutcome(name, "skipped", f"status prohibits the change: {what}; retried next run",
                                 hold=True)
        if exc.code == 2201:
            try:
                info = self._domain_info(name)
            except EppCommandError as again:
                if again.code == 2201:  # the registry will not even show it to us: another sponsor's
                    return self._not_ours(name, f"the registry refuses us access ({what})")
                info = None
            except Reconnected:
                info = None
            if info is not None and info.cl_id != self.cl_id:
                return self._not_ours(name, f"sponsored by {info.cl_id} at the registry ({what})")
        return DomainOutcome(name, "failed", what, hold=True)

    def _not_ours(self, name: str, detail: str) -> DomainOutcome:
        self.local.end_sponsorship(name, "not ours any more", detail, self.options.now())
        return DomainOutcome(name, "not-ours", detail)

    def _domain_once(self, name: str, acc: _Acc) -> DomainOutcome:
        now = self.options.now()
        local = self.local.load(name, now)
        if local is None:
            return DomainOutcome(name, "unchanged", "not in the local database; nothing to push")
        if local.state == "ended":
            return DomainOutcome(name, "unchanged", "no longer sponsored by us (deleted or transferred); "
                                 "nothing to push")
        if local.state == "delete":
            return self._push_delete(local, acc)
        assert local.desired is not None
        return self._push_live(local, local.desired, acc)

    def _store(self, name: str, info: DomainInfo) -> None:
        if not self.dry_run and info.roid:
            self.local.store_registry_state(name, info, rgp=self.rgp)

    def _push_live(self, local: LocalDomain, desired: DesiredDomain, acc: _Acc) -> DomainOutcome:
        name = desired.name
        own = [h for h in desired.hosts if is_subordinate(h.name, name)]
        own_names = {h.name for h in own}
        if self.thick:
            for contact in (desired.registrant, desired.tech):
                if contact is not None:
                    self._ensure_contact(contact, acc)
        for h in desired.hosts:
            if h.name not in own_names:
                self._ensure_host(h, acc)
        if desired.ds and not self.secdns:
            raise DomainFailed("the registry did not offer secDNS-1.1: DS records cannot be pushed")
        info = self._domain_info(name)
        if info is not None and info.cl_id != self.cl_id:
            return self._not_ours(name, f"sponsored by {info.cl_id} at the registry")
        sent = False
        if info is None:
            info = self._create(local, desired, own_names, acc)
            sent = True
        for h in own:
            self._ensure_host(h, acc)
        if (self.rgp and local.restore_requested and "pendingDelete" in info.statuses
                and "redemptionPeriod" in info.rgp_statuses):
            # Only an explicit staff restore (journaled) asks for one: a restore costs money and undoes a
            # deletion, so a record that merely looks live while the registry holds it in redemption
            # (a registry-side deletion, imported data) never triggers it.
            self._transform(acc, f"domain:update {name}: RGP restore request (restored locally)",
                            lambda t: commands.domain_restore_request(name, cl_trid=t))
            self.local.note_restore_sent(name)
            sent = True
            if not self.dry_run:
                info = self._require_info(name)
        changes = domain_changes(desired, info, thick=self.thick, auth_info=local.auth_info,
                                 unavailable_hosts=frozenset(acc.unavailable))
        if not changes.empty:
            blocking = UPDATE_BLOCKING & set(info.statuses)
            if blocking:
                self._store(name, info)
                return DomainOutcome(name, "skipped", f"{', '.join(sorted(blocking))} at the registry: not sent "
                                     f"({changes.describe()}); retried next run", hold=True)
            self._update(name, info, desired, changes, acc)
            sent = True
        if sent and not self.dry_run:
            info = self._require_info(name)
        self._store(name, info)
        return DomainOutcome(name, "pushed" if acc.changes else "unchanged")

    def _require_info(self, name: str) -> DomainInfo:
        info = self._domain_info(name)
        if info is None:
            raise DomainFailed("the registry says the domain does not exist right after a change (2303)")
        return info

    def _create(self, local: LocalDomain, desired: DesiredDomain, own_names: set[str], acc: _Acc) -> DomainInfo:
        name = desired.name
        ns_now = [h for h in desired.nameservers if h not in own_names and h not in acc.unavailable]
        registrant = desired.registrant.id if self.thick and desired.registrant else None
        contacts: list[tuple[ContactType, str]] = [("tech", desired.tech.id)] if self.thick and desired.tech else []
        parts = [f"period {local.period_years}y"]
        if ns_now:
            parts.append("ns " + " ".join(ns_now))
        if desired.ds:
            parts.append("ds " + " ".join(f"[{ds_text(d)}]" for d in desired.ds))
        if registrant:
            parts.append(f"registrant {registrant}")
        if contacts:
            parts.append(f"tech {contacts[0][1]}")
        parts.append("authInfo (value not shown)")
        try:
            self._transform(acc, f"domain:create {name}: {'; '.join(parts)}", lambda t: commands.domain_create(
                name, local.auth_info, period=local.period_years, nameservers=ns_now, registrant=registrant,
                contacts=contacts, ds=desired.ds, cl_trid=t))
        except EppCommandError as exc:
            if exc.code != 2302:
                raise
            info = self._domain_info(name)
            if info is None or info.cl_id != self.cl_id:
                raise DomainFailed(f"the registry says {name} exists (2302) and it is sponsored by "
                                   f"{info.cl_id if info else 'someone else'}: conflict, not created") from None
            return info
        if self.dry_run:
            return DomainInfo(name=name, roid="", statuses=(), rgp_statuses=(), registrant=registrant,
                              contacts=tuple(contacts), nameservers=tuple(ns_now), subordinate_hosts=(),
                              ds=desired.ds, cl_id=self.cl_id, auth_pw=local.auth_info, has_secdns=bool(desired.ds))
        return self._require_info(name)

    def _update(self, name: str, info: DomainInfo, desired: DesiredDomain, changes: DomainChanges,
                acc: _Acc) -> None:
        relock = False
        if "clientUpdateProhibited" in info.statuses and "clientUpdateProhibited" in desired.client_statuses:
            changes = changes.with_unlock()  # the lock may be lifted in the same update, then set again
            relock = True
        self._transform(acc, f"domain:update {name}: {changes.describe()}", lambda t: changes.frame(name, t))
        if relock:
            self._transform(acc, f"domain:update {name}: status +clientUpdateProhibited (lock restored)",
                            lambda t: commands.domain_update(name, add_statuses=["clientUpdateProhibited"],
                                                             cl_trid=t))
        if self.thick:
            ours = {epp_contact_id(name, "tech"), epp_contact_id(name, "registrant")}
            for _, cid in changes.rem_contacts:
                if cid in ours:
                    try:
                        self._transform(acc, f"contact:delete {cid} (no longer used)",
                                        _trid(commands.contact_delete, cid))
                    except EppCommandError as exc:
                        acc.notes.append(f"contact {cid} not deleted: EPP {exc.code} {exc.message}")

    def _push_delete(self, local: LocalDomain, acc: _Acc) -> DomainOutcome:
        name = local.name
        info = self._domain_info(name)
        if info is None:
            return DomainOutcome(name, "unchanged", "deleted locally; the registry no longer has it")
        if info.cl_id != self.cl_id:
            return DomainOutcome(name, "unchanged", f"deleted locally; sponsored by {info.cl_id} at the registry")
        if "pendingDelete" in info.statuses:
            self._store(name, info)
            return DomainOutcome(name, "unchanged")
        blocking = DELETE_BLOCKING & set(info.statuses)
        if blocking:
            self._store(name, info)
            return DomainOutcome(name, "skipped", f"{', '.join(sorted(blocking))} at the registry: delete not "
                                 "sent; retried next run", hold=True)
        unlock = [s for s in ("clientDeleteProhibited",) if s in info.statuses and s not in local.client_statuses]
        if unlock and "clientUpdateProhibited" in info.statuses:
            unlock.append("clientUpdateProhibited")
        if unlock:
            self._transform(acc, f"domain:update {name}: status " + " ".join(f"-{s}" for s in unlock),
                            lambda t: commands.domain_update(name, rem_statuses=unlock, cl_trid=t))
        for host in info.subordinate_hosts:
            try:
                self._transform(acc, f"host:delete {host} (subordinate to the deleted domain)",
                                _trid(commands.host_delete, host))
            except EppCommandError as exc:
                if exc.code == 2303:
                    continue
                if exc.code == 2305:
                    raise DomainFailed(f"subordinate host {host} is still used by other domains at the registry; "
                                       "remove it from them first") from None
                raise
        self._transform(acc, f"domain:delete {name} (deleted locally)",
                        lambda t: commands.domain_delete(name, cl_trid=t))
        if not self.dry_run:
            after = self._domain_info(name)
            if after is not None:
                self._store(name, after)
        return DomainOutcome(name, "pushed")

    # ------------------------------------------------------------------------ hosts, contacts

    def _ensure_host(self, h: DesiredHost, acc: _Acc) -> None:
        """Make the host exist at the registry (with our glue if it is ours); note it when impossible."""
        if self._hosts_done.get(h.name) == h.addresses:
            return
        tld = served_tld(h.name, self.registry.tlds)
        sup = superordinate(h.name, self.registry.tlds)
        info = self._host_info(h.name)
        if info is None:
            if tld is not None and not h.addresses:
                acc.unavailable[h.name] = (f"name server {h.name} is under .{tld} and needs glue addresses, "
                                           "but none are recorded for it", None)
                return
            try:
                self._transform(acc, f"host:create {_host_label(h)}",
                                lambda t: commands.host_create(h.name, h.addresses, cl_trid=t))
            except EppCommandError as exc:
                if exc.code == 2303:
                    acc.unavailable[h.name] = (f"name server {h.name}: its domain {sup} does not exist at the "
                                               "registry", sup)
                    return
                if exc.code == 2201:
                    acc.unavailable[h.name] = (f"name server {h.name}: its domain {sup} is sponsored by another "
                                               "registrar, which has to create the host", None)
                    return
                if exc.code != 2302:
                    raise
                info = self._host_info(h.name)
            else:
                if not self.dry_run:
                    info = self._host_info(h.name)
                    if info is not None:
                        self.local.store_host_roid(h.name, info.roid)
                self._hosts_done[h.name] = h.addresses
                return
            if info is None:
                raise DomainFailed(f"host {h.name}: the registry says it exists (2302) but cannot show it")
        add, rem = host_address_changes(h, info)
        if add or rem:
            if tld is not None and info.cl_id == self.cl_id:
                self._transform(acc, f"host:update {h.name}: addr " + " ".join(
                    [*(f"+{a}" for a in add), *(f"-{a}" for a in rem)]),
                    lambda t: commands.host_update(h.name, add_addresses=add, rem_addresses=rem, cl_trid=t))
            elif tld is not None and h.addresses:
                acc.notes.append(f"name server {h.name} is sponsored by {info.cl_id}; its glue at the registry "
                                 "differs from ours and was left alone")
        if info.cl_id == self.cl_id:  # another registrar's host ROID is not ours to publish
            self.local.store_host_roid(h.name, info.roid)
        self._hosts_done[h.name] = h.addresses

    def _ensure_contact(self, data: ContactData, acc: _Acc) -> None:
        """Create or update one of our per-domain contact objects (``thick-public``)."""
        try:
            info = parse_contact_info(self._cmd(lambda t: commands.contact_info(data.id, cl_trid=t),
                                                "contact:info"))
        except EppCommandError as exc:
            if exc.code == 2201:
                raise DomainFailed(f"contact ID {data.id} is sponsored by another registrar") from None
            if exc.code != 2303:
                raise
            auth = secrets.token_urlsafe(12)[:16]
            hidden = f"; disclose flag=0: {', '.join(sorted(data.disclose_hidden))}" if data.disclose_hidden else ""
            try:
                self._transform(acc, f"contact:create {data.id} (public view{hidden})",
                                lambda t: commands.contact_create(data, auth, cl_trid=t))
                return
            except EppCommandError as exc2:
                if exc2.code != 2302:
                    raise
                info = parse_contact_info(self._cmd(lambda t: commands.contact_info(data.id, cl_trid=t),
                                                    "contact:info"))
        if info.cl_id != self.cl_id:
            raise DomainFailed(f"contact ID {data.id} is sponsored by {info.cl_id}")
        fields = contact_differences(data, info)
        if fields:
            self._transform(acc, f"contact:update {data.id}: {', '.join(fields)}",
                            _trid(contact_update_frame, data, info))


def run_sync(config: Config, db: Database, *, registry_names: Sequence[str] = (), dry_run: bool = False,
             full: bool = False, actor: str = "registry-sync", options: SyncOptions | None = None) -> SyncReport:
    """Run the sync for the named registries (all configured ones when empty).

    Raises :class:`SyncLocked` when another run holds ``sync.lock_file`` and ``ValueError`` for an
    unknown registry name; registry problems are reported in the returned :class:`SyncReport`.
    """
    opts = options or SyncOptions()
    known = {r.name: r for r in config.sync.registries}
    unknown = [n for n in registry_names if n not in known]
    if unknown:
        raise ValueError(f"unknown registry {unknown[0]!r} (configured: {', '.join(known) or 'none'})")
    chosen = [known[n] for n in registry_names] if registry_names else list(config.sync.registries)
    report = SyncReport(dry_run=dry_run, full=full)
    lock = sync_lock(config.sync.lock_file) if opts.lock else nullcontext()
    with lock:
        for reg in chosen:
            report.registries.append(
                RegistryRun(config, reg, db, opts, dry_run=dry_run, full=full, actor=actor).run())
    return report
