"""Fixture files: the streaming loader and the synthetic generator.

Two text formats carry the same records:

* TOML (hand-written fixtures): arrays of tables ``[[contact]]``, ``[[host]]``, ``[[domain]]``;
* JSON lines (generated sets): one object per line with ``"kind": "contact" | "host" | "domain"``.

Field names are those of :mod:`registrar.inputs`; ``docs/fixtures.md`` describes them. The
loader validates each record, writes in batches with bulk inserts, and runs the whole load in
one transaction: a bad field anywhere aborts the load with the record and field named, and
leaves the database as it was. Memory stays flat: references between records are resolved per
batch with one query, never through an in-memory index of everything loaded.
"""

from __future__ import annotations

import json
import random
import secrets
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from registrar.inputs import (
    ContactInput,
    DomainInput,
    HostInput,
    contact_row,
    parse_contact,
    parse_domain,
    parse_host,
)
from registrar.models import (
    ConsentEvent,
    Contact,
    Domain,
    DomainNameserver,
    DSRecord,
    Host,
    HostAddress,
    JournalEntry,
)
from registrar.storage import Database, utcnow
from registrar.validation import ValidationError

BATCH = 2000
KINDS = ("contact", "host", "domain")


class FixtureError(ValueError):
    """A fixture record is invalid; the message names the file, the record and the field."""


@dataclass
class LoadStats:
    """What a load wrote."""

    contacts: int = 0
    hosts: int = 0
    domains: int = 0

    def as_dict(self) -> dict[str, int]:
        """Counts by kind."""
        return {"contacts": self.contacts, "hosts": self.hosts, "domains": self.domains}


def iter_records(paths: Iterable[Path]) -> Iterator[tuple[str, Mapping[str, Any], str]]:
    """Yield ``(kind, record, where)`` from fixture files or directories, streaming JSON lines."""
    for path in paths:
        if path.is_dir():
            # config.toml beside the data is the quick start's configuration, not data.
            files = sorted(p for p in path.iterdir() if p.suffix in (".toml", ".jsonl") and p.name != "config.toml")
            yield from iter_records(files)
            continue
        if not path.exists():
            raise FixtureError(f"{path}: no such file")
        if path.suffix == ".toml":
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise FixtureError(f"{path}: not valid TOML: {exc}") from None
            unknown = sorted(set(data) - set(KINDS))
            if unknown:
                raise FixtureError(f"{path}: unknown table [[{unknown[0]}]] (expected contact, host, domain)")
            for kind in KINDS:
                for i, record in enumerate(data.get(kind, [])):
                    yield kind, record, f"{path.name} [[{kind}]] #{i + 1}"
        elif path.suffix == ".jsonl":
            with path.open(encoding="utf-8") as fh:
                for lineno, line in enumerate(fh, 1):
                    if not line.strip():
                        continue
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise FixtureError(f"{path.name} line {lineno}: not valid JSON: {exc}") from None
                    line_kind = record.pop("kind", None) if isinstance(record, dict) else None
                    if not isinstance(line_kind, str) or line_kind not in KINDS:
                        raise FixtureError(f"{path.name} line {lineno}: kind must be contact, host or domain")
                    yield line_kind, record, f"{path.name} line {lineno}"
        else:
            raise FixtureError(f"{path}: fixture files end in .toml or .jsonl")


def _label(kind: str, record: Mapping[str, Any]) -> str:
    key = record.get("handle") if kind == "contact" else record.get("name")
    return f"{kind} {key!r}" if isinstance(key, str) else kind


