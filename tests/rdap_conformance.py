"""RDAP conformance helpers for the tests: rdapct JSON schemas, RFC 9535 JSONPath, profile checks.

* :func:`schema_errors` validates a response against ICANN's rdapct draft-07 schemas
  (``shared/rdapct/json-schema``, located through ``RDAPCT_DIR``; default
  ``<project root>/../shared/rdapct``). The schemas are loaded as ``shared/rdapct/README.md``
  says: one ``referencing`` registry keyed by each file's ``$id``, nested ``$id`` members
  stripped; rdapct's custom ``format`` names are checked against the IANA dataset copies in
  ``dataset/``. ``additionalProperties`` failures caused only by RFC 9537's ``redacted``
  member at the top level are dropped (README caveat 2: rdapct ignores unknown-key codes);
  any other unknown key is still an error.
* :func:`rdapct_dir` skips the calling test when the directory is missing — or fails it
  under ``CI=true``.
* :func:`jsonpath_values` evaluates RFC 9535 JSONPath (``python-jsonpath`` in strict mode).
* :func:`profile_problems` re-implements the checks of the gTLD RDAP profile (Feb 2024,
  registrar) that our responses can be tested for offline, named by rdapct code.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonpath
import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"

SCHEMA_FOR = {
    "domain": "rdap_domain.json",
    "nameserver": "rdap_nameserver.json",
    "entity": "rdap_entity.json",
    "help": "rdap_help.json",
    "error": "rdap_error.json",
}

#: Registered with the Feb-2024 profile but missing from the dated dataset copy (README caveat 3).
EXTRA_EXTENSIONS = {"icann_rdap_response_profile_1", "icann_rdap_technical_implementation_guide_1"}


def rdapct_dir() -> Path:
    """The rdapct data directory; skips the test when absent (fails under CI=true)."""
    path = Path(os.environ.get("RDAPCT_DIR") or ROOT.parent / "shared" / "rdapct")
    if not (path / "json-schema" / "rdap_domain.json").is_file():
        reason = f"rdapct schemas not found in {path} (set RDAPCT_DIR)"
        if IN_CI:
            pytest.fail(f"{reason}; CI=true requires them")
        pytest.skip(reason)
    return path


# --------------------------------------------------------------------------------------------
# IANA datasets → format checkers
# --------------------------------------------------------------------------------------------


def _xml_records(path: Path) -> Iterator[ET.Element]:
    for el in ET.parse(path).getroot().iter():
        if el.tag.endswith("}record") or el.tag == "record":
            yield el


def _child(el: ET.Element, name: str) -> str | None:
    for c in el:
        if c.tag.endswith("}" + name) or c.tag == name:
            return (c.text or "").strip()
    return None


@cache
def _json_values(base: Path) -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for rec in _xml_records(base / "dataset" / "rdap-json-values.xml"):
        value, kind = _child(rec, "value"), _child(rec, "type")
        if value and kind:
            out.setdefault(kind, set()).add(value)
    return {k: frozenset(v) for k, v in out.items()}


@cache
def _simple_values(base: Path, file: str) -> frozenset[str]:
    return frozenset(v for rec in _xml_records(base / "dataset" / file) if (v := _child(rec, "value")))


@cache
def _media_types(base: Path) -> frozenset[str]:
    out = set()
    root = ET.parse(base / "dataset" / "media-types.xml").getroot()
    for reg in root:
        reg_id = reg.get("id")
        if not reg_id:
            continue
        for rec in reg.iter():
            if rec.tag.endswith("}record"):
                name = _child(rec, "name")
                if name:
                    out.add(f"{reg_id}/{name.split(' ')[0]}".lower())
    return frozenset(out)


def _is_hostname(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    return len(labels) >= 2 and all(re.fullmatch(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)", lbl) for lbl in labels)


def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme) and (bool(parts.netloc) or parts.scheme in ("mailto", "tel", "urn"))


def _is_ip(value: object, version: int) -> bool:
    if not isinstance(value, str):
        return True
    try:
        return ipaddress.ip_address(value).version == version
    except ValueError:
        return False


def format_checker(base: Path) -> Any:
    """A draft-07 FormatChecker that knows rdapct's custom format names."""
    from jsonschema import Draft7Validator

    checker = Draft7Validator.FORMAT_CHECKER
    values = _json_values(base)
    extensions = _simple_values(base, "rdap-extensions.xml") | EXTRA_EXTENSIONS
    relations = _simple_values(base, "link-relations.xml")
    media = _media_types(base)

    def member(allowed: frozenset[str]) -> Any:
        return lambda v: not isinstance(v, str) or v in allowed

    custom = {
        "rdapExtensions": member(frozenset(extensions)),
        "status": member(values["status"]),
        "role": member(values["role"]),
        "eventAction": member(values["event action"]),
        "noticeAndRemark": member(values["notice and remark type"]),
        "variantRelation": member(values["domain variant relation"]),
        "linkRelations": member(relations),
        "mediaTypes": lambda v: not isinstance(v, str) or v.split(";")[0].strip().lower() in media,
        "hostname-in-uri": lambda v: not isinstance(v, str) or _is_hostname(urlsplit(v).hostname or ""),
        "uri": _is_uri,
        "ipv4-validation": lambda v: _is_ip(v, 4),
        "ipv6-validation": lambda v: _is_ip(v, 6),
    }
    from jsonschema import FormatChecker

    fc = FormatChecker(formats=())
    for name, fn in checker.checkers.items():
        fc.checkers[name] = fn
    for name, fn in custom.items():
        fc.checks(name)(fn)
    return fc


