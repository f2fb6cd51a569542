"""The search statement of each backend: matches, score, facet counts and the page in one round trip."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

# Every piece of SQL text here is a constant of this module or a `column = :parameter` filter from
# query.py's fixed list (hence the S608 waivers); what users type only ever travels as parameters.

Dialect = Literal["postgresql", "sqlite"]

# ts_rank weights of D (materials, conditions), C (pinyin), B (synonyms), A (name words).
PG_WEIGHTS = "{0.05,0.3,0.6,1.0}"
# bm25 weights of the FTS5 columns name_words, synonym_words, pinyin, body_words.
FTS5_WEIGHTS = "10.0, 6.0, 3.0, 0.3"
# Citizens' items (民生事项) carry most of the hall's volume; on a similar match they go first.
MINSHENG_PRIOR = 1.3
# An exact name or synonym (2) or a formal name the query stands for (1) outranks any text score.
EXACT_WEIGHT = 1_000_000.0

_HIT_COLUMNS = (
    "item_id, version, name, department_code, department_name, item_type, handling_type, deciding_level,"
    " trips, minsheng, one_certificate, synonyms, body"
)
_HIT = _HIT_COLUMNS.split(", ")
_ORDER = "score DESC, name_length, base_code, item_id"


def _tail(join: str, row_key: str) -> str:
    """Facet counts (part 0) then the page's rows (part 1), from the matches `m`."""
    blanks = ", ".join(f"NULL AS {c}" for c in _HIT)
    hit = ", ".join(f"r.{c}" for c in _HIT)
    return f"""
, f AS (SELECT facet_key, count(*) AS n FROM m GROUP BY facet_key)
, p AS (SELECT {row_key}, score, name_length, base_code, item_id FROM m ORDER BY {_ORDER}
        LIMIT :limit OFFSET :offset)
SELECT 0 AS part, facet_key, n, {blanks}, NULL AS score, NULL AS name_length, NULL AS base_code FROM f
UNION ALL
SELECT 1, NULL, NULL, {hit}, p.score, p.name_length, p.base_code
FROM p JOIN item_search r ON {join}
ORDER BY part, {_ORDER}"""  # noqa: S608


def _where(conditions: list[str]) -> str:
    return "WHERE " + " AND ".join(conditions) if conditions else ""


def postgresql(searched: bool, head: bool, filters: list[str]) -> str:
    vector = "head" if head else "document"
    if not searched:
        return f"""WITH m AS MATERIALIZED (
SELECT facet_key, item_id, base_code, 0.0 AS score, 0 AS name_length FROM item_search {_where(filters)})
{_tail("r.item_id = p.item_id", "item_id AS key")}"""  # noqa: S608
    # Parameters typed tsquery are parsed once, not once per row as to_tsquery($1) would be in a
    # generic plan; their lexemes are already what to_tsvector('simple', …) makes of the words.
    # Exact matches are few: found once through their own index, then looked up in a hash.
    conditions = [f"{vector} @@ CAST(:query AS tsquery)", *filters]
    return f"""WITH e AS MATERIALIZED (
SELECT item_id, exact_keys @@ CAST(:exact AS tsquery) AS exact
FROM item_search WHERE exact_keys @@ CAST(:exact_or_related AS tsquery))
, m AS MATERIALIZED (
SELECT facet_key, item_id, base_code, name_length,
  CASE WHEN item_id IN (SELECT item_id FROM e WHERE exact) THEN 2
       WHEN item_id IN (SELECT item_id FROM e) THEN 1 ELSE 0 END * {EXACT_WEIGHT}
  + ts_rank('{PG_WEIGHTS}'::real[], {vector}, CAST(:query AS tsquery))
    * CASE WHEN minsheng THEN {MINSHENG_PRIOR} ELSE 1.0 END AS score
FROM item_search {_where(conditions)})
{_tail("r.item_id = p.item_id", "item_id AS key")}"""  # noqa: S608


def sqlite(searched: bool, head: bool, filters: list[str]) -> str:
    # `head` is in the MATCH text as a column filter (see query.py): FTS5 has one index.
    score = "0.0"
    if searched:
        exists = "EXISTS (SELECT 1 FROM json_each(:{}) AS j WHERE instr(keys, j.value) > 0)"
        exact = f"CASE WHEN {exists.format('exact')} THEN 2 WHEN {exists.format('related')} THEN 1 ELSE 0 END"
        rank = f"-bm25(item_search, {FTS5_WEIGHTS})"  # bm25 is negative, better is lower
        prior = f"CASE WHEN minsheng THEN {MINSHENG_PRIOR} ELSE 1.0 END"
        score = f"({exact}) * {EXACT_WEIGHT} + {rank} * {prior}"
    conditions = (["item_search MATCH :query"] if searched else []) + filters
    length = "name_length" if searched else "0"
    return f"""WITH m AS MATERIALIZED (
SELECT facet_key, rowid AS rid, item_id, base_code, {score} AS score, {length} AS name_length
FROM item_search {_where(conditions)})
{_tail("r.rowid = p.key", "rid AS key")}"""  # noqa: S608


STATEMENTS: dict[Dialect, Callable[[bool, bool, list[str]], str]] = {
    "postgresql": postgresql,
    "sqlite": sqlite,
}
