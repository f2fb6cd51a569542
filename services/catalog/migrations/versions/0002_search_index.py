"""search index: item_search (PostgreSQL: tsvectors + GIN; SQLite: FTS5), filled from published items

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from catalog.models import Department, ItemVersion
from catalog.search.index import build_row

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Name words weigh most (A), then synonyms (B), then pinyin and initials (C); `document` adds the
# materials, conditions and results (D) for queries no name matches.
HEAD = (
    "setweight(to_tsvector('simple', name_words), 'A') || "
    "setweight(to_tsvector('simple', synonym_words), 'B') || "
    "setweight(to_tsvector('simple', pinyin), 'C')"
)
DOCUMENT = f"{HEAD} || setweight(to_tsvector('simple', body_words), 'D')"
# Names, synonyms and their pinyin whole, one lexeme each, for "the query is this item's name".
EXACT_KEYS = "array_to_tsvector(string_to_array(btrim(keys, '|'), '|'))"


COLUMNS_0001 = [
    "item_id",
    "version",
    "status",
    "base_code",
    "implementation_code",
    "name",
    "department_code",
    "item_type",
    "handling_type",
    "deciding_level",
    "promised_limit_days",
    "promised_limit_unit",
    "trips",
    "minsheng",
    "guide",
    "effective_from",
    "effective_to",
    "created_at",
    "published_at",
]
INDEXED = ["name_words", "synonym_words", "pinyin", "body_words"]
# Fixed-width columns first, then what a search reads for every matching row, then the wide text:
# PostgreSQL walks the variable-width columns in order to reach the one it needs.
STORED = {
    "item_id": sa.String(40),
    "version": sa.Integer(),
    "trips": sa.Integer(),
    "name_length": sa.Integer(),
    "minsheng": sa.Boolean(),
    "zero_trip": sa.Boolean(),
    "one_certificate": sa.Boolean(),
    "facet_key": sa.Text(),
    "name": sa.String(200),
    "base_code": sa.String(12),
    "department_code": sa.String(40),
    "item_type": sa.String(20),
    "handling_type": sa.String(10),
    "deciding_level": sa.String(10),
    "topics": sa.Text(),
    "keys": sa.Text(),
    "department_name": sa.String(100),
    "synonyms": sa.Text(),
    "body": sa.Text(),
}


def _tsvector(name: str, expression: str) -> sa.Column[str]:
    return sa.Column(name, postgresql.TSVECTOR(), sa.Computed(expression, persisted=True), nullable=False)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        stored = [sa.Column(name, type_, nullable=False) for name, type_ in STORED.items()]
        op.create_table(
            "item_search",
            *stored[:7],
            _tsvector("exact_keys", EXACT_KEYS),
            _tsvector("head", HEAD),
            *stored[7:],
            *[sa.Column(name, sa.Text(), nullable=False) for name in INDEXED],
            _tsvector("document", DOCUMENT),
            sa.PrimaryKeyConstraint("item_id"),
            # Rows above this move their wide text (guide words, `document`) out to TOAST, so more
            # rows share a page and the pages a search touches stay in the buffer cache.
            postgresql_with={"toast_tuple_target": 1536},
        )
        # What every search reads per matching row stays in the row: left to the defaults, a wide
        # row (guide text, `document`) pushes even small values out to TOAST, and a search
        # matching 3,000 rows then pays thousands of extra page reads.
        hot = ["head", "exact_keys", "facet_key", "name"]
        op.execute("ALTER TABLE item_search " + ", ".join(f"ALTER COLUMN {c} SET STORAGE MAIN" for c in hot))
        # Without the pending list a query never scans unmerged entries: steady latency, and
        # publishing one item at a time does not need the faster bulk insert.
        gin = {"postgresql_using": "gin", "postgresql_with": {"fastupdate": "off"}}
        op.create_index("ix_item_search_head", "item_search", ["head"], **gin)
        op.create_index("ix_item_search_document", "item_search", ["document"], **gin)
        op.create_index("ix_item_search_exact_keys", "item_search", ["exact_keys"], **gin)
        op.create_index("ix_item_search_base_code", "item_search", ["base_code", "item_id"])
    else:
        # unicode61 splits on the spaces between the jieba words: Han words stay whole, so
        # two-character words (社保, 户口) match, unlike the trigram tokenizer.
        columns = INDEXED + [f"{name} UNINDEXED" for name in STORED]
        op.execute(f"CREATE VIRTUAL TABLE item_search USING fts5({', '.join(columns)}, tokenize='unicode61')")
    _fill()


def _fill() -> None:
    # Items published before this revision would otherwise be unsearchable until a reindex.
    bind = op.get_bind()
    department, item = Department.__table__, ItemVersion.__table__
    names = dict(bind.execute(sa.select(department.c.code, department.c.name)).all())
    # Only the columns of revision 0001: the model may have more by now (0003 adds the hierarchy).
    columns = [item.c[name] for name in COLUMNS_0001]
    published = bind.execute(sa.select(*columns).where(item.c.status == "published")).mappings()
    target = sa.table("item_search", *[sa.column(name) for name in INDEXED + list(STORED)])
    rows = []
    for row in published:
        built = build_row(ItemVersion(**row), names.get(row["department_code"], row["department_code"]))
        rows.append({name: built[name] for name in INDEXED + list(STORED)})
    if rows:
        bind.execute(sa.insert(target), rows)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_item_search_base_code", table_name="item_search")
        op.drop_index("ix_item_search_exact_keys", table_name="item_search")
        op.drop_index("ix_item_search_document", table_name="item_search")
        op.drop_index("ix_item_search_head", table_name="item_search")
    op.drop_table("item_search")
