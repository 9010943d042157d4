"""RDAP JSON rendered from the public record (RFC 9083, RFC 9537, ICANN gTLD RDAP profile 2024).

Pure functions: every response is a plain ``dict`` built from a :class:`PublicRecord` (or the
registrar block, or a host) and the request URL; :func:`dumps` turns it into the bytes sent.
Nothing here reads configuration, the clock or the database; nothing here sees the ORM rows.

The contract is ``shared/spec/icann-rdds.md`` §4 and checklist items 10-32:

* ``rdapConformance`` at the top of every response (lookups, help, errors), plus
  ``redacted`` exactly when the response carries a ``redacted`` array;
* the terms-of-service notice on every response, and the ``Status Codes`` and
  ``RDDS Inaccuracy Complaint Form`` notices on domain responses, all with ``value`` = the
  request URL;
* one RFC 9537 redaction object per withheld element, named, with the method and the
  JSONPath of RP24 Appendix E (``REDACTION_PATHS``). A redaction object is emitted if and
  only if the record says the element is withheld (:attr:`Element.redacted`), plus the
  ``Registry Domain ID`` removal when the domain's registry ROID is not published;
* contacts are jCards with ``registrant`` / ``technical`` as the *first* role, because the
  Appendix-E paths select entities by ``roles[0]``.

The dictionaries returned may share sub-objects between calls (the registrar entity is
built once per registrar): treat them as read-only.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from registrar.publication.record import (
    Element,
    PublicContact,
    PublicDS,
    PublicHost,
    PublicRecord,
    RedactionMethod,
    RegistrarInfo,
)

MEDIA_TYPE = "application/rdap+json"

CONFORMANCE: tuple[str, ...] = (
    "rdap_level_0",
    "icann_rdap_response_profile_1",
    "icann_rdap_technical_implementation_guide_1",
)
CONFORMANCE_REDACTED: tuple[str, ...] = (*CONFORMANCE, "redacted")

STATUS_CODES_TITLE = "Status Codes"
STATUS_CODES_DESCRIPTION = "For more information on domain status codes, please visit https://icann.org/epp"
STATUS_CODES_HREF = "https://icann.org/epp"
WICF_TITLE = "RDDS Inaccuracy Complaint Form"
WICF_DESCRIPTION = "URL of the ICANN RDDS Inaccuracy Complaint Form: https://icann.org/wicf"
WICF_HREF = "https://icann.org/wicf"
TOS_TITLE = "Terms of Use"

#: EPP (RFC 5731) and RGP (RFC 3915) statuses → RDAP JSON values (RFC 8056, IANA registry).
STATUS_MAP: dict[str, str] = {
    "ok": "active",
    "inactive": "inactive",
    "clientHold": "client hold",
    "serverHold": "server hold",
    "clientDeleteProhibited": "client delete prohibited",
    "serverDeleteProhibited": "server delete prohibited",
    "clientRenewProhibited": "client renew prohibited",
    "serverRenewProhibited": "server renew prohibited",
    "clientTransferProhibited": "client transfer prohibited",
    "serverTransferProhibited": "server transfer prohibited",
    "clientUpdateProhibited": "client update prohibited",
    "serverUpdateProhibited": "server update prohibited",
    "pendingCreate": "pending create",
    "pendingDelete": "pending delete",
    "pendingRenew": "pending renew",
    "pendingTransfer": "pending transfer",
    "pendingUpdate": "pending update",
    "addPeriod": "add period",
    "autoRenewPeriod": "auto renew period",
    "renewPeriod": "renew period",
    "transferPeriod": "transfer period",
    "redemptionPeriod": "redemption period",
    "pendingRestore": "pending restore",
}

_REGISTRANT = "$.entities[?(@.roles[0]=='registrant')]"
_TECH = "$.entities[?(@.roles[0]=='technical')]"


def _contact_paths(entity: str) -> dict[str, str]:
    vcard = f"{entity}.vcardArray[1]"
    return {
        "handle": f"{entity}.handle",
        "fn": f"{vcard}[?(@[0]=='fn')][3]",
        "org": f"{vcard}[?(@[0]=='org')]",
        "street": f"{vcard}[?(@[0]=='adr')][3][:3]",
        "city": f"{vcard}[?(@[0]=='adr')][3][3]",
        "postal": f"{vcard}[?(@[0]=='adr')][3][5]",
        "voice": f"{vcard}[?(@[1].type=='voice')]",
        "fax": f"{vcard}[?(@[1].type=='fax')]",
        "email": f"{vcard}[?(@[0]=='email')]",
        "email_value": f"{vcard}[?(@[0]=='email')][3]",
        "contact_uri": f"{vcard}[?(@[0]=='contact-uri')]",
    }


_R = _contact_paths(_REGISTRANT)
_T = _contact_paths(_TECH)

#: ICANN redaction name → the JSONPath of its element (RP24 Appendix E). Removal paths are
#: ``prePath`` values, emptyValue paths ``postPath`` values. Emails are handled apart.
REDACTION_PATHS: dict[str, str] = {
    "Registry Domain ID": "$.handle",
    "Registry Registrant ID": _R["handle"],
    "Registrant Name": _R["fn"],
    "Registrant Organization": _R["org"],
    "Registrant Street": _R["street"],
    "Registrant City": _R["city"],
    "Registrant Postal Code": _R["postal"],
    "Registrant Phone": _R["voice"],
    "Registrant Phone Ext": _R["voice"],
    "Registrant Fax": _R["fax"],
    "Registrant Fax Ext": _R["fax"],
    "Registry Tech ID": _T["handle"],
    "Tech Name": _T["fn"],
    "Tech Phone": _T["voice"],
    "Tech Phone Ext": _T["voice"],
}
_EMAIL_PATHS: dict[str, dict[str, str]] = {"Registrant Email": _R, "Tech Email": _T}


# --------------------------------------------------------------------------------------------
# Small pieces
# --------------------------------------------------------------------------------------------


def rdap_date(value: datetime) -> str:
    """RFC 3339 in UTC with ``Z`` and whole seconds (checklist item 8)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON, as sent on the wire."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


