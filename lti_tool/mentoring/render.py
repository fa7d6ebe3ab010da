"""Message bodies: markdown from mentors, rendered to HTML that is safe to show in a page.

Raw HTML in the markdown is not passed through (shown as text), links and images may only be
http(s) or mailto, and the HTML is then cleaned by an allow-list (nh3, Ammonia) as a second
line. Variables are put in after rendering, HTML-escaped, so a learner's name can neither
inject markup nor change the markdown around it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from functools import cache, lru_cache

import nh3
from markdown_it import MarkdownIt

#: The variables a body may use.
VARIABLES = ("first_name", "topic", "mentor")
_VARIABLE = re.compile(r"\{(" + "|".join(VARIABLES) + r")\}")
_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a", "h2", "h3",
    "h4", "hr", "img",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}


@cache
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


@lru_cache(maxsize=2048)
def _rendered(body: str) -> str:
    """The body's markdown as HTML, variables still in: a body is rendered once per process
    (a feed shows the same few bodies to every learner; markdown is most of its time)."""
    return str(_markdown().render(body))


def to_html(body: str, variables: Mapping[str, str]) -> str:
    """The body as sanitised HTML, with its variables filled in (escaped)."""
    rendered = _rendered(body)
    filled = _VARIABLE.sub(lambda m: html.escape(variables.get(m[1], ""), quote=True), rendered)
    return nh3.clean(
        filled, tags=_TAGS, attributes=_ATTRIBUTES, url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )  # fmt: skip


def to_text(body: str, variables: Mapping[str, str]) -> str:
    """The body as plain text for an email's text part (the markdown, variables filled in)."""
    return _VARIABLE.sub(lambda m: variables.get(m[1], ""), body)
