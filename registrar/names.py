"""Small helpers over :mod:`registrar.validation` for converting names between forms."""

from __future__ import annotations

import idna


def to_unicode(a_label_name: str) -> str:
    """The U-label form of an A-label name; the input unchanged when it cannot be decoded."""
    try:
        return ".".join(idna.decode(lbl) if lbl.startswith("xn--") else lbl for lbl in a_label_name.split("."))
    except (idna.IDNAError, UnicodeError):
        return a_label_name
