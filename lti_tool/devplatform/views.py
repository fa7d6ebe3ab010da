"""The embedded platform's pages: course page with the tool in an iframe, OIDC auth, JWKS."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for

from lti_tool.devplatform.directory import CLIENT_ID, COURSES, USERS
from lti_tool.devplatform.services import (
    PlatformError,
    authorize,
    login_initiation,
    published_keys,
    register_with_tool,
)  # fmt: skip
from lti_tool.errors import AppError
from lti_tool.extensions import db

bp = Blueprint("devplatform", __name__, url_prefix="/dev-platform")


def _base_url() -> str:
    return request.host_url.rstrip("/")


@bp.errorhandler(PlatformError)
def _refused(error: PlatformError) -> tuple[str, int]:
    return render_template("errors/error.html", status=400, title="The platform refused",
                           message=str(error)), 400  # fmt: skip


@bp.get("/jwks")
def jwks() -> Response:
    """The platform's public keys."""
    return jsonify({"keys": published_keys(db.session())})


@bp.get("/course")
def course() -> str:
    """An LMS course page with Virtual Mentor in an iframe, as Moodle or Canvas shows it."""
    course_id, sub = request.args.get("course", ""), request.args.get("user", "")
    if course_id not in COURSES or sub not in USERS:
        raise AppError("Pick a course and a person of the embedded platform.")
    register_with_tool(db.session(), _base_url())
    storage = request.args.get("storage", "1") == "1"
    # The tool normally shares this host; ?tool= frames it from another site (third-party).
    tool_url = request.args.get("tool", _base_url()).rstrip("/")
    params = login_initiation(
        _base_url(), tool_url, course_id, sub, storage=storage,
        secret=current_app.config["SECRET_KEY"], deep_link=request.args.get("deep_link") == "1",
        client_id=request.args.get("client", CLIENT_ID),
    )  # fmt: skip
    return render_template(
        "devplatform/course.html", course=COURSES[course_id], user=USERS[sub],
        login_url=f"{tool_url}{url_for('lti.login')}?{urlencode(params)}", storage=storage,
        tool_origin=tool_url,
    )  # fmt: skip


@bp.get("/auth")
def auth() -> str:
    """OIDC authorisation: check the tool's request, post the id_token back to it."""
    form = authorize(
        db.session(), _base_url(), request.args.to_dict(), current_app.config["SECRET_KEY"]
    )
    return render_template("devplatform/form_post.html", form=form)
