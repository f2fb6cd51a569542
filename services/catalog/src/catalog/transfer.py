"""Import and export of the whole catalogue, JSON or CSV, all or nothing, with a report per bad row.

CLI: `python -m catalog.transfer import FILE` / `export FILE` (format from the suffix; reads
CATALOG_DATABASE_URL). The same format round-trips: an export imports back unchanged.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import pydantic
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from catalog import service, tree
from catalog.hierarchy import load_hierarchy
from catalog.models import ItemVersion, MainItem
from catalog.schemas import ItemSpec, MainItemCreate
from catalog.settings import CatalogSettings
from servicekit.db import make_engine, make_sessionmaker
from servicekit.problems import Problem

Format = Literal["json", "csv"]
# A row with level 主项 is a heading (MainItemCreate: a subset of the item columns); any other is an item.
LEVEL, MAIN_LEVEL = "level", "主项"
COLUMNS = [LEVEL, *ItemSpec.model_fields]
# CSV cells of these columns hold JSON (lists, objects, numbers, booleans); the rest are plain text.
JSON_COLUMNS = {
    "legal_basis",
    "conditions",
    "situations",
    "materials",
    "steps",
    "legal_limit",
    "promised_limit",
    "fees",
    "trips",
    "joint_departments",
    "result",
    "channels",
    "minsheng",
    "topics",
    "synonyms",
}
MAX_ROWS = 5000


@dataclass
class ImportReport:
    published: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    main_items: list[str] = field(default_factory=list)


def parse(content: bytes, fmt: Format) -> list[dict[str, Any]]:
    """Rows as dicts; CSV cells holding lists or objects are JSON, empty cells are absent."""
    try:
        text = content.decode("utf-8-sig")
        if fmt == "json":
            rows = json.loads(text)
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise ValueError("expected a JSON list of items")
            return rows
        return [_from_csv_row(row) for row in csv.DictReader(io.StringIO(text))]
    except (UnicodeDecodeError, ValueError) as exc:
        raise Problem(400, "unreadable_file", "文件无法读取 Unreadable file", str(exc)) from exc


def _from_csv_row(row: dict[str, str]) -> dict[str, Any]:
    return {
        key: json.loads(cell) if key in JSON_COLUMNS else cell
        for key, cell in row.items()
        if cell not in (None, "")
    }


def render(rows: list[dict[str, Any]], fmt: Format) -> bytes:
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=1).encode()
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                k: json.dumps(v, ensure_ascii=False) if k in JSON_COLUMNS else ("" if v is None else v)
                for k, v in row.items()
            }
        )
    return buffer.getvalue().encode()


def _row_errors(index: int, exc: pydantic.ValidationError) -> list[dict[str, Any]]:
    return [
        {
            "row": index,
            "field": ".".join(str(p) for p in err["loc"]),
            "rule": err["type"],
            "message": err["msg"],
        }
        for err in exc.errors()
    ]


def _validated(
    rows: list[dict[str, Any]],
) -> tuple[list[tuple[int, ItemSpec]], list[tuple[int, MainItemCreate]], list[dict[str, Any]]]:
    """Items and 主项 by row number, and what is wrong with each row on its own."""
    report: list[dict[str, Any]] = []
    specs: list[tuple[int, ItemSpec]] = []
    mains: list[tuple[int, MainItemCreate]] = []
    for index, raw in enumerate(rows, start=1):
        try:
            if raw.get(LEVEL) == MAIN_LEVEL:
                mains.append(
                    (index, MainItemCreate.model_validate({k: v for k, v in raw.items() if k != LEVEL}))
                )
            else:
                specs.append((index, ItemSpec.model_validate(raw)))
        except pydantic.ValidationError as exc:
            report += _row_errors(index, exc)
    # Two rows may not be one item, one implementation code (same department, code, suffix) or one 主项.
    keys = [
        ("item_id", [(i, s.resolved_item_id()) for i, s in specs]),
        ("base_code", [(i, f"{s.department} {s.base_code} {s.handling_suffix}") for i, s in specs]),
        ("base_code", [(i, m.base_code) for i, m in mains]),
    ]
    for field_name, keyed in keys:
        seen: dict[str, int] = {}
        for index, key in keyed:
            if key in seen:
                message = f"same as row {seen[key]}"
                report.append(
                    {"row": index, "field": field_name, "rule": "unique_in_file", "message": message}
                )
            seen.setdefault(key, index)
    return specs, mains, report


async def import_items(session: AsyncSession, rows: list[dict[str, Any]], today: date) -> ImportReport:
    """Validate every row first; save the 主项 and publish every item in one transaction, or nothing."""
    if len(rows) > MAX_ROWS:
        raise Problem(413, "too_many_rows", "行数过多 Too many rows", f"at most {MAX_ROWS} items per import")
    specs, mains, report = _validated(rows)
    result = ImportReport()
    async with session.begin():
        items = [spec for _, spec in specs]
        departments, owners = await service.load_references(session, items, [m.department for _, m in mains])
        hierarchy = await load_hierarchy(session, items, [m for _, m in mains])
        for index, main in mains:
            if main.department not in departments:
                message = f"unknown department {main.department}"
                report.append({"row": index, "field": "department", "rule": "exists", "message": message})
            report += [{"row": index, **err} for err in hierarchy.main_item_errors(main)]
        for index, spec in specs:
            errors = service.reference_errors(spec, departments, owners) or hierarchy.item_errors(spec)
            report += [{"row": index, **err} for err in errors]
        if report:
            bad_rows = sorted({e["row"] for e in report})
            raise Problem(
                422,
                "import_rejected",
                "导入被拒绝 Import rejected",
                f"{len(bad_rows)} 行有误，未导入任何事项 (nothing imported); bad rows: {bad_rows}",
                errors=[
                    {**e, "field": f"rows[{e['row']}].{e['field']}"}
                    for e in sorted(report, key=lambda e: e["row"])
                ],
            )
        for _, main in mains:
            if await _save_main_item(session, main):
                result.main_items.append(main.base_code)
        current = await _published_guides(session)
        for _, spec in specs:
            item_id = spec.resolved_item_id()
            if current.get(item_id) == _guide_of(spec):
                result.unchanged.append(item_id)
                continue
            await service.stage_item(session, spec, checked=True)
            await service.publish_staged(session, item_id, today)
            result.published.append(item_id)
    return result


async def _save_main_item(session: AsyncSession, main: MainItemCreate) -> bool:
    """Insert or update one 主项; False when it is stored exactly so already."""
    stored = await session.get(MainItem, main.base_code)
    if stored is not None and tree.main_item_spec(stored) == main:
        return False
    fresh = tree.main_item_of(main)
    if stored is None:
        session.add(fresh)
    else:
        for column in ("name", "item_type", "department_code", "legal_basis"):
            setattr(stored, column, getattr(fresh, column))
    await session.flush()
    return True


def _guide_of(spec: ItemSpec) -> dict[str, Any]:
    guide: dict[str, Any] = spec.model_dump(mode="json", exclude={"item_id", "effective_from"})
    return guide


async def _published_guides(session: AsyncSession) -> dict[str, dict[str, Any]]:
    rows = await session.execute(
        sa.select(ItemVersion.item_id, ItemVersion.guide).where(ItemVersion.status == "published")
    )
    return {item_id: guide for item_id, guide in rows}


async def export_items(session: AsyncSession, fmt: Format) -> bytes:
    """The 主项 first (so a fresh catalogue can import the file as it is), then every published item."""
    async with session.begin():
        mains = await session.scalars(sa.select(MainItem).order_by(MainItem.base_code))
        headings = [{LEVEL: MAIN_LEVEL, **tree.main_item_spec(m).model_dump(mode="json")} for m in mains]
        items = await session.scalars(
            sa.select(ItemVersion).where(ItemVersion.status == "published").order_by(ItemVersion.item_id)
        )
        rows = [
            {
                "item_id": item.item_id,
                **item.guide,
                "effective_from": item.effective_from and item.effective_from.isoformat(),
            }
            for item in items
        ]
    return render(headings + rows, fmt)


def _format_of(path: Path) -> Format:
    return "csv" if path.suffix.lower() == ".csv" else "json"


async def _run(command: str, content: bytes, fmt: Format) -> bytes:
    engine = make_engine(CatalogSettings().database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            if command == "export":
                return await export_items(session, fmt)
            report = await import_items(session, parse(content, fmt), date.today())
            counts = f"main items {len(report.main_items)}, published {len(report.published)}"
            return f"{counts}, unchanged {len(report.unchanged)}\n".encode()
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["import", "export"])
    parser.add_argument("file", type=Path)
    args = parser.parse_args()
    fmt = _format_of(args.file)
    content = args.file.read_bytes() if args.command == "import" else b""
    try:
        output = asyncio.run(_run(args.command, content, fmt))
    except Problem as problem:
        print(problem.detail)
        for error in problem.errors:
            print(f"  {error['field']}: {error['message']}")
        raise SystemExit(1) from problem
    if args.command == "export":
        args.file.write_bytes(output)
        print(f"exported to {args.file}")
    else:
        print(output.decode(), end="")


if __name__ == "__main__":
    main()
