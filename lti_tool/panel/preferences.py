"""The learner's preferences page: channels, quiet hours, time zone, kinds of message and
language; and "why did I get this?" for one of their messages."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from lti_tool.errors import NotFound
from lti_tool.extensions import db
from lti_tool.i18n import _
from lti_tool.lti.access import launch_required
from lti_tool.mentoring import feed, preferences, timeline
from lti_tool.mentoring.models import LearnerPreference
from lti_tool.mentoring.scheduling import zone_of
from lti_tool.panel.views import bp


@bp.get("/preferences")
@launch_required()
def preferences_page() -> str:
    """The learner's choices as a form, the defaults filled in where they chose nothing."""
    session = db.session()
    person = g.launch.person
    policy = preferences.policies(session, [person.id], current_app.config)[person.id]
    chosen = session.get(LearnerPreference, person.id)
    return render_template(
        "panel/preferences.html", policy=policy, zones=preferences.zones(),
        categories=preferences.CATEGORIES, languages=preferences.LANGUAGES,
        language=preferences.language(chosen.locale if chosen else None, person.locale),
        saved=request.args.get("saved") == "1",
    )  # fmt: skip


@bp.post("/preferences")
@launch_required()
def save_preferences() -> ResponseReturnValue:
    """Store the form's choices (all of them, or none if one is not valid)."""
    form = request.form
    session = db.session()
    preferences.choose(
        session, g.launch.person.id, email=form.get("email") == "on",
        quiet_start=form.get("quiet_start", "").strip() or None,
        quiet_end=form.get("quiet_end", "").strip() or None,
        time_zone=form.get("time_zone", "").strip() or None,
        opted_out=form.getlist("opted_out"), locale=form.get("locale", "").strip() or None,
    )  # fmt: skip
    session.commit()
    return redirect(url_for("panel.preferences_page", lt=g.launch.token, saved="1"), 303)


@bp.get("/why/<int:delivery_id>")
@launch_required()
def why(delivery_id: int) -> str:
    """Why the learner got one of their messages: its follow-up's reason and its history."""
    session = db.session()
    story = timeline.delivery_story(session, g.launch.course.id, g.launch.person.id, delivery_id)
    if story is None:
        raise NotFound(_("There is no such message in your mentor panel."))
    item = feed.items(session, [delivery_id])[delivery_id]
    policy = preferences.policies(session, [g.launch.person.id], current_app.config)
    zone = policy[g.launch.person.id].zone

    def local(at: datetime) -> str:
        return f"{at.astimezone(zone_of(zone)):%Y-%m-%d %H:%M} ({zone})"

    return render_template("panel/why.html", story=story, item=item, local=local)
