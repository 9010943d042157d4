"""Benchmark: our ``whois-server`` against bare-Twisted baselines, in one run, same load generator.

    .venv/bin/python bench/run.py                 # 10 s per measurement, about 90 s in all
    .venv/bin/python bench/run.py --rounds 3      # median of 3 rounds (a busy machine)
    .venv/bin/python bench/run.py --seconds 5 --no-workers2
    .venv/bin/python bench/run.py --profile       # also py-spy profiles of ours (needs py-spy)

Steps: compile ``bench/loadgen.c`` (into a cache directory under the system temp dir, keyed by the
source's hash), create a SQLite database with ``fixtures/`` loaded, write a server configuration
(``fixtures/config.toml`` with ``[ratelimit] enabled = false``, the load generator's address on
``ratelimit.allow`` so the per-client connection cap does not apply to it, ephemeral ports,
everything else default, including the 2 s record cache and the per-query log line), then
per round start

* the baselines of ``bench/baselines.py`` (bare protocol / bare ``twisted.web`` resource),
* ours with one worker,
* ours with ``--workers 2`` (unless ``--no-workers2``), for information,

and measure WHOIS, then RDAP, on each server in turn while the others sit idle: ``--warmup``
seconds unrecorded, then ``--seconds`` recorded. The baseline and ours-with-one-worker are
pinned to CPU 0 (``taskset``) and the load generator to CPU 1; ours with two workers is not
pinned (it shares the cores with the load generator). Their order alternates between rounds;
with ``--rounds N`` the table shows each server's median round. Besides requests per second,
the table shows requests per CPU-second of the server (user+system time of its processes over
the recorded window), which is much less sensitive to other processes competing for CPU 0.
Prints the table and writes ``bench/results/latest.json``.

Every load run is bounded in time by the load generator itself, and every server started here
is stopped (SIGTERM, then SIGKILL) before the script exits.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
FIXTURES = ROOT / "fixtures"
RESULTS = BENCH / "results"
HOST = "127.0.0.1"
PORT_RE = re.compile(r"(WHOIS|RDAP) listening on \S+ port (\d+)")
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------------
# Load generator


def build_loadgen() -> Path:
    """Compile ``loadgen.c`` once per source version; returns the binary's path."""
    src = BENCH / "loadgen.c"
    digest = hashlib.sha256(src.read_bytes()).hexdigest()[:12]
    out_dir = Path(tempfile.gettempdir()) / "rdds-bench"
    out = out_dir / f"loadgen-{digest}"
    if out.exists():
        return out
    cc = os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc")
    if not cc:
        sys.exit("bench: no C compiler (gcc) found; apt-get install gcc")
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".tmp{os.getpid()}")
    subprocess.run([cc, "-O2", "-Wall", "-Wextra", "-o", str(tmp), str(src)], check=True)
    tmp.replace(out)
    return out


@dataclass
class Pinning:
    """CPU pinning of servers and load generator (empty: not pinned)."""

    server: str
    loader: str

    @staticmethod
    def prefix(cpus: str) -> list[str]:
        return ["taskset", "-c", cpus] if cpus and shutil.which("taskset") else []


# ---------------------------------------------------------------------------------------------
# Queries


