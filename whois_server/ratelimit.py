"""The per-client rate limiter shared by WHOIS and RDAP.

A leaky bucket kept as a meter (Synapse's design): per client key we remember the bucket level
and when it was last computed, so nothing has to sweep buckets on a timer. Clients are keyed by
IPv4 address or by IPv6 prefix (``/64`` by default), so one host cannot escape by rotating its
interface identifiers. Time comes from an injected clock (``clock.seconds()``), so tests drive
it with ``MemoryReactorClock``.
"""

from __future__ import annotations

import ipaddress
import math
from typing import Protocol

from registrar.config import RateLimitConfig


class Clock(Protocol):
    """Anything with ``seconds()``: a reactor, or ``MemoryReactorClock`` in tests."""

    def seconds(self) -> float:
        """The current time in seconds."""


def client_key(address: str, ipv6_prefix: int = 64) -> str:
    """The rate-limit key of a client address: the IPv4 address or the IPv6 prefix."""
    ip = client_ip(address)
    if ip is None:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{ip}/{ipv6_prefix}", strict=False))
    return str(ip)


def client_ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The client's IP address, with IPv4-mapped IPv6 (``::ffff:a.b.c.d``, seen when listening on
    ``::``) turned back into IPv4; ``None`` when ``address`` is not an IP address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


class NetworkSet:
    """Membership of client addresses in a list of networks, memoised per address."""

    def __init__(self, networks: tuple[str, ...] | list[str], max_cached: int = 10_000) -> None:
        self.networks = tuple(ipaddress.ip_network(n, strict=False) for n in networks)
        self.max_cached = max_cached
        self._cache: dict[str, bool] = {}

    def __bool__(self) -> bool:
        return bool(self.networks)

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, str):
            return False
        known = self._cache.get(address)
        if known is None:
            ip = client_ip(address)
            known = ip is not None and any(ip in net for net in self.networks)
            if len(self._cache) >= self.max_cached:
                self._cache.clear()
            self._cache[address] = known
        return known


class RateLimiter:
    """Leaky buckets per client key, with an allow list of trusted networks."""

    def __init__(self, config: RateLimitConfig, clock: Clock, max_keys: int = 200_000) -> None:
        self.config = config
        self.clock = clock
        self.max_keys = max_keys
        self._allow = NetworkSet(config.allow)
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (level, at)

    def key(self, address: str) -> str:
        """The bucket key for an address."""
        return client_key(address, self.config.ipv6_prefix)

    def is_trusted(self, address: str) -> bool:
        """Whether the address (IPv4-mapped or not) is on the allow list."""
        return address in self._allow

    def check(self, address: str, cost: float = 1.0) -> float:
        """Account one query; 0.0 when allowed, else the seconds until it would be allowed."""
        if not self.config.enabled or (self._allow and self.is_trusted(address)):
            return 0.0
        now = self.clock.seconds()
        key = self.key(address)
        level, at = self._buckets.get(key, (0.0, now))
        level = max(0.0, level - (now - at) * self.config.rate)
        if level + cost > self.config.burst:
            self._buckets[key] = (level, now)
            return (level + cost - self.config.burst) / self.config.rate
        if len(self._buckets) >= self.max_keys and key not in self._buckets:
            self._prune(now)
        self._buckets[key] = (level + cost, now)
        return 0.0

    def retry_after(self, seconds: float) -> int:
        """Whole seconds for a ``Retry-After`` header (at least 1)."""
        return max(1, math.ceil(seconds))

    def _prune(self, now: float) -> None:
        """Drop buckets that have drained (bounded memory under address-spraying clients)."""
        rate = self.config.rate
        self._buckets = {k: (lvl, at) for k, (lvl, at) in self._buckets.items() if lvl - (now - at) * rate > 0}
