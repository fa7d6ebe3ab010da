"""Learner-facing pages (thin views over the mentoring services)."""

from __future__ import annotations

from flask import Blueprint, render_template

from lti_tool.lti.access import launch_required

bp = Blueprint("panel", __name__, url_prefix="/panel")


@bp.get("/")
@launch_required()
def home() -> str:
    """Where a learner lands after launch."""
    return render_template("panel/home.html")
