"""The question inbox: the course's threads for the mentor, one thread with the learner's
context, replying (with saved snippets) and marking answered. Routes on the console's
``bp``; thin views over ``threads.services`` and ``console.questions``."""

from __future__ import annotations

from typing import Any

from flask import g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from lti_tool.console import questions, snippets
from lti_tool.console.learner_context import learner_context
from lti_tool.console.views import STAFF, bp
from lti_tool.errors import AppError
from lti_tool.extensions import db
from lti_tool.i18n import _, lazy_gettext, ngettext
from lti_tool.lti.access import launch_required
from lti_tool.threads import listing, services
from lti_tool.threads.models import Thread

#: What the thread page confirms after a redirect (``?done=``).
_DONE = {
    "replied": lazy_gettext("Your reply was sent."),
    "answered": lazy_gettext("The question is marked answered."),
}


@bp.context_processor
def _inbox_summary() -> dict[str, Any]:
    """``inbox_summary()`` for console pages: how many questions wait, read only if shown."""

    def inbox_summary() -> str:
        count = questions.unanswered(db.session(), g.launch.course.id, g.launch.person.id)
        if count == 0:
            return _("No question waits for an answer.")
        return ngettext("%(num)s question waits for an answer.",
                        "%(num)s questions wait for an answer.", count)  # fmt: skip

    return {"inbox_summary": inbox_summary}


@bp.get("/inbox")
@launch_required(*STAFF)
def inbox() -> str:
    """The course's questions for this mentor, unanswered first, the longest waiting first."""
    rows = questions.inbox(db.session(), g.launch.course.id, g.launch.person.id)
    return render_template("console/inbox.html", rows=rows)


@bp.get("/inbox/<int:thread_id>")
@launch_required(*STAFF)
def thread(thread_id: int) -> str:
    """One question: its posts, the reply form and the learner's context."""
    found = _thread(thread_id)
    return _thread_page(found, done=str(_DONE.get(request.args.get("done", ""), "")))


@bp.post("/inbox/<int:thread_id>/reply")
@launch_required(*STAFF)
def reply(thread_id: int) -> ResponseReturnValue:
    """Send the reply, or (``action=insert``, without JavaScript) put the chosen snippet into
    the reply box and show the page again."""
    found = _thread(thread_id)
    draft = request.form.get("body", "")
    if request.form.get("action") == "insert":
        return _thread_page(found, draft=_with_snippet(draft))
    try:
        services.reply(db.session(), found.id, g.launch.person.id, draft)
    except AppError as error:
        if error.status != 400:
            raise
        return _thread_page(found, draft=draft, problem=error.message), 400
    return _back(found, "replied")


@bp.post("/inbox/<int:thread_id>/answered")
@launch_required(*STAFF)
def mark_answered(thread_id: int) -> ResponseReturnValue:
    """The question needs no more answer (answered elsewhere, in a meeting)."""
    found = _thread(thread_id)
    services.mark_answered(db.session(), found.id, g.launch.person.id)
    return _back(found, "answered")


def _thread(thread_id: int) -> Thread:
    return questions.of_course(db.session(), g.launch.course.id, thread_id, g.launch.person.id)


def _with_snippet(draft: str) -> str:
    chosen = request.form.get("snippet", "")
    if not chosen:
        return draft
    if not chosen.isdigit():
        raise snippets.SnippetError(_("Choose one of your snippets from the list."))
    snippet = snippets.own(db.session(), g.launch.context.registration_id,
                           g.launch.person.id, int(chosen))  # fmt: skip
    return snippets.inserted(draft, snippet)


def _thread_page(found: Thread, draft: str = "", problem: str = "", done: str = "") -> str:
    session = db.session()
    names = questions.learner_names(
        session, {p.author_id for p in found.posts} | {found.learner_id}
    )
    return render_template(
        "console/thread.html", thread=found, learner=names.get(found.learner_id, _("Learner")),
        names=names, age=questions.age(found), body_html=listing.body_html,
        context=learner_context(session, found.course_id, found.learner_id),
        snippets=snippets.of_mentor(session, g.launch.context.registration_id,
                                    g.launch.person.id),
        draft=draft, problem=problem, done=done, max_body=services.MAX_BODY,
    )  # fmt: skip


def _back(found: Thread, done: str) -> ResponseReturnValue:
    target = url_for("console.thread", thread_id=found.id, lt=g.launch.token, done=done)
    return redirect(target, 303)
