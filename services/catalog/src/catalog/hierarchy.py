"""The 主项 → 子项 → 业务办理项 hierarchy: the rules an item's place in it follows, checked before saving."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.checks import FieldError
from catalog.models import ItemVersion, MainItem
from catalog.schemas import ItemSpec, MainItemCreate

NO_SUB_ITEM = "000"


@dataclass(frozen=True)
class Placed:
    """Where one item hangs: its 主项 (a 子项), or the item it adds two digits to (a 办理项)."""

    item_id: str
    department: str
    base_code: str
    parent_base_code: str | None
    handling_suffix: str | None

    @classmethod
    def of(cls, spec: ItemSpec) -> Placed:
        return cls(
            spec.resolved_item_id(),
            spec.department,
            spec.base_code,
            spec.parent_base_code,
            spec.handling_suffix,
        )


def _error(field_name: str, rule: str, message: str) -> FieldError:
    return {"field": field_name, "rule": rule, "message": message}


@dataclass
class Hierarchy:
    """The 主项 and the current items a batch of rows can refer to, the batch's own rows included."""

    main_codes: set[str] = field(default_factory=set)
    items: dict[str, Placed] = field(default_factory=dict)

    def add(self, placed: Iterable[Placed], main_codes: Iterable[str] = ()) -> None:
        self.items.update((p.item_id, p) for p in placed)
        self.main_codes.update(main_codes)
        self._index()

    def _index(self) -> None:
        handled = [p for p in self.items.values() if not p.handling_suffix]
        self._handled = {(p.department, p.base_code): p for p in handled}
        self._handled_codes = {p.base_code for p in handled}
        self._parents = {p.base_code: p.parent_base_code for p in handled if p.parent_base_code}

    def _cycle(self, start: str) -> list[str] | None:
        path, code = [start], self._parents.get(start)
        while code is not None and len(path) <= len(self._parents):
            path.append(code)
            if code == start:
                return path
            if code in path[:-1]:  # a loop further up; reported on the rows that form it
                return None
            code = self._parents.get(code)
        return None

    def item_errors(self, spec: ItemSpec) -> list[FieldError]:
        """What is wrong with the item's place: unknown parent, a loop, or a parent of the wrong level."""
        code, parent = spec.base_code, spec.parent_base_code
        if code in self.main_codes:
            return [_error("base_code", "level", f"{code} 是只起归类作用的主项，本身不办理 (a heading only)")]
        if spec.handling_suffix:
            owner = self._handled.get((spec.department, code))
            if owner is None:
                message = f"业务办理项所属的事项不存在 (no item {code} of {spec.department} to add it to)"
                return [_error("handling_suffix", "exists", message)]
            if owner.parent_base_code != parent:
                message = f"应与所属事项 {owner.item_id} 相同 (same as its item's): {owner.parent_base_code}"
                return [_error("parent_base_code", "level", message)]
            return []
        if parent is None:
            if code[9:] == NO_SUB_ITEM:
                return []
            message = f"子项序号 {code[9:]} 不为000，应写明所属主项 (a sub-item names its main item)"
            return [_error("parent_base_code", "required", message)]
        if cycle := self._cycle(code):
            return [_error("parent_base_code", "no_cycle", "层级成环 (cycle): " + " → ".join(cycle))]
        if parent in self.main_codes:
            if code[:9] != parent[:9] or code[9:] == NO_SUB_ITEM:
                message = (
                    f"子项编码应与主项 {parent} 前9位相同、子项序号不为000 (sub-item code of that main item)"
                )
                return [_error("base_code", "sub_item_code", message)]
            return []
        if parent in self._handled_codes:
            message = f"{parent} 是可办理的事项，不是主项 (the parent is an item, not a main item)"
            return [_error("parent_base_code", "level", message)]
        return [_error("parent_base_code", "exists", f"主项 {parent} 不存在 (unknown main item)")]

    def main_item_errors(self, main: MainItemCreate) -> list[FieldError]:
        if main.base_code in self._handled_codes:
            message = f"{main.base_code} 已是可办理的事项 (an item applied for is not a heading)"
            return [_error("base_code", "level", message)]
        return []


async def load_hierarchy(
    session: AsyncSession, specs: Sequence[ItemSpec], mains: Sequence[MainItemCreate] = ()
) -> Hierarchy:
    """The part of the stored hierarchy the rows touch (their codes and every ancestor), then the rows."""
    codes = {c for s in specs for c in (s.base_code, s.parent_base_code) if c} | {m.base_code for m in mains}
    stored: dict[str, tuple[int, Placed]] = {}
    frontier = set(codes)
    while frontier:
        rows = await session.execute(
            sa.select(
                ItemVersion.item_id,
                ItemVersion.version,
                ItemVersion.department_code,
                ItemVersion.base_code,
                ItemVersion.parent_base_code,
                ItemVersion.handling_suffix,
            ).where(ItemVersion.base_code.in_(frontier), ItemVersion.status != "retired")
        )
        for item_id, version, department, base_code, parent, suffix in rows:
            if item_id not in stored or stored[item_id][0] < version:
                stored[item_id] = (version, Placed(item_id, department, base_code, parent, suffix))
        frontier = {p.parent_base_code for _, p in stored.values() if p.parent_base_code} - codes
        codes |= frontier
    main_codes = set(
        await session.scalars(sa.select(MainItem.base_code).where(MainItem.base_code.in_(codes)))
    )
    hierarchy = Hierarchy()
    hierarchy.add([p for _, p in stored.values()], main_codes)
    hierarchy.add([Placed.of(s) for s in specs], [m.base_code for m in mains])
    return hierarchy
