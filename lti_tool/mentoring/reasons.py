"""The reasons the engine stores (a delivery's, a journey's start and stop, an escalation's)
are written in English by workers and shown in the reader's language.

A stored reason is one of the English templates below with its ``%(name)s`` filled, so
rows written before reasons were translated read the same. ``read`` finds the template a
stored sentence was made from and the values it was filled with; ``i18n.reason`` translates
the template and fills it again. No Flask here: the scheduler that writes them is pure."""

from __future__ import annotations

import re
from functools import cache
from typing import Any


def N_(text: str) -> str:  # noqa: N802 (gettext's name for this, which Babel extracts)
    """``text`` as it is, marked for extraction: English kept in a constant or stored, and
    translated with ``_`` only where it is shown."""
    return text


DELIVERED = N_("Delivered to your mentor panel.")
OPTED_OUT = N_("Not sent: you opted out of %(category)s messages.")
QUIET = N_("Held until %(until)s: quiet hours (%(start)s to %(end)s, %(zone)s).")
CAP_ONE = N_("Held until %(until)s: you get at most %(cap)s message a day.")
CAP = N_("Held until %(until)s: you get at most %(cap)s messages a day.")
AFTER_DAY = N_("Scheduled %(days)s day after the journey began (%(plan)s, step %(step)s).")
AFTER_DAYS = N_("Scheduled %(days)s days after the journey began (%(plan)s, step %(step)s).")
AFTER_MINUTES = N_(
    "Scheduled %(minutes)s minutes after the journey began (%(plan)s, step %(step)s)."
)
STOPPED_ANSWERED = N_("Stopped: you answered “%(answer)s”.")
SKIPPED_ANSWERED = N_("Not sent: the follow-up stopped because you answered “%(answer)s”.")
SENT_BECAUSE = N_("Sent because you answered “%(answer)s” to “%(title)s”.")
ASKED_AGAIN = N_("Asked again because you answered “%(answer)s”.")
STOPPED_BY_RULE = N_("Stopped: the rule “%(rule)s” ended it.")
SKIPPED_BY_RULE = N_("Not sent: the follow-up stopped because the rule “%(rule)s” ended it.")
JOINED = N_("Started by the rule “%(rule)s”: you joined the course on %(at)s UTC.")
DID = N_("Started by the rule “%(rule)s”: you %(verb)s %(activity)s on %(at)s UTC.")
IDLE_SINCE_JOINING = N_("No activity on “%(topic)s” since you joined the course on %(day)s.")
IDLE_SINCE = N_("No activity on “%(topic)s” since %(day)s.")
BROADCAST_BY_MENTOR = N_("Sent to the whole course by your mentor.")
BROADCAST = N_("Sent to the whole course by %(by)s.")
REMINDED = N_("Reminded on %(day)s by %(by)s: you said you are going to “%(title)s”.")
INVITED = N_("Invited to “%(title)s” by %(by)s.")
UNANSWERED_BY_MENTOR = N_(
    "No answer from its mentor for more than %(hours)s hours (waiting since %(since)s)."
)
UNANSWERED = N_(
    "No answer from the course's mentors for more than %(hours)s hours (waiting since %(since)s)."
)
AUTO_REMINDED_GOING = N_(
    "Reminded automatically about %(hours)s h before “%(title)s”: you said you are going."
)
AUTO_REMINDED_MAYBE = N_(
    "Reminded automatically about %(hours)s h before “%(title)s”: you said maybe."
)
STOPPED_NOT_GOING = N_("Stopped: you are no longer going to “%(title)s”.")
SKIPPED_NOT_GOING = N_("Not sent: you are no longer going to “%(title)s”.")
STOPPED_BEGAN = N_("Stopped: “%(title)s” has begun.")
SKIPPED_BEGAN = N_("Not sent: “%(title)s” had begun.")
#: Most specific first: a sentence is read by the first template it fits.
TEMPLATES = (
    DELIVERED, OPTED_OUT, QUIET, CAP_ONE, CAP, AFTER_DAY, AFTER_DAYS, AFTER_MINUTES,
    STOPPED_ANSWERED, SKIPPED_ANSWERED, SENT_BECAUSE, ASKED_AGAIN, STOPPED_BY_RULE,
    SKIPPED_BY_RULE, JOINED, DID,
    IDLE_SINCE_JOINING, IDLE_SINCE, BROADCAST_BY_MENTOR, BROADCAST, REMINDED, INVITED,
    UNANSWERED_BY_MENTOR, UNANSWERED, AUTO_REMINDED_GOING, AUTO_REMINDED_MAYBE,
    STOPPED_NOT_GOING, SKIPPED_NOT_GOING, STOPPED_BEGAN, SKIPPED_BEGAN,
)  # fmt: skip
_FIELD = re.compile(r"%\((\w+)\)s")


def write(template: str, **values: Any) -> str:
    """The English sentence to store: ``template`` (one of ``TEMPLATES``) filled."""
    return template % values


def read(stored: str) -> tuple[str, dict[str, str]] | None:
    """The template ``stored`` was written from and its values; none if it fits none."""
    for template, pattern in _patterns():
        found = pattern.fullmatch(stored)
        if found is not None:
            return template, found.groupdict()
    return None


@cache
def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    """Each template as a pattern that reads its values back out of a stored sentence."""
    found = []
    for template in TEMPLATES:
        parts = _FIELD.split(template)  # text, name, text, name, …, text
        regex = "".join(
            re.escape(part) if index % 2 == 0 else f"(?P<{part}>.+?)"
            for index, part in enumerate(parts)
        )
        found.append((template, re.compile(regex, re.DOTALL)))
    return found