_URL_HOLE = f"rdap-request-url-{secrets.token_hex(12)}"
_NOW_HOLE = f"rdap-response-time-{secrets.token_hex(12)}"


class Template:
    """A response serialised once, with holes for the request URL and the response time.

    ``Template(lambda url, now: domain_response(record, url, now))`` calls the builder with
    two random marker strings, serialises the result with :func:`dumps` and splits it where
    the markers stand as whole JSON strings; :meth:`render` fills the holes in. The bytes are
    identical to ``dumps(builder(request_url, now))``, at a fraction of the cost — the server
    keeps one template per cached record.
    """

    __slots__ = ("_holes", "_parts")

    def __init__(self, builder: Callable[[str, str], Any]) -> None:
        data = dumps(builder(_URL_HOLE, _NOW_HOLE))
        url_mark, now_mark = f'"{_URL_HOLE}"'.encode(), f'"{_NOW_HOLE}"'.encode()
        parts: list[bytes] = []
        holes: list[bool] = []  # True: URL, False: time
        rest = data
        while True:
            u, n = rest.find(url_mark), rest.find(now_mark)
            if u < 0 and n < 0:
                break
            is_url = n < 0 or (0 <= u < n)
            at, mark = (u, url_mark) if is_url else (n, now_mark)
            parts.append(rest[:at])
            holes.append(is_url)
            rest = rest[at + len(mark) :]
        parts.append(rest)
        if (
            _URL_HOLE.encode() in rest
            or _NOW_HOLE.encode() in rest
            or any(_URL_HOLE.encode() in p or _NOW_HOLE.encode() in p for p in parts)
        ):
            raise ValueError("request URL or time used inside a larger string; cannot template it")
        self._parts = tuple(parts)
        self._holes = tuple(holes)

    def render(self, request_url: str, now: str) -> bytes:
        """The response bytes for one request."""
        if request_url.isascii() and request_url.isprintable() and '"' not in request_url and \
                "\\" not in request_url:
            url = b'"' + request_url.encode("ascii") + b'"'  # the usual case: nothing to escape
        else:
            url = json.dumps(request_url, ensure_ascii=False).encode("utf-8")
        when = b'"' + now.encode("ascii") + b'"'
        parts = self._parts
        out = [parts[0]]
        for i, is_url in enumerate(self._holes, 1):
            out.append(url if is_url else when)
            out.append(parts[i])
        return b"".join(out)


def _link(value: str, rel: str, href: str, media_type: str) -> dict[str, str]:
    return {"value": value, "rel": rel, "href": href, "type": media_type}


def tos_notice(registrar: RegistrarInfo, request_url: str) -> dict[str, Any]:
    """The terms-of-service notice every response carries (TIG 3.3)."""
    return {
        "title": TOS_TITLE,
        "description": [registrar.terms_of_use],
        "links": [_link(request_url, "terms-of-service", registrar.tos_url, "text/html")],
    }


