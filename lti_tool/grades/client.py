"""An assignment-and-grade-services (AGS 2.0) client: line items, results, scores.

A line item's results and scores live under its URL's path, before its query: Moodle's
line item URLs carry ``?type_id=…``, which must stay at the end
(``…/lineitems/7/lineitem/results?type_id=3``, not ``…?type_id=3/results``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from lti_tool import http_safety
from lti_tool.courses.sync_jobs import SyncError
from lti_tool.lti.paging import call, json_pages

AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
LINEITEM, LINEITEM_READ = AGS + "lineitem", AGS + "lineitem.readonly"
RESULT_READ, SCORE = AGS + "result.readonly", AGS + "score"
LINEITEMS_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
RESULTS_TYPE = "application/vnd.ims.lis.v2.resultcontainer+json"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"


class GradeError(SyncError):
    """The grade book could not be read or written; the message says why, in words."""


def under(url: str, child: str) -> str:
    """``url`` with ``/child`` added to its path, its query kept where it was."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/" + child))


def line_items(url: str, token: str, *, timeout: float) -> Iterator[dict[str, Any]]:
    """Every line item of the course, across all pages."""
    for body in json_pages(url, token, LINEITEMS_TYPE, timeout=timeout, error=GradeError,
                           what="line items"):  # fmt: skip
        if not isinstance(body, list):
            raise GradeError("The platform's line items answer is not a list of line items.")
        yield from (item for item in body if isinstance(item, dict) and _text(item.get("id")))


def results(line_item_url: str, token: str, *, timeout: float) -> Iterator[dict[str, Any]]:
    """Every result of a line item, across all pages."""
    url = under(line_item_url, "results")
    for body in json_pages(url, token, RESULTS_TYPE, timeout=timeout, error=GradeError,
                           what="results"):  # fmt: skip
        if not isinstance(body, list):
            raise GradeError("The platform's results answer is not a list of results.")
        yield from (r for r in body if isinstance(r, dict) and _text(r.get("userId")))


def post_score(line_item_url: str, token: str, score: dict[str, Any], *, timeout: float) -> None:
    """Send a learner's score for a line item."""
    with http_safety.session() as http:
        http.headers.update({"Authorization": f"Bearer {token}", "Content-Type": SCORE_TYPE})
        call(http, "POST", under(line_item_url, "scores"), json=score, timeout=timeout,
             error=GradeError, what="score")  # fmt: skip


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())
