"""The project's own EPP test registry: a TLS EPP server on 127.0.0.1 in a background thread.

It requires a client certificate issued by the given CA, validates EVERY
inbound frame against the XSDs (2001 + the failure recorded), enforces session,
ownership, existence, status, host and data-model rules (see the
``test_registry_*`` modules), keeps per-registrar poll queues, records every
frame, and offers fault injection::

    with EppTestRegistry(config, cert_file=..., key_file=..., ca_file=...) as reg:
        reg.faults.drop_after_apply(when=command_is("update", "domain"))
        ...  # drive the client against reg.host / reg.port
        assert not reg.transforms()
"""

from __future__ import annotations

import copy
import itertools
import logging
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

from lxml import etree

from registrar.epp import ns, schema
from registrar.epp.framing import FrameDecoder, FrameError, encode_frame
from registrar.epp.test_registry_ctx import Session, add_months
from registrar.epp.test_registry_handlers import Processor, cl_trid_of
from registrar.epp.test_registry_state import (
    RegistryConfig,
    RegistryState,
    StoredContact,
    StoredDomain,
    StoredHost,
)
from registrar.epp.test_registry_xml import element
from registrar.epp.testca import cert_fingerprint
from registrar.epp.types import DSRecord, host_address
from registrar.epp.xmlutil import XMLSyntaxError, format_datetime, parse_xml, serialize, sub

log = logging.getLogger(__name__)

#: Command kinds that change registry data.
TRANSFORM_KINDS = frozenset({"create", "update", "delete", "renew", "transfer"})
_ACCEPT_TIMEOUT = 0.5


@dataclass(frozen=True)
class CommandSummary:
    """What fault predicates and record filters see about a received command."""

    session: int
    kind: str
    object_type: str | None
    name: str | None
    cl_trid: str | None
    cl_id: str | None


@dataclass
class RecordedFrame:
    """One inbound frame and what happened to it."""

    session: int
    data: bytes
    received_at: float
    cl_id: str | None
    schema_errors: tuple[str, ...] = ()
    summary: CommandSummary | None = None
    response: bytes | None = None
    result_code: int | None = None
    #: Injected fault, if any: "drop_after_apply", "2400", "2502".
    fault: str | None = None

    @property
    def kind(self) -> str | None:
        """Command kind (``login``, ``info``, ``update`` ...), ``hello``, or None if invalid."""
        return self.summary.kind if self.summary else None


Predicate = Callable[[CommandSummary], bool]
FaultKind = Literal["drop_after_apply", "2400", "2502", "delay"]


def command_is(kind: str | None = None, object_type: str | None = None, name: str | None = None) -> Predicate:
    """Predicate matching commands by kind (``update``), object type (``domain``) and name."""
    def pred(s: CommandSummary) -> bool:
        return ((kind is None or s.kind == kind) and (object_type is None or s.object_type == object_type)
                and (name is None or s.name == name))
    return pred


@dataclass
class _Rule:
    kind: FaultKind
    remaining: int
    when: Predicate | None
    seconds: float = 0.0


