"""A mentor's profile, and who mentors whom in a course."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool import clock
from lti_tool.columns import BigId, Timestamps, enum_column
from lti_tool.database import Base, UTCDateTime


class MentorProfile(Timestamps, Base):
    """How a mentor presents themselves: every message is sent in this name."""

    __tablename__ = "mentor_profiles"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The mentor: a person of the platform (of a course, or of the organisation).
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), unique=True)
    #: The name learners see; empty: the name the platform shared.
    display_name: Mapped[str] = mapped_column(String(255), default="")
    #: E.g. "Head of training, Lyon".
    title: Mapped[str] = mapped_column(String(255), default="")
    #: A few sentences about them.
    bio: Mapped[str] = mapped_column(Text, default="")
    #: Their photo (an https address); empty: initials are shown.
    photo_url: Mapped[str] = mapped_column(String(2048), default="")

    def __repr__(self) -> str:
        return f"<MentorProfile {self.id} of person {self.person_id}>"


class PairedBy(StrEnum):
    """How a mentee came to their mentor."""

    HAND = "hand"  # a mentor or instructor chose
    SECTION = "section"  # by group or section
    ROUND_ROBIN = "round_robin"  # spread evenly over the course's mentors


class Mentorship(Base):
    """A mentor and a mentee in one course; at most one current mentor per mentee there."""

    __tablename__ = "mentorships"
    __table_args__ = (
        Index(
            "uq_mentorships_current", "course_id", "mentee_id", unique=True,
            postgresql_where=text("ended_at IS NULL"), sqlite_where=text("ended_at IS NULL"),
        ),
    )  # fmt: skip

    #: Surrogate key.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The course they meet in.
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    #: The mentor (a person with a mentor profile).
    mentor_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    #: The learner.
    mentee_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    #: By hand, by section or round-robin.
    paired_by: Mapped[PairedBy] = mapped_column(
        enum_column(PairedBy, "mentorship_paired_by"), default=PairedBy.HAND
    )
    #: When they were paired.
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    #: When the pairing ended (another mentor took over); empty while current.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<Mentorship {self.mentor_id} -> {self.mentee_id} in course {self.course_id}>"


class SectionMentor(Base):
    """Which mentor takes the learners of one section (group) of a course."""

    __tablename__ = "section_mentors"
    __table_args__ = (UniqueConstraint("course_id", "section"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The course.
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    #: The section, as enrollments name it (``Enrollment.section``).
    section: Mapped[str] = mapped_column(String(255))
    #: The mentor who takes its learners.
    mentor_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    #: When the mapping was last set.
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    def __repr__(self) -> str:
        return f"<SectionMentor {self.section!r} -> {self.mentor_id} in course {self.course_id}>"


class Channel(StrEnum):
    """How a mentor and mentee prefer to talk."""

    PANEL = "panel"  # messages in the mentor panel
    EMAIL = "email"
    VIDEO = "video"  # video calls
    PHONE = "phone"
    IN_PERSON = "in_person"


class MentoringAgreement(Timestamps, Base):
    """What a mentor and a mentee expect of each other in a course, written and accepted by both.

    Editing any term after either accepted starts a new version: both acceptances reset,
    and the version as it stood is kept in ``history``.
    """

    __tablename__ = "mentoring_agreements"
    __table_args__ = (UniqueConstraint("course_id", "mentor_id", "mentee_id"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The course they meet in.
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    #: The mentor.
    mentor_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    #: The mentee.
    mentee_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    #: What they want to achieve together.
    goals: Mapped[str] = mapped_column(Text, default="")
    #: How often they meet, in words ("every other Monday").
    meeting_frequency: Mapped[str] = mapped_column(String(120), default="")
    #: How they prefer to talk.
    preferred_channel: Mapped[Channel] = mapped_column(
        enum_column(Channel, "agreement_channel"), default=Channel.PANEL
    )
    #: What the mentee expects (written by the mentee).
    mentee_expectations: Mapped[str] = mapped_column(Text, default="")
    #: What the mentor expects (written by the mentor).
    mentor_expectations: Mapped[str] = mapped_column(Text, default="")
    #: When the mentee accepted this version; empty until then.
    accepted_by_mentee_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the mentor accepted this version; empty until then.
    accepted_by_mentor_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Starts at 1; each edit after an acceptance adds one.
    version: Mapped[int] = mapped_column(default=1)
    #: Earlier versions, oldest first: their terms, acceptances, who changed them and when.
    history: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, server_default=text("'[]'")
    )

    def __repr__(self) -> str:
        return f"<MentoringAgreement {self.id} v{self.version} {self.mentor_id}->{self.mentee_id}>"
