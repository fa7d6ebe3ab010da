"""Follow-up plans in the console: the course's and the library's, created with a form (or
pasted TOML), copied from the library, edited, previewed as a learner sees them, dry-run
and switched on (thin views over ``mentoring.library``, ``plans``, ``rules`` and ``dryrun``)."""

from __future__ import annotations

from typing import Any

from flask import g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from lti_tool.console.plan_form import KINDS, ROWS, STARTS, VERBS, from_form, from_toml
from lti_tool.console.views import STAFF, bp
from lti_tool.courses.models import Person
from lti_tool.errors import Forbidden, NotFound
from lti_tool.extensions import db
from lti_tool.i18n import _
from lti_tool.lti.access import launch_required
from lti_tool.mentoring import library, meetings, render, rules, surveys
from lti_tool.mentoring.dryrun import dry_run
from lti_tool.mentoring.models import Message, MessageKind, Sequence, Step
from lti_tool.mentoring.plans import DAY, PlanError
from lti_tool.topics.models import Topic


def _scope() -> tuple[int, int]:
    return g.launch.context.registration_id, g.launch.course.id


def _to_list(sequence_id: int) -> ResponseReturnValue:
    return redirect(url_for("console.plans", lt=g.launch.token, _anchor=f"plan-{sequence_id}"), 303)


@bp.get("/plans")
@launch_required(*STAFF)
def plans() -> str:
    """The plans this course can use: its own, then the organisation's library."""
    session = db.session()
    sequences = library.usable_sequences(session, *_scope())
    ids = [sequence.id for sequence in sequences]
    topics = {topic.id: topic.name for topic in library.usable_topics(session, *_scope())}
    return render_template(
        "console/plans.html", sequences=sequences, topics=topics,
        steps=library.steps_of(session, ids), rules=library.rules_of(session, ids, _scope()[1]),
        offset=offset_words, verb=verb_words, DAY=DAY,
    )  # fmt: skip


@bp.route("/plans/new", methods=["GET", "POST"])
@launch_required(*STAFF)
def new_plan() -> ResponseReturnValue:
    """The plan editor; a good plan is stored (in the course, or shared with the library)."""
    session = db.session()
    if request.method == "GET":
        return _editor(request.form)
    share = request.form.get("share") == "on"
    try:
        pasted = request.form.get("mode") == "toml"
        plan = from_toml(request.form.get("toml", "")) if pasted else from_form(request.form)
        sequence = library.store_plan(session, *_scope(), plan, share=share)
    except PlanError as error:
        session.rollback()
        return _editor(request.form, error.message), 400
    session.commit()
    return _to_list(sequence.id)


def _editor(form: Any, problem: str | None = None) -> str:
    topics = library.usable_topics(db.session(), *_scope())
    return render_template("console/plans_new.html", form=form, problem=problem, topics=topics,
                           rows=range(ROWS), kinds=KINDS, verbs=VERBS, starts=STARTS)  # fmt: skip


@bp.post("/plans/<int:sequence_id>/copy")
@launch_required(*STAFF)
def copy_plan(sequence_id: int) -> ResponseReturnValue:
    """Use a library plan in this course: a copy of its own, rules switched off."""
    session = db.session()
    source = library.find_sequence(session, *_scope(), sequence_id)
    if source.course_id is not None:
        raise NotFound(_("Only a plan of the organisation's library can be copied here."))
    copy = library.copy_sequence(session, source, g.launch.course.id)
    session.commit()
    return _to_list(copy.id)


