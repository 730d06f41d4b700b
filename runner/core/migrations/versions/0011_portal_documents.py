"""task_files: where a file came from (an upload or the portal) and what kind of document it is

Revision ID: 0011
Revises: 0005
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every file stored before this revision was uploaded by a client.
    with op.batch_alter_table('task_files', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('source', sa.String(length=16), server_default='upload', nullable=False)
        )
        batch_op.add_column(sa.Column('kind', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('task_files', schema=None) as batch_op:
        batch_op.drop_column('kind')
        batch_op.drop_column('source')
