"""One EPP session with a registry, with the sync job's handling of failures.

* 2400 (command failed): the same command is retried after ``backoff_base * 2**n`` seconds, up to
  ``max_retries`` times.
* 2500 / 2502 (the server closes the session), 2002 (not logged in), a dropped connection or a
  broken frame: the session is re-established and :class:`Reconnected` is raised -- the outcome of
  the last command is unknown, so the caller re-reads the object (``info``) before sending anything.
* 2200 / 2501 (credentials) and a server certificate that does not verify:
  :class:`RegistryStopped` -- no point going on with this registry.

The password is only ever passed to ``login``; it is not logged and not part of any message.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from registrar.config import RegistryConfig
from registrar.epp import commands, ns
from registrar.epp.client import (
    EppClient,
    EppCommandError,
    EppConnectError,
    EppConnectionLost,
    EppError,
    EppProtocolError,
)
from registrar.epp.types import Response

log = logging.getLogger(__name__)

#: Send a ``hello`` before a command when the session was idle this long (seconds).
KEEPALIVE_SECONDS = 60.0
#: Give up on a registry after this many reconnections in one run.
MAX_RECONNECTS_PER_RUN = 50


class RegistryStopped(Exception):
    """Work with this registry stops for this run (the message says why)."""


class Reconnected(Exception):
    """The session was re-established after a failure; re-read before resending."""


@dataclass
class SessionOptions:
    """Retry policy and test hooks."""

    max_retries: int = 5
    backoff_base: float = 1.0
    sleep: Callable[[float], None] | None = None
    #: Called after every command with its kind (e.g. ``domain:update``); tests raise from it.
    on_command: Callable[[str], None] | None = None
    validate_outgoing: bool = False

    def backoff(self, attempt: int) -> float:
        """Delay before retry ``attempt`` (0-based)."""
        return self.backoff_base * (2 ** min(attempt, 10))

    def pause(self, attempt: int) -> None:
        """Sleep before a retry."""
        if self.sleep is not None:
            self.sleep(self.backoff(attempt))


def _certificate_problem(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def read_password(registry: RegistryConfig, environ: dict[str, str]) -> str:
    """The EPP password from the configured environment variable or file."""
    if registry.password_env:
        value = environ.get(registry.password_env)
        if not value:
            raise RegistryStopped(f"the EPP password variable ${registry.password_env} is not set")
        return value
    try:
        value = Path(registry.password_file).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise RegistryStopped(f"cannot read the EPP password file {registry.password_file}: "
                              f"{exc.strerror or exc}") from None
    if not value:
        raise RegistryStopped(f"the EPP password file {registry.password_file} is empty")
    return value


class RegistrySession:
    """A logged-in EPP session that reconnects as described in the module docstring."""

    def __init__(self, registry: RegistryConfig, password: str, options: SessionOptions, *,
                 trid_prefix: str) -> None:
        self.registry = registry
        self._password = password
        self.options = options
        self._trid = commands.ClTridGenerator(trid_prefix)
        self.client: EppClient | None = None
        self.commands_sent = 0
        self.reconnects = 0
        self.services: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())

    def __repr__(self) -> str:
        return f"RegistrySession({self.registry.name!r}, {self.registry.host}:{self.registry.port})"

    # ------------------------------------------------------------------------------ lifecycle

    def _new_client(self) -> EppClient:
        r = self.registry
        try:
            return EppClient(r.host, r.port, cert_file=r.client_certificate, key_file=r.client_key,
                             ca_file=r.ca_bundle or None, connect_timeout=r.timeout, read_timeout=r.timeout,
                             validate_outgoing=self.options.validate_outgoing)
        except (OSError, ssl.SSLError) as exc:
            raise RegistryStopped(
                f"cannot load the client certificate/key ({r.client_certificate}, {r.client_key}) or the CA "
                f"bundle ({r.ca_bundle or 'system store'}): {exc}") from None

    def open(self) -> None:
        """Connect, verify the server, log in (retrying transient failures)."""
        r = self.registry
        objs = (ns.DOMAIN, ns.HOST, ns.CONTACT) if r.data_model == "thick-public" else (ns.DOMAIN, ns.HOST)
        attempt = 0
        while True:
            client = self._new_client()
            try:
                client.connect()
                client.login(r.client_id, self._password, obj_uris=objs, ext_uris=(ns.SECDNS, ns.RGP),
                             cl_trid=self._trid())
            except EppConnectError as exc:
                client.close()
                cert = _certificate_problem(exc)
                if cert is not None:
                    raise RegistryStopped(
                        f"TLS: the server certificate of {r.host}:{r.port} was refused "
                        f"({cert.verify_message or cert}); it must chain to ca_bundle "
                        f"{r.ca_bundle or '(system store)'} and match the host name {r.host}") from None
                if attempt >= self.options.max_retries:
                    raise RegistryStopped(f"cannot connect to {r.host}:{r.port}: {exc}") from None
            except EppCommandError as exc:
                client.close()
                if exc.code in (2200, 2501):
                    raise RegistryStopped(
                        f"login refused (EPP {exc.code} {exc.message}): check client_id {r.client_id!r} and "
                        "the password") from None
                if exc.code not in (2400, 2500, 2502) or attempt >= self.options.max_retries:
                    raise RegistryStopped(f"login failed: EPP {exc.code} {exc.message}") from None
            except (EppConnectionLost, EppProtocolError) as exc:
                client.close()
                if attempt >= self.options.max_retries:
                    raise RegistryStopped(f"login failed: {exc}") from None
            except ValueError as exc:  # the builder refuses a password outside 6-16 characters
                client.close()
                raise RegistryStopped(f"login: {exc}") from None
            else:
                self.client = client
                self.services = client.services
                if r.data_model == "thick-public" and ns.CONTACT not in client.services[0]:
                    self.close()
                    raise RegistryStopped("data_model is thick-public but the registry does not offer "
                                          "contact-1.0")
                return
            self.options.pause(attempt)
            attempt += 1

    def supports(self, uri: str) -> bool:
        """Whether ``uri`` was announced at login."""
        return uri in self.services[0] or uri in self.services[1]

    def close(self) -> None:
        """Log out (best effort) and close."""
        client, self.client = self.client, None
        if client is None:
            return
        try:
            if client.logged_in:
                client.logout()
        except EppError as exc:
            log.info("EPP logout from %s failed: %s", self.registry.name, exc)
        finally:
            client.close()

    def _reconnect(self, code: int | None = None) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        self.reconnects += 1
        if self.reconnects > MAX_RECONNECTS_PER_RUN:
            raise RegistryStopped(f"the connection was lost {self.reconnects} times in this run; giving up")
        if code == 2502:  # session limit: give the registry time to free a session
            self.options.pause(min(self.reconnects - 1, 4))
        self.open()

    # ------------------------------------------------------------------------------- commands

    def _count(self, what: str) -> None:
        self.commands_sent += 1
        if self.options.on_command is not None:
            self.options.on_command(what)

    def command(self, build: Callable[[str], bytes], what: str) -> Response:
        """Send one command (``build(clTRID)`` makes the frame) and return its successful response."""
        attempt = 0
        while True:
            if self.client is None:
                self.open()
            client = self.client
            assert client is not None
            try:
                if client.idle_seconds > KEEPALIVE_SECONDS:
                    client.hello()
                resp = client.command(build(self._trid()))
            except EppCommandError as exc:
                self._count(what)
                if exc.code == 2400 and attempt < self.options.max_retries:
                    log.info("EPP %s: 2400, retry %d", what, attempt + 1)
                    self.options.pause(attempt)
                    attempt += 1
                    continue
                if exc.code in (2200, 2501):
                    self.close()
                    raise RegistryStopped(f"{what}: EPP {exc.code} {exc.message}: credentials refused") from None
                if exc.code in (2500, 2502, 2002):
                    self._reconnect(exc.code)
                    raise Reconnected(f"{what}: EPP {exc.code} {exc.message}") from None
                raise
            except (EppConnectionLost, EppProtocolError) as exc:
                self._count(what)
                self._reconnect()
                raise Reconnected(f"{what}: {exc}") from None
            self._count(what)
            return resp
