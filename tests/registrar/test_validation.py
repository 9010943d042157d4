"""Tests for registrar.validation: names, phones, countries, emails, DS data."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registrar.validation import (
    ValidationError,
    is_mixed_label_form,
    normalize_domain,
    validate_country,
    validate_ds,
    validate_email_address,
    validate_phone,
    validate_statuses,
    validate_text,
)


@pytest.mark.parametrize(
    ("given_name", "a_label", "u_label"),
    [
        ("Example.TEST.", "example.test", "example.test"),
        ("bücher.example", "xn--bcher-kva.example", "bücher.example"),
        ("XN--BCHER-KVA.example", "xn--bcher-kva.example", "bücher.example"),
        ("пример.test", "xn--e1afmkfd.test", "пример.test"),
        ("例え.test", "xn--r8jz45g.test", "例え.test"),
        ("Faß.example", "xn--fa-hia.example", "faß.example"),
    ],
)
def test_normalize_domain_forms(given_name: str, a_label: str, u_label: str) -> None:
    """U-labels, A-labels, any case and a trailing dot normalise to one A-label/U-label pair."""
    name = normalize_domain(given_name)
    assert (name.a_label, name.u_label) == (a_label, u_label)


@pytest.mark.parametrize(
    ("bad", "rule"),
    [
        ("", "required"),
        ("localhost", "at least 2 labels"),
        ("a..example", "empty label"),
        ("-bad.example", "LDH"),
        ("bad-.example", "LDH"),
        ("ab--cd.example", "positions 3-4"),
        ("xn--zz.example", "IDNA|A-label"),
        ("a" * 64 + ".example", "63"),
        (".".join(["a" * 60] * 5) + ".example", "253"),
        ("under_score.example", "LDH"),
        ("example.123", "all digits"),
    ],
)
def test_normalize_domain_rejects(bad: str, rule: str) -> None:
    """Invalid names are rejected with the field and the rule."""
    with pytest.raises(ValidationError, match=rule) as info:
        normalize_domain(bad, "domain")
    assert info.value.field == "domain"


@given(st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True))
def test_ascii_label_round_trip(label: str) -> None:
    """Any LDH label without hyphens in 3-4 is accepted unchanged."""
    if label[2:4] == "--":
        return
    assert normalize_domain(f"{label}.example").a_label == f"{label}.example"


def test_mixed_label_form() -> None:
    """A-label and U-label mixed in one name is detected (RDAP answers 400)."""
    assert is_mixed_label_form("xn--bcher-kva.bücher.example")
    assert not is_mixed_label_form("bücher.example")
    assert not is_mixed_label_form("xn--bcher-kva.example")


def test_phone_country_email() -> None:
    """Phones in +CC.NNNN form, ISO alpha-2 countries, RFC 5322 emails."""
    assert validate_phone("+49.301234567", "phone") == "+49.301234567"
    for bad in ("+49 30 1234567", "0301234567", "+1234.5", "+1."):
        with pytest.raises(ValidationError, match=r"phone: .*CC\.NNNN"):
            validate_phone(bad, "phone")
    assert validate_country("de", "country_code") == "DE"
    for bad in ("XX", "DEU", "", "UK"):
        with pytest.raises(ValidationError, match="country_code"):
            validate_country(bad, "country_code")
    assert validate_email_address("anna@example.com", "email") == "anna@example.com"
    with pytest.raises(ValidationError, match=r"email: .*not a valid email"):
        validate_email_address("anna@@example", "email")


def test_ds_and_statuses() -> None:
    """DS digests must match their type; statuses must be EPP statuses and 'ok' stands alone."""
    assert validate_ds(1, 13, 2, "a" * 64) == (1, 13, 2, "A" * 64)
    with pytest.raises(ValidationError, match=r"ds\.digest: digest type 2 needs 64"):
        validate_ds(1, 13, 2, "ab")
    with pytest.raises(ValidationError, match=r"ds\.key_tag"):
        validate_ds(70000, 13, 2, "a" * 64)
    with pytest.raises(ValidationError, match="not an EPP domain status"):
        validate_statuses(["locked"])
    with pytest.raises(ValidationError, match="'ok' cannot be combined"):
        validate_statuses(["ok", "clientHold"])


def test_email_domain_needs_a_dot() -> None:
    """A mailbox at a dotless domain (``a@b``) cannot be reached and is refused."""
    for bad in ("a@b", "anna@example", "anna@bücher"):
        with pytest.raises(ValidationError, match=r"email: .*needs a dot") as info:
            validate_email_address(bad, "email")
        assert info.value.field == "email"
    assert validate_email_address("a@b.example", "email") == "a@b.example"


@pytest.mark.parametrize("bad", ["+0.1", "+0.5555550123", "+999.123456", "+001.5555550123", "+210.12345", "+28.1"])
def test_phone_country_code_must_be_an_itu_calling_code(bad: str) -> None:
    with pytest.raises(ValidationError, match=r"phone: .*not an ITU-T E\.164 country calling code"):
        validate_phone(bad, "phone")


@pytest.mark.parametrize("good", ["+1.5555550123", "+44.2071234567", "+49.301234567", "+971.45550100",
                                  "+852.21234567", "+7.4951234567", "+800.12345678", "+1.5"])
def test_phone_with_real_calling_codes(good: str) -> None:
    assert validate_phone(good, "phone") == good


@pytest.mark.parametrize("char", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
                                  "\u2069", "\u200b", "\u200c", "\u200d", "\ufeff"])
def test_free_text_rejects_bidi_controls_and_zero_width_characters(char: str) -> None:
    with pytest.raises(ValidationError, match=rf"name: contains .*U\+{ord(char):04X}"):
        validate_text(f"Jane{char}Doe", "name")
    with pytest.raises(ValidationError):
        validate_text(f"{char}Jane", "name")


def test_free_text_keeps_ordinary_unicode() -> None:
    for text in ("Erika Mustermann", "Musterstraße 12", "Иван Петров", "محمد مثال", "山田 太郎", "Zoë O'Brien"):
        assert validate_text(text, "name") == text


@pytest.mark.parametrize("dot", ["\u3002", "\uff0e", "\uff61"])
def test_normalize_domain_maps_ideographic_and_fullwidth_full_stops(dot: str) -> None:
    """UTS #46 maps U+3002, U+FF0E and U+FF61 to '.', so they separate labels."""
    name = normalize_domain(f"例え{dot}test")
    assert (name.a_label, name.u_label) == ("xn--r8jz45g.test", "例え.test")
    assert normalize_domain(f"www{dot}Example{dot}COM{dot}").a_label == "www.example.com"
    with pytest.raises(ValidationError, match="empty label"):
        normalize_domain(f"a{dot}{dot}example")


def test_mixed_label_form_sees_ideographic_full_stops() -> None:
    assert is_mixed_label_form("bücher\u3002xn--bcher-kva.example")
