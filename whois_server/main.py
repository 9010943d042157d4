"""``whois-server``: start the public WHOIS and RDAP service.

One process serves both listeners on Twisted's asyncio reactor. With ``--workers N`` (or
``server.workers``) the parent binds the listening sockets once and starts N worker processes
that all accept on them, one core each; it forwards SIGTERM/SIGINT and restarts a worker that
dies. SIGTERM stops accepting, lets replies in flight finish, and exits 0.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import click

from registrar.config import Config, ConfigError, load_config, resolve_database_url

log = logging.getLogger("whois_server")


def install_reactor() -> Any:
    """Install Twisted's asyncio reactor (before anything imports the default one)."""
    from twisted.internet import asyncioreactor

    if "twisted.internet.reactor" not in sys.modules:
        asyncioreactor.install()
    from twisted.internet import reactor

    return reactor


def configure_logging() -> None:
    """One line per event on stderr; query lines carry no personal data."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s")


def run_worker(config: Config, db_url: str, socks: dict[str, socket.socket]) -> int:
    """Serve on inherited listening sockets until SIGTERM; returns the exit code."""
    reactor = install_reactor()
    from whois_server.app import adopt, build_components, drain

    components = build_components(config, db_url, reactor)
    for name, sock in socks.items():
        factory = components.whois_factory if name == "whois" else components.rdap_factory
        components.ports.append(adopt(reactor, sock, factory))
        sock.close()
    reactor.addSystemEventTrigger("before", "shutdown", drain, components, reactor)
    if config.server.log_queries:
        from whois_server.querylog import QueryLogWriter, install_writer

        writer = QueryLogWriter(sys.stderr, reactor)
        install_writer(writer)
        reactor.addSystemEventTrigger("after", "shutdown", writer.flush)
    reactor.callWhenRunning(components.service.start_invalidation)
    if config.server.metrics_port:
        from whois_server.metrics import start_metrics_server

        try:
            start_metrics_server(config.server.metrics_port, config.server.host, reactor)
        except Exception as exc:  # another worker already serves the metrics port
            log.info("metrics port %d not opened in this worker: %s", config.server.metrics_port,
                     type(exc).__name__)
    reactor.run()
    return 0


def _bind(config: Config) -> dict[str, socket.socket]:
    from whois_server.app import listening_socket

    socks = {}
    host, backlog = config.server.host, config.server.listen_backlog
    if config.whois.enabled:
        socks["whois"] = listening_socket(host, config.whois.port, backlog)
    if config.rdap.enabled:
        socks["rdap"] = listening_socket(host, config.rdap.port, backlog)
    return socks


def _describe(config: Config, socks: dict[str, socket.socket]) -> None:
    host = config.server.host
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
    if "whois" in socks:
        port = socks["whois"].getsockname()[1]
        click.echo(f"WHOIS listening on {host} port {port}:  whois -h {shown} -p {port} <domain>", err=True)
    if "rdap" in socks:
        port = socks["rdap"].getsockname()[1]
        scheme = "https" if config.rdap.tls_certificate else "http"
        click.echo(f"RDAP listening on {host} port {port}:   curl {scheme}://{shown}:{port}/domain/<domain>",
                   err=True)


def supervise(config: Config, db_url: str, socks: dict[str, socket.socket], workers: int,
              config_path: str | None, overrides: dict[str, Any]) -> int:
    """Start ``workers`` processes on the shared sockets and keep them running."""
    fds = {name: s.fileno() for name, s in socks.items()}
    for s in socks.values():
        os.set_inheritable(s.fileno(), True)
    arg = ",".join(f"{name}={fd}" for name, fd in fds.items())

    def spawn() -> subprocess.Popen[bytes]:
        cmd = [sys.executable, "-m", "whois_server.main", "--db", db_url, "--inherit", arg]
        if config_path:
            cmd += ["--config", config_path]
        env = dict(os.environ, WHOIS_SERVER_OVERRIDES=json.dumps(overrides))
        return subprocess.Popen(cmd, pass_fds=list(fds.values()), env=env)

    procs = [spawn() for _ in range(workers)]
    stopping = False

    def on_signal(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    restarts: list[float] = []
    while True:
        time.sleep(0.2)
        if stopping:
            for p in procs:
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
            return 0
        for i, p in enumerate(procs):
            if p.poll() is not None:
                now = time.monotonic()
                restarts = [t for t in restarts if now - t < 60] + [now]
                if len(restarts) > 5 * workers:
                    log.error("workers keep dying; giving up")
                    on_signal(signal.SIGTERM, None)
                    break
                log.warning("worker %d exited with %s; restarting", p.pid, p.returncode)
                procs[i] = spawn()


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db_url", envvar="REGISTRAR_DATABASE_URL", metavar="URL",
              help="SQLAlchemy database URL [env REGISTRAR_DATABASE_URL; default: the embedded SQLite file].")
@click.option("--config", "config_path", envvar="REGISTRAR_CONFIG", metavar="PATH",
              type=click.Path(dir_okay=False), help="TOML configuration file [env REGISTRAR_CONFIG].")
@click.option("--host", help="Address to bind (overrides server.host; `::` for IPv4 and IPv6).")
@click.option("--whois-port", type=click.IntRange(0, 65535), help="WHOIS port (overrides whois.port).")
@click.option("--rdap-port", type=click.IntRange(0, 65535), help="RDAP port (overrides rdap.port).")
@click.option("--workers", type=click.IntRange(1, 256), help="Worker processes (overrides server.workers).")
@click.option("--inherit", hidden=True, help="Internal: listening sockets passed by the supervisor.")
def main(db_url: str | None, config_path: str | None, host: str | None, whois_port: int | None,
         rdap_port: int | None, workers: int | None, inherit: str | None) -> None:
    """Serve WHOIS (port 43, RFC 3912) and RDAP (RFC 9082/9083) from the registration database.

    \b
    Example:
      whois-server --config fixtures/config.toml --whois-port 4343 --rdap-port 8080
    """
    configure_logging()
    overrides: dict[str, Any] = {}
    if host is not None:
        overrides.setdefault("server", {})["host"] = host
    if workers is not None:
        overrides.setdefault("server", {})["workers"] = workers
    if whois_port is not None:
        overrides["whois"] = {"port": whois_port}
    if rdap_port is not None:
        overrides["rdap"] = {"port": rdap_port}
    try:
        config = load_config(config_path, overrides=overrides)
    except ConfigError as exc:
        raise click.UsageError(f"configuration: {exc}") from None
    url = resolve_database_url(db_url, config)
    if inherit:
        inherited = json.loads(os.environ.get("WHOIS_SERVER_OVERRIDES") or "{}")
        config = load_config(config_path, overrides={**inherited, "server": {**inherited.get("server", {}),
                                                                           "workers": 1}})
        socks = {}
        for part in inherit.split(","):
            name, fd = part.split("=")
            family = socket.AF_INET6 if ":" in config.server.host else socket.AF_INET
            socks[name] = socket.socket(family, socket.SOCK_STREAM, fileno=int(fd))
        sys.exit(run_worker(config, url, socks))
    try:
        socks = _bind(config)
    except OSError as exc:
        raise click.ClickException(f"cannot listen: {exc}") from None
    if not socks:
        raise click.UsageError("both whois.enabled and rdap.enabled are false: nothing to serve")
    _describe(config, socks)
    if config.server.workers > 1:
        sys.exit(supervise(config, url, socks, config.server.workers, config_path, overrides))
    sys.exit(run_worker(config, url, socks))


if __name__ == "__main__":
    main()
