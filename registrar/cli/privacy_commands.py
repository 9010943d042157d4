"""``registrar verification``, ``registrar retention`` and ``registrar audit``."""

from __future__ import annotations

import sys
from datetime import datetime

import click

from registrar.cli.context import CliContext, fail, pass_ctx
from registrar.cli.helpers import (
    TIMESTAMP,
    destructive,
    dry_prefix,
    dry_run_option,
    read,
    stdin_is_terminal,
    table,
    ts,
    write,
    yes_option,
)
from registrar.operations import journal_entries
from registrar.privacy import (
    Overdue,
    PurgeResult,
    apply_holds,
    confirm_verification,
    entry_data,
    overdue_contacts,
    purge_retention,
    start_verification,
)
from registrar.storage import utcnow
from registrar.validation import ValidationError, normalize_domain, validate_handle

# ------------------------------------------------------------------------------------------ verification


@click.group("verification")
def verification_group() -> None:
    """Contact verification (ICANN Whois Accuracy Program: verify within the configured days or suspend).

    \b
    Examples:
      registrar verification start JD1          # prints a token to send to the contact
      registrar verification confirm JD1 TOKEN  # the contact answered: verified, holds lifted
      registrar verification overdue            # who missed the deadline
      registrar verification overdue --apply    # put their registrations on clientHold (asks first)
    """


@verification_group.command("start")
@click.argument("handle")
@dry_run_option
@pass_ctx
def verification_start(ctx: CliContext, handle: str, dry_run: bool) -> None:
    """Issue a verification token for contact HANDLE and print it once.

    Only a hash of the token is stored; a new token replaces any earlier one. A pending
    deadline is not extended by issuing a new token.

    \b
    Example:
      registrar verification start JD1
    """
    started = write(ctx, lambda s: start_verification(s, handle, actor=ctx.actor, now=utcnow(),
                                                      policy=ctx.config.policy), dry_run=dry_run)
    if dry_run:
        ctx.emit({"handle": handle, "dry_run": True, "due": ts(started.due)},
                 f"{dry_prefix(True)}issued a verification token for {handle} (due {ts(started.due)})")
        return
    ctx.emit({"handle": handle, "token": started.token, "requested_at": ts(started.requested_at),
              "due": ts(started.due), "dry_run": False},
             f"verification token for {handle} (send it to the contact; it is shown only now):\n"
             f"  {started.token}\nverification due by {ts(started.due)}")


@verification_group.command("confirm")
@click.argument("handle")
@click.argument("token", required=False)
@dry_run_option
@pass_ctx
def verification_confirm(ctx: CliContext, handle: str, token: str | None, dry_run: bool) -> None:
    """Confirm contact HANDLE with the TOKEN they sent back (read from stdin when omitted).

    Lifts clientHold from the contact's registrations where verification put it.

    \b
    Examples:
      registrar verification confirm JD1 Qm9...
      echo Qm9... | registrar verification confirm JD1
    """
    if token is None:
        if stdin_is_terminal():
            token = click.prompt("token", hide_input=True)
        else:
            token = sys.stdin.readline().strip()
    if not token:
        fail("token: required")
    result = write(ctx, lambda s: confirm_verification(s, handle, token or "", actor=ctx.actor, now=utcnow()),
                   dry_run=dry_run)
    human = f"{dry_prefix(dry_run)}verified contact {handle}"
    if result.released:
        human += f"; clientHold lifted from {', '.join(result.released)}"
    ctx.emit({"handle": handle, "verified_at": ts(result.verified_at), "released": list(result.released),
              "dry_run": dry_run}, human)


@verification_group.command("overdue")
@click.option("--apply", "apply_", is_flag=True,
              help="Put clientHold on the overdue contacts' registrations (asks first unless --yes).")
@yes_option
@dry_run_option
@pass_ctx
def verification_overdue(ctx: CliContext, apply_: bool, yes: bool, dry_run: bool) -> None:
    """List contacts that did not verify within policy.verification_days; --apply suspends them.

    With --apply, every live registration held by an overdue contact (as registrant) gets
    clientHold (journaled); `verification confirm` lifts it again. Registrations with
    serverUpdateProhibited are skipped and listed. --apply shows what it would hold and asks for
    confirmation unless --yes (it refuses to ask when standard input is not a terminal).

    \b
    Examples:
      registrar verification overdue
      registrar verification overdue --apply --dry-run
      registrar verification overdue --apply
      registrar --json verification overdue --apply --yes    # cron
    """
    policy = ctx.config.policy
    was_dry = dry_run
    if apply_:
        def question(preview: list[Overdue]) -> str | None:
            held = sum(len(o.held_now) for o in preview)
            if not held:
                return None
            return (f"Put clientHold on {held} registration(s) of {len(preview)} overdue contact(s)? They stop "
                    "resolving until the contacts verify.")

        items, was_dry = destructive(ctx, lambda s: apply_holds(s, actor=ctx.actor, now=utcnow(), policy=policy),
                                     question=question, yes=yes, dry_run=dry_run)
    else:
        items = read(ctx, lambda s: overdue_contacts(s, now=utcnow(), policy=policy))
    rows = [[o.handle, ts(o.requested_at), ts(o.due), len(o.domains),
             (" ".join(o.held_now) or "-") if apply_ else len(o.on_hold)] for o in items]
    headers = ["HANDLE", "REQUESTED", "DUE", "REGISTRATIONS", "HELD NOW" if apply_ else "ON HOLD"]
    held = sum(len(o.held_now) for o in items)
    skipped = [name for o in items for name in o.skipped]
    summary = f"{len(items)} overdue contact(s)"
    if apply_:
        summary += f"; {dry_prefix(was_dry)}put clientHold on {held} registration(s)"
        if skipped:
            summary += f"; skipped (serverUpdateProhibited): {', '.join(skipped)}"
    ctx.emit({"overdue": [o.as_dict() for o in items], "applied": apply_ and not was_dry, "dry_run": was_dry},
             (table(headers, rows) + "\n" if items else "") + summary)


