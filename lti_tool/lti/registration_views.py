"""Installing the tool in an LMS: dynamic registration (/lti/register) and the manual setup page."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from lti_tool.extensions import db
from lti_tool.lti.config import AGS_SCOPES, NRPS_SCOPE, ToolUrls
from lti_tool.lti.dynamic_registration import RegistrationSettings, register
from lti_tool.lti.errors import RegistrationRequestError
from lti_tool.lti.models import RegistrationStatus

bp = Blueprint("lti_registration", __name__, url_prefix="/lti")


def _tool_urls() -> ToolUrls:
    return ToolUrls(request.host_url.rstrip("/"))


@bp.get("/register")
def dynamic_registration() -> str:
    """LTI Dynamic Registration, opened by the platform in a window or iframe.

    A GET that stores something, as the specification has it: what it stores is pending until
    a tool administrator approves it (unless VM_LTI_AUTO_APPROVE_REGISTRATIONS is on).
    """
    openid_configuration = request.args.get("openid_configuration", "").strip()
    if not openid_configuration:
        raise RegistrationRequestError(
            "This address is for LTI Dynamic Registration: your LMS opens it with an "
            "openid_configuration parameter. Paste it into your LMS's tool registration screen."
        )
    config = current_app.config
    settings = RegistrationSettings(
        tool_origin=_tool_urls().origin,
        timeout=config["LTI_HTTP_TIMEOUT_SECONDS"],
        auto_approve=config["LTI_AUTO_APPROVE_REGISTRATIONS"],
        allow_http_loopback=config["ENV"] != "production",
    )
    token = request.args.get("registration_token") or None
    registration = register(db.session(), openid_configuration, token, settings)
    return render_template(
        "lti/registered.html", registration=registration,
        pending=registration.status is RegistrationStatus.PENDING,
    )  # fmt: skip


@bp.get("/setup")
def setup() -> str:
    """What an LMS administrator types in when registering the tool by hand (public values)."""
    return render_template(
        "lti/setup.html", urls=_tool_urls(), nrps_scope=NRPS_SCOPE, ags_scopes=AGS_SCOPES
    )
