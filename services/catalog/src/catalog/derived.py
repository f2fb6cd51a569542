"""Figures derived from an item's data, never typed in: 零次跑, 一证通办 and the item's level."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from contracts.certificates import IDENTITY_DOCUMENT

# 主项 (a heading; applied for itself when it has no 子项), 子项, 业务办理项.
Level = Literal["主项", "子项", "办理项"]


def level(parent_base_code: str | None, handling_suffix: str | None) -> Level:
    """A 办理项 carries its two-digit suffix; a 子项 names its 主项; anything else is a 主项 itself."""
    if handling_suffix:
        return "办理项"
    return "子项" if parent_base_code else "主项"


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
