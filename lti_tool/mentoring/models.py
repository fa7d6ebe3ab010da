"""The mentoring engine's data: messages, sequences and their steps, trigger rules, journeys,
deliveries, responses and each learner's preferences."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy import UniqueConstraint as Unique
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool import clock
from lti_tool.columns import BigId, Timestamps, enum_column
from lti_tool.database import Base, UTCDateTime

_REG = "platform_registrations.id"


class MessageKind(StrEnum):
    """What a message is; learners can opt out of a kind (its category)."""

    WELCOME = "welcome"
    TIP = "tip"
    QUESTION = "question"
    SURVEY = "survey"
    RESOURCE = "resource"
    SESSION = "session"
    ANNOUNCEMENT = "announcement"


class Message(Timestamps, Base):
    """What a mentor says: a markdown body with variables, and what its kind needs."""

    __tablename__ = "mentoring_messages"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The platform (tenant) it belongs to.
    registration_id: Mapped[int] = mapped_column(ForeignKey(_REG, ondelete="CASCADE"), index=True)
    #: Its kind, which is also the category a learner may opt out of.
    kind: Mapped[MessageKind] = mapped_column(enum_column(MessageKind, "mentoring_message_kind"))
    #: The topic it is about, if any.
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id", ondelete="SET NULL"))
    #: A short heading.
    title: Mapped[str] = mapped_column(String(255))
    #: Markdown with ``{first_name}``, ``{topic}``, ``{mentor}``; sanitised when rendered.
    body: Mapped[str] = mapped_column(Text, default="")
    #: A question's or survey's answers: ``[{"key": "yes", "label": "Yes"}, …]``.
    choices: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    #: What the kind needs besides: a resource's url and type, a session's time and place.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Sequence(Timestamps, Base):
    """A follow-up plan: steps at offsets from the journey's start, with branches."""

    __tablename__ = "mentoring_sequences"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The platform (tenant) it belongs to.
    registration_id: Mapped[int] = mapped_column(ForeignKey(_REG, ondelete="CASCADE"), index=True)
    #: The course it belongs to; none: any course of the platform.
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    #: The topic it follows up, if any (the ``{topic}`` variable).
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id", ondelete="SET NULL"))
    #: As mentors read it.
    name: Mapped[str] = mapped_column(String(255))
    #: What it is for: a follow-up ``plan`` (the console's Plans page lists these), or a
    #: ``session`` invitation or ``reminder`` made from the Sessions page (listed there).
    purpose: Mapped[str] = mapped_column(String(16), default="plan", server_default="plan")