# --------------------------------------------------------------------------------------------
# Schemas
# --------------------------------------------------------------------------------------------


def _strip_nested_ids(node: Any, top: bool = True) -> Any:
    if isinstance(node, dict):
        return {k: _strip_nested_ids(v, False) for k, v in node.items() if top or k != "$id"}
    if isinstance(node, list):
        return [_strip_nested_ids(v, False) for v in node]
    return node


@cache
def _registry(base: Path) -> Any:
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    resources = []
    for path in sorted((base / "json-schema").rglob("*.json")):
        doc = _strip_nested_ids(json.loads(path.read_text(encoding="utf-8")))
        resources.append(
            (doc.get("$id", path.name), Resource.from_contents(doc, default_specification=DRAFT7))
        )
    return Registry().with_resources(resources)


@cache
def _validator(base: Path, schema_file: str) -> Any:
    from jsonschema import Draft7Validator

    registry = _registry(base)
    schema = registry.contents(schema_file)
    return Draft7Validator(schema, registry=registry, format_checker=format_checker(base))


def _unknown_keys(error: Any) -> set[str]:
    if not isinstance(error.instance, dict):
        return set()
    known = set(error.schema.get("properties", {}))
    patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
    return {k for k in error.instance if k not in known and not any(p.search(k) for p in patterns)}


def schema_errors(response: dict[str, Any], kind: str, base: Path | None = None) -> list[str]:
    """Schema violations of ``response`` (``kind``: domain, nameserver, entity, help, error).

    A top-level ``additionalProperties`` failure whose only unknown key is ``redacted`` is
    not reported (see the module docstring); everything else is, with its JSON location.
    """
    base = base or rdapct_dir()
    problems = []
    for error in _validator(base, SCHEMA_FOR[kind]).iter_errors(response):
        if error.validator == "additionalProperties":
            extra = _unknown_keys(error)
            if not error.absolute_path and extra <= {"redacted"}:
                continue
        where = "$" + "".join(f"[{p!r}]" for p in error.absolute_path)
        problems.append(f"{where}: {error.message[:300]}")
    return problems


# --------------------------------------------------------------------------------------------
# JSONPath (RFC 9535)
# --------------------------------------------------------------------------------------------

