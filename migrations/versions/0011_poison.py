"""rows whose handling keeps failing are counted and parked (status poison); a table the health check writes

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-09 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (see 0006): failed tries to handle an inbound message, and failures of our own
    # (not the provider's) around an outbound one.
    op.add_column('inbox', sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
    op.add_column('messages', sa.Column('failures', sa.Integer(), server_default='0', nullable=False))
    op.create_table('health',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_health'))
    )


def downgrade() -> None:
    op.drop_table('health')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('failures')
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.drop_column('attempts')
