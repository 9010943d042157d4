"""Blocking EPP client over TLS (stdlib ``ssl``), for use from a cron/CLI process.

TLS 1.2+ only, mutual authentication, and the server certificate and host
name are always verified -- there is deliberately no switch to turn that off.

Error model (all subclasses of :class:`EppError`):

* :class:`EppConnectError` -- the session could not be established (TCP,
  TLS handshake, certificate verification, no greeting). ``__cause__`` holds
  the underlying exception.
* :class:`EppConnectionLost` -- the connection dropped (or timed out:
  :class:`EppTimeout`) during a session. ``command_sent`` says whether the
  command may have reached the server; if so its outcome is unknown: reconnect,
  re-read the object with ``info`` and only then decide whether to resend.
* :class:`EppProtocolError` -- the peer broke the protocol (bad frame length,
  unparsable XML, clTRID not echoed ...). The connection is closed.
* :class:`EppCommandError` -- the server answered with a 2xxx result; carries
  ``code``, ``message`` and the parsed :class:`~registrar.epp.types.Response`.
  For 2500/2501/2502 the server closes the session; so does the client.

Passwords and authInfo are never logged.
"""

from __future__ import annotations

import logging
import socket
import ssl
import time
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Self

from registrar.epp import commands, ns, schema
from registrar.epp.framing import DEFAULT_MAX_FRAME_SIZE, FrameDecoder, FrameError, encode_frame
from registrar.epp.responses import ResponseParseError, parse_frame, parse_greeting
from registrar.epp.types import Greeting, Response
from registrar.epp.xmlutil import redact

log = logging.getLogger(__name__)

#: Result codes after which the server closes the connection.
SESSION_ENDING_CODES = frozenset({1500, 2500, 2501, 2502})
# Codes for which a server may be unable to echo our clTRID (it could not parse the command).
_NO_ECHO_TOLERATED = frozenset({2000, 2001, 2500, 2501, 2502})


class EppError(Exception):
    """Base class of all EPP client errors."""


class EppConnectError(EppError):
    """The session could not be established (connect, TLS, certificate, greeting)."""


class EppConnectionLost(EppError):
    """The connection dropped during a session; ``command_sent`` tells whether the outcome is unknown."""

    def __init__(self, message: str, *, command_sent: bool) -> None:
        """Create the error; ``command_sent`` = the last command may have reached the server."""
        super().__init__(message)
        self.command_sent = command_sent


class EppTimeout(EppConnectionLost):
    """No (complete) response within the read timeout; the connection was closed."""


class EppProtocolError(EppError):
    """The server violated the protocol; the connection was closed."""


class EppInvalidFrame(EppError):
    """An outgoing frame failed local schema validation (only with ``validate_outgoing``)."""

    def __init__(self, errors: list[str]) -> None:
        """Create the error from the schema messages."""
        super().__init__("outgoing frame does not validate: " + "; ".join(errors[:3]))
        self.errors = errors


class EppCommandError(EppError):
    """The server answered a command with a failure result (2xxx)."""

    def __init__(self, response: Response) -> None:
        """Wrap a failed :class:`Response`."""
        super().__init__(f"EPP {response.code}: {response.message}"
                         + (f" ({'; '.join(response.reasons)})" if response.reasons else ""))
        self.response = response
        self.code = response.code
        self.message = response.message

    @property
    def closes_session(self) -> bool:
        """True for 2500/2501/2502: the server has closed the connection."""
        return self.code in SESSION_ENDING_CODES


