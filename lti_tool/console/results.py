"""What the course's learners answered, per topic: each question's choices overall and per
week, each survey item's distribution, and how long answers took; as a page of charts and
as CSV, both built from the same ``Chart`` values so their numbers cannot disagree."""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import Response as HttpResponse
from flask import g, render_template
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.console.views import STAFF, bp
from lti_tool.extensions import db
from lti_tool.i18n import _, format_date, format_number, lazy_gettext, ngettext
from lti_tool.lti.access import launch_required
from lti_tool.mentoring import surveys
from lti_tool.mentoring.models import Delivery, DeliveryStatus, Message, MessageKind, Response
from lti_tool.topics.models import Topic

#: The group of messages without a topic (a word of the page: ``str()`` it where used).
NO_TOPIC = lazy_gettext("No topic")
CSV_HEADER = ("topic", "message", "measure", "row", "answer", "value")


@dataclass(frozen=True)
class Segment:
    """One part of a bar: an answer and how many gave it (or a number of hours)."""

    label: str
    value: float


@dataclass(frozen=True)
class Row:
    """One bar of a chart, in one or more segments, with its numbers in words."""

    label: str
    segments: tuple[Segment, ...]
    text: str

    @property
    def total(self) -> float:
        """The bar's length."""
        return sum(segment.value for segment in self.segments)

    def value(self, label: str) -> float:
        """The segment's number (0 if the bar has no such segment)."""
        return next((s.value for s in self.segments if s.label == label), 0)


@dataclass
class Chart:
    """A horizontal bar chart of one measure of one message (or of a topic)."""

    topic: str
    message: str
    measure: str
    #: What each row is, as the table's first column says: an answer, a week, a message.
    row_kind: str = ""
    rows: list[Row] = field(default_factory=list)

    @property
    def scale(self) -> float:
        """The longest bar's length (at least 1, so empty charts draw)."""
        return max([row.total for row in self.rows] + [1.0])

    @property
    def columns(self) -> list[str]:
        """The segment labels, in order, for the chart's table."""
        return list(dict.fromkeys(s.label for row in self.rows for s in row.segments))


@dataclass
class TopicResults:
    """A topic's charts."""

    name: str
    charts: list[Chart] = field(default_factory=list)


@dataclass
class _Answer:
    message_id: int
    answer: str
    answers: dict[str, Any]
    delivered_at: datetime | None
    answered_at: datetime


def results(session: Session, course_id: int) -> list[TopicResults]:
    """Every question's and survey's results in the course, by topic (name order, then the
    messages without a topic)."""
    messages = session.execute(
        select(Message, Topic.name).outerjoin(Topic, Topic.id == Message.topic_id)
        .where(Message.kind.in_([MessageKind.QUESTION, MessageKind.SURVEY]),
               Message.id.in_(select(Delivery.message_id).where(
                   Delivery.course_id == course_id, Delivery.status == DeliveryStatus.DELIVERED)))
        .order_by(Message.id)
    ).all()  # fmt: skip
    answered: dict[int, list[_Answer]] = defaultdict(list)
    for row in session.execute(
        select(Delivery.message_id, Response.answer, Response.answers, Delivery.delivered_at,
               Response.answered_at)
        .join(Delivery, Delivery.id == Response.delivery_id)
        .where(Delivery.course_id == course_id)
    ):  # fmt: skip
        answered[row[0]].append(_Answer(*row))
    topics: dict[str, TopicResults] = {}
    no_topic = str(NO_TOPIC)
    for message, topic_name in messages:
        topic = topics.setdefault(topic_name or no_topic, TopicResults(topic_name or no_topic))
        found = answered.get(message.id, [])
        if message.kind == MessageKind.QUESTION:
            topic.charts += _question(topic.name, message, found)
        else:
            topic.charts += _survey(topic.name, message, found)
    for topic in topics.values():
        topic.charts.append(_times(topic.name, messages, answered))
    return sorted(topics.values(), key=lambda t: (t.name == no_topic, t.name.lower()))


def _answers(count: int) -> str:
    return ngettext("%(num)s answer", "%(num)s answers", count)


