"""``registrar contact``: create, show, list, update, consent (export/erase: test_privacy_commands)."""

from __future__ import annotations

from registrar.config import load_config
from registrar.publication.record import Disposition, build_public_record
from registrar.storage import Database, find_domain

from .conftest import CONTACT_ARGS, Cli, seed, snapshot, sql


def test_create_show_list(cli: Cli) -> None:
    out = cli.ok("contact", "create", "JD1", *CONTACT_ARGS, "--consent", "organization").stdout
    assert "created contact JD1" in out
    shown = cli.json("contact", "show", "JD1")
    assert shown["name"] == "Jane Doe" and shown["street"] == ["1 Main St"] and shown["country_code"] == "US"
    assert shown["consent"] == ["organization"]
    assert shown["verification"]["pending"] is True and shown["verification"]["overdue"] is False
    assert "verification_token_hash" not in shown
    human = cli.ok("contact", "show", "JD1").stdout
    assert "Jane Doe" in human and "pending since" in human
    listed = cli.json("contact", "list")
    assert [r["handle"] for r in listed] == ["JD1"]
    assert "JD1" in cli.ok("contact", "list", "--search", "jane").stdout
    assert cli.json("contact", "list", "--search", "nobody") == []
    assert [r["handle"] for r in cli.json("contact", "list", "--unverified")] == ["JD1"]


def test_create_with_handle_option_and_readme_names(cli: Cli) -> None:
    cli.ok("contact", "create", "--handle", "C-ANNA", "--name", "Anna Example", "--city", "Springfield",
           "--country-code", "US", "--email", "anna@mail.example")
    assert cli.json("contact", "show", "C-ANNA")["name"] == "Anna Example"
    cli.fails("contact", "create", "--name", "X", code=2)


CREATE_ERRORS = [
    (["--email", "not-an-address"], "email"),
    (["--phone", "555-1234"], "phone"),
    (["--country", "XX"], "country_code"),
    (["--name", ""], "name"),
    (["--phone-ext", "12a"], "phone_ext"),
    (["--consent", "shoe_size"], "consent[0]"),
]


def test_create_rejects_bad_input(cli: Cli, db: Database) -> None:
    before = snapshot(db)
    for args, field in CREATE_ERRORS:
        base = dict(zip(CONTACT_ARGS[::2], CONTACT_ARGS[1::2], strict=True))
        for flag, value in zip(args[::2], args[1::2], strict=True):
            base[flag] = value
        flat = [x for kv in base.items() for x in kv]
        cli.fails("contact", "create", "JD1", *flat, field=field)
    assert snapshot(db) == before


def test_create_rejects_bad_and_duplicate_handle(cli: Cli) -> None:
    cli.fails("contact", "create", "x", *CONTACT_ARGS, field="handle")
    cli.ok("contact", "create", "JD1", *CONTACT_ARGS)
    result = cli.fails("contact", "create", "JD1", *CONTACT_ARGS, field="handle")
    assert "already exists" in result.stderr


def test_create_dry_run_writes_nothing(cli: Cli, db: Database) -> None:
    before = snapshot(db)
    out = cli.ok("contact", "create", "JD1", *CONTACT_ARGS, "--dry-run").stdout
    assert "dry run" in out
    assert snapshot(db) == before
    cli.fails("contact", "show", "JD1", field="handle")


def test_update_is_journaled_without_values(cli: Cli, db: Database) -> None:
    cli.ok("contact", "create", "JD1", *CONTACT_ARGS)
    cli.ok("verification", "start", "JD1")
    cli.ok("verification", "confirm", "JD1", input=_token(cli, "JD1"))
    change = cli.json("contact", "update", "JD1", "--email", "jane.new@mail.example", "--street", "2 Side St",
                      "--street", "Apt 4", "--org", "Doe Ltd")
    assert change["fields"] == ["email", "organization", "street", "verification_requested_at", "verified_at"]
    shown = cli.json("contact", "show", "JD1")
    assert shown["email"] == "jane.new@mail.example" and shown["street"] == ["2 Side St", "Apt 4"]
    assert shown["verification"]["pending"] is True  # a new address must be verified again
    entry = cli.json("audit", "--object", "contact:JD1", "--action", "update")[0]
    assert entry["actor"] == "tester" and entry["fields"] == change["fields"]
    journal_text = repr(sql(db, "SELECT * FROM journal"))
    assert "jane.new" not in journal_text and "Side St" not in journal_text and "Doe Ltd" not in journal_text
    # clearing optional fields
    cli.ok("contact", "update", "JD1", "--org", "", "--clear-street")
    shown = cli.json("contact", "show", "JD1")
    assert shown["organization"] is None and shown["street"] == []


