"""What the console keeps for mentors themselves: their saved reply snippets."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.columns import BigId, Timestamps
from lti_tool.database import Base


class MentorSnippet(Timestamps, Base):
    """A short reply a mentor keeps to insert into their answers; only they see it."""

    __tablename__ = "mentor_snippets"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The mentor who keeps it; nobody else lists, inserts or deletes it.
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    #: The platform (tenant) of that mentor: scopes every query about it.
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("platform_registrations.id", ondelete="CASCADE"), index=True
    )
    #: What the mentor calls it in the list.
    title: Mapped[str] = mapped_column(String(120))
    #: The text inserted into a reply (plain text, as typed; escaped when shown).
    body: Mapped[str] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<MentorSnippet {self.id} of person {self.person_id}>"
