"""Tests for whois_server.ratelimit: leaky buckets on a fake clock, client keys, the allow list."""

from __future__ import annotations

from twisted.internet.testing import MemoryReactorClock

from registrar.config import RateLimitConfig
from whois_server.ratelimit import NetworkSet, RateLimiter, client_key


def test_burst_then_rate_on_a_fake_clock() -> None:
    """`burst` queries pass at once, the next waits 1/rate seconds; time refills the bucket."""
    clock = MemoryReactorClock()
    limiter = RateLimiter(RateLimitConfig(rate=2.0, burst=3), clock)
    assert [limiter.check("192.0.2.1") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.check("192.0.2.1") == 0.5
    assert limiter.retry_after(0.5) == 1
    assert limiter.check("192.0.2.2") == 0.0  # other clients have their own bucket
    clock.advance(0.5)
    assert limiter.check("192.0.2.1") == 0.0
    assert limiter.check("192.0.2.1") > 0.0


def test_ipv6_clients_share_their_prefix_and_mapped_ipv4_is_ipv4() -> None:
    """A /64 is one client; ::ffff:a.b.c.d (a dual-stack listener) is the IPv4 client a.b.c.d."""
    assert client_key("2001:db8:1:2::1") == client_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("::ffff:192.0.2.7") == "192.0.2.7"
    clock = MemoryReactorClock()
    limiter = RateLimiter(RateLimitConfig(rate=1.0, burst=1), clock)
    assert limiter.check("::ffff:192.0.2.7") == 0.0
    assert limiter.check("192.0.2.7") > 0.0


def test_allow_list_matches_ipv4_mapped_addresses() -> None:
    """Trusted networks are exempt whether the listener reports IPv4 or IPv4-mapped IPv6 addresses."""
    clock = MemoryReactorClock()
    limiter = RateLimiter(RateLimitConfig(rate=1.0, burst=1, allow=("127.0.0.0/8", "2001:db8::/32")), clock)
    for address in ("127.0.0.1", "::ffff:127.0.0.1", "2001:db8::5"):
        assert limiter.is_trusted(address)
        assert all(limiter.check(address) == 0.0 for _ in range(5))
    assert not limiter.is_trusted("::ffff:192.0.2.1")
    assert "not-an-address" not in NetworkSet(["0.0.0.0/0"])


def test_disabled_limiter_allows_everything() -> None:
    """`enabled = false` turns the limiter off."""
    limiter = RateLimiter(RateLimitConfig(enabled=False, burst=1), MemoryReactorClock())
    assert all(limiter.check("192.0.2.1") == 0.0 for _ in range(10))
