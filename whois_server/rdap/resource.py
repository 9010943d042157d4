"""The RDAP resource: one leaf resource that routes, rate-limits, looks up and answers.

Routing is done here on the raw request path rather than through a resource tree, so a
request costs one ``render`` call. Paths (RFC 9082), relative to the path of
``registrar.rdap_base_url`` (requests may also come without that prefix):

* ``/domain/<name>`` — ASCII in any case, A-labels, or U-labels percent-encoded as UTF-8;
  a name mixing A-labels and U-labels, or that is not a valid domain name, gets 400; a name
  we do not sponsor (or that was deleted) gets 404 (``/domain/not-a-domain.invalid`` too);
* ``/help``; ``/nameserver/<name>`` for hosts of our registrations; ``/entity/<IANA ID>``
  for our registrar entity;
* other RDAP query types (``/ip``, ``/autnum``, searches) get 501; anything else 404.

Every answer, errors included, is ``application/rdap+json`` with
``Access-Control-Allow-Origin: *`` and a JSON body; HEAD gets the status and headers of GET
(``Content-Length`` included) without the body; methods other than GET and HEAD get 405.

**Request URL.** The ``value`` of notice and ``self`` links must be the URL the client asked
for. It is built from ``registrar.rdap_base_url`` (the URL registered with IANA, so the
scheme and host are right behind a TLS-terminating proxy and cannot be spoofed with a
``Host`` header) plus the request's path and query as received (percent-encoding kept,
case kept). A request that arrives under the base URL's path prefix (``/rdap/domain/x``
for ``https://host/rdap/``) is answered like one without it (``/domain/x``).

**Client address.** The TCP peer, or — only when the peer is in ``rdap.trusted_proxies`` —
the right-most ``X-Forwarded-For`` entry that is not itself a trusted proxy. That address is
charged to the rate limiter shared with WHOIS; refused requests get 429 with ``Retry-After``.

**Non-blocking.** Records the service has cached are answered synchronously, without a
Deferred or a thread hop; the JSON of each cached record is serialised once
(:class:`~registrar.publication.rdap_json.Template`) and only the request URL and the time
are filled in per request. Cache misses go to the database threads through the service.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_from_bytes, unquote_to_bytes, urlsplit

from twisted.python.failure import Failure
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request

from registrar.config import Config
from registrar.publication.rdap_json import (
    MEDIA_TYPE,
    Template,
    domain_response,
    error_response,
    help_response,
    nameserver_response,
    registrar_entity_response,
)
from registrar.publication.record import PublicHost, PublicRecord
from registrar.validation import ValidationError, is_mixed_label_form, normalize_domain
from whois_server.metrics import RATE_LIMITED
from whois_server.querylog import log_query
from whois_server.ratelimit import Clock, NetworkSet, RateLimiter
from whois_server.service import RegistrationDataService, ServiceUnavailable

log = logging.getLogger(__name__)

_CONTENT_TYPE = [MEDIA_TYPE.encode("ascii")]
_STAR = [b"*"]
_ALLOW = [b"GET, HEAD"]
_URI_SAFE = b"/?&=:;@%+,!$'()*~[]-._"
_UNSUPPORTED = frozenset({b"ip", b"autnum", b"domains", b"nameservers", b"entities"})

#: status → (reason phrase, title, description). Fixed texts: nothing from the request is echoed.
ERRORS: dict[int, tuple[bytes, str, tuple[str, ...]]] = {
    400: (
        b"Bad Request",
        "Bad Request",
        (
            "The query is not a valid RDAP query: names must be valid domain names given as ASCII, "
            "A-labels or percent-encoded U-labels, without mixing A-labels and U-labels.",
        ),
    ),
    404: (
        b"Not Found",
        "Not Found",
        ("The object was not found: this registrar does not sponsor it, or it does not exist.",),
    ),
    405: (b"Method Not Allowed", "Method Not Allowed", ("Only GET and HEAD requests are supported.",)),
    429: (
        b"Too Many Requests",
        "Too Many Requests",
        ("Query rate limit exceeded. Retry after the number of seconds given in the Retry-After header.",),
    ),
    500: (b"Internal Server Error", "Internal Server Error", ("The server could not answer this query.",)),
    501: (
        b"Not Implemented",
        "Not Implemented",
        ("This registrar's RDAP service does not support this query type.",),
    ),
    503: (
        b"Service Unavailable",
        "Service Unavailable",
        ("Registration data is temporarily unavailable. Please retry shortly.",),
    ),
}
_OUTCOME = {200: "found", 404: "not-found", 429: "refused", 503: "unavailable", 500: "error"}

_TEMPLATES_MAX = 4096
_NAMES_MAX = 50_000


class RdapResource(Resource):
    """Answers every RDAP request of one worker."""

    isLeaf = True

    def __init__(
        self, service: RegistrationDataService, limiter: RateLimiter, config: Config, clock: Clock
    ) -> None:
        super().__init__()
        self.service = service
        self.limiter = limiter
        self.config = config
        self.clock = clock
        self.registrar = service.registrar
        self.base_url = self.registrar.rdap_base_url
        base_path = urlsplit(self.base_url).path.rstrip("/")
        self._prefix = base_path.encode("utf-8")  # b"" when the base URL is a host root
        self._port43 = config.whois.enabled
        self._log_queries = config.server.log_queries
        self._trusted = NetworkSet(config.rdap.trusted_proxies)
        self._templates: dict[int, tuple[object, Template]] = {}
        self._names: dict[bytes, str | int] = {}
        self._now_second = -1
        self._now_text = ""
        self.pending = 0  # requests waiting for a database lookup (drained on SIGTERM)
        registrar, port43 = self.registrar, self._port43
        self._help = Template(lambda url, now: help_response(registrar, url))
        self._entity = Template(
            lambda url, now: registrar_entity_response(registrar, url, now, port43=port43)
        )
        self._errors = {
            code: Template(
                lambda url, now, c=code, t=title, d=desc: (  # type: ignore[misc]
                    error_response(c, t, d, url, registrar=registrar)
                )
            )
            for code, (_phrase, title, desc) in ERRORS.items()
        }
        self._entity_handle = str(self.registrar.iana_id).encode("ascii")

    # ----------------------------------------------------------------------------------------
    # helpers
    # ----------------------------------------------------------------------------------------

    def now(self) -> str:
        """The response time, RFC 3339 UTC, formatted once per second."""
        second = int(self.clock.seconds())
        if second != self._now_second:
            self._now_second = second
            self._now_text = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))
        return self._now_text

    def request_url(self, request: Request) -> str:
        """The URL the client asked for, under our registered base URL (see the module docstring)."""
        uri: bytes = request.uri
        prefix = self._prefix
        if prefix and uri.startswith(prefix + b"/"):
            uri = uri[len(prefix) :]
        rel = uri[1:] if uri.startswith(b"/") else uri
        try:
            text = rel.decode("ascii")
        except UnicodeDecodeError:
            text = quote_from_bytes(rel, safe=_URI_SAFE)
        else:
            if not text.isprintable() or '"' in text or "\\" in text:
                text = quote_from_bytes(rel, safe=_URI_SAFE)
        return self.base_url + text

    def client_address(self, request: Request) -> str:
        """The address charged to the rate limiter (see the module docstring)."""
        peer = request.getClientAddress()
        host: str = getattr(peer, "host", None) or "unknown"
        if not self._trusted or not self._is_trusted(host):
            return host
        values = request.requestHeaders.getRawHeaders(b"x-forwarded-for")
        if not values:
            return host
        hops = [h.strip() for v in values for h in v.decode("latin-1").split(",") if h.strip()]
        for hop in reversed(hops):
            try:
                ipaddress.ip_address(hop.split("%", 1)[0])
            except ValueError:
                return host  # a malformed entry was not written by our proxy
            if not self._is_trusted(hop):
                return hop
        return hops[0] if hops else host

    def _is_trusted(self, address: str) -> bool:
        return address in self._trusted

    def parse_name(self, segment: bytes) -> str | int:
        """The A-label of a path segment, or 400 (cached per segment)."""
        known = self._names.get(segment)
        if known is not None:
            return known
        result: str | int
        try:
            text = unquote_to_bytes(segment).decode("utf-8")
        except UnicodeDecodeError:
            result = 400
        else:
            if not text or "/" in text or is_mixed_label_form(text):
                result = 400
            else:
                try:
                    result = normalize_domain(text).a_label
                except ValidationError:
                    result = 400
        if len(self._names) >= _NAMES_MAX:
            self._names.clear()
        self._names[segment] = result
        return result

    def _template(self, obj: object, build: Callable[[str, str], Any]) -> Template:
        entry = self._templates.get(id(obj))
        if entry is not None and entry[0] is obj:
            return entry[1]
        template = Template(build)
        if len(self._templates) >= _TEMPLATES_MAX:
            self._templates.pop(next(iter(self._templates)))
        self._templates[id(obj)] = (obj, template)
        return template

    def domain_body(self, record: PublicRecord, request_url: str) -> bytes:
        """The domain response bytes (template cached per record object)."""
        port43 = self._port43
        return self._template(
            record, lambda url, now: domain_response(record, url, now, port43=port43)
        ).render(request_url, self.now())

    def nameserver_body(self, host: PublicHost, request_url: str) -> bytes:
        """The nameserver response bytes (template cached per host object)."""
        registrar, port43 = self.registrar, self._port43
        return self._template(
            host, lambda url, now: nameserver_response(host, registrar, url, now, port43=port43)
        ).render(request_url, self.now())

    # ----------------------------------------------------------------------------------------
    # answering
    # ----------------------------------------------------------------------------------------

    def _headers(self, request: Request, code: int, body: bytes, sync: bool) -> None:
        if code == 200:
            request.code = 200
        else:
            request.setResponseCode(code, ERRORS[code][0])
        headers = request.responseHeaders
        headers.setRawHeaders(b"content-type", _CONTENT_TYPE)
        headers.setRawHeaders(b"access-control-allow-origin", _STAR)
        if not sync or request.method == b"HEAD":  # for a synchronous GET, twisted.web sets it
            headers.setRawHeaders(b"content-length", [b"%d" % len(body)])

    def _answer(
        self,
        request: Request,
        code: int,
        body: bytes,
        kind: str,
        client: str,
        start: float,
        sync: bool = True,
    ) -> bytes:
        """Set status and headers, log the query; returns what ``render`` returns (or writes)."""
        self._headers(request, code, body, sync)
        log_query(
            "rdap",
            client,
            kind,
            _OUTCOME.get(code, "bad-query"),
            len(body),
            time.perf_counter() - start,
            enabled=self._log_queries,
        )
        return b"" if request.method == b"HEAD" else body

    def _error(
        self, request: Request, code: int, request_url: str, kind: str, client: str, start: float
    ) -> bytes:
        return self._answer(
            request, code, self._errors[code].render(request_url, self.now()), kind, client, start
        )

    def render(self, request: Request) -> bytes | int:
        """Answer one request (synchronously when possible)."""
        start = time.perf_counter()
        request_url = self.request_url(request)
        client = self.client_address(request)
        kind = "other"
        try:
            wait = self.limiter.check(client)
            if wait > 0:
                RATE_LIMITED.labels("rdap").inc()
                request.responseHeaders.setRawHeaders(
                    b"retry-after", [b"%d" % self.limiter.retry_after(wait)]
                )
                return self._error(request, 429, request_url, kind, client, start)
            if request.method not in (b"GET", b"HEAD"):
                request.responseHeaders.setRawHeaders(b"allow", _ALLOW)
                return self._error(request, 405, request_url, kind, client, start)
            path: bytes = request.path
            prefix = self._prefix
            if prefix and path.startswith(prefix + b"/"):
                path = path[len(prefix) :]
            head, _, rest = path[1:].partition(b"/")
            if head == b"domain":
                kind = "domain"
                return self._domain(request, rest, request_url, client, start)
            if head == b"help" and not rest:
                kind = "help"
                return self._answer(
                    request, 200, self._help.render(request_url, self.now()), kind, client, start
                )
            if head == b"nameserver":
                kind = "nameserver"
                return self._nameserver(request, rest, request_url, client, start)
            if head == b"entity":
                kind = "entity"
                code = 200 if rest == self._entity_handle else 404
                body = (
                    self._entity.render(request_url, self.now())
                    if code == 200
                    else self._errors[404].render(request_url, self.now())
                )
                return self._answer(request, code, body, kind, client, start)
            code = 501 if head in _UNSUPPORTED else 404
            return self._error(request, code, request_url, kind, client, start)
        except Exception:
            log.exception("RDAP request failed")
            return self._error(request, 500, request_url, kind, client, start)

    def _domain(
        self, request: Request, segment: bytes, request_url: str, client: str, start: float
    ) -> bytes | int:
        name = self.parse_name(segment)
        if isinstance(name, int):
            return self._error(request, name, request_url, "domain", client, start)
        cached = self.service.cached_domain(name)
        if cached is None:
            return self._error(request, 404, request_url, "domain", client, start)
        if isinstance(cached, PublicRecord):
            return self._answer(request, 200, self.domain_body(cached, request_url), "domain", client, start)
        return self._later(
            request, self.service.lookup_domain(name), self.domain_body, request_url, "domain", client, start
        )

    def _nameserver(
        self, request: Request, segment: bytes, request_url: str, client: str, start: float
    ) -> bytes | int:
        name = self.parse_name(segment)
        if isinstance(name, int):
            return self._error(request, name, request_url, "nameserver", client, start)
        return self._later(
            request,
            self.service.lookup_host(name),
            self.nameserver_body,
            request_url,
            "nameserver",
            client,
            start,
        )

    def _later(
        self,
        request: Request,
        deferred: Any,
        body_of: Callable[[Any, str], bytes],
        request_url: str,
        kind: str,
        client: str,
        start: float,
    ) -> bytes | int:
        """Answer when the service's Deferred fires (at once when it already has)."""
        lost: list[bool] = []
        result: list[bytes] = []

        def found(obj: Any) -> None:
            if obj is None:
                body = self._errors[404].render(request_url, self.now())
                finish(404, body)
            else:
                finish(200, body_of(obj, request_url))

        def failed(failure: Failure) -> None:
            if failure.check(ServiceUnavailable):
                finish(503, self._errors[503].render(request_url, self.now()))
            else:
                log.error("RDAP lookup failed: %s", failure.getTraceback())
                finish(500, self._errors[500].render(request_url, self.now()))

        answered: list[bool] = []

        def crashed(failure: Failure) -> None:
            """A bug while answering (e.g. rendering): log it, and still answer 500 exactly once."""
            log.error("RDAP answer failed: %s", failure.getTraceback())
            if not answered:
                finish(500, self._errors[500].render(request_url, self.now()))

        def finish(code: int, body: bytes) -> None:
            answered.append(True)
            out = self._answer(request, code, body, kind, client, start, sync=not waiting)
            if waiting:
                self.pending -= 1
                if not lost:
                    request.write(out)
                    request.finish()
            else:
                result.append(out)

        waiting = False
        deferred.addCallbacks(found, failed)
        deferred.addErrback(crashed)
        deferred.addErrback(lambda f: log.error("RDAP error answer failed: %s", f.getTraceback()))
        if result:
            return result[0]
        if deferred.called:  # fired, but answering raised twice (already logged)
            return self._error(request, 500, request_url, kind, client, start)
        waiting = True
        self.pending += 1
        request.notifyFinish().addErrback(lambda _f: lost.append(True))
        return NOT_DONE_YET
