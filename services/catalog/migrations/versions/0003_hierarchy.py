"""hierarchy: main_item (主项) table; item_version.parent_base_code and handling_suffix (办理项)

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "main_item",
        sa.Column("base_code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("item_type", sa.String(length=20), nullable=False),
        sa.Column("department_code", sa.String(length=40), nullable=False),
        sa.Column("legal_basis", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["department_code"], ["department.code"]),
        sa.PrimaryKeyConstraint("base_code"),
    )
    with op.batch_alter_table("item_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_base_code", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("handling_suffix", sa.String(length=2), nullable=True))
        batch_op.create_index("ix_item_version_parent", ["parent_base_code"], unique=False)
    _fill()


def _fill() -> None:
    # Versions saved before this revision keep their place in the guide; copy it out once.
    bind = op.get_bind()
    item = sa.table(
        "item_version",
        sa.column("item_id", sa.String),
        sa.column("version", sa.Integer),
        sa.column("guide", sa.JSON),
        sa.column("parent_base_code", sa.String),
        sa.column("handling_suffix", sa.String),
    )
    rows = bind.execute(sa.select(item.c.item_id, item.c.version, item.c.guide)).all()
    placed = [
        {
            "i": item_id,
            "v": version,
            "p": guide.get("parent_base_code"),
            "s": guide.get("handling_suffix"),
        }
        for item_id, version, guide in rows
        if guide.get("parent_base_code") or guide.get("handling_suffix")
    ]
    if placed:
        bind.execute(
            item.update()
            .where(item.c.item_id == sa.bindparam("i"), item.c.version == sa.bindparam("v"))
            .values(parent_base_code=sa.bindparam("p"), handling_suffix=sa.bindparam("s")),
            placed,
        )


def downgrade() -> None:
    with op.batch_alter_table("item_version", schema=None) as batch_op:
        batch_op.drop_index("ix_item_version_parent")
        batch_op.drop_column("handling_suffix")
        batch_op.drop_column("parent_base_code")
    op.drop_table("main_item")
