"""LTI endpoints: /lti/jwks, /lti/login, /lti/launch (and its postMessage completion)."""

from __future__ import annotations

import secrets
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)  # fmt: skip
from werkzeug.wrappers import Response as BaseResponse

from lti_tool.courses.models import Role
from lti_tool.database import autocommit
from lti_tool.extensions import db
from lti_tool.lti import deep_linking, tokens
from lti_tool.lti.config import canvas_configuration
from lti_tool.lti.errors import LaunchForbidden
from lti_tool.lti.keys import published_keys
from lti_tool.lti.launch import CLAIM, HardenedLaunch, LaunchSettings, origin_of
from lti_tool.lti.login import LoginRequest, match_login, start_login, state_cookie_name
from lti_tool.lti.models import PlatformRegistration
from lti_tool.lti.services import record_launch, service_endpoints
from lti_tool.lti.storage import storage
from lti_tool.lti.toolconf import DatabaseToolConf
from lti_tool.rate_limits import client_address, limited

bp = Blueprint("lti", __name__, url_prefix="/lti")
PENDING_SECONDS = 120
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def _tool_origin() -> str:
    return request.host_url.rstrip("/")


@bp.get("/jwks")
def jwks() -> Response:
    """The tool's public keys: the current one and the next one (and recently retired)."""
    response = jsonify({"keys": published_keys(db.session())})
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/config/canvas.json")
def canvas_json() -> Response:
    """The Canvas developer key JSON (Admin > Developer Keys > + LTI Key > Paste JSON)."""
    return jsonify(canvas_configuration(_tool_origin()))


@bp.route("/login", methods=["GET", "POST"])
@limited("login", client_address)
def login() -> BaseResponse | str:
    """Third-party initiated login: remember state and nonce, send the browser to the platform."""
    params = {**request.args.to_dict(), **request.form.to_dict()}
    session = db.session()
    with autocommit(session):  # a read, then one insert
        started = start_login(
            session,
            storage(),
            LoginRequest.from_params(params),
            redirect_uri=url_for("lti.launch", _external=True),
            tool_origin=_tool_origin(),
            ttl=current_app.config["LTI_STATE_SECONDS"],
        )
    if started.storage_target:
        # Third-party cookies may be blocked: keep state in the platform's own storage.
        return render_template("lti/login_storage.html", start=started)
    response = redirect(started.auth_url, code=302)
    _set_state_cookie(response, started.state)
    return response


def _set_state_cookie(response: BaseResponse, state: str, *, used: bool = False) -> None:
    """Bind the login to this browser, or (``used``) remove the binding once launched."""
    # Browsers accept Secure cookies from loopback over http, so the demo behaves as HTTPS does.
    secure = request.is_secure or request.host.rsplit(":", 1)[0] in LOOPBACK_HOSTS
    response.set_cookie(
        state_cookie_name(state), "" if used else state,
        max_age=0 if used else current_app.config["LTI_STATE_SECONDS"], path="/lti/",
        httponly=True, secure=secure, samesite="None" if secure else "Lax", partitioned=secure,
    )  # fmt: skip


def _launch_settings() -> LaunchSettings:
    config = current_app.config
    return LaunchSettings(
        clock_skew=config["LTI_CLOCK_SKEW_SECONDS"],
        key_set_ttl=config["LTI_KEY_SET_CACHE_SECONDS"],
        http_timeout=config["LTI_HTTP_TIMEOUT_SECONDS"],
        tool_origin=_tool_origin(),
    )


@bp.post("/launch")
@limited("launch", client_address)
def launch() -> BaseResponse | str:
    """Verify the id_token, use up the state, then land the person where they belong."""
    id_token, state = request.form.get("id_token", ""), request.form.get("state", "")
    if not id_token or not state:
        raise LaunchForbidden("The launch arrived without its id_token or state. Launch again.")
    session = db.session()
    with autocommit(session):  # reads, then the state's one-statement removal
        message = HardenedLaunch(
            {"id_token": id_token, "state": state}, DatabaseToolConf(session), storage(),
            _launch_settings(),
        ).validate()  # fmt: skip
        registration, remembered = match_login(session, storage(), state, message)
    claims = message.claims
    if request.cookies.get(state_cookie_name(state)) == state:
        with autocommit(session):  # each write stands alone (see record_launch)
            context = record_launch(session, registration, claims)
        response = _land(context, claims)
        _set_state_cookie(response, state, used=True)  # done with it: don't let them pile up
        return response
    storage_target = remembered["login"]["lti_storage_target"]
    if storage_target:
        launch_id = secrets.token_urlsafe(24)
        storage().put(
            f"pending:{launch_id}",
            {"registration_id": registration.id, "claims": claims, "state": state},
            PENDING_SECONDS,
        )
        return render_template(
            "lti/launch_storage.html", launch_id=launch_id, state=state,
            storage_target=storage_target, platform_origin=origin_of(registration.auth_login_url),
        )  # fmt: skip
    return render_template(
        "lti/cookies_blocked.html", login=remembered["login"], login_url=url_for("lti.login")
    )


@bp.post("/launch/complete")
@limited("launch", client_address)
def complete() -> BaseResponse:
    """The postMessage path: the state read back from the platform's storage must match,
    and the form must come from the tool's own page."""
    if not _posted_by_own_page():
        raise LaunchForbidden(
            "This sign-in was sent from another site, so it was refused. Open Virtual Mentor "
            "from your course."
        )
    pending = storage().take(f"pending:{request.form.get('launch_id', '')}")
    if pending is None:
        raise LaunchForbidden("This launch has expired or was already used. Launch again.")
    if not secrets.compare_digest(request.form.get("state", ""), pending["state"]):
        raise LaunchForbidden(
            "Your browser could not confirm this launch (the state in the platform's storage "
            "does not match). Launch again from your course."
        )
    session = db.session()
    registration = session.get(PlatformRegistration, pending["registration_id"])
    if registration is None:
        raise LaunchForbidden("The platform that started this launch is no longer registered.")
    with autocommit(session):
        context = record_launch(session, registration, pending["claims"])
    return _land(context, pending["claims"])


def _posted_by_own_page() -> bool:
    """Whether the browser says one of the tool's own pages sent this form: the waiting
    page posts it to its own origin. Another site posting someone's pending launch (its own,
    to sign a victim in as the attacker) is refused. Browsers send ``Sec-Fetch-Site`` or at
    least ``Origin`` with every POST; a client that sends neither is not a browser and still
    needs the launch id and the state."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site in {"same-origin", "none"}
    sent_from = request.headers.get("Origin")
    return sent_from is None or sent_from == request.host_url.rstrip("/")


def _land(context: tokens.LaunchContext, claims: dict[str, Any]) -> BaseResponse:
    token = tokens.issue(context, current_app.config["SECRET_KEY"])
    if claims.get(CLAIM + "message_type") == deep_linking.REQUEST:
        # The settings stay here, bound to this launch; the picker's URL carries only an id.
        settings = deep_linking.settings_from_claims(
            claims, grades="lineitems_url" in service_endpoints(claims)
        )
        picker_id = deep_linking.remember(
            storage(), context, settings, current_app.config["LTI_LAUNCH_TOKEN_SECONDS"]
        )
        return redirect(url_for("deep_linking.picker", lt=token, dl=picker_id), code=303)
    endpoint = "panel.home" if context.role is Role.LEARNER else "console.home"
    return redirect(url_for(endpoint, lt=token), code=303)
