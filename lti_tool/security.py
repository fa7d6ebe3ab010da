"""Headers every response carries, and the Content-Security-Policy of every page.

Every HTML response gets a policy with a fresh script nonce (``csp_nonce()`` in templates:
``<script nonce="{{ csp_nonce() }}" src=…>``). Scripts: only tags carrying the nonce (this
site's files; never inline, and not even this site's files without it); styles: this site's
stylesheet only. Frames inside our pages: the video players of ``VM_MENTORING_EMBED_HOSTS``
(and, on the embedded platform's pages, the tool itself). Who may frame our pages: the
registered platforms (their issuers' origins, read again every minute),
``VM_HTTP_CSP_FRAME_ANCESTORS`` and this site (the embedded platform). Forms post to this
site, except the few pages that post to a platform (``csp_form_target(url)``).
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Iterable, Sequence
from urllib.parse import quote, urlsplit

from flask import Flask, Response, current_app, request
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from lti_tool.extensions import db
from lti_tool.lti.models import PlatformRegistration, RegistrationStatus
from lti_tool.mentoring.embeds import embed_url, parse_host

log = logging.getLogger(__name__)

#: Random bytes in a nonce (token_urlsafe: 22 characters).
NONCE_BYTES = 16
#: How long the registered platforms' origins (frame-ancestors) are reused, per process.
ANCESTORS_SECONDS = 60.0
_ANCESTORS_KEY = "csp_frame_ancestors"
#: Where a request keeps its nonce and its pages' form targets (the request's own, not g's:
#: an application context may outlive one request).
_NONCE_KEY, _FORM_TARGETS_KEY = "vm.csp_nonce", "vm.csp_form_targets"
#: A frame-ancestors source a setting may name: scheme, host (or *.domain), optional port.
_SOURCE = re.compile(r"https?://(\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?", re.I)
#: An origin's host and port, as they may stand in a policy.
_NETLOC = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?")
#: Issuers of hosted LMSs whose courses live on other hosts than the issuer's.
_HOSTED_PLATFORMS = {
    "canvas.instructure.com": "https://*.instructure.com",
    "canvas.beta.instructure.com": "https://*.instructure.com",
    "canvas.test.instructure.com": "https://*.instructure.com",
    "blackboard.com": "https://*.blackboard.com",
}  # fmt: skip
#: A page of each video provider, to learn from ``embed_url`` where its player lives.
_PROVIDER_PAGES = (
    "youtube.com/watch?v=aaaaaaaaaaa", "www.youtube.com/watch?v=aaaaaaaaaaa",
    "m.youtube.com/watch?v=aaaaaaaaaaa", "youtu.be/aaaaaaaaaaa",
    "youtube-nocookie.com/embed/aaaaaaaaaaa", "www.youtube-nocookie.com/embed/aaaaaaaaaaa",
    "vimeo.com/1", "www.vimeo.com/1", "player.vimeo.com/video/1",
)  # fmt: skip
#: Where a platform we may not know yet opens the tool: its error pages must show there.
_ENTRY_ENDPOINTS = frozenset(
    {"lti.login", "lti.launch", "lti.complete", "lti_registration.dynamic_registration"}
)
#: Pages with no launch and no action, which anyone may frame: the start and setup pages.
_PUBLIC_ENDPOINTS = frozenset({"ops.start", "lti_registration.setup"})
#: The embedded platform's pages frame the tool.
_PLATFORM_BLUEPRINTS = frozenset({"devplatform", "devplatform_registration", "devplatform_api"})


def csp_nonce() -> str:
    """This request's script nonce, made on first use (templates: ``csp_nonce()``)."""
    nonce: str | None = request.environ.get(_NONCE_KEY)
    if nonce is None:
        nonce = request.environ[_NONCE_KEY] = secrets.token_urlsafe(NONCE_BYTES)
    return nonce


def csp_form_target(url: str) -> str:
    """``url`` unchanged, now allowed as this page's form target (``form-action``).

    For the pages that post to a platform: the LTI login response, the deep-linking response.
    """
    source = _url_source(url)
    if source is not None:
        request.environ.setdefault(_FORM_TARGETS_KEY, []).append(source)
    return url


def frame_sources(hosts: Iterable[str]) -> list[str]:
    """The frame-src sources for the embed allow-list: each provider's player host (YouTube
    becomes www.youtube-nocookie.com, Vimeo player.vimeo.com), and the other hosts as they
    are (``.example.org``: it and its subdomains)."""
    sources: list[str] = []
    for entry in hosts:
        parsed = parse_host(entry)
        if parsed is None:
            continue
        host, port = parsed
        suffix = "" if port in (None, 443) else f":{port}"
        players = (embed_url(f"https://{page.replace('/', suffix + '/', 1)}", [entry])
                   for page in _PROVIDER_PAGES)  # fmt: skip
        candidates = [_origin(player) for player in players if player]
        bare = host.removeprefix(".")
        if embed_url(f"https://{bare}{suffix}/", [entry]):  # the host's own pages play as they are
            candidates.append(f"https://{bare}{suffix}")
        if host.startswith("."):
            candidates.append(f"https://*.{bare}{suffix}")
        sources.extend(source for source in candidates if source and source not in sources)
    return sources


