"""The LMS message channel: the mentor's message as a Moodle or Canvas message, through the
registration's LMS connection (``lti_tool.lms``: its address checks, token, HTTP client).

Moodle: ``core_message_send_instant_messages`` to the learner's Moodle user id (the LTI
``sub``), HTML (``textformat=1``); the token's web service must include the function and
its user must be allowed to message learners. Canvas: ``POST /api/v1/conversations`` to
the learner's Canvas user id (``people.lms_user_id``, learned by the completion reader),
plain text, a new private conversation each time. Either way the message comes from the
token's user, so it is signed with the mentor's name.

A platform without a connection, or a learner whose LMS id is not known, is not reachable
this way ("unavailable", not a failure). Neither LMS takes an idempotency key: a message
whose answer was lost (a timeout) may arrive twice when tried again.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from sqlalchemy.orm import Session

from lti_tool.lms.connections import active_for
from lti_tool.lms.http import LmsError, LmsHttp, LmsRefused
from lti_tool.lms.models import LmsConnection, LmsKind
from lti_tool.lms.moodle import MoodleClient, MoodleError
from lti_tool.lms.services import ReadSettings, connection_http, connection_token
from lti_tool.mentoring.channels import mime
from lti_tool.mentoring.channels.base import Channel, Outgoing, SendResult

SEND_MOODLE = "core_message_send_instant_messages"
CONVERSATIONS = "/api/v1/conversations"
#: Moodle refusals an administrator fixes (token, service, capability): worth trying again.
_MOODLE_SETUP = {"invalidtoken", "accessexception", "nopermissions", "servicenotavailable"}


@dataclass(frozen=True)
class _Connection:
    kind: LmsKind
    http: LmsHttp
    token: str


@dataclass
class LmsChannel(Channel):
    """Sends each message as an LMS message where the learner's platform has a connection.

    ``send`` reads the connection with ``session`` and commits it before calling the LMS
    (no transaction is held across a network call): call it with nothing pending.
    """

    session: Session
    settings: ReadSettings
    name: str = "lms"

    def send(self, outgoing: Outgoing) -> SendResult:
        """Send one message through the learner's platform's LMS."""
        connection = active_for(self.session, outgoing.registration_id)
        self.session.commit()
        if connection is None:
            return SendResult.unavailable(
                "The learner's platform has no LMS connection "
                "(flask --app wsgi lms add-connection)."
            )
        try:
            opened = self._open(connection)
        except LmsError as exc:
            return SendResult.failed(str(exc))
        try:
            if opened.kind == LmsKind.MOODLE:
                return _send_moodle(MoodleClient(opened.http, opened.token), outgoing)
            return _send_canvas(opened.http, outgoing)
        except LmsError as exc:
            return _refusal(exc)
        finally:
            opened.http.close()

    def _open(self, connection: LmsConnection) -> _Connection:
        token = connection_token(connection, self.settings)
        return _Connection(connection.kind, connection_http(connection, token, self.settings),
                           token)  # fmt: skip


def _refusal(exc: LmsError) -> SendResult:
    """An LMS's refusal: later if an administrator can fix it or it may pass, else for good."""
    if isinstance(exc, MoodleError):
        later = exc.errorcode in _MOODLE_SETUP
    elif isinstance(exc, LmsRefused):
        later = exc.status in (401, 403)  # the token: an administrator can fix it
    else:
        later = True  # unreachable, timeout, still busy after its short retries
    return SendResult.retry(str(exc)) if later else SendResult.failed(str(exc))


def _send_moodle(client: MoodleClient, outgoing: Outgoing) -> SendResult:
    user = outgoing.recipient.subject
    if not user.isdigit():
        return SendResult.unavailable("The learner's Moodle user id is not known.")
    subject = escape(mime.one_line(outgoing.subject))
    text = f"<p><strong>{subject}</strong></p>\n{mime.html_body(outgoing)}"
    message = {"touserid": int(user), "text": text, "textformat": 1,
               "clientmsgid": f"delivery-{outgoing.delivery_id}"}  # fmt: skip
    answer: Any = client.call(SEND_MOODLE, messages=[message])
    first = answer[0] if isinstance(answer, list) and answer else {}
    if not isinstance(first, dict) or "msgid" not in first:
        return SendResult.retry(f"Moodle's answer to {SEND_MOODLE} is not what it sends.")
    if int(first["msgid"]) == -1:
        words = mime.one_line(str(first.get("errormessage") or "no reason given"))[:300]
        return SendResult.failed(f"Moodle did not send the message: {words}")
    return SendResult.sent()


def _send_canvas(http: LmsHttp, outgoing: Outgoing) -> SendResult:
    user = outgoing.recipient.lms_user_id
    if not user:
        return SendResult.unavailable(
            "The learner's Canvas user id is not known yet (the completion reader learns it)."
        )
    http.post(http.base_url + CONVERSATIONS, {
        "recipients[]": [user], "subject": mime.one_line(outgoing.subject)[:255],
        "body": mime.plain_body(outgoing), "force_new": "true", "group_conversation": "false",
    })  # fmt: skip
    return SendResult.sent()
