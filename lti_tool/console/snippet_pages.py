"""The mentor's saved reply snippets: list, add and delete. Routes on the console's ``bp``;
thin views over ``console.snippets``."""

from __future__ import annotations

from flask import g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from lti_tool.console import snippets
from lti_tool.console.views import STAFF, bp
from lti_tool.extensions import db
from lti_tool.i18n import _
from lti_tool.lti.access import launch_required


@bp.get("/snippets")
@launch_required(*STAFF)
def snippet_list() -> str:
    """The mentor's own snippets and the form to add one."""
    return _page()


@bp.post("/snippets")
@launch_required(*STAFF)
def add_snippet() -> ResponseReturnValue:
    """Save a new snippet; a title or text that cannot be saved shows the form again (400)."""
    title, body = request.form.get("title", ""), request.form.get("body", "")
    try:
        snippets.add(db.session(), g.launch.context.registration_id, g.launch.person.id,
                     title, body)  # fmt: skip
    except snippets.SnippetError as error:
        return _page(title=title, body=body, problem=error.message), 400
    return redirect(url_for("console.snippet_list", lt=g.launch.token, done="saved"), 303)


@bp.post("/snippets/<int:snippet_id>/delete")
@launch_required(*STAFF)
def delete_snippet(snippet_id: int) -> ResponseReturnValue:
    """Delete one of the mentor's snippets (anyone else's: 404)."""
    snippets.delete(db.session(), g.launch.context.registration_id, g.launch.person.id,
                    snippet_id)  # fmt: skip
    return redirect(url_for("console.snippet_list", lt=g.launch.token, done="deleted"), 303)


def _page(title: str = "", body: str = "", problem: str = "") -> str:
    done = {"saved": _("The snippet is saved."), "deleted": _("The snippet is deleted.")}
    return render_template(
        "console/snippets.html", title=title, body=body, problem=problem,
        done=done.get(request.args.get("done", ""), ""), max_title=snippets.MAX_TITLE,
        snippets=snippets.of_mentor(db.session(), g.launch.context.registration_id,
                                    g.launch.person.id),
    )  # fmt: skip