@dataclass
class _Loader:
    session: Session
    actor: str
    now: datetime
    stats: LoadStats = field(default_factory=LoadStats)
    contacts: list[tuple[ContactInput, str]] = field(default_factory=list)
    hosts: list[tuple[HostInput, str]] = field(default_factory=list)
    domains: list[tuple[DomainInput, str]] = field(default_factory=list)

    def add(self, kind: str, record: Mapping[str, Any], where: str) -> None:
        try:
            if kind == "contact":
                self.contacts.append((parse_contact(record), where))
            elif kind == "host":
                self.hosts.append((parse_host(record), where))
            else:
                self.domains.append((parse_domain(record), where))
        except ValidationError as exc:
            raise FixtureError(f"{where} ({_label(kind, record)}): {exc}") from None
        if len(self.contacts) + len(self.hosts) + len(self.domains) >= BATCH:
            self.flush()

    def flush(self) -> None:
        self._flush_contacts()
        self._flush_hosts()
        self._flush_domains()

    def _journal(self, object_type: str, keys: list[str]) -> None:
        if keys:
            self.session.execute(insert(JournalEntry), [
                {"at": self.now, "actor": self.actor, "object_type": object_type, "object_key": k,
                 "action": "create", "fields": [], "note": "fixture load"} for k in keys])

    def _existing(self, column: Any, keys: list[str]) -> set[str]:
        return set(self.session.scalars(select(column).where(column.in_(keys))))

    def _ids(self, model: Any, column: Any, keys: Iterable[str]) -> dict[str, int]:
        keys = list(set(keys))
        out: dict[str, int] = {}
        for i in range(0, len(keys), 1000):
            chunk = keys[i:i + 1000]
            out.update({k: v for k, v in self.session.execute(select(column, model.id).where(column.in_(chunk)))})
        return out

    def _flush_contacts(self) -> None:
        if not self.contacts:
            return
        batch, self.contacts = self.contacts, []
        seen: dict[str, str] = {}
        existing = self._existing(Contact.handle, [c.handle for c, _ in batch])
        for c, where in batch:
            if c.handle in existing or c.handle in seen:
                raise FixtureError(f"{where} (contact {c.handle!r}): handle: already exists")
            seen[c.handle] = where
        self.session.execute(insert(Contact), [contact_row(c, self.now) for c, _ in batch])
        ids = self._ids(Contact, Contact.handle, seen)
        consents = [{"contact_id": ids[c.handle], "element": e.value, "granted": True,
                     "at": c.created or self.now, "actor": self.actor}
                    for c, _ in batch for e in sorted(c.consent)]
        if consents:
            self.session.execute(insert(ConsentEvent), consents)
        self._journal("contact", [c.handle for c, _ in batch])
        self.stats.contacts += len(batch)

    def _flush_hosts(self) -> None:
        if not self.hosts:
            return
        batch, self.hosts = self.hosts, []
        existing = self._existing(Host.ldh_name, [h.name for h, _ in batch])
        seen: set[str] = set()
        for h, where in batch:
            if h.name in existing or h.name in seen:
                raise FixtureError(f"{where} (host {h.name!r}): name: already exists")
            seen.add(h.name)
        self.session.execute(insert(Host), [
            {"ldh_name": h.name, "registry_roid": h.registry_roid, "created_at": h.created or self.now,
             "updated_at": h.created or self.now} for h, _ in batch])
        ids = self._ids(Host, Host.ldh_name, seen)
        addrs = [{"host_id": ids[h.name], "address": a, "version": v} for h, _ in batch for a, v in h.addresses]
        if addrs:
            self.session.execute(insert(HostAddress), addrs)
        self._journal("host", [h.name for h, _ in batch])
        self.stats.hosts += len(batch)

    def _flush_domains(self) -> None:
        if not self.domains:
            return
        batch, self.domains = self.domains, []
        # Only live registrations count: deleted rows of a name (kept for retention) may coexist
        # with a live one and with each other (earlier registrations of the same name).
        names = [d.a_label for d, _ in batch]
        existing = set(self.session.scalars(select(Domain.ldh_name).where(Domain.ldh_name.in_(names),
                                                                          Domain.deleted_at.is_(None))))
        handles = {h for d, _ in batch for h in (d.registrant, d.tech, d.admin, d.billing) if h}
        contact_ids = self._ids(Contact, Contact.handle, handles)
        host_names = {n for d, _ in batch for n in d.nameservers}
        host_ids = self._ids(Host, Host.ldh_name, host_names)
        missing_hosts = sorted(host_names - set(host_ids))
        if missing_hosts:
            # Name servers outside our fixtures are external hosts: created without glue.
            self.session.execute(insert(Host), [{"ldh_name": n, "registry_roid": None, "created_at": self.now,
                                                 "updated_at": self.now} for n in missing_hosts])
            host_ids.update(self._ids(Host, Host.ldh_name, missing_hosts))
            self._journal("host", missing_hosts)
            self.stats.hosts += len(missing_hosts)
        rows = []
        seen: set[str] = set()
        for d, where in batch:
            label = f"{where} (domain {d.a_label!r})"
            if d.deleted is None:
                if d.a_label in existing or d.a_label in seen:
                    raise FixtureError(f"{label}: name: already exists")
                seen.add(d.a_label)
            for role in ("registrant", "tech", "admin", "billing"):
                handle = getattr(d, role)
                if handle and handle not in contact_ids:
                    raise FixtureError(f"{label}: {role}: no contact with handle {handle!r}")
            rows.append(domain_row(d, contact_ids, self.now))
        # the ids of exactly the rows just inserted, in batch order (a name may have several rows)
        domain_ids = list(self.session.scalars(insert(Domain).returning(Domain.id, sort_by_parameter_order=True),
                                               rows))
        ns_rows = [{"domain_id": domain_ids[k], "host_id": host_ids[n], "position": i}
                   for k, (d, _) in enumerate(batch) for i, n in enumerate(d.nameservers)]
        if ns_rows:
            self.session.execute(insert(DomainNameserver), ns_rows)
        ds_rows = [{"domain_id": domain_ids[k], "key_tag": ds.key_tag, "algorithm": ds.algorithm,
                    "digest_type": ds.digest_type, "digest": ds.digest} for k, (d, _) in enumerate(batch)
                   for ds in d.ds]
        if ds_rows:
            self.session.execute(insert(DSRecord), ds_rows)
        self._journal("domain", [d.a_label for d, _ in batch])
        self.stats.domains += len(batch)