try:  # python-jsonpath >= 2: strict RFC 9535 mode
    _ENV = jsonpath.JSONPathEnvironment(strict=True)
except TypeError:  # pragma: no cover - older python-jsonpath: its default syntax is a superset
    _ENV = jsonpath.JSONPathEnvironment()


def jsonpath_values(path: str, document: Any) -> list[Any]:
    """The nodes ``path`` selects in ``document`` (RFC 9535 semantics)."""
    return list(_ENV.findall(path, document))


def redaction_path_problems(response: dict[str, Any]) -> list[str]:
    """RFC 9537 path rules: emptyValue/replacementValue paths select something, removal prePaths nothing."""
    problems = []
    for obj in response.get("redacted", []):
        name = obj.get("name", {}).get("type", "?")
        method = obj.get("method", "removal")
        if obj.get("pathLang", "jsonpath") != "jsonpath":
            problems.append(f"{name}: pathLang {obj.get('pathLang')!r}")
        if method == "removal":
            if "prePath" not in obj or "postPath" in obj:
                problems.append(f"{name}: removal needs prePath only")
            elif jsonpath_values(obj["prePath"], response):
                problems.append(f"{name}: removal prePath {obj['prePath']} selects a value")
        elif method == "emptyValue":
            values = jsonpath_values(obj.get("postPath", "$.__missing__"), response)
            if not values:
                problems.append(f"{name}: emptyValue postPath selects nothing")
            elif any(v not in ("", []) for v in values):
                problems.append(f"{name}: emptyValue postPath selects non-empty values {values!r}")
        elif method == "replacementValue":
            if "postPath" in obj:
                if not jsonpath_values(obj["postPath"], response):
                    problems.append(f"{name}: replacementValue postPath selects nothing")
            elif "replacementPath" in obj:
                if not jsonpath_values(obj["replacementPath"], response):
                    problems.append(f"{name}: replacementPath selects nothing")
                if "prePath" in obj and jsonpath_values(obj["prePath"], response):
                    problems.append(f"{name}: replaced element still present at prePath")
            else:
                problems.append(f"{name}: replacementValue without postPath or replacementPath")
        else:
            problems.append(f"{name}: unknown method {method!r}")
        if "type" not in obj.get("name", {}) or "description" in obj.get("name", {}):
            problems.append(f"{name}: name must carry 'type' (rdapct -658xx)")
    return problems


# --------------------------------------------------------------------------------------------
# gTLD profile checks (registrar, Feb 2024) that an offline response can be tested for
# --------------------------------------------------------------------------------------------

BASE_CONFORMANCE = {
    "rdap_level_0",
    "icann_rdap_response_profile_1",
    "icann_rdap_technical_implementation_guide_1",
}
STATUS_DESC = "For more information on domain status codes, please visit https://icann.org/epp"
WICF_DESC = "URL of the ICANN RDDS Inaccuracy Complaint Form: https://icann.org/wicf"


def _walk(node: Any, path: str = "$") -> Iterator[tuple[str, Any]]:
    yield path, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, f"{path}[{i}]")


def _vcard(entity: dict[str, Any]) -> list[list[Any]]:
    return list(entity.get("vcardArray", ["vcard", []])[1])


def _notice(response: dict[str, Any], title: str) -> dict[str, Any] | None:
    for n in response.get("notices", []):
        if n.get("title", "").strip().lower() == title.lower():
            return dict(n)
    return None