class Step(Base):
    """One message of a sequence, at an offset from the journey's start, or only on a branch."""

    __tablename__ = "mentoring_steps"
    __table_args__ = (Unique("sequence_id", "key"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The sequence.
    sequence_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_sequences.id", ondelete="CASCADE"), index=True
    )
    #: Its name in the sequence, which branches refer to (``"tip"``, ``"resource"``).
    key: Mapped[str] = mapped_column(String(64))
    #: The message sent.
    message_id: Mapped[int] = mapped_column(ForeignKey("mentoring_messages.id"))
    #: Seconds after the journey starts; empty: sent only when a branch says so.
    offset_seconds: Mapped[int | None] = mapped_column(Integer)
    #: Per answer key, what happens: ``[{"do": "send", "step": "resource"},
    #: {"do": "repeat", "after_seconds": 604800}, {"do": "escalate"}, {"do": "stop"}]``.
    branches: Mapped[dict[str, list[dict[str, Any]]]] = mapped_column(JSON, default=dict)


class TriggerKind(StrEnum):
    """What starts a journey."""

    EVENT = "event"  # a learning event matching the rule's pattern
    JOINED = "joined"  # first launch or roster join
    INACTIVE = "inactive"  # no activity on the topic for N days
    BROADCAST = "broadcast"  # a mentor's broadcast to a course


class RuleAction(StrEnum):
    """What a matching rule does to its sequence's journey."""

    START = "start"
    STOP = "stop"  # e.g. the course completed


class TriggerRule(Timestamps, Base):
    """When to start (or stop) a sequence's journey; acts on events after it was switched on."""

    __tablename__ = "mentoring_rules"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The platform (tenant) it belongs to.
    registration_id: Mapped[int] = mapped_column(ForeignKey(_REG, ondelete="CASCADE"), index=True)
    #: Only events of this course; none: any course of the platform.
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    #: The sequence it starts or stops.
    sequence_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_sequences.id", ondelete="CASCADE"), index=True
    )
    #: As mentors read it.
    name: Mapped[str] = mapped_column(String(255), default="")
    #: What triggers it.
    kind: Mapped[TriggerKind] = mapped_column(enum_column(TriggerKind, "mentoring_trigger_kind"))
    #: Start or stop the journey.
    action: Mapped[RuleAction] = mapped_column(
        enum_column(RuleAction, "mentoring_rule_action"), default=RuleAction.START
    )
    #: The event's verb IRI; none: any verb.
    verb: Mapped[str | None] = mapped_column(String(2048))
    #: The event's topic; none: any (or the activity below).
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"))
    #: The event's exact activity IRI; none: any.
    activity_id: Mapped[str | None] = mapped_column(String(2048))
    #: Required ``result.completion``; none: either.
    completion: Mapped[bool | None] = mapped_column(Boolean)
    #: Required ``result.success``; none: either.
    success: Mapped[bool | None] = mapped_column(Boolean)
    #: Lowest scaled score (0..1) that matches; none: any.
    score_min: Mapped[float | None] = mapped_column(Float)
    #: For inactivity rules: days without activity on the topic.
    inactive_days: Mapped[int | None] = mapped_column(Integer)
    #: When it was switched on; it acts on events from then on. None: never switched on.
    switched_on_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When it was switched off; none while on.
    switched_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class JourneyStatus(StrEnum):
    """Where a learner's journey through a sequence stands."""

    ACTIVE = "active"
    STOPPED = "stopped"


class Journey(Base):
    """One learner's way through one sequence in one course; at most one each."""

    __tablename__ = "mentoring_journeys"
    __table_args__ = (Unique("sequence_id", "course_id", "person_id"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The sequence.
    sequence_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_sequences.id", ondelete="CASCADE")
    )
    #: The course it happens in.
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    #: The learner.
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    #: The rule that started it; none: started by hand.
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("mentoring_rules.id", ondelete="SET NULL")
    )
    #: The learning event that started it, if one did.
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("learning_events.id", ondelete="SET NULL")
    )
    #: Active or stopped.
    status: Mapped[JourneyStatus] = mapped_column(
        enum_column(JourneyStatus, "mentoring_journey_status"), default=JourneyStatus.ACTIVE
    )
    #: Why it started, in words (the learner's timeline shows it).
    start_reason: Mapped[str] = mapped_column(Text, default="")
    #: When it started; step offsets count from here.
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    #: When it stopped; none while active.
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Why it stopped, in words.
    stop_reason: Mapped[str] = mapped_column(Text, default="")


class DeliveryStatus(StrEnum):
    """Where a delivery stands: scheduled until due, then one of the others."""

    SCHEDULED = "scheduled"
    HELD = "held"  # kept back for now (quiet hours, cap): due again later, reason says why
    DELIVERED = "delivered"
    SKIPPED = "skipped"  # never sent (opted out, journey stopped), reason says why
    FAILED = "failed"


