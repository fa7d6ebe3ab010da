"""Email as a learner and an administrator meet it: a real SMTP server on 127.0.0.1 receives
the mentor's message with both parts and the unsubscribe headers; refusals and silences
are sorted into "later" and "for good" in the server's words; the password never shows."""

from __future__ import annotations

import base64
import logging
import time
from dataclasses import replace

import pytest

from lti_tool.mentoring.channels import mime
from lti_tool.mentoring.channels.base import Outcome
from lti_tool.mentoring.channels.email import EmailChannel, SmtpSettings
from tests.channels.messages import outgoing
from tests.helpers.smtp import Mailbox, free_port, smtp_server


def test_the_learner_receives_the_mentors_message_with_both_parts_and_one_click_links(
    smtp: SmtpSettings, mailbox: Mailbox
) -> None:
    result = EmailChannel(smtp).send(outgoing())

    assert result.outcome == Outcome.SENT
    [(sender, recipients, _raw)] = mailbox.received
    assert (sender, recipients) == ("mentor@vm.example.org", ["ana@example.edu"])
    [message] = mailbox.messages()
    [sent_by] = message["From"].addresses
    assert (sent_by.display_name, sent_by.addr_spec) == (
        "Maria Souza via Virtual Mentor",
        "mentor@vm.example.org",
    )
    assert message["To"] == "Ana Lima <ana@example.edu>"
    assert message["Subject"] == "Have you applied active listening?"
    assert message["List-Unsubscribe"] == "<https://vm.example.org/u/abc>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"] == "<vm-delivery-7@vm.example.org>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Date"] is not None
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Have you tried active listening with a customer yet?" in text
    assert "- Not yet: https://vm.example.org/a/not-yet?t=1" in text
    assert "Open your mentor panel: https://vm.example.org/panel/?course=9" in text
    assert "Stop these emails: https://vm.example.org/u/abc" in text
    assert "<b>active listening</b>" in html
    assert 'href="https://vm.example.org/a/yes?t=1"' in html
    assert ">Not yet</a>" in html
    assert "Maria Souza<br>Head of training" in html
    assert "check-in messages from your mentor in Customer care" in html


def test_what_the_tool_adds_to_the_html_is_escaped(smtp: SmtpSettings, mailbox: Mailbox) -> None:
    hostile = outgoing(answer_links=(('<img src=x onerror="alert(1)">', 'https://x/"><script>'),),
                       course_title="<script>alert(2)</script>")  # fmt: skip

    EmailChannel(smtp).send(hostile)

    html = mailbox.messages()[0].get_body(("html",)).get_content()
    assert "<script>" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html


def test_a_name_with_a_line_break_cannot_add_a_header(smtp: SmtpSettings, mailbox: Mailbox) -> None:
    sneaky = outgoing(mentor=replace(outgoing().mentor, name="Maria\r\nBcc: all@example.org"),
                      subject="Hi\nBcc: all@example.org")  # fmt: skip

    assert EmailChannel(smtp).send(sneaky).outcome == Outcome.SENT

    [message] = mailbox.messages()
    assert message["Bcc"] is None
    assert mailbox.received[0][1] == ["ana@example.edu"]


def test_a_retry_is_the_same_message_for_the_learners_client(
    smtp: SmtpSettings, mailbox: Mailbox
) -> None:
    channel = EmailChannel(smtp)
    channel.send(outgoing())
    channel.send(outgoing())

    first, second = mailbox.messages()
    assert first["Message-ID"] == second["Message-ID"]
    assert first.get_body(("plain",)).get_content() == second.get_body(("plain",)).get_content()


def test_with_a_reply_domain_a_reply_threads_back_to_the_delivery(
    smtp: SmtpSettings, mailbox: Mailbox
) -> None:
    settings = replace(smtp, reply_domain="replies.vm.example.org")

    EmailChannel(settings).send(outgoing(number=4321))

    reply_to = mailbox.messages()[0]["Reply-To"]
    assert reply_to.startswith("reply+4321.")
    assert reply_to.endswith("@replies.vm.example.org")
    assert mime.delivery_of_reply(reply_to, settings.reply_secret) == 4321
    assert mime.delivery_of_reply(reply_to.upper(), settings.reply_secret) == 4321


@pytest.mark.parametrize(
    "address",
    [
        "reply+4322.0123456789abcdef0123@replies.vm.example.org",  # another delivery's id
        "reply+4321.0000000000000000000@replies.vm.example.org",  # too short
        "reply+4321@replies.vm.example.org",  # no signature
        "maria@acme.example",
    ],
)
def test_a_reply_address_not_signed_by_the_tool_names_no_delivery(address: str) -> None:
    good = mime.reply_address(4321, "s" * 40, "replies.vm.example.org")
    forged = address.replace("0123456789abcdef0123", good.split(".")[1].split("@")[0])

    assert mime.delivery_of_reply(forged, "s" * 40) is None
    assert mime.delivery_of_reply(good, "t" * 40) is None


def test_without_a_reply_domain_replies_go_where_configured(
    smtp: SmtpSettings, mailbox: Mailbox
) -> None:
    EmailChannel(replace(smtp, reply_to="mentors@acme.example")).send(outgoing())
    EmailChannel(smtp).send(outgoing())

    first, second = mailbox.messages()
    assert first["Reply-To"] == "mentors@acme.example"
    assert second["Reply-To"] is None


