"""The registration data: typed SQLAlchemy 2 ORM models.

Personal values live only in :class:`Contact`; other code never reads them for output except
through :mod:`registrar.publication.record`, which decides per element what is public.
Secrets (``Domain.auth_info``, verification tokens) are excluded from ``repr``.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use UTC-aware datetimes")
        from datetime import UTC

        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        from datetime import UTC

        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with a stable constraint naming convention (for Alembic)."""

    metadata = MetaData(naming_convention=NAMING)


class ConsentElement(enum.StrEnum):
    """Contact data elements a contact may consent to publish."""

    NAME = "name"
    ORGANIZATION = "organization"
    STREET = "street"
    CITY = "city"
    POSTAL_CODE = "postal_code"
    PHONE = "phone"
    FAX = "fax"
    EMAIL = "email"
    REGISTRY_ID = "registry_id"


class Contact(Base):
    """A person or organisation holding or administering registrations."""

    __tablename__ = "contact"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handle: Mapped[str] = mapped_column(String(16), unique=True)
    registry_roid: Mapped[str | None] = mapped_column(String(89))
    name: Mapped[str] = mapped_column(String(255))
    organization: Mapped[str | None] = mapped_column(String(255))
    street1: Mapped[str | None] = mapped_column(String(255))
    street2: Mapped[str | None] = mapped_column(String(255))
    street3: Mapped[str | None] = mapped_column(String(255))
    city: Mapped[str] = mapped_column(String(255))
    state_province: Mapped[str | None] = mapped_column(String(255))
    postal_code: Mapped[str | None] = mapped_column(String(16))
    country_code: Mapped[str] = mapped_column(String(2))
    phone: Mapped[str | None] = mapped_column(String(17))
    phone_ext: Mapped[str | None] = mapped_column(String(10))
    fax: Mapped[str | None] = mapped_column(String(17))
    fax_ext: Mapped[str | None] = mapped_column(String(10))
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    verification_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verification_token_hash: Mapped[str | None] = mapped_column(String(128))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    retention_hold: Mapped[str | None] = mapped_column(String(255))
    erasure_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    consents: Mapped[list[ConsentEvent]] = relationship(
        back_populates="contact", order_by="ConsentEvent.id", cascade="all, delete-orphan"
    )

    @property
    def streets(self) -> list[str]:
        """The 0-3 street lines in order."""
        return [s for s in (self.street1, self.street2, self.street3) if s]

    def consented(self) -> frozenset[ConsentElement]:
        """Elements whose latest consent event grants publication."""
        state: dict[str, bool] = {}
        for event in self.consents:
            state[event.element] = event.granted
        return frozenset(ConsentElement(e) for e, granted in state.items() if granted)


class ConsentEvent(Base):
    """Append-only history of consent given or withdrawn, per contact and element."""

    __tablename__ = "consent_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    element: Mapped[str] = mapped_column(String(32))
    granted: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(64))

    contact: Mapped[Contact] = relationship(back_populates="consents")


class Host(Base):
    """A name server host object."""

    __tablename__ = "host"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ldh_name: Mapped[str] = mapped_column(String(253), unique=True)
    registry_roid: Mapped[str | None] = mapped_column(String(89))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    addresses: Mapped[list[HostAddress]] = relationship(
        back_populates="host", order_by="HostAddress.id", cascade="all, delete-orphan"
    )


