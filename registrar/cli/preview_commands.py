"""``registrar whois`` and ``registrar rdap``: exactly what the public sees, from the same public record."""

from __future__ import annotations

import json

import click

from registrar.cli.context import CliContext, fail, pass_ctx
from registrar.publication.rdap_json import domain_response, error_response
from registrar.publication.record import PublicRecord, build_public_record, registrar_info
from registrar.publication.whois_text import format_domain, format_no_match
from registrar.storage import find_domain, utcnow
from registrar.validation import ValidationError, normalize_domain


def _public_record(ctx: CliContext, name: str) -> tuple[str, PublicRecord | None]:
    try:
        a_label = normalize_domain(name, "domain").a_label
    except ValidationError as exc:
        fail(str(exc))
        raise AssertionError from None  # unreachable: fail() exits
    config = ctx.config
    with ctx.db.transaction(readonly=True) as session:
        domain = find_domain(session, a_label)
        record = None if domain is None else build_public_record(domain, config.registrar, config.privacy)
    return a_label, record


@click.command("whois")
@click.argument("domain")
@pass_ctx
def whois_command(ctx: CliContext, domain: str) -> None:
    """Print the port-43 reply for DOMAIN (U-label or A-label), byte for byte as served (CRLF).

    Exits 1 when the public would get "No match" (not sponsored, or deleted).

    \b
    Example:
      registrar whois bücher-beispiel.example
    """
    a_label, record = _public_record(ctx, domain)
    config = ctx.config
    if record is None:
        text = format_no_match(a_label, utcnow(), config.registrar.terms_of_use)
    else:
        text = format_domain(record, utcnow(), redaction_text=config.privacy.redaction_text)
    click.echo(text, nl=False)
    if record is None:
        raise SystemExit(1)


@click.command("rdap")
@click.argument("domain")
@pass_ctx
def rdap_command(ctx: CliContext, domain: str) -> None:
    """Print the RDAP response for DOMAIN as served at the registered RDAP base URL.

    Exits 1 when the public would get 404 (not sponsored, or deleted).

    \b
    Example:
      registrar rdap acme-widgets.example
    """
    a_label, record = _public_record(ctx, domain)
    url = f"{ctx.config.registrar.rdap_base_url}domain/{a_label}"
    if record is None:
        body = error_response(404, "Not Found", [f"{a_label} is not a domain sponsored by this registrar."],
                              url, registrar=registrar_info(ctx.config.registrar))
    else:
        body = domain_response(record, url, utcnow())
    click.echo(json.dumps(body, indent=2, ensure_ascii=False))
    if record is None:
        raise SystemExit(1)
