"""The deep-linking picker: /lti/deep-link/ (after an LtiDeepLinkingRequest launch).

Authenticated by the launch token like every page after launch; the request's settings
come from launch storage by an id bound to that launch, never from the page.
"""

from __future__ import annotations

from flask import Blueprint, g, render_template, request, url_for

from lti_tool.extensions import db
from lti_tool.lti import deep_linking
from lti_tool.lti.access import launch_required
from lti_tool.lti.errors import PickError
from lti_tool.lti.models import PlatformRegistration
from lti_tool.lti.storage import storage
from lti_tool.lti.toolconf import ToolRegistration

bp = Blueprint("deep_linking", __name__, url_prefix="/lti/deep-link")


def _picker_id() -> str:
    return request.form.get("dl") or request.args.get("dl") or ""


def _page(
    settings: deep_linking.DeepLinkSettings, problem: str = "", status: int = 200
) -> tuple[str, int]:
    html = render_template(
        "lti/deep_link_picker.html", settings=settings, picker_id=_picker_id(),
        kinds=deep_linking.KINDS, problem=problem, form=request.form,
        max_name=deep_linking.MAX_NAME,
    )  # fmt: skip
    return html, status


@bp.get("/")
@launch_required(*deep_linking.ADDERS)
def picker() -> tuple[str, int]:
    """What the instructor may add to the course."""
    return _page(deep_linking.recall(storage(), _picker_id(), g.launch.context))


@bp.post("/")
@launch_required(*deep_linking.ADDERS)
def respond() -> tuple[str, int]:
    """Check the picks, then post the signed LtiDeepLinkingResponse back to the platform."""
    context = g.launch.context
    settings = deep_linking.recall(storage(), _picker_id(), context)
    try:
        picks = deep_linking.read_picks(request.form.to_dict(flat=False), settings)
    except PickError as error:
        return _page(settings, error.message, 400)
    settings = deep_linking.use_up(storage(), _picker_id(), context)
    session = db.session()
    registration = session.get_one(PlatformRegistration, context.registration_id)
    launch_url = url_for("lti.launch", _external=True)
    items = [deep_linking.content_item(pick, settings, launch_url) for pick in picks]
    claims = deep_linking.response_claims(
        settings, registration.client_id, registration.issuer, items
    )
    signer = ToolRegistration(registration, session)
    jwt = deep_linking.sign(claims, signer.get_kid(), signer.get_tool_private_key())
    session.commit()  # end the key read
    html = render_template(
        "lti/deep_link_response.html", return_url=settings.return_url, jwt=jwt, items=items
    )
    return html, 200
