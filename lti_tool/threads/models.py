"""A learner's question thread with their mentor (or the course's mentors), and its posts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool import clock
from lti_tool.columns import BigId, enum_column
from lti_tool.database import Base, UTCDateTime
from lti_tool.mentoring.channels.models import CopyStatus


class ThreadStatus(StrEnum):
    """Where a thread stands."""

    WAITING = "waiting"  # the learner spoke last: a mentor owes an answer
    ANSWERED = "answered"  # a mentor replied (or marked it answered)
    CLOSED = "closed"  # done; a new post opens it again


class AuthorRole(StrEnum):
    """Which side of the thread a post comes from."""

    LEARNER = "learner"
    MENTOR = "mentor"  # a mentor, or an instructor or administrator of the course


class Thread(Base):
    """A question a learner asked in a course, and the conversation that follows."""

    __tablename__ = "threads"
    __table_args__ = (
        # The escalation sweep reads exactly these: waiting and not yet escalated.
        Index(
            "ix_threads_escalation_due", "last_learner_post_at",
            postgresql_where=text("status = 'waiting' AND escalated_at IS NULL"),
            sqlite_where=text("status = 'waiting' AND escalated_at IS NULL"),
        ),
    )  # fmt: skip

    #: Surrogate key.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The course it was asked in; scopes who may read it.
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    #: The learner who asked; only they (and the course's staff) may read it.
    learner_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    #: The mentor it is addressed to; empty: any of the course's mentors.
    mentor_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    #: A short subject: the question's first line.
    subject: Mapped[str] = mapped_column(String(200))
    #: Waiting (for a mentor), answered or closed.
    status: Mapped[ThreadStatus] = mapped_column(
        enum_column(ThreadStatus, "thread_status"), default=ThreadStatus.WAITING
    )
    #: When the question was asked.
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    #: When the learner last wrote; a waiting thread ages from here.
    last_learner_post_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    #: When a mentor last answered; empty until then.
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When a mentor replied and the learner has not read it yet (the panel shows it).
    learner_unread_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When it was escalated for waiting too long (once per thread); empty if never.
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The people it was escalated to (person ids: the course's instructors, other mentors).
    escalated_to: Mapped[list[int]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    #: Why it was escalated, in words.
    escalation_reason: Mapped[str] = mapped_column(Text, default="", server_default="")

    posts: Mapped[list[Post]] = relationship(
        back_populates="thread", order_by="Post.id", cascade="all, delete-orphan",
        passive_deletes=True,
    )  # fmt: skip

    def __repr__(self) -> str:
        return f"<Thread {self.id} of learner {self.learner_id} ({self.status})>"


class Post(Base):
    """One message in a thread."""

    __tablename__ = "thread_posts"

    #: Surrogate key; posts of a thread read in id order.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The thread.
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), index=True)
    #: Who wrote it.
    author_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    #: The learner's side or the mentors'.
    author_role: Mapped[AuthorRole] = mapped_column(enum_column(AuthorRole, "post_author_role"))
    #: What they wrote, as typed (plain text; escaped when shown).
    body: Mapped[str] = mapped_column(Text)
    #: When it was written.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    thread: Mapped[Thread] = relationship(back_populates="posts")

    def __repr__(self) -> str:
        return f"<Post {self.id} in thread {self.thread_id}>"


class ThreadEmailKind(StrEnum):
    """What a thread email is about."""

    REPLY = "reply"  # a mentor's reply, to the learner
    ESCALATION = "escalation"  # a question that waited too long, to one of the staff


class ThreadEmail(Base):
    """One email about a question thread, to go or gone: the rows are the emails' queue,
    written in the transaction of the reply or the escalation, so a lost task, a dead worker
    or a broker that was down at the commit delays an email, never loses it (the channel
    copies' queue, ``lti_tool.mentoring.copies``, with its claim, lease and sweep)."""

    __tablename__ = "thread_emails"
    __table_args__ = (
        # The sweep's queue: only what still waits, by when it is due.
        Index(
            "ix_thread_emails_due", "next_attempt_at",
            postgresql_where=text("status = 'waiting'"), sqlite_where=text("status = 'waiting'"),
        ),
    )  # fmt: skip

    #: Surrogate key; the tasks name emails by it.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The thread it is about.
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), index=True)
    #: The mentor's reply it carries (a reply email); empty for an escalation.
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("thread_posts.id", ondelete="CASCADE"), index=True
    )
    #: Who it goes to.
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    #: A reply or an escalation.
    kind: Mapped[ThreadEmailKind] = mapped_column(enum_column(ThreadEmailKind, "thread_email_kind"))
    #: Its Message-ID's own part ("thread-post-7", "thread-3-escalated-12"): one email each.
    message_key: Mapped[str] = mapped_column(String(100), unique=True)
    #: Waiting, sent, failed or unavailable (they turned email off, or no server is set up).
    status: Mapped[CopyStatus] = mapped_column(
        enum_column(CopyStatus, "thread_email_status"), default=CopyStatus.WAITING
    )
    #: Tries so far (a claim counts one).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: When it may be claimed: due at once, then after a claim's lease or a retry's wait.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    #: When the SMTP server took it.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The server's last words about it (why it waits, failed or cannot go).
    reason: Mapped[str] = mapped_column(Text, default="")

    def __repr__(self) -> str:
        return f"<ThreadEmail {self.id} {self.kind} of thread {self.thread_id} ({self.status})>"