# -------------------------------------------------------------------------------------------- retention


@click.group("retention")
def retention_group() -> None:
    """Data retention: remove personal data once the retention period is over.

    \b
    Example:
      registrar retention purge --dry-run
      registrar retention purge --yes
    """


@retention_group.command("purge")
@yes_option
@dry_run_option
@pass_ctx
def retention_purge(ctx: CliContext, yes: bool, dry_run: bool) -> None:
    """Erase the personal data of contacts whose registrations all ended over policy.retention_days ago.

    Contacts that hold a live registration or carry a retention hold are kept. Their values are
    replaced by tombstones, the ended registrations are marked purged, and all is journaled.

    \b
    Examples:
      registrar retention purge --dry-run
      registrar retention purge --yes
    """
    policy = ctx.config.policy

    def question(r: PurgeResult) -> str | None:
        if not r.contacts:
            return None
        return f"Erase the personal data of {len(r.contacts)} contact(s)? This cannot be undone."

    result, was_dry = destructive(ctx, lambda s: purge_retention(s, actor=ctx.actor, now=utcnow(),
                                                                 policy=policy),
                                  question=question, yes=yes, dry_run=dry_run)
    human = f"{dry_prefix(was_dry)}purged the personal data of {len(result.contacts)} contact(s) " \
            f"and {len(result.domains)} registration(s) that ended before {ts(result.cutoff)}"
    if result.contacts:
        human += "\ncontacts (handle now): " + ", ".join(
            f"{old} ({new})" for old, new in zip(result.contacts, result.new_handles, strict=True))
    ctx.emit({**result.as_dict(), "dry_run": was_dry}, human)


# ------------------------------------------------------------------------------------------------ audit


def _object_filter(value: str | None) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    kind, sep, key = value.partition(":")
    if not sep or kind not in ("contact", "domain", "host") or not key:
        raise click.BadParameter("use TYPE:KEY with TYPE contact, domain or host (e.g. domain:example.com)",
                                 param_hint="--object")
    try:
        if kind == "contact":
            key = validate_handle(key, "object")
        else:
            key = normalize_domain(key, "object", min_labels=3 if kind == "host" else 2).a_label
    except ValidationError as exc:
        raise click.BadParameter(exc.rule, param_hint="--object") from None
    return kind, key


@click.command("audit")
@click.option("--object", "object_", metavar="TYPE:KEY",
              help="Only this object, e.g. contact:JD1 or domain:example.com.")
@click.option("--actor", "who", metavar="ACTOR", help="Only changes made by ACTOR.")
@click.option("--since", type=TIMESTAMP, help="Only changes at or after this RFC 3339 time.")
@click.option("--action", help="Only this action (create, update, delete, erase, consent-grant, ...).")
@click.option("--limit", type=click.IntRange(1, 100000), default=50, show_default=True,
              help="At most N entries.")
@pass_ctx
def audit_command(ctx: CliContext, object_: str | None, who: str | None, since: datetime | None,
                  action: str | None, limit: int) -> None:
    """Who changed which fields of what, and when (newest first). Values are never shown.

    \b
    Examples:
      registrar audit --object domain:example.com
      registrar audit --actor alice --since 2026-01-01T00:00:00Z
      registrar --json audit --object contact:JD1 --limit 500
    """
    kind, key = _object_filter(object_)
    entries = read(ctx, lambda s: [entry_data(e) for e in journal_entries(
        s, object_type=kind, object_key=key, actor=who, since=since, action=action, limit=limit)])
    ctx.emit(entries, table(["ID", "AT", "ACTOR", "OBJECT", "ACTION", "FIELDS", "NOTE"],
                            [[e["id"], e["at"], e["actor"], e["object"], e["action"],
                              ", ".join(e["fields"]) or "-", e["note"] or "-"] for e in entries]))