class Delivery(Base):
    """One step of one journey for one learner, once per round, with its due time."""

    __tablename__ = "mentoring_deliveries"
    __table_args__ = (
        Unique("journey_id", "step_id", "round"),
        # The dispatcher's queue: only what is waiting, by due time.
        Index(
            "ix_mentoring_deliveries_due", "due_at",
            postgresql_where=text("status IN ('scheduled', 'held')"),
            sqlite_where=text("status IN ('scheduled', 'held')"),
        ),
        # A learner's feed and today's count for the cap.
        Index("ix_mentoring_deliveries_feed", "person_id", "course_id", "delivered_at"),
    )  # fmt: skip

    #: Surrogate key.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The journey.
    journey_id: Mapped[int] = mapped_column(ForeignKey("mentoring_journeys.id", ondelete="CASCADE"))
    #: The step.
    step_id: Mapped[int] = mapped_column(ForeignKey("mentoring_steps.id", ondelete="CASCADE"))
    #: 0 the first time; a step asked again ("not yet") gets the next round.
    round: Mapped[int] = mapped_column(Integer, default=0)
    #: The learner (as the journey's; kept here for the feed).
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    #: The course (as the journey's; kept here for the feed).
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    #: The message (as the step's).
    message_id: Mapped[int] = mapped_column(ForeignKey("mentoring_messages.id"))
    #: Scheduled, held, delivered, skipped or failed.
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus, "mentoring_delivery_status"), default=DeliveryStatus.SCHEDULED
    )
    #: Why it was scheduled, held, skipped or failed, in words (the timeline shows it).
    reason: Mapped[str] = mapped_column(Text, default="")
    #: When it is due (moved later when held).
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When it reached the panel.
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the learner first saw it in the panel.
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The mentor it was sent as (``mentors.services.mentor_for`` when delivered).
    mentor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))


class Response(Base):
    """A learner's answer to a delivered question or survey; one per delivery."""

    __tablename__ = "mentoring_responses"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: What was answered.
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_deliveries.id", ondelete="CASCADE"), unique=True
    )
    #: The answer's key (``yes``, ``not_yet``, ``help``).
    answer: Mapped[str] = mapped_column(String(64))
    #: What the learner wrote besides, if anything.
    text: Mapped[str] = mapped_column(Text, default="")
    #: Where they answered: ``panel`` or ``link`` (a signed link in an email).
    via: Mapped[str] = mapped_column(String(16))
    #: Whether it asked for the human mentor (escalated).
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    #: When.
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    #: A survey's answers by item key: a Likert point (a number), a choice's key or a text.
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class LearnerPreference(Timestamps, Base):
    """How a learner wants to be followed up; absent: the tool's defaults."""

    __tablename__ = "mentoring_preferences"

    #: The learner.
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    #: IANA time zone for quiet hours; none: the person's, else UTC.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    #: Quiet hours start, ``HH:MM`` local; none: the default.
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    #: Quiet hours end, ``HH:MM`` local; none: the default.
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    #: Message kinds they opted out of (``tip``, ``survey``…).
    opted_out: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Most messages a day; none: the default.
    daily_cap: Mapped[int | None] = mapped_column(Integer)
    #: Whether copies go by email too (the panel always has them).
    email: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The language they read the tool in (``preferences.LANGUAGES``); none: the launch's.
    locale: Mapped[str | None] = mapped_column(String(16))


class RsvpAnswer(StrEnum):
    """A learner's answer to a session invitation, as stored."""

    GOING = "going"
    MAYBE = "maybe"
    NOT_GOING = "not_going"
    #: Asked to go while the session was full: next in line for a place.
    WAITLISTED = "waitlisted"


class Rsvp(Timestamps, Base):
    """A learner's answer to a session (webinar, office hours, visit, 1:1) and whether they
    came; one per session message and learner, changed when they change their mind."""

    __tablename__ = "mentoring_rsvps"
    __table_args__ = (Unique("message_id", "person_id"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The session (a message of kind ``session``).
    message_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_messages.id", ondelete="CASCADE"), index=True
    )
    #: The learner.
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    #: The course they were invited in.
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    #: The invitation they answered, if they answered one (a walk-in has none).
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("mentoring_deliveries.id", ondelete="SET NULL")
    )
    #: Their answer; none: they came without answering.
    answer: Mapped[RsvpAnswer | None] = mapped_column(
        enum_column(RsvpAnswer, "mentoring_rsvp_answer")
    )
    #: When they gave it (a waiting list is served in this order).
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When a mentor recorded them as present.
    attended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
