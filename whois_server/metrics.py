"""Prometheus metrics: queries by protocol, kind and outcome, and their latency."""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Histogram

QUERIES = Counter("rdds_queries_total", "Queries answered", ["protocol", "outcome"])
LATENCY = Histogram("rdds_query_seconds", "Time from query to reply", ["protocol"],
                    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0))
RATE_LIMITED = Counter("rdds_rate_limited_total", "Queries refused by the rate limiter", ["protocol"])


_CHILDREN: dict[tuple[str, str], tuple[Any, Any]] = {}


def observe(protocol: str, outcome: str, seconds: float) -> None:
    """Count one answered query (labelled children are resolved once per pair)."""
    children = _CHILDREN.get((protocol, outcome))
    if children is None:
        children = _CHILDREN[(protocol, outcome)] = (QUERIES.labels(protocol, outcome), LATENCY.labels(protocol))
    children[0].inc()
    children[1].observe(seconds)


def start_metrics_server(port: int, host: str, reactor: Any) -> None:
    """Serve ``/metrics`` on ``host:port`` from the reactor (keep it behind an access list)."""
    from prometheus_client.twisted import MetricsResource
    from twisted.web.resource import Resource
    from twisted.web.server import Site

    root = Resource()
    root.putChild(b"metrics", MetricsResource())  # type: ignore[arg-type]
    reactor.listenTCP(port, Site(root), interface=host)
