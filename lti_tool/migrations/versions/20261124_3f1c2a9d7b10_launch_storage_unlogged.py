"""Launch storage is unlogged on PostgreSQL: its seconds-long values need no write-ahead log.

A login's state and nonce live for minutes. Writes to an unlogged table skip the WAL, so
the login and launch commits no longer wait for it to reach the disk; a server crash
empties the table, which only means launching again. SQLite is left as it is.

Revision ID: 3f1c2a9d7b10
Revises: 8b8954661aea
Create Date: 2026-11-24 04:10:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '3f1c2a9d7b10'
down_revision = '8b8954661aea'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE lti_storage SET UNLOGGED")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE lti_storage SET LOGGED")
