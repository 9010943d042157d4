"""``registrar sync`` (the registry sync cron job) and ``registrar test-registry`` (a demo EPP registry)."""

from __future__ import annotations

import json
import secrets
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy.exc import OperationalError, ProgrammingError

from registrar.cli.context import CliContext, fail, pass_ctx
from registrar.sync.engine import EXIT_LOCKED, SyncLocked, SyncOptions, run_sync

PASSWORD_VAR = "REGISTRAR_TEST_REGISTRY_PASSWORD"  # noqa: S105 - the name of a variable
#: Name servers of other operators that fixtures/registrations.toml delegates to (under .test/.example,
#: so a registry serving those TLDs must already hold them).
FIXTURE_THIRD_PARTY_HOSTS = ("a.ns.anycast-provider.test", "b.ns.anycast-provider.test", "ns.sample-cloud.example")


@contextmanager
def _progress(name: str, total: int) -> Iterator[Callable[[], None]]:
    with click.progressbar(length=max(total, 1), label=f"registry {name}", show_pos=True) as bar:
        yield lambda: bar.update(1)


@click.command("sync")
@click.option("--registry", "registries", multiple=True, metavar="NAME",
              help="Only this registry (repeatable; default: every [[sync.registries]] entry).")
@click.option("--dry-run", is_flag=True,
              help="Connect and read (info, poll) but send no transform, record nothing, keep the cursor.")
@click.option("--full", is_flag=True, help="Reconcile every domain of the registry's TLDs, not only journal changes.")
@click.option("--json", "json_flag", is_flag=True, help="Machine-readable summary (same as the global --json).")
@click.option("--show-xml", is_flag=True,
              help="Also print the EPP frames of the changes (authInfo and passwords redacted); for --dry-run.")
@pass_ctx
def sync_command(ctx: CliContext, registries: tuple[str, ...], dry_run: bool, full: bool, json_flag: bool,
                 show_xml: bool) -> None:
    """Push the public records to the registry operators over EPP (run it from cron).

    Per registry: drain the poll queue (domains transferred away or deleted by the registry are
    recorded locally, never deleted), then push every domain changed since the last successful
    run -- hosts first, then one domain:update (or domain:create) with the difference, nothing
    when nothing differs. A lock (sync.lock_file) keeps two runs from overlapping.

    \b
    Examples:
      registrar sync --dry-run                # what would be sent, sends nothing
      registrar sync --dry-run --show-xml     # ... with the EPP frames (secrets redacted)
      registrar sync                          # push journal changes since the last run
      registrar sync --full --registry test   # reconcile every domain of one registry
    \b
    Exit codes: 0 done, 1 a domain failed or a registry stopped (see the summary),
    2 usage or configuration error, 75 another run holds the lock.
    """
    config = ctx.config
    if not config.sync.registries:
        raise click.UsageError("no registry configured: add a [[sync.registries]] table to the configuration")
    known = [r.name for r in config.sync.registries]
    for name in registries:
        if name not in known:
            raise click.UsageError(f"unknown registry {name!r} (configured: {', '.join(known)})")
    as_json = json_flag or ctx.json_output
    options = SyncOptions(progress=_progress if not as_json and sys.stdout.isatty() else None)
    try:
        report = run_sync(config, ctx.db, registry_names=registries, dry_run=dry_run, full=full, actor=ctx.actor,
                          options=options)
    except SyncLocked as exc:
        fail(str(exc), EXIT_LOCKED)
        return
    except (OperationalError, ProgrammingError) as exc:
        message = str(exc.orig or exc).strip().splitlines()[0]
        fail(f"database: {message} (is the schema created? run `registrar db upgrade`)")
        return
    if as_json:
        click.echo(json.dumps(report.as_dict(with_frames=show_xml), indent=2, ensure_ascii=False, default=str))
    else:
        click.echo(report.human(with_frames=show_xml))
    sys.exit(0 if report.ok else 1)


@click.command("test-registry")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              default=Path("var/test-registry"), show_default=True,
              help="Where the throw-away PKI (CA, server and client certificates) is written.")
@click.option("--host", default="127.0.0.1", show_default=True, type=click.Choice(["127.0.0.1", "localhost", "::1"]),
              help="Address to listen on (the test server certificate covers these names only).")
@click.option("--port", default=7700, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free).")
@click.option("--data-model", type=click.Choice(["minimum", "thick-public"]), default="minimum", show_default=True)
@click.option("--tld", "tlds", multiple=True, default=("example", "test"), show_default=True,
              help="TLD the registry serves (repeatable).")
