"""The channels an app's settings provide, in one registry for the dispatcher."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from lti_tool.lms.services import ReadSettings
from lti_tool.mentoring.channels.base import ChannelRegistry
from lti_tool.mentoring.channels.email import EmailChannel, SmtpSettings
from lti_tool.mentoring.channels.lms import LmsChannel
from lti_tool.mentoring.channels.webhook import WebhookChannel, WebhookSettings


def build_registry(config: Mapping[str, Any], session: Session) -> ChannelRegistry:
    """Email (when VM_SMTP_HOST is set), LMS message and webhook, reading their
    connections and endpoints with ``session``; the panel is the engine's own."""
    registry = ChannelRegistry()
    if config["SMTP_HOST"]:
        registry.register(EmailChannel(SmtpSettings.from_config(config)))
    registry.register(LmsChannel(session, ReadSettings.from_config(config)))
    registry.register(WebhookChannel(session, WebhookSettings.from_config(config)))
    return registry
