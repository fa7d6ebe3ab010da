"""The embedded platform's service endpoints (JSON): token, names and roles, grades, deep links."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for

from lti_tool.devplatform import advantage as services
from lti_tool.devplatform.advantage import LINEITEM, LINEITEM_READ, NRPS_SCOPE, RESULT_READ, SCORE
from lti_tool.devplatform.models import DevLineItem
from lti_tool.extensions import db
from lti_tool.lti.storage import storage

bp = Blueprint("devplatform_api", __name__, url_prefix="/dev-platform")
NRPS_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
LINEITEMS_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
RESULTS_TYPE = "application/vnd.ims.lis.v2.resultcontainer+json"
MAX_PAGE = 100


@bp.errorhandler(services.ServiceError)
def _service_error(error: services.ServiceError) -> tuple[Response, int]:
    return jsonify({"error": error.error, "error_description": error.description}), error.status


def _base() -> str:
    return request.host_url.rstrip("/")


def _secret() -> str:
    return str(current_app.config["SECRET_KEY"])


def _authorise(*scopes: str) -> None:
    services.require_scope(request.headers.get("Authorization", ""), _secret(), *scopes)


def _paged(items: list[Any], media_type: str, wrap: Any) -> Response:
    """A page (limit, page query parameters) with a Link rel="next" header when more follow."""
    try:
        limit = min(max(int(request.args.get("limit", MAX_PAGE)), 1), MAX_PAGE)
        page = max(int(request.args.get("page", 1)), 1)
    except ValueError as exc:
        raise services.ServiceError(400, "invalid_request", "limit and page are numbers.") from exc
    chunk, more = services.page_of(items, limit, page)
    response = jsonify(wrap(chunk))
    response.mimetype = media_type
    if more:
        args: dict[str, Any] = {**request.args.to_dict(), "limit": limit, "page": page + 1}
        args.update(request.view_args or {})
        next_url = url_for(request.endpoint or "", _external=True, **args)
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return response


@bp.post("/token")
def token() -> Response:
    """OAuth2 client credentials with the tool's signed JWT assertion."""
    body = services.issue_token(
        db.session(), storage(), request.form.to_dict(), f"{_base()}/dev-platform/token", _secret()
    )
    return jsonify(body)


@bp.get("/nrps/<context_id>")
def memberships(context_id: str) -> Response:
    """Names and roles: the course's members, paged."""
    _authorise(NRPS_SCOPE)
    members = services.memberships(context_id)
    url = f"{_base()}/dev-platform/nrps/{context_id}"
    return _paged(members, NRPS_TYPE, lambda chunk: {
        "id": url, "context": {"id": context_id}, "members": chunk})  # fmt: skip


@bp.route("/ags/<context_id>/lineitems", methods=["GET", "POST"])
def line_items(context_id: str) -> Response | tuple[Response, int]:
    """The course's line items (paged), or a new one."""
    session = db.session()
    if request.method == "POST":
        _authorise(LINEITEM)
        item = services.create_line_item(session, context_id, request.get_json(silent=True) or {})
        response = jsonify(services.line_item_json(item, _base()))
        response.mimetype = LINEITEM_TYPE
        return response, 201
    _authorise(LINEITEM, LINEITEM_READ)
    items = session.scalars(
        db.select(DevLineItem).filter_by(context_id=context_id).order_by(DevLineItem.id)
    ).all()
    return _paged([services.line_item_json(i, _base()) for i in items], LINEITEMS_TYPE, list)


@bp.get("/ags/<context_id>/lineitems/<int:item_id>")
def line_item(context_id: str, item_id: int) -> Response:
    """One line item."""
    _authorise(LINEITEM, LINEITEM_READ)
    item = services.line_item(db.session(), context_id, item_id)
    response = jsonify(services.line_item_json(item, _base()))
    response.mimetype = LINEITEM_TYPE
    return response


@bp.get("/ags/<context_id>/lineitems/<int:item_id>/results")
def results(context_id: str, item_id: int) -> Response:
    """The latest result of each learner, paged."""
    _authorise(RESULT_READ)
    session = db.session()
    item = services.line_item(session, context_id, item_id)
    return _paged(services.results(session, item, _base()), RESULTS_TYPE, list)


@bp.post("/ags/<context_id>/lineitems/<int:item_id>/scores")
def scores(context_id: str, item_id: int) -> tuple[str, int]:
    """Record a score the tool sends."""
    _authorise(SCORE)
    session = db.session()
    item = services.line_item(session, context_id, item_id)
    services.record_score(session, item, request.get_json(silent=True) or {})
    return "", 204


@bp.post("/deep-link-return")
def deep_link_return() -> str:
    """Receive the tool's deep-linking response and show what was added."""
    items = services.accept_deep_link(
        db.session(), request.form.get("JWT", ""), f"{_base()}/dev-platform", _secret()
    )
    return render_template("devplatform/deep_link_return.html", items=items)
