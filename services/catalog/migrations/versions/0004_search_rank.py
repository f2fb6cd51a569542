"""search rank table: a narrow copy of item_search for ranking and facets (PostgreSQL only)

Revision ID: 0004
Revises: 0003

A search at 100,000 items reads every row a common word matches (3,500 for 社保): in the wide
item_search rows (guide text, `document`) the `head` vector is pushed out to TOAST, and each match
costs two TOAST fetches and a decompression. item_rank holds only what matching, filtering,
ranking and facets read, small enough to stay inline and uncompressed; a trigger keeps it equal to
item_search in the same transaction, so the code that writes the index does not change. Its
`words` vector is `head` without the pinyin: a query in Chinese characters ranks the same against
either (pinyin lexemes never match it, ts_rank does not normalise by length) at a third of the
size, which is most of what ranking a match costs.
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = (
    "item_id, minsheng, zero_trip, one_certificate, name_length, base_code, department_code, "
    "item_type, handling_type, deciding_level, topics, facet_key, exact_keys, head, words"
)
# Name words weigh A and synonyms B, as in item_search.head (migration 0002).
WORDS = (
    "setweight(to_tsvector('simple', {0}name_words), 'A') || "
    "setweight(to_tsvector('simple', {0}synonym_words), 'B')"
)
_COPIED = [c.strip() for c in COLUMNS.split(",")][:-1]
_NEW = ", ".join([f"NEW.{c}" for c in _COPIED] + [WORDS.format("NEW.")])
_SET = ", ".join(f"{c.strip()} = EXCLUDED.{c.strip()}" for c in COLUMNS.split(",")[1:])
_GIN = "USING gin ({}) WITH (fastupdate = off)"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite's FTS5 table is narrow enough: it keeps its text in a separate store
    op.execute(
        """CREATE TABLE item_rank (
    item_id varchar(40) PRIMARY KEY,
    minsheng boolean NOT NULL,
    zero_trip boolean NOT NULL,
    one_certificate boolean NOT NULL,
    name_length integer NOT NULL,
    base_code varchar(12) NOT NULL,
    department_code varchar(40) NOT NULL,
    item_type varchar(20) NOT NULL,
    handling_type varchar(10) NOT NULL,
    deciding_level varchar(10) NOT NULL,
    topics text NOT NULL,
    facet_key text NOT NULL,
    exact_keys tsvector NOT NULL,
    head tsvector NOT NULL,
    words tsvector NOT NULL)"""
    )
    # Inline and uncompressed unless a row outgrows a quarter page: ts_rank reads `head` directly.
    op.execute(
        "ALTER TABLE item_rank ALTER COLUMN head SET STORAGE MAIN, ALTER COLUMN exact_keys SET STORAGE MAIN,"
        " ALTER COLUMN words SET STORAGE MAIN"
    )
    op.execute(
        f"""CREATE FUNCTION item_rank_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM item_rank WHERE item_id = OLD.item_id AND (TG_OP = 'DELETE' OR OLD.item_id <> NEW.item_id);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO item_rank ({COLUMNS}) VALUES ({_NEW})
        ON CONFLICT (item_id) DO UPDATE SET {_SET};
    END IF;
    RETURN NULL;
END $$"""  # noqa: S608
    )
    op.execute(
        "CREATE TRIGGER item_rank_sync AFTER INSERT OR UPDATE OR DELETE ON item_search "
        "FOR EACH ROW EXECUTE FUNCTION item_rank_sync()"
    )
    filled = ", ".join([*_COPIED, WORDS.format("")])
    op.execute(f"INSERT INTO item_rank ({COLUMNS}) SELECT {filled} FROM item_search")  # noqa: S608
    op.execute("CREATE INDEX ix_item_rank_head ON item_rank " + _GIN.format("head"))
    op.execute("CREATE INDEX ix_item_rank_exact_keys ON item_rank " + _GIN.format("exact_keys"))
    op.execute("CREATE INDEX ix_item_rank_words ON item_rank " + _GIN.format("words"))
    # item_rank answers every name-level search now; only the guide-text index stays on item_search.
    op.drop_index("ix_item_search_head", table_name="item_search")
    op.drop_index("ix_item_search_exact_keys", table_name="item_search")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE INDEX ix_item_search_head ON item_search " + _GIN.format("head"))
    op.execute("CREATE INDEX ix_item_search_exact_keys ON item_search " + _GIN.format("exact_keys"))
    op.execute("DROP TRIGGER item_rank_sync ON item_search")
    op.execute("DROP FUNCTION item_rank_sync()")
    op.execute("DROP TABLE item_rank")
