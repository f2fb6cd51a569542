"""The search index: one row per published item, kept in step with publishing (same transaction)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Department, ItemVersion
from catalog.search.text import core, han_only, index_words, initials, key, pinyin, pinyin_words

# The same columns on both backends: a table on PostgreSQL (plus the tsvectors it generates from
# them: `head`, `document`, `exact_keys`; see migration 0002) and an FTS5 virtual table on SQLite,
# whose first four columns are the indexed ones. The *_words columns hold space-separated words.
SEARCH_TABLE = sa.Table(
    "item_search",
    sa.MetaData(),
    sa.Column("name_words", sa.Text, nullable=False),
    sa.Column("synonym_words", sa.Text, nullable=False),
    sa.Column("pinyin", sa.Text, nullable=False),
    sa.Column("body_words", sa.Text, nullable=False),
    sa.Column("item_id", sa.String(40), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("base_code", sa.String(12), nullable=False),
    sa.Column("department_code", sa.String(40), nullable=False),
    sa.Column("department_name", sa.String(100), nullable=False),
    sa.Column("item_type", sa.String(20), nullable=False),
    sa.Column("handling_type", sa.String(10), nullable=False),
    sa.Column("deciding_level", sa.String(10), nullable=False),
    sa.Column("trips", sa.Integer, nullable=False),
    sa.Column("name_length", sa.Integer, nullable=False),
    sa.Column("minsheng", sa.Boolean, nullable=False),
    sa.Column("zero_trip", sa.Boolean, nullable=False),
    sa.Column("one_certificate", sa.Boolean, nullable=False),
    sa.Column("topics", sa.Text, nullable=False),
    sa.Column("keys", sa.Text, nullable=False),
    sa.Column("facet_key", sa.Text, nullable=False),
    sa.Column("synonyms", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
)
FACET_SEPARATOR = "\t"


def _texts(values: Any) -> list[str]:
    if not isinstance(values, list):
        return []
    out = [v if isinstance(v, str) else v.get("name") if isinstance(v, dict) else None for v in values]
    return [v for v in out if isinstance(v, str) and v.strip()]


def build_row(item: ItemVersion, department_name: str) -> dict[str, Any]:
    """The index row of a published item version (pure: no database)."""
    guide = item.guide or {}
    synonyms = _texts(guide.get("synonyms"))
    result = guide.get("result")
    body = [
        *_texts(guide.get("materials")),
        *_texts(guide.get("conditions")),
        *_texts(guide.get("situations")),
        *_texts([result] if isinstance(result, dict) else []),
        department_name,
    ]
    name_words = index_words(item.name)
    synonym_words = [w for s in synonyms for w in index_words(s)]
    phrases = [item.name, *synonyms]
    topics = _texts(guide.get("topics"))
    flags = "".join("1" if f else "0" for f in (item.zero_trip, item.one_certificate, item.minsheng))
    keys = [key(p) for p in phrases]
    keys += [core(k) for k in keys]
    keys += [f(han_only(p)) for p in phrases for f in (pinyin, initials) if len(han_only(p)) > 1]
    return {
        "name_words": " ".join(name_words),
        "synonym_words": " ".join(synonym_words),
        "pinyin": " ".join(dict.fromkeys(pinyin_words(phrases, name_words + synonym_words))),
        "body_words": " ".join(w for text in body for w in index_words(text)),
        "item_id": item.item_id,
        "version": item.version,
        "name": item.name,
        "base_code": item.base_code,
        "department_code": item.department_code,
        "department_name": department_name,
        "item_type": item.item_type,
        "handling_type": item.handling_type,
        "deciding_level": item.deciding_level,
        "trips": item.trips,
        "name_length": len(item.name),
        "minsheng": item.minsheng,
        "zero_trip": item.zero_trip,
        "one_certificate": item.one_certificate,
        "topics": "|" + "|".join(topics) + "|",
        "keys": "|" + "|".join(dict.fromkeys(k for k in keys if k)) + "|",
        # Everything the facets count, as one value: grouping by one column is much cheaper.
        "facet_key": FACET_SEPARATOR.join(
            [
                item.department_code,
                item.item_type,
                item.handling_type,
                item.deciding_level,
                flags,
                ",".join(topics),
            ]
        ),
        "synonyms": "\n".join(synonyms),
        "body": "\n".join(body),
    }


async def _department_name(session: AsyncSession, code: str) -> str:
    department = await session.get(Department, code)
    return department.name if department is not None else code


async def index_item(session: AsyncSession, item: ItemVersion) -> None:
    """Replace the item's index row with this newly published version (in the caller's transaction)."""
    if item.status != "published":
        raise ValueError(
            f"only published versions are indexed, {item.item_id} v{item.version} is {item.status}"
        )
    row = build_row(item, await _department_name(session, item.department_code))
    if session.get_bind().dialect.name == "postgresql":
        upsert = pg_insert(SEARCH_TABLE).values(row)
        changed = {k: upsert.excluded[k] for k in row if k != "item_id"}
        await session.execute(upsert.on_conflict_do_update(index_elements=["item_id"], set_=changed))
        return
    # FTS5 has no unique constraint to upsert on.
    await unindex_item(session, item.item_id)
    await session.execute(sa.insert(SEARCH_TABLE).values(row))


async def unindex_item(session: AsyncSession, item_id: str) -> None:
    """Drop the item from search (retired without a successor), in the caller's transaction."""
    await session.execute(sa.delete(SEARCH_TABLE).where(SEARCH_TABLE.c.item_id == item_id))


async def reindex_all(session: AsyncSession) -> int:
    """Rebuild the whole index from the published versions (after a dictionary or synonym change)."""
    if session.in_transaction():
        return await _reindex(session)
    async with session.begin():
        return await _reindex(session)


async def _reindex(session: AsyncSession) -> int:
    names = dict((await session.execute(sa.select(Department.code, Department.name))).all())
    items = await session.scalars(sa.select(ItemVersion).where(ItemVersion.status == "published"))
    rows = [build_row(item, names.get(item.department_code, item.department_code)) for item in items]
    await session.execute(sa.delete(SEARCH_TABLE))
    for start in range(0, len(rows), 500):
        await session.execute(sa.insert(SEARCH_TABLE), rows[start : start + 500])
    return len(rows)
