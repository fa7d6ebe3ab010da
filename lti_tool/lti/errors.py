"""Why a login, launch or registration was refused, in words for the person who sees it."""

from __future__ import annotations

from lti_tool.errors import AppError


class LaunchError(AppError):
    """The launch cannot go on; the message says why and what to do."""

    status = 400
    title = "This launch could not be completed"


class LaunchForbidden(LaunchError):
    """The token is not trustworthy (signature, audience, replay…)."""

    status = 401
    title = "This launch was refused"


class AwaitingApproval(LaunchError):
    """The platform or deployment is known but not yet approved by an administrator."""

    status = 403
    title = "Waiting for an administrator"


class RegistrationRequestError(AppError):
    """The dynamic registration request itself cannot be used (missing or unsafe URL)."""

    status = 400
    title = "This registration could not start"


class PlatformAnswerError(AppError):
    """The platform's configuration or registration answer cannot be used; nothing was stored."""

    status = 502
    title = "The platform's answer could not be used"


class PlatformTimeout(PlatformAnswerError):
    """The platform did not answer in time; nothing was stored."""

    status = 504
    title = "The platform did not answer in time"


class DeepLinkExpired(AppError):
    """The deep-linking request is gone (expired, answered, or never issued)."""

    status = 410
    title = "This request has ended"


class PickError(AppError):
    """What the instructor picked cannot be added; the picker says what to change."""