@bp.route("/plans/<int:sequence_id>/steps/<int:step_id>", methods=["GET", "POST"])
@launch_required(*STAFF)
def edit_step(sequence_id: int, step_id: int) -> ResponseReturnValue:
    """Change a step's message: title, body and a question's answers."""
    session = db.session()
    sequence = library.find_sequence(session, *_scope(), sequence_id)
    step = session.get(Step, step_id)
    if step is None or step.sequence_id != sequence.id:
        raise NotFound(_("There is no such step in this plan."))
    message = session.get_one(Message, step.message_id)
    problem, status = None, 200
    if request.method == "POST":
        try:
            got = request.form.get
            library.update_message(session, step, message, got("title", ""), got("body", ""),
                                   answers=got("answers"))  # fmt: skip
        except PlanError as error:
            session.rollback()
            problem, status = error.message, 400
        else:
            session.commit()
            return _to_list(sequence.id)
    answers = "\n".join(f"{c['key']}: {c['label']}" for c in message.choices or [])
    form = request.form if problem else {"title": message.title, "body": message.body,
                                         "answers": answers}  # fmt: skip
    return render_template("console/plans_step.html", sequence=sequence, step=step,
                           message=message, form=form, problem=problem), status  # fmt: skip


@bp.get("/plans/<int:sequence_id>/preview")
@launch_required(*STAFF)
def preview_plan(sequence_id: int) -> str:
    """Each step's message as the learner panel would show it, with sample variables."""
    session = db.session()
    sequence = library.find_sequence(session, *_scope(), sequence_id)
    topic = session.get(Topic, sequence.topic_id) if sequence.topic_id else None
    mentor = g.launch.person.display_name
    variables = {"first_name": "Ana", "topic": topic.name if topic else "", "mentor": mentor}
    items = [
        {"step": step, "message": message, "title": render.to_text(message.title, variables),
         "html": render.to_html(message.body, variables),
         "survey": surveys.items_of(message.details) if message.kind == MessageKind.SURVEY
         else []}
        for step, message in library.steps_of(session, [sequence.id])[sequence.id]
    ]  # fmt: skip
    return render_template("console/plans_preview.html", sequence=sequence, items=items,
                           mentor=mentor, offset=offset_words,
                           meeting_of=meetings.Meeting.of)  # fmt: skip


@bp.post("/plans/rules/<int:rule_id>/switch")
@launch_required(*STAFF)
def switch_rule(rule_id: int) -> ResponseReturnValue:
    """Switch one of the course's rules on (it acts on events from now) or off."""
    session = db.session()
    rule = library.find_rule(session, *_scope(), rule_id)
    if rule.course_id is None:
        raise Forbidden(_("A library rule acts in every course of the organisation: use the "
                          "plan in this course and switch the copy's rule instead."))  # fmt: skip
    rules.switch(session, rule.id, request.form.get("on") == "1")
    session.commit()
    return _to_list(rule.sequence_id)


@bp.get("/plans/rules/<int:rule_id>/dry-run")
@launch_required(*STAFF)
def dry_run_rule(rule_id: int) -> str:
    """Who in this course the rule would reach, with what and when; nothing is written."""
    session = db.session()
    registration_id, course_id = _scope()
    rule = library.find_rule(session, registration_id, course_id, rule_id)
    sequence = session.get_one(Sequence, rule.sequence_id)
    planned = [row for row in dry_run(session, rule.id) if row.course_id == course_id]
    people = {person.id: person.display_name for person in session.scalars(
        select(Person).where(Person.id.in_({row.person_id for row in planned}),
                             Person.registration_id == registration_id))}  # fmt: skip
    rows = [(people.get(row.person_id, _("Learner")), row.step, row.due_at) for row in planned]
    session.rollback()  # a dry run leaves nothing behind
    return render_template("console/plans_dry_run.html", rule=rule, sequence=sequence,
                           rows=rows, verb=verb_words)  # fmt: skip


def offset_words(seconds: int | None) -> str:
    """A step's offset as people say it."""
    if seconds is None:
        return _("only by a branch")
    days = seconds / DAY
    if days == 0:
        return _("at the start")
    shown = f"{days:g}"
    if shown == "1":
        return _("after 1 day")
    return _("after %(days)s days", days=shown)


def verb_words(verb: str | None) -> str:
    """A rule's verb as the form offers it (its last path part if not offered)."""
    if verb in VERBS:
        return str(VERBS[verb])
    return (verb or "").rstrip("/").rsplit("/", 1)[-1] or _("any verb")
