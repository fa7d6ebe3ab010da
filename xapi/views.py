"""The xAPI resources the tool serves as a statement receiver.

``POST /xapi/statements`` (one statement or an array) and ``PUT
/xapi/statements?statementId=…`` for xAPI 1.0.3 and 2.0.0, with HTTP Basic credentials
bound to one tenant. Every answer says which version it speaks; every refusal says why
in a sentence, and a refused request stores nothing.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Blueprint, Response, g, request
from sqlalchemy.orm import Session

from lti_tool import clock
from lti_tool.database import autocommit
from lti_tool.errors import AppError
from lti_tool.extensions import db
from lti_tool.rate_limits import check as check_rate_limit
from xapi import statements
from xapi.credentials import Caller, authenticate
from xapi.times import timestamp
from xapi.validation import StatementError, validate_batch, validate_statement

bp = Blueprint("xapi", __name__, url_prefix="/xapi")

#: xAPI versions the statement endpoint speaks (xAPI 2.0 is IEEE 9274.1.1).
SUPPORTED_VERSIONS = ["1.0.3", "2.0.0"]
VERSION_HEADER = "X-Experience-API-Version"


class BadStatement(AppError):
    """The request or a statement in it breaks the xAPI rules."""

    status = 400
    title = "Bad request"


class UnsupportedMediaType(AppError):
    """Statements come as application/json."""

    status = 415
    title = "Unsupported media type"


@bp.after_request
def _version_header(response: Response) -> Response:
    response.headers[VERSION_HEADER] = g.get("xapi_version") or SUPPORTED_VERSIONS[-1]
    if request.endpoint in ("xapi.post_statements", "xapi.put_statement"):
        response.headers["X-Experience-API-Consistent-Through"] = timestamp(clock.now())
    return response


@bp.get("/about")
def about() -> dict[str, object]:
    """The xAPI About resource: which versions we speak (needs no credentials)."""
    return {"version": SUPPORTED_VERSIONS}


@bp.post("/statements")
def post_statements() -> Response:
    """Store one statement or a batch (all or nothing); answer with their ids."""
    session = db.session()
    with autocommit(session):  # one read, then (for new statements) one atomic statement
        version, caller, body = _receive()
        try:
            batch = validate_batch(body, version)
        except StatementError as exc:
            raise _refusal(exc) from exc
        stored = statements.store(
            session, caller, batch, version=version, authority=_authority(caller),
            now=clock.now(),
        )  # fmt: skip
    return Response(orjson.dumps(stored.ids), mimetype="application/json")


@bp.put("/statements")
def put_statement() -> tuple[str, int]:
    """Store one statement under the id the query names."""
    session = db.session()
    with autocommit(session):  # as POST
        version, caller, body = _receive()
        _put(session, version, caller, body)
    return "", 204


def _put(session: Session, version: str, caller: Caller, body: Any) -> None:
    statement_id = request.args.get("statementId", "")
    if not statement_id:
        raise BadStatement("PUT needs the statementId query parameter.")
    if not isinstance(body, dict):
        raise BadStatement("PUT takes one statement (a JSON object).")
    if str(body.get("id", statement_id)).lower() != statement_id.lower():
        raise BadStatement("The statement's id differs from the statementId parameter.")
    statement = {**body, "id": statement_id}
    try:
        validate_statement(statement, version)
    except StatementError as exc:
        raise _refusal(exc) from exc
    statements.store(
        session, caller, [statement], version=version, authority=_authority(caller),
        now=clock.now(),
    )  # fmt: skip


def _receive() -> tuple[str, Any, Any]:
    """Version, caller and parsed body of a statements request, or a clear refusal."""
    version = _version(request.headers.get(VERSION_HEADER, ""))
    caller = authenticate(db.session(), request.headers.get("Authorization", ""))
    check_rate_limit("statements", f"source:{caller.credential_id}")  # bad credentials don't count
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(
            "Send statements as application/json (attachments with content are not accepted)."
        )
    try:
        body = orjson.loads(request.get_data(cache=False) or b"null")
    except (ValueError, RecursionError):  # orjson's JSONDecodeError is a ValueError
        raise BadStatement("The request body is not valid JSON.") from None
    return version, caller, body


def _version(header: str) -> str:
    """The version we answer in, from the request's header (1.0.x or 2.0.x)."""
    text = header.strip()
    if not text:
        raise BadStatement(f"The {VERSION_HEADER} header is required (1.0.3 or 2.0.0).")
    parts = text.split(".")
    if len(parts) in (2, 3) and all(p.isdigit() for p in parts) and parts[:2] in (
        ["1", "0"], ["2", "0"],
    ):  # fmt: skip
        g.xapi_version = "1.0.3" if parts[0] == "1" else "2.0.0"
        return str(g.xapi_version)
    raise BadStatement(f"xAPI version {text[:20]!r} is not supported; use 1.0.3 or 2.0.0.")


def _refusal(error: StatementError) -> BadStatement:
    """The first offending property, by its path, and what is wrong with it."""
    return BadStatement(f"{error.path or 'statement'}: {error.message}")


def _authority(caller: Caller) -> dict[str, Any]:
    """The authority we vouch with: the credential's source, on this tool."""
    return {"objectType": "Agent", "name": caller.name[:255],
            "account": {"homePage": request.host_url.rstrip("/"),
                        "name": f"xapi-source-{caller.credential_id}"}}  # fmt: skip