def domain_notices(registrar: RegistrarInfo, request_url: str) -> list[dict[str, Any]]:
    """ToS, Status Codes and RDDS Inaccuracy Complaint Form notices (RP24 2.6.3, 2.10)."""
    return [
        tos_notice(registrar, request_url),
        {
            "title": STATUS_CODES_TITLE,
            "description": [STATUS_CODES_DESCRIPTION],
            "links": [_link(request_url, "glossary", STATUS_CODES_HREF, "text/html")],
        },
        {
            "title": WICF_TITLE,
            "description": [WICF_DESCRIPTION],
            "links": [_link(request_url, "help", WICF_HREF, "text/html")],
        },
    ]


def rdap_statuses(statuses: Iterable[str]) -> list[str]:
    """RFC 8056 values for EPP/RGP statuses, in order, without duplicates."""
    out: list[str] = []
    for status in statuses:
        value = STATUS_MAP[status]
        if value not in out:
            out.append(value)
    return out or ["active"]


def _event(action: str, when: datetime | str) -> dict[str, str]:
    return {"eventAction": action, "eventDate": when if isinstance(when, str) else rdap_date(when)}


def domain_events(record: PublicRecord, now: datetime | str) -> list[dict[str, str]]:
    """The domain's events (RP24 2.3, 1.5); ``now`` may be pre-formatted."""
    events = [_event("registration", record.created)]
    if record.registry_expires is not None:
        events.append(_event("expiration", record.registry_expires))
    events.append(_event("registrar expiration", record.registrar_expires))
    if record.updated_since_creation:
        events.append(_event("last changed", record.updated))
    if record.transferred is not None:
        events.append(_event("transfer", record.transferred))
    events.append(_event("last update of RDAP database", now))
    return events


def _tel(number: str, ext: Element[str] | None) -> str:
    if ext is not None and ext.published and ext.value:
        return f"tel:{number};ext={ext.value}"
    return f"tel:{number}"


def _ds(ds: PublicDS) -> dict[str, Any]:
    return {
        "keyTag": ds.key_tag,
        "algorithm": ds.algorithm,
        "digest": ds.digest,
        "digestType": ds.digest_type,
    }


def secure_dns(record: PublicRecord) -> dict[str, Any]:
    """``secureDNS`` with ``delegationSigned`` and, when signed, ``dsData`` (RP24 2.9)."""
    if not record.ds_records:
        return {"delegationSigned": False}
    return {"delegationSigned": True, "dsData": [_ds(ds) for ds in record.ds_records]}


def nameserver_object(host: PublicHost) -> dict[str, Any]:
    """A nameserver as embedded in a domain: ldhName, unicodeName for IDNs, glue addresses."""
    obj: dict[str, Any] = {"objectClassName": "nameserver", "ldhName": host.ldh_name}
    if host.unicode_name:
        obj["unicodeName"] = host.unicode_name
    if host.ipv4 or host.ipv6:
        addresses: dict[str, list[str]] = {}
        if host.ipv4:
            addresses["v4"] = list(host.ipv4)
        if host.ipv6:
            addresses["v6"] = list(host.ipv6)
        obj["ipAddresses"] = addresses
    return obj


# --------------------------------------------------------------------------------------------
# Entities
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def registrar_entity(registrar: RegistrarInfo) -> dict[str, Any]:
    """The sponsoring-registrar entity with its abuse contact (RP24 2.4; TIG 3.10). Shared: read-only."""
    iana_id = str(registrar.iana_id)
    return {
        "objectClassName": "entity",
        "handle": iana_id,
        "roles": ["registrar"],
        "publicIds": [{"type": "IANA Registrar ID", "identifier": iana_id}],
        "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", registrar.name]]],
        "links": [_link(registrar.rdap_base_url, "about", registrar.url, "text/html")],
        "entities": [
            {
                "objectClassName": "entity",
                "roles": ["abuse"],
                "vcardArray": [
                    "vcard",
                    [
                        ["version", {}, "text", "4.0"],
                        ["fn", {}, "text", "Abuse Contact"],
                        ["tel", {"type": "voice"}, "uri", f"tel:{registrar.abuse_phone}"],
                        ["email", {}, "text", registrar.abuse_email],
                    ],
                ],
            }
        ],
    }


def _text(element: Element[str]) -> str:
    return element.value if element.published and element.value is not None else ""


