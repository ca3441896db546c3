"""The Hindi language model shipped in the package, and how ``AWAAZ_LM`` names a model."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

SHIPPED_LM = "hi-3gram.npz"
"""File name of the shipped model under ``awaaz/lm/data/`` (see docs/MODEL_CARD.md, "Language model")."""


def shipped_lm_path() -> Path:
    """Where the shipped Hindi n-gram model is."""
    return Path(str(resources.files("awaaz.lm") / "data" / SHIPPED_LM))


def resolve_lm(value: str) -> Path | None:
    """The model file ``value`` names: ``default`` (the shipped one), ``none``/``off``/empty, or a path."""
    name = value.strip()
    if name.lower() in ("", "none", "off", "false", "0"):
        return None
    if name.lower() == "default":
        return shipped_lm_path()
    return Path(name).expanduser()
