"""``registrar host``: create, update, delete, show, list."""

from __future__ import annotations

import pytest

from registrar.storage import Database

from .conftest import CONTACT_ARGS, Cli, seed, snapshot


def _sponsor(cli: Cli, domain: str = "example.net") -> None:
    """Register ``domain`` so that hosts under it may have glue."""
    cli.ok("contact", "create", "GLUE1", *CONTACT_ARGS)
    cli.ok("domain", "create", domain, "--registrant", "GLUE1")


def test_create_update_show_list(cli: Cli) -> None:
    _sponsor(cli)
    out = cli.ok("host", "create", "NS1.Example.NET", "--address", "192.0.2.1",
                 "--address", "2001:db8::1").stdout
    assert "created host ns1.example.net" in out
    shown = cli.json("host", "show", "ns1.example.net")
    assert shown["addresses"] == ["192.0.2.1", "2001:db8::1"] and shown["used_by"] == []
    change = cli.json("host", "update", "ns1.example.net", "--add-address", "198.51.100.7",
                      "--remove-address", "192.0.2.1")
    assert change["fields"] == ["addresses"] and change["addresses"] == ["2001:db8::1", "198.51.100.7"]
    assert "198.51.100.7" in cli.ok("host", "show", "ns1.example.net").stdout
    assert [h["name"] for h in cli.json("host", "list")] == ["ns1.example.net"]
    assert "ns1.example.net" in cli.ok("host", "list").stdout
    entry = cli.json("audit", "--object", "host:ns1.example.net", "--limit", "1")[0]
    assert entry["action"] == "update" and entry["fields"] == ["addresses"]


def test_bad_input(cli: Cli, db: Database) -> None:
    _sponsor(cli)
    cli.ok("host", "create", "ns1.example.net")
    before = snapshot(db)
    cli.fails("host", "create", "ns1.example.net", field="name")  # exists
    cli.fails("host", "create", "example", field="name")
    cli.fails("host", "create", "ns2.example.net", "--address", "300.1.1.1", field="addresses[0]")
    cli.fails("host", "create", "ns2.example.net", "--address", "127.0.0.1", field="addresses[0]")
    cli.fails("host", "update", "ns1.example.net", "--add-address", "nope", field="add_address[0]")
    cli.fails("host", "update", "ns1.example.net", "--remove-address", "192.0.2.9", field="remove_address[0]")
    cli.fails("host", "update", "ns9.example.net", "--add-address", "192.0.2.9", field="name")
    cli.fails("host", "update", "ns1.example.net", code=2)
    cli.fails("host", "delete", "ns9.example.net", "--yes", field="name")
    cli.fails("host", "show", "ns9.example.net", field="name")
    assert "dry run" in cli.ok("host", "create", "ns2.example.net", "--dry-run").stdout
    assert "dry run" in cli.ok("host", "update", "ns1.example.net", "--add-address", "192.0.2.2",
                               "--dry-run").stdout
    assert snapshot(db) == before


def test_delete_refused_while_in_use_and_needs_confirmation(cli: Cli, db: Database,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    seed(cli)
    seed(cli, "JD2", "example.org")
    before = snapshot(db)
    result = cli.fails("host", "delete", "ns1.dns.example.net", "--yes", field="name")
    assert "example.com, example.org" in result.stderr and "--remove-ns ns1.dns.example.net" in result.stderr
    assert snapshot(db) == before
    for domain in ("example.com", "example.org"):
        cli.ok("domain", "update", domain, "--remove-ns", "ns1.dns.example.net")
    before = snapshot(db)
    assert "pass --yes" in cli.fails("host", "delete", "ns1.dns.example.net", field="confirmation").stderr
    assert "dry run" in cli.ok("host", "delete", "ns1.dns.example.net", "--dry-run").stdout
    assert snapshot(db) == before
    monkeypatch.setattr("registrar.cli.helpers.stdin_is_terminal", lambda: True)
    cli.ok("host", "delete", "ns1.dns.example.net", input="y\n")
    cli.fails("host", "show", "ns1.dns.example.net", field="name")


def test_delete_host_of_deleted_domain_unlinks_it(cli: Cli) -> None:
    seed(cli)
    cli.ok("domain", "delete", "example.com", "--yes")
    cli.ok("host", "delete", "ns1.dns.example.net", "--yes")  # only a deleted registration used it
    shown = cli.json("domain", "show", "example.com")
    assert [n["name"] for n in shown["nameservers"]] == ["ns2.dns.example.net"]


def test_glue_only_under_our_live_registrations(cli: Cli, db: Database) -> None:
    _sponsor(cli)
    before = snapshot(db)
    result = cli.fails("host", "create", "ns1.not-ours.test", "--address", "192.0.2.1", field="addresses")
    assert "ns1.not-ours.test is not under" in result.stderr
    assert snapshot(db) == before
    cli.ok("host", "create", "ns1.not-ours.test")  # an external host: no glue
    cli.fails("host", "update", "ns1.not-ours.test", "--add-address", "192.0.2.1", field="add_address")
    cli.ok("host", "create", "ns1.deep.sub.example.net", "--address", "192.0.2.2")  # any depth below ours
    cli.fails("host", "create", "ns1.example.org", "--address", "192.0.2.3", field="addresses")
    cli.ok("domain", "delete", "example.net", "--yes")  # no longer ours: no new glue, removing is fine
    cli.fails("host", "update", "ns1.deep.sub.example.net", "--add-address", "192.0.2.4", field="add_address")
    cli.ok("host", "update", "ns1.deep.sub.example.net", "--remove-address", "192.0.2.2")


def test_glue_refused_for_the_fixture_third_party_host(cli: Cli, db: Database) -> None:
    from pathlib import Path

    from registrar.fixtures import load

    load(db, [Path(__file__).resolve().parents[2] / "fixtures" / "registrations.toml"])
    cli.fails("host", "update", "ns.sample-cloud.example", "--add-address", "192.0.2.77", field="add_address")
    assert cli.json("host", "show", "ns.sample-cloud.example")["addresses"] == []
