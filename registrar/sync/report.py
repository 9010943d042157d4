"""What a sync run did, per registry: the summary printed by ``registrar sync`` (text or JSON)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

Result = Literal["pushed", "unchanged", "skipped", "failed", "not-ours"]
RESULTS: tuple[Result, ...] = ("pushed", "unchanged", "skipped", "failed", "not-ours")


@dataclass
class DomainOutcome:
    """What happened to one domain."""

    domain: str
    result: Result = "unchanged"
    reason: str | None = None
    #: EPP changes sent (or, in a dry run, that would be sent), secret-free.
    changes: list[str] = field(default_factory=list)
    #: Dry run: the frames that would be sent (authInfo and passwords redacted).
    frames: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: True when the domain keeps the cursor from passing it (retried next run).
    hold: bool = False

    def as_dict(self, *, with_frames: bool) -> dict[str, Any]:
        """Plain data for ``--json``."""
        out: dict[str, Any] = {"domain": self.domain, "result": self.result}
        if self.reason:
            out["reason"] = self.reason
        if self.changes:
            out["changes"] = list(self.changes)
        if self.notes:
            out["notes"] = list(self.notes)
        if with_frames and self.frames:
            out["frames"] = list(self.frames)
        return out


@dataclass
class RegistryReport:
    """One registry's part of a run."""

    name: str
    data_model: str
    endpoint: str
    dry_run: bool
    full: bool = False
    error: str | None = None
    poll: list[dict[str, Any]] = field(default_factory=list)
    domains: list[DomainOutcome] = field(default_factory=list)
    cursor_before: int | None = None
    cursor_after: int | None = None
    commands: int = 0
    reconnects: int = 0

    def counts(self) -> dict[str, int]:
        """Domains per result."""
        c = Counter(o.result for o in self.domains)
        return {r.replace("-", "_"): c.get(r, 0) for r in RESULTS}

    @property
    def ok(self) -> bool:
        """No failure and not stopped."""
        return self.error is None and not any(o.result == "failed" for o in self.domains)

    def as_dict(self, *, with_frames: bool = False) -> dict[str, Any]:
        """Plain data for ``--json`` (unchanged domains are only counted)."""
        return {
            "registry": self.name, "data_model": self.data_model, "endpoint": self.endpoint,
            "dry_run": self.dry_run, "full": self.full, "ok": self.ok, "error": self.error,
            "summary": self.counts(), "poll": self.poll,
            "domains": [o.as_dict(with_frames=with_frames) for o in self.domains if o.result != "unchanged"],
            "cursor": {"before": self.cursor_before, "after": self.cursor_after},
            "commands": self.commands, "reconnects": self.reconnects,
        }

    def human(self, *, with_frames: bool = False) -> str:
        """The text summary."""
        c = self.counts()
        head = (f"registry {self.name} ({self.data_model}, {self.endpoint})"
                f"{' [dry run: nothing sent, nothing recorded]' if self.dry_run else ''}: "
                f"{c['pushed']} {'to push' if self.dry_run else 'pushed'}, {c['unchanged']} unchanged, "
                f"{c['skipped']} skipped, {c['failed']} failed, {c['not_ours']} not ours any more")
        lines = [head]
        if self.error:
            lines.append(f"  STOPPED: {self.error}")
        for p in self.poll:
            lines.append(f"  poll {p.get('id')}: {p.get('message') or ''}"
                         + (f" -> {p['action']}" if p.get("action") else ""))
        label = {"pushed": "would push" if self.dry_run else "pushed", "skipped": "skipped",
                 "failed": "FAILED", "not-ours": "not ours"}
        for o in self.domains:
            if o.result == "unchanged" and not o.notes:
                continue
            lines.append(f"  {label.get(o.result, o.result):<10} {o.domain}" + (f": {o.reason}" if o.reason else ""))
            for ch in o.changes:
                lines.append(f"      {ch}")
            for n in o.notes:
                lines.append(f"      note: {n}")
            if with_frames:
                for fr in o.frames:
                    lines.extend(f"      | {x}" for x in fr.splitlines())
        if not self.dry_run:
            lines.append(f"  cursor: {self.cursor_before if self.cursor_before is not None else '-'} -> "
                         f"{self.cursor_after if self.cursor_after is not None else '-'}; "
                         f"{self.commands} EPP commands, {self.reconnects} reconnects")
        return "\n".join(lines)


@dataclass
class SyncReport:
    """A whole run."""

    dry_run: bool
    full: bool
    registries: list[RegistryReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every registry finished without a failure."""
        return all(r.ok for r in self.registries)

    def as_dict(self, *, with_frames: bool = False) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {"ok": self.ok, "dry_run": self.dry_run, "full": self.full,
                "registries": [r.as_dict(with_frames=with_frames) for r in self.registries]}

    def human(self, *, with_frames: bool = False) -> str:
        """The text summary."""
        return "\n".join(r.human(with_frames=with_frames) for r in self.registries)
