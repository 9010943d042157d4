"""Tests for ``registrar whois`` / ``registrar rdap``: the previews render the same public record as the servers."""

from __future__ import annotations

import json
from pathlib import Path

from registrar.config import load_config
from registrar.fixtures import load
from registrar.publication.record import build_public_record
from registrar.publication.whois_text import format_domain
from registrar.storage import Database, find_domain, utcnow
from tests.cli.conftest import Cli

ROOT = Path(__file__).resolve().parents[2]


def _without_time(text: str) -> list[str]:
    return [line for line in text.split("\r\n") if not line.startswith(">>> Last update")]


def test_whois_preview_is_the_served_text(cli: Cli, db: Database) -> None:
    """Byte for byte the port-43 reply (CRLF), apart from the clock; consent changes it at once."""
    load(db, [ROOT / "fixtures" / "registrations.toml"])
    config = load_config()
    out = cli.ok("whois", "bücher-beispiel.example").stdout_bytes.decode()
    with db.transaction() as s:
        record = build_public_record(find_domain(s, "xn--bcher-beispiel-gsb.example"),  # type: ignore[arg-type]
                                     config.registrar, config.privacy)
    assert "\r\n" in out
    assert _without_time(out) == _without_time(format_domain(record, utcnow()))
    before = cli.ok("whois", "acme-widgets.example").output
    assert "Registrant Name: REDACTED FOR PRIVACY" in before
    cli.ok("contact", "consent", "grant", _registrant(cli, "acme-widgets.example"), "name")
    assert "Registrant Name: REDACTED FOR PRIVACY" not in cli.ok("whois", "acme-widgets.example").output


def _registrant(cli: Cli, domain: str) -> str:
    return str(cli.json("domain", "show", domain)["contacts"]["registrant"]["handle"])


def test_rdap_preview(cli: Cli, db: Database) -> None:
    """The RDAP response at the registered base URL; unknown names give the 404 body and exit 1."""
    load(db, [ROOT / "fixtures" / "registrations.toml"])
    body = json.loads(cli.ok("rdap", "ACME-WIDGETS.example.").output)
    assert body["ldhName"] == "acme-widgets.example"
    assert body["notices"][0]["links"][0]["value"] == "https://rdap.registrar.example/domain/acme-widgets.example"
    assert "redacted" in body["rdapConformance"]
    missing = cli("rdap", "former-customer.example")  # deleted: not public
    assert missing.exit_code == 1 and json.loads(missing.output)["errorCode"] == 404
    gone = cli("whois", "former-customer.example")
    assert gone.exit_code == 1 and gone.output.startswith('No match for "former-customer.example".')
    cli.fails("whois", "bad..name.example", field="domain")
