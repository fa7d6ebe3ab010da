"""The webhook channel: each message POSTed as JSON to the registration's endpoint, signed.

Headers: ``X-VM-Timestamp`` (Unix seconds), ``X-VM-Signature: sha256=<hex>`` (HMAC-SHA256
with the endpoint's secret of ``<timestamp>.<body>``: ``verify`` shows a receiver how to
check it, refusing old timestamps against replays) and ``Idempotency-Key:
delivery-<id>`` (the same on every retry, so a receiver can drop a message it already
has). No redirects are followed; the address is checked again before every post, and the
connection goes only to an address ``http_safety`` allows.

2xx: sent. 429, 5xx, 408, a timeout or no connection: tried again later (after what
Retry-After asks). A redirect or any other 4xx: failed for good, with the status and the
start of the answer.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import requests
from sqlalchemy.orm import Session

from lti_tool import crypto, http_safety
from lti_tool.mentoring.channels.base import Channel, Outgoing, SendResult
from lti_tool.mentoring.channels.endpoints import AddressRules, WebhookError, check_url, in_use
from xapi.lrs import retry_after, timed_out

EVENT_TYPE = "mentor.message"
#: How much of a refusal's body is read for its words.
_EXCERPT_BYTES = 300


@dataclass(frozen=True)
class WebhookSettings:
    """How webhooks are posted (VM_WEBHOOK_*, VM_ENV, VM_SECRETS_KEY)."""

    timeout: float
    rules: AddressRules
    secrets_key: str = field(default="", repr=False)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> WebhookSettings:
        """The settings of an app's configuration."""
        allow_private = bool(config["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"])
        rules = AddressRules(production=config["ENV"] == "production", allow_private=allow_private,
                             allowed=http_safety.policy_from_config(config))  # fmt: skip
        return cls(float(config["WEBHOOK_TIMEOUT_SECONDS"]), rules, config["SECRETS_KEY"])


@dataclass(frozen=True)
class _Target:
    url: str
    secret: bytes


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """The ``X-VM-Signature`` value for a body sent at ``timestamp``."""
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(
    secret: bytes, timestamp: str, body: bytes, header: str, *, now: float, tolerance: float = 300
) -> bool:
    """Whether a received post is the tool's and recent (what a receiver should check)."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header)


def payload(outgoing: Outgoing) -> dict[str, Any]:
    """The JSON a receiver gets for a message."""
    learner, mentor = outgoing.recipient, outgoing.mentor
    return {
        "type": EVENT_TYPE, "delivery_id": outgoing.delivery_id,
        "learner": {"id": learner.person_id, "name": learner.name, "email": learner.email,
                    "locale": learner.locale, "time_zone": learner.time_zone},
        "mentor": {"name": mentor.name, "title": mentor.title, "email": mentor.email},
        "subject": outgoing.subject, "text": outgoing.text, "html": outgoing.html,
        "links": [{"label": label, "url": url} for label, url in outgoing.answer_links],
        "panel_url": outgoing.panel_url, "unsubscribe_url": outgoing.unsubscribe_url,
        "category": outgoing.category, "course": {"title": outgoing.course_title},
    }  # fmt: skip


@dataclass
class WebhookChannel(Channel):
    """Posts each message to its registration's webhook, if it has one.

    ``send`` reads the endpoint with ``session`` and commits it before posting (no
    transaction is held across a network call): call it with nothing pending.
    """

    session: Session
    settings: WebhookSettings
    name: str = "webhook"
    #: Unix time for the signature's timestamp (tests replace it).
    now: Callable[[], float] = time.time
    _http: requests.Session | None = field(default=None, repr=False)

    def send(self, outgoing: Outgoing) -> SendResult:
        """Post one message to the learner's registration's webhook."""
        target = self._target(outgoing.registration_id)
        if isinstance(target, SendResult):
            return target
        body = orjson.dumps(payload(outgoing))
        timestamp = str(int(self.now()))
        headers = {"Content-Type": "application/json", "User-Agent": "Virtual Mentor",
                   "X-VM-Timestamp": timestamp,
                   "X-VM-Signature": signature(target.secret, timestamp, body),
                   "Idempotency-Key": f"delivery-{outgoing.delivery_id}"}  # fmt: skip
        if self._http is None:
            self._http = http_safety.session(self.settings.rules.policy)
        try:
            with self._http.post(target.url, data=body, headers=headers, stream=True,
                                 timeout=self.settings.timeout,
                                 allow_redirects=False) as answer:  # fmt: skip
                return _result(answer)
        except http_safety.AddressRefused as exc:
            return SendResult.failed(f"The webhook's address is refused: {exc}")
        except requests.RequestException as exc:
            if timed_out(exc):
                return SendResult.retry(
                    f"The webhook did not answer within {self.settings.timeout:g} s."
                )
            return SendResult.retry(f"The webhook could not be reached ({type(exc).__name__}).")

    def _target(self, registration_id: int) -> _Target | SendResult:
        endpoint = in_use(self.session, registration_id)
        found = (endpoint.url, endpoint.secret_encrypted) if endpoint is not None else None
        self.session.commit()
        if found is None:
            return SendResult.unavailable("No webhook is set up for the learner's platform.")
        try:
            url = check_url(found[0], self.settings.rules, resolve=False)
            secret = crypto.decrypt(found[1], self.settings.secrets_key or None)
        except WebhookError as exc:
            return SendResult.failed(f"The webhook's address is refused: {exc.message}")
        except crypto.SecretsKeyError as exc:
            return SendResult.failed(str(exc))
        return _Target(url, secret)


def _result(answer: requests.Response) -> SendResult:
    status = answer.status_code
    if 200 <= status < 300:
        return SendResult.sent()
    if status in (408, 429) or status >= 500:
        meaning = "asked the tool to slow down" if status == 429 else "could not take it now"
        return SendResult.retry(
            f"The webhook {meaning} (HTTP {status}).",
            after=retry_after(answer.headers.get("Retry-After", "")),
        )
    if 300 <= status < 400:
        return SendResult.failed(
            f"The webhook answered with a redirect (HTTP {status}); give the address it "
            "redirects to (the tool does not follow redirects)."
        )
    return SendResult.failed(f"The webhook refused the message (HTTP {status}): {_excerpt(answer)}")


def _excerpt(answer: requests.Response) -> str:
    """The start of a refusal's body, on one line."""
    try:
        raw = next(answer.iter_content(_EXCERPT_BYTES), b"")
    except requests.RequestException:
        raw = b""
    text = " ".join(raw[:_EXCERPT_BYTES].decode("utf-8", "replace").split())
    return text or "no explanation given"
