"""The learner panel's page cache: a learner's panel, once rendered, is served again while
nothing it shows has changed.

Learners open the panel far more often than anything in it changes (each LMS page that
shows the tool launches it again, and each return from a thread). Rendering it costs a
handful of queries, a markdown pass per message and a large template; serving it again
costs a dictionary lookup. A page is kept under everything it was rendered from:

- the launch (platform, deployment, course, person, role, and the course's and person's
  details as the launch check read them, the browser's languages);
- the course's and the learner's panel versions, read by the launch check with the row it
  reads anyway (``courses.freshness``: every write that changes what a panel shows moves
  one on in its own transaction, so another process's change is seen at once);
- a time limit: the first moment something on it would read differently by itself (a
  session starting closes its answers, "asked 3 minutes ago" becomes 4), and at most
  ``VM_PANEL_CACHE_SECONDS`` for what the tool is not told about (a name changed in the LMS).

A render that marked messages read is not kept (the page shows them as new). The launch
token and the script nonce are fresh on every request: the kept page's own are replaced by
this request's when it is served. Each web process keeps its own pages, at most
``VM_PANEL_CACHE_PAGES``, the least recently served dropped first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app, request

from lti_tool.lti.access import Launch
from lti_tool.security import csp_nonce

_EXTENSION = "vm_panel_cache"


@dataclass(frozen=True)
class Page:
    """A rendered panel, with the launch token and script nonce written into it."""

    html: str
    token: str
    nonce: str
    until: datetime

    def served(self, token: str, nonce: str) -> str:
        """The page with this request's token and nonce in place of its own."""
        return self.html.replace(self.token, token).replace(self.nonce, nonce)


class PageCache:
    """At most ``pages`` pages, each kept until its time limit, the least recently served
    dropped first; safe to share between a process's threads."""

    def __init__(self, pages: int, seconds: float) -> None:
        self.pages = pages
        self.seconds = timedelta(seconds=seconds)
        self._kept: OrderedDict[Hashable, Page] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, now: datetime) -> Page | None:
        """The page kept under ``key`` if it is still within its time."""
        with self._lock:
            page = self._kept.get(key)
            if page is None:
                return None
            if now >= page.until:
                del self._kept[key]
                return None
            self._kept.move_to_end(key)
            return page

    def put(self, key: Hashable, html: str, token: str, now: datetime, lasts: timedelta) -> None:
        """Keep a page rendered with ``token`` and this request's nonce, for ``lasts`` (at
        most the cache's own limit)."""
        if self.pages <= 0:
            return
        page = Page(html, token, csp_nonce(), now + min(lasts, self.seconds))
        with self._lock:
            self._kept[key] = page
            self._kept.move_to_end(key)
            while len(self._kept) > self.pages:
                self._kept.popitem(last=False)

    def clear(self) -> None:
        """Forget every page (tests that rewind the database)."""
        with self._lock:
            self._kept.clear()

    def __len__(self) -> int:
        return len(self._kept)


def init_panel_cache(app: Flask) -> None:
    """The app's page cache, sized by its settings."""
    app.extensions[_EXTENSION] = PageCache(
        int(app.config["PANEL_CACHE_PAGES"]), float(app.config["PANEL_CACHE_SECONDS"])
    )


def page_cache() -> PageCache:
    """This app's page cache."""
    cache: PageCache = current_app.extensions[_EXTENSION]
    return cache


def key(launch: Launch) -> Hashable:
    """What a panel page is rendered from, but for the data behind the panel versions."""
    return (
        launch.context, launch.platform_name, launch.course, launch.person,
        launch.panel_versions, request.headers.get("Accept-Language", ""),
    )  # fmt: skip