def query_names(seed: int = 43) -> list[str]:
    """Fixture domains as A-labels, IDNs also as U-labels, plus ~15% names that do not exist."""
    import idna

    data = tomllib.loads((FIXTURES / "registrations.toml").read_text(encoding="utf-8"))
    names: list[str] = []
    for dom in data.get("domain", []):
        name = str(dom["name"]).lower()
        try:
            alabel = idna.encode(name).decode("ascii")
        except idna.IDNAError:
            alabel = name.encode("idna").decode("ascii")
        names.append(alabel)
        if alabel != name:
            names.append(name)
    missing = max(5, len(names) * 15 // 85)
    names += [f"no-such-name-{i}.{'example' if i % 2 else 'test'}" for i in range(missing)]
    random.Random(seed).shuffle(names)
    return names


def write_items(directory: Path, names: list[str]) -> tuple[Path, Path]:
    """The WHOIS query file and the RDAP path file for the load generator."""
    whois = directory / "whois-queries.txt"
    whois.write_text("".join(f"{n}\n" for n in names), encoding="utf-8")
    rdap = directory / "rdap-paths.txt"
    rdap.write_text("".join(f"/domain/{urllib.parse.quote(n, safe='.-')}\n" for n in names), encoding="ascii")
    return whois, rdap


# ---------------------------------------------------------------------------------------------
# Database and configuration


def registrar_cli() -> list[str]:
    exe = Path(sys.executable).with_name("registrar")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "registrar.cli.main"]


def make_database(directory: Path) -> str:
    url = f"sqlite:///{directory / 'bench.db'}"
    env = dict(os.environ)
    env.pop("REGISTRAR_CONFIG", None)
    for args in (["db", "upgrade"], ["fixtures", "load", str(FIXTURES / "registrations.toml")]):
        proc = subprocess.run([*registrar_cli(), "--db", url, *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            sys.exit(f"bench: registrar {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")
    return url


def write_config(path: Path, overrides: dict[str, dict[str, Any]]) -> Path:
    """``fixtures/config.toml`` merged with ``overrides``."""
    from registrar.config import merged_config_text

    path.write_text(merged_config_text(FIXTURES / "config.toml", overrides), encoding="utf-8")
    return path


def parse_overrides(items: list[str]) -> dict[str, dict[str, Any]]:
    """``table.key=value`` strings (value parsed as TOML) → override tables."""
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        key, _, raw = item.partition("=")
        table, _, name = key.strip().partition(".")
        if not name or not raw:
            sys.exit(f"bench: --set wants table.key=value, got {item!r}")
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        out.setdefault(table, {})[name] = value
    return out


# ---------------------------------------------------------------------------------------------
# Servers


@dataclass
class Server:
    """A server process started for the benchmark."""

    label: str
    process: subprocess.Popen[bytes]
    log_path: Path
    ports: dict[str, int] = field(default_factory=dict)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 15) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _wait_ready(server: Server, deadline_s: float = 30) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline and len(server.ports) < 2:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.label} exited:\n{server.log()}")
        for kind, port in PORT_RE.findall(server.log()):
            server.ports[kind.lower()] = int(port)
        time.sleep(0.05)
    if len(server.ports) < 2:
        raise RuntimeError(f"{server.label} did not report its ports:\n{server.log()}")
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.label} exited:\n{server.log()}")
        with contextlib.suppress(OSError):
            if http_get(server.ports["rdap"], "/help", timeout=1)[0]:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{server.label} is not answering:\n{server.log()}")


@contextlib.contextmanager
def started(label: str, cmd: list[str], workdir: Path) -> Iterator[Server]:
    log_path = workdir / f"{label.replace(' ', '_')}.log"
    env = dict(os.environ)
    env.pop("REGISTRAR_CONFIG", None)
    env.pop("REGISTRAR_DATABASE_URL", None)
    with log_path.open("wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=fh, cwd=ROOT, env=env, start_new_session=True)
    server = Server(label, proc, log_path)
    try:
        _wait_ready(server)
        yield server
    finally:
        server.stop()


def whois_query(port: int, name: str, timeout: float = 5) -> bytes:
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        s.sendall(name.encode() + b"\r\n")
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def http_get(port: int, path: str, timeout: float = 5) -> tuple[int, bytes]:
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: bench\r\n\r\n".encode())
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    m = re.match(rb"HTTP/1\.\d (\d{3})", head)
    return (int(m.group(1)) if m else 0), body


def smoke_check(server: Server, names: list[str]) -> dict[str, Any]:
    """One WHOIS query and one RDAP request of a known name, so a broken server is obvious."""
    known = next(n for n in names if not n.startswith("no-such-name"))
    reply = whois_query(server.ports["whois"], known)
    status, body = http_get(server.ports["rdap"], f"/domain/{urllib.parse.quote(known, safe='.-')}")
    first = reply.decode("utf-8", "replace").strip().splitlines()[:1]
    return {"name": known, "whois_bytes": len(reply), "whois_first_line": first[0] if first else "",
            "rdap_status": status, "rdap_bytes": len(body)}


# ---------------------------------------------------------------------------------------------
# CPU accounting


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry.name))
    return out


