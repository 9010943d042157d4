"""``registrar domain``: create, show, list, update, renew, delete, restore."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

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
