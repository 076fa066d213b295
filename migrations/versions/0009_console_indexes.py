"""indexes for the console: staff replies by delivery, recipient and address, inbox by status (the
queue); a delivery's events by kind and time, its escalations by status (the board), replacing the
delivery-only indexes they start with

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 02:00:00
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        'ix_messages_kind_delivery', 'messages', ['kind', 'delivery_id', 'created_at'], unique=False
    )
    op.create_index(
        'ix_messages_kind_recipient', 'messages', ['kind', 'recipient_id', 'created_at'], unique=False
    )
    op.create_index(
        'ix_messages_kind_address', 'messages', ['kind', 'address', 'channel', 'created_at'], unique=False
    )
    op.create_index('ix_inbox_status_received', 'inbox', ['status', 'received_at'], unique=False)
    op.create_index('ix_events_delivery_kind_at', 'events', ['delivery_id', 'kind', 'at'], unique=False)
    op.drop_index('ix_events_delivery_id', table_name='events')
    op.create_index(
        'ix_escalations_delivery_status', 'escalations', ['delivery_id', 'status'], unique=False
    )
    op.drop_index('ix_escalations_delivery_id', table_name='escalations')


def downgrade() -> None:
    op.create_index('ix_escalations_delivery_id', 'escalations', ['delivery_id'], unique=False)
    op.drop_index('ix_escalations_delivery_status', table_name='escalations')
    op.create_index('ix_events_delivery_id', 'events', ['delivery_id'], unique=False)
    op.drop_index('ix_events_delivery_kind_at', table_name='events')
    op.drop_index('ix_inbox_status_received', table_name='inbox')
    op.drop_index('ix_messages_kind_address', table_name='messages')
    op.drop_index('ix_messages_kind_recipient', table_name='messages')
    op.drop_index('ix_messages_kind_delivery', table_name='messages')
