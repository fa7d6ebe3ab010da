"""The email channel: messages over SMTP, many on one connection, failures in words.

A 4xx reply, a connection that fails or a server that does not answer within
VM_SMTP_TIMEOUT_SECONDS is "try again later"; a 5xx reply about the message or its
recipient (550 no such user) is "failed for good" with the server's words; a learner
without an email address is not reachable by email at all. The password goes only to the
server's AUTH; it is never logged, and smtplib's debug output (which would show it) stays off.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lti_tool import clock
from lti_tool.mentoring.channels import mime
from lti_tool.mentoring.channels.base import Channel, Done, Outgoing, SendResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpSettings:
    """How the tool reaches its SMTP server (VM_SMTP_*, VM_EMAIL_REPLY_DOMAIN)."""

    host: str
    port: int
    from_address: str
    security: str = "starttls"
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 10.0
    reply_to: str = ""
    reply_domain: str = ""
    #: Signs reply addresses (the app's secret key).
    reply_secret: str = field(default="", repr=False)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SmtpSettings:
        """The settings of an app's configuration."""
        return cls(host=config["SMTP_HOST"], port=int(config["SMTP_PORT"]),
                   from_address=config["SMTP_FROM"], security=config["SMTP_SECURITY"],
                   username=config["SMTP_USERNAME"], password=config["SMTP_PASSWORD"],
                   timeout=float(config["SMTP_TIMEOUT_SECONDS"]),
                   reply_to=config["SMTP_REPLY_TO"], reply_domain=config["EMAIL_REPLY_DOMAIN"],
                   reply_secret=config["SECRET_KEY"])  # fmt: skip


class _Unreachable(Exception):
    """The server cannot be used now; every message waiting for it is tried again later."""


@dataclass
class EmailChannel(Channel):
    """Sends each message as one email from "<mentor> via Virtual Mentor"."""

    settings: SmtpSettings
    name: str = "email"
    #: The Date header's time: real time, even when a demo moved the app's clock.
    now: Callable[[], datetime] = clock.SystemClock().now

    def send(self, outgoing: Outgoing) -> SendResult:
        """Send one email on a connection of its own."""
        return self.send_many([outgoing])[0]

    def send_many(
        self, outgoings: Sequence[Outgoing], done: Done | None = None
    ) -> list[SendResult]:
        """Send each email in turn over one connection (opened again once if it drops);
        ``done`` hears each result as soon as the server answered."""
        results: list[SendResult] = []

        def keep(outgoing: Outgoing, result: SendResult) -> None:
            results.append(result)
            if done is not None:
                done(outgoing, result)

        smtp: smtplib.SMTP | None = None
        down = ""  # once the server cannot be reached, the rest of the batch waits too
        try:
            for outgoing in outgoings:
                built = self._build(outgoing)
                if isinstance(built, SendResult) or down:
                    keep(outgoing, built if isinstance(built, SendResult) else
                         SendResult.retry(down))  # fmt: skip
                    continue
                try:
                    smtp = smtp or self._connect()
                except _Unreachable as exc:
                    down = str(exc)
                    keep(outgoing, SendResult.retry(down))
                    continue
                try:
                    result = self._deliver(smtp, outgoing, built)
                except _Unreachable as exc:  # the connection is lost: a new one for the next
                    _close(smtp)
                    smtp = None
                    result = SendResult.retry(str(exc))
                keep(outgoing, result)
        finally:
            _close(smtp)
        return results

    def _build(self, outgoing: Outgoing) -> bytes | SendResult:
        address = outgoing.recipient.email
        if not address:
            return SendResult.unavailable("The learner has no email address.")
        if not mime.valid_address(address):
            return SendResult.failed(
                f"The learner's email address ({address[:80]!r}) is not valid."
            )
        return mime.build(outgoing, from_address=self.settings.from_address,
                          reply_to=self._reply_to(outgoing), now=self.now())  # fmt: skip

    def _reply_to(self, outgoing: Outgoing) -> str:
        settings = self.settings
        if settings.reply_domain and not outgoing.message_key:  # reply addresses name deliveries
            return mime.reply_address(outgoing.delivery_id, settings.reply_secret,
                                      settings.reply_domain)  # fmt: skip
        return settings.reply_to

    def _connect(self) -> smtplib.SMTP:
        """A connection, secured and logged in as the settings say; raises _Unreachable."""
        settings = self.settings
        where = f"{settings.host}:{settings.port}"
        try:
            smtp = _open(settings)
        except (OSError, smtplib.SMTPException) as exc:
            raise _Unreachable(
                f"The SMTP server {where} could not be reached ({_why(exc)})."
            ) from None
        try:
            if settings.username:
                smtp.login(settings.username, settings.password)
        except smtplib.SMTPAuthenticationError:
            _close(smtp)
            raise _Unreachable(
                f"The SMTP server {where} did not accept the username and password "
                "(VM_SMTP_USERNAME, VM_SMTP_PASSWORD)."
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            _close(smtp)
            raise _Unreachable(
                f"The SMTP server {where} refused to log in ({_why(exc)})."
            ) from None
        return smtp

    def _deliver(self, smtp: smtplib.SMTP, outgoing: Outgoing, body: bytes) -> SendResult:
        """Send one message on an open connection; raises _Unreachable if it is lost."""
        to = outgoing.recipient.email or ""
        try:
            smtp.sendmail(self.settings.from_address, [to], body)
        except smtplib.SMTPRecipientsRefused as exc:
            code, words = exc.recipients.get(to, (0, b""))
            return _refused(code, words, f"refused {to}")
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            return _refused(exc.smtp_code, exc.smtp_error, "refused the message")
        except (OSError, smtplib.SMTPException) as exc:
            raise _Unreachable(
                f"The SMTP server {self.settings.host}:{self.settings.port} stopped answering "
                f"({_why(exc)})."
            ) from None
        return SendResult.sent()


def _open(settings: SmtpSettings) -> smtplib.SMTP:
    """Connect (timeout on connecting and every command) and secure as the settings say."""
    context = ssl.create_default_context()
    if settings.security == "ssl":
        return smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                context=context)  # fmt: skip
    smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    if settings.security == "starttls":
        try:
            smtp.starttls(context=context)
        except (OSError, smtplib.SMTPException):
            _close(smtp)
            raise
    return smtp


def _refused(code: int, words: bytes | str, what: str) -> SendResult:
    """A refusal in the server's words: 4xx is for now, 5xx for good."""
    reason = f"The SMTP server {what}: {code} {_text(words)[:300]}"
    return SendResult.retry(reason) if 400 <= code < 500 else SendResult.failed(reason)


def _text(words: bytes | str) -> str:
    """A server's reply text on one line."""
    text = words.decode("utf-8", "replace") if isinstance(words, bytes) else words
    return mime.one_line(text)


def _why(exc: BaseException) -> str:
    """A short, secret-free account of a failure (never the exception's arguments, which can
    echo what was sent)."""
    if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
        return "no answer in time"  # smtplib reports a read's timeout as a disconnection
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "the connection closed"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)[:200]}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return type(exc).__name__


def _close(smtp: smtplib.SMTP | None) -> None:
    """End the session politely if it still answers, else just drop it."""
    if smtp is None:
        return
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()
