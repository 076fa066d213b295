"""what providers report about sent messages (Twilio status callbacks), and reports not matched yet

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 23:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch copy of messages would drop a table others point to (see 0005).
    op.add_column('messages', sa.Column('provider_status', sa.String(length=16), nullable=True))
    op.create_table('receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('provider_ref', sa.String(length=128), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error_code', sa.String(length=16), nullable=True),
    sa.Column('raw', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipts')),
    sa.UniqueConstraint('channel', 'provider_ref', name='uq_receipts_channel_provider_ref')
    )


def downgrade() -> None:
    op.drop_table('receipts')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('provider_status')
