"""``registrar contact``: create, show, list, update (correction), export (access), erase, consent."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

import click
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from registrar.cli.context import CliContext, fail, pass_ctx
from registrar.cli.helpers import destructive, dry_prefix, dry_run_option, read, table, ts, write, yes_option
from registrar.models import ConsentElement, Contact, Domain
from registrar.operations import Change, create_contact, get_contact, set_consent, update_contact
from registrar.privacy import (
    ROLES,
    ErasureResult,
    contact_data,
    erase_contact,
    export_contact,
    linked_domains,
    verification_state,
)
from registrar.storage import utcnow

ELEMENTS = [e.value for e in ConsentElement]


def _contact_options(fn: Any) -> Any:
    options = [
        click.option("--name", help="Full name of the person (or role)."),
        click.option("--org", "--organization", "organization",
                     help="Organisation; makes it the registered name holder."),
        click.option("--street", multiple=True, help="Street line (repeat up to 3 times, in order)."),
        click.option("--city", help="City."),
        click.option("--state", "--state-province", "state_province", help="State or province."),
        click.option("--postal-code", help="Postal code."),
        click.option("--country", "--country-code", "country_code",
                     help="ISO 3166-1 alpha-2 country code, e.g. DE."),
        click.option("--phone", help="Phone in +CC.NNNN form, e.g. +1.5555550123."),
        click.option("--phone-ext", help="Phone extension (digits)."),
        click.option("--fax", help="Fax in +CC.NNNN form."),
        click.option("--fax-ext", help="Fax extension (digits)."),
        click.option("--email", help="Email address."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


@click.group("contact")
def contact_group() -> None:
    """Contacts: the people and organisations behind registrations, and their privacy rights.

    \b
    Examples:
      registrar contact create JD1 --name "Jane Doe" --street "1 Main St" --city Springfield \\
          --postal-code 62701 --country US --phone +1.5555550123 --email jane@example.net
      registrar contact update JD1 --email jane.doe@example.net
      registrar contact consent grant JD1 organization
      registrar contact export JD1 > jd1.json
      registrar contact erase JD1 --yes
    """


@contact_group.command("create")
@click.argument("handle", required=False)
@click.option("--handle", "handle_option", metavar="HANDLE", help="The handle (instead of the argument).")
@_contact_options
@click.option("--consent", multiple=True, metavar="ELEMENT",
              help=f"Element the contact consents to publish (repeatable): {', '.join(ELEMENTS)}.")
@dry_run_option
@pass_ctx
def contact_create(ctx: CliContext, handle: str | None, handle_option: str | None, consent: tuple[str, ...],
                   dry_run: bool, **fields: Any) -> None:
    """Create contact HANDLE (3-16 letters, digits, '-' or '_').

    Name, city, country and email are required; a registrant also needs street, postal code and
    phone (see `registrar domain create`). The contact's verification clock starts now.

    \b
    Example:
      registrar contact create JD1 --name "Jane Doe" --street "1 Main St" --city Springfield \\
          --state IL --postal-code 62701 --country US --phone +1.5555550123 --email jane@example.net
      registrar contact create --handle C-ANNA --name "Anna Example" --street "1 Example Street" \\
          --city Springfield --postal-code 62701 --country-code US --phone +1.5555550100 \\
          --email anna@mail.example --consent organization
    """
    if handle and handle_option and handle != handle_option:
        raise click.UsageError("give the handle once (argument or --handle)")
    handle = handle or handle_option
    if not handle:
        raise click.UsageError("missing the contact handle (argument HANDLE or --handle)")
    data: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}
    data["street"] = list(fields.get("street") or [])
    data["consent"] = list(consent)
    data["handle"] = handle
    change = write(ctx, lambda s: create_contact(s, data, actor=ctx.actor, now=utcnow()), dry_run=dry_run)
    ctx.emit({**change.as_dict(), "dry_run": dry_run}, f"{dry_prefix(dry_run)}created contact {change.key}")


def _show_data(session: Session, ctx: CliContext, handle: str) -> dict[str, Any]:
    contact = get_contact(session, handle)
    now = utcnow()
    return {
        **contact_data(contact),
        "consent": sorted(e.value for e in contact.consented()),
        "verification": verification_state(contact, ctx.config.policy, now),
        "domains": [{"name": d.ldh_name, "roles": [r for r in ROLES if getattr(d, f"{r}_id") == contact.id],
                     "live": d.deleted_at is None} for d in linked_domains(session, contact)],
    }


def _verification_text(v: dict[str, Any]) -> str:
    if not v["pending"]:
        return f"verified {v['verified_at']}" if v["verified_at"] else "not requested"
    state = "OVERDUE" if v["overdue"] else "pending"
    token = ", token sent" if v["token_outstanding"] else ", no token issued"
    return f"{state} since {v['requested_at']} (due {v['due']}{token})"


def _verification_short(v: dict[str, Any]) -> str:
    if v["pending"]:
        return "overdue" if v["overdue"] else "pending"
    return "verified" if v["verified_at"] else "-"


@contact_group.command("show")
@click.argument("handle")
@pass_ctx
def contact_show(ctx: CliContext, handle: str) -> None:
    """Show everything stored for contact HANDLE (staff view: personal data included).

    \b
    Example:
      registrar contact show JD1
    """
    data = read(ctx, lambda s: _show_data(s, ctx, handle))
    rows = [
        ("handle", data["handle"]), ("name", data["name"]), ("organization", data["organization"]),
        ("street", " / ".join(data["street"]) or None), ("city", data["city"]),
        ("state/province", data["state_province"]), ("postal code", data["postal_code"]),
        ("country", data["country_code"]),
        ("phone", data["phone"] + (f" ext {data['phone_ext']}" if data["phone_ext"] else "")
         if data["phone"] else None),
        ("fax", data["fax"] + (f" ext {data['fax_ext']}" if data["fax_ext"] else "")
         if data["fax"] else None),
        ("email", data["email"]), ("registry id", data["registry_roid"]),
        ("created", data["created_at"]), ("updated", data["updated_at"]),
        ("consent to publish", ", ".join(data["consent"]) or "none"),
        ("verification", _verification_text(data["verification"])),
        ("retention hold", data["retention_hold"]),
        ("erasure requested", data["erasure_requested_at"]), ("erased", data["erased_at"]),
        ("registrations", ", ".join(f"{d['name']} ({'/'.join(d['roles'])}{'' if d['live'] else ', ended'})"
                                    for d in data["domains"]) or "none"),
    ]
    width = max(len(k) for k, _ in rows)
    ctx.emit(data, "\n".join(f"{k.ljust(width)}  {'-' if v is None else v}" for k, v in rows))


@contact_group.command("list")
@click.option("--unverified", is_flag=True, help="Only contacts whose verification is pending.")
@click.option("--search", metavar="TEXT", help="Handle, name or email contains TEXT (case-insensitive).")
@click.option("--limit", type=click.IntRange(1, 10000), default=100, show_default=True,
              help="At most N rows.")
@pass_ctx
def contact_list(ctx: CliContext, unverified: bool, search: str | None, limit: int) -> None:
    """List contacts (handle, name, email, country, verification).

    \b
    Examples:
      registrar contact list --search example.net
      registrar --json contact list --unverified
    """

    policy, now = ctx.config.policy, utcnow()

    def run(session: Session) -> list[dict[str, Any]]:
        stmt = select(Contact).order_by(Contact.handle).limit(limit)
        if unverified:
            stmt = stmt.where(Contact.erased_at.is_(None), Contact.verification_requested_at.is_not(None),
                              or_(Contact.verified_at.is_(None),
                                  Contact.verified_at < Contact.verification_requested_at))
        if search:
            pattern = f"%{search.lower()}%"
            stmt = stmt.where(or_(func.lower(Contact.handle).like(pattern),
                                  func.lower(Contact.name).like(pattern),
                                  func.lower(Contact.email).like(pattern)))
        counts: dict[int, int] = {cid: n for cid, n in session.execute(
            select(Domain.registrant_id, func.count()).where(Domain.deleted_at.is_(None))
            .group_by(Domain.registrant_id))}
        out = []
        for c in session.scalars(stmt):
            state = "erased" if c.erased_at else _verification_short(verification_state(c, policy, now))
            out.append({"handle": c.handle, "name": c.name, "email": c.email, "country_code": c.country_code,
                        "verification": state, "registrations": counts.get(c.id, 0)})
        return out

    rows = read(ctx, run)
    ctx.emit(rows, table(["HANDLE", "NAME", "EMAIL", "CC", "VERIFICATION", "REGISTRATIONS"],
                         [[r["handle"], r["name"], r["email"], r["country_code"], r["verification"],
                           r["registrations"]] for r in rows]))


@contact_group.command("update")
@click.argument("handle")
@_contact_options
@click.option("--clear-street", is_flag=True, help="Remove all street lines.")
@click.option("--retention-hold", metavar="REASON", help="Legal hold that blocks erasure ('' lifts it).")
@dry_run_option
@pass_ctx
def contact_update(ctx: CliContext, handle: str, clear_street: bool, dry_run: bool, **fields: Any) -> None:
    """Correct contact HANDLE: give only the fields that change ('' clears an optional field).

    The change is journaled (field names, who, when) and shows in WHOIS/RDAP at once; the
    registries get it on the next sync. A new email address or phone number restarts verification.

    \b
    Examples:
      registrar contact update JD1 --email jane.doe@example.net
      registrar contact update JD1 --street "2 Side St" --street "Apt 4" --postal-code 62702
      registrar contact update JD1 --org ""
    """
    changes = {k: v for k, v in fields.items() if v is not None and k != "street"}
    if fields.get("street"):
        changes["street"] = list(fields["street"])
    if clear_street:
        if "street" in changes:
            raise click.UsageError("give --street or --clear-street, not both")
        changes["street"] = []
    if not changes:
        raise click.UsageError("nothing to change: give at least one field option (see --help)")
    change = write(ctx, lambda s: update_contact(s, handle, changes, actor=ctx.actor, now=utcnow()),
                   dry_run=dry_run)
    human = (f"{dry_prefix(dry_run)}updated contact {handle}: {', '.join(change.fields)}" if change.fields
             else f"contact {handle}: nothing changed")
    if change.note:
        human += f" ({change.note})"
    ctx.emit({**change.as_dict(), "dry_run": dry_run}, human)


def write_private_file(path: Path, text: str, *, force: bool) -> None:
    """Write ``text`` to a new file readable by its owner only (mode 0600 from the start).

    The file is created with ``O_CREAT | O_EXCL``, so an existing file (or a symbolic link) is
    never written through; with ``force`` a new private file is written beside it and renamed
    over it (atomic). Exits 1 naming ``output`` when the file exists without ``force`` or cannot
    be written.
    """
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0)
    target = path
    if force:
        target = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        fd = os.open(target, flags, 0o600)
    except FileExistsError:
        fail(f"output: {path} exists; pass --force to replace it")
        return
    except OSError as exc:
        fail(f"output: cannot create {path}: {exc.strerror}")
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        if force:
            os.replace(target, path)
    except OSError as exc:
        target.unlink(missing_ok=True)
        fail(f"output: cannot write {path}: {exc.strerror}")


@contact_group.command("export")
@click.argument("handle")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the JSON to this new file (mode 0600) instead of standard output.")
@click.option("--force", is_flag=True, help="Replace the --output file if it exists.")
@pass_ctx
def contact_export(ctx: CliContext, handle: str, output: Path | None, force: bool) -> None:
    """Export everything held on contact HANDLE as JSON (right of access).

    Contact data, the registrations they hold or are a contact for (live and ended), consent
    history, verification history, the journal entries about them and the journal entries
    (field names only) of the registrations they are or were linked to.

    With -o the file is created readable by its owner only (0600); an existing file is refused
    unless --force.

    \b
    Examples:
      registrar contact export JD1 -o jd1-export.json
      registrar contact export JD1 -o jd1-export.json --force
    """
    if force and output is None:
        raise click.UsageError("--force only goes with --output")
    data = read(ctx, lambda s: export_contact(s, handle, policy=ctx.config.policy, now=utcnow()))
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if output is None:
        click.echo(text)
    else:
        write_private_file(output, text + "\n", force=force)
        click.echo(f"wrote {output}", err=True)


def _erase_text(r: ErasureResult, dry_run: bool) -> str:
    if r.outcome == "erased":
        return (f"{dry_prefix(dry_run)}erased the personal data of contact {r.handle}; its handle is now "
                f"{r.new_handle}")
    when = f"on or after {ts(r.held_until)} (registrar retention purge)" if r.held_until else \
        "when the retention hold is lifted (contact update --retention-hold '') and retention purge runs"
    prefix = "dry run, nothing written: " if dry_run else ""
    return (f"{prefix}erasure of contact {r.handle} recorded but held: {r.hold_reason}; "
            f"the data will be removed {when}")


@contact_group.command("erase")
@click.argument("handle")
@yes_option
@dry_run_option
@pass_ctx
def contact_erase(ctx: CliContext, handle: str, yes: bool, dry_run: bool) -> None:
    """Erase the personal data of contact HANDLE (right to erasure).

    Refused while the contact holds or is a contact of a live registration (move or delete those
    first). If the data must still be kept (retention period after a registration ended, or a
    retention hold) the request is recorded and `registrar retention purge` removes the data when
    the period ends. Otherwise every personal value is replaced by a tombstone at once, and the
    handle by ERASED-<id> (in the journal too): use the new handle from then on.

    \b
    Examples:
      registrar contact erase JD1 --dry-run
      registrar contact erase JD1 --yes
    """
    policy = ctx.config.policy

    def run(s: Session) -> ErasureResult:
        return erase_contact(s, handle, actor=ctx.actor, now=utcnow(), policy=policy)

    def question(r: ErasureResult) -> str:
        if r.outcome == "erased":
            return f"Erase the personal data of contact {r.handle} now? This cannot be undone."
        return f"Record the erasure request of contact {r.handle} (held: {r.hold_reason})?"

    result, was_dry = destructive(ctx, run, question=question, yes=yes, dry_run=dry_run)
    ctx.emit({**result.as_dict(), "dry_run": was_dry}, _erase_text(result, was_dry))


@contact_group.group("consent")
def consent_group() -> None:
    """Consent to publish contact elements in WHOIS/RDAP (effective immediately).

    \b
    Elements: name, organization, street, city, postal_code, phone, fax, email, registry_id
    Examples:
      registrar contact consent grant JD1 organization email
      registrar contact consent withdraw JD1 email
    """


def _consent(ctx: CliContext, handle: str, elements: tuple[str, ...], granted: bool, dry_run: bool) -> None:
    change: Change = write(ctx, lambda s: set_consent(s, handle, list(elements), granted, actor=ctx.actor,
                                                      now=utcnow()), dry_run=dry_run)
    verb = "granted" if granted else "withdrew"
    if change.fields:
        human = f"{dry_prefix(dry_run)}{verb} consent for {handle}: " + \
            ", ".join(f.removeprefix("consent.") for f in change.fields)
    else:
        human = f"contact {handle}: consent unchanged"
    human += f"\nnow published with consent: {', '.join(change.extra['consent']) or 'nothing'}"
    ctx.emit({**change.as_dict(), "dry_run": dry_run}, human)


@consent_group.command("grant")
@click.argument("handle")
@click.argument("elements", nargs=-1, required=True, metavar="ELEMENT...")
@dry_run_option
@pass_ctx
def consent_grant(ctx: CliContext, handle: str, elements: tuple[str, ...], dry_run: bool) -> None:
    """Record that contact HANDLE consents to publish ELEMENT(s).

    \b
    Example:
      registrar contact consent grant JD1 name organization
    """
    _consent(ctx, handle, elements, True, dry_run)


@consent_group.command("withdraw")
@click.argument("handle")
@click.argument("elements", nargs=-1, required=True, metavar="ELEMENT...")
@dry_run_option
@pass_ctx
def consent_withdraw(ctx: CliContext, handle: str, elements: tuple[str, ...], dry_run: bool) -> None:
    """Record that contact HANDLE withdraws consent to publish ELEMENT(s).

    \b
    Example:
      registrar contact consent withdraw JD1 email
    """
    _consent(ctx, handle, elements, False, dry_run)
