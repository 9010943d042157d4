"""Plain frozen dataclasses exchanged between builders, parsers, client and callers."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

IpVersion = Literal["v4", "v6"]
#: (address, "v4" | "v6")
HostAddress = tuple[str, IpVersion]
ContactType = Literal["admin", "billing", "tech"]
PostalType = Literal["int", "loc"]

#: Domain statuses a registrar may set or remove.
CLIENT_DOMAIN_STATUSES: Final = frozenset({
    "clientDeleteProhibited", "clientHold", "clientRenewProhibited",
    "clientTransferProhibited", "clientUpdateProhibited",
})
#: Host statuses a registrar may set or remove.
CLIENT_HOST_STATUSES: Final = frozenset({"clientDeleteProhibited", "clientUpdateProhibited"})
#: Contact statuses a registrar may set or remove.
CLIENT_CONTACT_STATUSES: Final = frozenset({
    "clientDeleteProhibited", "clientTransferProhibited", "clientUpdateProhibited",
})
#: Contact fields that can be listed in ``<contact:disclose>``, in schema order.
DISCLOSE_FIELDS: Final[tuple[str, ...]] = ("name", "org", "addr", "voice", "fax", "email")


def host_address(ip: str) -> HostAddress:
    """Normalise an IP literal and pair it with its EPP version tag (``ValueError`` if invalid)."""
    addr = ipaddress.ip_address(ip.strip())
    return (addr.compressed, "v4" if addr.version == 4 else "v6")


@dataclass(frozen=True)
class DSRecord:
    """A DNSSEC delegation signer record (secDNS-1.1 ``dsData``, without ``keyData``)."""

    key_tag: int
    alg: int
    digest_type: int
    digest: str

    def __post_init__(self) -> None:
        """Normalise the digest to upper-case hex and check ranges."""
        digest = "".join(self.digest.split()).upper()
        if not digest or len(digest) % 2 or any(c not in "0123456789ABCDEF" for c in digest):
            raise ValueError(f"DS digest is not hex: {self.digest!r}")
        if not 0 <= self.key_tag <= 0xFFFF or not 0 <= self.alg <= 0xFF or not 0 <= self.digest_type <= 0xFF:
            raise ValueError("DS key tag / algorithm / digest type out of range")
        object.__setattr__(self, "digest", digest)


@dataclass(frozen=True)
class Greeting:
    """A server ``<greeting>``."""

    sv_id: str
    sv_date: datetime | None
    versions: tuple[str, ...]
    langs: tuple[str, ...]
    obj_uris: tuple[str, ...]
    ext_uris: tuple[str, ...]


@dataclass(frozen=True)
class MessageQueue:
    """The ``<msgQ>`` element of a response."""

    count: int
    id: str
    queued_at: datetime | None = None
    message: str | None = None


@dataclass(frozen=True)
class Response:
    """A parsed ``<response>``. ``element`` is the raw ``<response>`` lxml element."""

    code: int
    message: str
    cl_trid: str | None
    sv_trid: str | None
    element: Any = field(repr=False, compare=False)
    #: Text of ``<value>`` / ``<extValue>`` (value and reason) in the first result.
    reasons: tuple[str, ...] = ()
    msgq: MessageQueue | None = None

    @property
    def ok(self) -> bool:
        """True for 1xxx result codes."""
        return self.code < 2000


@dataclass(frozen=True)
class CheckResult:
    """One ``<cd>`` of a check response."""

    name: str
    available: bool
    reason: str | None = None


@dataclass(frozen=True)
class HostInfo:
    """``host:infData``."""

    name: str
    roid: str
    statuses: tuple[str, ...]
    addresses: tuple[HostAddress, ...]
    cl_id: str
    cr_id: str | None = None
    created: datetime | None = None
    updated: datetime | None = None


@dataclass(frozen=True)
class DomainInfo:
    """``domain:infData`` plus ``secDNS:infData`` and ``rgp:infData`` when present."""

    name: str
    roid: str
    statuses: tuple[str, ...]
    rgp_statuses: tuple[str, ...]
    registrant: str | None
    contacts: tuple[tuple[ContactType, str], ...]
    nameservers: tuple[str, ...]
    subordinate_hosts: tuple[str, ...]
    ds: tuple[DSRecord, ...]
    cl_id: str
    cr_id: str | None = None
    created: datetime | None = None
    updated: datetime | None = None
    expires: datetime | None = None
    transferred: datetime | None = None
    #: authInfo password (only returned to the sponsor); never in repr.
    auth_pw: str | None = field(default=None, repr=False)
    #: True when the response carried a ``secDNS:infData`` (False = no DS data shown).
    has_secdns: bool = False

    @property
    def client_statuses(self) -> frozenset[str]:
        """The registrar-settable statuses present."""
        return frozenset(self.statuses) & CLIENT_DOMAIN_STATUSES


@dataclass(frozen=True)
class ContactData:
    """The contact fields the registrar sends/receives, with a single postal block.

    ``disclose_hidden`` lists the fields (from :data:`DISCLOSE_FIELDS`) to be
    sent in ``<contact:disclose flag="0">``.
    """

    id: str
    name: str
    city: str
    cc: str
    email: str
    org: str | None = None
    street: tuple[str, ...] = ()
    sp: str | None = None
    pc: str | None = None
    voice: str | None = None
    voice_ext: str | None = None
    fax: str | None = None
    fax_ext: str | None = None
    disclose_hidden: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        """Check the few constraints the builders rely on."""
        if len(self.street) > 3:
            raise ValueError("at most three street lines")
        unknown = set(self.disclose_hidden) - set(DISCLOSE_FIELDS)
        if unknown:
            raise ValueError(f"unknown disclose fields: {sorted(unknown)}")
        object.__setattr__(self, "street", tuple(self.street))
        object.__setattr__(self, "disclose_hidden", frozenset(self.disclose_hidden))

    @property
    def postal_type(self) -> PostalType:
        """``int`` when every postal field is 7-bit ASCII, else ``loc`` (RFC 5733 §2.3)."""
        fields = [self.name, self.org, self.city, self.sp, self.pc, self.cc, *self.street]
        return "int" if all(f is None or f.isascii() for f in fields) else "loc"


@dataclass(frozen=True)
class ContactInfo:
    """``contact:infData``: the data plus registry-side attributes."""

    data: ContactData
    roid: str
    statuses: tuple[str, ...]
    cl_id: str
    postal_types: tuple[PostalType, ...] = ()
    cr_id: str | None = None
    created: datetime | None = None
    updated: datetime | None = None
    #: Fields listed under ``<contact:disclose flag="1">``.
    disclose_public: frozenset[str] = frozenset()
    auth_pw: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class DomainCreated:
    """``domain:creData``."""

    name: str
    created: datetime | None
    expires: datetime | None


@dataclass(frozen=True)
class TransferData:
    """``domain:trnData`` / ``contact:trnData`` (responses and poll payloads)."""

    object_type: Literal["domain", "contact"]
    name: str
    status: str
    requested_by: str
    requested_at: datetime | None
    action_by: str
    action_at: datetime | None
    expires: datetime | None = None


@dataclass(frozen=True)
class PendingActionData:
    """``domain:panData`` / ``host:panData`` / ``contact:panData`` (poll payloads)."""

    object_type: Literal["domain", "host", "contact"]
    name: str
    result: bool
    pa_cl_trid: str | None
    pa_sv_trid: str | None
    pa_date: datetime | None


@dataclass(frozen=True)
class PollMessage:
    """A message returned by ``<poll op="req"/>`` (result 1301)."""

    id: str
    count: int
    queued_at: datetime | None
    message: str | None
    transfer: TransferData | None = None
    pending_action: PendingActionData | None = None
    #: The ``resData`` lxml element, if any (for payloads not parsed above).
    res_data: Any = field(default=None, repr=False, compare=False)
