"""Tests for registrar.config: typed loading, unknown keys, validation, documentation."""

from __future__ import annotations

from pathlib import Path

import pytest

from registrar.config import DEFAULT_DATABASE_URL, ConfigError, iter_keys, load_config, resolve_database_url

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_load_without_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no file the documented defaults apply."""
    monkeypatch.delenv("REGISTRAR_CONFIG", raising=False)
    config = load_config()
    assert config.whois.port == 4343
    assert config.server.listen_backlog >= 1024
    assert config.policy.retention_days == 730


def test_fixture_config_loads() -> None:
    """The quick-start configuration is valid."""
    config = load_config(ROOT / "fixtures" / "config.toml")
    assert config.registrar.iana_id == 9999


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[whois]\nprot = 43\n", "unknown configuration key: whois.prot"),
        ("[nonsense]\na = 1\n", "unknown configuration key: nonsense"),
        ("[whois]\nport = 'x'\n", "whois.port: expected an integer"),
        ("[whois]\nport = 70000\n", "whois.port: must be a TCP port number"),
        ("[privacy]\nemail_mode = 'publish'\n", "privacy.email_mode: must be one of"),
        ("[ratelimit]\nallow = ['10.0.0.0/33']\n", "ratelimit.allow[0]: not a network"),
        ("[registrar]\nrdap_base_url = 'https://rdap.example'\n", "must end with '/'"),
        ("[[sync.registries]]\nname = 'a'\ntlds = ['example']\nhost = 'h'\nclient_id = 'c'\n",
         "set password_env or password_file"),
        ("[[sync.registries]]\nname = 'a'\nbogus = 1\n", "unknown configuration key: sync.registries[0].bogus"),
        ("not toml [", "not valid TOML"),
    ],
)
def test_invalid_config_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    """Every invalid configuration is rejected with the key and the rule."""
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_config(path)


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    """A configured path that does not exist is an error, not the defaults."""
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "absent.toml")


def test_database_url_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """--db beats the environment, which beats the file, which beats the SQLite default."""
    path = tmp_path / "c.toml"
    path.write_text("[database]\nurl = 'sqlite:///from-file.db'\n")
    config = load_config(path)
    monkeypatch.delenv("REGISTRAR_DATABASE_URL", raising=False)
    assert resolve_database_url(None, None) == DEFAULT_DATABASE_URL
    assert resolve_database_url(None, config) == "sqlite:///from-file.db"
    monkeypatch.setenv("REGISTRAR_DATABASE_URL", "sqlite:///from-env.db")
    assert resolve_database_url(None, config) == "sqlite:///from-env.db"
    assert resolve_database_url("sqlite:///cli.db", config) == "sqlite:///cli.db"


def test_every_key_is_documented() -> None:
    """docs/configuration.md names every configuration key and the code documents each one."""
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    for key, _default, text in iter_keys():
        assert text, f"{key} has no doc string"
        assert f"`{key}`" in doc, f"docs/configuration.md does not document {key}"
