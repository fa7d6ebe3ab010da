"""Signed one-click answer links for emails: a delivery and an answer, signed with the
app's secret key under a salt of their own, that expire.

The token carries no learner id of its own: the delivery names its learner, and only
someone given the link (its learner, by email) can answer with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from itsdangerous import (
    BadSignature,
    SignatureExpired,
    TimestampSigner,
    URLSafeSerializer,
    URLSafeTimedSerializer,
)

from lti_tool import clock
from lti_tool.errors import AppError
from lti_tool.i18n import _

SALT = "virtual-mentor.mentoring.answer-link"
PREFIX = "/mentoring/a/"
UNSUBSCRIBE_SALT = "virtual-mentor.mentoring.unsubscribe"
UNSUBSCRIBE_PREFIX = "/mentoring/u/"


class LinkTampered(AppError):
    """The link was changed or was never ours."""

    status = 400
    title = "This link does not work"


class LinkExpired(AppError):
    """The link is older than the links last."""

    status = 410
    title = "This link has expired"


class _ClockSigner(TimestampSigner):
    """Timestamps from the tool's clock, so tests and the demo clock can age a link."""

    def get_timestamp(self) -> int:
        """Now, by the tool's clock, in epoch seconds."""
        return int(clock.now().timestamp())


@dataclass(frozen=True)
class Answer:
    """What a link answers."""

    delivery_id: int
    answer: str


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT, signer=_ClockSigner)


def sign(delivery_id: int, answer: str) -> str:
    """A token answering ``answer`` to the delivery."""
    return str(_serializer().dumps([delivery_id, answer]))


def path(delivery_id: int, answer: str) -> str:
    """The link's path on the tool (channels put the tool's address before it)."""
    return PREFIX + sign(delivery_id, answer)


def read(token: str) -> Answer:
    """What the token answers; ``LinkTampered`` or ``LinkExpired`` if it cannot be used."""
    max_age = int(current_app.config["MENTORING_ANSWER_LINK_DAYS"]) * 86400
    try:
        delivery_id, answer = _serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise LinkExpired(
            _(
                "This answer link is too old to use. Open your mentor panel in your course to "
                "answer instead."
            )
        ) from None
    except (BadSignature, ValueError, TypeError):
        raise LinkTampered(
            _(
                "This answer link is incomplete or was changed, so it cannot record an answer. "
                "Use the link exactly as it came in the email, or answer in your mentor panel."
            )
        ) from None
    return Answer(int(delivery_id), str(answer))


def unsubscribe_path(person_id: int) -> str:
    """A learner's link to stop mentor emails (it does not expire: RFC 8058 asks that an
    unsubscribe link keep working)."""
    token = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT).dumps(
        person_id
    )
    return UNSUBSCRIBE_PREFIX + str(token)


def read_unsubscribe(token: str) -> int:
    """The learner an unsubscribe token names; ``LinkTampered`` if it was changed."""
    serializer = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)
    try:
        return int(serializer.loads(token))
    except (BadSignature, ValueError, TypeError):
        raise LinkTampered(
            _(
                "This link to stop emails is incomplete or was changed. Use it exactly as it came "
                "in the email, or turn email off in your mentor panel's preferences."
            )
        ) from None


CALENDAR_SALT = "virtual-mentor.mentoring.calendar"
CALENDAR_PREFIX = "/mentoring/c/"


def calendar_path(delivery_id: int) -> str:
    """The link an email gives to a session invitation's calendar file (it does not expire:
    it only tells the session's time and place to the learner it was sent to)."""
    token = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=CALENDAR_SALT).dumps(
        delivery_id
    )
    return f"{CALENDAR_PREFIX}{token}.ics"


def read_calendar(token: str) -> int:
    """The delivery a calendar token names; ``LinkTampered`` if it was changed."""
    serializer = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=CALENDAR_SALT)
    try:
        return int(serializer.loads(token))
    except (BadSignature, ValueError, TypeError):
        raise LinkTampered(
            _(
                "This calendar link is incomplete or was changed. Use it exactly as it came in the "
                "email, or add the session to your calendar from your mentor panel."
            )
        ) from None
