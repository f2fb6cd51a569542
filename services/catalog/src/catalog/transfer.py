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

from catalog import service
from catalog.models import ItemVersion
from catalog.schemas import ItemSpec
from catalog.settings import CatalogSettings
from servicekit.db import make_engine, make_sessionmaker
from servicekit.problems import Problem

Format = Literal["json", "csv"]
COLUMNS = [name for name in ItemSpec.model_fields]
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


async def import_items(session: AsyncSession, rows: list[dict[str, Any]], today: date) -> ImportReport:
    """Validate every row first; publish all of them in one transaction, or none."""
    if len(rows) > MAX_ROWS:
        raise Problem(413, "too_many_rows", "行数过多 Too many rows", f"at most {MAX_ROWS} items per import")
    report: list[dict[str, Any]] = []
    specs: list[tuple[int, ItemSpec]] = []
    for index, raw in enumerate(rows, start=1):
        try:
            specs.append((index, ItemSpec.model_validate(raw)))
        except pydantic.ValidationError as exc:
            report += _row_errors(index, exc)
    seen: dict[str, int] = {}
    for index, spec in specs:
        key = spec.resolved_item_id()
        if key in seen:
            message = f"same item as row {seen[key]}"
            report.append({"row": index, "field": "item_id", "rule": "unique_in_file", "message": message})
        seen.setdefault(key, index)
    result = ImportReport()
    async with session.begin():
        departments, owners = await service.load_references(session, [spec for _, spec in specs])
        for index, spec in specs:
            report += [{"row": index, **err} for err in service.reference_errors(spec, departments, owners)]
        if report:
            bad_rows = sorted({e["row"] for e in report})
            raise Problem(
                422,
                "import_rejected",
                "导入被拒绝 Import rejected",
                f"{len(bad_rows)} 行有误，未导入任何事项 (nothing imported); bad rows: {bad_rows}",
                errors=[{**e, "field": f"rows[{e['row']}].{e['field']}"} for e in report],
            )
        current = await _published_guides(session)
        for _, spec in specs:
            item_id = spec.resolved_item_id()
            if current.get(item_id) == _guide_of(spec):
                result.unchanged.append(item_id)
                continue
            await service.stage_item(session, spec)
            await service.publish_staged(session, item_id, today)
            result.published.append(item_id)
    return result


def _guide_of(spec: ItemSpec) -> dict[str, Any]:
    guide: dict[str, Any] = spec.model_dump(mode="json", exclude={"item_id", "effective_from"})
    return guide


async def _published_guides(session: AsyncSession) -> dict[str, dict[str, Any]]:
    rows = await session.execute(
        sa.select(ItemVersion.item_id, ItemVersion.guide).where(ItemVersion.status == "published")
    )
    return {item_id: guide for item_id, guide in rows}


async def export_items(session: AsyncSession, fmt: Format) -> bytes:
    async with session.begin():
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
    return render(rows, fmt)


def _format_of(path: Path) -> Format:
    return "csv" if path.suffix.lower() == ".csv" else "json"


async def _run(command: str, content: bytes, fmt: Format) -> bytes:
    engine = make_engine(CatalogSettings().database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            if command == "export":
                return await export_items(session, fmt)
            report = await import_items(session, parse(content, fmt), date.today())
            return f"published {len(report.published)}, unchanged {len(report.unchanged)}\n".encode()
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
