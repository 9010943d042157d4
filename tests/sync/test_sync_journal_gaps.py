"""Journal ids are taken at insert, not at commit: the sync cursor never passes a change still to come."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from registrar.models import JournalEntry, SyncCursor
from registrar.operations import DomainUpdate, update_domain
from registrar.storage import utcnow
from registrar.sync.local import CursorTracker, WorkItem, WorkList, open_gap_hold
from tests.conftest import make_database
from tests.sync.conftest import MakeWorld, World, transforms


def _change(world: World, name: str, status: str) -> None:
    with world.db.transaction() as s:
        update_domain(s, name, DomainUpdate(add_statuses=[status]), actor="staff", now=utcnow())


def _max_journal_id(world: World) -> int:
    with world.db.transaction(readonly=True) as s:
        return int(s.scalar(select(func.max(JournalEntry.id))) or 0)


def test_open_gap_hold_keeps_the_cursor_below_a_recent_gap_only() -> None:
    now = utcnow()
    recent, old = now - timedelta(seconds=10), now - timedelta(hours=2)
    cutoff = now - timedelta(minutes=10)
    assert open_gap_hold([(4, recent), (5, recent)], 3, cutoff) is None  # no gap
    assert open_gap_hold([(4, recent), (6, recent)], 3, cutoff) == 4  # 5 may still commit
    assert open_gap_hold([(5, recent)], 3, cutoff) == 3  # right after the cursor
    assert open_gap_hold([(4, old), (6, old)], 3, cutoff) is None  # 5 rolled back long ago
    assert open_gap_hold([(4, old), (6, old), (7, recent)], 3, cutoff) == 4  # a recent entry after it
    assert open_gap_hold([(6, old), (8, recent), (10, recent)], 3, cutoff) == 3  # the lowest open gap wins
    assert open_gap_hold([], 3, cutoff) is None


def test_cursor_tracker_never_passes_the_hold() -> None:
    work = WorkList(names=["a", "b"], entries=[WorkItem(5, frozenset({"a"})), WorkItem(8, frozenset({"b"}))],
                    cursor_before=3, snapshot=9, full=False, hold=6)
    t = CursorTracker(work)
    assert t.position == 4
    t.succeeded("a")
    assert t.position == 6
    t.succeeded("b")
    assert t.position == 6  # not 9: id 7 may still be committed


def test_a_late_commit_below_the_cursor_is_pushed_sqlite(make_world: MakeWorld) -> None:
    """SQLite writers are serial, so the gap is made by hand: an entry numbered N+1 before N exists."""
    world = make_world("minimum")
    assert world.sync().ok
    _change(world, "summer-project.test", "clientHold")
    top = _max_journal_id(world)
    with world.db.transaction() as s:  # N+1 committed, N not yet
        s.add(JournalEntry(id=top + 2, at=utcnow(), actor="staff", object_type="domain",
                           object_key="voorbeeld-fietsen.example", action="update", fields=["statuses"]))
    world.reg.clear_records()
    report = world.sync()
    assert report.ok
    assert transforms(world.reg) == [("update", "domain", "summer-project.test")]
    assert report.registries[0].cursor_after == top  # held below the missing id
    # "N" arrives: the change made in that transaction is picked up by the next run
    with world.db.transaction() as s:
        update_domain(s, "harbour-bakery.example", DomainUpdate(add_statuses=["clientHold"]), actor="staff",
                      now=utcnow())
        entry = s.scalars(select(JournalEntry).where(JournalEntry.id > top + 2,
                                                     JournalEntry.object_key == "harbour-bakery.example")).one()
        entry.id = top + 1
    world.reg.clear_records()
    report = world.sync()
    assert report.ok
    assert ("update", "domain", "harbour-bakery.example") in transforms(world.reg)
    assert (report.registries[0].cursor_after or 0) >= top + 2
    assert world.mismatches() == []


def test_an_old_gap_does_not_hold_the_cursor(make_world: MakeWorld) -> None:
    """A missing id whose later entries are older than sync.late_commit_seconds was rolled back: passed."""
    world = make_world("minimum", late_commit_seconds=60.0)
    assert world.sync().ok
    top = _max_journal_id(world)
    with world.db.transaction() as s:
        s.add(JournalEntry(id=top + 2, at=utcnow() - timedelta(minutes=5), actor="staff", object_type="domain",
                           object_key="summer-project.test", action="update", fields=["statuses"]))
    report = world.sync()
    assert report.ok and report.registries[0].cursor_after == top + 2
    with world.db.transaction(readonly=True) as s:
        assert s.get(SyncCursor, "t").journal_id == top + 2  # type: ignore[union-attr]


@pytest.mark.postgres
def test_a_late_commit_below_the_cursor_is_pushed_postgres(make_world: MakeWorld, tmp_path: Path) -> None:
    """Two connections: the slow transaction takes id N, the fast one N+1 and commits; the sync runs;
    then the slow one commits. The next run must push the slow change."""
    with make_database("postgres", tmp_path) as url:
        world = make_world("minimum", url)
        assert world.sync().ok
        top = _max_journal_id(world)
        with world.db.transaction() as slow:
            update_domain(slow, "harbour-bakery.example", DomainUpdate(add_statuses=["clientHold"]), actor="staff",
                          now=utcnow())
            slow.flush()  # journal id N taken, not committed
            _change(world, "summer-project.test", "clientHold")  # N+1, committed
            world.reg.clear_records()
            report = world.sync()
            assert report.ok
            assert transforms(world.reg) == [("update", "domain", "summer-project.test")]
            assert report.registries[0].cursor_after == top  # not past N
        world.reg.clear_records()
        report = world.sync()
        assert report.ok
        assert ("update", "domain", "harbour-bakery.example") in transforms(world.reg)
        assert "clientHold" in world.reg.domain("harbour-bakery.example").statuses
        assert report.registries[0].cursor_after > top + 1
        assert world.mismatches() == []
        world.db.dispose()


def test_late_commit_seconds_is_configurable_and_not_negative() -> None:
    from registrar.config import ConfigError, load_config

    assert load_config().sync.late_commit_seconds == 600.0
    assert load_config(overrides={"sync": {"late_commit_seconds": 0}}).sync.late_commit_seconds == 0
    with pytest.raises(ConfigError, match=r"sync\.late_commit_seconds"):
        load_config(overrides={"sync": {"late_commit_seconds": -1.0}})
