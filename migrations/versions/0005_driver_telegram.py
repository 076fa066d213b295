"""drivers link a Telegram chat with a one-time code; sent and received messages found by chat

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE ADD COLUMN and CREATE INDEX: a batch "move and copy" of drivers would drop a
# table that routes and messages point to, which SQLite refuses with foreign keys on.


def upgrade() -> None:
    op.add_column('drivers', sa.Column('telegram_chat_id', sa.String(length=64), nullable=True))
    op.add_column('drivers', sa.Column('link_code_hash', sa.String(length=64), nullable=True))
    op.add_column('drivers', sa.Column('link_code_expires_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_drivers_telegram_chat_id', 'drivers', ['telegram_chat_id'], unique=True)
    op.create_index('ix_messages_address_ref', 'messages', ['address', 'provider_ref'], unique=False)
    op.create_index('ix_inbox_address_received', 'inbox', ['address', 'received_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_inbox_address_received', table_name='inbox')
    op.drop_index('ix_messages_address_ref', table_name='messages')
    op.drop_index('ix_drivers_telegram_chat_id', table_name='drivers')
    with op.batch_alter_table('drivers', schema=None) as batch_op:
        batch_op.drop_column('link_code_expires_at')
        batch_op.drop_column('link_code_hash')
        batch_op.drop_column('telegram_chat_id')
