"""portal_sessions: the slot a hold takes of its login's sessions (one portal session per slot)

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0012'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Holds taken before this revision all shared the login's one stored session: slot 0.
    with op.batch_alter_table('portal_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('slot', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('portal_sessions', schema=None) as batch_op:
        batch_op.drop_column('slot')