def _token(cli: Cli, handle: str) -> str:
    return str(cli.json("verification", "start", handle)["token"])


UPDATE_ERRORS = [
    (["--phone", "12345"], "phone"),
    (["--email", "@@"], "email"),
    (["--country", "Germany"], "country_code"),
    (["--street", "a", "--street", "b", "--street", "c", "--street", "d"], "street"),
    (["--phone", "", "--phone-ext", "12"], "phone_ext"),
]


def test_update_rejects_bad_input(cli: Cli, db: Database) -> None:
    cli.ok("contact", "create", "JD1", *CONTACT_ARGS)
    before = snapshot(db)
    for args, field in UPDATE_ERRORS:
        cli.fails("contact", "update", "JD1", *args, field=field)
    assert snapshot(db) == before


def test_update_usage_unknown_and_dry_run(cli: Cli, db: Database) -> None:
    cli.ok("contact", "create", "JD1", *CONTACT_ARGS)
    cli.fails("contact", "update", "JD1", code=2)
    cli.fails("contact", "update", "NOPE1", "--name", "X", field="handle")
    before = snapshot(db)
    out = cli.ok("contact", "update", "JD1", "--name", "Janet Doe", "--dry-run").stdout
    assert "dry run" in out and "name" in out
    assert snapshot(db) == before
    assert "nothing changed" in cli.ok("contact", "update", "JD1", "--name", "Jane Doe").stdout


def _public(db: Database, name: str = "example.com") -> object:
    config = load_config()
    with db.transaction() as session:
        domain = find_domain(session, name)
        assert domain is not None
        return build_public_record(domain, config.registrar, config.privacy)


def test_consent_grant_and_withdraw_change_the_public_record(cli: Cli, db: Database) -> None:
    seed(cli)
    record = _public(db)
    assert record.registrant.name.disposition is Disposition.REDACTED  # type: ignore[attr-defined]
    assert record.registrant.email.disposition is Disposition.REPLACED  # type: ignore[attr-defined]

    out = cli.ok("contact", "consent", "grant", "JD1", "name", "email").stdout
    assert "granted consent for JD1: email, name" in out
    record = _public(db)
    assert record.registrant.name.value == "Jane Doe"  # type: ignore[attr-defined]
    assert record.registrant.email.value == "jane@mail.example"  # type: ignore[attr-defined]
    assert record.tech.name.published  # type: ignore[attr-defined]

    assert "consent unchanged" in cli.ok("contact", "consent", "grant", "JD1", "name").stdout
    cli.ok("contact", "consent", "withdraw", "JD1", "email")
    record = _public(db)
    assert record.registrant.name.published  # type: ignore[attr-defined]
    assert record.registrant.email.disposition is Disposition.REPLACED  # type: ignore[attr-defined]

    history = cli.json("contact", "export", "JD1")["consent"]["history"]
    assert [(h["element"], h["granted"]) for h in history] == [
        ("email", True), ("name", True), ("email", False)]
    assert all(h["actor"] == "tester" and h["at"] for h in history)
    actions = [e["action"] for e in cli.json("audit", "--object", "contact:JD1")]
    assert actions[:2] == ["consent-withdraw", "consent-grant"]


def test_consent_bad_input_and_dry_run(cli: Cli, db: Database) -> None:
    seed(cli)
    before = snapshot(db)
    cli.fails("contact", "consent", "grant", "JD1", "name", "shoe_size", field="element[1]")
    cli.fails("contact", "consent", "grant", "NOPE1", "name", field="handle")
    cli.fails("contact", "consent", "grant", "JD1", code=2)
    assert "dry run" in cli.ok("contact", "consent", "grant", "JD1", "name", "--dry-run").stdout
    assert snapshot(db) == before
    assert _public(db).registrant.name.disposition is Disposition.REDACTED  # type: ignore[attr-defined]
