"""The learner's side of the people in the panel: asking their mentor, reading and replying
to their questions, and completing and accepting their mentoring agreement (thin views over
``threads.services`` and ``mentors.agreements``; lookups scoped in ``own``)."""

from __future__ import annotations

from flask import g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from lti_tool.errors import AppError, Conflict
from lti_tool.extensions import db
from lti_tool.i18n import _
from lti_tool.lti.access import launch_required
from lti_tool.mentors import agreements
from lti_tool.mentors.models import MentoringAgreement
from lti_tool.mentors.services import mentor_for
from lti_tool.panel import own
from lti_tool.panel.views import bp
from lti_tool.rate_limits import learner, limited
from lti_tool.threads import listing, services
from lti_tool.threads.models import AuthorRole


def _to_thread(thread_id: int, anchor: str | None = None) -> ResponseReturnValue:
    return redirect(url_for("panel.thread", thread_id=thread_id, lt=g.launch.token,
                            _anchor=anchor), 303)  # fmt: skip


def _number(name: str) -> int:
    raw = request.form.get(name, "")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):  # an id or a version
        raise AppError(_("This form is incomplete: open the page again and resend it."))
    return int(raw)


def _agreement_of_form() -> MentoringAgreement:
    """The learner's own agreement that the form names (anyone else's is not found)."""
    return own.own_agreement(db.session(), g.launch.course.id, g.launch.person.id,
                             _number("agreement"))  # fmt: skip


@bp.post("/ask")
@launch_required()
@limited("questions", learner)
def ask() -> ResponseReturnValue:
    """Send the learner's question to their mentor; then show it, waiting for an answer."""
    session = db.session()
    asked = services.ask(session, g.launch.course.id, g.launch.person.id,
                         request.form.get("question", ""))  # fmt: skip
    return _to_thread(asked.id)


@bp.get("/threads/<int:thread_id>")
@launch_required()
def thread(thread_id: int) -> str:
    """One of the learner's questions with its answers; opening it reads a new reply."""
    session = db.session()
    found = own.thread(session, g.launch.course.id, g.launch.person.id, thread_id)
    if found.learner_unread_at is not None:
        services.mark_read(session, found.id, g.launch.person.id)
    return render_template(
        "panel/thread.html", thread=found, names=own.author_names(session, found),
        status=str(own.STATUS_WORDS[found.status]), body_html=listing.body_html,
        mentor_side=AuthorRole.MENTOR,
    )  # fmt: skip


@bp.post("/threads/<int:thread_id>/reply")
@launch_required()
@limited("replies", learner)
def reply(thread_id: int) -> ResponseReturnValue:
    """Add the learner's reply to their own question; it waits for the mentor again."""
    session = db.session()
    found = own.thread(session, g.launch.course.id, g.launch.person.id, thread_id)
    post = services.reply(session, found.id, g.launch.person.id, request.form.get("text", ""))
    return _to_thread(found.id, f"p{post.id}")


@bp.get("/agreement")
@launch_required()
def agreement() -> str:
    """The learner's mentoring agreement: to read, complete their side of, and accept."""
    session = db.session()
    found = own.own_agreement(session, g.launch.course.id, g.launch.person.id)
    return render_template(
        "panel/agreement.html", agreement=found, channels=own.CHANNEL_WORDS,
        mentor=mentor_for(session, g.launch.course.id, g.launch.person.id),
    )  # fmt: skip


@bp.post("/agreement")
@launch_required()
def save_agreement() -> ResponseReturnValue:
    """Save the learner's terms, as read in the version they saw (a changed one is refused)."""
    session = db.session()
    found = _agreement_of_form()
    if _number("version") != found.version:
        raise Conflict(
            _(
                "The agreement changed since you read it (it is now version "
                "%(version)s): read it again before changing it.",
                version=found.version,
            )
        )
    terms = {name: request.form[name] for name in own.LEARNER_TERMS if name in request.form}
    agreements.edit(session, found.id, g.launch.person.id, **terms)
    return redirect(url_for("panel.agreement", lt=g.launch.token, _anchor="accept"), 303)


@bp.post("/agreement/accept")
@launch_required()
def accept_agreement() -> ResponseReturnValue:
    """Accept the version of the agreement the learner read."""
    session = db.session()
    found = _agreement_of_form()
    agreements.accept(session, found.id, g.launch.person.id, _number("version"))
    return redirect(url_for("panel.agreement", lt=g.launch.token), 303)
