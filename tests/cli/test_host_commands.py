"""``registrar host``: create, update, delete, show, list."""

from __future__ import annotations

import pytest

from registrar.storage import Database

from .conftest import Cli, seed, snapshot


def test_create_update_show_list(cli: Cli) -> None:
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
