"""One log line per query, for WHOIS and RDAP alike, with no personal data from the record.

A line carries the protocol, the client address, the query kind, the outcome
(``found``, ``not-found``, ``refused``, ``bad-query``, ``error``, ``unavailable``), the bytes
sent and the milliseconds taken. The queried name is not logged: it is not personal data of
the registrant, but access logs are the registrar's own personal data about the querier and
are kept short (see docs/security.md).
"""

from __future__ import annotations

import logging

from whois_server.metrics import observe

log = logging.getLogger("whois_server.query")

OUTCOMES = frozenset({"found", "not-found", "refused", "bad-query", "error", "unavailable"})


def log_query(protocol: str, client: str, kind: str, outcome: str, nbytes: int, seconds: float,
              *, enabled: bool = True) -> None:
    """Record one answered query (log line + metrics)."""
    observe(protocol, outcome, seconds)
    if enabled and log.isEnabledFor(logging.INFO):
        log.info("%s client=%s kind=%s outcome=%s bytes=%d ms=%.2f", protocol, client, kind, outcome, nbytes,
                 seconds * 1000.0)