def domain_row(d: DomainInput, contact_ids: Mapping[str, int], now: datetime,
               period_years: int = 1) -> dict[str, Any]:
    """Column values for a new registration."""
    created = d.created or now
    try:
        expires = created.replace(year=created.year + period_years)
    except ValueError:  # 29 February
        expires = created + timedelta(days=365 * period_years)
    return {
        "ldh_name": d.a_label, "unicode_name": d.u_label if d.u_label != d.a_label else None, "tld": d.tld,
        "registry_roid": d.registry_roid, "created_at": created, "updated_at": d.updated or created,
        "registrar_expires_at": d.registrar_expires or expires, "registry_expires_at": d.registry_expires,
        "transferred_at": d.transferred, "statuses": list(d.statuses), "rgp_statuses": list(d.rgp_statuses),
        "registrant_id": contact_ids[d.registrant],
        "tech_id": contact_ids[d.tech] if d.tech else None,
        "admin_id": contact_ids[d.admin] if d.admin else None,
        "billing_id": contact_ids[d.billing] if d.billing else None,
        "auth_info": d.auth_info or secrets.token_urlsafe(12), "reseller": d.reseller,
        "deleted_at": d.deleted, "sponsorship_ended_at": d.deleted,
    }


def load(db: Database, paths: Iterable[Path], *, actor: str = "fixtures") -> LoadStats:
    """Load fixture files in one transaction; on any error nothing is written."""
    with db.transaction() as session:
        loader = _Loader(session=session, actor=actor, now=utcnow())
        for kind, record, where in iter_records(paths):
            if not isinstance(record, Mapping):
                raise FixtureError(f"{where}: expected a table/object")
            loader.add(kind, record, where)
        loader.flush()
        return loader.stats


FIRST = ["Alex", "Sam", "Maria", "Jun", "Fatima", "Olga", "Pierre", "Aiko", "Lena", "Omar", "Noah", "Ines"]
LAST = ["Example", "Sample", "Testperson", "Muster", "Beispiel", "Exemple", "Ejemplo", "Esempio"]
CITIES = [("Springfield", "IL", "US", "62701"), ("Musterstadt", "BY", "DE", "80331"),
          ("Exampleton", "ON", "CA", "K1A 0B1"), ("Villexemple", "IDF", "FR", "75001"),
          ("Sampleburg", "NSW", "AU", "2000")]
TLDS = ["example", "test"]


def generate(out: IO[str], domains: int, *, seed: int = 1, hosts: int = 200) -> None:
    """Write a synthetic JSON-lines fixture set with ``domains`` registrations, streaming.

    Each registration gets its own registrant; a pool of ``hosts`` external name servers is
    shared. Output is deterministic for a given seed. Only reserved names are used.
    """
    rng = random.Random(seed)
    base = datetime(2015, 1, 1, tzinfo=UTC)
    dump = json.dumps
    for h in range(hosts):
        out.write(dump({"kind": "host", "name": f"ns{h % 4 + 1}.dns-{h // 4}.example.net"}) + "\n")
    for i in range(domains):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        city, sp, cc, pc = rng.choice(CITIES)
        handle = f"G{i:08d}"
        created = base + timedelta(seconds=rng.randrange(0, 10 * 365 * 86400))
        contact = {"kind": "contact", "handle": handle, "name": f"{first} {last}",
                   "street": [f"{rng.randrange(1, 999)} Example Street"], "city": city, "state_province": sp,
                   "postal_code": pc, "country_code": cc, "phone": f"+1.555{rng.randrange(0, 10**7):07d}",
                   "email": f"{handle.lower()}@mail.example", "created": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                   "verified": True}
        if rng.random() < 0.2:
            contact["organization"] = f"{last} Holdings {i}"
            if rng.random() < 0.5:
                contact["consent"] = ["organization"]
        out.write(dump(contact) + "\n")
        pool = rng.randrange(0, hosts // 4)
        expires = created.replace(year=created.year + 12)
        domain = {"kind": "domain", "name": f"domain-{i:08d}.{rng.choice(TLDS)}", "registrant": handle,
                  "registry_roid": f"D{i + 1000000}-EXAMPLE",
                  "created": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "registrar_expires": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "registry_expires": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "statuses": ["clientTransferProhibited"] if rng.random() < 0.7 else [],
                  "nameservers": [f"ns{k}.dns-{pool}.example.net" for k in (1, 2)]}
        out.write(dump(domain) + "\n")
