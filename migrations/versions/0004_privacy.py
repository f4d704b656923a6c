"""Privacy: consent ledger, erasures, and when a booking or handoff lost its personal details

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 10:05:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_wordings",
        sa.Column("version", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("first_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version"),
    )
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("given", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("wording_version", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_consents_conversation_id"), "consents", ["conversation_id"], unique=False)
    op.create_index(op.f("ix_consents_at"), "consents", ["at"], unique=False)
    op.create_table(
        "erasures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("conversation_digest", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("booking_references", sa.Text(), nullable=False),
        sa.Column("removed", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
    )
    op.create_index(op.f("ix_erasures_conversation_digest"), "erasures", ["conversation_digest"], unique=False)
    op.create_index(op.f("ix_erasures_completed_at"), "erasures", ["completed_at"], unique=False)
    op.add_column("bookings", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("handoffs", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("handoffs") as batch_op:
        batch_op.drop_column("erased_at")
    with op.batch_alter_table("bookings") as batch_op:
        batch_op.drop_column("erased_at")
    op.drop_index(op.f("ix_erasures_completed_at"), table_name="erasures")
    op.drop_index(op.f("ix_erasures_conversation_digest"), table_name="erasures")
    op.drop_table("erasures")
    op.drop_index(op.f("ix_consents_at"), table_name="consents")
    op.drop_index(op.f("ix_consents_conversation_id"), table_name="consents")
    op.drop_table("consents")
    op.drop_table("consent_wordings")
