"""One-click links from emails: answers and unsubscribing. GET asks to confirm (mail
scanners fetch links, so nothing changes on GET); POST does it (an answer once; RFC 8058's
one-click unsubscribe POSTs ``List-Unsubscribe=One-Click`` to the same address)."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask.typing import ResponseReturnValue

from lti_tool.courses.models import Person
from lti_tool.extensions import db
from lti_tool.i18n import _
from lti_tool.mentoring import answers, feed, links, meetings, preferences
from lti_tool.mentoring.models import MessageKind

bp = Blueprint("mentoring", __name__, url_prefix="/mentoring")


@bp.get("/a/<token>")
def confirm_answer(token: str) -> ResponseReturnValue:
    """Show what the link answers, with a button that records it."""
    link = links.read(token)
    item = feed.items(db.session(), [link.delivery_id]).get(link.delivery_id)
    if item is None:
        raise links.LinkTampered(_("This answer link names a message that does not exist."))
    label = next((c.get("label") for c in item.choices if c.get("key") == link.answer), None)
    if item.kind == MessageKind.SESSION:  # the tool's own words, in the reader's language
        label = meetings.rsvp_label(link.answer) or label
    return render_template("mentoring/answer.html", item=item, token=token,
                           label=label or link.answer, recorded=False)  # fmt: skip


@bp.post("/a/<token>")
def record_answer(token: str) -> ResponseReturnValue:
    """Record the link's answer (once; a session's RSVP may change); show what is recorded."""
    link = links.read(token)
    session = db.session()
    item = feed.items(session, [link.delivery_id]).get(link.delivery_id)
    if item is not None and item.kind == MessageKind.SESSION:
        standing = meetings.rsvp(session, link.delivery_id, link.answer, via="link")
        session.commit()
        return render_template("mentoring/answer.html", item=item, token=token,
                               label=standing.label, recorded=True, rsvp=standing)  # fmt: skip
    recorded = answers.record(session, link.delivery_id, link.answer, via="link")
    session.commit()
    item = feed.items(session, [link.delivery_id])[link.delivery_id]
    return render_template("mentoring/answer.html", item=item, token=token,
                           label=item.answer_label, recorded=True, new=recorded.new)  # fmt: skip


@bp.get("/c/<token>.ics")
def calendar(token: str) -> Response:
    """A session invitation's calendar file, from the link in its email."""
    delivery_id = links.read_calendar(token)
    item = feed.items(db.session(), [delivery_id]).get(delivery_id)
    if item is None or item.kind != MessageKind.SESSION:
        raise links.LinkTampered(_("This calendar link names no session the tool knows."))
    return calendar_file(item)


def calendar_file(item: feed.FeedItem) -> Response:
    """A session's .ics as a download (the panel's link and the email's)."""
    body = meetings.calendar(item, host=request.host.split(":")[0])
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": f'attachment; filename="session-{item.message_id}.ics"',
    })  # fmt: skip


@bp.get("/u/<token>")
def confirm_unsubscribe(token: str) -> ResponseReturnValue:
    """Ask the learner to confirm they want no more mentor emails."""
    links.read_unsubscribe(token)
    return render_template("mentoring/unsubscribe.html", token=token, done=False)


@bp.post("/u/<token>")
def unsubscribe(token: str) -> ResponseReturnValue:
    """Turn the learner's mentor emails off (their panel keeps every message)."""
    person_id = links.read_unsubscribe(token)
    session = db.session()
    if session.get(Person, person_id) is None:
        raise links.LinkTampered(_("This link to stop emails names nobody the tool knows."))
    preferences.choose(session, person_id, email=False)
    session.commit()
    return render_template("mentoring/unsubscribe.html", token=token, done=True)
