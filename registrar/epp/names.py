"""Domain/host name normalisation and syntax checks (LDH + IDNA A-labels)."""

from __future__ import annotations

import re

import idna

_LDH = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def to_ascii(name: str) -> str:
    """Lower-case ASCII (A-label) form of ``name``, without a trailing dot.

    U-labels are converted with IDNA 2008 + UTS #46 mapping; raises
    ``ValueError`` when that is impossible.
    """
    name = name.strip().rstrip(".")
    if not name.isascii():
        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise ValueError(f"not a valid IDN: {exc}") from exc
    return name.lower()


def label_error(label: str) -> str | None:
    """Why ``label`` is not a valid lower-case LDH label / A-label (None if it is)."""
    if not _LDH.match(label):
        return f"label {label!r} is not LDH"
    if len(label) >= 4 and label[2:4] == "--":
        if not label.startswith("xn--"):
            return f"label {label!r} has hyphens in positions 3-4"
        try:
            idna.decode(label)
        except (idna.IDNAError, UnicodeError) as exc:
            return f"label {label!r} is not a valid A-label: {exc}"
    return None


def name_error(name: str, *, min_labels: int = 2) -> str | None:
    """Why ``name`` is not an acceptable lower-case DNS name (None if it is)."""
    if not name or len(name) > 253:
        return "name empty or longer than 253 characters"
    if name != name.lower():
        return "name must be lower-case"
    labels = name.split(".")
    if len(labels) < min_labels:
        return f"name needs at least {min_labels} labels"
    for label in labels:
        err = label_error(label)
        if err:
            return err
    return None


def is_subordinate(name: str, parent: str) -> bool:
    """True when ``name`` equals ``parent`` or lies below it."""
    return name == parent or name.endswith("." + parent)
