"""One log line per query, for WHOIS and RDAP alike, with no personal data from the record.

A line carries the protocol, the client address, the query kind, the outcome
(``found``, ``not-found``, ``refused``, ``bad-query``, ``error``, ``unavailable``), the bytes
sent and the milliseconds taken. The queried name is not logged: access logs are the
registrar's own personal data about the querier and are kept short (see docs/security.md).

Logging sits on the hot path of every query, so the server installs a :class:`QueryLogWriter`
that formats a line with one ``%`` and appends it to a buffer flushed to stderr every
``flush_interval`` seconds (and when it grows large). Without one (unit tests, the CLI) lines go
to the ``whois_server.query`` logger.
"""

from __future__ import annotations

import logging
import time
from typing import Any, TextIO

from whois_server.metrics import observe

log = logging.getLogger("whois_server.query")

OUTCOMES = frozenset({"found", "not-found", "refused", "bad-query", "error", "unavailable"})


class QueryLogWriter:
    """Buffered query-log lines, flushed on a timer of the injected reactor."""

    def __init__(self, stream: TextIO, clock: Any, flush_interval: float = 1.0, max_lines: int = 2000) -> None:
        self.stream = stream
        self.clock = clock
        self.flush_interval = flush_interval
        self.max_lines = max_lines
        self._lines: list[str] = []
        self._second = -1
        self._stamp = ""
        self._timer: Any = None

    def write(self, protocol: str, client: str, kind: str, outcome: str, nbytes: int, seconds: float) -> None:
        """Queue one line."""
        now = int(time.time())
        if now != self._second:
            self._second = now
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        self._lines.append(f"{self._stamp} query {protocol} client={client} kind={kind} outcome={outcome} "
                           f"bytes={nbytes} ms={seconds * 1000.0:.2f}\n")
        if len(self._lines) >= self.max_lines:
            self.flush()
        elif self._timer is None:
            self._timer = self.clock.callLater(self.flush_interval, self.flush)

    def flush(self) -> None:
        """Write out what is queued."""
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        if self._lines:
            lines, self._lines = self._lines, []
            self.stream.write("".join(lines))
            self.stream.flush()


_writer: QueryLogWriter | None = None


def install_writer(writer: QueryLogWriter | None) -> None:
    """Send query lines to ``writer`` (``None``: back to the logging module)."""
    global _writer
    _writer = writer


def log_query(protocol: str, client: str, kind: str, outcome: str, nbytes: int, seconds: float,
              *, enabled: bool = True) -> None:
    """Record one answered query (log line + metrics)."""
    observe(protocol, outcome, seconds)
    if not enabled:
        return
    if _writer is not None:
        _writer.write(protocol, client, kind, outcome, nbytes, seconds)
    elif log.isEnabledFor(logging.INFO):
        log.info("%s client=%s kind=%s outcome=%s bytes=%d ms=%.2f", protocol, client, kind, outcome, nbytes,
                 seconds * 1000.0)