class HostAddress(Base):
    """A glue address of a host."""

    __tablename__ = "host_address"
    __table_args__ = (UniqueConstraint("host_id", "address"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("host.id", ondelete="CASCADE"), index=True)
    address: Mapped[str] = mapped_column(String(45))
    version: Mapped[int] = mapped_column(Integer)

    host: Mapped[Host] = relationship(back_populates="addresses")


#: Live registrations only: a deleted row (kept for retention) does not block a new registration.
LIVE_DOMAIN = "deleted_at IS NULL"


class Domain(Base):
    """A registration we sponsor (or sponsored: ``deleted_at`` set).

    A name has at most one live row (``deleted_at IS NULL``, enforced by the partial unique index
    ``uq_domain_ldh_name_live``) and any number of deleted rows kept for retention: earlier
    registrations of the same name. Look names up with :func:`registrar.operations.get_domain` or
    :func:`registrar.storage.find_domain`, which prefer the live row.
    """

    __tablename__ = "domain"
    __table_args__ = (
        Index("ix_domain_registrant", "registrant_id"),
        Index("ix_domain_tld", "tld"),
        Index("ix_domain_ldh_name", "ldh_name"),
        Index("uq_domain_ldh_name_live", "ldh_name", unique=True, sqlite_where=text(LIVE_DOMAIN),
              postgresql_where=text(LIVE_DOMAIN)),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ldh_name: Mapped[str] = mapped_column(String(253))
    unicode_name: Mapped[str | None] = mapped_column(String(253))
    tld: Mapped[str] = mapped_column(String(63))
    registry_roid: Mapped[str | None] = mapped_column(String(89))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    registrar_expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    registry_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    transferred_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    statuses: Mapped[list[str]] = mapped_column(JSON, default=list)
    rgp_statuses: Mapped[list[str]] = mapped_column(JSON, default=list)
    registrant_id: Mapped[int] = mapped_column(ForeignKey("contact.id"))
    tech_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"), index=True)
    admin_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"), index=True)
    billing_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"), index=True)
    auth_info: Mapped[str] = mapped_column(String(64))
    reseller: Mapped[str | None] = mapped_column(String(255))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sponsorship_ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    personal_data_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    registrant: Mapped[Contact] = relationship(foreign_keys=[registrant_id])
    tech: Mapped[Contact | None] = relationship(foreign_keys=[tech_id])
    admin: Mapped[Contact | None] = relationship(foreign_keys=[admin_id])
    billing: Mapped[Contact | None] = relationship(foreign_keys=[billing_id])
    nameservers: Mapped[list[DomainNameserver]] = relationship(
        back_populates="domain", order_by="DomainNameserver.position", cascade="all, delete-orphan"
    )
    ds_records: Mapped[list[DSRecord]] = relationship(
        back_populates="domain", order_by="DSRecord.id", cascade="all, delete-orphan"
    )


class DomainNameserver(Base):
    """Delegation of a domain to a host, in display order."""

    __tablename__ = "domain_nameserver"
    __table_args__ = (UniqueConstraint("domain_id", "host_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domain.id", ondelete="CASCADE"), index=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("host.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)

    domain: Mapped[Domain] = relationship(back_populates="nameservers")
    host: Mapped[Host] = relationship()


class DSRecord(Base):
    """A DNSSEC delegation signer record (RFC 4034 §5)."""

    __tablename__ = "ds_record"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domain.id", ondelete="CASCADE"), index=True)
    key_tag: Mapped[int] = mapped_column(Integer)
    algorithm: Mapped[int] = mapped_column(Integer)
    digest_type: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(128))

    domain: Mapped[Domain] = relationship(back_populates="ds_records")


class JournalEntry(Base):
    """Append-only change journal: who changed which fields of what, when (no values)."""

    __tablename__ = "journal"
    __table_args__ = (Index("ix_journal_object", "object_type", "object_key"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(16))
    object_key: Mapped[str] = mapped_column(String(253))
    action: Mapped[str] = mapped_column(String(32))
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(Text)


class SyncCursor(Base):
    """Per registry: the last journal entry the sync job has pushed successfully."""

    __tablename__ = "sync_cursor"

    registry_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    journal_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SyncIssue(Base):
    """Something the sync job found and reports: skipped, failed or not ours any more."""

    __tablename__ = "sync_issue"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registry_name: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(16))
    object_key: Mapped[str] = mapped_column(String(253))
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