def _hours(hours: float) -> str:
    # A fraction of an hour reads as a plural ("1.5 hours").
    return ngettext("%(num)s hour", "%(num)s hours", 1 if hours == 1 else 2,
                    num=format_number(hours))  # fmt: skip


def _question(topic: str, message: Message, found: list[_Answer]) -> list[Chart]:
    labels = {choice["key"]: choice["label"] for choice in message.choices or []}
    for extra in sorted({a.answer for a in found} - labels.keys()):
        labels[extra] = extra  # an answer the question no longer offers still counts
    counts = Counter(a.answer for a in found)
    overall = Chart(topic, message.title, _("answers"), _("Answer"), [
        Row(label, (Segment(_("Answers"), counts[key]),), _answers(counts[key]))
        for key, label in labels.items()
    ])  # fmt: skip
    weeks: dict[date, Counter[str]] = defaultdict(Counter)
    for a in found:
        weeks[_week(a.answered_at)][a.answer] += 1
    weekly = Chart(topic, message.title, _("answers per week"), _("Week"))
    for week, week_counts in sorted(weeks.items()):
        segments = tuple(Segment(label, week_counts[key]) for key, label in labels.items())
        said = ", ".join(f"{s.label} {s.value:g}" for s in segments)
        weekly.rows.append(
            Row(
                _("Week of %(date)s", date=format_date(week, "d MMM y")),
                segments,
                f"{_answers(sum(week_counts.values()))}: {said}",
            )
        )
    return [overall, weekly]


def _week(moment: datetime) -> date:
    day = moment.date()
    return day - timedelta(days=day.weekday())


def _survey(topic: str, message: Message, found: list[_Answer]) -> list[Chart]:
    charts = []
    items = surveys.items_of(message.details or {})
    tallied = surveys.tally(items, (a.answers for a in found))
    for item in items:
        if item.kind == "text":
            continue
        counts = tallied[item.key]
        charts.append(Chart(topic, message.title, _("survey: %(prompt)s", prompt=item.prompt),
                            _("Answer"), [
            Row(label, (Segment(_("Answers"), counts[key]),), _answers(counts[key]))
            for key, label in item.choices
        ]))  # fmt: skip
    return charts


def _times(topic: str, messages: Any, answered: dict[int, list[_Answer]]) -> Chart:
    chart = Chart(topic, "", _("median hours to answer"), _("Message"))
    for message, topic_name in messages:
        if (topic_name or str(NO_TOPIC)) != topic:
            continue
        hours = [(a.answered_at - a.delivered_at).total_seconds() / 3600
                 for a in answered.get(message.id, []) if a.delivered_at is not None]  # fmt: skip
        if hours:
            median = round(statistics.median(hours), 1)
            chart.rows.append(
                Row(
                    message.title,
                    (Segment(_("Hours"), median),),
                    f"{_hours(median)} ({_answers(len(hours))})",
                )
            )
    return chart


def csv_rows(found: list[TopicResults]) -> Iterator[tuple[str, ...]]:
    """The numbers of every chart, one line per bar segment, after the header."""
    yield CSV_HEADER
    for topic in found:
        for chart in topic.charts:
            for row in chart.rows:
                for segment in row.segments:
                    words = (chart.topic, chart.message or row.label, chart.measure, row.label,
                             segment.label)  # fmt: skip
                    yield (*map(_cell, words), f"{segment.value:g}")


def _cell(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula."""
    return f"'{text}" if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text


@bp.get("/results")
@launch_required(*STAFF)
def results_page() -> str:
    """The course's results as charts a mentor reads at a glance, with their tables."""
    return render_template("console/results.html", topics=results(db.session(), g.launch.course.id))


@bp.get("/results.csv")
@launch_required(*STAFF)
def results_csv() -> HttpResponse:
    """The same numbers as the results page, as CSV."""
    out = io.StringIO()
    csv.writer(out).writerows(csv_rows(results(db.session(), g.launch.course.id)))
    return HttpResponse(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="results.csv"'})  # fmt: skip