def contact_entity(contact: PublicContact) -> dict[str, Any]:
    """A registrant or technical contact as a jCard entity (RP24 2.7; TIG 3.8).

    Published elements carry their values; ``fn`` and the address parts of an emptyValue
    redaction are ``""``; removed elements (handle, org, phones) are left out; the email is
    the published address, the relay address (``email``) or the web form (``contact-uri``).
    """
    entity: dict[str, Any] = {"objectClassName": "entity"}
    if contact.registry_id.published and contact.registry_id.value:
        entity["handle"] = contact.registry_id.value
    entity["roles"] = [contact.role]
    vcard: list[list[Any]] = [["version", {}, "text", "4.0"], ["fn", {}, "text", _text(contact.name)]]
    if contact.organization.published and contact.organization.value:
        vcard.append(["org", {}, "text", contact.organization.value])
    if contact.role == "registrant":
        street: Any = ""
        if contact.street.published and contact.street.value:
            lines = list(contact.street.value)
            street = lines[0] if len(lines) == 1 else lines
        country = contact.country_code.value or ""
        vcard.append(
            [
                "adr",
                {"cc": country},
                "text",
                [
                    "",
                    "",
                    street,
                    _text(contact.city),
                    _text(contact.state_province),
                    _text(contact.postal_code),
                    "",
                ],
            ]
        )
    if contact.phone.published and contact.phone.value:
        vcard.append(["tel", {"type": "voice"}, "uri", _tel(contact.phone.value, contact.phone_ext)])
    if contact.fax.published and contact.fax.value:
        vcard.append(["tel", {"type": "fax"}, "uri", _tel(contact.fax.value, contact.fax_ext)])
    email = contact.email
    if email.value:
        if email.replacement == "web-form":
            vcard.append(["contact-uri", {}, "uri", email.value])
        else:  # published address, or the relay address that replaces it
            vcard.append(["email", {}, "text", email.value])
    entity["vcardArray"] = ["vcard", vcard]
    return entity


def reseller_entity(name: str) -> dict[str, Any]:
    """The reseller (RP24 2.5): a name only."""
    return {
        "objectClassName": "entity",
        "roles": ["reseller"],
        "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", name]]],
    }


# --------------------------------------------------------------------------------------------
# Redactions (RFC 9537)
# --------------------------------------------------------------------------------------------


def _reason(element: Element[Any]) -> dict[str, str] | None:
    return {"description": element.reason} if element.reason else None


def redaction_object(element: Element[Any]) -> dict[str, Any]:
    """The RFC 9537 object of one withheld element (RP24 Appendix E names, methods, paths)."""
    obj: dict[str, Any] = {"name": {"type": element.name}}
    method = element.method or RedactionMethod.REMOVAL
    paths = _EMAIL_PATHS.get(element.name)
    if paths is not None:
        if element.replacement == "web-form":
            obj["prePath"] = paths["email"]
            obj["replacementPath"] = paths["contact_uri"]
        else:
            obj["postPath"] = paths["email_value"]
    elif method is RedactionMethod.REMOVAL:
        obj["prePath"] = REDACTION_PATHS[element.name]
    else:
        obj["postPath"] = REDACTION_PATHS[element.name]
    obj["pathLang"] = "jsonpath"
    obj["method"] = str(method)
    reason = _reason(element)
    if reason is not None:
        obj["reason"] = reason
    return obj


def redactions(record: PublicRecord) -> list[dict[str, Any]]:
    """One redaction object per withheld element of the record, in RP24 Appendix-E order.

    The domain handle is signalled whenever the registry ROID is not published (also when we
    do not know it yet, RP24 2.2); every other element exactly when the record withholds it.
    """
    out: list[dict[str, Any]] = []
    roid = record.registry_domain_id
    if not roid.published:
        out.append(
            redaction_object(
                Element(
                    name="Registry Domain ID",
                    disposition=roid.disposition,
                    method=RedactionMethod.REMOVAL,
                    reason=roid.reason,
                )
            )
        )
    for contact in record.contacts():
        for element in contact.elements():
            if element.redacted:
                out.append(redaction_object(element))
    return out


# --------------------------------------------------------------------------------------------
# Responses
# --------------------------------------------------------------------------------------------


