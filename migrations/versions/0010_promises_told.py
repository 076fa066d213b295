"""promises remember when the recipient was first told them (a message stating the window was queued)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (see 0006). Promises from before this migration were told by the message that
    # came with them (pre-delivery, updated window, delay, rescheduled) when it was queued; the ledger
    # cannot say which were not, so they are all taken as told when they were made.
    op.add_column('promises', sa.Column('told_at', sa.DateTime(timezone=True), nullable=True))
    op.execute('UPDATE promises SET told_at = created_at')


def downgrade() -> None:
    with op.batch_alter_table('promises', schema=None) as batch_op:
        batch_op.drop_column('told_at')