class EppClient:
    """One EPP session over TLS. Strictly one command in flight at a time.

    Typical use::

        with EppClient(host, 700, cert_file=..., key_file=..., ca_file=...) as c:
            c.login("registrar-x", password)
            resp = c.command(commands.domain_info("example.test"))
    """

    def __init__(
        self,
        host: str,
        port: int = 700,
        *,
        cert_file: str | Path,
        key_file: str | Path,
        ca_file: str | Path | None,
        server_hostname: str | None = None,
        key_password: str | None = None,
        connect_timeout: float = 15.0,
        read_timeout: float = 60.0,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
        validate_outgoing: bool = False,
        log_frames: bool = False,
    ) -> None:
        """Prepare (but do not open) a session.

        ``ca_file`` is the CA bundle used to verify the server (None = system
        store). ``server_hostname`` defaults to ``host``. ``validate_outgoing``
        checks each frame against the XSDs before sending (dev/CI).
        ``log_frames`` logs redacted frames at DEBUG (they may contain personal data).
        """
        self.host = host
        self.port = port
        self.server_hostname = server_hostname or host
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_frame_size = max_frame_size
        self.validate_outgoing = validate_outgoing
        self.log_frames = log_frames
        self._ctx = self._make_context(cert_file, key_file, ca_file, key_password)
        self._sock: ssl.SSLSocket | None = None
        self._decoder = FrameDecoder(max_size=max_frame_size)
        self._pending: deque[bytes] = deque()
        self.greeting: Greeting | None = None
        self.logged_in = False
        self.cl_id: str | None = None
        #: (objURIs, extURIs) announced at login.
        self.services: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
        self.last_activity = 0.0

    @staticmethod
    def _make_context(cert_file: str | Path, key_file: str | Path, ca_file: str | Path | None,
                      key_password: str | None) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED + check_hostname
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.check_hostname = True
        ctx.verify_mode = ssl.CERT_REQUIRED
        if ca_file is None:
            ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
        else:
            ctx.load_verify_locations(cafile=str(ca_file))
        ctx.load_cert_chain(str(cert_file), str(key_file), password=key_password)
        return ctx

    # ------------------------------------------------------------------ lifecycle

    @property
    def connected(self) -> bool:
        """True while the TLS connection is open."""
        return self._sock is not None

    @property
    def idle_seconds(self) -> float:
        """Seconds since the last frame was exchanged (use to decide on a keepalive hello)."""
        return time.monotonic() - self.last_activity

    def connect(self) -> Greeting:
        """Open TCP + TLS, verify the server, and read the greeting."""
        if self._sock is not None:
            raise EppProtocolError("already connected")
        self._decoder = FrameDecoder(max_size=self.max_frame_size)
        self._pending.clear()
        self.logged_in = False
        raw: socket.socket | None = None
        try:
            raw = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
            # strict request/response with small frames: don't let Nagle + delayed ACK stall us
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock = self._ctx.wrap_socket(raw, server_hostname=self.server_hostname)
            raw = None
            self._sock = sock
            sock.settimeout(self.read_timeout)
            greeting = parse_greeting(self._read_frame(command_sent=False))
        except (OSError, EppConnectionLost, EppProtocolError, ResponseParseError) as exc:
            if raw is not None:
                raw.close()
            self._drop()
            raise EppConnectError(
                f"cannot establish EPP session with {self.host}:{self.port}: {exc}") from exc
        self.greeting = greeting
        log.info("EPP connected to %s:%s (%s, %s)", self.host, self.port, greeting.sv_id, sock.version())
        return greeting

    def close(self) -> None:
        """Close the connection without logging out."""
        self._drop()

    def _drop(self) -> None:
        sock, self._sock = self._sock, None
        self.logged_in = False
        if sock is not None:
            try:
                sock.close()
            except OSError:  # pragma: no cover - best effort
                pass

    def __enter__(self) -> Self:
        """Connect (if needed) and return self."""
        if self._sock is None:
            self.connect()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Log out if logged in (best effort) and close."""
        try:
            if self.logged_in:
                self.logout()
        except EppError as err:
            log.warning("EPP logout failed: %s", err)
        finally:
            self._drop()

    # ------------------------------------------------------------------ I/O

    def _send(self, frame: bytes) -> None:
        if self._sock is None:
            raise EppConnectionLost("not connected", command_sent=False)
        if self.log_frames:
            log.debug("EPP >> %s", redact(frame).decode("utf-8", "replace"))
        try:
            self._sock.sendall(encode_frame(frame, max_size=self.max_frame_size))
        except FrameError:
            raise
        except OSError as exc:
            self._drop()
            raise EppConnectionLost(f"connection lost while sending: {exc}", command_sent=True) from exc
        self.last_activity = time.monotonic()

    def _read_frame(self, *, command_sent: bool) -> bytes:
        while not self._pending:
            sock = self._sock
            if sock is None:
                raise EppConnectionLost("not connected", command_sent=command_sent)
            try:
                data = sock.recv(65536)
            except TimeoutError as exc:
                self._drop()
                raise EppTimeout(f"no response within {self.read_timeout}s",
                                 command_sent=command_sent) from exc
            except OSError as exc:  # includes ssl.SSLError
                self._drop()
                raise EppConnectionLost(f"connection lost: {exc}", command_sent=command_sent) from exc
            if not data:
                self._drop()
                raise EppConnectionLost("connection closed by server", command_sent=command_sent)
            try:
                self._pending.extend(self._decoder.feed(data))
            except FrameError as exc:
                self._drop()
                raise EppProtocolError(str(exc)) from exc
        frame = self._pending.popleft()
        self.last_activity = time.monotonic()
        if self.log_frames:
            log.debug("EPP << %s", redact(frame).decode("utf-8", "replace"))
        return frame

    # ------------------------------------------------------------------ commands

    def hello(self) -> Greeting:
        """Send ``<hello/>`` (keepalive) and return the fresh greeting."""
        self._send(commands.hello())
        data = self._read_frame(command_sent=True)
        try:
            greeting = parse_greeting(data)
        except ResponseParseError as exc:
            self._drop()
            raise EppProtocolError(f"hello not answered with a greeting: {exc}") from exc
        self.greeting = greeting
        return greeting

    def command(self, frame: bytes, *, raise_on_error: bool = True) -> Response:
        """Send one command frame and return its response.

        Checks that the response echoes the frame's clTRID (else
        :class:`EppProtocolError`). Raises :class:`EppCommandError` for 2xxx
        results unless ``raise_on_error`` is False (2500-2502 always raise).
        """
        cl_trid = commands.extract_cl_trid(frame)
        if cl_trid is None:
            raise ValueError("command frames must carry a clTRID")
        if self.validate_outgoing:
            errors = schema.validate(frame)
            if errors:
                raise EppInvalidFrame(errors)
        what = commands.describe(frame)
        started = time.monotonic()
        self._send(frame)
        data = self._read_frame(command_sent=True)
        try:
            parsed = parse_frame(data)
        except ResponseParseError as exc:
            self._drop()
            raise EppProtocolError(f"unparsable response to {what} {cl_trid}: {exc}") from exc
        if not isinstance(parsed, Response):
            self._drop()
            raise EppProtocolError(f"got a greeting in answer to {what} {cl_trid}")
        resp = parsed
        if resp.cl_trid != cl_trid and not (resp.cl_trid is None and resp.code in _NO_ECHO_TOLERATED):
            self._drop()
            raise EppProtocolError(
                f"response does not belong to {what}: sent clTRID {cl_trid}, got {resp.cl_trid}"
                f" (svTRID {resp.sv_trid})")
        log.info("EPP %s clTRID=%s -> %d %s svTRID=%s (%.0f ms)", what, cl_trid, resp.code,
                 resp.message, resp.sv_trid, (time.monotonic() - started) * 1000)
        if resp.code in SESSION_ENDING_CODES:
            self._drop()
            if resp.code != 1500:
                raise EppCommandError(resp)
        if raise_on_error and resp.code >= 2000:
            raise EppCommandError(resp)
        return resp

    def login(
        self,
        cl_id: str,
        password: str,
        *,
        new_password: str | None = None,
        obj_uris: Iterable[str] = ns.OBJECT_URIS,
        ext_uris: Iterable[str] = ns.EXTENSION_URIS,
        cl_trid: str | None = None,
    ) -> Response:
        """Log in, announcing the intersection of the wanted and the offered services."""
        if self.greeting is None or self._sock is None:
            raise EppConnectionLost("not connected", command_sent=False)
        if self.logged_in:
            raise EppProtocolError("already logged in")
        objs, exts = commands.choose_services(self.greeting, obj_uris, ext_uris)
        if not objs:
            raise EppProtocolError("the server offers none of the wanted object services")
        frame = commands.login(cl_id, password, obj_uris=objs, ext_uris=exts,
                               new_password=new_password, cl_trid=cl_trid)
        resp = self.command(frame)
        self.logged_in = True
        self.cl_id = cl_id
        self.services = (objs, exts)
        return resp

    def logout(self) -> Response | None:
        """Log out (1500) and close. Returns None if the connection was already gone."""
        if self._sock is None:
            return None
        try:
            return self.command(commands.logout())
        except EppConnectionLost:
            return None
        finally:
            self._drop()

    def supports(self, uri: str) -> bool:
        """True when ``uri`` (objURI or extURI) was announced at login."""
        return uri in self.services[0] or uri in self.services[1]
