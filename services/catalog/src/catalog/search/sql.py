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


def _tail(join: str, row_key: str, counted: str = "m", total: str = "") -> str:
    """Facet counts (part 0) then the page's rows (part 1), from the matches `m`; part 2: the total."""
    blanks = ", ".join(f"NULL AS {c}" for c in _HIT)
    hit = ", ".join(f"r.{c}" for c in _HIT)
    nulls = ", ".join("NULL" for _ in [*_HIT, "score", "name_length", "base_code"])
    tail = f"\nUNION ALL\n{total}, {nulls} FROM t" if total else ""
    return f"""
, f AS (SELECT facet_key, count(*) AS n FROM {counted} GROUP BY facet_key)
, p AS (SELECT {row_key}, score, name_length, base_code, item_id FROM m ORDER BY {_ORDER}
        LIMIT :limit OFFSET :offset)
SELECT 0 AS part, facet_key, n, {blanks}, NULL AS score, NULL AS name_length, NULL AS base_code FROM f
UNION ALL
SELECT 1, NULL, NULL, {hit}, p.score, p.name_length, p.base_code
FROM p JOIN item_search r ON {join}{tail}
ORDER BY part, {_ORDER}"""  # noqa: S608


def _where(conditions: list[str]) -> str:
    return "WHERE " + " AND ".join(conditions) if conditions else ""


# A result list longer than this is not read to its end: the page is ranked among the first CAP
# matches in index order plus RELATED_CAP exact or related matches, and the total and facet counts are
# extrapolated from that sample (the response says so). Ranking one match costs microseconds
# (ts_rank over its words, recheck, the exact-match lookup): a two-character word matching 3,500 of
# 100,000 items took ~10 ms; the cap bounds a search near the cost of a few get-by-ids, while most
# words in a district's catalogue (under 1,000 items) still match fewer and are counted exactly.
PG_CAP = 300
# Exact and related matches ranked beyond the sample: a district has a handful per query; far more
# (a generated catalogue's copies) only crowd the page, and each costs a ts_rank.
RELATED_CAP = 50
# Browsing without words ranks nothing, so it reads more before estimating: a whole district's list.
BROWSE_CAP = 2000
# Estimated total: the sample covered the table up to its last block, so scale by the blocks left.
_ESTIMATE = (
    "CASE WHEN n < :cap THEN n ELSE greatest(n + (SELECT count(*) FROM e WHERE item_id NOT IN (SELECT item_id FROM c)), "
    "round(n::float8 * (pg_relation_size('{table}') / current_setting('block_size')::int) "
    "/ (last_block + 1))) END"
)
# Part 2, one row: whether the total was counted or estimated (in facet_key), and the total (in n).
_TOTAL = "SELECT 2, CASE WHEN n < :cap THEN 'counted' ELSE 'estimated' END, " + _ESTIMATE
_RANK = (
    "ts_rank('{weights}'::real[], {vector}, CAST(:query AS tsquery))"
    " * CASE WHEN minsheng THEN {prior} ELSE 1.0 END"
)
_ROW = "ctid AS tid, facet_key, item_id, base_code, name_length"


def postgresql(searched: bool, head: bool, filters: list[str], spelled: bool = True) -> str:
    # Names, synonyms and pinyin (`head`) are matched in the narrow item_rank (migration 0004),
    # without the pinyin (`words`) for a query with no Latin letters in it; only the guide-text
    # tier reads the wide item_search. Parameters typed tsquery are parsed once, not once per row
    # as to_tsquery($1) would be in a generic plan.
    vector, table = ("head" if spelled else "words", "item_rank") if head else ("document", "item_search")
    rank = _RANK.format(weights=PG_WEIGHTS, vector=vector, prior=MINSHENG_PRIOR) if searched else "0.0"
    conditions = [f"{vector} @@ CAST(:query AS tsquery)", *filters] if searched else filters
    # Exact and related matches (an item's own name or synonym, or a formal name the query stands
    # for) are few and always compete for the page, sampled or not; scored where they are found.
    tier = f"CASE WHEN exact_keys @@ CAST(:exact AS tsquery) THEN 2 ELSE 1 END * {EXACT_WEIGHT}"
    exact = searched and head
    # IS TRUE keeps the planner off the head index here: the exact rows are few, checked one by
    # one, and the (costly, for a long query) head index scan runs once, for the sample.
    matching = [f"({conditions[0]}) IS TRUE", *conditions[1:]] if searched else conditions
    related = ["exact_keys @@ CAST(:exact_or_related AS tsquery)", *matching] if exact else ["false"]
    return f"""WITH e AS MATERIALIZED (
SELECT {_ROW}, {f"{tier} + {rank}" if exact else "0.0"} AS score
FROM item_rank {_where(related)} LIMIT :related_cap)
, c AS MATERIALIZED (
SELECT {_ROW}, CASE WHEN item_id IN (SELECT item_id FROM e) THEN NULL ELSE {rank} END AS score
FROM {table} {_where(conditions)} LIMIT :cap)
, m AS (SELECT tid, facet_key, item_id, base_code, name_length, score FROM e
        UNION ALL SELECT * FROM c WHERE score IS NOT NULL)
, t AS (SELECT count(*) AS n, max((tid::text::point)[0]) AS last_block FROM c)
{_tail("r.item_id = p.item_id", "item_id AS key", "c", _TOTAL.format(table=table))}"""  # noqa: S608


def sqlite(searched: bool, head: bool, filters: list[str], spelled: bool = True) -> str:
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


STATEMENTS: dict[Dialect, Callable[[bool, bool, list[str], bool], str]] = {
    "postgresql": postgresql,
    "sqlite": sqlite,
}