class FaultInjector:
    """Fault rules consumed by matching commands (``hello`` is never affected)."""

    def __init__(self) -> None:
        """No faults armed."""
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()

    def _add(self, kind: FaultKind, count: int, when: Predicate | None, seconds: float = 0.0) -> None:
        if count < 1:
            raise ValueError("count must be >= 1")
        with self._lock:
            self._rules.append(_Rule(kind, count, when, seconds))

    def drop_after_apply(self, count: int = 1, *, when: Predicate | None = None) -> None:
        """Apply the next ``count`` (matching) commands, then close the connection without answering."""
        self._add("drop_after_apply", count, when)

    def fail_with_2400(self, count: int = 1, *, when: Predicate | None = None) -> None:
        """Answer the next ``count`` (matching) commands with 2400 without applying them."""
        self._add("2400", count, when)

    def fail_with_2502(self, count: int = 1, *, when: Predicate | None = None) -> None:
        """Answer the next ``count`` (matching) commands with 2502 and close the connection."""
        self._add("2502", count, when)

    def delay(self, seconds: float, count: int = 1, *, when: Predicate | None = None) -> None:
        """Sleep ``seconds`` before handling the next ``count`` (matching) commands."""
        self._add("delay", count, when, seconds)

    def clear(self) -> None:
        """Disarm all faults."""
        with self._lock:
            self._rules.clear()

    @property
    def pending(self) -> int:
        """Remaining armed fault activations."""
        with self._lock:
            return sum(r.remaining for r in self._rules)

    def take(self, summary: CommandSummary) -> tuple[str | None, float]:
        """Consume the rules matching ``summary``: (fault kind or None, delay seconds)."""
        fault: str | None = None
        delay = 0.0
        with self._lock:
            for rule in self._rules:
                if rule.remaining <= 0 or (rule.when is not None and not rule.when(summary)):
                    continue
                if rule.kind == "delay":
                    if not delay:
                        delay = rule.seconds
                        rule.remaining -= 1
                elif fault is None:
                    fault = rule.kind
                    rule.remaining -= 1
            self._rules = [r for r in self._rules if r.remaining > 0]
        return fault, delay


def summarize(root: etree._Element, session: Session) -> CommandSummary:
    """Classify a schema-valid document."""
    body = root[0]
    kind = etree.QName(body).localname
    object_type = name = None
    if kind == "command":
        verb_el = body[0]
        kind = etree.QName(verb_el).localname
        obj = next((c for c in verb_el if isinstance(c.tag, str)), None)
        if obj is not None and etree.QName(obj).namespace in (ns.DOMAIN, ns.HOST, ns.CONTACT):
            object_type = ns.PREFIXES[etree.QName(obj).namespace or ""]
            first = next((c for c in obj if isinstance(c.tag, str)), None)
            if first is not None:
                name = (first.text or "").strip()
                if object_type != "contact":
                    name = name.lower()
    return CommandSummary(session.id, kind, object_type, name, cl_trid_of(root), session.cl_id)


_ELEMENT_IN_MESSAGE = re.compile(r"Element '([^']+)'")


def _offending(root: etree._Element | None, errors: list[str]) -> etree._Element | None:
    if root is None or not errors:
        return None
    m = _ELEMENT_IN_MESSAGE.search(errors[0])
    if not m:
        return None
    tag = m.group(1)
    line = schema.first_error_line(errors)
    candidates = [e for e in root.iter(tag)]
    for e in candidates:
        if e.sourceline == line:
            return e
    return candidates[0] if candidates else None


