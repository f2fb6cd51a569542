"""Search over the index: one entry point, PostgreSQL (tsvector + GIN) or SQLite (FTS5), ranked, faceted."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.checks import check_department, check_main_item
from catalog.search.index import FACET_SEPARATOR
from catalog.search.plan import AnyOf, Atom, Plan, combined, fts5_query, parse, tsquery
from catalog.search.sql import BROWSE_CAP, PG_CAP, RELATED_CAP, STATEMENTS, Dialect


@dataclass(frozen=True)
class Filters:
    department: str | None = None
    item_type: str | None = None
    topic: str | None = None
    handling_type: str | None = None
    level: str | None = None
    zero_trip: bool | None = None  # 零次跑
    one_certificate: bool | None = None  # 一证通办
    minsheng: bool | None = None  # 民生事项
    main_item: str | None = None  # 主项 base code: the items under it (same first nine digits)


_FILTER_COLUMNS = {
    "department": "department_code",
    "item_type": "item_type",
    "handling_type": "handling_type",
    "level": "deciding_level",
    "zero_trip": "zero_trip",
    "one_certificate": "one_certificate",
    "minsheng": "minsheng",
}


# Filters that are not `column = value`: a topic within the |-separated list, a 主项's code prefix.
_SPECIAL = {"topic": "topics LIKE :topic", "main_item": "base_code LIKE :main_item"}


@dataclass
class Facets:
    total: int = 0
    department: Counter[str] = field(default_factory=Counter)
    item_type: Counter[str] = field(default_factory=Counter)
    topic: Counter[str] = field(default_factory=Counter)
    handling_type: Counter[str] = field(default_factory=Counter)
    level: Counter[str] = field(default_factory=Counter)
    zero_trip: int = 0
    one_certificate: int = 0
    minsheng: int = 0

    def add(self, facet_key: str, n: int) -> None:
        department, item_type, handling, level, flags, topics = facet_key.split(FACET_SEPARATOR)
        self.total += n
        self.department[department] += n
        self.item_type[item_type] += n
        self.handling_type[handling] += n
        self.level[level] += n
        self.zero_trip += n if flags[0] == "1" else 0
        self.one_certificate += n if flags[1] == "1" else 0
        self.minsheng += n if flags[2] == "1" else 0
        for topic in filter(None, topics.split(",")):
            self.topic[topic] += n

    def scaled(self, total: int) -> Facets:
        """Counts of a sample extrapolated to `total` matches (each rounded, so sums may differ by one)."""
        factor = total / self.total if self.total else 0.0

        def scale(n: int) -> int:
            return round(n * factor)

        return Facets(
            total,
            Counter({k: scale(v) for k, v in self.department.items()}),
            Counter({k: scale(v) for k, v in self.item_type.items()}),
            Counter({k: scale(v) for k, v in self.topic.items()}),
            Counter({k: scale(v) for k, v in self.handling_type.items()}),
            Counter({k: scale(v) for k, v in self.level.items()}),
            scale(self.zero_trip),
            scale(self.one_certificate),
            scale(self.minsheng),
        )


@dataclass
class Found:
    plan: Plan
    facets: Facets
    rows: list[sa.RowMapping]
    estimated: bool = False  # total and facets extrapolated from a sample (sql.PG_CAP)


@lru_cache(maxsize=256)
def _statement(
    dialect: Dialect, searched: bool, head: bool, filters: tuple[str, ...], spelled: bool = True
) -> sa.TextClause:
    # One statement per shape, built once: the statement cache and the server's prepared
    # statements then see the same SQL text every time.
    where = [_SPECIAL[f] if f in _SPECIAL else f"{_FILTER_COLUMNS[f]} = :{f}" for f in filters]
    return sa.text(STATEMENTS[dialect](searched, head, where, spelled))


def _parameters(dialect: Dialect, plan: Plan, head: bool, relaxed: bool, filters: Filters) -> dict[str, Any]:
    values = {name: getattr(filters, name) for name in (*_FILTER_COLUMNS, *_SPECIAL)}
    params = {k: v for k, v in values.items() if v is not None}
    if filters.topic is not None:
        params["topic"] = f"%|{filters.topic}|%"
    if filters.main_item is not None:
        params["main_item"] = filters.main_item[:9] + "%"
    if plan.empty:
        return params
    expr = combined(plan, relaxed)
    if dialect == "postgresql":
        params["query"] = tsquery(expr)
        params["exact"] = tsquery(AnyOf(tuple(Atom((k,)) for k in plan.exact)))
        both = plan.exact + plan.related[:12]
        params["exact_or_related"] = tsquery(AnyOf(tuple(Atom((k,)) for k in both)))
    else:
        params["query"] = ("{name_words synonym_words pinyin} : " if head else "") + fts5_query(expr)
        params["exact"] = json.dumps([f"|{k}|" for k in plan.exact])
        params["related"] = json.dumps([f"|{k}|" for k in plan.related[:12]])
    return params


async def search(session: AsyncSession, q: str | None, filters: Filters, *, offset: int, limit: int) -> Found:
    """Published items matching `q` and the filters, best first, with facets over all of them.

    Name-level matches (names, synonyms, pinyin) are the result when there are any; the guide
    text (materials, conditions, results) is searched only when none match, and a query whose
    words do not all match anywhere is retried accepting any of them. On PostgreSQL a result of
    more than max(PG_CAP, offset + limit) matches (BROWSE_CAP without words) is ranked and
    counted from a sample (see sql.PG_CAP) and comes back `estimated`. Runs in the caller's transaction if there is one.
    """
    dialect: Dialect = "postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"
    if session.in_transaction():
        return await _search(session, q, filters, offset, limit, dialect)
    if dialect == "postgresql":
        # Each statement reads one consistent snapshot by itself: BEGIN and COMMIT would only
        # add two round trips to every search.
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        return await _search(session, q, filters, offset, limit, dialect)
    async with session.begin():
        return await _search(session, q, filters, offset, limit, dialect)


async def _search(
    session: AsyncSession, q: str | None, filters: Filters, offset: int, limit: int, dialect: Dialect
) -> Found:
    if filters.department is not None:
        await check_department(session, filters.department)
    if filters.main_item is not None:
        await check_main_item(session, filters.main_item)
    plan = parse(q)
    if plan.empty and q is not None and q.strip():  # only punctuation or symbols: nothing can match
        return Found(plan, Facets(), [])
    present = tuple(name for name in (*_FILTER_COLUMNS, *_SPECIAL) if getattr(filters, name) is not None)
    tiers = [(True, False), (False, False)] if not plan.empty else [(True, False)]
    if len(plan.groups) > 1:
        tiers += [(True, True), (False, True)]
    facets, rows, total = Facets(), [], None
    cap = PG_CAP if not plan.empty else BROWSE_CAP
    paging = {"offset": offset, "limit": limit, "cap": max(cap, offset + limit)}
    paging["related_cap"] = max(RELATED_CAP, offset + limit)
    for head, relaxed in tiers:
        params = _parameters(dialect, plan, head, relaxed, filters) | paging
        statement = _statement(dialect, not plan.empty, head, present, plan.latin)
        result = (await session.execute(statement, params)).mappings().all()
        for row in result:
            if row["part"] == 0:
                facets.add(row["facet_key"], int(row["n"]))
            elif row["part"] == 1:
                rows.append(row)
            elif row["facet_key"] == "estimated":
                total = int(row["n"])
        if facets.total:
            break
    if total is not None and total > facets.total:
        return Found(plan, facets.scaled(total), rows, estimated=True)
    return Found(plan, facets, rows)
