"""Messages the channel tests send, as the engine would hand them over."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from lti_tool.mentoring.channels.base import Mentor, Outgoing, Recipient


def outgoing(number: int = 7, **changes: Any) -> Outgoing:
    """Delivery ``number``: a question from Maria to Ana, with two answer links."""
    message = Outgoing(
        delivery_id=number,
        registration_id=1,
        recipient=Recipient(person_id=3, name="Ana Lima", email="ana@example.edu", subject="3",
                            lms_user_id="501", time_zone="Europe/Lisbon", locale="pt-PT"),
        mentor=Mentor(name="Maria Souza", email="maria@acme.example", title="Head of training"),
        subject="Have you applied active listening?",
        text="Hello Ana,\n\nHave you tried active listening with a customer yet?",
        html="<p>Hello Ana,</p><p>Have you tried <b>active listening</b> with a customer yet?</p>",
        answer_links=(("Yes", "https://vm.example.org/a/yes?t=1"),
                      ("Not yet", "https://vm.example.org/a/not-yet?t=1")),
        panel_url="https://vm.example.org/panel/?course=9",
        unsubscribe_url="https://vm.example.org/u/abc",
        category="check-in",
        course_title="Customer care",
    )  # fmt: skip
    return replace(message, **changes)