def tree_cpu_seconds(pid: int) -> float:
    """User+system CPU seconds of ``pid`` and its descendants (live ones)."""
    total = 0.0
    todo = [pid]
    while todo:
        p = todo.pop()
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
        todo += _children(p)
    return total


def server_pids(pid: int) -> list[int]:
    """The process and its children (workers)."""
    return [pid, *_children(pid)]


# ---------------------------------------------------------------------------------------------
# Measurement


@dataclass
class Options:
    loadgen: Path
    seconds: float
    warmup: float
    whois_conns: int
    http_conns: int
    pin: Pinning
    profile: bool


def run_load(opts: Options, mode: str, port: int, items: Path, server: Server, pinned: bool,
             profile_to: Path | None = None) -> dict[str, Any]:
    conns = opts.whois_conns if mode == "whois" else opts.http_conns
    cmd = [*Pinning.prefix(opts.pin.loader), str(opts.loadgen), mode, HOST, str(port), str(conns),
           str(opts.warmup), str(opts.seconds), str(items)]
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # CPU of the server over the recorded window only.
    time.sleep(opts.warmup)
    cpu0, t0 = tree_cpu_seconds(server.process.pid), time.monotonic()
    spy = None
    if profile_to is not None:
        spy = start_profiler(server, opts.seconds, profile_to)
    try:
        out, err = proc.communicate(timeout=opts.warmup + opts.seconds + 30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    cpu1, t1 = tree_cpu_seconds(server.process.pid), time.monotonic()
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    if spy is not None:
        finish_profiler(spy)
    if proc.returncode != 0:
        raise RuntimeError(f"loadgen failed ({proc.returncode}): {err.decode(errors='replace')}")
    result: dict[str, Any] = json.loads(out)
    loader_cpu = (after_children.ru_utime + after_children.ru_stime
                  - before_children.ru_utime - before_children.ru_stime)
    result["server_cpu_pct"] = round(100 * (cpu1 - cpu0) / max(t1 - t0, 1e-9), 1)
    result["loader_cpu_pct"] = round(100 * loader_cpu / max(opts.warmup + opts.seconds, 1e-9), 1)
    result["server_pinned"] = pinned
    return result


def start_profiler(server: Server, seconds: float, out: Path) -> subprocess.Popen[bytes] | None:
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        print("bench: --profile needs py-spy (pip install py-spy); skipped", file=sys.stderr)
        return None
    pids = server_pids(server.process.pid)
    pid = pids[-1]  # with workers, profile one worker; otherwise the server itself
    # --gil: only the thread holding the GIL, i.e. where the Python CPU time goes.
    cmd = [spy, "record", "--pid", str(pid), "--duration", str(max(1, int(seconds) - 1)), "--rate", "250",
           "--gil", "--format", "raw", "--nonblocking", "--output", str(out)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish_profiler(spy: subprocess.Popen[bytes]) -> None:
    try:
        spy.wait(timeout=30)
    except subprocess.TimeoutExpired:
        spy.kill()
        spy.wait()


def summarize_profile(path: Path, top: int = 15) -> list[tuple[str, float, float]]:
    """Top functions of a py-spy ``raw`` (collapsed stacks) file: (function, self %, total %).

    Frames are grouped by function (line numbers dropped); percentages are of all samples.
    """
    if not path.exists():
        return []
    self_counts: dict[str, int] = {}
    total_counts: dict[str, int] = {}
    samples = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        samples += n
        frames = [LINE_NO.sub(")", f) for f in stack.split(";")]
        self_counts[frames[-1]] = self_counts.get(frames[-1], 0) + n
        for frame in set(frames):
            total_counts[frame] = total_counts.get(frame, 0) + n
    if not samples:
        return []
    ranked = sorted(self_counts.items(), key=lambda kv: -kv[1])[:top]
    return [(frame, 100 * n / samples, 100 * total_counts[frame] / samples) for frame, n in ranked]


LINE_NO = re.compile(r":\d+\)$")


# ---------------------------------------------------------------------------------------------
# Report


def per_cpu(r: dict[str, Any]) -> float:
    """Requests per CPU-second of the server (its processes' user+system time)."""
    return r["qps"] / max(r["server_cpu_pct"] / 100, 1e-9)


def fmt_row(label: str, r: dict[str, Any], base: dict[str, Any] | None) -> str:
    ratio = f"{r['qps'] / base['qps']:6.2f}" if base else "     -"
    cpu_ratio = f"{per_cpu(r) / per_cpu(base):6.2f}" if base else "     -"
    lat = r["latency_ms"]
    extra = ""
    if "status" in r:
        st = r["status"]
        extra = f"  2xx {st['2xx']} 4xx {st['4xx']} 5xx {st['5xx']}"
    return (f"  {label:<18} {r['qps']:>8.0f} {ratio} {per_cpu(r):>9.0f} {cpu_ratio} {lat['p50']:>7.2f}"
            f" {lat['p99']:>7.2f} {r['errors']:>6} {r['bytes_per_response']:>6.0f}"
            f" {r['server_cpu_pct']:>5.0f}% {r['loader_cpu_pct']:>5.0f}%{extra}")


def print_table(results: dict[str, dict[str, Any]], opts: Options) -> None:
    print()
    pin = (f"servers on CPU {opts.pin.server}, load generator on CPU {opts.pin.loader}"
           if opts.pin.server else "no pinning")
    print(f"{opts.seconds:g} s per measurement after {opts.warmup:g} s warm-up; {pin}")
    print("ratio: req/s against the baseline; /CPU: requests per CPU-second of the server, and that ratio")
    for mode, title, conns in (("whois", "WHOIS (connect, query, read to EOF, close)", opts.whois_conns),
                               ("rdap", "RDAP (HTTP/1.1 keep-alive GET /domain/NAME)", opts.http_conns)):
        rows = {k.split(":", 1)[1]: v for k, v in results.items() if k.startswith(mode + ":")}
        if not rows:
            continue
        print(f"\n{title}, {conns} connections")
        print(f"  {'server':<18} {'req/s':>8} {'ratio':>6} {'req/CPU-s':>9} {'ratio':>6} {'p50 ms':>7}"
              f" {'p99 ms':>7} {'errors':>6} {'B/resp':>6} {'srvCPU':>6} {'genCPU':>6}")
        base = rows.get("baseline")
        for label, r in rows.items():
            print(fmt_row(label, r, None if label == "baseline" else base))


# ---------------------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    commit = ""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, timeout=10).stdout.strip()
    import twisted

    return {"cpus": os.cpu_count(), "cpu_model": model, "loadavg_at_start": os.getloadavg(),
            "python": platform.python_version(), "twisted": twisted.__version__, "kernel": platform.release(),
            "git_commit": commit}


def median_run(rs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median rate (lower median for an even count)."""
    return sorted(rs, key=lambda r: r["qps"])[(len(rs) - 1) // 2]


def measure_round(servers: list[tuple[str, list[str], bool]], rnd: int, modes: list[str], opts: Options,
                  workdir: Path, names: list[str], items: tuple[Path, Path],
                  runs: dict[str, list[dict[str, Any]]], smoke: dict[str, Any], failures: dict[str, str],
                  profiles: dict[str, list[tuple[str, float, float]]]) -> None:
    """Start every server, measure each protocol on each in turn, stop them.

    The servers that are not being measured sit idle. Measurements of one protocol follow each
    other directly, so a change in the machine's other load hits baseline and ours alike; the
    order alternates from round to round.
    """
    with contextlib.ExitStack() as stack:
        live: list[tuple[str, Server, bool]] = []
        for label, cmd, pinned in servers:
            try:
                server = stack.enter_context(started(label, cmd, workdir))
            except RuntimeError as exc:
                print(f"bench: {label} did not start; skipped:\n{exc}", file=sys.stderr, flush=True)
                failures[label] = str(exc)[-2000:]
                continue
            live.append((label, server, pinned))
            if label != "baseline" and rnd == 0:
                smoke[label] = smoke_check(server, names)
                print(f"bench: {label}: {json.dumps(smoke[label], ensure_ascii=False)}", flush=True)
        pinned_first = [x for x in live if x[2]]
        order = (pinned_first if rnd % 2 == 0 else pinned_first[::-1]) + [x for x in live if not x[2]]
        for mode in modes:
            for label, server, pinned in order:
                prof = None
                if opts.profile and label.startswith("ours") and rnd == 0:
                    slug = re.sub(r"[^a-z0-9]+", "-", label).strip("-")
                    prof = RESULTS / f"profile-{mode}-{slug}.txt"
                print(f"bench: round {rnd + 1} {mode} {label} ...", end=" ", flush=True)
                r = run_load(opts, "whois" if mode == "whois" else "http", server.ports[mode],
                             items[0] if mode == "whois" else items[1], server, pinned, prof)
                r["profiled"] = prof is not None
                print(f"{r['qps']:.0f}/s (server CPU {r['server_cpu_pct']:.0f}%)", flush=True)
                runs.setdefault(f"{mode}:{label}", []).append(r)
                if prof is not None:
                    profiles[f"{mode}:{label}"] = summarize_profile(prof)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10.0, help="recorded seconds per measurement [10]")
    ap.add_argument("--warmup", type=float, default=2.0, help="unrecorded seconds before each [2]")
    ap.add_argument("--whois-connections", type=int, default=64, help="concurrent WHOIS connections [64]")
    ap.add_argument("--http-connections", type=int, default=64, help="keep-alive RDAP connections [64]")
    ap.add_argument("--server-cpu", default="0", help="taskset CPU list for the servers [0]")
    ap.add_argument("--loader-cpu", default="1", help="taskset CPU list for the load generator [1]")
    ap.add_argument("--no-pin", action="store_true", help="do not pin anything")
    ap.add_argument("--only", choices=["whois", "rdap"], help="measure only one protocol")
    ap.add_argument("--no-workers2", action="store_true", help="skip ours with --workers 2")
    ap.add_argument("--db", help="database URL to serve (default: a fresh SQLite file with fixtures/)")
    ap.add_argument("--set", action="append", default=[], metavar="TABLE.KEY=VALUE",
                    help="extra override of our server's configuration (repeatable), "
                         "e.g. server.log_queries=false")
    ap.add_argument("--rounds", type=int, default=1,
                    help="repeat the whole sequence; the table shows each server's median round [1]")
    ap.add_argument("--profile", action="store_true",
                    help="run py-spy on our server during its measurements (slows it: numbers marked)")
    ap.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    args = ap.parse_args(argv)
    if args.seconds <= 0 or args.seconds > 600 or args.warmup < 0 or args.warmup > 60:
        ap.error("--seconds must be in (0, 600] and --warmup in [0, 60]")
    if not 1 <= args.rounds <= 20:
        ap.error("--rounds must be in [1, 20]")

    pin = Pinning("", "") if args.no_pin else Pinning(args.server_cpu, args.loader_cpu)
    opts = Options(loadgen=build_loadgen(), seconds=args.seconds, warmup=args.warmup,
                   whois_conns=args.whois_connections, http_conns=args.http_connections, pin=pin,
                   profile=args.profile)
    modes = [args.only] if args.only else ["whois", "rdap"]
    info = machine_info()
    started_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    print(f"bench: {started_at.isoformat()} {info['cpus']} CPUs ({info['cpu_model']}), load average "
          f"{' '.join(f'{x:.2f}' for x in info['loadavg_at_start'])}; loadgen {opts.loadgen}", flush=True)

    runs: dict[str, list[dict[str, Any]]] = {}
    smoke: dict[str, Any] = {}
    failures: dict[str, str] = {}
    profiles: dict[str, list[tuple[str, float, float]]] = {}
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rdds-bench-") as tmp:
        workdir = Path(tmp)
        names = query_names()
        whois_items, rdap_items = write_items(workdir, names)
        db_url = args.db or make_database(workdir)
        overrides: dict[str, dict[str, Any]] = {
            # The load comes from one address: without the allow list, whois.max_connections_per_client
            # (4, enforced even with the rate limiter off) would refuse most of the 64 connections.
            "ratelimit": {"enabled": False, "allow": [HOST + "/32"]},
            "whois": {"port": 0},
            "rdap": {"port": 0},
            "server": {"host": HOST, "workers": 1},
        }
        for table, values in parse_overrides(args.set).items():
            overrides.setdefault(table, {}).update(values)
        config = write_config(workdir / "server.toml", overrides)
        whois_server = Path(sys.executable).with_name("whois-server")
        ours_cmd = [str(whois_server)] if whois_server.exists() else [sys.executable, "-m",
                                                                      "whois_server.main"]
        ours_cmd += ["--db", db_url, "--config", str(config)]
        servers: list[tuple[str, list[str], bool]] = [
            ("baseline", [*Pinning.prefix(pin.server), sys.executable, str(BENCH / "baselines.py"),
                          "--whois-port", "0", "--rdap-port", "0"], bool(pin.server)),
            ("ours (1 worker)", [*Pinning.prefix(pin.server), *ours_cmd], bool(pin.server)),
        ]
        if not args.no_workers2:
            servers.append(("ours (2 workers)", [*ours_cmd, "--workers", "2"], False))
        for rnd in range(args.rounds):
            measure_round(servers, rnd, modes, opts, workdir, names, (whois_items, rdap_items), runs, smoke,
                          failures, profiles)
        if not args.db:
            with contextlib.suppress(OSError):
                os.unlink(workdir / "bench.db")

    results = {key: median_run(rs) for key, rs in runs.items()}
    print_table(results, opts)
    ratios = {}
    for mode in modes:
        base = results.get(f"{mode}:baseline", {}).get("qps")
        ours = results.get(f"{mode}:ours (1 worker)", {}).get("qps")
        if base and ours:
            ratios[mode] = round(ours / base, 3)
            ratios[mode + "_per_cpu"] = round(per_cpu(results[f"{mode}:ours (1 worker)"])
                                              / per_cpu(results[f"{mode}:baseline"]), 3)
    for key, top in profiles.items():
        print(f"\npy-spy, {key}: top frames by own time (self %, total %)")
        for frame, own, total in top:
            print(f"  {own:5.1f} {total:5.1f}  {frame}")
    report = {
        "date": started_at.isoformat(), "machine": info, "loadavg_at_end": os.getloadavg(),
        "seconds": opts.seconds, "warmup": opts.warmup, "whois_connections": opts.whois_conns,
        "http_connections": opts.http_conns, "pinning": {"server": pin.server, "loader": pin.loader},
        "profiled": args.profile, "server_overrides": overrides, "queries": len(names),
        "rounds": args.rounds, "smoke": smoke, "failures": failures,
        "results": results, "all_runs": runs, "ratio_ours_to_baseline": ratios,
        "profiles": {k: [{"frame": f, "self_pct": round(s, 1), "total_pct": round(t, 1)} for f, s, t in v]
                     for k, v in profiles.items()},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nbench: wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
