"""Browser fixtures: Debian's Chromium driven by Playwright, and the app on a live server.

Playwright's own browser download is never used; tests skip (fail in CI) without Chromium.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from flask import Flask

from lti_tool.devplatform.services import register_with_tool
from lti_tool.extensions import db
from tests.helpers.servers import serve
from tests.helpers.services import chromium_path

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    """The Playwright driver (one per run; it drives Debian's Chromium, never its own)."""
    chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


def _launch(playwright: Any, *extra: str) -> Any:
    return playwright.chromium.launch(
        executable_path=chromium_path(), headless=True, args=[*CHROMIUM_FLAGS, *extra]
    )


@pytest.fixture(scope="session")
def browser(playwright: Any) -> Iterator[Any]:
    """One headless Chromium for the run."""
    chromium = _launch(playwright)
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser tab (own cookies and storage)."""
    context = browser.new_context()
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def live_app(make_app: Callable[..., Flask], tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    """The tool and its embedded platform on a database of their own, at a real URL."""
    app = make_app(
        DATABASE_URL=f"sqlite:///{tmp_path / 'live.sqlite3'}", LTI_EMBEDDED_PLATFORM=True
    )
    with app.app_context():
        flask_migrate.upgrade()
    server, url = serve(app)
    with app.app_context():
        register_with_tool(db.session(), url)
    yield app, url
    server.shutdown()


@pytest.fixture
def live_server(live_app: tuple[Flask, str]) -> str:
    """The URL of ``live_app``."""
    return live_app[1]


def axe_violations(target: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 AA violations on a page or frame."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
    results = Axe().run(target, options=options)
    return list(results.response["violations"])


@pytest.fixture(scope="session")
def strict_browser(playwright: Any) -> Iterator[Any]:
    """Chromium with third-party cookies blocked, as Safari and Chrome's phase-out do."""
    chromium = _launch(playwright, "--test-third-party-cookie-phaseout")
    yield chromium
    chromium.close()


@pytest.fixture
def screenshot(page: Any, request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """Save the tab as a PNG under ``test-artifacts/`` (VM_TEST_ARTIFACTS), named after the
    test, for a person to look at after the run; the path saved."""
    folder = Path(os.environ.get("VM_TEST_ARTIFACTS", "test-artifacts"))

    def take(name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
