"""domain names unique among live registrations only

A deleted registration is kept for the retention period; with ``domain.ldh_name`` unique the name
could never be registered again. The unique constraint becomes a partial unique index over live
rows (``deleted_at IS NULL``) plus a plain index for lookups by name.

SQLite cannot drop a constraint in place: batch mode copies the table (the migration environment
connects without ``PRAGMA foreign_keys=ON``, so the rows of ``domain_nameserver`` and
``ds_record`` that reference ``domain`` are kept). The downgrade is refused while a name has more
than one row.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 09:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

LIVE = "deleted_at IS NULL"


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('domain', schema=None) as batch_op:
        batch_op.drop_constraint('uq_domain_ldh_name', type_='unique')
        batch_op.create_index('ix_domain_ldh_name', ['ldh_name'], unique=False)
        batch_op.create_index('uq_domain_ldh_name_live', ['ldh_name'], unique=True,
                              sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))


def downgrade() -> None:
    """Revert this revision; refused (before any change) while a name has more than one row."""
    shared = op.get_bind().execute(sa.text(
        "SELECT ldh_name FROM domain GROUP BY ldh_name HAVING count(*) > 1 ORDER BY ldh_name")).scalars().all()
    if shared:
        raise RuntimeError(f"cannot downgrade to 0001: {len(shared)} domain name(s) have several rows (a "
                           f"registration and earlier deleted ones), e.g. {', '.join(shared[:5])}; 0001 allows "
                           "one row per name")
    with op.batch_alter_table('domain', schema=None) as batch_op:
        batch_op.drop_index('uq_domain_ldh_name_live')
        batch_op.drop_index('ix_domain_ldh_name')
        batch_op.create_unique_constraint('uq_domain_ldh_name', ['ldh_name'])
