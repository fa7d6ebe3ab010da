"""The xAPI resources the tool serves as a statement receiver."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("xapi", __name__, url_prefix="/xapi")

#: xAPI versions the statement endpoint speaks (xAPI 2.0 is IEEE 9274.1.1).
SUPPORTED_VERSIONS = ["1.0.3", "2.0.0"]


@bp.get("/about")
def about() -> dict[str, object]:
    """The xAPI About resource: which versions we speak (needs no credentials)."""
    return {"version": SUPPORTED_VERSIONS}