def common_problems(response: dict[str, Any], request_url: str) -> list[str]:
    """Checks for every response: conformance, ToS notice, links (rdapct -10505, -6120x, -1061x)."""
    problems = []
    conf = response.get("rdapConformance")
    if not isinstance(conf, list) or not BASE_CONFORMANCE <= set(conf):
        problems.append(f"-10505/-61001: rdapConformance {conf!r}")
    else:
        if ("redacted" in conf) != ("redacted" in response):
            problems.append("-62001: 'redacted' in rdapConformance iff a redacted array is present")
        if {"icann_rdap_response_profile_0", "icann_rdap_technical_implementation_guide_0"} & set(conf):
            problems.append("-62006/-61001: obsolete _0 conformance identifiers")
    for path, node in _walk(response):
        if path != "$" and isinstance(node, dict) and "rdapConformance" in node:
            problems.append(f"-10505: rdapConformance below the top level at {path}")
        if path.endswith(".links") or re.search(r"\.links$", path):
            for link in node:
                if "value" not in link or "rel" not in link or "href" not in link:
                    problems.append(f"-10612/-10613: link without value/rel/href at {path}")
        if isinstance(node, str) and re.search(r"<\s*script|javascript:", node, re.I):
            problems.append(f"-40100: executable content at {path}")
    tos = [
        n
        for n in response.get("notices", [])
        for link in n.get("links", [])
        if link.get("rel") == "terms-of-service"
    ]
    if len(tos) != 1:
        problems.append("-61200: exactly one terms-of-service notice expected")
    else:
        link = next(lk for lk in tos[0]["links"] if lk.get("rel") == "terms-of-service")
        if link.get("value") != request_url:
            problems.append(f"-61201: ToS link value {link.get('value')!r} != request URL")
        if not str(link.get("href", "")).startswith(("http://", "https://")):
            problems.append("-61202: ToS href is not an http(s) URL")
    return problems


def domain_problems(
    response: dict[str, Any], request_url: str, *, rdap_base_url: str, iana_id: int
) -> list[str]:
    """Registrar-mode domain checks of the Feb-2024 profile (names are rdapct codes)."""
    problems = common_problems(response, request_url)
    for title, desc, href, rel, code in (
        ("Status Codes", STATUS_DESC, "https://icann.org/epp", "glossary", "-4660x"),
        ("RDDS Inaccuracy Complaint Form", WICF_DESC, "https://icann.org/wicf", "help", "-4670x"),
    ):
        n = _notice(response, title)
        if n is None:
            problems.append(f"{code}: notice {title!r} missing")
            continue
        if [d.strip().lower() for d in n.get("description", [])] != [desc.lower()]:
            problems.append(f"{code}: notice {title!r} description {n.get('description')!r}")
        links = n.get("links", [])
        if (
            len(links) != 1
            or links[0].get("href") != href
            or links[0].get("rel") != rel
            or links[0].get("value") != request_url
        ):
            problems.append(f"{code}: notice {title!r} links {links!r}")
    actions = [e.get("eventAction") for e in response.get("events", [])]
    for needed, code in (
        ("registration", "-46300"),
        ("registrar expiration", "-65600"),
        ("last update of RDAP database", "-43100"),
    ):
        if needed not in actions:
            problems.append(f"{code}: event {needed!r} missing")
    if len(actions) != len(set(actions)):
        problems.append("-10912: duplicate eventAction")
    for e in response.get("events", []):
        if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", e.get("eventDate", "")):
            problems.append(f"event date {e.get('eventDate')!r} is not RFC 3339 UTC with whole seconds")
    status = response.get("status", [])
    if not status:
        problems.append("-47100: no status")
    if len(status) != len(set(status)):
        problems.append("-11003: duplicate status")
    problems += status_combination_problems(status)
    if "handle" not in response and not any(
        r.get("name", {}).get("type") == "Registry Domain ID" for r in response.get("redacted", [])
    ):
        problems.append("-46205: no handle and no 'Registry Domain ID' redaction")
    sec = response.get("secureDNS", {})
    if "delegationSigned" not in sec:
        problems.append("-46800: secureDNS.delegationSigned missing")
    elif sec["delegationSigned"] and not (sec.get("dsData") or sec.get("keyData")):
        problems.append("-46801: signed delegation without dsData/keyData")
    for ns in response.get("nameservers", []):
        if ns.get("objectClassName") != "nameserver" or "ldhName" not in ns:
            problems.append(f"-47200: nameserver {ns!r}")
    nss = response.get("nameservers", [])
    if nss and len({("handle" in ns, "status" in ns) for ns in nss}) > 1:
        problems.append("-47203: handle/status on some name servers but not all")
    entities = response.get("entities", [])
    registrars = [e for e in entities if "registrar" in e.get("roles", [])]
    if len(registrars) != 1:
        problems.append("-47300: exactly one registrar entity expected")
    else:
        problems += registrar_entity_problems(registrars[0], rdap_base_url=rdap_base_url, iana_id=iana_id)
    registrants = [e for e in entities if "registrant" in e.get("roles", [])]
    if len(registrants) != 1:
        problems.append("-63000: exactly one registrant entity expected")
    for e in entities:
        roles = e.get("roles", [])
        if ("registrant" in roles and roles[0] != "registrant") or (
            "technical" in roles and roles[0] != "technical"
        ):
            problems.append(f"registrant/technical must be the first role: {roles}")
        if any(r in roles for r in ("administrative", "billing")):
            problems.append("admin/billing entity published")
        if "registrant" in roles or "technical" in roles:
            problems += contact_problems(e, response)
    return problems


