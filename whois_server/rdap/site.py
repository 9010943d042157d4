"""The RDAP protocol factory: a twisted.web ``Site`` (no access log), optionally in TLS.

:func:`make_rdap_factory` is what :func:`whois_server.app.build_components` calls. It returns

* a :class:`RdapSite` serving :class:`~whois_server.rdap.resource.RdapResource` — twisted.web's
  own access log is off (``logPath=None`` and a no-op ``log``; formatting it costs about a
  fifth of the throughput): :func:`whois_server.querylog.log_query` writes one line per query;
* wrapped in TLS (``TLSMemoryBIOFactory``) when ``rdap.tls_certificate`` and
  ``rdap.tls_private_key`` are set: the certificate file may hold the chain (leaf first);
  TLS 1.2 and 1.3 only; for TLS 1.2 only the four ECDHE AES-GCM suites ICANN's conformance
  tool accepts (TIG 1.5; rdapct -61100/-61101); TLS 1.3 keeps OpenSSL's AEAD suites.

Without certificate files the listener speaks plain HTTP, for a TLS-terminating proxy in
front (see ``rdap.trusted_proxies`` for the client address it forwards) or for local use.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

from twisted.internet.interfaces import IProtocolFactory
from twisted.internet.ssl import (
    AcceptableCiphers,
    Certificate,
    CertificateOptions,
    PrivateCertificate,
    TLSVersion,
)
from twisted.protocols.tls import TLSMemoryBIOFactory
from twisted.web import http
from twisted.web.server import Site

from registrar.config import Config
from whois_server.ratelimit import Clock, RateLimiter
from whois_server.rdap.resource import RdapResource
from whois_server.service import RegistrationDataService

#: OpenSSL names of the TLS 1.2 suites accepted by rdapct (IANA names in the module docstring).
TLS12_CIPHERS = ":".join(
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES256-GCM-SHA384",
    )
)
IDLE_TIMEOUT = 30.0
_PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\s*", re.S)


class RdapSite(Site):
    """A ``Site`` without twisted.web's access log (queries are logged by the resource)."""

    noisy = False
    displayTracebacks = False

    def log(self, request: http.Request) -> None:
        """No access log line: :func:`whois_server.querylog.log_query` has written one."""


def tls_options(certificate: str | Path, private_key: str | Path) -> CertificateOptions:
    """Server TLS options from PEM files: TLS 1.2+, the four ECDHE-GCM suites for TLS 1.2."""
    chain_pem = Path(certificate).read_bytes()
    key_pem = Path(private_key).read_bytes()
    certs = _PEM_CERT.findall(chain_pem)
    if not certs:
        raise ValueError(f"{certificate}: no PEM certificate found")
    leaf = PrivateCertificate.loadPEM(certs[0] + key_pem)
    extra = [Certificate.loadPEM(c).original for c in certs[1:]]
    return CertificateOptions(
        privateKey=leaf.privateKey.original,
        certificate=leaf.original,
        extraCertChain=extra or None,
        raiseMinimumTo=TLSVersion.TLSv1_2,
        acceptableCiphers=AcceptableCiphers.fromOpenSSLCipherString(TLS12_CIPHERS),
    )


def make_rdap_site(
    *, service: RegistrationDataService, limiter: RateLimiter, config: Config, clock: Clock
) -> RdapSite:
    """The plain-HTTP RDAP site."""
    resource = RdapResource(service, limiter, config, clock)
    reactor: Any = clock if hasattr(clock, "callLater") else None
    return RdapSite(resource, logPath=None, timeout=IDLE_TIMEOUT, reactor=reactor)


def make_rdap_factory(
    *, service: RegistrationDataService, limiter: RateLimiter, config: Config, clock: Clock
) -> IProtocolFactory:
    """The RDAP listener's factory: the site, in TLS when certificate files are configured."""
    site = make_rdap_site(service=service, limiter=limiter, config=config, clock=clock)
    if not config.rdap.tls_certificate:
        return cast(IProtocolFactory, site)  # zope interfaces are not visible to mypy
    options = tls_options(config.rdap.tls_certificate, config.rdap.tls_private_key)
    return cast(IProtocolFactory, TLSMemoryBIOFactory(cast(Any, options), False, cast(Any, site)))
