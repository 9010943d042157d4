"""``registrar host``: name server host objects."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from registrar.cli.context import CliContext, pass_ctx
from registrar.cli.helpers import destructive, dry_prefix, dry_run_option, read, table, ts, write, yes_option
from registrar.models import Host
from registrar.operations import Change, create_host, delete_host, get_host, update_host
from registrar.storage import host_in_use, utcnow


@click.group("host")
def host_group() -> None:
    """Name server hosts referenced by registrations.

    \b
    Examples:
      registrar host create ns1.example.com --address 192.0.2.1 --address 2001:db8::1
      registrar host update ns1.example.com --remove-address 192.0.2.1
      registrar host delete ns1.example.com --yes
    """


@host_group.command("create")
@click.argument("name")
@click.option("--address", "addresses", multiple=True, metavar="IP",
              help="Glue address, IPv4 or IPv6 (repeatable).")
@dry_run_option
@pass_ctx
def host_create(ctx: CliContext, name: str, addresses: tuple[str, ...], dry_run: bool) -> None:
    """Create host NAME (at least three labels), with optional glue addresses.

    Glue (--address) only for a host under one of our live registrations (e.g. ns1.example.com
    when we sponsor example.com); any other host is an external name server, without glue.

    \b
    Examples:
      registrar host create ns1.dns.example.net
      registrar host create ns1.example.com --address 192.0.2.1
    """
    change = write(ctx, lambda s: create_host(s, name, list(addresses), actor=ctx.actor, now=utcnow()),
                   dry_run=dry_run)
    ctx.emit({**change.as_dict(), "dry_run": dry_run}, f"{dry_prefix(dry_run)}created host {change.key}")


@host_group.command("update")
@click.argument("name")
@click.option("--add-address", multiple=True, metavar="IP", help="Add a glue address (repeatable).")
@click.option("--remove-address", multiple=True, metavar="IP", help="Remove a glue address (repeatable).")
@dry_run_option
@pass_ctx
def host_update(ctx: CliContext, name: str, add_address: tuple[str, ...], remove_address: tuple[str, ...],
                dry_run: bool) -> None:
    """Add or remove glue addresses of host NAME.

    Addresses can be added only while NAME is under one of our live registrations; removing
    them is always possible.

    \b
    Example:
      registrar host update ns1.example.com --add-address 198.51.100.7 --remove-address 192.0.2.1
    """
    if not add_address and not remove_address:
        raise click.UsageError("nothing to change: give --add-address or --remove-address")
    change: Change = write(ctx, lambda s: update_host(s, name, add=add_address, remove=remove_address,
                                                      actor=ctx.actor, now=utcnow()), dry_run=dry_run)
    human = f"{dry_prefix(dry_run)}updated host {change.key} ({change.note})" if change.fields \
        else f"host {change.key}: nothing changed"
    ctx.emit({**change.as_dict(), "dry_run": dry_run}, human)


@host_group.command("delete")
@click.argument("name")
@yes_option
@dry_run_option
@pass_ctx
def host_delete(ctx: CliContext, name: str, yes: bool, dry_run: bool) -> None:
    """Delete host NAME; refused while a live registration uses it (the refusal names them).

    \b
    Example:
      registrar host delete ns1.example.com --yes
    """
    change, was_dry = destructive(ctx, lambda s: delete_host(s, name, actor=ctx.actor, now=utcnow()),
                                  question=lambda c: f"Delete host {c.key}?", yes=yes, dry_run=dry_run)
    ctx.emit({**change.as_dict(), "dry_run": was_dry}, f"{dry_prefix(was_dry)}deleted host {change.key}")


def _host_data(s: Session, name: str) -> dict[str, Any]:
    host = get_host(s, name)
    return {"name": host.ldh_name, "registry_roid": host.registry_roid,
            "addresses": [a.address for a in host.addresses], "created_at": ts(host.created_at),
            "updated_at": ts(host.updated_at), "used_by": host_in_use(s, host)}


@host_group.command("show")
@click.argument("name")
@pass_ctx
def host_show(ctx: CliContext, name: str) -> None:
    """Show host NAME: glue addresses and the live registrations delegated to it.

    \b
    Example:
      registrar host show ns1.example.com
    """
    data = read(ctx, lambda s: _host_data(s, name))
    rows = [("name", data["name"]), ("registry id", data["registry_roid"] or "-"),
            ("addresses", " ".join(data["addresses"]) or "-"), ("created", data["created_at"]),
            ("updated", data["updated_at"]), ("used by", ", ".join(data["used_by"]) or "-")]
    ctx.emit(data, "\n".join(f"{k.ljust(11)}  {v}" for k, v in rows))


@host_group.command("list")
@click.option("--limit", type=click.IntRange(1, 100000), default=100, show_default=True,
              help="At most N rows.")
@pass_ctx
def host_list(ctx: CliContext, limit: int) -> None:
    """List hosts with their glue addresses.

    \b
    Example:
      registrar host list --limit 20
    """

    def run(s: Session) -> list[dict[str, Any]]:
        stmt = select(Host).options(selectinload(Host.addresses)).order_by(Host.ldh_name).limit(limit)
        hosts = s.scalars(stmt)
        return [{"name": h.ldh_name, "addresses": [a.address for a in h.addresses]} for h in hosts]

    rows = read(ctx, run)
    ctx.emit(rows, table(["HOST", "ADDRESSES"], [[r["name"], " ".join(r["addresses"]) or "-"] for r in rows]))
