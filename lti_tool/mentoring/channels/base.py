"""What every channel shares: the message it is handed, what it answers, the protocol a
channel follows, the registry the dispatcher finds channels in, and the retry policy.

A channel takes a message the engine has already rendered (``Outgoing``) and sends it; it
never reads deliveries or journeys. Its answer (``SendResult``) says, in words, whether the
message went, should be tried again later (and after how long, where the other side said),
failed for good, or cannot go this way at all for this learner.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from xapi.lrs import backoff


@dataclass(frozen=True)
class Recipient:
    """The learner a message is for, with what each channel needs to reach them."""

    #: ``people.id``.
    person_id: int
    #: The name to greet and address them by.
    name: str
    #: Their email address, if the platform shared it.
    email: str | None = None
    #: The platform's user id (LTI ``sub``): Moodle's own user id.
    subject: str = ""
    #: The LMS's own user id where it differs from ``sub`` (Canvas's numeric id).
    lms_user_id: str | None = None
    #: IANA time zone, if known.
    time_zone: str | None = None
    #: Preferred language (BCP 47), if known.
    locale: str | None = None
    #: The language written to them (their chosen one, else their locale's); none: their
    #: locale's if the tool speaks it, else English.
    language: str | None = None

    @property
    def speaks(self) -> str | None:
        """The language code or locale emails to them are written in."""
        return self.language or self.locale


@dataclass(frozen=True)
class Mentor:
    """Who the message is from, as learners know them."""

    name: str
    email: str | None = None
    title: str = ""


@dataclass(frozen=True)
class Outgoing:
    """One rendered message for one learner, as the engine hands it to a channel.

    ``html`` is already sanitised by the engine; channels escape everything they add.
    """

    #: The delivery's id: the same delivery is the same message however often it is sent.
    delivery_id: int
    #: The platform registration (tenant) of the learner and course.
    registration_id: int
    recipient: Recipient
    mentor: Mentor
    subject: str
    text: str
    html: str
    #: (label, url) of each one-click answer, signed by the engine.
    answer_links: tuple[tuple[str, str], ...] = ()
    #: The mentor panel in the course.
    panel_url: str = ""
    #: Where the learner stops these messages (one click; POST answers RFC 8058).
    unsubscribe_url: str = ""
    #: The message's kind (welcome, tip, question, …), for the learner and for filters.
    category: str = ""
    #: The course's title.
    course_title: str = ""
    #: For a message that is not a delivery (a thread reply, an escalation): its own stable
    #: name, ``thread-post-12``; the Message-ID uses it instead of ``delivery-<id>``, so the
    #: two can never collide, and no reply address names a delivery.
    message_key: str = ""
    #: The footer, where the default ("You receive … from your mentor") is not true.
    footer: str = ""


class Outcome(StrEnum):
    """What became of one send."""

    SENT = "sent"
    RETRY = "retry"  # failed for now; try again later
    FAILED = "failed"  # failed for good; trying again would fail the same way
    UNAVAILABLE = "unavailable"  # this channel cannot reach this learner; not a failure


@dataclass(frozen=True)
class SendResult:
    """A channel's answer: the outcome, the reason in words, and a wait the other side asked for."""

    outcome: Outcome
    reason: str = ""
    #: Seconds the other side asked to wait (Retry-After), for ``Outcome.RETRY``.
    retry_after: float | None = None

    @classmethod
    def sent(cls) -> SendResult:
        """The message went."""
        return cls(Outcome.SENT)

    @classmethod
    def retry(cls, reason: str, after: float | None = None) -> SendResult:
        """The message did not go this time; it may later."""
        return cls(Outcome.RETRY, reason, after)

    @classmethod
    def failed(cls, reason: str) -> SendResult:
        """The message cannot go, now or later."""
        return cls(Outcome.FAILED, reason)

    @classmethod
    def unavailable(cls, reason: str) -> SendResult:
        """This channel does not reach this learner (no address, no LMS connection)."""
        return cls(Outcome.UNAVAILABLE, reason)


#: Told each message's result as soon as the channel knows it.
Done = Callable[[Outgoing, SendResult], None]


class Channel(Protocol):
    """A way to send a message besides the panel: email, LMS message, webhook."""

    #: The channel's name in the registry and in deliveries ("email", "lms", "webhook").
    name: str

    def send(self, outgoing: Outgoing) -> SendResult:
        """Send one message; never raises for a failure of the other side."""
        ...

    def send_many(
        self, outgoings: Sequence[Outgoing], done: Done | None = None
    ) -> list[SendResult]:
        """Send several, one result each in order (email reuses one connection); ``done`` is
        told each result as soon as it is known (the sender records it at once)."""
        results = []
        for outgoing in outgoings:
            results.append(self.send(outgoing))
            if done is not None:
                done(outgoing, results[-1])
        return results


@dataclass
class ChannelRegistry:
    """The channels the dispatcher may send through, by name."""

    _channels: dict[str, Channel] = field(default_factory=dict)

    def register(self, channel: Channel) -> None:
        """Add a channel; a second one of the same name is a bug."""
        if channel.name in self._channels:
            raise ValueError(f"A channel named {channel.name!r} is registered already.")
        self._channels[channel.name] = channel

    def get(self, name: str) -> Channel | None:
        """The channel of that name, if there is one."""
        return self._channels.get(name)

    def names(self) -> list[str]:
        """The registered channels' names, in the order they were registered."""
        return list(self._channels)

    def __iter__(self) -> Iterator[Channel]:
        return iter(self._channels.values())


@dataclass(frozen=True)
class RetryPolicy:
    """When a delivery that failed for now is tried again, and when it is given up on."""

    first_seconds: float = 60.0
    max_seconds: float = 6 * 3600.0
    max_attempts: int = 8
    #: The share of each wait taken off at random, so retries do not come back together.
    jitter: float = 0.5

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RetryPolicy:
        """The policy of an app's configuration (VM_CHANNELS_*)."""
        return cls(first_seconds=float(config["CHANNELS_RETRY_FIRST_SECONDS"]),
                   max_seconds=float(config["CHANNELS_RETRY_MAX_SECONDS"]),
                   max_attempts=int(config["CHANNELS_MAX_ATTEMPTS"]))  # fmt: skip

    def next_wait(self, attempts: int, result: SendResult) -> float | None:
        """Seconds before the next try after ``attempts`` tries, the last ending in
        ``result``; None when there is no next try (sent, failed for good, or out of tries)."""
        if result.outcome != Outcome.RETRY or attempts >= self.max_attempts:
            return None
        return backoff(attempts - 1, result.retry_after, first=self.first_seconds,
                       most=self.max_seconds, jitter=self.jitter)  # fmt: skip