def test_an_unknown_recipient_fails_for_good_in_the_servers_words(
    smtp: SmtpSettings, mailbox: Mailbox
) -> None:
    mailbox.rcpt_replies["ana@example.edu"] = "550 5.1.1 No such user here"

    result = EmailChannel(smtp).send(outgoing())

    assert result.outcome == Outcome.FAILED
    assert result.reason == ("The SMTP server refused ana@example.edu: 550 5.1.1 No such user here")


def test_a_server_that_says_try_later_is_tried_later(smtp: SmtpSettings, mailbox: Mailbox) -> None:
    mailbox.data_reply = "451 4.3.0 Mailbox temporarily unavailable"

    result = EmailChannel(smtp).send(outgoing())

    assert result.outcome == Outcome.RETRY
    assert "451 4.3.0 Mailbox temporarily unavailable" in result.reason


def test_a_server_that_hangs_is_tried_later_after_the_timeout(
    smtp: SmtpSettings, mailbox: Mailbox
) -> None:
    mailbox.hang = 5.0
    started = time.monotonic()

    results = EmailChannel(replace(smtp, timeout=0.5)).send_many([outgoing(1), outgoing(2)])

    assert time.monotonic() - started < 4.0
    assert [r.outcome for r in results] == [Outcome.RETRY, Outcome.RETRY]
    assert "no answer in time" in results[0].reason


def test_a_server_that_is_down_leaves_every_message_for_later() -> None:
    settings = SmtpSettings(host="127.0.0.1", port=free_port(), from_address="m@vm.example.org",
                            security="none", timeout=1.0)  # fmt: skip

    results = EmailChannel(settings).send_many([outgoing(1), outgoing(2)])

    assert [r.outcome for r in results] == [Outcome.RETRY, Outcome.RETRY]
    assert results[1].reason == (
        f"The SMTP server 127.0.0.1:{settings.port} could not be reached (connection refused)."
    )


def test_a_learner_without_an_email_address_is_not_reachable_by_email(
    smtp: SmtpSettings, mailbox: Mailbox
) -> None:
    no_email = outgoing(recipient=replace(outgoing().recipient, email=None))

    result = EmailChannel(smtp).send(no_email)

    assert result.outcome == Outcome.UNAVAILABLE
    assert result.reason == "The learner has no email address."
    assert mailbox.received == []


def test_a_broken_email_address_fails_for_good(smtp: SmtpSettings) -> None:
    broken = outgoing(recipient=replace(outgoing().recipient, email="ana@@example.edu>"))

    result = EmailChannel(smtp).send(broken)

    assert result.outcome == Outcome.FAILED
    assert "is not valid" in result.reason


def test_a_batch_goes_over_one_connection_and_one_refusal_does_not_stop_it(
    smtp: SmtpSettings, mailbox: Mailbox
) -> None:
    mailbox.rcpt_replies["bob@example.edu"] = "550 5.1.1 No such user"
    bob = replace(outgoing().recipient, email="bob@example.edu")
    batch = [outgoing(1), outgoing(2, recipient=bob), outgoing(3)]

    results = EmailChannel(smtp).send_many(batch)

    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.FAILED, Outcome.SENT]
    assert [m["Message-ID"] for m in mailbox.messages()] == [
        "<vm-delivery-1@vm.example.org>",
        "<vm-delivery-3@vm.example.org>",
    ]


def test_the_password_logs_in_and_never_shows_in_the_logs(
    mailbox: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    password = "smtp-password-that-must-never-show"
    caplog.set_level(logging.DEBUG)
    with smtp_server(mailbox, login=("vm", password)) as (host, port):
        good = SmtpSettings(host=host, port=port, from_address="m@vm.example.org", security="none",
                            username="vm", password=password, timeout=2.0)  # fmt: skip
        sent = EmailChannel(good).send(outgoing())
        refused = EmailChannel(replace(good, password=password + "-wrong")).send(outgoing())

    assert sent.outcome == Outcome.SENT
    assert refused.outcome == Outcome.RETRY
    assert refused.reason == (
        f"The SMTP server {host}:{port} did not accept the username and password "
        "(VM_SMTP_USERNAME, VM_SMTP_PASSWORD)."
    )
    encoded = base64.b64encode(f"\0vm\0{password}".encode()).decode()
    for secret in (password, encoded):
        assert secret not in caplog.text
        assert secret not in refused.reason
    assert password not in repr(good)


def test_names_and_subjects_beyond_ascii_arrive_as_written(
    smtp: SmtpSettings, mailbox: Mailbox
) -> None:
    message = outgoing(mentor=replace(outgoing().mentor, name='María Souza, "Head"'),
                       subject="Você já aplicou a escuta ativa? ✓",
                       text="Olá Ana — já experimentou?")  # fmt: skip

    EmailChannel(smtp).send(message)

    [received] = mailbox.messages()
    assert received["From"].addresses[0].display_name == 'María Souza, "Head" via Virtual Mentor'
    assert received["Subject"] == "Você já aplicou a escuta ativa? ✓"
    assert "Olá Ana — já experimentou?" in received.get_body(("plain",)).get_content()
