"""Tests for registrar.fixtures: the shipped data loads; bad records change nothing; generation streams."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from registrar.fixtures import FixtureError, generate, load
from registrar.storage import Database, find_domain

ROOT = Path(__file__).resolve().parents[2]


def _counts(db: Database) -> tuple[int, int, int]:
    with db.transaction() as s:
        return tuple(s.execute(sa.text(f"select count(*) from {t}")).scalar() or 0  # type: ignore[return-value]
                     for t in ("contact", "host", "domain"))


def test_shipped_fixtures_load(empty_db_url: str) -> None:
    """fixtures/ loads: at least 40 registrations, IDNs stored with both forms."""
    db = Database(empty_db_url)
    stats = load(db, [ROOT / "fixtures"])
    assert stats.domains >= 40
    with db.transaction() as s:
        idns = s.execute(sa.text("select count(*) from domain where unicode_name is not null")).scalar()
        assert idns and idns >= 4
    db.dispose()


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"kind": "contact", "handle": "BAD1", "name": "N", "city": "C", "country_code": "XX",
          "email": "a@example.com"}, "line 3 (contact 'BAD1'): country_code: 'XX' is not an ISO 3166-1"),
        ({"kind": "contact", "handle": "BAD2", "name": "N", "city": "C", "country_code": "DE",
          "email": "a@example.com", "phone": "030 1234"}, "line 3 (contact 'BAD2'): phone: '030 1234' is not in"),
        ({"kind": "domain", "name": "xn--zz.example", "registrant": "OK1"}, "line 3 (domain 'xn--zz.example'): name:"),
        ({"kind": "domain", "name": "fine.example", "registrant": "NOPE"},
         "(domain 'fine.example'): registrant: no contact with handle 'NOPE'"),
        ({"kind": "domain", "name": "fine.example", "registrant": "OK1", "colour": "red"},
         "colour: unknown field"),
    ],
)
def test_bad_record_names_record_and_field_and_writes_nothing(empty_db_url: str, tmp_path: Path,
                                                              record: dict[str, object], message: str) -> None:
    """A bad field fails the whole load with the record and field named; the database is unchanged."""
    db = Database(empty_db_url)
    good = {"kind": "contact", "handle": "OK1", "name": "Ok Person", "city": "Town", "country_code": "DE",
            "email": "ok@example.com"}
    dom = {"kind": "domain", "name": "good.example", "registrant": "OK1"}
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in (good, dom, record)) + "\n")
    with pytest.raises(FixtureError) as info:
        load(db, [path])
    assert message in str(info.value)
    assert _counts(db) == (0, 0, 0)
    db.dispose()


def test_generated_set_loads_and_publishes(empty_db_url: str) -> None:
    """The generator's output is valid fixture data, deterministic for a seed."""
    out, again = io.StringIO(), io.StringIO()
    generate(out, 50, seed=7)
    generate(again, 50, seed=7)
    assert out.getvalue() == again.getvalue()
    assert out.getvalue().count('"kind": "domain"') == 50
    path = Path(empty_db_url.replace("sqlite:///", "")).parent / "gen.jsonl" if empty_db_url.startswith(
        "sqlite") else None
    if path is None:
        import tempfile

        path = Path(tempfile.mkdtemp()) / "gen.jsonl"
    path.write_text(out.getvalue())
    db = Database(empty_db_url)
    stats = load(db, [path])
    assert stats.domains == 50
    with db.transaction() as s:
        assert find_domain(s, "domain-00000000.example") or find_domain(s, "domain-00000000.test")
    db.dispose()


def test_a_name_may_have_deleted_rows_beside_its_live_one(empty_db_url: str, tmp_path: Path) -> None:
    """Earlier, deleted registrations of a name load beside the live one; each row gets its own name servers."""
    db = Database(empty_db_url)
    contact = {"kind": "contact", "handle": "OK1", "name": "Ok Person", "city": "Town", "country_code": "DE",
               "email": "ok@example.com"}
    old = {"kind": "domain", "name": "again.example", "registrant": "OK1", "created": "2019-01-01T00:00:00Z",
           "deleted": "2021-02-01T00:00:00Z", "statuses": ["pendingDelete"], "nameservers": ["ns1.old.example"]}
    older = {**old, "created": "2015-01-01T00:00:00Z", "deleted": "2016-02-01T00:00:00Z", "nameservers": []}
    live = {"kind": "domain", "name": "again.example", "registrant": "OK1", "nameservers": ["ns1.new.example"]}
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in (contact, old, live, older)) + "\n")
    assert load(db, [path]).domains == 3
    with db.transaction() as s:
        rows = s.execute(sa.text(
            "select d.deleted_at is null, h.ldh_name from domain d left join domain_nameserver n "
            "on n.domain_id = d.id left join host h on h.id = n.host_id order by d.id")).all()
        assert [(bool(a), b) for a, b in rows] == [(False, "ns1.old.example"), (True, "ns1.new.example"),
                                                   (False, None)]
        found = find_domain(s, "again.example")
        assert found is not None and found.deleted_at is None
    # a second live registration of the name is refused, and nothing is written
    again = tmp_path / "again.jsonl"
    again.write_text(json.dumps({**live, "nameservers": []}) + "\n")
    with pytest.raises(FixtureError, match="name: already exists"):
        load(db, [again])
    assert _counts(db) == (1, 2, 3)
    db.dispose()