class EppTestRegistry:
    """An EPP test registry over TLS (see the module docstring)."""

    __test__ = False  # not a pytest test class

    def __init__(self, config: RegistryConfig, *, cert_file: str | Path, key_file: str | Path,
                 ca_file: str | Path, host: str = "127.0.0.1", port: int = 0) -> None:
        """Prepare a registry; ``ca_file`` is the CA that client certificates must chain to."""
        self.config = config
        self.state = RegistryState(config)
        self.processor = Processor(self.state)
        self.faults = FaultInjector()
        self._bind = (host, port)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cafile=str(ca_file))
        ctx.load_cert_chain(str(cert_file), str(key_file))
        ctx.num_tickets = 0  # no TLS 1.3 session tickets: nothing to resume, fewer round trips
        self._ssl = ctx
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._workers: set[threading.Thread] = set()
        self._conns: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._records: list[RecordedFrame] = []
        self._rec_lock = threading.Lock()
        self._session_ids = itertools.count(1)
        self.active_sessions = 0
        #: TLS handshakes that failed (e.g. no / wrong client certificate).
        self.handshake_failures: list[str] = []
        #: Framing violations that made the registry close a connection.
        self.protocol_errors: list[str] = []
        #: Outgoing greetings/responses that failed schema validation (should stay empty).
        self.response_schema_errors: list[str] = []

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        """Bind, and accept connections in a background thread (one thread per session)."""
        if self._listener is not None:
            raise RuntimeError("already started")
        schema.load_schema()  # fail early when the XSDs are missing
        self._stopping.clear()
        listener = socket.create_server(self._bind)
        listener.settimeout(_ACCEPT_TIMEOUT)
        self._listener = listener
        self._thread = threading.Thread(target=self._accept_loop, args=(listener,),
                                        name="epp-test-registry", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, close every connection and wait for the session threads."""
        listener, self._listener = self._listener, None
        if listener is None:
            return
        self._stopping.set()
        with self._rec_lock:
            conns = list(self._conns)
        for sock in [listener, *conns]:
            try:  # wakes threads blocked in accept()/recv() at once
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass
        listener.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._rec_lock:
            workers = list(self._workers)
        for t in workers:
            t.join(timeout=5)

    def _accept_loop(self, listener: socket.socket) -> None:
        while not self._stopping.is_set():
            try:
                raw, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            worker = threading.Thread(target=self._serve_connection, args=(raw,),
                                      name="epp-test-registry-session", daemon=True)
            with self._rec_lock:
                self._workers.add(worker)
                self._conns.add(raw)
            worker.start()

    def __enter__(self) -> Self:
        """Start and return self."""
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Stop."""
        self.stop()

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) actually bound."""
        if self._listener is None:
            raise RuntimeError("not started")
        host, port = self._listener.getsockname()[:2]
        return str(host), int(port)

    @property
    def host(self) -> str:
        """Bound host."""
        return self.address[0]

    @property
    def port(self) -> int:
        """Bound port."""
        return self.address[1]

    # ------------------------------------------------------------------ connection handling

    def _send(self, sock: ssl.SSLSocket, data: bytes) -> None:
        if self.config.validate_responses:
            errors = schema.validate(data)
            if errors:
                log.error("test registry produced an invalid frame: %s", errors)
                self.response_schema_errors.extend(errors)
        sock.settimeout(self.config.handshake_timeout)
        sock.sendall(encode_frame(data, max_size=self.config.max_frame_size))
        sock.settimeout(self.config.idle_timeout)

    def _serve_connection(self, raw: socket.socket) -> None:
        try:
            self._serve_tls(raw)
        finally:
            with self._rec_lock:
                self._conns.discard(raw)
                self._workers.discard(threading.current_thread())
            raw.close()

    def _serve_tls(self, raw: socket.socket) -> None:
        raw.settimeout(self.config.handshake_timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock = self._ssl.wrap_socket(raw, server_side=True)
        except (OSError, ValueError) as exc:
            with self._rec_lock:
                self.handshake_failures.append(str(exc))
            return
        with self._rec_lock:
            # wrap_socket detached ``raw``; track the TLS socket (same descriptor) instead
            self._conns.discard(raw)
            self._conns.add(sock)
            self.active_sessions += 1
        der = sock.getpeercert(binary_form=True)
        session = Session(next(self._session_ids), cert_fingerprint(der) if der else None)
        try:
            if not self._stopping.is_set():
                self._session_loop(sock, session)
        except (OSError, ValueError) as exc:
            log.debug("test registry session %d ended: %s", session.id, exc)
        finally:
            with self._rec_lock:
                self._conns.discard(sock)
                self.active_sessions -= 1
            try:
                sock.close()
            except OSError:  # pragma: no cover
                pass

    def _session_loop(self, sock: ssl.SSLSocket, session: Session) -> None:
        self._send(sock, self.processor.greeting())
        decoder = FrameDecoder(max_size=self.config.max_frame_size)
        while not self._stopping.is_set():
            try:
                data = sock.recv(65536)
            except TimeoutError:
                return  # idle timeout
            if not data:
                return
            try:
                frames = decoder.feed(data)
            except FrameError as exc:
                with self._rec_lock:
                    self.protocol_errors.append(str(exc))
                return
            for frame in frames:
                if not self._handle_frame(sock, session, frame):
                    return

    def _handle_frame(self, sock: ssl.SSLSocket, session: Session, frame: bytes) -> bool:
        """Process one frame; False = close the connection."""
        rec = RecordedFrame(session.id, frame, time.time(), session.cl_id)
        with self._rec_lock:
            self._records.append(rec)
        root: etree._Element | None
        try:
            root = parse_xml(frame)
            errors = schema.validate_element(root)
        except XMLSyntaxError as exc:
            root, errors = None, [str(exc)]
        if errors or root is None:
            rec.schema_errors = tuple(errors)
            cl_trid = cl_trid_of(root) if root is not None else None
            resp = self.processor.error(2001, cl_trid, errors[0] if errors else "invalid",
                                        _offending(root, errors))
            rec.response, rec.result_code = resp, 2001
            self._send(sock, resp)
            return True
        summary = summarize(root, session)
        rec.summary = summary
        fault, delay = (None, 0.0) if summary.kind == "hello" else self.faults.take(summary)
        rec.fault = fault
        if delay:
            time.sleep(delay)
        if fault in ("2400", "2502"):
            code = int(fault)
            resp = self.processor.error(code, summary.cl_trid)
            rec.response, rec.result_code = resp, code
            self._send(sock, resp)
            return code != 2502
        outcome = self.processor.process(session, root)
        rec.result_code = outcome.code
        if fault == "drop_after_apply":
            return False
        rec.response = outcome.response
        self._send(sock, outcome.response)
        return not outcome.close

    # ------------------------------------------------------------------ recorded frames

    @property
    def frames(self) -> list[RecordedFrame]:
        """Every frame received so far, in order (a copy of the list)."""
        with self._rec_lock:
            return list(self._records)

    def commands(self, kind: str | None = None, object_type: str | None = None, *,
                 cl_id: str | None = None, name: str | None = None) -> list[RecordedFrame]:
        """Schema-valid commands filtered by kind/object type/registrar/name (hello excluded)."""
        out = []
        for r in self.frames:
            s = r.summary
            if s is None or s.kind == "hello":
                continue
            if ((kind is None or s.kind == kind) and (object_type is None or s.object_type == object_type)
                    and (cl_id is None or s.cl_id == cl_id) and (name is None or s.name == name)):
                out.append(r)
        return out

    def transforms(self, object_type: str | None = None) -> list[RecordedFrame]:
        """Recorded create/update/delete/renew/transfer commands."""
        return [r for r in self.commands(object_type=object_type) if r.kind in TRANSFORM_KINDS]

    def invalid_frames(self) -> list[RecordedFrame]:
        """Frames that failed schema validation (or were not well-formed)."""
        return [r for r in self.frames if r.schema_errors]

    def clear_records(self) -> None:
        """Forget recorded frames."""
        with self._rec_lock:
            self._records.clear()

    # ------------------------------------------------------------------ test hooks on the state

    def enqueue_poll(self, cl_id: str, message: str,
                     payload: etree._Element | bytes | Iterable[etree._Element | bytes] | None = None) -> str:
        """Queue a poll message for ``cl_id``; ``payload`` = resData child element(s). Returns its id."""
        if payload is None:
            items: list[etree._Element | bytes] = []
        elif isinstance(payload, bytes) or etree.iselement(payload):
            items = [payload]
        else:
            items = list(payload)
        blobs = [p if isinstance(p, bytes) else serialize(p) for p in items]
        with self.state.lock:
            return self.state.enqueue(cl_id, message, blobs).id

    def transfer_away(self, name: str, gaining_cl_id: str, *, notify: bool = True) -> str | None:
        """Move a domain (and its subordinate hosts) to ``gaining_cl_id`` as if a transfer completed.

        With ``notify`` the losing registrar gets a poll message carrying
        ``domain:trnData`` (trStatus serverApproved). Returns the message id.
        """
        with self.state.lock:
            d = self.state.domains[name]
            losing, now = d.cl_id, self.state.now()
            d.cl_id, d.transferred, d.up_id, d.updated = gaining_cl_id, now, gaining_cl_id, now
            for h in self.state.hosts_of(name):
                self.state.hosts[h].cl_id = gaining_cl_id
            if not notify:
                return None
            trn = element(ns.DOMAIN, "trnData")
            sub(trn, ns.DOMAIN, "name", name)
            sub(trn, ns.DOMAIN, "trStatus", "serverApproved")
            sub(trn, ns.DOMAIN, "reID", gaining_cl_id)
            sub(trn, ns.DOMAIN, "reDate", format_datetime(now))
            sub(trn, ns.DOMAIN, "acID", losing)
            sub(trn, ns.DOMAIN, "acDate", format_datetime(now))
            sub(trn, ns.DOMAIN, "exDate", format_datetime(d.expires))
            return self.state.enqueue(losing, f"Transfer of {name} to {gaining_cl_id} completed",
                                      [serialize(trn)]).id

    def delete_by_registry(self, name: str, *, notify: bool = True) -> str | None:
        """Purge a domain and its subordinate hosts; with ``notify`` queue a ``domain:panData``
        (paResult true) message "Domain <name> deleted by registry" for the sponsor."""
        with self.state.lock:
            d = self.state.domains.pop(name)
            for h in self.state.hosts_of(name):
                del self.state.hosts[h]
            for other in self.state.domains.values():
                other.nameservers = [n for n in other.nameservers if n in self.state.hosts]
            if not notify:
                return None
            pan = element(ns.DOMAIN, "panData")
            sub(pan, ns.DOMAIN, "name", name, paResult="1")
            tr = sub(pan, ns.DOMAIN, "paTRID")
            sub(tr, ns.EPP, "svTRID", self.state.next_sv_trid())
            sub(pan, ns.DOMAIN, "paDate", format_datetime(self.state.now()))
            return self.state.enqueue(d.cl_id, f"Domain {name} deleted by registry", [serialize(pan)]).id

    def set_status(self, object_type: Literal["domain", "host", "contact"], name: str, status: str,
                   present: bool = True) -> None:
        """Set/clear any status (e.g. ``serverUpdateProhibited``) as the registry operator."""
        with self.state.lock:
            obj: StoredDomain | StoredHost | StoredContact
            if object_type == "domain":
                obj = self.state.domains[name]
            elif object_type == "host":
                obj = self.state.hosts[name]
            else:
                obj = self.state.contacts[name]
            if present:
                obj.statuses.add(status)
            else:
                obj.statuses.discard(status)

    def seed_domain(self, cl_id: str, name: str, *, nameservers: Iterable[str] = (),
                    auth_pw: str = "seed-Auth-1", ds: Iterable[DSRecord] = (), years: int = 1,
                    created: datetime | None = None) -> StoredDomain:
        """Create a domain directly (no rules applied), e.g. one sponsored by another registrar."""
        with self.state.lock:
            now = created or self.state.now()
            d = StoredDomain(name=name, roid=self.state.next_roid(), cl_id=cl_id, cr_id=cl_id,
                             created=now, expires=add_months(now, 12 * years), auth_pw=auth_pw,
                             nameservers=list(nameservers), ds=list(ds))
            self.state.domains[name] = d
            return copy.deepcopy(d)

    def seed_host(self, cl_id: str, name: str, addresses: Iterable[str] = ()) -> StoredHost:
        """Create a host directly (no rules applied)."""
        with self.state.lock:
            h = StoredHost(name=name, roid=self.state.next_roid(), cl_id=cl_id, cr_id=cl_id,
                           created=self.state.now(), addresses=[host_address(a) for a in addresses])
            self.state.hosts[name] = h
            return copy.deepcopy(h)

    def domain(self, name: str) -> StoredDomain | None:
        """Snapshot (deep copy) of a stored domain."""
        with self.state.lock:
            d = self.state.domains.get(name)
            return copy.deepcopy(d) if d else None

    def host_object(self, name: str) -> StoredHost | None:
        """Snapshot of a stored host."""
        with self.state.lock:
            h = self.state.hosts.get(name)
            return copy.deepcopy(h) if h else None

    def contact(self, contact_id: str) -> StoredContact | None:
        """Snapshot of a stored contact."""
        with self.state.lock:
            c = self.state.contacts.get(contact_id)
            return copy.deepcopy(c) if c else None

    def poll_queue(self, cl_id: str) -> list[str]:
        """Messages currently queued for ``cl_id``."""
        with self.state.lock:
            return [e.message for e in self.state.polls.get(cl_id, [])]