def domain_response(
    record: PublicRecord, request_url: str, now: datetime | str, *, port43: bool = True
) -> dict[str, Any]:
    """The RDAP domain response for ``record``.

    ``request_url`` is the URL the client asked for (notice ``value`` members and the
    ``self`` link's ``value``); ``now`` is the ``last update of RDAP database`` time (a
    datetime, or an already formatted RFC 3339 string). ``port43`` adds our WHOIS host name.
    """
    registrar = record.registrar
    redacted = redactions(record)
    response: dict[str, Any] = {
        "rdapConformance": list(CONFORMANCE_REDACTED if redacted else CONFORMANCE),
        "objectClassName": "domain",
    }
    if record.registry_domain_id.published and record.registry_domain_id.value:
        response["handle"] = record.registry_domain_id.value
    response["ldhName"] = record.ldh_name
    if record.unicode_name:
        response["unicodeName"] = record.unicode_name
    response["links"] = [
        _link(request_url, "self", f"{registrar.rdap_base_url}domain/{record.ldh_name}", MEDIA_TYPE)
    ]
    response["status"] = rdap_statuses(record.statuses)
    response["events"] = domain_events(record, now)
    response["secureDNS"] = secure_dns(record)
    if record.nameservers:
        response["nameservers"] = [nameserver_object(h) for h in record.nameservers]
    entities = [registrar_entity(registrar), contact_entity(record.registrant)]
    if record.tech is not None:
        entities.append(contact_entity(record.tech))
    if record.reseller:
        entities.append(reseller_entity(record.reseller))
    response["entities"] = entities
    if port43 and registrar.whois_server:
        response["port43"] = registrar.whois_server
    if redacted:
        response["redacted"] = redacted
    response["notices"] = domain_notices(registrar, request_url)
    return response


def nameserver_response(
    host: PublicHost, registrar: RegistrarInfo, request_url: str, now: datetime | str, *, port43: bool = True
) -> dict[str, Any]:
    """``/nameserver/<name>`` for a host of ours (RFC 9083 §5.2)."""
    response: dict[str, Any] = {"rdapConformance": list(CONFORMANCE), "objectClassName": "nameserver"}
    if host.registry_roid:
        response["handle"] = host.registry_roid
    body = nameserver_object(host)
    del body["objectClassName"]
    response.update(body)
    response["links"] = [
        _link(request_url, "self", f"{registrar.rdap_base_url}nameserver/{host.ldh_name}", MEDIA_TYPE)
    ]
    response["entities"] = [registrar_entity(registrar)]
    response["events"] = [_event("last update of RDAP database", now)]
    if port43 and registrar.whois_server:
        response["port43"] = registrar.whois_server
    response["notices"] = [tos_notice(registrar, request_url)]
    return response


def registrar_entity_response(
    registrar: RegistrarInfo, request_url: str, now: datetime | str, *, port43: bool = True
) -> dict[str, Any]:
    """``/entity/<IANA Registrar ID>``: our registrar entity at the top level."""
    entity = registrar_entity(registrar)
    response: dict[str, Any] = {"rdapConformance": list(CONFORMANCE)}
    response.update(entity)
    response["links"] = [
        *entity["links"],
        _link(request_url, "self", f"{registrar.rdap_base_url}entity/{registrar.iana_id}", MEDIA_TYPE),
    ]
    response["events"] = [_event("last update of RDAP database", now)]
    if port43 and registrar.whois_server:
        response["port43"] = registrar.whois_server
    response["notices"] = [tos_notice(registrar, request_url)]
    return response


HELP_TEXT: tuple[str, ...] = (
    "This is the RDAP service of an ICANN-accredited registrar (RFC 9082, RFC 9083).",
    "Supported lookups: /domain/<name> for the domain names we sponsor (A-label, or U-label "
    "percent-encoded as UTF-8), /nameserver/<name> for name servers of our registrations, "
    "/entity/<IANA Registrar ID> for this registrar, and /help.",
    "Personal data is redacted under the ICANN Registration Data Policy; redactions are listed "
    "in the 'redacted' member (RFC 9537).",
)


def help_response(registrar: RegistrarInfo, request_url: str) -> dict[str, Any]:
    """``/help`` (TIG 3.4): conformance, the ToS notice and links to our policy pages."""
    return {
        "rdapConformance": list(CONFORMANCE),
        "notices": [
            tos_notice(registrar, request_url),
            {
                "title": "Help",
                "description": list(HELP_TEXT),
                "links": [_link(request_url, "help", registrar.url, "text/html")],
            },
            {
                "title": "Requests for Non-Public Registration Data",
                "description": [
                    "Non-public registration data may be requested as described at "
                    f"{registrar.disclosure_url}"
                ],
                "links": [_link(request_url, "related", registrar.disclosure_url, "text/html")],
            },
        ],
    }


def error_response(
    code: int, title: str, description: Sequence[str], request_url: str, *, registrar: RegistrarInfo
) -> dict[str, Any]:
    """An RFC 9083 §6 error body; ``errorCode`` equals the HTTP status (rdapct -12108)."""
    return {
        "rdapConformance": list(CONFORMANCE),
        "errorCode": code,
        "title": title,
        "description": list(description),
        "notices": [tos_notice(registrar, request_url)],
    }
