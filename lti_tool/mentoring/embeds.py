"""Which resource addresses may play inside the panel, and at which player address (pure).

A resource message links to a page. When that page is a video on a host the site allows
(``VM_MENTORING_EMBED_HOSTS``), the panel also shows it in an iframe: a YouTube or Vimeo page
becomes its player's address (YouTube's without cookies, ``youtube-nocookie.com``), and any
other https address on an allowed host is embedded as it is (an organisation's own video
host). Everything else is a link only: another host or a look-alike
(``youtube.com.evil.example``), userinfo (``https://youtube.com@evil.example/``), a port the
allow-list does not name, a host that is not plain ASCII (IDN look-alikes; punycode is
compared as written), a scheme other than https (http only for YouTube and Vimeo pages,
whose player address is built anew and always https), or a video id of the wrong shape.

Allow-list entries are ``host`` (that host only), ``.example.org`` (example.org and every
host under it) or ``host:port`` (that host on that port only; without a port, only the
scheme's default port is allowed). Hosts are compared lower-cased, exactly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from urllib.parse import SplitResult, parse_qs, urlsplit

#: Resource types that are played, so an https page on an allowed host is embedded as it is.
PLAYABLE_TYPES = frozenset({"video", "webinar"})

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_ENTRY = re.compile(rf"(\.?(?:{_LABEL}\.)*{_LABEL})(?::([0-9]{{1,5}}))?")
_DEFAULT_PORTS = {"https": 443, "http": 80}
#: Characters that never belong in an address worth embedding (besides controls and spaces).
_FORBIDDEN = frozenset('\\"<>^`{|}')
_YOUTUBE_ID = r"[A-Za-z0-9_-]{11}"
_YOUTUBE_ID_ONLY = re.compile(_YOUTUBE_ID)
_YOUTUBE_PATH = re.compile(rf"/(?:embed|shorts|live)/({_YOUTUBE_ID})")
_YOUTU_BE_PATH = re.compile(rf"/({_YOUTUBE_ID})")
_NOCOOKIE_PATH = re.compile(rf"/embed/({_YOUTUBE_ID})")
_VIMEO_PATH = re.compile(r"/([0-9]{1,12})(?:/([0-9a-f]{6,32}))?")
_VIMEO_PLAYER_PATH = re.compile(r"/video/([0-9]{1,12})")
_VIMEO_HASH = re.compile(r"[0-9a-f]{6,32}")
#: Other names of the providers' page hosts: the same site.
_ALIASES = {
    "www.youtube.com": "youtube.com", "m.youtube.com": "youtube.com",
    "www.youtube-nocookie.com": "youtube-nocookie.com", "www.vimeo.com": "vimeo.com",
}  # fmt: skip


def parse_host(entry: str) -> tuple[str, int | None] | None:
    """An allow-list entry as (host, port or None), lower-cased; None if it is not
    ``host``, ``.domain`` or ``host:port`` (``.org``, every host of a top-level domain, is
    refused)."""
    found = _ENTRY.fullmatch(entry.strip().lower())
    if found is None or (found[1].startswith(".") and "." not in found[1][1:]):
        return None
    port = None if found[2] is None else int(found[2])
    if port is not None and not 0 < port < 65536:
        return None
    return found[1], port


def embed_url(url: str, allowed_hosts: Iterable[str], *, as_is: bool = True) -> str | None:
    """The https player address to put in an iframe for the resource at ``url``, or None.

    YouTube and Vimeo pages become their players' addresses when their host is allowed.
    Another https address on an allowed host is returned unchanged, unless ``as_is`` is
    false (a resource that is not a video or a webinar: a whitepaper is not played).
    """
    parts = _parts(url)
    if parts is None:
        return None
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:  # not a number, or out of range
        return None
    default = _DEFAULT_PORTS[parts.scheme]
    port = None if port == default else port
    parsed = filter(None, map(parse_host, allowed_hosts))
    entries = [(allowed, None if entry_port == default else entry_port)
               for allowed, entry_port in parsed]  # fmt: skip
    canonical = _ALIASES.get(host, host)
    if canonical in _PLAYERS:
        if not (_allowed(host, port, entries) or _allowed(canonical, port, entries)):
            return None
        return _PLAYERS[canonical](parts)
    if parts.scheme != "https" or not as_is or not _allowed(host, port, entries):
        return None
    return url


def _parts(url: str) -> SplitResult | None:
    """The address split, if it is a plain ASCII http(s) address with a host and no userinfo."""
    if not url.isascii() or any(c <= " " or c == "\x7f" or c in _FORBIDDEN for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # a malformed IPv6 address
        return None
    if parts.scheme not in _DEFAULT_PORTS or "@" in parts.netloc or not parts.hostname:
        return None
    if not url.startswith(f"{parts.scheme}://"):  # as the panel's link reads it: lower case
        return None
    return parts


def _allowed(host: str, port: int | None, entries: list[tuple[str, int | None]]) -> bool:
    for allowed, allowed_port in entries:
        if allowed_port != port:
            continue
        if host == allowed or (allowed.startswith(".") and (
            host == allowed[1:] or host.endswith(allowed)
        )):  # fmt: skip
            return True
    return False


def _youtube(video_id: str) -> str:
    return f"https://www.youtube-nocookie.com/embed/{video_id}"


def _youtube_page(parts: SplitResult) -> str | None:
    if parts.path == "/watch":
        ids = parse_qs(parts.query).get("v", [])
        if len(ids) == 1 and _YOUTUBE_ID_ONLY.fullmatch(ids[0]):
            return _youtube(ids[0])
        return None
    found = _YOUTUBE_PATH.fullmatch(parts.path)
    return None if found is None else _youtube(found[1])


def _youtu_be(parts: SplitResult) -> str | None:
    found = _YOUTU_BE_PATH.fullmatch(parts.path)
    return None if found is None else _youtube(found[1])


def _nocookie(parts: SplitResult) -> str | None:
    found = _NOCOOKIE_PATH.fullmatch(parts.path)
    return None if found is None else _youtube(found[1])


def _vimeo(video_id: str, unlisted_hash: str | None) -> str:
    player = f"https://player.vimeo.com/video/{video_id}"
    return player if unlisted_hash is None else f"{player}?h={unlisted_hash}"


def _vimeo_page(parts: SplitResult) -> str | None:
    found = _VIMEO_PATH.fullmatch(parts.path)
    return None if found is None else _vimeo(found[1], found[2])


def _vimeo_player(parts: SplitResult) -> str | None:
    found = _VIMEO_PLAYER_PATH.fullmatch(parts.path)
    if found is None:
        return None
    hashes = parse_qs(parts.query).get("h", [])
    if len(hashes) > 1 or (hashes and not _VIMEO_HASH.fullmatch(hashes[0])):
        return None
    return _vimeo(found[1], hashes[0] if hashes else None)


#: The providers' page hosts (after ``_ALIASES``) and how to read their player addresses.
_PLAYERS: dict[str, Callable[[SplitResult], str | None]] = {
    "youtube.com": _youtube_page,
    "youtu.be": _youtu_be,
    "youtube-nocookie.com": _nocookie,
    "vimeo.com": _vimeo_page,
    "player.vimeo.com": _vimeo_player,
}
