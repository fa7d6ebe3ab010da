"""The email a learner receives: text and HTML parts, the mentor as the sender's name, the
unsubscribe headers mail providers ask for, and a Message-ID that makes a retry the same
message.

Headers chosen and why:

* ``From: "Mentor Name via Virtual Mentor" <VM_SMTP_FROM>``: the mentor's name is what the
  learner recognises; the address is the tool's, whose domain can sign the mail (a mentor's
  own domain would fail DMARC when the tool sends for it).
* ``Reply-To``: ``reply+<signed token>@VM_EMAIL_REPLY_DOMAIN`` when a reply domain is set
  (the token names the delivery, so a reply threads back to the mentor), else
  VM_SMTP_REPLY_TO, else nothing (replies go to the From address).
* ``List-Unsubscribe`` with the https address and ``List-Unsubscribe-Post:
  List-Unsubscribe=One-Click`` (RFC 8058): one click in the mail client stops them.
* ``Message-ID: <vm-delivery-<id>@<from domain>>``: a delivery sent twice (a retry after a
  timeout that had in fact gone through) is one message to the learner's client. A message
  that is not a delivery (a thread reply) has ``<vm-<message key>@…>``.
* ``Auto-Submitted: auto-generated`` (RFC 3834) and ``X-Auto-Response-Suppress``: the
  message is the mentor's words, but released by a schedule rather than sent by hand, and
  saying so keeps vacation autoreplies from flooding the mentor through the reply address.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime
from email.charset import QP, Charset
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import compat32
from email.utils import format_datetime, formataddr
from html import escape

from lti_tool.i18n import _, in_language, kind_word
from lti_tool.mentoring.channels.base import Outgoing

SENDER_SUFFIX = " via Virtual Mentor"
#: Hex digits of the HMAC in a reply address: 80 bits, and the local part stays short
#: (RFC 5321 allows 64 characters) and in one case (some servers lower-case it).
_TOKEN_DIGITS = 20
_REPLY = re.compile(r"^reply\+(\d{1,18})\.([0-9a-f]{20})@", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
#: An address we can put in a header and an envelope as it is (no spaces, brackets, commas).
_ADDRESS = re.compile(r"^[^\s@<>()\[\]\\,;:\"]+@[^\s@<>()\[\]\\,;:\"]+$")
#: UTF-8 bodies as quoted-printable: readable in the source, and what spam filters expect.
_UTF8 = Charset("utf-8")
_UTF8.body_encoding = QP
#: The classic (compat32) API with CRLF: the header-registry API parses every header it is
#: given and costs ~2 ms a message, too slow for a fan-out of thousands.
_POLICY = compat32.clone(linesep="\r\n")
_BUTTON = (
    '<a href="{url}" style="display:inline-block;margin:0 8px 8px 0;padding:10px 18px;'
    "border-radius:6px;background:#1d4ed8;color:#ffffff;text-decoration:none;"
    'font-weight:600">{label}</a>'
)
_DOCUMENT = """<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{subject}</title></head>
<body style="margin:0;padding:16px;font-family:system-ui,sans-serif;line-height:1.5;color:#111827">
<div style="max-width:600px;margin:0 auto">
{body}
<hr style="border:none;border-top:1px solid #e5e7eb">
<p style="font-size:12px;color:#4b5563">{footer}</p>
</div></body></html>
"""


def reply_token(delivery_id: int, secret: str) -> str:
    """The signed part of a reply address for a delivery: ``<id>.<hmac>``."""
    digest = hmac.new(secret.encode(), f"reply:{delivery_id}".encode(), hashlib.sha256)
    return f"{delivery_id}.{digest.hexdigest()[:_TOKEN_DIGITS]}"


def reply_address(delivery_id: int, secret: str, domain: str) -> str:
    """The address a reply to the delivery's email goes to."""
    return f"reply+{reply_token(delivery_id, secret)}@{domain}"


def delivery_of_reply(address: str, secret: str) -> int | None:
    """The delivery a reply address names, if its signature holds; else None."""
    found = _REPLY.match(address.strip())
    if found is None:
        return None
    delivery_id = int(found.group(1))
    expected = reply_token(delivery_id, secret).split(".")[1]
    return delivery_id if hmac.compare_digest(expected, found.group(2).lower()) else None


def one_line(text: str) -> str:
    """Header text on one line: no line breaks can smuggle in another header."""
    return _SPACES.sub(" ", text).strip()


def message_id(delivery_id: int, from_address: str, key: str = "") -> str:
    """The same Message-ID for every send of a delivery (or of the message named ``key``)."""
    domain = from_address.rpartition("@")[2] or "virtual-mentor.invalid"
    return f"<vm-{one_line(key) or f'delivery-{delivery_id}'}@{domain}>"


def valid_address(address: str) -> bool:
    """Whether an email address can go in a header and an envelope as it is."""
    return _ADDRESS.match(address) is not None


