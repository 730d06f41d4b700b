"""saved_sessions: a saved portal session per session slot of a login (was one per login)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('saved_sessions',
    sa.Column('credential_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('slot', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('storage_state_enc', sa.Text(), nullable=False),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['credential_id'], ['portal_credentials.id'], ),
    sa.PrimaryKeyConstraint('credential_id', 'slot')
    )
    # A login's one saved session becomes its slot 0's. Slot 0's ciphertext is bound to the same
    # purpose, account and login as before (runner.core.credentials), so it moves as it is.
    op.execute(
        "INSERT INTO saved_sessions (credential_id, slot, storage_state_enc, saved_at) "
        "SELECT id, 0, storage_state_enc, updated_at FROM portal_credentials "
        "WHERE storage_state_enc IS NOT NULL"
    )
    with op.batch_alter_table('portal_credentials', schema=None) as batch_op:
        batch_op.drop_column('storage_state_enc')


def downgrade() -> None:
    with op.batch_alter_table('portal_credentials', schema=None) as batch_op:
        batch_op.add_column(sa.Column('storage_state_enc', sa.Text(), nullable=True))
    op.execute(
        "UPDATE portal_credentials SET storage_state_enc = (SELECT storage_state_enc FROM "
        "saved_sessions WHERE saved_sessions.credential_id = portal_credentials.id "
        "AND saved_sessions.slot = 0)"
    )
    op.drop_table('saved_sessions')