def registrar_entity_problems(entity: dict[str, Any], *, rdap_base_url: str, iana_id: int) -> list[str]:
    """RP24 2.4: handle, publicIds, fn, about link, abuse entity."""
    problems = []
    if entity.get("handle") != str(iana_id):
        problems.append(f"-47400: registrar handle {entity.get('handle')!r}")
    if entity.get("publicIds") != [{"type": "IANA Registrar ID", "identifier": str(iana_id)}]:
        problems.append(f"-47401..-47403: publicIds {entity.get('publicIds')!r}")
    if not any(p[0] == "fn" and p[3] for p in _vcard(entity)):
        problems.append("registrar fn missing")
    about = [lk for lk in entity.get("links", []) if lk.get("rel") == "about"]
    if (
        len(about) != 1
        or about[0].get("value") != rdap_base_url
        or not str(about[0].get("href", "")).startswith("http")
    ):
        problems.append(f"-47700..-47703: about link {about!r}")
    if not rdap_base_url.startswith("https://"):
        problems.append("-47702: RDAP base URL is not https")
    abuse = [e for e in entity.get("entities", []) if "abuse" in e.get("roles", [])]
    if len(abuse) != 1:
        problems.append("-47500: one abuse entity expected")
    else:
        card = _vcard(abuse[0])
        if not any(p[0] == "tel" and p[1].get("type") == "voice" for p in card) or not any(
            p[0] == "email" for p in card
        ):
            problems.append("-47500: abuse entity needs voice tel and email")
    return problems