def build(outgoing: Outgoing, *, from_address: str, reply_to: str = "", now: datetime) -> bytes:
    """The multipart/alternative email for ``outgoing`` (recipient email checked first with
    ``valid_address``), as bytes with CRLF line ends, in the recipient's language."""
    with in_language(outgoing.recipient.speaks):
        return _build(outgoing, from_address=from_address, reply_to=reply_to, now=now)


def _build(outgoing: Outgoing, *, from_address: str, reply_to: str, now: datetime) -> bytes:
    message = MIMEMultipart("alternative")
    message["From"] = _address(outgoing.mentor.name + SENDER_SUFFIX, from_address)
    message["To"] = _address(outgoing.recipient.name, outgoing.recipient.email or "")
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = _header(outgoing.subject)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(outgoing.delivery_id, from_address, outgoing.message_key)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    if outgoing.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{one_line(outgoing.unsubscribe_url)}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if outgoing.recipient.speaks:
        message["Content-Language"] = one_line(outgoing.recipient.speaks)
    message.attach(_part("plain", text_part(outgoing)))
    message.attach(_part("html", html_part(outgoing)))
    return message.as_bytes(policy=_POLICY)


def _address(name: str, address: str) -> str:
    return formataddr((one_line(name), address), charset=_UTF8)


def _header(text: str) -> str:
    """Header text on one line, encoded (RFC 2047) only where it is not ASCII."""
    line = one_line(text)
    return line if line.isascii() else Header(line, _UTF8).encode()


def _part(subtype: str, text: str) -> MIMENonMultipart:
    part = MIMENonMultipart("text", subtype)
    part.set_payload(text, charset=_UTF8)
    return part


def text_part(outgoing: Outgoing) -> str:
    """The plain-text body: the message, its answers as addresses, the panel, the footer."""
    lines = [plain_body(outgoing), _footer(outgoing)]
    if outgoing.unsubscribe_url:
        lines += [_("Stop these emails: %(url)s", url=outgoing.unsubscribe_url)]
    return "\n".join(lines) + "\n"


def plain_body(outgoing: Outgoing) -> str:
    """The message as plain text with its answers as addresses, the panel and the mentor, in
    the recipient's language."""
    lines = [outgoing.text.strip(), ""]
    with in_language(outgoing.recipient.speaks):
        if outgoing.answer_links:
            lines += [_("Answer in one click:")]
            lines += [f"- {one_line(label)}: {url}" for label, url in outgoing.answer_links]
            lines += [""]
        if outgoing.panel_url:
            lines += [_("Open your mentor panel: %(url)s", url=outgoing.panel_url), ""]
    lines += [f"-- \n{_signature(outgoing)}", ""]
    return "\n".join(lines)


def html_part(outgoing: Outgoing) -> str:
    """The HTML document: ``html_body`` and the footer, escaped."""
    footer = escape(_footer(outgoing))
    if outgoing.unsubscribe_url:
        stop = escape(_("Stop these emails"))
        footer += f' <a href="{escape(outgoing.unsubscribe_url)}">{stop}</a>.'
    return _DOCUMENT.format(
        lang=escape(outgoing.recipient.speaks or "en"), subject=escape(one_line(outgoing.subject)),
        body=html_body(outgoing), footer=footer,
    )  # fmt: skip


def html_body(outgoing: Outgoing) -> str:
    """The engine's sanitised HTML, the answers as buttons, the panel and the mentor, in the
    recipient's language; what is added here is escaped."""
    buttons = "".join(
        _BUTTON.format(url=escape(url), label=escape(one_line(label)))
        for label, url in outgoing.answer_links
    )
    with in_language(outgoing.recipient.speaks):
        label = escape(_("Open your mentor panel"))
    url = escape(outgoing.panel_url)
    panel = f'<p><a href="{url}">{label}</a></p>' if outgoing.panel_url else ""
    signature = escape(_signature(outgoing)).replace("\n", "<br>")
    return (
        f"{outgoing.html}\n{f'<p>{buttons}</p>' if buttons else ''}\n{panel}\n"
        f'<p style="margin-top:24px">{signature}</p>'
    )


def _signature(outgoing: Outgoing) -> str:
    mentor = outgoing.mentor
    return f"{mentor.name}\n{mentor.title}" if mentor.title else mentor.name


def _footer(outgoing: Outgoing) -> str:
    if outgoing.footer:
        return outgoing.footer
    kind, course = kind_word(outgoing.category), outgoing.course_title
    if kind and course:
        return _("You receive %(kind)s messages from your mentor in %(course)s through "
                 "Virtual Mentor.", kind=kind, course=course)  # fmt: skip
    if kind:
        return _("You receive %(kind)s messages from your mentor through Virtual Mentor.",
                 kind=kind)  # fmt: skip
    if course:
        return _("You receive messages from your mentor in %(course)s through Virtual Mentor.",
                 course=course)  # fmt: skip
    return _("You receive messages from your mentor through Virtual Mentor.")
