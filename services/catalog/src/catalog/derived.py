"""Figures derived from an item's data, never typed in: 零次跑 and 一证通办."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from contracts.certificates import IDENTITY_DOCUMENT


def zero_trip(trips: int) -> bool:
    """零次跑: no trip to the hall at all."""
    return trips == 0


def one_certificate(materials: Iterable[Mapping[str, Any]]) -> bool:
    """一证通办: every required material but the ID card can be fetched from datashare."""
    return all(
        m.get("certificate_type")
        for m in materials
        if m.get("required", True) and m.get("certificate_type") != IDENTITY_DOCUMENT
    )