@click.option("--client-id", default="registrar-demo", show_default=True, help="Registrar account (clID).")
@click.option("--name", "registry_name", default="test", show_default=True,
              help="Registry name used in the printed configuration snippet.")
@click.option("--seed-host", "seed_hosts", multiple=True, default=FIXTURE_THIRD_PARTY_HOSTS, show_default=True,
              metavar="HOST", help="Host (with its domain) pre-created for another registrar (repeatable).")
@click.option("--no-seed-hosts", is_flag=True, help="Start with an empty registry.")
@click.option("--run-for", type=float, default=None, hidden=True, help="Stop after this many seconds (tests).")
def test_registry_command(directory: Path, host: str, port: int, data_model: str, tlds: tuple[str, ...],
                          client_id: str, registry_name: str, seed_hosts: tuple[str, ...], no_seed_hosts: bool,
                          run_for: float | None) -> None:
    """Run the project's EPP test registry in the foreground (demos; never for production).

    Creates a test PKI in --dir, starts a TLS EPP server that requires the client certificate,
    prints a ready [[sync.registries]] snippet and the password variable, and serves until
    Ctrl-C. Its data lives in memory only. The name servers of other operators that the sample
    data uses are pre-created for "other-registrar" (--seed-host), as a real registry would have them.

    \b
    Example:
      registrar test-registry --data-model thick-public
      # in another terminal: paste the snippet into the config, export the variable, then
      registrar sync --dry-run
    """
    from registrar.epp import schema
    from registrar.epp.test_registry import EppTestRegistry
    from registrar.epp.test_registry_state import RegistrarAccount
    from registrar.epp.test_registry_state import RegistryConfig as TestRegistryConfig
    from registrar.epp.testca import cert_fingerprint, create_test_pki

    missing = schema.missing_files()
    if missing:
        fail(f"EPP XSDs not found in {schema.default_xsd_dir()} (set ${schema.ENV_VAR}); missing: "
             f"{', '.join(missing)}")
    pki = create_test_pki(directory, client_ids=(client_id,))
    password = secrets.token_urlsafe(9)[:12]
    client = pki.client(client_id)
    cfg = TestRegistryConfig(
        accounts=(RegistrarAccount(client_id, password, cert_fingerprint(client.cert)),),
        tlds=tuple(t.lower().strip(".") for t in tlds), data_model="thick-public" if data_model == "thick-public"
        else "minimum")
    try:
        reg = EppTestRegistry(cfg, cert_file=pki.server.cert, key_file=pki.server.key, ca_file=pki.ca.cert,
                              host=host, port=port).start()
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
        return
    bound_host, bound_port = reg.address
    for i, name in enumerate(() if no_seed_hosts else seed_hosts):
        labels = name.lower().strip(".").split(".")
        if len(labels) < 3 or labels[-1] not in cfg.tlds:
            continue  # outside the registry: an external host, nothing to seed
        parent = ".".join(labels[-2:])
        if reg.domain(parent) is None:
            reg.seed_domain("other-registrar", parent)
        reg.seed_host("other-registrar", ".".join(labels), [f"192.0.2.{200 + i % 50}"])
    snippet = "\n".join([
        "[[sync.registries]]",
        f'name = "{registry_name}"',
        "tlds = [" + ", ".join(f'"{t}"' for t in cfg.tlds) + "]",
        f'host = "{host}"',
        f"port = {bound_port}",
        f'client_certificate = "{client.cert.resolve()}"',
        f'client_key = "{client.key.resolve()}"',
        f'ca_bundle = "{pki.ca.cert.resolve()}"',
        f'client_id = "{client_id}"',
        f'password_env = "{PASSWORD_VAR}"',
        f'data_model = "{data_model}"',
    ])
    click.echo(f"EPP test registry ({data_model}, TLDs {', '.join(cfg.tlds)}) listening on "
               f"{bound_host}:{bound_port} with TLS; client certificates must chain to {pki.ca.cert.resolve()}.")
    click.echo("\nAdd this to the configuration file:\n")
    click.echo(snippet)
    click.echo("\nand set the password in the shell that runs `registrar sync`:\n")
    click.echo(f"export {PASSWORD_VAR}='{password}'")
    click.echo("\nServing until Ctrl-C (data is kept in memory only).", err=True)
    started = time.monotonic()
    try:
        while run_for is None or time.monotonic() - started < run_for:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        reg.stop()
    frames = reg.frames
    click.echo(f"stopped: {len(frames)} frames received, {len(reg.transforms())} transforms, "
               f"{len(reg.invalid_frames())} schema-invalid.", err=True)