def platform_origins(issuers: Iterable[str]) -> list[str]:
    """The origins of the platforms' issuers, and where hosted LMSs frame their courses."""
    origins: list[str] = []
    for issuer in issuers:
        origin = _origin(issuer)
        hosted = _HOSTED_PLATFORMS.get(urlsplit(issuer).hostname or "")
        for source in (origin, hosted):
            if source and source not in origins:
                origins.append(source)
    return origins


def init_security_headers(app: Flask) -> None:
    """No MIME sniffing; no Referer to other sites (launch tokens travel in page URLs); a
    Content-Security-Policy on every HTML response."""
    extra_ancestors = list(app.config["HTTP_CSP_FRAME_ANCESTORS"])
    report_uri = app.config["HTTP_CSP_REPORT_URI"].strip()
    for source in extra_ancestors:
        if not _SOURCE.fullmatch(source):
            raise ValueError(
                f"VM_HTTP_CSP_FRAME_ANCESTORS has {source!r}, which is not an origin: write "
                "https://lms.example.edu or https://*.example.edu."
            )
    if report_uri and (_url_source(report_uri) is None or re.search(r"[\s;,]", report_uri)):
        raise ValueError(f"VM_HTTP_CSP_REPORT_URI {report_uri!r} is not an http(s) address.")
    embeds = frame_sources(app.config["MENTORING_EMBED_HOSTS"])
    app.jinja_env.globals.update(csp_nonce=csp_nonce, csp_form_target=csp_form_target)

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            policy = _policy(response, embeds, extra_ancestors, report_uri)
            response.headers.setdefault("Content-Security-Policy", policy)
        return response


def _policy(
    response: Response, embeds: Sequence[str], extra_ancestors: Sequence[str], report_uri: str
) -> str:
    """The policy of this HTML response."""
    if request.blueprint in _PLATFORM_BLUEPRINTS:  # it frames the tool, here or at ?tool=
        frames = ["'self'", _origin(request.args.get("tool", "")) or "'self'"]
    else:
        frames = list(embeds)
    if request.endpoint in _PUBLIC_ENDPOINTS or (
        request.endpoint in _ENTRY_ENDPOINTS and response.status_code >= 400
    ):  # no launch, no action: any LMS may show it (a refusal to one we do not know yet)
        ancestors = ["*"]
    else:
        if request.endpoint == "lti_registration.dynamic_registration":  # one just registered
            forget_registered_origins(current_app)
        ancestors = ["'self'", *_registered_origins(), *extra_ancestors]
    directives: list[tuple[str, Sequence[str]]] = [
        ("default-src", ["'self'"]),
        ("script-src", [f"'nonce-{csp_nonce()}'"]),  # only the page's own tags run
        ("style-src", ["'self'"]),
        ("img-src", ["'self'", "https:", "data:"]),
        ("frame-src", frames or ["'none'"]),
        ("frame-ancestors", ancestors),
        ("form-action", ["'self'", *request.environ.get(_FORM_TARGETS_KEY, [])]),
        ("base-uri", ["'none'"]),
        ("object-src", ["'none'"]),
    ]
    if report_uri:
        directives.append(("report-uri", [report_uri]))
    return "; ".join(f"{name} {' '.join(dict.fromkeys(values))}" for name, values in directives)


def _registered_origins() -> list[str]:
    """The registered platforms' origins (all but disabled ones), reused for a minute."""
    cached: tuple[float, list[str]] | None = current_app.extensions.get(_ANCESTORS_KEY)
    now = time.monotonic()
    if cached is not None and cached[0] > now:
        return cached[1]
    query = (
        select(PlatformRegistration.issuer)
        .where(PlatformRegistration.status != RegistrationStatus.DISABLED)
        .distinct()
    )
    try:
        issuers = db.session.scalars(query).all()
    except SQLAlchemyError:  # a page about a broken database still gets a (narrower) policy
        log.warning("could not read the registered platforms for frame-ancestors", exc_info=True)
        return []
    origins = platform_origins(issuers)
    current_app.extensions[_ANCESTORS_KEY] = (now + ANCESTORS_SECONDS, origins)
    return origins


def forget_registered_origins(app: Flask) -> None:
    """Read the registered platforms again on the next page (a platform was just added)."""
    app.extensions.pop(_ANCESTORS_KEY, None)


def _origin(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) address, or None (nothing unsafe in a policy)."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1].lower()
    if parts.scheme not in ("http", "https") or not _NETLOC.fullmatch(netloc):
        return None
    return f"{parts.scheme}://{netloc}"


def _url_source(url: str) -> str | None:
    """An http(s) address as a policy source: its origin and path (the query never counts)."""
    origin = _origin(url)
    if origin is None:
        return None
    return origin + quote(urlsplit(url).path, safe="/-._~!$&()+=:@%")
