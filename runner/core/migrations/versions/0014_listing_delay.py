"""portal_credentials.listing_delay: how long the portal may take to list a new submission

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Logins saved before this revision use the fleet's setting (SOPWRIGHT_LISTING_DELAY).
    with op.batch_alter_table('portal_credentials', schema=None) as batch_op:
        batch_op.add_column(sa.Column('listing_delay', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('portal_credentials', schema=None) as batch_op:
        batch_op.drop_column('listing_delay')
