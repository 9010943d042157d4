"""Tests for whois_server.main: worker processes, SIGTERM, restarts, metrics, config errors."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tests.conftest import ROOT, RunningServer


def whois(server: RunningServer, query: str) -> str:
    """One port-43 query over a real socket."""
    with socket.create_connection((server.host, server.whois_port), timeout=10) as s:
        s.sendall(query.encode() + b"\r\n")
        chunks = []
        while data := s.recv(65536):
            chunks.append(data)
    return b"".join(chunks).decode()


def children(pid: int) -> set[int]:
    """Process ids whose parent is ``pid``."""
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.add(int(entry.name))
    return out


def wait_for(predicate: Callable[[], bool], timeout: float = 15) -> bool:
    """Poll ``predicate`` until true or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_workers_share_the_sockets_restart_and_stop_cleanly(fixture_db_url: str,
                                                            start_server: Callable[..., RunningServer]) -> None:
    """--workers 2: two processes answer; a killed worker is replaced; SIGTERM exits 0 with no worker left."""
    server = start_server(fixture_db_url, workers=2)
    assert wait_for(lambda: len(children(server.process.pid)) == 2)
    workers = children(server.process.pid)
    for _ in range(20):
        assert whois(server, "acme-widgets.example").startswith("Domain Name: acme-widgets.example\r\n")
    victim = sorted(workers)[0]
    os.kill(victim, signal.SIGKILL)
    assert wait_for(lambda: len(children(server.process.pid) - {victim}) == 2)
    assert whois(server, "acme-widgets.example").startswith("Domain Name: acme-widgets.example\r\n")
    remaining = children(server.process.pid)
    assert server.stop() == 0
    assert all(not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
               for pid in remaining)


def test_metrics_count_queries(fixture_db_url: str, start_server: Callable[..., RunningServer]) -> None:
    """server.metrics_port serves Prometheus counters of the queries answered."""
    port = free_port()
    server = start_server(fixture_db_url, overrides={"server": {"metrics_port": port}})
    whois(server, "acme-widgets.example")
    whois(server, "no-such-name.example")

    def scraped() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            return str(resp.read().decode())

    assert wait_for(lambda: 'rdds_queries_total{outcome="not-found",protocol="whois"}' in scraped())
    text = scraped()
    assert 'rdds_queries_total{outcome="found",protocol="whois"} 1.0' in text
    assert "rdds_query_seconds_bucket" in text


def test_invalid_config_stops_the_server_with_the_key(tmp_path: Path) -> None:
    """An unknown key is rejected at start with its dotted path, before anything listens."""
    bad = tmp_path / "bad.toml"
    bad.write_text("[whois]\nport = 0\nidle_timout = 3\n")
    proc = subprocess.run([sys.executable, "-m", "whois_server.main", "--config", str(bad), "--db",
                           f"sqlite:///{tmp_path / 'x.db'}"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "unknown configuration key: whois.idle_timout" in proc.stderr


def test_cached_records_follow_consent_changes_within_a_second(
        empty_db_url: str, start_server: Callable[..., RunningServer]) -> None:
    """With the cache on (long TTL), a consent change reaches WHOIS through the journal watch, not the TTL."""
    from registrar.fixtures import load
    from registrar.operations import set_consent
    from registrar.storage import Database, find_domain, utcnow

    db = Database(empty_db_url)
    load(db, [ROOT / "fixtures" / "registrations.toml"])
    server = start_server(empty_db_url, overrides={"server": {"cache_ttl": 3600.0,
                                                              "cache_invalidation_interval": 0.2}})
    before = whois(server, "acme-widgets.example")
    assert "Registrant Name: REDACTED FOR PRIVACY" in before
    with db.transaction() as s:
        domain = find_domain(s, "acme-widgets.example")
        assert domain is not None
        handle = domain.registrant.handle
        set_consent(s, handle, ["name"], True, actor="test", now=utcnow())
    assert wait_for(lambda: "Registrant Name: REDACTED FOR PRIVACY" not in whois(server, "acme-widgets.example"),
                    timeout=5)
    db.dispose()
