"""Learner-facing pages (thin views over the mentoring services)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from lti_tool import clock
from lti_tool.database import autocommit
from lti_tool.errors import NotFound
from lti_tool.extensions import db
from lti_tool.i18n import _
from lti_tool.lti.access import launch_required
from lti_tool.mentoring import answers, feed, meetings, preferences, resources, surveys
from lti_tool.mentoring.models import MessageKind
from lti_tool.mentoring.views import calendar_file
from lti_tool.panel import cache, own
from lti_tool.security import csp_nonce

bp = Blueprint("panel", __name__, url_prefix="/panel")


@bp.get("/")
@launch_required()
def home() -> str:
    """Where a learner lands after launch: their mentor, agreement and questions on top, then
    their mentor's messages, newest first."""
    pages, key, now = cache.page_cache(), cache.key(g.launch), clock.now()
    if kept := pages.get(key, now):
        return kept.served(g.launch.token, csp_nonce())
    session = db.session()
    person_id = g.launch.person.id
    with autocommit(session):  # reads, and one statement marking the unread ones read
        items = feed.feed(session, g.launch.course.id, person_id,
                          embed_hosts=current_app.config["MENTORING_EMBED_HOSTS"])  # fmt: skip
        standings = meetings.standings(session, items, person_id)
        zone = preferences.policies(session, [person_id], current_app.config)[person_id].zone
        top = own.top(session, g.launch.course.id, person_id)
    html = render_template(
        "panel/home.html", items=items, standings=standings, zone=zone,
        meeting_of=meetings.Meeting.of, survey_items=surveys.items_of, now=now,
        rsvp_label=meetings.rsvp_label, top=top,
    )  # fmt: skip
    if not any(item.unread for item in items):  # else the page shows them new, once
        pages.put(key, html, g.launch.token, now, _lasts(items, top, now))
    return html


def _lasts(items: list[feed.FeedItem], top: own.Top, now: datetime) -> timedelta:
    """How long the panel reads the same by itself: until the next session on it starts
    (its answers close) or an age on it moves on."""
    starts = [
        meeting.starts_at - now
        for item in items
        if item.kind == MessageKind.SESSION
        and (meeting := meetings.Meeting.of(item.details)) is not None
        and meeting.starts_at > now
    ]
    return min([*starts, top.changes_in])


def _back(delivery_id: int) -> ResponseReturnValue:
    return redirect(url_for("panel.home", lt=g.launch.token, _anchor=f"m{delivery_id}"), 303)


@bp.post("/answer/<int:delivery_id>")
@launch_required()
def answer(delivery_id: int) -> ResponseReturnValue:
    """Record the learner's answer to one of their messages."""
    session = db.session()
    own.delivery(session, g.launch.course.id, g.launch.person.id, delivery_id)
    answers.record(
        session, delivery_id, request.form.get("answer", ""), via="panel",
        text=request.form.get("text", ""), person_id=g.launch.person.id,
    )  # fmt: skip
    session.commit()
    return _back(delivery_id)


@bp.post("/survey/<int:delivery_id>")
@launch_required()
def survey(delivery_id: int) -> ResponseReturnValue:
    """Record the learner's answers to a survey (all its items at once)."""
    session = db.session()
    own.delivery(session, g.launch.course.id, g.launch.person.id, delivery_id)
    answers.record_survey(session, delivery_id, request.form, via="panel",
                          person_id=g.launch.person.id)  # fmt: skip
    session.commit()
    return _back(delivery_id)


@bp.post("/rsvp/<int:delivery_id>")
@launch_required()
def rsvp(delivery_id: int) -> ResponseReturnValue:
    """Record (or change) the learner's answer to a session invitation."""
    session = db.session()
    own.delivery(session, g.launch.course.id, g.launch.person.id, delivery_id)
    meetings.rsvp(session, delivery_id, request.form.get("answer", ""), via="panel",
                  person_id=g.launch.person.id)  # fmt: skip
    session.commit()
    return _back(delivery_id)


@bp.get("/calendar/<int:delivery_id>.ics")
@launch_required()
def calendar(delivery_id: int) -> Response:
    """The session as a calendar file, for the learner it was sent to."""
    own.delivery(db.session(), g.launch.course.id, g.launch.person.id, delivery_id)
    item = feed.items(db.session(), [delivery_id]).get(delivery_id)
    if item is None:
        raise NotFound(_("There is no such session invitation."))
    return calendar_file(item)


@bp.get("/open/<int:delivery_id>")
@launch_required()
def open_resource(delivery_id: int) -> ResponseReturnValue:
    """Go to a resource the mentor sent, telling the LRS it was opened; only ever to the
    resource's own address (never one given in the request)."""
    session = db.session()
    own.delivery(session, g.launch.course.id, g.launch.person.id, delivery_id)
    target = resources.opened(session, delivery_id, g.launch.person.id)
    session.commit()
    return redirect(target, 303)


# Pages kept in their own modules register their routes on ``bp``; imported last, as they
# import it.
from lti_tool.panel import people as _people  # noqa: E402, F401
from lti_tool.panel import preferences as _preference_pages  # noqa: E402, F401
from lti_tool.panel import updates as _updates  # noqa: E402, F401
