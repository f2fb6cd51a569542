"""Search over the index: one entry point, PostgreSQL (tsvector + GIN) or SQLite (FTS5), ranked, faceted."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Department
from catalog.search.index import FACET_SEPARATOR
from catalog.search.plan import AnyOf, Atom, Plan, combined, fts5_query, parse, tsquery
from catalog.search.sql import STATEMENTS, Dialect
from servicekit.problems import Problem


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


_FILTER_COLUMNS = {
    "department": "department_code",
    "item_type": "item_type",
    "handling_type": "handling_type",
    "level": "deciding_level",
    "zero_trip": "zero_trip",
    "one_certificate": "one_certificate",
    "minsheng": "minsheng",
}


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


@dataclass
class Found:
    plan: Plan
    facets: Facets
    rows: list[sa.RowMapping]


@lru_cache(maxsize=256)
def _statement(dialect: Dialect, searched: bool, head: bool, filters: tuple[str, ...]) -> sa.TextClause:
    # One statement per shape, built once: the statement cache and the server's prepared
    # statements then see the same SQL text every time.
    where = [f"{_FILTER_COLUMNS[f]} = :{f}" if f != "topic" else "topics LIKE :topic" for f in filters]
    return sa.text(STATEMENTS[dialect](searched, head, where))


def _parameters(dialect: Dialect, plan: Plan, head: bool, relaxed: bool, filters: Filters) -> dict[str, Any]:
    values = {name: getattr(filters, name) for name in (*_FILTER_COLUMNS, "topic")}
    params = {k: v for k, v in values.items() if v is not None}
    if filters.topic is not None:
        params["topic"] = f"%|{filters.topic}|%"
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


async def _check_department(session: AsyncSession, code: str) -> None:
    if await session.get(Department, code) is None:
        detail = f"部门 {code} 不存在 (unknown department)"
        raise Problem(
            422,
            "validation_failed",
            "请求参数有误 Invalid request",
            detail,
            errors=[{"field": "department", "rule": "exists", "message": detail}],
        )


async def search(session: AsyncSession, q: str | None, filters: Filters, *, offset: int, limit: int) -> Found:
    """Published items matching `q` and the filters, best first, with facets over all of them.

    Name-level matches (names, synonyms, pinyin) are the result when there are any; the guide
    text (materials, conditions, results) is searched only when none match, and a query whose
    words do not all match anywhere is retried accepting any of them. Runs in the caller's
    transaction if there is one.
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
        await _check_department(session, filters.department)
    plan = parse(q)
    if plan.empty and q is not None and q.strip():  # only punctuation or symbols: nothing can match
        return Found(plan, Facets(), [])
    present = tuple(name for name in (*_FILTER_COLUMNS, "topic") if getattr(filters, name) is not None)
    tiers = [(True, False), (False, False)] if not plan.empty else [(True, False)]
    if len(plan.groups) > 1:
        tiers += [(True, True), (False, True)]
    facets, rows = Facets(), []
    for head, relaxed in tiers:
        params = _parameters(dialect, plan, head, relaxed, filters) | {"offset": offset, "limit": limit}
        statement = _statement(dialect, not plan.empty, head, present)
        result = (await session.execute(statement, params)).mappings().all()
        for row in result:
            if row["part"] == 0:
                facets.add(row["facet_key"], int(row["n"]))
            else:
                rows.append(row)
        if facets.total:
            break
    return Found(plan, facets, rows)
