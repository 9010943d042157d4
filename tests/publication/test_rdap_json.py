"""RDAP JSON from the public record: golden files, rdapct schemas, RFC 9537 paths, WHOIS parity.

Golden files live in ``tests/publication/golden/rdap/``: one per fixture domain
(``<A-label>.json``), the relay-email variants (``relay--<A-label>.json``), and the help,
error, registrar-entity and nameserver responses. They are rendered with a fixed time
(``FIXTURE_NOW``) and the request URL ``<rdap_base_url>domain/<A-label>``. Run with
``UPDATE_GOLDEN=1`` to rewrite them (and delete stale ones); otherwise any difference fails.

Every response is validated against ICANN's rdapct JSON schemas (``RDAPCT_DIR``, see
``tests/rdap_conformance.py``) and the offline gTLD-profile checks; every redaction path is
evaluated with an RFC 9535 JSONPath implementation; an element is listed in ``redacted`` if
and only if the record withholds it; and WHOIS (``whois_text.format_domain``) publishes
exactly the elements RDAP publishes, for every fixture and for random registrations.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from registrar.config import Config, load_config
from registrar.publication import rdap_json, whois_text
from registrar.publication.record import (
    Disposition,
    PublicHost,
    PublicRecord,
    RedactionMethod,
    registrar_info,
)
from registrar.validation import EPP_STATUSES, RGP_STATUSES
from tests.rdap_conformance import (
    FIXTURE_NOW,
    conformance_value_problems,
    domain_problems,
    jsonpath_values,
    load_fixture_records,
    rdapct_dir,
    redaction_path_problems,
    schema_errors,
)
from tests.strategies import Registration, registrations

ROOT = Path(__file__).resolve().parent.parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden" / "rdap"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
RELAY_VARIANTS = ("harbour-bakery.example", "jane-sample.test", "openfield-consulting.example")


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(ROOT / "fixtures" / "config.toml")


@pytest.fixture(scope="module")
def records(config: Config, tmp_path_factory: pytest.TempPathFactory) -> dict[str, PublicRecord]:
    return load_fixture_records(tmp_path_factory.mktemp("rdap-json"), config)


@pytest.fixture(scope="module")
def relay_records(config: Config, tmp_path_factory: pytest.TempPathFactory) -> dict[str, PublicRecord]:
    relay = dataclasses.replace(config, privacy=dataclasses.replace(config.privacy, email_mode="relay"))
    return load_fixture_records(tmp_path_factory.mktemp("rdap-json-relay"), relay)


def request_url(config: Config, name: str) -> str:
    return f"{config.registrar.rdap_base_url}domain/{name}"


def fixture_names() -> list[str]:
    """Live fixture domains (A-labels), read without a database so they can parametrize."""
    import tomllib

    from registrar.validation import normalize_domain

    data = tomllib.loads((ROOT / "fixtures" / "registrations.toml").read_text(encoding="utf-8"))
    return sorted(normalize_domain(d["name"]).a_label for d in data.get("domain", []) if not d.get("deleted"))


FIXTURE_NAMES = fixture_names()


# --------------------------------------------------------------------------------------------
# Golden files
# --------------------------------------------------------------------------------------------


def golden_variants(
    config: Config, records: dict[str, PublicRecord], relay_records: dict[str, PublicRecord]
) -> dict[str, tuple[str, dict[str, Any]]]:
    """``{file stem: (schema kind, response)}`` for every golden file."""
    info = registrar_info(config.registrar)
    base = config.registrar.rdap_base_url
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, record in records.items():
        out[name] = ("domain", rdap_json.domain_response(record, request_url(config, name), FIXTURE_NOW))
    for name in RELAY_VARIANTS:
        out[f"relay--{name}"] = (
            "domain",
            rdap_json.domain_response(relay_records[name], request_url(config, name), FIXTURE_NOW),
        )
    out["help"] = ("help", rdap_json.help_response(info, f"{base}help"))
    out["error-404"] = (
        "error",
        rdap_json.error_response(
            404,
            "Not Found",
            ["The object was not found."],
            f"{base}domain/not-a-domain.invalid",
            registrar=info,
        ),
    )
    out["entity-registrar"] = (
        "entity",
        rdap_json.registrar_entity_response(info, f"{base}entity/{info.iana_id}", FIXTURE_NOW),
    )
    host = next(h for r in records.values() for h in r.nameservers if h.unicode_name)
    out[f"nameserver--{host.ldh_name}"] = (
        "nameserver",
        rdap_json.nameserver_response(host, info, f"{base}nameserver/{host.ldh_name}", FIXTURE_NOW),
    )
    return out


def pretty(response: dict[str, Any]) -> str:
    return json.dumps(response, indent=2, ensure_ascii=False) + "\n"


def test_golden_files(
    config: Config, records: dict[str, PublicRecord], relay_records: dict[str, PublicRecord]
) -> None:
    variants = golden_variants(config, records, relay_records)
    assert sorted(records) == FIXTURE_NAMES
    GOLDEN.mkdir(parents=True, exist_ok=True)
    failures = []
    for stem, (_kind, response) in sorted(variants.items()):
        path = GOLDEN / f"{stem}.json"
        text = pretty(response)
        if UPDATE:
            path.write_text(text, encoding="utf-8")
            continue
        if not path.exists():
            failures.append(f"{path.name}: missing (run with UPDATE_GOLDEN=1)")
            continue
        expected = path.read_text(encoding="utf-8")
        if expected != text:
            diff = "".join(
                difflib.unified_diff(
                    expected.splitlines(True), text.splitlines(True), f"golden/{path.name}", "rendered", n=2
                )
            )
            failures.append(diff[:4000])
    stale = sorted(p.name for p in GOLDEN.glob("*.json") if p.stem not in variants)
    if UPDATE:
        for name in stale:
            (GOLDEN / name).unlink()
    elif stale:
        failures.append(f"stale golden files (run with UPDATE_GOLDEN=1): {stale}")
    assert not failures, "\n".join(failures)


def test_golden_files_validate(
    config: Config, records: dict[str, PublicRecord], relay_records: dict[str, PublicRecord]
) -> None:
    """Every golden response passes the rdapct schemas and the offline profile checks."""
    base = rdapct_dir()
    problems = {}
    for stem, (kind, response) in golden_variants(config, records, relay_records).items():
        found = schema_errors(response, kind, base) + conformance_value_problems(response, base)
        if kind == "domain":
            url = request_url(config, response["ldhName"])
            found += domain_problems(
                response, url, rdap_base_url=config.registrar.rdap_base_url, iana_id=config.registrar.iana_id
            )
            found += redaction_path_problems(response)
        if found:
            problems[stem] = found
    assert not problems, json.dumps(problems, indent=1, ensure_ascii=False)


def test_schema_validation_catches_errors(config: Config, records: dict[str, PublicRecord]) -> None:
    """The schema check is not vacuous: broken responses fail it, ``redacted`` alone passes."""
    base = rdapct_dir()
    good = rdap_json.domain_response(
        records["acme-widgets.example"], request_url(config, "acme-widgets.example"), FIXTURE_NOW
    )
    assert "redacted" in good and schema_errors(good, "domain", base) == []
    bad = json.loads(json.dumps(good))
    bad["status"].append("not a status")
    bad["entities"][1]["roles"] = ["owner"]
    bad["events"][0]["eventAction"] = "born"
    bad["notices"][0]["links"][0]["rel"] = "no-such-relation"
    bad["secureDNS"] = {"delegationSigned": True}
    bad["surprise"] = 1
    errors = "\n".join(schema_errors(bad, "domain", base))
    for needle in (
        "'not a status' is not a 'status'",
        "'owner' is not a 'role'",
        "'born' is not a 'eventAction'",
        "'no-such-relation' is not a 'linkRelations'",
        "'surprise'",
        "secureDNS",
    ):
        assert needle in errors, errors


# --------------------------------------------------------------------------------------------
# Redactions: JSONPath evaluation and "listed iff redacted"
# --------------------------------------------------------------------------------------------


def expected_redaction_names(record: PublicRecord) -> list[str]:
    names = [] if record.registry_domain_id.published else ["Registry Domain ID"]
    names += [e.name for c in record.contacts() for e in c.elements() if e.redacted]
    return names


def check_redactions(record: PublicRecord, response: dict[str, Any]) -> None:
    listed = [r["name"]["type"] for r in response.get("redacted", [])]
    assert listed == expected_redaction_names(record)
    assert len(listed) == len(set(listed))
    assert ("redacted" in response["rdapConformance"]) == bool(listed)
    assert redaction_path_problems(response) == []
    by_name = {r["name"]["type"]: r for r in response.get("redacted", [])}
    for contact in record.contacts():
        for element in contact.elements():
            if not element.redacted:
                continue
            obj = by_name[element.name]
            assert obj["method"] == str(element.method)
            assert obj["pathLang"] == "jsonpath"
            if element.method is RedactionMethod.EMPTY_VALUE:
                assert set(map(str, jsonpath_values(obj["postPath"], response))) <= {""}
            if element.method is RedactionMethod.REPLACEMENT_VALUE:
                if element.replacement == "web-form":
                    assert jsonpath_values(obj["replacementPath"], response)[0][3] == element.value
                    assert jsonpath_values(obj["prePath"], response) == []
                else:
                    assert jsonpath_values(obj["postPath"], response) == [element.value]
    # Elements that are published resolve to their values at the Appendix-E paths.
    for contact in record.contacts():
        entity = f"$.entities[?(@.roles[0]=='{contact.role}')]"
        if contact.name.published:
            assert jsonpath_values(f"{entity}.vcardArray[1][?(@[0]=='fn')][3]", response) == [
                contact.name.value
            ]
        if contact.phone.published:
            assert len(jsonpath_values(f"{entity}.vcardArray[1][?(@[1].type=='voice')]", response)) == 1
        if contact.registry_id.published:
            assert jsonpath_values(f"{entity}.handle", response) == [contact.registry_id.value]
    if record.registry_domain_id.published:
        assert jsonpath_values("$.handle", response) == [record.registry_domain_id.value]
    else:
        assert jsonpath_values("$.handle", response) == []


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_redactions_match_record(
    name: str, config: Config, records: dict[str, PublicRecord], relay_records: dict[str, PublicRecord]
) -> None:
    for recs in (records, relay_records):
        record = recs[name]
        check_redactions(record, rdap_json.domain_response(record, request_url(config, name), NOW))


def test_fixture_coverage_of_redaction_cases(records: dict[str, PublicRecord]) -> None:
    """The fixtures exercise every redaction name, each published element, and a missing ROID."""
    names = {n for r in records.values() for n in expected_redaction_names(r)}
    assert {
        "Registry Domain ID",
        "Registry Registrant ID",
        "Registrant Name",
        "Registrant Organization",
        "Registrant Street",
        "Registrant City",
        "Registrant Postal Code",
        "Registrant Phone",
        "Registrant Phone Ext",
        "Registrant Fax",
        "Registrant Fax Ext",
        "Registrant Email",
        "Registry Tech ID",
        "Tech Name",
        "Tech Phone",
        "Tech Email",
    } <= names
    published = {e.name for r in records.values() for c in r.contacts() for e in c.elements() if e.published}
    assert {
        "Registrant Name",
        "Registrant Organization",
        "Registrant Street",
        "Registrant Phone Ext",
        "Registrant Fax",
        "Registrant Fax Ext",
        "Registrant Email",
        "Registry Registrant ID",
        "Tech Name",
        "Tech Phone",
        "Tech Email",
        "Registry Tech ID",
    } <= published


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(registrations())
def test_random_registrations_conform(reg: Registration) -> None:
    """Random records: schema-valid, profile checks, redactions iff withheld, paths evaluate."""
    record = reg.public_record()
    url = f"{record.registrar.rdap_base_url}domain/{record.ldh_name}"
    response = rdap_json.domain_response(record, url, NOW)
    check_redactions(record, response)
    base = rdapct_dir()
    assert schema_errors(response, "domain", base) == []
    assert (
        domain_problems(
            response, url, rdap_base_url=record.registrar.rdap_base_url, iana_id=record.registrar.iana_id
        )
        == []
    )
    template = rdap_json.Template(lambda u, n: rdap_json.domain_response(record, u, n))
    assert template.render(url, FIXTURE_NOW) == rdap_json.dumps(
        rdap_json.domain_response(record, url, FIXTURE_NOW)
    )


# --------------------------------------------------------------------------------------------
# Formatter details
# --------------------------------------------------------------------------------------------


def test_every_epp_and_rgp_status_maps_to_an_rdap_value() -> None:
    values = rdap_json.STATUS_MAP
    assert set(EPP_STATUSES) | set(RGP_STATUSES) <= set(values)
    assert rdap_json.rdap_statuses(["pendingDelete", "pendingDelete", "redemptionPeriod"]) == [
        "pending delete",
        "redemption period",
    ]
    assert rdap_json.rdap_statuses(["ok"]) == ["active"]


def test_events(config: Config, records: dict[str, PublicRecord]) -> None:
    def events(name: str) -> dict[str, str]:
        response = rdap_json.domain_response(records[name], request_url(config, name), NOW)
        return {e["eventAction"]: e["eventDate"] for e in response["events"]}

    never_changed = events("harbour-bakery.example")
    assert never_changed == {
        "registration": "2018-04-12T09:20:00Z",
        "expiration": "2027-04-12T09:20:00Z",
        "registrar expiration": "2027-04-12T09:20:00Z",
        "last update of RDAP database": "2026-11-30T12:00:00Z",
    }
    moved = events("moved-here.test")
    assert moved["transfer"] == "2026-11-26T09:00:00Z" and moved["last changed"] == "2026-11-26T09:00:00Z"
    pending = events("fresh-start.example")  # no registry expiry known yet
    assert "expiration" not in pending and "registrar expiration" in pending


def test_template_equals_direct_rendering(config: Config, records: dict[str, PublicRecord]) -> None:
    url = 'https://rdap.registrar.example/domain/"odd\\name'
    for record in records.values():
        template = rdap_json.Template(lambda u, n, r=record: rdap_json.domain_response(r, u, n))
        assert template.render(url, FIXTURE_NOW) == rdap_json.dumps(
            rdap_json.domain_response(record, url, FIXTURE_NOW)
        )
    with pytest.raises(ValueError):
        rdap_json.Template(lambda u, n: {"x": f"see {u}"})


def test_idn_and_port43(config: Config, records: dict[str, PublicRecord]) -> None:
    record = records["xn--bcher-beispiel-gsb.example"]
    response = rdap_json.domain_response(record, request_url(config, record.ldh_name), NOW, port43=False)
    assert response["unicodeName"] == "bücher-beispiel.example"
    assert "port43" not in response
    ns = response["nameservers"][0]
    assert ns == {
        "objectClassName": "nameserver",
        "ldhName": "ns1.xn--bcher-beispiel-gsb.example",
        "unicodeName": "ns1.bücher-beispiel.example",
        "ipAddresses": {"v4": ["192.0.2.80"], "v6": ["2001:db8:80::1"]},
    }
    with_port43 = rdap_json.domain_response(record, request_url(config, record.ldh_name), NOW)
    assert with_port43["port43"] == config.registrar.whois_server


def test_nameserver_and_entity_responses(config: Config) -> None:
    info = registrar_info(config.registrar)
    host = PublicHost(ldh_name="ns9.example", unicode_name=None)
    ns = rdap_json.nameserver_response(
        host, info, "https://rdap.registrar.example/nameserver/ns9.example", NOW
    )
    assert "handle" not in ns and "ipAddresses" not in ns
    assert schema_errors(ns, "nameserver") == []
    entity = rdap_json.registrar_entity_response(info, "https://rdap.registrar.example/entity/9999", NOW)
    assert [lk["rel"] for lk in entity["links"]] == ["about", "self"]
    assert rdap_json.registrar_entity(info)["links"] == [entity["links"][0]]  # shared object not mutated


# --------------------------------------------------------------------------------------------
# Parity with WHOIS
# --------------------------------------------------------------------------------------------

CONTACT_KEYS = (
    "Registry {id} ID",
    "{p} Name",
    "{p} Organization",
    "{p} Street",
    "{p} City",
    "{p} State/Province",
    "{p} Postal Code",
    "{p} Country",
    "{p} Phone",
    "{p} Phone Ext",
    "{p} Fax",
    "{p} Fax Ext",
    "{p} Email",
)


def whois_published(text: str, redaction_text: str) -> dict[str, tuple[str, ...]]:
    """``{WHOIS key: shown values}`` of the registration part of a WHOIS reply (redacted/empty → ())."""
    shown: dict[str, list[str]] = {}
    for line in text.split("\r\n"):
        if line.startswith("URL of the ICANN Whois Inaccuracy Complaint Form"):
            break
        key, sep, value = line.partition(":")
        if not sep:
            continue
        values = shown.setdefault(key, [])
        value = value[1:] if value.startswith(" ") else value
        if value and value != redaction_text:
            values.append(value)
    return {k: tuple(v) for k, v in shown.items()}


def _tel(value: str) -> tuple[str, str | None]:
    number, _, ext = value.removeprefix("tel:").partition(";ext=")
    return number, ext or None


def rdap_published(response: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """The same keys, read from the RDAP JSON (independently of the record)."""
    clean = whois_text.clean
    out: dict[str, tuple[str, ...]] = {}

    def put(key: str, value: object) -> None:
        if value is None or value == "" or value == ():
            out[key] = ()
        elif isinstance(value, list | tuple):
            out[key] = tuple(clean(v) for v in value if v != "")
        else:
            out[key] = (clean(value),)

    put("Domain Name", response["ldhName"])
    put("Registry Domain ID", response.get("handle"))
    entities = {e["roles"][0]: e for e in response["entities"]}
    registrar = entities["registrar"]
    put("Registrar IANA ID", registrar["handle"])
    put("Registrar", next(p[3] for p in registrar["vcardArray"][1] if p[0] == "fn"))
    abuse = registrar["entities"][0]["vcardArray"][1]
    put("Registrar Abuse Contact Email", next(p[3] for p in abuse if p[0] == "email"))
    put("Registrar Abuse Contact Phone", next(_tel(p[3])[0] for p in abuse if p[0] == "tel"))
    reseller = entities.get("reseller")
    put("Reseller", reseller["vcardArray"][1][1][3] if reseller else None)
    put("Name Server", [ns["ldhName"] for ns in response.get("nameservers", [])])
    put("DNSSEC", "signedDelegation" if response["secureDNS"]["delegationSigned"] else "unsigned")
    for role, prefix, id_word in (("registrant", "Registrant", "Registrant"), ("technical", "Tech", "Tech")):
        entity = entities.get(role)
        if entity is None:
            continue
        keys = [k.format(p=prefix, id=id_word) for k in CONTACT_KEYS]
        card = entity["vcardArray"][1]
        props = {}
        for p in card:
            name = p[0] if p[0] != "tel" else f"tel-{p[1]['type']}"
            props[name] = p
        put(keys[0], entity.get("handle"))
        put(keys[1], props["fn"][3])
        if role == "registrant":
            put(keys[2], props["org"][3] if "org" in props else None)
            adr = props["adr"][3]
            put(keys[3], adr[2] if isinstance(adr[2], list) else [adr[2]])
            put(keys[4], adr[3])
            put(keys[5], adr[4])
            put(keys[6], adr[5])
            put(keys[7], props["adr"][1]["cc"])
        voice = _tel(props["tel-voice"][3]) if "tel-voice" in props else (None, None)
        fax = _tel(props["tel-fax"][3]) if "tel-fax" in props else (None, None)
        put(keys[8], voice[0])
        put(keys[9], voice[1])
        if role == "registrant":
            put(keys[10], fax[0])
            put(keys[11], fax[1])
        put(keys[12], props["email"][3] if "email" in props else props["contact-uri"][3])
    return out


def assert_parity(record: PublicRecord, redaction_text: str) -> None:
    response = rdap_json.domain_response(
        record, f"{record.registrar.rdap_base_url}domain/{record.ldh_name}", NOW
    )
    rdap = rdap_published(response)
    whois = whois_published(
        whois_text.format_domain(record, NOW, redaction_text=redaction_text), redaction_text
    )
    # Both directions: every key RDAP renders, and every contact element WHOIS prints (so a WHOIS-only
    # personal element, e.g. a tech block without an RDAP tech entity, is caught too).
    personal = {k for k in whois if k.startswith(("Registrant", "Tech", "Admin", "Billing", "Registry Registrant",
                                                    "Registry Tech", "Registry Admin", "Registry Billing"))}
    assert {"Registrant Name", "Registrant Country", "Registrant Email"} <= personal  # the filter sees them
    keys = rdap.keys() | personal
    diff = {k: (rdap.get(k), whois.get(k)) for k in keys if whois.get(k) != rdap.get(k)}
    assert not diff, f"{record.ldh_name}: RDAP vs WHOIS differ: {diff}"
    # Personal elements: WHOIS prints the redaction text exactly where RDAP signals a redaction.
    signalled = {r["name"]["type"] for r in response.get("redacted", [])} - {"Registrant Email", "Tech Email"}
    if record.registry_domain_id.disposition is Disposition.ABSENT:
        signalled.discard("Registry Domain ID")  # ROID not known yet: WHOIS shows the empty key
    text = whois_text.format_domain(record, NOW, redaction_text=redaction_text)
    redacted_keys = {
        line.partition(":")[0] for line in text.split("\r\n") if line.endswith(f": {redaction_text}")
    }
    assert redacted_keys == signalled
    statuses = [f"{rdap_json.STATUS_MAP[s]}" for s in record.statuses]
    assert response["status"] == list(dict.fromkeys(statuses))


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_parity_with_whois(
    name: str, config: Config, records: dict[str, PublicRecord], relay_records: dict[str, PublicRecord]
) -> None:
    assert_parity(records[name], config.privacy.redaction_text)
    assert_parity(relay_records[name], config.privacy.redaction_text)


@settings(max_examples=150, deadline=None)
@given(registrations())
def test_parity_with_whois_random(reg: Registration) -> None:
    assert_parity(reg.public_record(), reg.privacy.redaction_text)


def test_parity_detects_a_difference(records: dict[str, PublicRecord], config: Config) -> None:
    """Publishing one more element in RDAP than in WHOIS is caught."""
    record = records["harbour-bakery.example"]
    response = rdap_json.domain_response(record, request_url(config, record.ldh_name), NOW)
    rdap_published(response)  # sanity: parses
    leaky = dataclasses.replace(
        record,
        registrant=dataclasses.replace(
            record.registrant,
            city=dataclasses.replace(
                record.registrant.city, disposition=Disposition.PUBLISHED, value="Springfield"
            ),
        ),
    )
    whois = whois_published(whois_text.format_domain(record, NOW), "REDACTED FOR PRIVACY")
    rdap = rdap_published(rdap_json.domain_response(leaky, request_url(config, record.ldh_name), NOW))
    assert rdap["Registrant City"] == ("Springfield",) != whois["Registrant City"]
