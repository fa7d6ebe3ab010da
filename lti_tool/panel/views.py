"""Learner-facing pages (thin views over the mentoring services)."""

from __future__ import annotations

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from lti_tool.extensions import db
from lti_tool.lti.access import launch_required
from lti_tool.mentoring import answers, feed

bp = Blueprint("panel", __name__, url_prefix="/panel")


@bp.get("/")
@launch_required()
def home() -> str:
    """Where a learner lands after launch: their mentor's messages, newest first."""
    session = db.session()
    items = feed.feed(session, g.launch.course.id, g.launch.person.id,
                      embed_hosts=current_app.config["MENTORING_EMBED_HOSTS"])  # fmt: skip
    session.commit()  # the unread ones are now read
    return render_template("panel/home.html", items=items)


@bp.post("/answer/<int:delivery_id>")
@launch_required()
def answer(delivery_id: int) -> ResponseReturnValue:
    """Record the learner's answer to one of their messages."""
    session = db.session()
    answers.record(
        session, delivery_id, request.form.get("answer", ""), via="panel",
        text=request.form.get("text", ""), person_id=g.launch.person.id,
    )  # fmt: skip
    session.commit()
    return redirect(url_for("panel.home", lt=g.launch.token, _anchor=f"m{delivery_id}"), 303)
