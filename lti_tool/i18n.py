"""The tool's own words in the learner's language (Flask-Babel): which language a request
gets, and typed ``_``/``ngettext``/``lazy`` for the Python side. Catalogs live in
``lti_tool/translations``; ``make translations`` re-extracts them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from flask import Flask, g, has_request_context, request
from flask_babel import Babel, force_locale, get_locale, get_translations, refresh
from flask_babel import format_date as _format_date
from flask_babel import format_datetime as _format_datetime
from flask_babel import format_number as _format_number
from flask_babel import format_time as _format_time
from flask_babel import gettext as _gettext
from flask_babel import lazy_gettext as _lazy_gettext

from lti_tool.extensions import db
from lti_tool.mentoring import reasons
from lti_tool.mentoring.models import LearnerPreference, MessageKind
from lti_tool.mentoring.preferences import LANGUAGES, spoken

#: The language codes the tool speaks (English first: the fallback).
SUPPORTED = tuple(LANGUAGES)
#: The blueprints whose pages are translated; the LTI plumbing and the embedded platform
#: stay in English (their pages say ``lang="en"``).
TRANSLATED = frozenset({"panel", "console", "mentoring"})

babel = Babel()
#: Marks English kept in a constant for extraction; ``_`` translates it where it is used.
N_ = reasons.N_


def _(text: str, /, **variables: Any) -> str:
    """``text`` in the request's language, ``%(name)s`` filled from ``variables``."""
    return str(_gettext(text, **variables))


def ngettext(singular: str, plural: str, count: int, /, **variables: Any) -> str:
    """The singular or plural of a sentence for ``count``, in the language; ``%(num)s`` is
    the count as the language writes numbers."""
    variables.setdefault("num", format_number(count))
    return str(get_translations().ungettext(singular, plural, count)) % variables


def lazy_gettext(text: str) -> Any:
    """``text`` translated only when shown: for words kept in module-level tables."""
    return _lazy_gettext(text)


@contextmanager
def in_language(code: str | None) -> Iterator[None]:
    """Words said inside are in ``code``'s language if the tool speaks it, else English: for
    what is written to someone other than the page's reader (an email, often in a worker)."""
    with force_locale(spoken(code) or SUPPORTED[0]):
        yield


def reason(stored: str | None) -> str:
    """A reason the engine stored in English (``mentoring.reasons``) in the page's language;
    a sentence of no known template as it was stored."""
    found = reasons.read(stored) if stored else None
    if found is None:
        return stored or ""
    template, values = found
    if "category" in values:
        values["category"] = kind_word(values["category"])
    return _(template, **values)


def kind_word(kind: str) -> str:
    """A kind of message as a word of a sentence ("tip" in "you opted out of tip messages")."""
    return str(_KIND_WORDS.get(kind, kind))


def select_locale() -> str:
    """On translated pages: the learner's chosen language, else the launch's locale, else
    the browser's best supported match; English everywhere else."""
    if not has_request_context() or request.blueprint not in TRANSLATED:
        return SUPPORTED[0]
    launch = g.get("launch")
    if launch is not None:
        # The panel's render loaded her preferences already (preferences.policies): the
        # session's identity map answers without another query.
        chosen = db.session.get(LearnerPreference, launch.person.id)
        found = spoken(chosen.locale if chosen else None) or spoken(launch.person.locale)
        if found:
            return found
    return request.accept_languages.best_match(SUPPORTED) or SUPPORTED[0]


def current_language() -> str:
    """The language of the page being rendered (for ``<html lang>``)."""
    return str(get_locale() or SUPPORTED[0])


def format_number(number: float) -> str:
    """A number as the language writes it ("1,234" in English)."""
    return str(_format_number(number))


def format_date(at: date, pattern: str) -> str:
    """The day of ``at`` (a moment in UTC, or a day) by a CLDR ``pattern``, month names in
    the language."""
    return str(_format_date(at, pattern))


def format_time(at: datetime, pattern: str) -> str:
    """The time of ``at`` (in UTC) by a CLDR ``pattern``."""
    return str(_format_time(at, pattern))


def datetime_text(at: datetime) -> str:
    """A moment as the page shows it, month in the language's words: "24 Nov 2026, 10:30 UTC"."""
    return f"{_format_datetime(at, 'd MMM y, HH:mm')} UTC"


def init_i18n(app: Flask) -> None:
    """Bind Flask-Babel with our locale selector; templates get ``current_language()``,
    ``datetime_text()`` and ``reason()``."""
    babel.init_app(app, locale_selector=select_locale)
    # Flask-Babel keeps the locale on ``g``; an app context shared by several requests (tests,
    # the CLI) must not carry one request's language into the next.
    app.before_request(refresh)
    app.jinja_env.globals.update(
        current_language=current_language, datetime_text=datetime_text, reason=reason
    )


_KIND_WORDS: dict[str, Any] = {
    MessageKind.WELCOME: lazy_gettext("welcome"), MessageKind.TIP: lazy_gettext("tip"),
    MessageKind.QUESTION: lazy_gettext("question"), MessageKind.SURVEY: lazy_gettext("survey"),
    MessageKind.RESOURCE: lazy_gettext("resource"), MessageKind.SESSION: lazy_gettext("session"),
    MessageKind.ANNOUNCEMENT: lazy_gettext("announcement"),
}  # fmt: skip
