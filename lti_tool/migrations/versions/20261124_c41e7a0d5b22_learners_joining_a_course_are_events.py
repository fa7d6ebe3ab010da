"""Learners joining a course (first launch, or a roster listing them) are learning events

Revision ID: c41e7a0d5b22
Revises: bfa826a9641e
Create Date: 2026-11-24 09:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c41e7a0d5b22'
down_revision = 'bfa826a9641e'
branch_labels = None
depends_on = None

_TABLE, _COLUMN, _NAME = "learning_events", "source", "event_source"
_BEFORE = ("ags", "xapi", "moodle", "canvas")


def _allow(values):
    """Let learning_events.source hold exactly ``values`` (a VARCHAR as long as the longest)."""
    enum = sa.Enum(*values, name=_NAME, native_enum=False, create_constraint=True)
    if op.get_bind().dialect.name != "postgresql":
        with op.batch_alter_table(_TABLE, schema=None) as batch_op:
            batch_op.alter_column(_COLUMN, type_=enum, existing_nullable=False)
        return
    constraint = op.f(f"ck_{_TABLE}_{_NAME}")
    op.drop_constraint(constraint, _TABLE, type_="check")
    op.alter_column(_TABLE, _COLUMN, type_=sa.String(max(map(len, values))),
                    existing_nullable=False)
    listed = ", ".join(f"'{value}'" for value in values)
    op.create_check_constraint(constraint, _TABLE, f"{_COLUMN} IN ({listed})")


def upgrade():
    _allow(_BEFORE + ("lti",))


def downgrade():
    op.execute("DELETE FROM learning_events WHERE source = 'lti'")
    _allow(_BEFORE)
