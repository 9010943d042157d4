"""``registrar domain``: create, show, list, update, renew, delete, restore."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from registrar.operations import PENDING_DELETE_DAYS, REDEMPTION_DAYS
from registrar.storage import Database, find_domain

from .conftest import CONTACT_ARGS, DIGEST, Cli, backdate, seed, snapshot, sql


def _live(db: Database, name: str = "example.com") -> bool:
    """Whether WHOIS/RDAP (which look up live registrations only) would find the name."""
    with db.transaction() as session:
        return find_domain(session, name) is not None


def test_create_show_list(cli: Cli, db: Database) -> None:
    seed(cli)
    cli.ok("domain", "create", "bücher.example", "--registrant", "JD1", "--period", "3", "--status",
           "clientTransferProhibited", "--ds", f"12345 13 2 {DIGEST}", "--reseller", "Resell Inc")
    shown = cli.json("domain", "show", "xn--bcher-kva.example")
    assert shown["unicode_name"] == "bücher.example" and shown["state"] == "active"
    assert shown["statuses"] == ["clientTransferProhibited"]
    assert shown["ds_records"] == [{"key_tag": 12345, "algorithm": 13, "digest_type": 2, "digest": DIGEST}]
    assert shown["contacts"]["registrant"]["name"] == "Jane Doe"  # staff view shows personal data
    created = datetime.fromisoformat(shown["created_at"])
    assert datetime.fromisoformat(shown["registrar_expires_at"]).year == created.year + 3
    human = cli.ok("domain", "show", "example.com").stdout
    assert "ns1.dns.example.net" in human and "jane@mail.example" in human
    auth = sql(db, "SELECT auth_info FROM domain")
    for (code,) in auth:  # the authInfo is never shown
        assert code not in human
        assert code not in cli.ok("domain", "show", "example.com", json_output=True).stdout
    listed = cli.json("domain", "list")
    assert [d["name"] for d in listed] == ["example.com", "xn--bcher-kva.example"]
    assert [d["name"] for d in cli.json("domain", "list", "--status", "clientTransferProhibited")] == \
        ["xn--bcher-kva.example"]
    assert cli.json("domain", "list", "--contact", "JD1", "--tld", "com")[0]["name"] == "example.com"
    assert "example.com" in cli.ok("domain", "list").stdout
    cli.fails("domain", "list", "--contact", "NOPE1", field="contact")


CREATE_ERRORS = [
    (["bad_name.example", "--registrant", "JD1"], "name"),
    (["new.example"], "registrant"),
    (["new.example", "--registrant", "NOPE1"], "registrant"),
    (["new.example", "--registrant", "JD1", "--tech", "NOPE1"], "tech"),
    (["new.example", "--registrant", "JD1", "--ns", "ns1.dns.example.net", "--ns", "NS1.dns.example.net"],
     "nameservers[1]"),
    (["new.example", "--registrant", "JD1", "--ns", "not a host"], "nameservers[0]"),
    (["new.example", "--registrant", "JD1", "--ds", "1 13 2 XYZ"], "ds[0].digest"),
    (["new.example", "--registrant", "JD1", "--ds", "1 13 2"], "ds[0]"),
    (["new.example", "--registrant", "JD1", "--status", "serverHold"], "statuses"),
    (["example.com", "--registrant", "JD1"], "name"),
]


def test_create_rejects_bad_input(cli: Cli, db: Database) -> None:
    seed(cli)
    before = snapshot(db)
    for args, field in CREATE_ERRORS:
        cli.fails("domain", "create", *args, field=field)
    assert snapshot(db) == before


def test_unknown_name_servers_become_external_hosts(cli: Cli) -> None:
    seed(cli)
    out = cli.ok("domain", "create", "new.example", "--registrant", "JD1",
                 "--ns", "ns1.other-dns.example").stdout
    assert "created external host(s) without glue: ns1.other-dns.example" in out
    assert cli.json("host", "show", "ns1.other-dns.example")["used_by"] == ["new.example"]
    change = cli.json("domain", "update", "example.com", "--add-ns", "ns2.other-dns.example")
    assert change["created_hosts"] == ["ns2.other-dns.example"]
    assert cli.json("audit", "--object", "host:ns2.other-dns.example")[0]["action"] == "create"


def test_create_dry_run_and_period_usage(cli: Cli, db: Database) -> None:
    seed(cli)
    before = snapshot(db)
    assert "dry run" in cli.ok("domain", "create", "new.example", "--registrant", "JD1", "--dry-run").stdout
    assert snapshot(db) == before
    cli.fails("domain", "create", "new.example", "--registrant", "JD1", "--period", "11", code=2)


def test_update_all_parts(cli: Cli) -> None:
    seed(cli)
    cli.ok("contact", "create", "JD2", *CONTACT_ARGS)
    cli.ok("host", "create", "ns3.dns.example.net")
    change = cli.json("domain", "update", "example.com", "--add-ns", "ns3.dns.example.net", "--remove-ns",
                      "ns1.dns.example.net", "--add-status", "clientTransferProhibited", "--add-ds",
                      f"12345 13 2 {DIGEST}", "--registrant", "JD2", "--clear-tech")
    assert change["fields"] == ["ds_records", "nameservers", "registrant", "statuses", "tech"]
    shown = cli.json("domain", "show", "example.com")
    assert [n["name"] for n in shown["nameservers"]] == ["ns2.dns.example.net", "ns3.dns.example.net"]
    assert shown["statuses"] == ["clientTransferProhibited"]
    assert shown["contacts"]["registrant"]["handle"] == "JD2" and shown["contacts"]["tech"] is None
    assert len(shown["ds_records"]) == 1
    cli.ok("domain", "update", "example.com", "--remove-ds", f"12345:13:2:{DIGEST.lower()}",
           "--remove-status", "clientTransferProhibited", "--tech", "JD1")
    shown = cli.json("domain", "show", "example.com")
    assert shown["ds_records"] == [] and shown["statuses"] == []
    assert shown["contacts"]["tech"]["handle"] == "JD1"
    entry = cli.json("audit", "--object", "domain:example.com", "--limit", "1")[0]
    assert entry["fields"] == ["ds_records", "statuses", "tech"]
    assert "-clientTransferProhibited" in entry["note"]


UPDATE_ERRORS = [
    (["--add-status", "serverHold"], "add_status"),
    (["--add-status", "ok"], "add_status"),
    (["--remove-status", "clientDeleteProhibited"], "remove_status"),
    (["--add-ns", "ns1.dns.example.net"], "add_ns[0]"),
    (["--add-ns", "ns_7.unknown.example"], "add_ns[0]"),
    (["--remove-ns", "ns7.unknown.example"], "remove_ns[0]"),
    (["--add-ds", "70000 13 2 AB"], "add_ds[0].key_tag"),
    (["--add-ds", f"1 13 1 {DIGEST}"], "add_ds[0].digest"),
    (["--remove-ds", f"1 13 2 {DIGEST}"], "remove_ds[0]"),
    (["--registrant", "NOPE1"], "registrant"),
    (["--tech", "x"], "tech"),
]


def test_update_rejects_bad_input(cli: Cli, db: Database) -> None:
    seed(cli)
    before = snapshot(db)
    for args, field in UPDATE_ERRORS:
        cli.fails("domain", "update", "example.com", "--add-status", "clientHold", *args, field=field)
    assert snapshot(db) == before  # the valid part was not applied either


def test_update_locks_usage_and_dry_run(cli: Cli, db: Database) -> None:
    seed(cli)
    cli.fails("domain", "update", "example.com", code=2)
    cli.fails("domain", "update", "nope.example", "--add-status", "clientHold", field="name")
    cli.ok("domain", "update", "example.com", "--add-status", "clientUpdateProhibited")
    result = cli.fails("domain", "update", "example.com", "--add-status", "clientHold", field="statuses")
    assert "--remove-status clientUpdateProhibited" in result.stderr
    cli.ok("domain", "update", "example.com", "--remove-status", "clientUpdateProhibited", "--add-status",
           "clientHold")
    before = snapshot(db)
    assert "dry run" in cli.ok("domain", "update", "example.com", "--remove-status", "clientHold",
                               "--dry-run").stdout
    assert snapshot(db) == before
    sql(db, """UPDATE domain SET statuses = '["serverUpdateProhibited"]'""")
    cli.fails("domain", "update", "example.com", "--add-status", "clientHold", field="statuses")


def test_renew(cli: Cli, db: Database) -> None:
    seed(cli)
    before = cli.json("domain", "show", "example.com")["registrar_expires_at"]
    out = cli.json("domain", "renew", "example.com", "--period", "2")
    after = cli.json("domain", "show", "example.com")["registrar_expires_at"]
    assert datetime.fromisoformat(after).year == datetime.fromisoformat(before).year + 2
    assert out["fields"] == ["registrar_expires_at"]
    snap = snapshot(db)
    cli.ok("domain", "renew", "example.com", "--dry-run")
    assert snapshot(db) == snap
    cli.fails("domain", "renew", "example.com", "--period", "9", field="period")  # > 10 years from now
    cli.fails("domain", "renew", "example.com", "--period", "0", code=2)
    cli.fails("domain", "renew", "nope.example", field="name")
    cli.ok("domain", "update", "example.com", "--add-status", "clientRenewProhibited")
    cli.fails("domain", "renew", "example.com", field="statuses")


def test_delete_needs_confirmation_and_leaves_publication(cli: Cli, db: Database,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    seed(cli)
    before = snapshot(db)
    result = cli.fails("domain", "delete", "example.com", field="confirmation")
    assert "pass --yes" in result.stderr
    assert "dry run" in cli.ok("domain", "delete", "example.com", "--dry-run").stdout
    assert snapshot(db) == before and _live(db)

    monkeypatch.setattr("registrar.cli.helpers.stdin_is_terminal", lambda: True)
    cli.fails("domain", "delete", "example.com", input="n\n", field="confirmation")
    assert _live(db)
    out = cli.ok("domain", "delete", "example.com", input="y\n").stdout
    assert "restorable until" in out
    assert not _live(db)
    shown = cli.json("domain", "show", "example.com")
    assert shown["state"] == "redemption" and "pendingDelete" in shown["statuses"]
    assert shown["rgp_statuses"] == ["redemptionPeriod"] and shown["sponsorship_ended_at"]
    assert cli.json("domain", "list") == []
    assert [d["name"] for d in cli.json("domain", "list", "--deleted")] == ["example.com"]
    cli.fails("domain", "delete", "example.com", "--yes", field="name")
    cli.fails("domain", "create", "example.com", "--registrant", "JD1", field="name")


def test_delete_refused_when_prohibited(cli: Cli) -> None:
    seed(cli)
    cli.ok("domain", "update", "example.com", "--add-status", "clientDeleteProhibited")
    result = cli.fails("domain", "delete", "example.com", "--yes", field="statuses")
    assert "--remove-status clientDeleteProhibited" in result.stderr
    cli.fails("domain", "delete", "nope.example", "--yes", field="name")


def test_restore(cli: Cli, db: Database) -> None:
    seed(cli)
    cli.fails("domain", "restore", "example.com", field="name")  # not deleted
    cli.ok("domain", "delete", "example.com", "--yes")
    snap = snapshot(db)
    assert "dry run" in cli.ok("domain", "restore", "example.com", "--dry-run").stdout
    assert snapshot(db) == snap
    cli.ok("domain", "restore", "example.com")
    assert _live(db)
    shown = cli.json("domain", "show", "example.com")
    assert shown["state"] == "active" and shown["rgp_statuses"] == []
    assert "pendingDelete" not in shown["statuses"]
    actions = [e["action"] for e in cli.json("audit", "--object", "domain:example.com")]
    assert actions[:2] == ["restore", "delete"]
    # after the redemption period
    cli.ok("domain", "delete", "example.com", "--yes")
    backdate(db, "domain", "deleted_at", datetime.now(UTC) - timedelta(days=31), "ldh_name = :n",
             n="example.com")
    result = cli.fails("domain", "restore", "example.com", field="name")
    assert "redemption period" in result.stderr
    cli.fails("domain", "restore", "nope.example", field="name")


# --------------------------------------------------------------------------- a name registered again


def test_deleted_name_can_be_registered_again_once_out_of_redemption(cli: Cli, db: Database) -> None:
    """Deleted rows stay for retention but block a new registration only while restorable/pending delete."""
    seed(cli)
    cli.ok("domain", "update", "example.com", "--add-status", "clientTransferProhibited")
    cli.ok("domain", "delete", "example.com", "--yes")
    refused = cli.fails("domain", "create", "example.com", "--registrant", "JD1", field="name")
    assert "restore it" in refused.stderr and "register it anew after" in refused.stderr
    now = datetime.now(UTC)
    backdate(db, "domain", "deleted_at", now - timedelta(days=REDEMPTION_DAYS + PENDING_DELETE_DAYS - 1),
             "ldh_name = :n", n="example.com")
    cli.fails("domain", "create", "example.com", "--registrant", "JD1", field="name")  # pending delete
    backdate(db, "domain", "deleted_at", now - timedelta(days=REDEMPTION_DAYS + PENDING_DELETE_DAYS + 1),
             "ldh_name = :n", n="example.com")
    cli.ok("domain", "create", "example.com", "--registrant", "JD1", "--ns", "ns2.dns.example.net")
    rows = sql(db, "SELECT deleted_at IS NULL FROM domain WHERE ldh_name = 'example.com' ORDER BY id")
    assert [bool(live) for (live,) in rows] == [False, True]

    # every lookup by name finds the live registration, not the old one kept for retention
    shown = cli.json("domain", "show", "example.com")
    assert shown["state"] == "active" and shown["statuses"] == []
    assert [n["name"] for n in shown["nameservers"]] == ["ns2.dns.example.net"]
    assert _live(db)
    assert "ns2.dns.example.net" in cli.ok("whois", "example.com").stdout.lower()
    cli.fails("domain", "create", "example.com", "--registrant", "JD1", field="name")  # live now
    cli.fails("domain", "restore", "example.com", field="name")  # the live one is not deleted
    cli.ok("domain", "renew", "example.com")
    cli.ok("domain", "update", "example.com", "--add-status", "clientHold")
    assert sorted(d["state"] for d in cli.json("domain", "list", "--all")) == ["active", "deleted"]

    # deleting it again: show and restore act on the latest deletion
    cli.ok("domain", "delete", "example.com", "--yes")
    shown = cli.json("domain", "show", "example.com")
    assert shown["state"] == "redemption" and "clientHold" in shown["statuses"]
    cli.ok("domain", "restore", "example.com")
    assert cli.json("domain", "show", "example.com")["statuses"] == ["clientHold"]
    assert len(cli.json("domain", "list", "--all")) == 2


def test_purged_registration_does_not_block_the_name(cli: Cli, db: Database) -> None:
    seed(cli)
    cli.ok("domain", "delete", "example.com", "--yes")
    sql(db, "UPDATE domain SET personal_data_purged_at = deleted_at")
    cli.ok("domain", "create", "example.com", "--registrant", "JD1")
    assert _live(db)


# ------------------------------------------------------------------------------ registrant data (RAA)


def test_registrant_needs_street_postal_code_phone_and_email(cli: Cli, db: Database) -> None:
    seed(cli)
    cli.ok("contact", "create", "BARE1", "--name", "Bare Person", "--city", "Springfield", "--country", "US",
           "--email", "bare@mail.example")
    before = snapshot(db)
    result = cli.fails("domain", "create", "new.example", "--registrant", "BARE1", field="registrant")
    assert "street, postal_code, phone" in result.stderr and "registrar contact update BARE1" in result.stderr
    cli.fails("domain", "update", "example.com", "--registrant", "BARE1", field="registrant")
    assert snapshot(db) == before
    cli.ok("domain", "create", "new.example", "--registrant", "JD1", "--tech", "BARE1")  # other roles: fine
    cli.ok("contact", "update", "BARE1", "--street", "2 Side St", "--phone", "+1.5555550100")
    cli.fails("domain", "create", "new2.example", "--registrant", "BARE1", field="registrant")  # postal code
    cli.ok("contact", "update", "BARE1", "--postal-code", "62702")
    cli.ok("domain", "create", "new2.example", "--registrant", "BARE1")
    # a country without postal codes needs none
    cli.ok("contact", "create", "DUBAI1", "--name", "Sam Example", "--street", "1 Example Road", "--city",
           "Dubai", "--country", "AE", "--phone", "+971.45550100", "--email", "sam@mail.example")
    cli.ok("domain", "update", "example.com", "--registrant", "DUBAI1")


def test_readme_staff_example_works(cli: Cli) -> None:
    """The README's "Staff tasks" block: its contact create and domain create lines run as written."""
    import shlex
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Staff tasks", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    lines = [line.split("  #", 1)[0].strip() for line in block.splitlines()]
    wanted = [line for line in lines if line.startswith(("registrar contact create", "registrar domain create"))]
    assert len(wanted) == 2
    for line in wanted:
        cli.ok(*shlex.split(line)[1:])
    assert cli.json("domain", "show", "shop.example")["contacts"]["registrant"]["handle"] == "C-ANNA"
