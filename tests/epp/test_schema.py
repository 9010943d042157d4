"""Loading the XSD set and validating frames."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from registrar.epp import schema

pytestmark = pytest.mark.usefixtures("xsd_dir")

SAMPLES = sorted((schema.default_xsd_dir() / "samples").glob("*.xml"))


@pytest.mark.parametrize("sample", [p for p in SAMPLES if p.name.startswith("valid-")], ids=lambda p: p.name)
def test_valid_samples_pass(sample: Path) -> None:
    assert schema.validate(sample.read_bytes()) == []


@pytest.mark.parametrize(
    "sample", [p for p in SAMPLES if p.name.startswith("invalid-")], ids=lambda p: p.name
)
def test_invalid_samples_fail(sample: Path) -> None:
    errors = schema.validate(sample.read_bytes())
    assert errors and all(isinstance(e, str) for e in errors)


def test_samples_present() -> None:
    names = {p.name for p in SAMPLES}
    assert len([n for n in names if n.startswith("valid-")]) == 10
    assert len([n for n in names if n.startswith("invalid-")]) == 7


def test_not_well_formed_is_reported() -> None:
    errors = schema.validate(b"<epp xmlns='urn:ietf:params:xml:ns:epp-1.0'><hello></epp>")
    assert len(errors) == 1 and errors[0].startswith("not well-formed")


def test_doctype_is_refused() -> None:
    doc = (
        b'<?xml version="1.0"?><!DOCTYPE epp [<!ENTITY x "y">]>'
        b'<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><hello/></epp>'
    )
    assert schema.validate(doc)[0].startswith("not acceptable")


def test_hello_is_valid_and_schema_is_cached() -> None:
    assert schema.validate(b'<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><hello/></epp>') == []
    assert schema.load_schema() is schema.load_schema()


def test_env_var_selects_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(schema.ENV_VAR, str(tmp_path))
    assert schema.default_xsd_dir() == tmp_path
    assert len(schema.missing_files()) == 7
    with pytest.raises(schema.SchemaUnavailableError):
        schema.load_schema()


def test_default_directory_is_next_to_the_project(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(schema.ENV_VAR, raising=False)
    project_root = Path(schema.__file__).resolve().parents[2]  # .../registrar/epp/schema.py
    assert (project_root / "registrar").is_dir()
    assert schema.default_xsd_dir() == project_root.parent / "shared" / "epp-xsd"


def test_missing_xsds_fail_under_ci_and_skip_elsewhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, require_xsds: Callable[[], Path]
) -> None:
    monkeypatch.setenv(schema.ENV_VAR, str(tmp_path))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="EPP XSDs not found"):
        require_xsds()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="EPP XSDs not found"):
        require_xsds()
