"""Column helpers shared by the models."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Enum, Integer
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool import clock
from lti_tool.database import UTCDateTime

#: 64-bit ids on PostgreSQL; SQLite only autoincrements a plain INTEGER primary key.
BigId = BigInteger().with_variant(Integer, "sqlite")


def enum_column(enum: type[StrEnum], name: str) -> Enum:
    """A portable enum: a short VARCHAR with a CHECK constraint naming the allowed values."""
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class Timestamps:
    """created_at and updated_at, from the tool's clock."""

    #: When the row was created.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    #: When the row last changed.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)
