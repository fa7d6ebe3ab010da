"""A topic is something taught; its activity patterns say which learning events are about it."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.columns import BigId, Timestamps
from lti_tool.database import Base


class Topic(Timestamps, Base):
    """Something taught (e.g. "Handling a customer complaint").

    A topic belongs to one course, or (with no course) to the organisation's library,
    where every course of the platform can use it.
    """

    __tablename__ = "topics"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The platform (tenant) it belongs to.
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("platform_registrations.id", ondelete="CASCADE"), index=True
    )
    #: The course it belongs to; none for the organisation's library.
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), index=True
    )
    #: What is taught, as learners and mentors read it.
    name: Mapped[str] = mapped_column(String(255))
    #: A sentence or two for mentors.
    description: Mapped[str] = mapped_column(Text, default="")
    #: The activities that teach it.
    activities: Mapped[list[TopicActivity]] = relationship(
        back_populates="topic", cascade="all, delete-orphan", order_by="TopicActivity.id"
    )

    def __repr__(self) -> str:
        return f"<Topic {self.id} {self.name!r}>"


class TopicActivity(Base):
    """An activity (or a pattern of them) that teaches a topic.

    The pattern is an activity IRI as learning events name it (an xAPI object id, which
    for Moodle is the module's URL, e.g. ``https://lms.example.org/mod/page/view.php?id=7``;
    a Canvas module item's URL; a grade book line item's URL), or the same with ``*``
    standing for any run of characters (``https://lms.example.org/mod/quiz/*``).
    """

    __tablename__ = "topic_activities"
    __table_args__ = (UniqueConstraint("topic_id", "pattern"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The topic.
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"))
    #: The activity IRI, or a pattern with ``*``.
    pattern: Mapped[str] = mapped_column(String(2048))
    #: The topic.
    topic: Mapped[Topic] = relationship(back_populates="activities")

    def __repr__(self) -> str:
        return f"<TopicActivity {self.pattern!r} of topic {self.topic_id}>"
