"""The service's one typed configuration.

Configuration is a TOML file (``--config PATH`` or ``REGISTRAR_CONFIG``) whose tables map onto
the frozen dataclasses below. It is loaded once at start, validated as a whole, and any key
that is not defined here is rejected with its full dotted path, so a typo never silently falls
back to a default. Every key carries a ``doc`` string; ``docs/configuration.md`` is checked
against these definitions by the test suite.

The database URL is resolved separately (``--db``, then ``REGISTRAR_DATABASE_URL``, then
``database.url`` from the file, then the embedded SQLite file) by :func:`resolve_database_url`.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "var" / "registrar.db"
DEFAULT_DATABASE_URL = f"sqlite:///{DEFAULT_SQLITE_PATH}"

DEFAULT_TERMS = (
    "TERMS OF USE: The data in this registrar's WHOIS and RDAP services is provided for "
    "information purposes only, to help persons determine the contents of a domain name "
    "registration record. By submitting a query you agree to use this data only for lawful "
    "purposes and that, under no circumstances, you will use it to (1) allow, enable or "
    "otherwise support the transmission of mass unsolicited commercial advertising or "
    "solicitations by e-mail, telephone or facsimile; or (2) enable high-volume, automated, "
    "electronic processes that send queries or data to the systems of the registrar or any "
    "ICANN-accredited registrar, except as reasonably necessary to register domain names or "
    "modify existing registrations. Non-public registration data may be requested through "
    "the disclosure request page linked from the registrar's home page."
)


class ConfigError(ValueError):
    """The configuration is invalid; the message names the key and the rule."""


def _doc(text: str, default: Any = dataclasses.MISSING, factory: Any = dataclasses.MISSING) -> Any:
    if factory is not dataclasses.MISSING:
        return field(default_factory=factory, metadata={"doc": text})
    return field(default=default, metadata={"doc": text})


@dataclass(frozen=True)
class RegistrarConfig:
    """Our accreditation: what every public record says about the sponsoring registrar."""

    name: str = _doc("Registrar name as accredited by ICANN.", "Example Registrar, Inc.")
    iana_id: int = _doc("IANA Registrar ID.", 9999)
    url: str = _doc("Registrar web site (WHOIS `Registrar URL`, RDAP `about` link href).",
                    "https://www.registrar.example")
    whois_server: str = _doc("Host name of our port-43 service (`Registrar WHOIS Server`, RDAP `port43`).",
                             "whois.registrar.example")
    rdap_base_url: str = _doc("Our RDAP base URL exactly as registered with IANA (ends with `/`).",
                              "https://rdap.registrar.example/")
    abuse_email: str = _doc("Registrar abuse contact email.", "abuse@registrar.example")
    abuse_phone: str = _doc("Registrar abuse contact phone, `+CC.NNNN` form.", "+1.5555550100")
    tos_url: str = _doc("Terms-of-service web page (RDAP ToS notice href).",
                        "https://www.registrar.example/legal/rdds-terms")
    disclosure_url: str = _doc("Page describing how to request non-public data (RDP §10.1).",
                               "https://www.registrar.example/legal/disclosure-requests")
    terms_of_use: str = _doc("Terms of use printed at the end of WHOIS replies and in the RDAP ToS notice.",
                             DEFAULT_TERMS)


@dataclass(frozen=True)
class PrivacyConfig:
    """How the Registration Data Policy is applied to the public record."""

    email_mode: Literal["web-form", "relay"] = _doc(
        "How registrant/tech email is replaced: `web-form` (contact-uri URL) or `relay` (forwarding address).",
        "web-form")
    contact_form_url: str = _doc(
        "Contact-form URL template; `{domain}` is replaced by the A-label and `{role}` by the contact role.",
        "https://www.registrar.example/contact-domain-holder?domain={domain}&role={role}")
    relay_address: str = _doc(
        "Relay address template for `relay` mode; `{token}` is a stable opaque per-domain-and-role token.",
        "{token}@relay.registrar.example")
    relay_secret: str = _doc("Secret key used to derive relay tokens (set it in production).",
                             "change-me-relay-secret")
    redaction_text: str = _doc("The text shown in WHOIS for a redacted value.", "REDACTED FOR PRIVACY")


@dataclass(frozen=True)
class RateLimitConfig:
    """The one rate limiter shared by WHOIS and RDAP (leaky bucket per client key)."""

    enabled: bool = _doc("Turn per-client rate limiting on or off.", True)
    rate: float = _doc("Sustained queries per second allowed per client key.", 5.0)
    burst: int = _doc("Queries a client may make at once before the rate applies.", 60)
    ipv6_prefix: int = _doc("IPv6 clients are keyed by this prefix length.", 64)
    allow: tuple[str, ...] = _doc("Networks never rate limited (CIDR strings), e.g. ICANN monitoring.",
                                  factory=tuple)


@dataclass(frozen=True)
class WhoisConfig:
    """Port-43 service (RFC 3912)."""

    enabled: bool = _doc("Run the port-43 service.", True)
    port: int = _doc("TCP port (43 in production; the quick start uses 4343).", 4343)
    max_query_length: int = _doc("Longest accepted query line in bytes; longer gets an error and close.", 512)
    idle_timeout: float = _doc(
        "Seconds a client has from connecting to send its whole query (partial data does not extend it); "
        "also the longest a reply may take before the temporary-failure line.", 15.0)
    max_connections: int = _doc("Open port-43 connections allowed per worker process.", 2000)
    max_connections_per_client: int = _doc("Concurrent connections allowed per client key.", 4)


@dataclass(frozen=True)
class RdapConfig:
    """RDAP over HTTP (RFC 7480/9082/9083)."""

    enabled: bool = _doc("Run the RDAP service.", True)
    port: int = _doc("TCP port of the RDAP HTTP listener.", 8080)
    tls_certificate: str = _doc("PEM certificate chain; when set (with the key) RDAP is served over TLS.", "")
    tls_private_key: str = _doc("PEM private key for `tls_certificate`.", "")
    trusted_proxies: tuple[str, ...] = _doc(
        "Networks whose `X-Forwarded-For` is trusted for the client address (TLS-terminating proxies).",
        factory=tuple)


@dataclass(frozen=True)
class ServerConfig:
    """Process-level settings of `whois-server`."""

    host: str = _doc("Address both listeners bind (`::` for IPv4+IPv6).", "127.0.0.1")
    workers: int = _doc("Worker processes sharing the listening sockets (one core each).", 1)
    listen_backlog: int = _doc("Listen backlog of each listening socket.", 1024)
    cache_ttl: float = _doc("Seconds a public record stays cached in a worker (0 disables the cache).", 60.0)
    cache_invalidation_interval: float = _doc(
        "Seconds between checks of the change journal; any new entry empties the caches (0: TTL only).", 1.0)
    cache_size: int = _doc("Public records (and misses) cached per worker.", 100_000)
    db_threads: int = _doc("Threads running database work off the reactor, per worker.", 4)
    log_queries: bool = _doc("Write one log line per query (no personal data).", True)
    metrics_port: int = _doc("Port for Prometheus metrics on the server host (0: off).", 0)


@dataclass(frozen=True)
class DatabaseConfig:
    """Where the registration data lives."""

    url: str = _doc("SQLAlchemy URL; overridden by `--db` and `REGISTRAR_DATABASE_URL`.", "")
    pool_size: int = _doc("Connections per process (PostgreSQL).", 5)


@dataclass(frozen=True)
class PolicyConfig:
    """Registrar operations policy: verification and retention."""

    verification_days: int = _doc("Days a contact has to verify before its domains are put on clientHold.", 15)
    retention_days: int = _doc("Days personal data is kept after sponsorship ends (RAA DRS: two years).", 730)
    default_period_years: int = _doc("Registration period used when none is given.", 1)


@dataclass(frozen=True)
class RegistryConfig:
    """One registry operator the sync job pushes to."""

    name: str = _doc("Short name used on the command line (`--registry NAME`).", "")
    tlds: tuple[str, ...] = _doc("TLDs this registry operates (A-labels, no dot).", factory=tuple)
    host: str = _doc("EPP server host name (the certificate must match it).", "")
    port: int = _doc("EPP server port.", 700)
    client_certificate: str = _doc("PEM client certificate file.", "")
    client_key: str = _doc("PEM private key of the client certificate.", "")
    ca_bundle: str = _doc("PEM CA bundle that verifies the registry's server certificate.", "")
    client_id: str = _doc("EPP clID.", "")
    password_env: str = _doc("Environment variable holding the EPP password.", "")
    password_file: str = _doc("File holding the EPP password (used when `password_env` is empty).", "")
    sessions: int = _doc("EPP sessions opened in parallel.", 1)
    data_model: Literal["minimum", "thick-public"] = _doc(
        "`minimum`: domain, hosts, DS, client statuses only; `thick-public`: also contacts as published.",
        "minimum")
    redaction_placeholder: str = _doc("Value sent for schema-required elements that policy redacts.",
                                      "REDACTED FOR PRIVACY")
    timeout: float = _doc("Seconds to wait for the registry on each read.", 30.0)


@dataclass(frozen=True)
class SyncConfig:
    """The registry sync job."""

    lock_file: str = _doc("Lock file that keeps two runs from overlapping.", "var/sync.lock")
    max_retries: int = _doc("Retries for 2400 answers and dropped connections, per command.", 5)
    backoff_base: float = _doc("First retry delay in seconds (doubles each retry).", 1.0)
    late_commit_seconds: float = _doc(
        "Seconds a missing journal id holds the sync cursor below it: an id taken by a transaction that "
        "may still commit (one that rolled back leaves such a gap too). Journal-writing transactions must "
        "finish within half of this for the sync to see every change (0: never hold).", 600.0)
    registries: tuple[RegistryConfig, ...] = _doc("Registry operators (`[[sync.registries]]`).", factory=tuple)


@dataclass(frozen=True)
class Config:
    """The whole configuration."""

    registrar: RegistrarConfig = _doc("Our accreditation data.", factory=RegistrarConfig)
    privacy: PrivacyConfig = _doc("Redaction and email replacement.", factory=PrivacyConfig)
    ratelimit: RateLimitConfig = _doc("Per-client rate limits.", factory=RateLimitConfig)
    whois: WhoisConfig = _doc("Port-43 service.", factory=WhoisConfig)
    rdap: RdapConfig = _doc("RDAP service.", factory=RdapConfig)
    server: ServerConfig = _doc("Server processes.", factory=ServerConfig)
    database: DatabaseConfig = _doc("Database.", factory=DatabaseConfig)
    policy: PolicyConfig = _doc("Verification and retention.", factory=PolicyConfig)
    sync: SyncConfig = _doc("Registry sync.", factory=SyncConfig)


def _convert(value: Any, tp: Any, path: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{path}: expected a table")
        return _build(tp, value, path)
    if origin is Literal:
        allowed = typing.get_args(tp)
        if value not in allowed:
            raise ConfigError(f"{path}: must be one of {', '.join(map(repr, allowed))}, not {value!r}")
        return value
    if origin is tuple:
        (item_tp, _ellipsis) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"{path}: expected an array")
        return tuple(_convert(v, item_tp, f"{path}[{i}]") for i, v in enumerate(value))
    if origin in (typing.Union, types.UnionType):
        raise ConfigError(f"{path}: unsupported type")  # pragma: no cover - not used
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: expected true or false")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{path}: expected an integer")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{path}: expected a number")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{path}: expected a string")
        return value
    raise ConfigError(f"{path}: unsupported type {tp!r}")  # pragma: no cover


def _build(cls: type, data: Mapping[str, Any], prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        where = f"{prefix}." if prefix else ""
        raise ConfigError(f"unknown configuration key: {where}{unknown[0]}")
    kwargs = {}
    for name, value in data.items():
        path = f"{prefix}.{name}" if prefix else name
        kwargs[name] = _convert(value, hints[name], path)
    return cls(**kwargs)


def _check(config: Config) -> None:
    def positive(path: str, value: float) -> None:
        if value <= 0:
            raise ConfigError(f"{path}: must be greater than 0")

    positive("whois.max_query_length", config.whois.max_query_length)
    positive("whois.idle_timeout", config.whois.idle_timeout)
    positive("whois.max_connections", config.whois.max_connections)
    positive("whois.max_connections_per_client", config.whois.max_connections_per_client)
    positive("ratelimit.rate", config.ratelimit.rate)
    positive("ratelimit.burst", config.ratelimit.burst)
    positive("server.workers", config.server.workers)
    positive("server.db_threads", config.server.db_threads)
    positive("server.listen_backlog", config.server.listen_backlog)
    positive("policy.verification_days", config.policy.verification_days)
    if config.server.cache_invalidation_interval < 0:
        raise ConfigError("server.cache_invalidation_interval: must not be negative")
    if config.sync.late_commit_seconds < 0:
        raise ConfigError("sync.late_commit_seconds: must not be negative")
    if config.server.cache_ttl < 0:
        raise ConfigError("server.cache_ttl: must not be negative")
    if config.policy.retention_days < 0:
        raise ConfigError("policy.retention_days: must not be negative")
    for port_path, port in (("whois.port", config.whois.port), ("rdap.port", config.rdap.port)):
        if not 0 <= port <= 65535:
            raise ConfigError(f"{port_path}: must be a TCP port number (0-65535)")
    if not 0 < config.ratelimit.ipv6_prefix <= 128:
        raise ConfigError("ratelimit.ipv6_prefix: must be between 1 and 128")
    for i, net in enumerate(config.ratelimit.allow):
        try:
            ipaddress.ip_network(net, strict=False)
        except ValueError as exc:
            raise ConfigError(f"ratelimit.allow[{i}]: not a network: {exc}") from None
    for i, net in enumerate(config.rdap.trusted_proxies):
        try:
            ipaddress.ip_network(net, strict=False)
        except ValueError as exc:
            raise ConfigError(f"rdap.trusted_proxies[{i}]: not a network: {exc}") from None
    if bool(config.rdap.tls_certificate) != bool(config.rdap.tls_private_key):
        raise ConfigError("rdap.tls_certificate and rdap.tls_private_key: set both or neither")
    if not config.registrar.rdap_base_url.endswith("/"):
        raise ConfigError("registrar.rdap_base_url: must end with '/'")
    if config.privacy.email_mode == "web-form" and not config.privacy.contact_form_url.startswith("https://"):
        raise ConfigError("privacy.contact_form_url: must be an https:// URL")
    if config.privacy.email_mode == "relay" and "{token}" not in config.privacy.relay_address:
        raise ConfigError("privacy.relay_address: must contain '{token}'")
    names = set()
    for i, reg in enumerate(config.sync.registries):
        path = f"sync.registries[{i}]"
        if not reg.name:
            raise ConfigError(f"{path}.name: required")
        if reg.name in names:
            raise ConfigError(f"{path}.name: duplicate registry name {reg.name!r}")
        names.add(reg.name)
        if not reg.tlds:
            raise ConfigError(f"{path}.tlds: at least one TLD is required")
        if not reg.host:
            raise ConfigError(f"{path}.host: required")
        if not reg.client_id:
            raise ConfigError(f"{path}.client_id: required")
        if not (reg.password_env or reg.password_file):
            raise ConfigError(f"{path}: set password_env or password_file")
        positive(f"{path}.sessions", reg.sessions)


def load_config(path: str | os.PathLike[str] | None = None, *, overrides: Mapping[str, Any] | None = None) -> Config:
    """Load and validate the configuration.

    ``path`` falls back to ``REGISTRAR_CONFIG``; with neither, the defaults apply. ``overrides``
    is a nested mapping merged over the file (used by command-line options and tests).
    """
    if path is None:
        path = os.environ.get("REGISTRAR_CONFIG") or None
    data: dict[str, Any] = {}
    if path is not None:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(f"configuration file not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    if overrides:
        data = _merge(data, overrides)
    config = _build(Config, data, "")
    _check(config)
    return typing.cast(Config, config)


def _merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def merged_config_text(base: str | os.PathLike[str], overrides: Mapping[str, Any]) -> str:
    """The TOML text of the file ``base`` with ``overrides`` (nested tables) merged over it.

    Used to derive a configuration from a shipped one (tests, benchmarks, demos).
    """
    import tomli_w

    with open(base, "rb") as fh:
        data = tomllib.load(fh)
    return tomli_w.dumps(_merge(data, overrides))


def resolve_database_url(cli_value: str | None, config: Config | None = None) -> str:
    """The database URL: ``--db``, else ``REGISTRAR_DATABASE_URL``, else the config, else SQLite."""
    if cli_value:
        return cli_value
    env = os.environ.get("REGISTRAR_DATABASE_URL")
    if env:
        return env
    if config is not None and config.database.url:
        return config.database.url
    return DEFAULT_DATABASE_URL


def iter_keys(cls: type = Config, prefix: str = "") -> typing.Iterator[tuple[str, str, str]]:
    """Yield ``(dotted key, default, doc)`` for every leaf key (used for the reference docs)."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(tp) and isinstance(tp, type):
            yield from iter_keys(tp, key + ".")
            continue
        if typing.get_origin(tp) is tuple and dataclasses.is_dataclass(typing.get_args(tp)[0]):
            yield key, "[]", f.metadata.get("doc", "")
            yield from iter_keys(typing.get_args(tp)[0], key + "[].")
            continue
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:  # pragma: no cover
            default = ""
        yield key, repr(default) if not isinstance(default, tuple) else repr(list(default)), f.metadata.get(
            "doc", "")
