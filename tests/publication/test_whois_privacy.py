"""Property: a WHOIS reply shows a non-public element exactly when its consent allows it.

Random registrations from :func:`strategies.registrations` carry a unique marker string in
every non-public element (registrant, tech, admin and billing values, authInfo). Built in
memory (no database) and rendered with :func:`registrar.publication.whois_text.format_domain`,
no marker may appear unless its element's consent publishes it for the role the contact
plays; with that consent it must appear. The same holds for the whole reply as the protocol
sends it (UTF-8 bytes).
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings

from registrar.publication import whois_text
from tests.strategies import Registration, registrations

NOW = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(registrations())
def test_markers_appear_iff_consented(reg: Registration) -> None:
    """No hidden marker in the reply; every consented (or always-public) marker in it."""
    record = reg.public_record()
    text = whois_text.format_domain(record, NOW, redaction_text=reg.privacy.redaction_text)
    data = text.encode("utf-8")
    leaked = [m for m in reg.hidden() if m.encode() in data]
    assert not leaked, f"non-public data in the WHOIS reply: {leaked}"
    missing = [m for m in reg.visible() if m not in text]
    assert not missing, f"consented data missing from the WHOIS reply: {missing}"
    # Whatever the stored bytes, the reply is CRLF lines without control characters.
    assert b"\n" not in data.replace(b"\r\n", b"") and b"\r" not in data.replace(b"\r\n", b"")


@settings(max_examples=50, deadline=None)
@given(registrations())
def test_no_match_and_refusals_never_carry_record_data(reg: Registration) -> None:
    """Replies that are not the record (no match, refusals) contain no marker at all."""
    texts = [whois_text.format_no_match(reg.domain.ldh_name, NOW, reg.registrar.terms_of_use),
             *(whois_text.error_line(name) for name in whois_text.ERROR_LINES)]
    for text in texts:
        assert not [m for m in reg.markers if m in text]