def contact_problems(entity: dict[str, Any], response: dict[str, Any]) -> list[str]:
    """RP24 2.7 jCard rules for the registrant/technical entity."""
    problems = []
    card = _vcard(entity)
    kinds = [p[0] for p in card]
    role = entity["roles"][0]
    if kinds.count("fn") != 1:
        problems.append(f"{role}: fn must be present once")
    if ("email" in kinds) == ("contact-uri" in kinds) or kinds.count("email") + kinds.count(
        "contact-uri"
    ) != 1:
        problems.append(f"-64100..-64102: {role}: exactly one of email / contact-uri")
    for p in card:
        if p[0] == "tel" and p[1].get("type") not in ("voice", "fax"):
            problems.append(f"-20900: {role}: tel without voice/fax type")
        if p[0] == "tel" and not str(p[3]).startswith("tel:"):
            problems.append(f"{role}: tel value is not a tel: URI")
        if p[0] == "contact-uri" and not str(p[3]).startswith(("http://", "https://", "mailto:")):
            problems.append(f"-64101: {role}: contact-uri is not a URL")
    if role == "registrant":
        adr = [p for p in card if p[0] == "adr"]
        if len(adr) != 1:
            problems.append("-62100: registrant adr missing")
        else:
            params, value = adr[0][1], adr[0][3]
            if not re.fullmatch(r"[A-Z]{2}", str(params.get("cc", ""))):
                problems.append("-62101: adr cc parameter missing")
            if not isinstance(value, list) or len(value) != 7 or value[6] != "":
                problems.append(f"-62100: adr value {value!r} (7 elements, empty country name)")
    else:
        allowed = {"version", "fn", "tel", "email", "contact-uri"}
        if set(kinds) - allowed:
            problems.append(f"technical entity carries {sorted(set(kinds) - allowed)} (RP24 2.7.6)")
    id_name = "Registry Registrant ID" if role == "registrant" else "Registry Tech ID"
    names = {r.get("name", {}).get("type") for r in response.get("redacted", [])}
    if "handle" in entity and id_name in names:
        problems.append(f"-63104: {role} has a handle and a {id_name!r} redaction")
    if "handle" in entity and not re.fullmatch(r"(\w|_){1,80}-\w{1,8}", entity["handle"]):
        problems.append(f"-63100: {role} handle {entity['handle']!r} is not a ROID")
    return problems


def status_combination_problems(status: list[str]) -> list[str]:
    """RFC 5731 / RFC 3915 combination rules (rdapct -46900, -47001, -47002)."""
    s = set(status)
    problems = []
    if "active" in s and len(s) > 1:
        problems.append("-46900: active combined with other statuses")
    for pending, prohibited in (
        ("pending delete", "delete prohibited"),
        ("pending renew", "renew prohibited"),
        ("pending transfer", "transfer prohibited"),
        ("pending update", "update prohibited"),
    ):
        if pending in s and any(x.endswith(prohibited) for x in s):
            problems.append(f"-46900: {pending} with {prohibited}")
    if sum(1 for x in s if x.startswith("pending ") and x != "pending restore") > 1:
        problems.append("-46900: more than one pending status")
    if {"redemption period", "pending restore"} <= s:
        problems.append("-47001: redemption period with pending restore")
    if ({"redemption period", "pending restore"} & s) and "pending delete" not in s:
        problems.append("-47002: redemption period / pending restore without pending delete")
    return problems


def conformance_value_problems(response: dict[str, Any], base: Path | None = None) -> list[str]:
    """Every rdapConformance value must be a registered extension identifier (rdapct -10502)."""
    base = base or rdapct_dir()
    known = _simple_values(base, "rdap-extensions.xml") | EXTRA_EXTENSIONS | {"rdap_level_0"}
    return [
        f"-10502: unregistered extension {c!r}" for c in response.get("rdapConformance", []) if c not in known
    ]


# --------------------------------------------------------------------------------------------
# Fixture records
# --------------------------------------------------------------------------------------------

FIXTURE_NOW = "2026-11-30T12:00:00Z"


def load_fixture_records(directory: Path, config: Any) -> dict[str, Any]:
    """``{A-label: PublicRecord}`` of every live fixture domain, from a fresh SQLite database."""
    from sqlalchemy import select

    from registrar.fixtures import load
    from registrar.models import Domain
    from registrar.publication.record import build_public_record
    from registrar.storage import Database, find_domain, upgrade

    url = f"sqlite:///{directory / 'rdap-fixtures.db'}"
    upgrade(url)
    db = Database(url)
    try:
        load(db, [ROOT / "fixtures" / "registrations.toml"])

        def work(session: Any) -> dict[str, Any]:
            names = session.scalars(
                select(Domain.ldh_name).where(Domain.deleted_at.is_(None)).order_by(Domain.ldh_name)
            ).all()
            out = {}
            for name in names:
                domain = find_domain(session, name)
                assert domain is not None
                out[name] = build_public_record(domain, config.registrar, config.privacy)
            return out

        return dict(db.run(work))
    finally:
        db.dispose()
