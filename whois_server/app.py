"""Wiring: one function builds the service's components from the configuration.

``build_components`` creates the storage gateway, the database threads, the
:class:`~whois_server.service.RegistrationDataService`, the shared rate limiter and the two
protocol factories. ``listen`` binds them (each listening socket with the configured backlog)
and ``drain`` stops accepting and waits for replies in flight, for a clean SIGTERM.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Any

from twisted.internet.defer import Deferred, DeferredList
from twisted.internet.interfaces import IListeningPort, IProtocolFactory

from registrar.config import Config
from registrar.storage import Database
from whois_server.dbthreads import DatabaseThreads
from whois_server.ratelimit import RateLimiter
from whois_server.service import RegistrationDataService


@dataclass
class ServerComponents:
    """Everything one worker process runs."""

    config: Config
    db: Database
    threads: DatabaseThreads
    service: RegistrationDataService
    limiter: RateLimiter
    whois_factory: Any
    rdap_factory: IProtocolFactory
    ports: list[IListeningPort] = field(default_factory=list)


def build_components(config: Config, db_url: str, reactor: Any) -> ServerComponents:
    """Build the components of one worker on ``reactor`` (also the clock)."""
    from whois_server.rdap.site import make_rdap_factory
    from whois_server.whois.protocol import WhoisFactory

    db = Database(db_url, pool_size=max(config.database.pool_size, config.server.db_threads))
    threads = DatabaseThreads(db, reactor, config.server.db_threads)
    service = RegistrationDataService(threads, config, reactor)
    limiter = RateLimiter(config.ratelimit, reactor)
    whois_factory = WhoisFactory(service=service, limiter=limiter, config=config, clock=reactor)
    rdap_factory = make_rdap_factory(service=service, limiter=limiter, config=config, clock=reactor)
    return ServerComponents(config=config, db=db, threads=threads, service=service, limiter=limiter,
                            whois_factory=whois_factory, rdap_factory=rdap_factory)


def listening_socket(host: str, port: int, backlog: int) -> socket.socket:
    """A bound, listening, non-blocking TCP socket; ``::`` listens on IPv4 and IPv6."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.setblocking(False)
    return sock


def adopt(reactor: Any, sock: socket.socket, factory: IProtocolFactory) -> IListeningPort:
    """Serve ``factory`` on an already listening socket (shared by worker processes)."""
    port: IListeningPort = reactor.adoptStreamPort(sock.fileno(), sock.family, factory)
    return port


def listen(components: ServerComponents, reactor: Any, host: str, whois_port: int | None,
           rdap_port: int | None, backlog: int) -> dict[str, socket.socket]:
    """Bind and serve the enabled listeners; returns the sockets by name (for their ports)."""
    socks: dict[str, socket.socket] = {}
    if whois_port is not None:
        socks["whois"] = listening_socket(host, whois_port, backlog)
        components.ports.append(adopt(reactor, socks["whois"], components.whois_factory))
    if rdap_port is not None:
        socks["rdap"] = listening_socket(host, rdap_port, backlog)
        components.ports.append(adopt(reactor, socks["rdap"], components.rdap_factory))
    return socks


def drain(components: ServerComponents, reactor: Any, grace: float = 10.0) -> Deferred[Any]:
    """Stop accepting, then wait (at most ``grace`` seconds) for WHOIS connections and RDAP lookups in flight."""
    stops: list[Deferred[None]] = []
    for port in components.ports:
        stopped = port.stopListening()  # type: ignore[misc]
        if stopped is not None:
            stops.append(stopped)
    done: Deferred[Any] = Deferred()

    site = getattr(components.rdap_factory, "wrappedFactory", components.rdap_factory)
    rdap_resource = getattr(site, "resource", None)

    def wait_for_idle(_: object = None, waited: float = 0.0) -> None:
        busy = components.whois_factory.open_connections + getattr(rdap_resource, "pending", 0)
        if busy == 0 or waited >= grace:
            if not done.called:
                done.callback(None)
            return
        reactor.callLater(0.05, wait_for_idle, None, waited + 0.05)

    DeferredList(stops).addCallback(wait_for_idle)
    return done
