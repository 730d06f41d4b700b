"""portal health: a circuit breaker per portal, and the portal a held task waits for

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql


revision: str = '0006'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('portal_health',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('consecutive_faults', sa.Integer(), nullable=False),
    sa.Column('streak', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('last_fault', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('down_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('probe_failures', sa.Integer(), nullable=False),
    sa.Column('next_probe_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('probe_task_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('probe_token', sa.Integer(), nullable=True),
    sa.Column('alerted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held_for_portal', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
        batch_op.create_index(batch_op.f('ix_tasks_held_for_portal'), ['held_for_portal'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tasks_held_for_portal'))
        batch_op.drop_column('held_for_portal')
    op.drop_table('portal_health')
