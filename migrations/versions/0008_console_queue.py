"""the console's escalation queue: who took an escalation and who resolved it; indexes for the queue

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 01:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN without a foreign key: SQLite cannot add one in place (see tables.py).
    op.add_column('escalations', sa.Column('assigned_to', sa.Integer(), nullable=True))
    op.add_column('escalations', sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('escalations', sa.Column('resolved_by', sa.Integer(), nullable=True))
    op.create_index('ix_escalations_status_created', 'escalations', ['status', 'created_at'], unique=False)
    op.create_index('ix_inbox_intent_received', 'inbox', ['intent', 'received_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_inbox_intent_received', table_name='inbox')
    op.drop_index('ix_escalations_status_created', table_name='escalations')
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.drop_column('resolved_by')
        batch_op.drop_column('assigned_at')
        batch_op.drop_column('assigned_to')
