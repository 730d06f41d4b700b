"""trajectory steps: the failing page's HTML and why a screenshot is missing

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('trajectory_steps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('screenshot_note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
        batch_op.add_column(sa.Column('html_path', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('trajectory_steps', schema=None) as batch_op:
        batch_op.drop_column('html_path')
        batch_op.drop_column('screenshot_note')
