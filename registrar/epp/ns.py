"""XML namespace URIs used by EPP and the extensions we support."""

from __future__ import annotations

from typing import Final

EPP: Final = "urn:ietf:params:xml:ns:epp-1.0"
EPPCOM: Final = "urn:ietf:params:xml:ns:eppcom-1.0"
DOMAIN: Final = "urn:ietf:params:xml:ns:domain-1.0"
HOST: Final = "urn:ietf:params:xml:ns:host-1.0"
CONTACT: Final = "urn:ietf:params:xml:ns:contact-1.0"
SECDNS: Final = "urn:ietf:params:xml:ns:secDNS-1.1"
RGP: Final = "urn:ietf:params:xml:ns:rgp-1.0"

#: Preferred prefixes when serialising.
PREFIXES: Final[dict[str, str]] = {
    DOMAIN: "domain",
    HOST: "host",
    CONTACT: "contact",
    SECDNS: "secDNS",
    RGP: "rgp",
}

#: Object services the sync job can use, in the order we announce them.
OBJECT_URIS: Final[tuple[str, ...]] = (DOMAIN, HOST, CONTACT)
#: Extension services the sync job can use.
EXTENSION_URIS: Final[tuple[str, ...]] = (SECDNS, RGP)


def q(namespace: str, local: str) -> str:
    """Return the Clark notation ``{namespace}local`` of an element name."""
    return f"{{{namespace}}}{local}"
