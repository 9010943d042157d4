"""No non-public value ever reaches a registry: random registrations with a unique marker in every
non-public element, pushed over TLS, and every frame the test registry recorded searched."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from lxml import etree

from registrar.config import PrivacyConfig
from registrar.epp import ns
from registrar.epp.testca import TestPKI
from registrar.epp.xmlutil import parse_xml, serialize
from registrar.sync.engine import SyncOptions, run_sync
from tests.strategies import Registration, registrations
from tests.sync.conftest import PASSWORDS, PW_VAR, make_config, sqlite_copy, start_registry


def _scrub(frame: bytes) -> bytes:
    """The frame without its clTRID (random hex could imitate a digit marker by chance)."""
    root = parse_xml(frame)
    for el in list(root.iter(ns.q(ns.EPP, "clTRID"))):
        el.getparent().remove(el)
    return serialize(root)


def _auth_values(frame: bytes) -> list[str]:
    root = parse_xml(frame)
    return [el.text or "" for el in root.iter(ns.q(ns.DOMAIN, "pw"))]


def _without_auth(frame: bytes) -> str:
    root = parse_xml(frame)
    for el in root.iter(ns.q(ns.DOMAIN, "pw"), ns.q(ns.CONTACT, "pw")):
        el.text = "***"
    return etree.tostring(root, encoding="unicode")


@pytest.mark.parametrize("data_model", ["minimum", "thick-public"])
def test_no_non_public_marker_in_any_frame(data_model: str, xsd_dir: Path, pki: TestPKI, tmp_path: Path,
                                           tmp_path_factory: pytest.TempPathFactory) -> None:
    from registrar.storage import Database

    reg = start_registry(pki, data_model)
    db = Database(sqlite_copy(tmp_path_factory, tmp_path / "prop.db", load=False))
    counter = itertools.count(1)
    shown: list[str] = []  # public markers that did reach the registry (thick-public): the test is not vacuous
    try:
        base = make_config(reg, pki, tmp_path, data_model)

        @settings(max_examples=40, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(registrations())
        def check(r: Registration) -> None:
            n = next(counter)
            d = r.domain
            d.ldh_name, d.unicode_name = f"prop{n}.{d.tld}", None
            for contact in {id(c): c for c in (d.registrant, d.tech, d.admin, d.billing) if c}.values():
                contact.handle = f"P{n}{contact.handle}"[:16]
            for i, link in enumerate(d.nameservers):
                link.host.ldh_name = f"ns{i}.p{n}.net"  # external: no superordinate needed
            with db.transaction() as s:
                s.add(d)
            config = base.__class__(**{**base.__dict__, "privacy": PrivacyConfig(
                email_mode=r.privacy.email_mode)})
            reg.clear_records()
            report = run_sync(config, db, options=SyncOptions(
                sleep=lambda _s: None, environ={PW_VAR: PASSWORDS["registrar-a"]}, validate_outgoing=True,
                only=[d.ldh_name], lock=False))
            assert report.ok, report.human()
            frames = [f.data for f in reg.frames]
            assert any(b"<domain:create" in f for f in frames)
            forbidden = r.hidden() if data_model == "thick-public" else list(r.markers)
            for frame in frames:
                text = _without_auth(_scrub(frame))
                leaked = [m for m in forbidden if re.search(re.escape(m), text)]
                shown.extend(m for m in r.visible() if m in text)
                assert not leaked, f"{leaked} sent to the registry in {text}"
                # the authInfo is the one secret the registry must hold: only ever inside <domain:pw>
                assert all(v == d.auth_info for v in _auth_values(frame))
            assert reg.invalid_frames() == []

        check()
        if data_model == "thick-public":
            assert shown, "no public contact data was ever sent: the property was not exercised"
        else:
            assert not shown
    finally:
        reg.stop()
        db.dispose()
    assert reg.response_schema_errors == []
