"""portal logins: the portal's name as a person knows it

Revision ID: 0007
Revises: 0008
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0007'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The portal registry's names when this migration was written (handlers/portals); a login on
# another portal is named by its key until an admin names it (`portals add --name`).
KNOWN = {'acme': 'Acme Health', 'beacon': 'Beacon Exchange'}


def upgrade() -> None:
    with op.batch_alter_table('portal_credentials', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False, server_default='')
        )
    logins = sa.table('portal_credentials', sa.column('payer', sa.String), sa.column('name', sa.String))
    op.execute(
        logins.update().values(
            name=sa.case(*((logins.c.payer == key, name) for key, name in KNOWN.items()), else_=logins.c.payer)
        )
    )
    with op.batch_alter_table('portal_credentials', schema=None) as batch_op:
        batch_op.alter_column('name', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('portal_credentials', schema=None) as batch_op:
        batch_op.drop_column('name')
