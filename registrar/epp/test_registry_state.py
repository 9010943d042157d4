"""Configuration and in-memory object store of the EPP test registry (no networking)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from registrar.epp import ns
from registrar.epp.framing import DEFAULT_MAX_FRAME_SIZE
from registrar.epp.names import is_subordinate
from registrar.epp.types import ContactType, DSRecord, HostAddress, PostalType

DataModel = Literal["minimum", "thick-public"]


@dataclass(frozen=True)
class RegistrarAccount:
    """A registrar allowed to log in. With ``cert_fingerprint`` (SHA-256 hex of the
    DER client certificate), logins are only accepted over a TLS session
    authenticated with that certificate."""

    cl_id: str
    password: str = field(repr=False)
    cert_fingerprint: str | None = None


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RegistryConfig:
    """Behaviour switches of one test registry instance.

    ``data_model``: ``minimum`` rejects registrants, contacts and every contact
    command with 2306; ``thick-public`` accepts contacts and requires a
    registrant on domain create. ``obj_uris`` defaults to domain + host (+
    contact in ``thick-public``); set it explicitly to e.g. offer the contact
    objURI in ``minimum`` mode.
    """

    accounts: tuple[RegistrarAccount, ...]
    tlds: tuple[str, ...] = ("test",)
    data_model: DataModel = "minimum"
    repo_id: str = "TEST"
    sv_id: str = "registrar-rdds test registry"
    obj_uris: tuple[str, ...] | None = None
    ext_uris: tuple[str, ...] = (ns.SECDNS, ns.RGP)
    max_login_failures: int = 3
    max_nameservers: int = 13
    max_frame_size: int = DEFAULT_MAX_FRAME_SIZE
    idle_timeout: float = 300.0
    handshake_timeout: float = 10.0
    #: ``thick-public`` only: a domain create without a registrant gets 2003.
    require_registrant: bool = True
    #: "refuse": any ``<contact:disclose>`` is answered with 2308.
    disclose_policy: Literal["honour", "refuse"] = "honour"
    #: Validate every outgoing greeting/response against the XSDs and record failures.
    validate_responses: bool = True
    clock: Callable[[], datetime] = _utcnow

    def offered_obj_uris(self) -> tuple[str, ...]:
        """objURIs announced in the greeting."""
        if self.obj_uris is not None:
            return self.obj_uris
        if self.data_model == "thick-public":
            return (ns.DOMAIN, ns.HOST, ns.CONTACT)
        return (ns.DOMAIN, ns.HOST)

    def account(self, cl_id: str) -> RegistrarAccount | None:
        """The account with this clID, if any."""
        for a in self.accounts:
            if a.cl_id == cl_id:
                return a
        return None


@dataclass
class StoredDomain:
    """A domain object as the registry holds it."""

    name: str
    roid: str
    cl_id: str
    cr_id: str
    created: datetime
    expires: datetime
    auth_pw: str | None = field(default=None, repr=False)
    registrant: str | None = None
    contacts: list[tuple[ContactType, str]] = field(default_factory=list)
    nameservers: list[str] = field(default_factory=list)
    statuses: set[str] = field(default_factory=set)
    rgp_statuses: set[str] = field(default_factory=set)
    ds: list[DSRecord] = field(default_factory=list)
    up_id: str | None = None
    updated: datetime | None = None
    transferred: datetime | None = None


@dataclass
class StoredHost:
    """A host object."""

    name: str
    roid: str
    cl_id: str
    cr_id: str
    created: datetime
    addresses: list[HostAddress] = field(default_factory=list)
    statuses: set[str] = field(default_factory=set)
    up_id: str | None = None
    updated: datetime | None = None


@dataclass
class PostalBlock:
    """One ``postalInfo`` block of a contact."""

    name: str
    city: str
    cc: str
    org: str | None = None
    street: tuple[str, ...] = ()
    sp: str | None = None
    pc: str | None = None


@dataclass
class StoredContact:
    """A contact object."""

    id: str
    roid: str
    cl_id: str
    cr_id: str
    created: datetime
    email: str
    postal: dict[PostalType, PostalBlock] = field(default_factory=dict)
    voice: str | None = None
    voice_ext: str | None = None
    fax: str | None = None
    fax_ext: str | None = None
    auth_pw: str | None = field(default=None, repr=False)
    #: (flag, [(field, type attribute or None)]) as last requested.
    disclose: tuple[bool, tuple[tuple[str, str | None], ...]] | None = None
    statuses: set[str] = field(default_factory=set)
    up_id: str | None = None
    updated: datetime | None = None


@dataclass
class PollEntry:
    """A queued poll message. ``payload`` is a list of serialised resData children."""

    id: str
    cl_id: str
    queued_at: datetime
    message: str
    payload: list[bytes] = field(default_factory=list)


class RegistryState:
    """All objects and poll queues of one registry; guard access with :attr:`lock`."""

    def __init__(self, config: RegistryConfig) -> None:
        """Create an empty registry for ``config``."""
        self.config = config
        self.lock = threading.RLock()
        self.domains: dict[str, StoredDomain] = {}
        self.hosts: dict[str, StoredHost] = {}
        self.contacts: dict[str, StoredContact] = {}
        self.polls: dict[str, list[PollEntry]] = {}
        self.passwords: dict[str, str] = {a.cl_id: a.password for a in config.accounts}
        self._roids = itertools.count(1)
        self._msg_ids = itertools.count(1)
        self._sv_trids = itertools.count(1)

    def now(self) -> datetime:
        """Current registry time (UTC)."""
        return self.config.clock()

    def next_roid(self) -> str:
        """A new ROID ``<n>-<REPOID>``."""
        return f"{next(self._roids)}-{self.config.repo_id}"

    def next_sv_trid(self) -> str:
        """A new server transaction id."""
        return f"{self.config.repo_id}-SV-{next(self._sv_trids):08d}"

    def served_tld(self, name: str) -> str | None:
        """The longest served TLD that ``name`` lies below (None = outside the registry)."""
        best = None
        for tld in self.config.tlds:
            if name.endswith("." + tld) and (best is None or len(tld) > len(best)):
                best = tld
        return best

    def registrable_domain(self, name: str) -> str | None:
        """The (second-level) domain in a served TLD that ``name`` equals or is below."""
        tld = self.served_tld(name)
        if tld is None:
            return None
        labels = name.split(".")
        return ".".join(labels[-(tld.count(".") + 2):])

    def hosts_of(self, domain: str) -> list[str]:
        """Names of existing hosts subordinate to ``domain``."""
        return sorted(h for h in self.hosts if is_subordinate(h, domain))

    def host_linked(self, host: str) -> bool:
        """True when some domain delegates to ``host``."""
        return any(host in d.nameservers for d in self.domains.values())

    def contact_linked(self, contact_id: str) -> bool:
        """True when some domain references the contact."""
        return any(d.registrant == contact_id or any(c == contact_id for _, c in d.contacts)
                   for d in self.domains.values())

    def enqueue(self, cl_id: str, message: str, payload: list[bytes] | None = None) -> PollEntry:
        """Append a poll message to ``cl_id``'s queue."""
        entry = PollEntry(str(next(self._msg_ids)), cl_id, self.now(), message, list(payload or []))
        self.polls.setdefault(cl_id, []).append(entry)
        return entry
