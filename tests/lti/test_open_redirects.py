"""No page sends the browser to an address taken from the request: every redirect goes to
one of the tool's own pages (``url_for``) or to an address the tool stored and checked (the
platform's login URL, a resource a mentor sent), whatever ``next``/``return`` parameters say."""

from __future__ import annotations

import ast
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient

from tests.helpers.platform import TOOL, PlatformDouble, login

ROOT = Path(__file__).parents[2]

#: Redirects to a stored address, each reviewed: (file, function) and where its target comes from.
STORED_TARGETS = {
    ("lti_tool/lti/views.py", "login"): "the registration's auth_login_url",
    ("lti_tool/panel/views.py", "open_resource"): "the delivered message's own resource link",
}
EVIL = "https://evil.example/"
#: Parameters other tools read a place to go back to from.
SMUGGLED = {"next": EVIL, "return": EVIL, "return_url": EVIL, "redirect_uri": EVIL}


def _redirects() -> list[tuple[str, str, ast.expr, ast.FunctionDef]]:
    """Every ``redirect(target, …)`` call in the packages: file, function, target, function."""
    found = []
    for path in sorted([*ROOT.glob("lti_tool/**/*.py"), *ROOT.glob("xapi/**/*.py")]):
        tree = ast.parse(path.read_text())
        for function in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
            for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
                if isinstance(call.func, ast.Name) and call.func.id == "redirect" and call.args:
                    name = str(path.relative_to(ROOT))
                    found.append((name, function.name, call.args[0], function))
    return found


def _from_url_for(target: ast.expr, function: ast.FunctionDef) -> bool:
    """Whether the target is ``url_for(…)``, or a name assigned only from ``url_for(…)``."""
    if isinstance(target, ast.Call):
        return isinstance(target.func, ast.Name) and target.func.id == "url_for"
    if not isinstance(target, ast.Name):
        return False
    values = [
        node.value
        for node in ast.walk(function)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == target.id for t in node.targets)
    ]
    return bool(values) and all(_from_url_for(value, function) for value in values)


def test_every_redirect_goes_to_the_tools_own_pages_or_a_stored_address() -> None:
    redirects = _redirects()
    assert len(redirects) > 10  # the scan finds the views' redirects
    loose = [
        f"{name}:{target.lineno} in {function_name}()"
        for name, function_name, target, function in redirects
        if not _from_url_for(target, function) and (name, function_name) not in STORED_TARGETS
    ]
    assert loose == [], "redirects to an address that may come from the request"
    used = {(name, function_name) for name, function_name, _t, _f in redirects}
    assert set(STORED_TARGETS) <= used  # the reviewed list names no redirect that is gone


def test_a_login_goes_to_the_platform_whatever_the_request_says(
    client: FlaskClient, registered: PlatformDouble
) -> None:
    started = login(client, registered, **SMUGGLED)

    assert started.response.status_code == 302
    location = started.response.headers["Location"]
    assert location.startswith(f"{registered.issuer}/auth?")  # the stored login URL
    assert parse_qs(urlsplit(location).query)["redirect_uri"] == [f"{TOOL}/lti/launch"]


@pytest.mark.parametrize("target_link_uri", ["https://evil.example/lti/launch", "//evil.example/"])
def test_a_login_for_a_page_that_is_not_the_tools_goes_nowhere(
    client: FlaskClient, registered: PlatformDouble, target_link_uri: str
) -> None:
    started = login(client, registered, target_link_uri=target_link_uri)

    assert started.response.status_code == 400
    assert "Location" not in started.response.headers
