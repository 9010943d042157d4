"""End to end: the staff CLI changes what the running WHOIS and RDAP servers publish.

Create a contact and a registration through the CLI, read them over port 43 and RDAP, grant and
withdraw consent and see the answers change, export the contact, try to erase it (refused),
delete the registration (gone from both services), erase the contact (held for retention), then
let retention run out and find no personal value left in the database.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from registrar.storage import Database

from .conftest import CONTACT_ARGS, Cli, backdate, snapshot

PERSONAL = ["Jane Doe", "1 Main St", "Springfield", "62701", "+1.5555550123", "jane@mail.example"]


def whois(server: Any, query: str) -> str:
    with socket.create_connection((server.host, server.whois_port), timeout=10) as s:
        s.sendall(query.encode() + b"\r\n")
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode("utf-8")


def rdap(server: Any, path: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"{server.rdap_base}{path}", timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _vcard_fn(body: dict[str, Any]) -> list[Any]:
    for entity in body.get("entities", []):
        if "registrant" in entity.get("roles", []):
            return [p[3] for p in entity.get("vcardArray", ["vcard", []])[1] if p[0] == "fn"]
    return []


def test_staff_workflow_against_live_servers(cli: Cli, db: Database, db_url: str,
                                             start_server: Callable[..., Any]) -> None:
    cli.ok("contact", "create", "JD1", *CONTACT_ARGS)
    cli.ok("host", "create", "ns1.dns.example.net")
    cli.ok("domain", "create", "example.com", "--registrant", "JD1", "--tech", "JD1",
           "--ns", "ns1.dns.example.net")
    server = start_server(db_url)

    text = whois(server, "example.com")
    assert "DOMAIN NAME: EXAMPLE.COM" in text.upper() and "NS1.DNS.EXAMPLE.NET" in text.upper()
    assert "Jane Doe" not in text and "jane@mail.example" not in text
    status, body = rdap(server, "/domain/example.com")
    assert status == 200 and body["ldhName"].lower() == "example.com"
    assert "Jane Doe" not in json.dumps(body)

    cli.ok("contact", "consent", "grant", "JD1", "name")
    assert "Registrant Name: Jane Doe" in whois(server, "example.com")
    assert "Jane Doe" in _vcard_fn(rdap(server, "/domain/example.com")[1])
    cli.ok("contact", "consent", "withdraw", "JD1", "name")
    assert "Jane Doe" not in whois(server, "example.com")
    assert "Jane Doe" not in json.dumps(rdap(server, "/domain/example.com")[1])

    export = cli.json("contact", "export", "JD1")
    assert export["contact"]["email"] == "jane@mail.example" and export["domains"][0]["name"] == "example.com"
    cli.fails("contact", "erase", "JD1", "--yes", field="handle")

    cli.ok("domain", "delete", "example.com", "--yes")
    gone = whois(server, "example.com")
    assert "Jane Doe" not in gone and "NS1.DNS" not in gone.upper()
    assert rdap(server, "/domain/example.com")[0] == 404

    held = cli.json("contact", "erase", "JD1", "--yes")
    assert held["outcome"] == "held"  # the registration ended just now: retention applies
    # the retention period runs out
    backdate(db, "domain", "sponsorship_ended_at", datetime.now(UTC) - timedelta(days=731), "1 = 1")
    assert cli.json("retention", "purge", "--yes")["contacts"] == ["JD1"]
    everything = repr(snapshot(db))
    for value in PERSONAL:
        assert value not in everything
