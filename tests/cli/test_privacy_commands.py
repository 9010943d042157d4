"""Privacy rights and duties through the CLI: export, erase, verification, retention, audit."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from registrar.storage import Database

from .conftest import CONTACT_ARGS, Cli, backdate, seed, snapshot, sql

PERSONAL = ["Jane Doe", "1 Main St", "Springfield", "62701", "+1.5555550123", "jane@mail.example"]


def _all_text(db: Database) -> str:
    return repr(snapshot(db))


# ---------------------------------------------------------------------------------------------- export


def test_export_holds_everything_about_the_contact(cli: Cli, db: Database) -> None:
    seed(cli)
    cli.ok("contact", "create", "OTHER1", *CONTACT_ARGS)
    cli.ok("domain", "create", "other.example", "--registrant", "OTHER1", "--admin", "JD1",
           "--billing", "JD1")
    cli.ok("contact", "consent", "grant", "JD1", "organization")
    cli.ok("contact", "update", "JD1", "--phone", "+1.5555550199")
    cli.ok("verification", "start", "JD1")
    data = cli.json("contact", "export", "JD1")
    assert data["contact"]["name"] == "Jane Doe" and data["contact"]["phone"] == "+1.5555550199"
    assert {d["name"]: d["roles"] for d in data["domains"]} == {
        "example.com": ["registrant", "tech"], "other.example": ["admin", "billing"]}
    assert data["consent"]["current"] == ["organization"]
    assert data["consent"]["history"][0]["element"] == "organization"
    assert data["verification"]["token_outstanding"] is True
    assert [e["action"] for e in data["verification"]["history"]] == ["verification-start"]
    assert [e["action"] for e in data["journal"]] == [
        "create", "consent-grant", "update", "verification-start"]
    assert all(e["actor"] == "tester" for e in data["journal"])
    text = cli.ok("contact", "export", "JD1").stdout
    assert "verification_token_hash" not in data["contact"] and "auth_info" not in text
    ((token_hash,),) = sql(db, "SELECT verification_token_hash FROM contact WHERE handle = 'JD1'")
    assert token_hash and token_hash not in text
    cli.fails("contact", "export", "NOPE1", field="handle")
    # admin/billing links can be moved away too
    cli.ok("domain", "update", "other.example", "--clear-admin", "--billing", "OTHER1")
    assert {d["name"] for d in cli.json("contact", "export", "JD1")["domains"]} == {"example.com"}
    # ... while the journal of other.example stays in the export: JD1 was linked to it
    assert {e["object"] for e in cli.json("contact", "export", "JD1")["domain_journal"]} == {
        "domain:example.com", "domain:other.example"}
    cli.fails("domain", "update", "other.example", "--admin", "JD1", "--clear-admin", field="admin")


def test_export_to_file(cli: Cli, tmp_path: object) -> None:
    from pathlib import Path

    seed(cli)
    out = Path(str(tmp_path)) / "jd1.json"
    cli.ok("contact", "export", "JD1", "-o", str(out))
    assert '"handle": "JD1"' in out.read_text() and (out.stat().st_mode & 0o777) == 0o600


# ----------------------------------------------------------------------------------------------- erase


def test_erase_refused_while_holding_a_registration(cli: Cli, db: Database) -> None:
    seed(cli)
    before = snapshot(db)
    result = cli.fails("contact", "erase", "JD1", "--yes", field="handle")
    assert "example.com (registrant/tech)" in result.stderr
    assert "registrar domain delete" in result.stderr and "--registrant" in result.stderr
    cli.fails("contact", "erase", "JD1", "--dry-run", field="handle")
    cli.fails("contact", "erase", "NOPE1", "--yes", field="handle")
    assert snapshot(db) == before


def test_erase_unlinked_contact_needs_confirmation_then_tombstones(cli: Cli, db: Database,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    cli.ok("contact", "create", "JD1", *CONTACT_ARGS, "--consent", "name")
    before = snapshot(db)
    assert "pass --yes" in cli.fails("contact", "erase", "JD1", field="confirmation").stderr
    assert "dry run" in cli.ok("contact", "erase", "JD1", "--dry-run").stdout
    assert snapshot(db) == before
    monkeypatch.setattr("registrar.cli.helpers.stdin_is_terminal", lambda: True)
    cli.fails("contact", "erase", "JD1", input="n\n", field="confirmation")
    assert snapshot(db) == before
    result = cli.json("contact", "erase", "JD1", input="y\n")
    assert result["outcome"] == "erased" and "email" in result["fields"]
    text = _all_text(db)
    for value in PERSONAL:
        assert value not in text
    erased = result["new_handle"]
    assert erased.startswith("ERASED-")
    cli.fails("contact", "show", "JD1", field="handle")  # the handle went with the personal data
    shown = cli.json("contact", "show", erased)
    assert shown["name"] == "ERASED" and shown["erased_at"] and shown["phone"] is None
    assert shown["consent"] == ["name"]  # the consent events stay; they hold no personal value
    cli.fails("contact", "erase", erased, "--yes", field="handle")  # already erased
    cli.fails("contact", "update", erased, "--name", "X", field="handle")
    cli.fails("domain", "create", "new.example", "--registrant", erased, field="registrant")
    assert cli.json("audit", "--object", f"contact:{erased}", "--limit", "1")[0]["action"] == "erase"
    assert cli.json("audit", "--object", "contact:JD1") == []


def test_erase_after_domain_delete_is_held_for_retention_then_purged(cli: Cli, db: Database) -> None:
    seed(cli)
    cli.ok("domain", "delete", "example.com", "--yes")
    held = cli.json("contact", "erase", "JD1", "--yes")
    assert held["outcome"] == "held" and held["held_until"]
    ended = datetime.now(UTC)
    assert datetime.fromisoformat(held["held_until"]) > ended + timedelta(days=729)
    assert "retention purge" in cli.ok("contact", "erase", "JD1", "--yes").stdout  # asking again: same answer
    assert "Jane Doe" in _all_text(db)
    cli.fails("domain", "create", "new.example", "--registrant", "JD1", field="registrant")
    cli.fails("domain", "restore", "example.com", field="registrant")

    # nothing to purge yet
    assert cli.json("retention", "purge", "--yes")["contacts"] == []
    # two years and a day later
    backdate(db, "domain", "sponsorship_ended_at", ended - timedelta(days=731), "ldh_name = :n",
             n="example.com")
    before = snapshot(db)
    assert "pass --yes" in cli.fails("retention", "purge", field="confirmation").stderr
    dry = cli.json("retention", "purge", "--dry-run")
    assert dry["dry_run"] is True and dry["contacts"] == ["JD1"] and dry["domains"] == ["example.com"]
    assert snapshot(db) == before
    done = cli.json("retention", "purge", "--yes")
    assert done["contacts"] == ["JD1"] and done["domains"] == ["example.com"]
    text = _all_text(db)
    for value in PERSONAL:
        assert value not in text
    assert cli.json("domain", "show", "example.com")["personal_data_purged_at"]
    assert cli.json("retention", "purge", "--yes")["contacts"] == []


def test_retention_hold_blocks_erasure_and_purge(cli: Cli, db: Database) -> None:
    cli.ok("contact", "create", "JD1", *CONTACT_ARGS)
    cli.ok("contact", "update", "JD1", "--retention-hold", "court order 2026-17")
    out = cli.ok("contact", "erase", "JD1", "--yes").stdout
    assert "held" in out and "retention hold is lifted" in out
    assert cli.json("retention", "purge", "--yes")["contacts"] == []
    cli.ok("contact", "update", "JD1", "--retention-hold", "")
    assert cli.json("retention", "purge", "--yes")["contacts"] == ["JD1"]
    assert "Jane Doe" not in _all_text(db)


def test_purge_keeps_contacts_with_live_or_recent_registrations(cli: Cli, db: Database) -> None:
    seed(cli)
    seed(cli, "JD2", "example.org")
    cli.ok("domain", "create", "second.example", "--registrant", "JD2")
    for name in ("example.com", "example.org"):
        cli.ok("domain", "delete", name, "--yes")
    long_ago = datetime.now(UTC) - timedelta(days=800)
    backdate(db, "domain", "sponsorship_ended_at", long_ago, "ldh_name IN ('example.com', 'example.org')")
    done = cli.json("retention", "purge", "--yes")
    assert done["contacts"] == ["JD1"]  # JD2 still holds second.example
    assert done["domains"] == ["example.com"]
    assert cli.json("contact", "show", "JD2")["name"] == "Jane Doe"


# ------------------------------------------------------------------------------------------ verification


def test_verification_start_confirm(cli: Cli, db: Database) -> None:
    cli.ok("contact", "create", "JD1", *CONTACT_ARGS)
    before = snapshot(db)
    dry = cli.json("verification", "start", "JD1", "--dry-run")
    assert "token" not in dry and snapshot(db) == before
    started = cli.json("verification", "start", "JD1")
    token = started["token"]
    assert token not in _all_text(db)  # only the hash is stored
    cli.fails("verification", "confirm", "JD1", "wrong-token", field="token")
    cli.fails("verification", "confirm", "NOPE1", token, field="handle")
    cli.fails("verification", "start", "NOPE1", field="handle")
    cli.fails("verification", "confirm", "JD1", input="\n", field="token")
    again = cli.json("verification", "start", "JD1")  # a new token replaces the first
    assert again["due"] == started["due"]  # ... without extending the deadline
    cli.fails("verification", "confirm", "JD1", token, field="token")
    before = snapshot(db)
    cli.ok("verification", "confirm", "JD1", again["token"], "--dry-run")
    assert snapshot(db) == before
    out = cli.ok("verification", "confirm", "JD1", again["token"]).stdout
    assert "verified contact JD1" in out
    assert cli.json("contact", "show", "JD1")["verification"]["pending"] is False
    cli.fails("verification", "confirm", "JD1", again["token"], field="token")  # no token outstanding


def test_overdue_apply_and_lift_on_confirmation(cli: Cli, db: Database) -> None:
    seed(cli)
    cli.ok("domain", "create", "held-by-staff.example", "--registrant", "JD1", "--status", "clientHold")
    seed(cli, "OK1", "fine.example")
    assert cli.json("verification", "overdue")["overdue"] == []
    requested = datetime.now(UTC) - timedelta(days=16)
    backdate(db, "contact", "verification_requested_at", requested, "handle = 'JD1'")
    listed = cli.json("verification", "overdue")["overdue"]
    assert [o["handle"] for o in listed] == ["JD1"]
    assert listed[0]["domains"] == ["example.com", "held-by-staff.example"]
    assert listed[0]["on_hold"] == ["held-by-staff.example"]
    assert "JD1" in cli.ok("verification", "overdue").stdout

    before = snapshot(db)
    dry = cli.json("verification", "overdue", "--apply", "--dry-run")
    assert dry["overdue"][0]["held_now"] == ["example.com"] and snapshot(db) == before
    applied = cli.json("verification", "overdue", "--apply", "--yes")
    assert applied["overdue"][0]["held_now"] == ["example.com"]
    assert "clientHold" in cli.json("domain", "show", "example.com")["statuses"]
    assert "clientHold" not in cli.json("domain", "show", "fine.example")["statuses"]
    entry = cli.json("audit", "--object", "domain:example.com", "--limit", "1")[0]
    assert entry["action"] == "verification-hold" and entry["fields"] == ["statuses"]
    assert cli.json("verification", "overdue", "--apply", "--yes")["overdue"][0]["held_now"] == []  # idempotent

    token = cli.json("verification", "start", "JD1")["token"]
    confirmed = cli.json("verification", "confirm", "JD1", token)
    assert confirmed["released"] == ["example.com"]  # the staff hold stays
    assert "clientHold" not in cli.json("domain", "show", "example.com")["statuses"]
    assert "clientHold" in cli.json("domain", "show", "held-by-staff.example")["statuses"]
    assert cli.json("verification", "overdue")["overdue"] == []


# ------------------------------------------------------------------------------------------------ audit


def test_audit_filters_and_no_values(cli: Cli, db: Database) -> None:
    seed(cli)
    cli.ok("contact", "update", "JD1", "--email", "secret.new@mail.example", actor="bob")
    entries = cli.json("audit")
    assert len(entries) >= 5 and entries[0]["action"] == "update"
    bob = cli.json("audit", "--actor", "bob")
    assert [(e["object"], e["fields"]) for e in bob] == [
        ("contact:JD1", ["email", "verification_requested_at", "verified_at"])]
    assert cli.json("audit", "--object", "domain:EXAMPLE.com")[0]["object"] == "domain:example.com"
    assert len(cli.json("audit", "--limit", "2")) == 2
    future = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert cli.json("audit", "--since", future) == []
    assert cli.json("audit", "--since", "2000-01-01T00:00:00Z")
    human = cli.ok("audit").stdout
    assert "ACTOR" in human and "bob" in human
    for value in [*PERSONAL, "secret.new"]:
        assert value not in human
    cli.fails("audit", "--since", "yesterday", code=2)
    cli.fails("audit", "--since", "2026-01-01T00:00:00", code=2)
    cli.fails("audit", "--object", "domain", code=2)
    cli.fails("audit", "--object", "thing:x", code=2)
    cli.fails("audit", "--object", "domain:bad_name", code=2)
    rows = sql(db, "SELECT note FROM journal")
    assert not any(v in repr(rows) for v in PERSONAL)


# ------------------------------------------------------------------ review follow-ups (access, erasure, holds)


def test_export_file_is_private_and_never_overwritten(cli: Cli, tmp_path: Path) -> None:
    seed(cli)
    out = tmp_path / "jd1.json"
    out.write_text("someone else's file\n")
    out.chmod(0o644)
    result = cli.fails("contact", "export", "JD1", "-o", str(out), field="output")
    assert "--force" in result.stderr and out.read_text() == "someone else's file\n"
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "target.json")
    cli.fails("contact", "export", "JD1", "-o", str(link), field="output")  # not written through a link
    assert not (tmp_path / "target.json").exists()
    cli.ok("contact", "export", "JD1", "-o", str(out), "--force")
    assert json.loads(out.read_text())["contact"]["handle"] == "JD1"
    assert (out.stat().st_mode & 0o777) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left
    old_umask = os.umask(0)
    try:
        fresh = tmp_path / "fresh.json"
        cli.ok("contact", "export", "JD1", "-o", str(fresh))
        assert (fresh.stat().st_mode & 0o777) == 0o600
    finally:
        os.umask(old_umask)
    cli.fails("contact", "export", "JD1", "--force", code=2)
    cli.fails("contact", "export", "JD1", "-o", str(tmp_path / "no-dir" / "x.json"), field="output")


def test_export_has_the_journal_of_the_registrations_linked_to_the_contact(cli: Cli, db: Database) -> None:
    seed(cli)
    seed(cli, "JD2", "other.example", email="jd2@mail.example")
    backdate(db, "contact", "verification_requested_at", datetime.now(UTC) - timedelta(days=16), "handle = 'JD1'")
    cli.ok("verification", "overdue", "--apply", "--yes")
    cli.ok("domain", "update", "example.com", "--registrant", "JD2", "--tech", "JD2")  # JD1 is no longer linked
    data = cli.json("contact", "export", "JD1")
    assert data["domains"] == []
    entries = data["domain_journal"]
    assert {e["object"] for e in entries} == {"domain:example.com"}
    assert [e["action"] for e in entries] == ["create", "verification-hold", "update", "verification-release"]
    assert all("note" not in e for e in entries)  # field names only: notes may name other contacts
    assert entries[2]["fields"] == ["registrant", "tech"]
    # a later registration of the same name by someone else is not about JD1
    cli.ok("domain", "delete", "example.com", "--yes")
    now = datetime.now(UTC)
    backdate(db, "domain", "created_at", now - timedelta(days=400), "ldh_name = 'example.com'")
    backdate(db, "domain", "deleted_at", now - timedelta(days=40), "ldh_name = 'example.com'")
    backdate(db, "journal", "at", now - timedelta(days=40), "object_key = 'example.com'")
    cli.ok("domain", "create", "example.com", "--registrant", "JD2")
    assert len(cli.json("contact", "export", "JD1")["domain_journal"]) == len(entries) + 1  # + the delete
    assert "create" in [e["action"] for e in cli.json("contact", "export", "JD2")["domain_journal"]][-1:]


def test_erase_and_purge_replace_the_handle_everywhere(cli: Cli, db: Database) -> None:
    seed(cli, "MUSTERMANN-E", "example.com")
    cli.ok("contact", "create", "MUSTERMANN-EX", *CONTACT_ARGS)
    backdate(db, "contact", "verification_requested_at", datetime.now(UTC) - timedelta(days=16),
             "handle = 'MUSTERMANN-E'")
    cli.ok("verification", "overdue", "--apply", "--yes")
    cli.ok("domain", "update", "example.com", "--registrant", "MUSTERMANN-EX", "--tech", "MUSTERMANN-EX")
    erased = cli.json("contact", "erase", "MUSTERMANN-E", "--yes")
    new = erased["new_handle"]
    assert erased["outcome"] == "erased" and new.startswith("ERASED-") and len(new) <= 16
    text = _all_text(db)
    assert re.search(r"MUSTERMANN-E(?![\w-])", text) is None
    assert "MUSTERMANN-EX" in text  # a longer handle is another contact
    assert [e["action"] for e in cli.json("audit", "--object", f"contact:{new}")][:1] == ["erase"]

    # retention purge does the same
    seed(cli, "DOE-J", "example.org", email="doe@mail.example")
    cli.ok("domain", "delete", "example.org", "--yes")
    backdate(db, "domain", "sponsorship_ended_at", datetime.now(UTC) - timedelta(days=800),
             "ldh_name = 'example.org'")
    purged = cli.json("retention", "purge", "--yes")
    assert purged["contacts"] == ["DOE-J"] and purged["new_handles"][0].startswith("ERASED-")
    assert re.search(r"DOE-J(?![\w-])", _all_text(db)) is None
    cli.fails("contact", "create", "ERASED-999", *CONTACT_ARGS, field="handle")  # reserved


def test_overdue_apply_asks_first_and_skips_server_update_prohibited(cli: Cli, db: Database,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    seed(cli)
    cli.ok("domain", "create", "locked.example", "--registrant", "JD1")
    sql(db, """UPDATE domain SET statuses = '["serverUpdateProhibited"]' WHERE ldh_name = 'locked.example'""")
    backdate(db, "contact", "verification_requested_at", datetime.now(UTC) - timedelta(days=16), "handle = 'JD1'")
    before = snapshot(db)
    assert "pass --yes" in cli.fails("verification", "overdue", "--apply", field="confirmation").stderr
    assert snapshot(db) == before
    dry = cli.json("verification", "overdue", "--apply", "--dry-run")  # a dry run does not ask
    assert dry["dry_run"] is True and snapshot(db) == before
    monkeypatch.setattr("registrar.cli.helpers.stdin_is_terminal", lambda: True)
    cli.fails("verification", "overdue", "--apply", input="n\n", field="confirmation")
    assert snapshot(db) == before
    out = cli.ok("verification", "overdue", "--apply", input="y\n").stdout
    assert "put clientHold on 1 registration(s)" in out and "skipped (serverUpdateProhibited): locked.example" in out
    assert cli.json("domain", "show", "locked.example")["statuses"] == ["serverUpdateProhibited"]
    assert "clientHold" in cli.json("domain", "show", "example.com")["statuses"]
    again = cli.json("verification", "overdue", "--apply")  # nothing left to hold: nothing to ask
    assert again["overdue"][0]["held_now"] == [] and again["overdue"][0]["skipped"] == ["locked.example"]
