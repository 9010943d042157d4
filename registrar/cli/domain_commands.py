"""``registrar domain``: create, show, list, update, renew, delete, restore."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import click
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from registrar.cli.context import CliContext, pass_ctx
from registrar.cli.helpers import destructive, dry_prefix, dry_run_option, read, table, ts, write, yes_option
from registrar.models import Contact, Domain
from registrar.operations import (
    MAX_TERM_YEARS,
    REDEMPTION_DAYS,
    Change,
    DomainUpdate,
    create_domain,
    delete_domain,
    get_contact,
    get_domain,
    parse_ds_text,
    renew_domain,
    restore_domain,
    update_domain,
)
from registrar.privacy import contact_data
from registrar.storage import utcnow
from registrar.validation import EPP_CLIENT_STATUSES, normalize_domain

CLIENT_STATUSES = sorted(EPP_CLIENT_STATUSES)
PERIOD = click.IntRange(1, MAX_TERM_YEARS)


@click.group("domain")
def domain_group() -> None:
    """Registrations: create, inspect, change, renew, delete and restore.

    \b
    Examples:
      registrar domain create example.com --registrant JD1 --ns ns1.dns.example.net --ns ns2.dns.example.net
      registrar domain update example.com --add-status clientTransferProhibited
      registrar domain renew example.com --period 2
      registrar domain delete example.com --yes
      registrar domain restore example.com
    """


def _done(ctx: CliContext, change: Change, dry_run: bool, verb: str) -> None:
    if change.fields or change.action != "update":
        human = f"{dry_prefix(dry_run)}{verb} {change.key}"
        if change.fields:
            human += f": {', '.join(change.fields)}"
        if change.note:
            human += f" ({change.note})"
    else:
        human = f"{change.key}: nothing changed"
    if change.extra.get("created_hosts"):
        human += f"\ncreated external host(s) without glue: {', '.join(change.extra['created_hosts'])}"
    ctx.emit({**change.as_dict(), "dry_run": dry_run}, human)


@domain_group.command("create")
@click.argument("name")
@click.option("--registrant", metavar="HANDLE", help="Registrant contact (the registered name holder).")
@click.option("--tech", metavar="HANDLE", help="Technical contact.")
@click.option("--admin", metavar="HANDLE", help="Administrative contact (kept private, never published).")
@click.option("--billing", metavar="HANDLE", help="Billing contact (kept private, never published).")
@click.option("--ns", "nameservers", multiple=True, metavar="HOST",
              help="Name server host (repeatable, in order).")
@click.option("--ds", multiple=True, metavar="'TAG ALG TYPE DIGEST'", help="DS record (repeatable).")
@click.option("--status", "statuses", multiple=True, metavar="STATUS",
              help=f"Client status to set (repeatable): {', '.join(CLIENT_STATUSES)}.")
@click.option("--period", type=PERIOD,
              help="Registration period in years [default: policy.default_period_years].")
@click.option("--reseller", help="Reseller name, if any (published).")
@dry_run_option
@pass_ctx
def domain_create(ctx: CliContext, name: str, registrant: str | None, tech: str | None, admin: str | None,
                  billing: str | None, nameservers: tuple[str, ...], ds: tuple[str, ...],
                  statuses: tuple[str, ...], period: int | None, reseller: str | None, dry_run: bool) -> None:
    """Register NAME (A-label or U-label) for the REGISTRANT contact.

    Name servers not yet known are created as external hosts without glue (create in-bailiwick
    hosts with their addresses first: `registrar host create`). An authInfo code is generated and
    never displayed. The registrant needs street, postal code, phone and email (RAA 3.3.1). A name
    deleted before can be registered again 35 days after its delete (redemption + pending delete).

    \b
    Examples:
      registrar domain create example.com --registrant JD1 --tech JD1 --ns ns1.dns.example.net
      registrar domain create bücher.example --registrant JD1 --period 2 --status clientTransferProhibited
    """

    def run(s: Session) -> Change:
        ds_records = []
        for i, text in enumerate(ds):
            tag, alg, dtype, digest = parse_ds_text(text, f"ds[{i}]")
            ds_records.append({"key_tag": tag, "algorithm": alg, "digest_type": dtype, "digest": digest})
        data = {"name": name, "registrant": registrant, "tech": tech, "admin": admin, "billing": billing,
                "nameservers": list(nameservers), "ds": ds_records, "statuses": list(statuses),
                "reseller": reseller}
        return create_domain(s, data, actor=ctx.actor, now=utcnow(), policy=ctx.config.policy,
                             period_years=period)

    change = write(ctx, run, dry_run=dry_run)
    human = f"{dry_prefix(dry_run)}created {change.key}, expires {ts(change.extra['registrar_expires_at'])}"
    if change.extra["created_hosts"]:
        human += f"\ncreated external host(s) without glue: {', '.join(change.extra['created_hosts'])}"
    ctx.emit({**change.as_dict(), "dry_run": dry_run}, human)


def _state(d: Domain) -> str:
    if d.deleted_at is None:
        return "active"
    if "redemptionPeriod" in d.rgp_statuses and utcnow() <= d.deleted_at + timedelta(days=REDEMPTION_DAYS):
        return "redemption"
    return "deleted"  # statuses of an earlier registration are history once its redemption is over


def _contact_block(c: Contact | None) -> dict[str, Any] | None:
    if c is None:
        return None
    data = contact_data(c)
    data["consent"] = sorted(e.value for e in c.consented())
    return data


def domain_data(d: Domain) -> dict[str, Any]:
    """The stored registration for staff (contacts' personal data included; authInfo never)."""
    return {
        "name": d.ldh_name, "unicode_name": d.unicode_name, "tld": d.tld, "registry_roid": d.registry_roid,
        "state": _state(d), "created_at": ts(d.created_at), "updated_at": ts(d.updated_at),
        "registrar_expires_at": ts(d.registrar_expires_at),
        "registry_expires_at": ts(d.registry_expires_at) if d.registry_expires_at else None,
        "transferred_at": ts(d.transferred_at) if d.transferred_at else None,
        "deleted_at": ts(d.deleted_at) if d.deleted_at else None,
        "sponsorship_ended_at": ts(d.sponsorship_ended_at) if d.sponsorship_ended_at else None,
        "personal_data_purged_at": ts(d.personal_data_purged_at) if d.personal_data_purged_at else None,
        "statuses": list(d.statuses), "rgp_statuses": list(d.rgp_statuses), "reseller": d.reseller,
        "contacts": {role: _contact_block(getattr(d, role))
                     for role in ("registrant", "tech", "admin", "billing")},
        "nameservers": [{"name": link.host.ldh_name, "addresses": [a.address for a in link.host.addresses]}
                        for link in d.nameservers],
        "ds_records": [{"key_tag": x.key_tag, "algorithm": x.algorithm, "digest_type": x.digest_type,
                        "digest": x.digest} for x in d.ds_records],
    }


def _human_domain(data: dict[str, Any]) -> str:
    rows: list[tuple[str, Any]] = [
        ("name", data["name"] + (f" ({data['unicode_name']})" if data["unicode_name"] else "")),
        ("state", data["state"]), ("registry id", data["registry_roid"]),
        ("created", data["created_at"]), ("updated", data["updated_at"]),
        ("registrar expiry", data["registrar_expires_at"]), ("registry expiry", data["registry_expires_at"]),
        ("transferred", data["transferred_at"]), ("deleted", data["deleted_at"]),
        ("sponsorship ended", data["sponsorship_ended_at"]),
        ("personal data purged", data["personal_data_purged_at"]),
        ("statuses", " ".join(dict.fromkeys(data["statuses"] + data["rgp_statuses"])) or "ok"),
        ("reseller", data["reseller"]),
    ]
    for role, c in data["contacts"].items():
        if c is None:
            continue
        parts = [c["name"], c["organization"], *c["street"], c["city"], c["state_province"], c["postal_code"],
                 c["country_code"], c["phone"], c["email"]]
        consent = f"; consent: {', '.join(c['consent'])}" if c["consent"] else ""
        erased = " [erased]" if c["erased_at"] else ""
        rows.append((role, f"{c['handle']}{erased}: " + ", ".join(p for p in parts if p) + consent))
    for ns in data["nameservers"]:
        rows.append(("name server", " ".join([ns["name"], *ns["addresses"]])))
    for x in data["ds_records"]:
        rows.append(("DS", f"{x['key_tag']} {x['algorithm']} {x['digest_type']} {x['digest']}"))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {'-' if v is None else v}" for k, v in rows)


@domain_group.command("show")
@click.argument("name")
@pass_ctx
def domain_show(ctx: CliContext, name: str) -> None:
    """Show the stored registration NAME, deleted ones too (staff view; authInfo is never shown).

    For what the public sees use `registrar whois NAME` or `registrar rdap NAME`.

    \b
    Example:
      registrar domain show example.com
    """
    data = read(ctx, lambda s: domain_data(get_domain(s, name, include_deleted=True)))
    ctx.emit(data, _human_domain(data))


@domain_group.command("list")
@click.option("--contact", metavar="HANDLE", help="Only registrations naming this contact in any role.")
@click.option("--tld", help="Only this TLD.")
@click.option("--status", help="Only registrations with this EPP or RGP status.")
@click.option("--deleted", "which", flag_value="deleted", help="Only deleted registrations.")
@click.option("--all", "which", flag_value="all", help="Live and deleted registrations.")
@click.option("--limit", type=click.IntRange(1, 100000), default=100, show_default=True,
              help="At most N rows.")
@pass_ctx
def domain_list(ctx: CliContext, contact: str | None, tld: str | None, status: str | None, which: str | None,
                limit: int) -> None:
    """List registrations (live ones unless --deleted or --all).

    \b
    Examples:
      registrar domain list --contact JD1
      registrar --json domain list --status clientHold
    """

    def run(s: Session) -> list[dict[str, Any]]:
        stmt = select(Domain).options(joinedload(Domain.registrant)).order_by(Domain.ldh_name)
        if which == "deleted":
            stmt = stmt.where(Domain.deleted_at.is_not(None))
        elif which != "all":
            stmt = stmt.where(Domain.deleted_at.is_(None))
        if contact:
            c = get_contact(s, contact, field_name="contact")
            stmt = stmt.where(or_(Domain.registrant_id == c.id, Domain.tech_id == c.id,
                                  Domain.admin_id == c.id, Domain.billing_id == c.id))
        if tld:
            stmt = stmt.where(Domain.tld == normalize_domain(f"x.{tld.lstrip('.')}", "tld").tld)
        rows = []
        # status lives in JSON arrays: filter in Python, streaming in chunks
        for d in s.scalars(stmt.execution_options(yield_per=1000)):
            if status and status not in d.statuses and status not in d.rgp_statuses:
                continue
            rows.append({"name": d.ldh_name, "state": _state(d), "registrant": d.registrant.handle,
                         "registrar_expires_at": ts(d.registrar_expires_at),
                         "statuses": list(dict.fromkeys([*d.statuses, *d.rgp_statuses]))})
            if len(rows) >= limit:
                break
        return rows

    rows = read(ctx, run)
    ctx.emit(rows, table(["DOMAIN", "STATE", "REGISTRANT", "EXPIRES", "STATUSES"],
                         [[r["name"], r["state"], r["registrant"], r["registrar_expires_at"],
                           " ".join(r["statuses"]) or "ok"] for r in rows]))


@domain_group.command("update")
@click.argument("name")
@click.option("--add-ns", multiple=True, metavar="HOST", help="Add a name server (repeatable).")
@click.option("--remove-ns", multiple=True, metavar="HOST", help="Remove a name server (repeatable).")
@click.option("--add-status", multiple=True, metavar="STATUS",
              help=f"Set a client status (repeatable): {', '.join(CLIENT_STATUSES)}.")
@click.option("--remove-status", multiple=True, metavar="STATUS", help="Remove a client status (repeatable).")
@click.option("--add-ds", multiple=True, metavar="'TAG ALG TYPE DIGEST'",
              help="Add a DS record (repeatable).")
@click.option("--remove-ds", multiple=True, metavar="'TAG ALG TYPE DIGEST'", help="Remove a DS record.")
@click.option("--remove-all-ds", is_flag=True, help="Remove every DS record (go unsigned).")
@click.option("--registrant", metavar="HANDLE", help="New registrant contact.")
@click.option("--tech", metavar="HANDLE", help="New technical contact.")
@click.option("--clear-tech", is_flag=True, help="Remove the technical contact.")
@click.option("--admin", metavar="HANDLE", help="New administrative contact (private).")
@click.option("--clear-admin", is_flag=True, help="Remove the administrative contact.")
@click.option("--billing", metavar="HANDLE", help="New billing contact (private).")
@click.option("--clear-billing", is_flag=True, help="Remove the billing contact.")
@dry_run_option
@pass_ctx
def domain_update(ctx: CliContext, name: str, add_ns: tuple[str, ...], remove_ns: tuple[str, ...],
                  add_status: tuple[str, ...], remove_status: tuple[str, ...], add_ds: tuple[str, ...],
                  remove_ds: tuple[str, ...], remove_all_ds: bool, registrant: str | None, tech: str | None,
                  clear_tech: bool, admin: str | None, clear_admin: bool, billing: str | None,
                  clear_billing: bool, dry_run: bool) -> None:
    """Change name servers, client statuses, DS records or contacts of NAME.

    All changes are applied together or not at all, and journaled. Only client* statuses may be
    set or removed; server* statuses belong to the registry. A new registrant needs street, postal
    code, phone and email; if it is not verified its verification is requested, and a clientHold
    that verification put on the registration for the previous registrant is lifted.

    \b
    Examples:
      registrar domain update example.com --add-ns ns3.dns.example.net --remove-ns ns1.dns.example.net
      registrar domain update example.com --add-status clientHold --dry-run
      registrar domain update example.com --add-ds "12345 13 2 4F3A...C2"
      registrar domain update example.com --registrant JD2 --clear-tech
    """
    upd = DomainUpdate(add_nameservers=add_ns, remove_nameservers=remove_ns, add_statuses=add_status,
                       remove_statuses=remove_status, add_ds=add_ds, remove_ds=remove_ds,
                       remove_all_ds=remove_all_ds, registrant=registrant, tech=tech, clear_tech=clear_tech,
                       admin=admin, clear_admin=clear_admin, billing=billing, clear_billing=clear_billing)
    if upd == DomainUpdate():
        raise click.UsageError("nothing to change: give at least one option (see --help)")
    change = write(ctx, lambda s: update_domain(s, name, upd, actor=ctx.actor, now=utcnow()), dry_run=dry_run)
    _done(ctx, change, dry_run, "updated")


@domain_group.command("renew")
@click.argument("name")
@click.option("--period", type=PERIOD, default=1, show_default=True, help="Years to add.")
@dry_run_option
@pass_ctx
def domain_renew(ctx: CliContext, name: str, period: int, dry_run: bool) -> None:
    """Extend the registrar expiry of NAME by --period years (10 years from today at most).

    \b
    Example:
      registrar domain renew example.com --period 2
    """
    change = write(ctx, lambda s: renew_domain(s, name, period, actor=ctx.actor, now=utcnow()),
                   dry_run=dry_run)
    ctx.emit({**change.as_dict(), "dry_run": dry_run},
             f"{dry_prefix(dry_run)}renewed {change.key} until {ts(change.extra['registrar_expires_at'])}")


@domain_group.command("delete")
@click.argument("name")
@yes_option
@dry_run_option
@pass_ctx
def domain_delete(ctx: CliContext, name: str, yes: bool, dry_run: bool) -> None:
    """Delete NAME: it enters the redemption period and disappears from WHOIS and RDAP at once.

    It can be restored for 30 days (`registrar domain restore`). The record is kept for the
    retention period, then `registrar retention purge` removes its personal data.

    \b
    Examples:
      registrar domain delete example.com --dry-run
      registrar domain delete example.com --yes
    """
    def question(c: Change) -> str:
        return f"Delete {c.key}? It leaves WHOIS/RDAP now and can be restored for {REDEMPTION_DAYS} days."

    change, was_dry = destructive(ctx, lambda s: delete_domain(s, name, actor=ctx.actor, now=utcnow()),
                                  question=question, yes=yes, dry_run=dry_run)
    ctx.emit({**change.as_dict(), "dry_run": was_dry},
             f"{dry_prefix(was_dry)}deleted {change.key}: pendingDelete redemptionPeriod, restorable until "
             f"{ts(change.extra['restorable_until'])}")


@domain_group.command("restore")
@click.argument("name")
@dry_run_option
@pass_ctx
def domain_restore(ctx: CliContext, name: str, dry_run: bool) -> None:
    """Restore the deleted registration NAME (within the 30-day redemption period).

    \b
    Example:
      registrar domain restore example.com
    """
    change = write(ctx, lambda s: restore_domain(s, name, actor=ctx.actor, now=utcnow()), dry_run=dry_run)
    _done(ctx, change, dry_run, "restored")
